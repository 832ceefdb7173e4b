#include "cloudai/rm/resource_pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>

#include "test_util.h"

namespace cloudai::rm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Eventually;
using testing::Resolves;
using testing::StillPending;

class ResourcePoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<ResourcePool> Make(int64_t capacity, double rate_limit = 0, int64_t burst = 0) {
    ResourcePoolOptions options;
    options.name = "cpu";
    options.capacity = capacity;
    options.rate_limit = rate_limit;
    options.burst = burst;
    options.clock = clock_;
    Result<std::unique_ptr<ResourcePool>> pool = ResourcePool::Create(options);
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return std::move(*pool);
  }

  std::shared_ptr<SimulatedClock> clock_ = std::make_shared<SimulatedClock>();
};

TEST_F(ResourcePoolTest, RejectsInvalidOptions) {
  ResourcePoolOptions options;
  options.capacity = 0;
  EXPECT_EQ(ResourcePool::Create(options).status().code(), Code::kInvalidCapacity);
  options.capacity = 10;
  options.rate_limit = -1;
  EXPECT_EQ(ResourcePool::Create(options).status().code(), Code::kInvalidRate);
  options.rate_limit = std::nan("");
  EXPECT_EQ(ResourcePool::Create(options).status().code(), Code::kInvalidRate);
  options.rate_limit = 5;
  options.burst = -1;
  EXPECT_EQ(ResourcePool::Create(options).status().code(), Code::kInvalidCapacity);
  options.name = "";
  options.burst = 0;
  EXPECT_EQ(ResourcePool::Create(options).status().code(), Code::kInvalidArgument);
}

TEST_F(ResourcePoolTest, StatisticsTrackUsagePeakAndWaits) {
  auto pool = Make(10);
  ASSERT_TRUE(pool->Acquire(4).ok());
  EXPECT_DOUBLE_EQ(pool->Usage(), 40);

  auto waiter = std::async(std::launch::async, [&] { return pool->Acquire(8); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiting == 1; }));
  clock_->Advance(milliseconds(100));
  ASSERT_TRUE(pool->Release(4).ok());
  ASSERT_TRUE(Resolves(waiter));
  ASSERT_TRUE(waiter.get().ok());

  EXPECT_EQ(pool->TryAcquire(5).code(), Code::kExhausted);
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.capacity, 10);
  EXPECT_EQ(stats.current, 8);
  EXPECT_EQ(stats.peak, 8);
  EXPECT_EQ(stats.acquisitions, 2);
  EXPECT_EQ(stats.failures, 1);
  EXPECT_EQ(stats.average_wait, milliseconds(50));  // (0 + 100 ms) / 2
  EXPECT_DOUBLE_EQ(stats.usage_percent, 80);
  EXPECT_EQ(stats.waiting, 0);
}

TEST_F(ResourcePoolTest, RateLimitAdmitsOneAcquisitionPerToken) {
  auto pool = Make(100, /*rate_limit=*/1, /*burst=*/1);
  EXPECT_TRUE(pool->TryAcquire(10).ok());
  EXPECT_EQ(pool->TryAcquire(1).code(), Code::kExhausted);  // capacity left, no token
  clock_->Advance(milliseconds(999));
  EXPECT_EQ(pool->TryAcquire(1).code(), Code::kExhausted);
  clock_->Advance(milliseconds(1));
  EXPECT_TRUE(pool->TryAcquire(50).ok());  // one token, whatever the amount
  EXPECT_EQ(pool->Stats().failures, 2);
}

TEST_F(ResourcePoolTest, DefaultBurstIsOneSecondOfRate) {
  auto pool = Make(100, /*rate_limit=*/5);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool->TryAcquire(1).ok()) << i;
  EXPECT_EQ(pool->TryAcquire(1).code(), Code::kExhausted);
}

TEST_F(ResourcePoolTest, RateLimitedWaiterWakesWhenTheTokenArrives) {
  auto pool = Make(100, /*rate_limit=*/2, /*burst=*/1);
  ASSERT_TRUE(pool->Acquire(1).ok());
  auto waiter = std::async(std::launch::async, [&] { return pool->Acquire(1); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiting == 1; }));
  clock_->Advance(milliseconds(499));
  EXPECT_TRUE(StillPending(waiter));
  clock_->Advance(milliseconds(1));
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(pool->Stats().current, 2);
}

TEST_F(ResourcePoolTest, CapacityChangesAtRunTime) {
  auto pool = Make(10);
  ASSERT_TRUE(pool->Acquire(8).ok());
  ASSERT_TRUE(pool->SetCapacity(5).ok());  // below usage: allowed
  EXPECT_DOUBLE_EQ(pool->Usage(), 160);
  EXPECT_EQ(pool->TryAcquire(1).code(), Code::kExhausted);
  ASSERT_TRUE(pool->Release(8).ok());

  ASSERT_TRUE(pool->Acquire(5).ok());
  auto waiter = std::async(std::launch::async, [&] { return pool->Acquire(3); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiting == 1; }));
  ASSERT_TRUE(pool->SetCapacity(8).ok());
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(pool->Stats().current, 8);
  EXPECT_EQ(pool->SetCapacity(-1).code(), Code::kInvalidCapacity);
  EXPECT_EQ(pool->Stats().capacity, 8);
}

TEST_F(ResourcePoolTest, ReleasingMoreThanHeldChangesNothing) {
  auto pool = Make(10);
  ASSERT_TRUE(pool->Acquire(3).ok());
  EXPECT_EQ(pool->Release(4).code(), Code::kNotAcquired);
  EXPECT_EQ(pool->Stats().current, 3);
}

TEST_F(ResourcePoolTest, LeaseGivesUnitsBack) {
  auto pool = Make(10);
  {
    Result<Lease> lease = pool->AcquireLease(6);
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(pool->Stats().current, 6);
    EXPECT_EQ(pool->TryAcquireLease(5).status().code(), Code::kExhausted);
  }
  EXPECT_EQ(pool->Stats().current, 0);
}

}  // namespace
}  // namespace cloudai::rm
