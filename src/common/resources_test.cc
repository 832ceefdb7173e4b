#include "common/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudai {
namespace {

using ::testing::HasSubstr;

TEST(Resources, ShortfallUsesTheSeedMessages) {
  EXPECT_EQ(Shortfall(Resources::Of(2000, 0), Resources::Of(3000, 0)),
            "Insufficient CPU: worker has 2.00 available, task requires 3.00");
  EXPECT_EQ(Shortfall(Resources::Of(8000, 4096), Resources::Of(1000, 8192)),
            "Insufficient Memory: worker has 4.00 GB available, task requires 8.00 GB");
  EXPECT_EQ(Shortfall(Resources::Of(8000, 8192, 51200), Resources::Of(1000, 1024, 102400)),
            "Insufficient Storage: worker has 50.00 GB available, task requires 100.00 GB");
  EXPECT_EQ(Shortfall(Resources::Of(8000, 8192, 0, 0), Resources::Of(1000, 1024, 0, 1000)),
            "Insufficient GPU: worker has 0.00 available, task requires 1.00");
  Resources want = Resources::Of(1000, 1024);
  want.SetExtra("fpga", 2);
  Resources have = Resources::Of(8000, 8192);
  have.SetExtra("fpga", 1);
  EXPECT_EQ(Shortfall(have, want), "Insufficient fpga: worker has 1 available, task requires 2");
  have.SetExtra("fpga", 2);
  EXPECT_EQ(Shortfall(have, want), std::nullopt);
}

TEST(Resources, FitsInChecksEveryDimension) {
  const Resources avail = Resources::Of(4000, 4096, 10240, 1000);
  EXPECT_TRUE(Resources::Of(4000, 4096, 10240, 1000).FitsIn(avail));
  EXPECT_FALSE(Resources::Of(4001, 0).FitsIn(avail));
  EXPECT_FALSE(Resources::Of(0, 4097).FitsIn(avail));
  EXPECT_FALSE(Resources::Of(0, 0, 10241).FitsIn(avail));
  EXPECT_FALSE(Resources::Of(0, 0, 0, 1001).FitsIn(avail));
  Resources extra;
  extra.SetExtra("license", 1);
  EXPECT_FALSE(extra.FitsIn(avail));  // missing extra counts as zero
}

TEST(Resources, ExtrasStaySortedAndZeroRemoves) {
  Resources r;
  r.SetExtra("zeta", 1);
  r.SetExtra("alpha", 2);
  r.SetExtra("mid", 3);
  ASSERT_EQ(r.extras.size(), 3u);
  EXPECT_EQ(r.extras[0].first, "alpha");
  EXPECT_EQ(r.extras[2].first, "zeta");
  r.SetExtra("mid", 0);
  EXPECT_EQ(r.extras.size(), 2u);
  EXPECT_EQ(r.Extra("mid"), 0);
  EXPECT_TRUE(r.Validate().ok());
}

TEST(Resources, AddAndSubtractAreChecked) {
  Resources a = Resources::Of(1000, 1024);
  a.SetExtra("fpga", 2);
  Resources b = Resources::Of(500, 512, 0, 250);
  b.SetExtra("tpu", 1);
  auto sum = Add(a, b);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->cpu_millis, 1500);
  EXPECT_EQ(sum->memory_mib, 1536);
  EXPECT_EQ(sum->gpu_millis, 250);
  EXPECT_EQ(sum->Extra("fpga"), 2);
  EXPECT_EQ(sum->Extra("tpu"), 1);
  auto back = Subtract(*sum, b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, a);

  auto negative = Subtract(a, Resources::Of(2000, 0));
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("cannot subtract cpu"));

  Resources huge = Resources::Of(kMaxCpuMillis, 0);
  EXPECT_FALSE(Add(huge, Resources::Of(1, 0)).ok());
  Resources wrap = Resources::Of(INT64_MAX, 0);
  EXPECT_FALSE(Add(wrap, wrap).ok());  // overflow is an error, never a wrap
}

TEST(Resources, ValidateNamesTheFieldAndLimit) {
  Resources r = Resources::Of(-1, 0);
  EXPECT_THAT(r.Validate("request").ToString(), HasSubstr("request.cpu: -1 is negative"));
  r = Resources::Of(0, kMaxMemoryMiB + 1);
  EXPECT_THAT(r.Validate("request").ToString(),
              HasSubstr("request.memory: 1073741824.00 GB is above the limit"));
  r = Resources::Of(0, 0);
  r.extras.push_back({"Bad Name", 1});
  EXPECT_FALSE(r.Validate().ok());
  r.extras = {{"b", 1}, {"a", 1}};
  EXPECT_THAT(r.Validate().ToString(), HasSubstr("unique and sorted"));
}

TEST(Resources, ToString) {
  Resources r = Resources::Of(1500, 4096, 10240, 500);
  r.SetExtra("fpga", 2);
  EXPECT_EQ(r.ToString(), "cpu=1.50 memory=4.00 GB storage=10.00 GB gpu=0.50 fpga=2");
}

}  // namespace
}  // namespace cloudai
