// Many threads acquiring and releasing random requests at random priorities: nothing is
// lost or over-committed, and everything is back to zero at the end.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/rm/resource_manager.h"

namespace cloudai::rm {
namespace {

using std::chrono::microseconds;

TEST(StressTest, RandomRequestsFromManyThreads) {
  ResourceManagerConfig config;
  config.types = {{"cpu", 16}, {"memory", 64}, {"disk", 8}, {"network", 4}};
  config.monitor_interval = {};
  auto manager = std::move(*ResourceManager::Create(config));
  const std::vector<std::string> types = manager->ResourceTypes();
  // One agent runs under a cpu quota, so the quota ledger is exercised too.
  constexpr int64_t kQuota = 6;
  ASSERT_TRUE(manager->SetQuota("agent-0", "cpu", kQuota).ok());
  std::atomic<bool> over_quota{false};
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 3000;

  std::atomic<int64_t> granted{0};
  std::atomic<int64_t> refused{0};
  std::atomic<bool> over_capacity{false};
  std::atomic<bool> done{false};

  // Watches that no pool is ever above its capacity while the workers run.
  std::thread observer([&] {
    while (!done.load()) {
      for (const std::string& type : types) {
        PoolStats stats = *manager->GetPoolStats(type);
        if (stats.current > stats.capacity) over_capacity = true;
      }
      if (manager->GetUsage("agent-0", "cpu") > kQuota) over_quota = true;
    }
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string agent = "agent-" + std::to_string(t);
      std::mt19937 random(1234 + t);
      auto pick = [&](int n) { return static_cast<int>(random() % n); };
      // Only the agent with a quota may be refused for it.
      auto expected_refusal = [&](const Status& status, Code usual) {
        return status.code() == usual || (t == 0 && status.code() == Code::kQuotaExceeded);
      };
      for (int i = 0; i < kOpsPerThread; ++i) {
        ResourceAmounts request;
        const int type_count = 1 + pick(3);
        for (int k = 0; k < type_count; ++k) {
          const std::string& type = types[pick(static_cast<int>(types.size()))];
          const int64_t capacity = manager->GetPoolStats(type)->capacity;
          request[type] = 1 + pick(static_cast<int>(capacity / 2));
        }
        const int priority = pick(3);
        Status status;
        switch (pick(3)) {
          case 0:
            status = manager->TryAcquire(agent, request, priority);
            break;
          case 1: {
            AcquireOptions options;
            options.priority = priority;
            status = manager->Acquire(agent, request, options);
            break;
          }
          default: {  // a lease, sometimes abandoned through a cancelled token
            std::stop_source stop;
            if (pick(4) == 0) stop.request_stop();
            AcquireOptions options;
            options.priority = priority;
            options.cancel = stop.get_token();
            Result<Lease> lease = manager->AcquireLease(agent, request, options);
            if (lease.ok()) {
              ++granted;
            } else {
              ASSERT_TRUE(expected_refusal(lease.status(), Code::kCancelled))
                  << lease.status().ToString();
              ++refused;
            }
            continue;  // the lease releases here
          }
        }
        if (status.ok()) {
          ++granted;
          if (pick(2) == 0) std::this_thread::sleep_for(microseconds(pick(50)));
          ASSERT_TRUE(manager->Release(agent, request).ok());
        } else {
          ASSERT_TRUE(expected_refusal(status, Code::kExhausted)) << status.ToString();
          ++refused;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  done = true;
  observer.join();

  EXPECT_FALSE(over_capacity.load());
  EXPECT_FALSE(over_quota.load());
  EXPECT_GT(granted.load(), 0);
  int64_t acquisitions_counted = 0;
  for (const std::string& type : types) {
    PoolStats stats = *manager->GetPoolStats(type);
    EXPECT_EQ(stats.current, 0) << type;
    EXPECT_EQ(stats.waiting, 0) << type;
    EXPECT_LE(stats.peak, stats.capacity) << type;
    EXPECT_GT(stats.peak, 0) << type;
    acquisitions_counted += stats.acquisitions;
  }
  EXPECT_GE(acquisitions_counted, granted.load());  // a multi-type grant counts per type
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(manager->GetAgentUsage("agent-" + std::to_string(t)).empty());
  }
}

}  // namespace
}  // namespace cloudai::rm
