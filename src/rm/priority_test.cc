// Order of service: priorities, FIFO within a priority, no starvation, head-of-line
// blocking per type, and departures that unblock the waiters behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "cloudai/rm/resource_manager.h"
#include "cloudai/rm/semaphore.h"
#include "test_util.h"

namespace cloudai::rm {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::Resolves;

// Records the order in which waiters are served; each releases at once so the next runs.
class ServiceOrder {
 public:
  // Starts a waiter for `n` units at `priority` and returns once it is queued.
  void StartWaiter(Semaphore& semaphore, const std::string& name, int64_t n, int priority) {
    const int64_t queued = semaphore.Waiting();
    waiters_.push_back(std::async(std::launch::async, [this, &semaphore, name, n, priority] {
      AcquireOptions options;
      options.priority = priority;
      Status status = semaphore.Acquire(n, options);
      if (!status.ok()) return status;
      {
        std::lock_guard<std::mutex> lock(mu_);
        order_.push_back(name);
      }
      return semaphore.Release(n);
    }));
    ASSERT_TRUE(Eventually([&] { return semaphore.Waiting() == queued + 1; }));
  }

  std::vector<std::string> Finish() {
    for (auto& waiter : waiters_) {
      EXPECT_TRUE(Resolves(waiter));
      EXPECT_TRUE(waiter.get().ok());
    }
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> order_;
  std::vector<std::future<Status>> waiters_;
};

std::unique_ptr<Semaphore> MakeSemaphore(int64_t capacity, std::shared_ptr<Clock> clock = nullptr) {
  Result<std::unique_ptr<Semaphore>> semaphore = Semaphore::Create(capacity, std::move(clock));
  EXPECT_TRUE(semaphore.ok());
  return std::move(*semaphore);
}

TEST(PriorityTest, HigherPriorityIsServedFirst) {
  auto semaphore = MakeSemaphore(1);
  ASSERT_TRUE(semaphore->Acquire(1).ok());
  ServiceOrder service;
  service.StartWaiter(*semaphore, "low", 1, 1);
  service.StartWaiter(*semaphore, "high", 1, 3);
  service.StartWaiter(*semaphore, "middle", 1, 2);
  ASSERT_TRUE(semaphore->Release(1).ok());
  EXPECT_EQ(service.Finish(), (std::vector<std::string>{"high", "middle", "low"}));
}

TEST(PriorityTest, FirstComeFirstServedWithinAPriority) {
  auto semaphore = MakeSemaphore(1);
  ASSERT_TRUE(semaphore->Acquire(1).ok());
  ServiceOrder service;
  service.StartWaiter(*semaphore, "a", 1, 0);
  service.StartWaiter(*semaphore, "b", 1, 0);
  service.StartWaiter(*semaphore, "c", 1, 0);
  ASSERT_TRUE(semaphore->Release(1).ok());
  EXPECT_EQ(service.Finish(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PriorityTest, LargeWaiterIsNotStarvedBySmallOnes) {
  auto semaphore = MakeSemaphore(10);
  ASSERT_TRUE(semaphore->Acquire(3).ok());  // three small holders
  ServiceOrder service;
  service.StartWaiter(*semaphore, "big", 10, 0);
  // Seven units are free, but they are the big waiter's: equal-priority tries fail...
  for (int i = 0; i < 100; ++i) ASSERT_EQ(semaphore->TryAcquire(1).code(), Code::kExhausted);
  // ...and blocking small requests queue behind it.
  service.StartWaiter(*semaphore, "small-1", 1, 0);
  service.StartWaiter(*semaphore, "small-2", 1, 0);
  EXPECT_EQ(semaphore->InUse(), 3);
  ASSERT_TRUE(semaphore->Release(3).ok());
  // The big waiter goes first; once it releases, both small ones fit at the same time, so
  // the order in which they record themselves is theirs to race for.
  std::vector<std::string> order = service.Finish();
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], "big");
  std::sort(order.begin() + 1, order.end());
  EXPECT_EQ(order, (std::vector<std::string>{"big", "small-1", "small-2"}));
  EXPECT_EQ(semaphore->InUse(), 0);
}

TEST(PriorityTest, TryAcquireOvertakesOnlyLowerPriorityWaiters) {
  auto semaphore = MakeSemaphore(10);
  ASSERT_TRUE(semaphore->Acquire(8).ok());
  AcquireOptions options;
  options.priority = 1;
  auto waiter = std::async(std::launch::async, [&] { return semaphore->Acquire(5, options); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  EXPECT_EQ(semaphore->TryAcquire(1, /*priority=*/0).code(), Code::kExhausted);
  EXPECT_EQ(semaphore->TryAcquire(1, /*priority=*/1).code(), Code::kExhausted);
  EXPECT_TRUE(semaphore->TryAcquire(1, /*priority=*/2).ok());
  ASSERT_TRUE(semaphore->Release(9).ok());
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
}

TEST(PriorityTest, TimedOutHeadUnblocksWaitersBehindIt) {
  auto clock = std::make_shared<SimulatedClock>();
  auto semaphore = MakeSemaphore(10, clock);
  ASSERT_TRUE(semaphore->Acquire(5).ok());
  AcquireOptions big_options;
  big_options.deadline = clock->Now() + milliseconds(100);
  auto big = std::async(std::launch::async, [&] { return semaphore->Acquire(8, big_options); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  auto small = std::async(std::launch::async, [&] { return semaphore->Acquire(2); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 2; }));

  clock->Advance(milliseconds(100));
  ASSERT_TRUE(Resolves(big));
  EXPECT_EQ(big.get().code(), Code::kDeadlineExceeded);
  ASSERT_TRUE(Resolves(small));  // no release happened: the departure let it through
  EXPECT_TRUE(small.get().ok());
  EXPECT_EQ(semaphore->InUse(), 7);
}

TEST(PriorityTest, CancelledHeadUnblocksWaitersBehindIt) {
  auto semaphore = MakeSemaphore(10);
  ASSERT_TRUE(semaphore->Acquire(5).ok());
  std::stop_source stop;
  AcquireOptions big_options;
  big_options.cancel = stop.get_token();
  auto big = std::async(std::launch::async, [&] { return semaphore->Acquire(8, big_options); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  auto small = std::async(std::launch::async, [&] { return semaphore->Acquire(2); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 2; }));

  stop.request_stop();
  ASSERT_TRUE(Resolves(big));
  EXPECT_EQ(big.get().code(), Code::kCancelled);
  ASSERT_TRUE(Resolves(small));
  EXPECT_TRUE(small.get().ok());
  EXPECT_EQ(semaphore->InUse(), 7);
}

TEST(PriorityTest, HeadOfLineBlocksOnlyTheTypesItNeeds) {
  ResourceManagerConfig config;
  config.types = {{"cpu", 2}, {"memory", 100}, {"disk", 10}};
  config.monitor_interval = {};
  auto manager = std::move(*ResourceManager::Create(config));
  ASSERT_TRUE(manager->Acquire("holder", "cpu", 2).ok());

  // A waiter for cpu + memory holds back memory requests, but not disk ones.
  auto waiter = std::async(std::launch::async, [&] {
    return manager->Acquire("waiter", {{"cpu", 1}, {"memory", 10}});
  });
  ASSERT_TRUE(Eventually([&] { return manager->GetPoolStats("memory")->waiting == 1; }));
  EXPECT_EQ(manager->TryAcquire("other", "memory", 1).code(), Code::kExhausted);
  EXPECT_TRUE(manager->TryAcquire("other", "disk", 5).ok());
  EXPECT_TRUE(manager->TryAcquire("urgent", "memory", 1, /*priority=*/1).ok());

  ASSERT_TRUE(manager->Release("holder", "cpu", 1).ok());
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(manager->GetAgentUsage("waiter"), (ResourceAmounts{{"cpu", 1}, {"memory", 10}}));
}

}  // namespace
}  // namespace cloudai::rm
