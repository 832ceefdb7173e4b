// cloudai-rm-examples: walks through the CloudAI resource manager library (libcloudai_rm).
//
// Runs, in order: basic usage, deadlock detection, deadline and cancellation, dynamic
// scaling, rate limiting, semaphore, priorities, and multi-type leases. Each prints what
// happened and checks it; the program exits 0 only if every example behaved as it should,
// so it doubles as a smoke test. It uses the real clock and finishes in about a second.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/rm/resource_manager.h"
#include "cloudai/rm/semaphore.h"
#include "cloudai/rm/token_bucket.h"

namespace {

using cloudai::Clock;
using namespace cloudai::rm;  // NOLINT: an example reads better without prefixes
using std::chrono::milliseconds;

// Prints a failed expectation and returns `ok`.
bool Expect(bool ok, const std::string& what) {
  if (!ok) std::printf("  !! expected: %s\n", what.c_str());
  return ok;
}

// Waits (real time, bounded) until `condition` holds.
bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout = milliseconds(2000)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

long long MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count();
}

std::unique_ptr<ResourceManager> MakeManager(ResourceManagerConfig config) {
  Result<std::unique_ptr<ResourceManager>> manager = ResourceManager::Create(std::move(config));
  if (!manager.ok()) {
    std::printf("  !! cannot create the manager: %s\n", manager.status().ToString().c_str());
    return nullptr;
  }
  return std::move(*manager);
}

// A config with the given types, no rate limits and no monitor thread.
ResourceManagerConfig SimpleConfig(std::vector<ResourceTypeConfig> types) {
  ResourceManagerConfig config;
  config.types = std::move(types);
  config.monitor_interval = Clock::Duration::zero();
  return config;
}

bool BasicUsage() {
  auto manager = MakeManager(DefaultConfig());
  if (!manager) return false;
  bool ok = Expect(manager->SetQuota("agent1", kCpu, 50).ok(), "SetQuota succeeds");
  Status acquired = manager->Acquire("agent1", kCpu, 10);
  std::printf("  agent1 acquires 10 cpu: %s\n", acquired.ToString().c_str());
  ok &= Expect(acquired.ok(), "acquire within quota succeeds");
  std::printf("  agent1 holds %lld cpu; cpu pool usage %.1f%%\n",
              static_cast<long long>(manager->GetUsage("agent1", kCpu)),
              *manager->GetPoolUsage(kCpu));

  Status over = manager->Acquire("agent1", kCpu, 45);
  std::printf("  agent1 asks for 45 more: %s\n", over.ToString().c_str());
  ok &= Expect(over.code() == Code::kQuotaExceeded, "45 more exceeds the quota of 50");

  PoolStats stats = *manager->GetPoolStats(kCpu);
  std::printf(
      "  cpu stats: current=%lld peak=%lld acquisitions=%lld failures=%lld "
      "avg_wait=%lldus capacity=%lld\n",
      static_cast<long long>(stats.current), static_cast<long long>(stats.peak),
      static_cast<long long>(stats.acquisitions), static_cast<long long>(stats.failures),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::microseconds>(stats.average_wait).count()),
      static_cast<long long>(stats.capacity));
  ok &= Expect(stats.current == 10 && stats.acquisitions == 1 && stats.failures == 1,
               "stats show 10 in use, 1 acquisition, 1 failure");

  ok &= Expect(manager->Release("agent1", kCpu, 10).ok(), "release succeeds");
  Status too_much = manager->Release("agent1", kCpu, 1);
  std::printf("  releasing once more: %s\n", too_much.ToString().c_str());
  ok &= Expect(too_much.code() == Code::kNotAcquired, "a second release is refused");
  ok &= Expect(manager->GetPoolStats(kCpu)->current == 0, "cpu usage is back to 0");
  return ok;
}

bool DeadlockDetection() {
  auto manager = MakeManager(SimpleConfig({{kCpu, 1}, {kMemory, 1}}));
  if (!manager) return false;
  bool ok = Expect(manager->Acquire("agent-a", kCpu, 1).ok(), "agent-a gets the cpu");
  ok &= Expect(manager->Acquire("agent-b", kMemory, 1).ok(), "agent-b gets the memory");
  std::printf("  agent-a holds cpu, agent-b holds memory\n");

  auto a_waits =
      std::async(std::launch::async, [&] { return manager->Acquire("agent-a", kMemory, 1); });
  ok &= Expect(WaitUntil([&] { return manager->GetPoolStats(kMemory)->waiting == 1; }),
               "agent-a waits for memory");
  std::printf("  agent-a now waits for memory\n");

  Status refused = manager->Acquire("agent-b", kCpu, 1);
  std::printf("  agent-b asks for cpu: %s\n", refused.ToString().c_str());
  ok &= Expect(refused.code() == Code::kDeadlockDetected, "agent-b is refused, not hung");

  ok &= Expect(manager->Release("agent-b", kMemory, 1).ok(), "agent-b backs off");
  Status a_result = a_waits.get();
  std::printf("  agent-b released memory; agent-a's wait ends: %s\n", a_result.ToString().c_str());
  ok &= Expect(a_result.ok(), "agent-a gets the memory");
  return ok;
}

bool DeadlineAndCancellation() {
  auto manager = MakeManager(SimpleConfig({{kCpu, 1}}));
  if (!manager) return false;
  bool ok = Expect(manager->Acquire("holder", kCpu, 1).ok(), "holder takes the only cpu");

  AcquireOptions with_deadline;
  with_deadline.deadline = Clock::Real()->Now() + milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  Status timed_out = manager->Acquire("agent1", kCpu, 1, with_deadline);
  std::printf("  acquire with a 100 ms deadline, gave up after %lld ms: %s\n", MillisSince(start),
              timed_out.ToString().c_str());
  ok &= Expect(timed_out.code() == Code::kDeadlineExceeded, "the deadline expires");

  std::stop_source stop;
  AcquireOptions cancellable;
  cancellable.cancel = stop.get_token();
  start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(50));
    stop.request_stop();
  });
  Status cancelled = manager->Acquire("agent1", kCpu, 1, cancellable);
  canceller.join();
  std::printf("  acquire cancelled by a stop_source, gave up after %lld ms: %s\n",
              MillisSince(start), cancelled.ToString().c_str());
  ok &= Expect(cancelled.code() == Code::kCancelled, "the request is cancelled");
  ok &= Expect(manager->GetUsage("agent1", kCpu) == 0, "agent1 took nothing");
  return ok;
}

bool DynamicScaling() {
  ResourceManagerConfig config = SimpleConfig({{kCpu, 100, 0, 0, 50, 200}});
  config.monitor_interval = milliseconds(50);
  auto manager = MakeManager(config);
  if (!manager) return false;
  std::mutex mu;
  double last_load = -1;
  manager->RegisterLoadCallback([&](const std::string& type, double load) {
    std::lock_guard<std::mutex> lock(mu);
    last_load = load;
  });
  auto capacity = [&] { return manager->GetPoolStats(kCpu)->capacity; };

  bool ok = Expect(manager->Acquire("agent1", kCpu, 90).ok(), "agent1 takes 90 of 100");
  std::printf("  agent1 holds 90 of 100 cpu (90%% load, scale-up threshold 80%%)\n");
  ok &= Expect(WaitUntil([&] { return capacity() > 100; }), "the monitor scales cpu up");
  {
    std::lock_guard<std::mutex> lock(mu);
    std::printf("  monitor saw %.0f%% load and raised the capacity to %lld\n", last_load,
                static_cast<long long>(capacity()));
  }

  ok &= Expect(manager->Release("agent1", kCpu, 90).ok(), "agent1 releases");
  ok &= Expect(WaitUntil([&] { return capacity() == 50; }),
               "the monitor scales cpu down to its minimum");
  std::printf("  after the release the load is 0%%; capacity scaled down to %lld (minimum)\n",
              static_cast<long long>(capacity()));

  ok &= Expect(manager->SetPoolCapacity(kCpu, 120).ok(), "manual capacity change");
  std::printf("  SetPoolCapacity(cpu, 120) sets it by hand: %lld\n",
              static_cast<long long>(capacity()));
  return ok;
}

bool RateLimiting() {
  Result<std::unique_ptr<TokenBucket>> created = TokenBucket::Create(5, 20);  // 20/s, burst 5
  if (!created.ok()) return Expect(false, created.status().ToString());
  TokenBucket& bucket = **created;
  auto start = std::chrono::steady_clock::now();
  int immediate = 0;
  while (bucket.TryAcquire(1).ok()) ++immediate;
  std::printf("  burst: %d requests admitted at once (capacity 5)\n", immediate);
  bool ok = Expect(immediate == 5, "the burst is the capacity");

  std::printf("  next token in %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(*bucket.TimeUntilAvailable(1)).count()));
  for (int i = 0; i < 5; ++i) ok &= Expect(bucket.Acquire(1).ok(), "blocking acquire");
  const long long elapsed = MillisSince(start);
  std::printf("  5 more requests, paced by the refill of 20 tokens/s: %lld ms in all\n", elapsed);
  ok &= Expect(elapsed >= 240 && elapsed < 2000, "about 250 ms for 5 tokens at 20/s");

  Status too_big = bucket.TryAcquire(6);
  std::printf("  asking for 6 tokens at once: %s\n", too_big.ToString().c_str());
  ok &= Expect(too_big.code() == Code::kInvalidArgument, "more than the capacity is an error");
  return ok;
}

bool SemaphoreUsage() {
  Result<std::unique_ptr<Semaphore>> created = Semaphore::Create(3);
  if (!created.ok()) return Expect(false, created.status().ToString());
  Semaphore& semaphore = **created;
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i) {
    workers.emplace_back([&] {
      if (!semaphore.Acquire(1).ok()) return;
      const int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(milliseconds(20));
      --running;
      semaphore.Release(1);
    });
  }
  for (auto& worker : workers) worker.join();
  std::printf("  8 workers shared a semaphore of 3: at most %d ran at once\n", most.load());
  bool ok = Expect(most.load() <= 3 && most.load() > 0, "never more than 3 at once");
  Status extra = semaphore.Release(1);
  std::printf("  releasing a permit nobody holds: %s\n", extra.ToString().c_str());
  ok &= Expect(extra.code() == Code::kNotAcquired, "over-release is refused");
  return ok;
}

bool Priorities() {
  Result<std::unique_ptr<Semaphore>> created = Semaphore::Create(1);
  if (!created.ok()) return Expect(false, created.status().ToString());
  Semaphore& semaphore = **created;
  bool ok = Expect(semaphore.Acquire(1).ok(), "main holds the only permit");
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<std::future<void>> waiters;
  const std::pair<const char*, int> requests[] = {{"low", 1}, {"high", 10}, {"medium", 5}};
  for (const auto& [name, priority] : requests) {
    const int64_t queued = semaphore.Waiting();
    waiters.push_back(std::async(std::launch::async, [&, name = name, priority = priority] {
      AcquireOptions options;
      options.priority = priority;
      if (!semaphore.Acquire(1, options).ok()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(name);
      }
      semaphore.Release(1);
    }));
    ok &= Expect(WaitUntil([&] { return semaphore.Waiting() == queued + 1; }), "queued");
    std::printf("  %s (priority %d) queues\n", name, priority);
  }
  semaphore.Release(1);
  for (auto& waiter : waiters) waiter.get();
  std::string served;
  for (const std::string& name : order) served += (served.empty() ? "" : ", ") + name;
  std::printf("  served in order: %s\n", served.c_str());
  ok &= Expect(order == std::vector<std::string>{"high", "medium", "low"}, "higher priority first");
  return ok;
}

bool MultiTypeLeases() {
  auto manager = MakeManager(SimpleConfig({{kCpu, 4}, {kMemory, 1024}}));
  if (!manager) return false;
  bool ok = true;
  {
    Result<Lease> lease = manager->AcquireLease("agent1", {{kCpu, 2}, {kMemory, 512}});
    ok &= Expect(lease.ok(), "the lease is granted");
    std::printf("  lease for agent1: 2 cpu + 512 memory; cpu in use %lld, memory in use %lld\n",
                static_cast<long long>(manager->GetPoolStats(kCpu)->current),
                static_cast<long long>(manager->GetPoolStats(kMemory)->current));
    Result<Lease> too_big = manager->TryAcquireLease("agent2", {{kCpu, 2}, {kMemory, 600}});
    std::printf("  agent2 tries 2 cpu + 600 memory: %s; cpu in use still %lld\n",
                too_big.status().ToString().c_str(),
                static_cast<long long>(manager->GetPoolStats(kCpu)->current));
    ok &= Expect(
        too_big.status().code() == Code::kExhausted && manager->GetPoolStats(kCpu)->current == 2,
        "all or nothing: the cpu that fitted was not taken");
  }
  std::printf("  lease gone: cpu in use %lld, memory in use %lld\n",
              static_cast<long long>(manager->GetPoolStats(kCpu)->current),
              static_cast<long long>(manager->GetPoolStats(kMemory)->current));
  ok &= Expect(manager->GetAgentUsage("agent1").empty(), "the lease released everything");
  return ok;
}

}  // namespace

int main() {
  const std::pair<const char*, bool (*)()> examples[] = {
      {"Basic usage", BasicUsage},
      {"Deadlock detection", DeadlockDetection},
      {"Deadline and cancellation", DeadlineAndCancellation},
      {"Dynamic scaling", DynamicScaling},
      {"Rate limiting", RateLimiting},
      {"Semaphore", SemaphoreUsage},
      {"Priorities", Priorities},
      {"Multi-type leases", MultiTypeLeases},
  };
  int failed = 0;
  int number = 0;
  for (const auto& [name, run] : examples) {
    std::printf("=== %d. %s ===\n", ++number, name);
    const bool ok = run();
    std::printf("  -> %s\n\n", ok ? "ok" : "FAILED");
    if (!ok) ++failed;
  }
  if (failed > 0) {
    std::printf("%d of %d examples did not behave as expected\n", failed, number);
    return 1;
  }
  std::printf("All %d examples behaved as expected\n", number);
  return 0;
}
