#include "cloudai/rm/resource_quota.h"

#include <gtest/gtest.h>

namespace cloudai::rm {
namespace {

TEST(ResourceQuotaTest, TypesWithoutAQuotaAreUnlimited) {
  ResourceQuota quota;
  EXPECT_TRUE(quota.Check("a", "cpu", 1'000'000).ok());
  EXPECT_FALSE(quota.GetQuota("a", "cpu").has_value());
}

TEST(ResourceQuotaTest, CheckCountsHeldAndReserved) {
  ResourceQuota quota;
  ASSERT_TRUE(quota.SetQuota("a", "cpu", 50).ok());
  EXPECT_EQ(quota.GetQuota("a", "cpu"), 50);
  ASSERT_TRUE(quota.Reserve("a", {{"cpu", 30}}).ok());
  quota.Commit("a", {{"cpu", 30}});
  ASSERT_TRUE(quota.Reserve("a", {{"cpu", 15}}).ok());  // in progress
  EXPECT_EQ(quota.Usage("a", "cpu"), 30);               // only what is held
  EXPECT_TRUE(quota.Check("a", "cpu", 5).ok());
  Status over = quota.Check("a", "cpu", 6);
  EXPECT_EQ(over.code(), Code::kQuotaExceeded);
  EXPECT_NE(over.message().find("quota is 50"), std::string::npos) << over.message();
  quota.Unreserve("a", {{"cpu", 15}});
  EXPECT_TRUE(quota.Check("a", "cpu", 20).ok());
  EXPECT_TRUE(quota.Check("b", "cpu", 100).ok());  // quotas are per agent
}

TEST(ResourceQuotaTest, ReserveIsAllOrNothing) {
  ResourceQuota quota;
  ASSERT_TRUE(quota.SetQuota("a", "cpu", 10).ok());
  ASSERT_TRUE(quota.SetQuota("a", "memory", 100).ok());
  EXPECT_EQ(quota.Reserve("a", {{"cpu", 5}, {"memory", 101}}).code(), Code::kQuotaExceeded);
  EXPECT_TRUE(quota.Check("a", "cpu", 10).ok());  // the cpu part was not reserved
}

TEST(ResourceQuotaTest, ReleaseOfMoreThanHeldChangesNothing) {
  ResourceQuota quota;
  ASSERT_TRUE(quota.Reserve("a", {{"cpu", 4}, {"memory", 10}}).ok());
  quota.Commit("a", {{"cpu", 4}, {"memory", 10}});
  EXPECT_EQ(quota.Release("a", {{"cpu", 4}, {"memory", 11}}).code(), Code::kNotAcquired);
  EXPECT_EQ(quota.AgentUsage("a"), (ResourceAmounts{{"cpu", 4}, {"memory", 10}}));
  EXPECT_EQ(quota.Release("b", {{"cpu", 1}}).code(), Code::kNotAcquired);
  EXPECT_TRUE(quota.Release("a", {{"cpu", 4}}).ok());
  EXPECT_EQ(quota.AgentUsage("a"), (ResourceAmounts{{"memory", 10}}));
}

TEST(ResourceQuotaTest, LoweringOrRemovingAQuota) {
  ResourceQuota quota;
  ASSERT_TRUE(quota.Reserve("a", {{"cpu", 8}}).ok());
  quota.Commit("a", {{"cpu", 8}});
  ASSERT_TRUE(quota.SetQuota("a", "cpu", 5).ok());  // below usage: allowed
  EXPECT_EQ(quota.Usage("a", "cpu"), 8);
  EXPECT_EQ(quota.Check("a", "cpu", 1).code(), Code::kQuotaExceeded);
  quota.RemoveQuota("a", "cpu");
  EXPECT_TRUE(quota.Check("a", "cpu", 1).ok());
  EXPECT_EQ(quota.Usage("a", "cpu"), 8);
}

TEST(ResourceQuotaTest, RejectsInvalidInput) {
  ResourceQuota quota;
  EXPECT_EQ(quota.SetQuota("a", "cpu", -1).code(), Code::kInvalidArgument);
  EXPECT_EQ(quota.Check("a", "cpu", 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(quota.Release("a", {{"cpu", -2}}).code(), Code::kInvalidArgument);
  ASSERT_TRUE(quota.SetQuota("a", "cpu", 0).ok());  // zero allows nothing
  EXPECT_EQ(quota.Check("a", "cpu", 1).code(), Code::kQuotaExceeded);
}

}  // namespace
}  // namespace cloudai::rm
