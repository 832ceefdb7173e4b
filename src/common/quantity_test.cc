#include "common/quantity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudai {
namespace {

using ::testing::HasSubstr;

int64_t Cpu(std::string_view s) { return ParseCpu(s).value(); }
int64_t Mem(std::string_view s) { return ParseMemory(s).value(); }

std::string CpuError(std::string_view s) {
  auto r = ParseCpu(s, "--cpu");
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : std::string(r.status().message());
}

std::string MemError(std::string_view s) {
  auto r = ParseMemory(s, "--mem");
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(ParseCpu, AcceptsCoresAndMillicores) {
  EXPECT_EQ(Cpu("2"), 2000);
  EXPECT_EQ(Cpu("1.5"), 1500);
  EXPECT_EQ(Cpu("0.25"), 250);
  EXPECT_EQ(Cpu("500m"), 500);
  EXPECT_EQ(Cpu(" 3 "), 3000);
  EXPECT_EQ(Cpu("+1"), 1000);
  EXPECT_EQ(Cpu("0"), 0);
  EXPECT_EQ(Cpu(".5"), 500);
  EXPECT_EQ(Cpu("1.000"), 1000);
}

TEST(ParseCpu, RejectsBadInputNamingTheField) {
  EXPECT_THAT(CpuError("-1"), HasSubstr("--cpu: -1 is negative"));
  EXPECT_THAT(CpuError("NaN"), HasSubstr("--cpu: \"NaN\" is not a number"));
  EXPECT_THAT(CpuError("inf"), HasSubstr("is not a number"));
  EXPECT_THAT(CpuError(""), HasSubstr("--cpu: empty value"));
  EXPECT_THAT(CpuError("abc"), HasSubstr("--cpu: \"abc\" is not valid"));
  EXPECT_THAT(CpuError("1.2.3"), HasSubstr("is not valid"));
  EXPECT_THAT(CpuError("2x"), HasSubstr("is not valid"));
  EXPECT_THAT(CpuError("m"), HasSubstr("is not valid"));
  EXPECT_THAT(CpuError("1e3"), HasSubstr("is not valid"));
  EXPECT_THAT(CpuError("0.0001"), HasSubstr("finer than the resolution"));
  EXPECT_THAT(CpuError("1.5m"), HasSubstr("finer than the resolution"));
  EXPECT_THAT(CpuError("2000000"), HasSubstr("above the limit of 1073741.824 cores"));
  EXPECT_THAT(CpuError("99999999999999999999999999999999999999999999"),
              HasSubstr("above the limit"));
}

TEST(ParseGpu, AcceptsFractions) {
  EXPECT_EQ(ParseGpu("1").value(), 1000);
  EXPECT_EQ(ParseGpu("0.5").value(), 500);
  EXPECT_EQ(ParseGpu("250m").value(), 250);
  EXPECT_FALSE(ParseGpu("-0.5").ok());
}

TEST(ParseMemory, AcceptsBinarySuffixesAndBareGb) {
  EXPECT_EQ(Mem("512Mi"), 512);
  EXPECT_EQ(Mem("512MiB"), 512);
  EXPECT_EQ(Mem("512M"), 512);
  EXPECT_EQ(Mem("4G"), 4096);
  EXPECT_EQ(Mem("4GiB"), 4096);
  EXPECT_EQ(Mem("4gi"), 4096);
  EXPECT_EQ(Mem("1.5Gi"), 1536);
  EXPECT_EQ(Mem("1Ti"), 1024 * 1024);
  EXPECT_EQ(Mem("4"), 4096);    // bare number is GB, as the -mem flag
  EXPECT_EQ(Mem("0.5"), 512);
  EXPECT_EQ(Mem("1024Ki"), 1);
  EXPECT_EQ(Mem("1Ki"), 1);     // rounded up to a whole MiB
  EXPECT_EQ(Mem("100B"), 1);
  EXPECT_EQ(Mem("0.3Gi"), 308); // 307.2 rounded up
  EXPECT_EQ(Mem("0Mi"), 0);
}

TEST(ParseMemory, RejectsBadInput) {
  EXPECT_THAT(MemError("-4Gi"), HasSubstr("--mem: -4Gi is negative"));
  EXPECT_THAT(MemError("4Qi"), HasSubstr("--mem: \"4Qi\" is not valid; expected a size"));
  EXPECT_THAT(MemError("nan"), HasSubstr("not a number"));
  EXPECT_THAT(MemError("2000000Ti"), HasSubstr("above the limit of 1048576Ti"));
  EXPECT_THAT(MemError("Gi"), HasSubstr("is not valid"));
}

TEST(ParseStorage, SameUnitsAsMemory) {
  EXPECT_EQ(ParseStorage("10").value(), 10240);
  EXPECT_EQ(ParseStorage("100Gi").value(), 102400);
  EXPECT_THAT(ParseStorage("-1", "--storage").status().ToString(),
              HasSubstr("--storage: -1 is negative"));
}

TEST(ParseExtra, NameAndCount) {
  auto r = ParseExtra("fpga=2");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first, "fpga");
  EXPECT_EQ(r->second, 2);
  EXPECT_FALSE(ParseExtra("fpga").ok());
  EXPECT_FALSE(ParseExtra("fpga=1.5").ok());
  EXPECT_FALSE(ParseExtra("fpga=-1").ok());
  EXPECT_FALSE(ParseExtra("FPGA=1").ok());
  EXPECT_FALSE(ParseExtra("cpu=1").ok());
  EXPECT_THAT(ParseExtra("a b=1").status().ToString(), HasSubstr("may contain only"));
}

TEST(Format, SeedStyle) {
  EXPECT_EQ(FormatMillis(2000), "2.00");
  EXPECT_EQ(FormatMillis(1500), "1.50");
  EXPECT_EQ(FormatMillis(1235), "1.24");
  EXPECT_EQ(FormatMillis(0), "0.00");
  EXPECT_EQ(FormatGb(4096), "4.00 GB");
  EXPECT_EQ(FormatGb(8192), "8.00 GB");
  EXPECT_EQ(FormatGb(100), "0.10 GB");
  EXPECT_EQ(FormatCores(1500), "1.5");
  EXPECT_EQ(FormatCores(250), "0.25");
  EXPECT_EQ(FormatCores(2000), "2");
}

TEST(Format, MiBRoundTripsThroughParse) {
  for (int64_t mib : {0L, 1L, 512L, 1024L, 1536L, 1152L, 4096L, 1000L, 1048576L, 1572864L,
                      123457L, kMaxMemoryMiB}) {
    const std::string text = FormatMiB(mib);
    EXPECT_EQ(ParseMemory(text).value(), mib) << text;
  }
  EXPECT_EQ(FormatMiB(1536), "1.5Gi");
  EXPECT_EQ(FormatMiB(512), "512Mi");
  EXPECT_EQ(FormatMiB(1048576), "1Ti");
}

}  // namespace
}  // namespace cloudai
