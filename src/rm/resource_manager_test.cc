#include "cloudai/rm/resource_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "test_util.h"

namespace cloudai::rm {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::Resolves;
using testing::StillPending;

class ResourceManagerTest : public ::testing::Test {
 protected:
  // cpu 10, memory 100, no rate limits, no monitor thread, simulated time.
  ResourceManagerConfig SmallConfig() {
    ResourceManagerConfig config;
    config.types = {{"cpu", 10}, {"memory", 100}};
    config.monitor_interval = {};
    config.clock = clock_;
    return config;
  }

  std::unique_ptr<ResourceManager> Make(ResourceManagerConfig config) {
    Result<std::unique_ptr<ResourceManager>> manager = ResourceManager::Create(config);
    EXPECT_TRUE(manager.ok()) << manager.status().ToString();
    return std::move(*manager);
  }

  int64_t Waiting(ResourceManager& manager, const std::string& type) {
    return manager.GetPoolStats(type)->waiting;
  }

  std::shared_ptr<SimulatedClock> clock_ = std::make_shared<SimulatedClock>();
};

TEST_F(ResourceManagerTest, DefaultConfigHasTheStandardTypes) {
  ResourceManagerConfig config = DefaultConfig();
  config.clock = clock_;
  auto manager = Make(config);
  EXPECT_EQ(manager->ResourceTypes(),
            (std::vector<std::string>{kCpu, kFileHandles, kMemory, kNetwork}));
  EXPECT_EQ(manager->GetPoolStats(kCpu)->capacity, 100);
  EXPECT_EQ(manager->GetPoolStats(kMemory)->capacity, int64_t{1} << 30);
  EXPECT_EQ(manager->GetPoolStats(kFileHandles)->capacity, 1000);
  EXPECT_EQ(manager->GetPoolStats(kNetwork)->capacity, 100);
}

TEST_F(ResourceManagerTest, RejectsInvalidConfig) {
  ResourceManagerConfig config = SmallConfig();
  config.types.push_back({"gpu", 0});
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidCapacity);
  config.types.back() = {"gpu", 4, -1.0};
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidRate);
  config.types.back() = {"cpu", 4};
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidArgument);
  config.types.back() = {"gpu", 4, 0, 0, /*min_capacity=*/5};
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidCapacity);
  config.types.back() = {"gpu", 4, 0, 0, 0, /*max_capacity=*/3};
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidCapacity);
  config.types.pop_back();
  config.scale_down_threshold = 90;
  EXPECT_EQ(ResourceManager::Create(config).status().code(), Code::kInvalidArgument);
}

TEST_F(ResourceManagerTest, AcquireAndReleaseTrackPoolAndAgentUsage) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("a", "cpu", 3).ok());
  ASSERT_TRUE(manager->TryAcquire("b", {{"cpu", 2}, {"memory", 40}}).ok());
  EXPECT_EQ(manager->GetUsage("a", "cpu"), 3);
  EXPECT_EQ(manager->GetAgentUsage("b"), (ResourceAmounts{{"cpu", 2}, {"memory", 40}}));
  EXPECT_DOUBLE_EQ(*manager->GetPoolUsage("cpu"), 50);
  PoolStats cpu = *manager->GetPoolStats("cpu");
  EXPECT_EQ(cpu.current, 5);
  EXPECT_EQ(cpu.acquisitions, 2);

  ASSERT_TRUE(manager->Release("a", "cpu", 3).ok());
  ASSERT_TRUE(manager->Release("b", {{"cpu", 2}, {"memory", 40}}).ok());
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);
  EXPECT_EQ(manager->GetPoolStats("cpu")->peak, 5);
  EXPECT_TRUE(manager->GetAgentUsage("b").empty());
}

TEST_F(ResourceManagerTest, RejectsMalformedRequests) {
  auto manager = Make(SmallConfig());
  EXPECT_EQ(manager->Acquire("a", "gpu", 1).code(), Code::kUnknownResource);
  EXPECT_EQ(manager->Acquire("", "cpu", 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(manager->Acquire("a", "cpu", 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(manager->Acquire("a", "cpu", 11).code(), Code::kInvalidArgument);
  EXPECT_EQ(manager->TryAcquire("a", ResourceAmounts{}).code(), Code::kInvalidArgument);
  EXPECT_EQ(manager->GetPoolStats("gpu").status().code(), Code::kUnknownResource);
  EXPECT_EQ(manager->SetQuota("a", "gpu", 1).code(), Code::kUnknownResource);
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);
}

TEST_F(ResourceManagerTest, ReleasingMoreThanHeldIsRefusedAndChangesNothing) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("a", {{"cpu", 5}, {"memory", 50}}).ok());
  ASSERT_TRUE(manager->Acquire("b", "memory", 20).ok());
  EXPECT_EQ(manager->Release("a", "cpu", 6).code(), Code::kNotAcquired);
  // All or nothing: the valid cpu part is not released either.
  EXPECT_EQ(manager->Release("a", {{"cpu", 5}, {"memory", 60}}).code(), Code::kNotAcquired);
  // The pool holds 70 memory, but "a" only 50 of it.
  EXPECT_EQ(manager->Release("a", "memory", 70).code(), Code::kNotAcquired);
  EXPECT_EQ(manager->Release("c", "cpu", 1).code(), Code::kNotAcquired);
  EXPECT_EQ(manager->GetAgentUsage("a"), (ResourceAmounts{{"cpu", 5}, {"memory", 50}}));
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 5);
  EXPECT_EQ(manager->GetPoolStats("memory")->current, 70);
}

TEST_F(ResourceManagerTest, QuotaExceeded) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->SetQuota("a", "cpu", 6).ok());
  ASSERT_TRUE(manager->Acquire("a", "cpu", 4).ok());
  EXPECT_EQ(manager->Acquire("a", "cpu", 3).code(), Code::kQuotaExceeded);
  EXPECT_EQ(manager->TryAcquire("a", "cpu", 3).code(), Code::kQuotaExceeded);
  EXPECT_EQ(manager->TryAcquire("a", {{"cpu", 3}, {"memory", 1}}).code(), Code::kQuotaExceeded);
  EXPECT_TRUE(manager->Acquire("b", "cpu", 3).ok());  // other agents are not limited
  EXPECT_TRUE(manager->Acquire("a", "cpu", 2).ok());
  EXPECT_EQ(manager->GetUsage("a", "cpu"), 6);
  EXPECT_EQ(manager->GetAgentUsage("a"), (ResourceAmounts{{"cpu", 6}}));  // no memory taken
  EXPECT_EQ(manager->GetPoolStats("cpu")->failures, 3);

  ASSERT_TRUE(manager->RemoveQuota("a", "cpu").ok());
  ASSERT_TRUE(manager->Release("b", "cpu", 3).ok());
  EXPECT_TRUE(manager->Acquire("a", "cpu", 3).ok());
}

TEST_F(ResourceManagerTest, QuotaCountsRequestsStillWaiting) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->SetQuota("a", "cpu", 8).ok());
  ASSERT_TRUE(manager->Acquire("b", "cpu", 10).ok());
  auto waiting = std::async(std::launch::async, [&] { return manager->Acquire("a", "cpu", 6); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "cpu") == 1; }));
  EXPECT_EQ(manager->Acquire("a", "cpu", 3).code(), Code::kQuotaExceeded);  // 6 + 3 > 8
  ASSERT_TRUE(manager->Release("b", "cpu", 10).ok());
  ASSERT_TRUE(Resolves(waiting));
  EXPECT_TRUE(waiting.get().ok());
  EXPECT_TRUE(manager->Acquire("a", "cpu", 2).ok());
  EXPECT_EQ(manager->GetUsage("a", "cpu"), 8);
}

TEST_F(ResourceManagerTest, MultiTypeRequestIsAllOrNothing) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("b", "memory", 90).ok());
  EXPECT_EQ(manager->TryAcquire("a", {{"cpu", 2}, {"memory", 20}}).code(), Code::kExhausted);
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);  // the cpu that fitted was not taken
  EXPECT_TRUE(manager->GetAgentUsage("a").empty());

  AcquireOptions options;
  options.deadline = clock_->Now() + milliseconds(50);
  auto timed = std::async(std::launch::async, [&] {
    return manager->Acquire("a", {{"cpu", 2}, {"memory", 20}}, options);
  });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "cpu") == 1; }));
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);
  clock_->Advance(milliseconds(50));
  ASSERT_TRUE(Resolves(timed));
  EXPECT_EQ(timed.get().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);

  auto blocking = std::async(std::launch::async, [&] {
    return manager->Acquire("a", {{"cpu", 2}, {"memory", 20}});
  });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "memory") == 1; }));
  ASSERT_TRUE(manager->Release("b", "memory", 90).ok());
  ASSERT_TRUE(Resolves(blocking));
  EXPECT_TRUE(blocking.get().ok());
  EXPECT_EQ(manager->GetAgentUsage("a"), (ResourceAmounts{{"cpu", 2}, {"memory", 20}}));
}

TEST_F(ResourceManagerTest, ObserversNeverSeeAPartialGrant) {
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"cpu", 3}, {"memory", 3}};
  config.clock = nullptr;
  auto manager = Make(config);
  std::atomic<bool> done{false};
  std::atomic<int64_t> partial_views{0};
  std::atomic<int64_t> full_views{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      const std::string agent = "agent-" + std::to_string(t);
      for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(manager->Acquire(agent, {{"cpu", 1}, {"memory", 1}}).ok());
        ASSERT_TRUE(manager->Release(agent, {{"cpu", 1}, {"memory", 1}}).ok());
      }
    });
  }
  std::thread observer([&] {
    while (!done.load()) {
      for (int t = 0; t < 4; ++t) {
        ResourceAmounts usage = manager->GetAgentUsage("agent-" + std::to_string(t));
        if (usage.size() == 1) ++partial_views;
        if (usage.size() == 2) ++full_views;
      }
    }
  });
  for (auto& worker : workers) worker.join();
  done = true;
  observer.join();
  EXPECT_EQ(partial_views.load(), 0);
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);
  EXPECT_EQ(manager->GetPoolStats("memory")->current, 0);
  EXPECT_LE(manager->GetPoolStats("cpu")->peak, 3);
}

TEST_F(ResourceManagerTest, DeadlockIsRefusedInsteadOfHanging) {
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"x", 1}, {"y", 1}};
  auto manager = Make(config);
  ASSERT_TRUE(manager->Acquire("A", "x", 1).ok());
  ASSERT_TRUE(manager->Acquire("B", "y", 1).ok());
  auto a_waits = std::async(std::launch::async, [&] { return manager->Acquire("A", "y", 1); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "y") == 1; }));

  Status refused = manager->Acquire("B", "x", 1);  // no deadline: would hang forever
  EXPECT_EQ(refused.code(), Code::kDeadlockDetected) << refused.ToString();
  EXPECT_EQ(manager->GetPoolStats("x")->failures, 1);
  EXPECT_EQ(Waiting(*manager, "x"), 0);

  ASSERT_TRUE(manager->Release("B", "y", 1).ok());  // B backs off
  ASSERT_TRUE(Resolves(a_waits));
  EXPECT_TRUE(a_waits.get().ok());
  EXPECT_EQ(manager->GetAgentUsage("A"), (ResourceAmounts{{"x", 1}, {"y", 1}}));
  EXPECT_TRUE(manager->GetAgentUsage("B").empty());
}

TEST_F(ResourceManagerTest, QueueOrderDeadlockIsRefused) {
  // B waits for x (held by A) and y, ahead of A; then A asks for y. A waits behind B and
  // B waits for A's x: refused, although nobody holds y.
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"x", 1}, {"y", 1}};
  auto manager = Make(config);
  ASSERT_TRUE(manager->Acquire("A", "x", 1).ok());
  auto b_waits = std::async(std::launch::async, [&] {
    return manager->Acquire("B", {{"x", 1}, {"y", 1}});
  });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "y") == 1; }));
  EXPECT_EQ(manager->Acquire("A", "y", 1).code(), Code::kDeadlockDetected);
  ASSERT_TRUE(manager->Release("A", "x", 1).ok());
  ASSERT_TRUE(Resolves(b_waits));
  EXPECT_TRUE(b_waits.get().ok());
}

TEST_F(ResourceManagerTest, TimedOutWaitLeavesTheWaitForGraph) {
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"x", 1}, {"y", 1}};
  auto manager = Make(config);
  ASSERT_TRUE(manager->Acquire("A", "x", 1).ok());
  ASSERT_TRUE(manager->Acquire("B", "y", 1).ok());
  AcquireOptions options;
  options.deadline = clock_->Now() + milliseconds(10);
  auto a_waits =
      std::async(std::launch::async, [&] { return manager->Acquire("A", "y", 1, options); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "y") == 1; }));
  clock_->Advance(milliseconds(10));
  ASSERT_TRUE(Resolves(a_waits));
  ASSERT_EQ(a_waits.get().code(), Code::kDeadlineExceeded);

  // A no longer waits, so B may wait for A's x: it blocks instead of being refused.
  options.deadline = clock_->Now() + milliseconds(10);
  auto b_waits =
      std::async(std::launch::async, [&] { return manager->Acquire("B", "x", 1, options); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "x") == 1; }));
  ASSERT_TRUE(manager->Release("A", "x", 1).ok());
  ASSERT_TRUE(Resolves(b_waits));
  EXPECT_TRUE(b_waits.get().ok());
}

TEST_F(ResourceManagerTest, WithoutDetectionTheSameWaitBlocks) {
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"x", 1}, {"y", 1}};
  config.enable_deadlock_detection = false;
  auto manager = Make(config);
  ASSERT_TRUE(manager->Acquire("A", "x", 1).ok());
  ASSERT_TRUE(manager->Acquire("B", "y", 1).ok());
  AcquireOptions options;
  options.deadline = clock_->Now() + milliseconds(10);
  auto a_waits =
      std::async(std::launch::async, [&] { return manager->Acquire("A", "y", 1, options); });
  auto b_waits =
      std::async(std::launch::async, [&] { return manager->Acquire("B", "x", 1, options); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "x") + Waiting(*manager, "y") == 2; }));
  clock_->Advance(milliseconds(10));
  ASSERT_TRUE(Resolves(a_waits));
  ASSERT_TRUE(Resolves(b_waits));
  EXPECT_EQ(a_waits.get().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(b_waits.get().code(), Code::kDeadlineExceeded);
}

TEST_F(ResourceManagerTest, StopWakesWaitersWithStopped) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("a", "cpu", 10).ok());
  std::vector<std::future<Status>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::async(std::launch::async, [&, i] {
      return manager->Acquire("w" + std::to_string(i), "cpu", 1);
    }));
  }
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "cpu") == 3; }));
  manager->Stop();
  for (auto& waiter : waiters) {
    ASSERT_TRUE(Resolves(waiter));
    EXPECT_EQ(waiter.get().code(), Code::kStopped);
  }
  EXPECT_EQ(manager->TryAcquire("a", "memory", 1).code(), Code::kStopped);
  EXPECT_EQ(manager->Acquire("a", "memory", 1).code(), Code::kStopped);
  EXPECT_TRUE(manager->Release("a", "cpu", 10).ok());
  EXPECT_EQ(manager->GetPoolStats("cpu")->current, 0);
  manager->Stop();  // idempotent
}

TEST_F(ResourceManagerTest, SetPoolCapacityWakesWaiters) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("a", "cpu", 10).ok());
  auto waiter = std::async(std::launch::async, [&] { return manager->Acquire("b", "cpu", 4); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "cpu") == 1; }));
  ASSERT_TRUE(manager->SetPoolCapacity("cpu", 12).ok());
  EXPECT_TRUE(StillPending(waiter));  // 2 free, 4 wanted
  ASSERT_TRUE(manager->SetPoolCapacity("cpu", 14).ok());
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(manager->SetPoolCapacity("cpu", 0).code(), Code::kInvalidCapacity);
  EXPECT_EQ(manager->SetPoolCapacity("gpu", 5).code(), Code::kUnknownResource);
}

TEST_F(ResourceManagerTest, ResourceTypesCanBeAddedAtRunTime) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->AddResourceType({"gpu", 8}).ok());
  EXPECT_EQ(manager->AddResourceType({"gpu", 8}).code(), Code::kInvalidArgument);
  EXPECT_EQ(manager->AddResourceType({"tpu", -1}).code(), Code::kInvalidCapacity);
  EXPECT_TRUE(manager->Acquire("a", {{"gpu", 2}, {"cpu", 1}}).ok());
  EXPECT_EQ(manager->GetUsage("a", "gpu"), 2);
  EXPECT_EQ(manager->ResourceTypes(), (std::vector<std::string>{"cpu", "gpu", "memory"}));
}

TEST_F(ResourceManagerTest, RateLimitedType) {
  ResourceManagerConfig config = SmallConfig();
  config.types = {{"network", 100, /*rate_limit=*/2, /*burst=*/1}};
  auto manager = Make(config);
  EXPECT_TRUE(manager->TryAcquire("a", "network", 1).ok());
  EXPECT_EQ(manager->TryAcquire("a", "network", 1).code(), Code::kExhausted);
  clock_->Advance(milliseconds(500));
  EXPECT_TRUE(manager->TryAcquire("a", "network", 1).ok());
  auto waiter = std::async(std::launch::async, [&] { return manager->Acquire("b", "network", 5); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "network") == 1; }));
  clock_->Advance(milliseconds(500));
  ASSERT_TRUE(Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
  EXPECT_EQ(manager->GetPoolStats("network")->current, 7);
}

TEST_F(ResourceManagerTest, AverageWaitComesFromTheClock) {
  auto manager = Make(SmallConfig());
  ASSERT_TRUE(manager->Acquire("a", "cpu", 10).ok());
  auto waiter = std::async(std::launch::async, [&] { return manager->Acquire("b", "cpu", 1); });
  ASSERT_TRUE(Eventually([&] { return Waiting(*manager, "cpu") == 1; }));
  clock_->Advance(milliseconds(300));
  ASSERT_TRUE(manager->Release("a", "cpu", 10).ok());
  ASSERT_TRUE(Resolves(waiter));
  ASSERT_TRUE(waiter.get().ok());
  EXPECT_EQ(manager->GetPoolStats("cpu")->average_wait, milliseconds(150));
}

}  // namespace
}  // namespace cloudai::rm
