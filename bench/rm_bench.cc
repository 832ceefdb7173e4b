// Benchmarks of libcloudai_rm, each beside a baseline measured in the same run: a
// mutex-guarded counter doing the same "take one, give one back" work.
//
//   build/release/bench/cloudai-bench-rm [google-benchmark flags]
//
// Besides Google Benchmark's table it prints one line per measurement,
//   rm_ops_per_s bench=<name> threads=<n> value=<acquire+release pairs per second>
// and one ratio line per library measurement against the baseline at the same thread count,
//   ratio_vs_baseline bench=<name> threads=<n> value=<library / baseline>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "cloudai/rm/resource_manager.h"
#include "cloudai/rm/semaphore.h"
#include "cloudai/rm/token_bucket.h"

namespace cloudai::rm {
namespace {

constexpr int64_t kHuge = int64_t{1} << 40;

// --- Baseline: a counter under a mutex, locked once to take and once to give back. ---
struct MutexCounter {
  std::mutex mu;
  int64_t in_use = 0;
};

void BM_Baseline(benchmark::State& state) {
  static MutexCounter counter;
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> lock(counter.mu);
      ++counter.in_use;
    }
    {
      std::lock_guard<std::mutex> lock(counter.mu);
      --counter.in_use;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// --- Semaphore: blocking Acquire(1) + Release(1) that never has to wait. ---
void BM_Semaphore(benchmark::State& state) {
  static std::unique_ptr<Semaphore> sem;
  if (state.thread_index() == 0) sem = std::move(Semaphore::Create(kHuge).value());
  // Google Benchmark starts timing after every thread has passed this point.
  for (auto _ : state) {
    if (!sem->Acquire(1).ok()) state.SkipWithError("acquire failed");
    if (!sem->Release(1).ok()) state.SkipWithError("release failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// --- ResourceManager: Acquire + Release of one type, one agent per thread, with
// quotas and deadlock detection on (as a caller would run it). ---
void BM_Manager(benchmark::State& state) {
  static std::unique_ptr<ResourceManager> manager;
  if (state.thread_index() == 0) {
    ResourceManagerConfig config;
    config.types.push_back({.name = kCpu, .capacity = kHuge});
    config.monitor_interval = Clock::Duration::zero();
    manager = std::move(ResourceManager::Create(std::move(config)).value());
  }
  const std::string agent = "agent-" + std::to_string(state.thread_index());
  const std::string type = kCpu;
  for (auto _ : state) {
    if (!manager->Acquire(agent, type, 1).ok()) state.SkipWithError("acquire failed");
    if (!manager->Release(agent, type, 1).ok()) state.SkipWithError("release failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// --- TokenBucket: TryAcquire(1) on a bucket that never runs dry. ---
void BM_TokenBucket(benchmark::State& state) {
  static std::unique_ptr<TokenBucket> bucket;
  if (state.thread_index() == 0) {
    bucket = std::move(
        TokenBucket::Create(TokenBucket::kMaxTokens, double(TokenBucket::kMaxTokens)).value());
  }
  for (auto _ : state) {
    if (!bucket->TryAcquire(1).ok()) state.SkipWithError("bucket ran dry");
  }
  state.SetItemsProcessed(state.iterations());
}

#define CLOUDAI_RM_BENCH(fn) BENCHMARK(fn)->UseRealTime()->Threads(1)->Threads(2)->Threads(8)
CLOUDAI_RM_BENCH(BM_Baseline);
CLOUDAI_RM_BENCH(BM_Semaphore);
CLOUDAI_RM_BENCH(BM_Manager);
CLOUDAI_RM_BENCH(BM_TokenBucket);

// Collects items/s per (benchmark, threads) while printing the usual table.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // No colour codes, so the summary lines start clean for grep.
  CollectingReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      rates_[{run.run_name.function_name, static_cast<int>(run.threads)}] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void PrintSummary() const {
    for (const auto& [key, rate] : rates_) {
      std::printf("rm_ops_per_s bench=%s threads=%d value=%.0f\n", Short(key.first).c_str(),
                  key.second, rate);
    }
    for (const auto& [key, rate] : rates_) {
      if (key.first == "BM_Baseline") continue;
      auto base = rates_.find({"BM_Baseline", key.second});
      if (base == rates_.end() || base->second <= 0) continue;
      std::printf("ratio_vs_baseline bench=%s threads=%d value=%.3f\n",
                  Short(key.first).c_str(), key.second, rate / base->second);
    }
  }

 private:
  static std::string Short(const std::string& name) {
    std::map<std::string, std::string> names = {{"BM_Baseline", "mutex-counter-baseline"},
                                                {"BM_Semaphore", "semaphore"},
                                                {"BM_Manager", "resource-manager"},
                                                {"BM_TokenBucket", "token-bucket"}};
    auto it = names.find(name);
    return it == names.end() ? name : it->second;
  }

  std::map<std::pair<std::string, int>, double> rates_;
};

}  // namespace
}  // namespace cloudai::rm

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  cloudai::rm::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
