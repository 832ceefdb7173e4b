#include "cloudai/rm/lease.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "cloudai/rm/resource_manager.h"
#include "cloudai/rm/semaphore.h"

namespace cloudai::rm {
namespace {

static_assert(!std::is_copy_constructible_v<Lease>);
static_assert(!std::is_copy_assignable_v<Lease>);
static_assert(std::is_nothrow_move_constructible_v<Lease>);

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ResourceManagerConfig config;
    config.types = {{"cpu", 10}, {"memory", 100}};
    config.monitor_interval = {};
    manager_ = std::move(*ResourceManager::Create(config));
  }

  int64_t InUse(const std::string& type) { return manager_->GetPoolStats(type)->current; }

  std::unique_ptr<ResourceManager> manager_;
};

TEST_F(LeaseTest, ReleasesEverythingOnDestruction) {
  {
    Result<Lease> lease = manager_->AcquireLease("a", {{"cpu", 2}, {"memory", 30}});
    ASSERT_TRUE(lease.ok());
    EXPECT_TRUE(lease->Valid());
    EXPECT_EQ(lease->agent(), "a");
    EXPECT_EQ(lease->amounts(), (ResourceAmounts{{"cpu", 2}, {"memory", 30}}));
    EXPECT_EQ(manager_->GetAgentUsage("a"), (ResourceAmounts{{"cpu", 2}, {"memory", 30}}));
  }
  EXPECT_EQ(InUse("cpu"), 0);
  EXPECT_EQ(InUse("memory"), 0);
  EXPECT_TRUE(manager_->GetAgentUsage("a").empty());
}

TEST_F(LeaseTest, MoveAssignmentReleasesWhatTheTargetHeld) {
  Lease cpu = std::move(*manager_->AcquireLease("a", {{"cpu", 2}}));
  Lease memory = std::move(*manager_->AcquireLease("b", {{"memory", 30}}));
  cpu = std::move(memory);  // the 2 cpu of "a" go back
  EXPECT_EQ(InUse("cpu"), 0);
  EXPECT_EQ(InUse("memory"), 30);
  EXPECT_TRUE(cpu.Valid());
  EXPECT_EQ(cpu.agent(), "b");
  EXPECT_FALSE(memory.Valid());  // NOLINT: checking the moved-from state on purpose
  EXPECT_TRUE(memory.amounts().empty());
}

TEST_F(LeaseTest, MovedFromLeaseReleasesNothing) {
  Lease moved_to;
  {
    Lease original = std::move(*manager_->AcquireLease("a", {{"cpu", 3}}));
    moved_to = std::move(original);
  }  // `original` is destroyed here
  EXPECT_EQ(InUse("cpu"), 3);
  Lease constructed(std::move(moved_to));
  EXPECT_EQ(InUse("cpu"), 3);
  EXPECT_TRUE(constructed.Valid());
}

TEST_F(LeaseTest, EarlyRelease) {
  Lease lease = std::move(*manager_->AcquireLease("a", {{"cpu", 4}}));
  EXPECT_TRUE(lease.Release().ok());
  EXPECT_FALSE(lease.Valid());
  EXPECT_EQ(InUse("cpu"), 0);
  EXPECT_EQ(lease.Release().code(), Code::kNotAcquired);
  EXPECT_EQ(Lease().Release().code(), Code::kNotAcquired);
}

TEST_F(LeaseTest, FailedAcquisitionGivesNoLease) {
  ASSERT_TRUE(manager_->Acquire("holder", "cpu", 9).ok());
  Result<Lease> lease = manager_->TryAcquireLease("a", {{"cpu", 2}});
  EXPECT_EQ(lease.status().code(), Code::kExhausted);
  EXPECT_EQ(manager_->AcquireLease("a", {{"gpu", 1}}).status().code(), Code::kUnknownResource);
  EXPECT_EQ(InUse("cpu"), 9);
}

TEST_F(LeaseTest, LeaseMayOutliveStop) {
  Lease lease = std::move(*manager_->AcquireLease("a", {{"cpu", 4}}));
  manager_->Stop();
  EXPECT_TRUE(lease.Release().ok());
  EXPECT_EQ(InUse("cpu"), 0);
}

TEST_F(LeaseTest, SemaphoreLease) {
  auto semaphore = std::move(*Semaphore::Create(2));
  {
    Lease lease = std::move(*semaphore->AcquireLease(2));
    EXPECT_EQ(semaphore->InUse(), 2);
    EXPECT_EQ(semaphore->TryAcquireLease(1).status().code(), Code::kExhausted);
  }
  EXPECT_EQ(semaphore->InUse(), 0);
}

}  // namespace
}  // namespace cloudai::rm
