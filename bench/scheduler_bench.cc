// cloudai-bench-scheduler: placement decisions per second for each placement policy,
// beside the seed's algorithm measured in the same run on the same stream.
//
// For each cluster size, a heterogeneous cluster is built from a fixed seed (4 to 64
// cores, 8 to 256 GiB, a fifth of the workers with 1 to 8 GPUs) and filled to about half
// its CPU with tasks. Every measurement then starts from a copy of that same state and
// runs the same loop for a fixed time after a warm-up: take the next request from a
// fixed pre-generated sequence, choose a worker, allocate it there; then release one
// earlier placement picked at random, so the cluster stays about half full. The rate
// counts decisions (choice + allocation, placed or not); the releases run inside the
// timed loop too, so the figures are slightly pessimistic.
//
// The baseline is seed 001's round-robin as written: per decision, copy every worker id
// out of the registry map, sort them, and scan from the last index for the first
// suitable worker; no index.
//
// Output, one line per measurement, then one ratio line per policy and size:
//   placements_per_s policy=<name> workers=<n> value=<number>
//   ratio_vs_baseline policy=<name> workers=<n> value=<x>
// Flags: --seconds=1 --workers=100,1000,10000 --policies=best-fit,round-robin,spread
// Diagnostics (fill level, share of requests placed) go to stderr.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/resources.h"
#include "scheduler/cluster_view.h"
#include "scheduler/placement_policy.h"
#include "scheduler/policy_registry.h"

namespace cloudai::scheduler {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kGiB = 1024;
constexpr size_t kRequestCount = size_t{1} << 16;
constexpr uint64_t kClusterSeed = 0x5eed'c1a5;
constexpr uint64_t kRequestSeed = 0x5eed'4e90;
constexpr uint64_t kReleaseSeed = 0x5eed'4e1e;

struct Options {
  double seconds = 1.0;
  std::vector<size_t> workers = {100, 1000, 10000};
  std::vector<std::string> policies;  // empty: every registered policy
};

struct Held {
  std::string worker_id;
  Resources request;
};

// The cluster every measurement of one size starts from.
struct Scenario {
  size_t workers = 0;
  ClusterView view;
  std::vector<Held> held;  // what fills it
};

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "cloudai-bench-scheduler: %s\nusage: cloudai-bench-scheduler [--seconds=1] "
               "[--workers=100,1000,10000] [--policies=best-fit,round-robin,spread]\n",
               problem);
  std::exit(2);
}

Options ParseFlags(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
      if (arg.substr(0, flag.size()) != flag) return std::nullopt;
      return std::string(arg.substr(flag.size()));
    };
    if (auto v = value_of("--seconds=")) {
      char* end = nullptr;
      options.seconds = std::strtod(v->c_str(), &end);
      if (end == v->c_str() || *end != '\0' || !(options.seconds > 0)) {
        Usage("--seconds must be a positive number");
      }
    } else if (auto v = value_of("--workers=")) {
      options.workers.clear();
      for (const std::string& n : Split(*v)) {
        char* end = nullptr;
        const unsigned long long count = std::strtoull(n.c_str(), &end, 10);
        if (end == n.c_str() || *end != '\0' || count == 0 || count > 10'000'000) {
          Usage("--workers takes counts from 1 to 10000000, comma separated");
        }
        options.workers.push_back(count);
      }
      if (options.workers.empty()) Usage("--workers is empty");
    } else if (auto v = value_of("--policies=")) {
      options.policies = Split(*v);
    } else {
      Usage("unknown flag");
    }
  }
  if (options.policies.empty()) options.policies = PolicyNames();
  for (const std::string& name : options.policies) {
    if (absl::Status s = MakePolicy(name).status(); !s.ok()) {
      Usage(std::string(s.message()).c_str());
    }
  }
  return options;
}

int64_t Pick(std::mt19937_64& rng, std::initializer_list<int64_t> choices) {
  const size_t i = std::uniform_int_distribution<size_t>(0, choices.size() - 1)(rng);
  return *(choices.begin() + i);
}

std::vector<WorkerSpec> MakeWorkers(size_t n) {
  std::mt19937_64 rng(kClusterSeed + n);
  std::set<std::string> ids;
  std::vector<WorkerSpec> workers;
  while (workers.size() < n) {
    char id[32];
    std::snprintf(id, sizeof(id), "worker-%08llx",
                  static_cast<unsigned long long>(rng() & 0xffff'ffffu));
    if (!ids.insert(id).second) continue;
    WorkerSpec w;
    w.id = id;
    w.address = "10.0." + std::to_string(workers.size() / 250) + "." +
                std::to_string(workers.size() % 250) + ":50052";
    const int64_t cores = Pick(rng, {4, 8, 16, 32, 64});
    const int64_t memory_gib = std::clamp<int64_t>(cores * Pick(rng, {2, 4, 8}), 8, 256);
    const int64_t gpus = std::bernoulli_distribution(0.2)(rng) ? Pick(rng, {1, 2, 4, 8}) : 0;
    w.total = Resources::Of(cores * 1000, memory_gib * kGiB,
                            Pick(rng, {100, 500, 1000, 2000}) * kGiB, gpus * 1000);
    workers.push_back(std::move(w));
  }
  return workers;
}

std::vector<Resources> MakeRequests() {
  std::mt19937_64 rng(kRequestSeed);
  std::vector<Resources> requests;
  requests.reserve(kRequestCount);
  for (size_t i = 0; i < kRequestCount; ++i) {
    const int64_t gpu = std::bernoulli_distribution(0.1)(rng) ? Pick(rng, {500, 1000, 2000}) : 0;
    requests.push_back(Resources::Of(Pick(rng, {250, 500, 1000, 2000, 4000, 8000}),
                                     Pick(rng, {256, 512, 1024, 2048, 4096, 8192, 16384,
                                                32768}),
                                     Pick(rng, {0, 1024, 10240, 51200}), gpu));
  }
  return requests;
}

// Fills a cluster to about half its CPU with requests placed on random workers.
Scenario MakeScenario(size_t n, const std::vector<Resources>& requests) {
  Scenario s;
  s.workers = n;
  if (absl::Status st = s.view.UpsertWorkers(MakeWorkers(n)); !st.ok()) {
    std::fprintf(stderr, "cannot build cluster: %s\n", std::string(st.message()).c_str());
    std::exit(1);
  }
  int64_t total_cpu = 0;
  for (size_t i = 0; i < n; ++i) total_cpu += s.view.worker(i).total.cpu_millis;
  std::mt19937_64 rng(kClusterSeed ^ n);
  int64_t allocated_cpu = 0;
  for (size_t k = 0; allocated_cpu * 2 < total_cpu && k < 100 * n; ++k) {
    const Resources& request = requests[(k * 7919) % requests.size()];
    const std::string& id =
        s.view.worker(std::uniform_int_distribution<size_t>(0, n - 1)(rng)).id;
    if (s.view.Allocate(id, request).ok()) {
      s.held.push_back({id, request});
      allocated_cpu += request.cpu_millis;
    }
  }
  std::fprintf(stderr, "# workers=%zu cpu allocated at start: %.1f%% (%zu tasks)\n", n,
               100.0 * static_cast<double>(allocated_cpu) / static_cast<double>(total_cpu),
               s.held.size());
  return s;
}

// Runs `decide` then one release per placement, for `seconds` after a warm-up; returns
// decisions per second. `decide(request)` returns the placed worker or nullopt;
// `release(held)` gives a placement back.
template <typename Decide, typename Release>
double Measure(std::string_view label, size_t n, double seconds,
               const std::vector<Resources>& requests, std::vector<Held> held, Decide decide,
               Release release) {
  std::mt19937_64 rng(kReleaseSeed);
  size_t next = 0;
  const auto step = [&]() -> bool {
    const Resources& request = requests[next++ % requests.size()];
    std::optional<std::string> worker = decide(request);
    if (!worker.has_value()) return false;
    held.push_back({std::move(*worker), request});
    const size_t k = std::uniform_int_distribution<size_t>(0, held.size() - 1)(rng);
    release(held[k]);
    held[k] = std::move(held.back());
    held.pop_back();
    return true;
  };
  const auto run_for = [&](double duration, uint64_t* decisions, uint64_t* placed) {
    const SteadyClock::time_point start = SteadyClock::now();
    const SteadyClock::time_point deadline =
        start + std::chrono::duration_cast<SteadyClock::duration>(
                    std::chrono::duration<double>(duration));
    SteadyClock::time_point now = start;
    while (now < deadline) {
      for (int i = 0; i < 16; ++i) {
        *placed += step() ? 1 : 0;
        ++*decisions;
      }
      now = SteadyClock::now();
    }
    return std::chrono::duration<double>(now - start).count();
  };
  uint64_t warm_decisions = 0, warm_placed = 0;
  run_for(std::min(0.25, seconds / 4), &warm_decisions, &warm_placed);
  uint64_t decisions = 0, placed = 0;
  const double elapsed = run_for(seconds, &decisions, &placed);
  const double rate = static_cast<double>(decisions) / elapsed;
  std::printf("placements_per_s policy=%.*s workers=%zu value=%.0f\n",
              static_cast<int>(label.size()), label.data(), n, rate);
  std::fflush(stdout);
  std::fprintf(stderr, "# policy=%.*s workers=%zu decisions=%llu placed=%.1f%%\n",
               static_cast<int>(label.size()), label.data(), n,
               static_cast<unsigned long long>(decisions),
               100.0 * static_cast<double>(placed) / static_cast<double>(decisions));
  return rate;
}

// ---- The seed's algorithm ----

struct SeedWorkerInfo {
  std::string worker_id;
  bool is_active = true;
  std::string worker_ip;
  int64_t available_cpu = 0;
  int64_t available_memory = 0;
  int64_t available_storage = 0;
  int64_t available_gpu = 0;
};

class SeedRoundRobin {
 public:
  explicit SeedRoundRobin(const ClusterView& view) {
    for (size_t i = 0; i < view.size(); ++i) {
      const WorkerSpec& w = view.worker(i);
      const Resources a = view.Available(i);
      workers_[w.id] = {w.id, w.active, w.address, a.cpu_millis, a.memory_mib,
                        a.storage_mib, a.gpu_millis};
    }
  }

  // SelectWorker: sorted ids, start after the last index, first suitable.
  std::optional<std::string> Select(const Resources& task) {
    if (workers_.empty()) return std::nullopt;
    std::vector<std::string> ids;
    ids.reserve(workers_.size());
    for (const auto& [id, info] : workers_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    const size_t n = ids.size();
    const size_t start = static_cast<size_t>(last_index_ + 1) % n;
    for (size_t k = 0; k < n; ++k) {
      const size_t index = (start + k) % n;
      const SeedWorkerInfo& w = workers_[ids[index]];
      if (IsSuitable(w, task)) {
        last_index_ = static_cast<int64_t>(index);
        return ids[index];
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> SelectAndAllocate(const Resources& task) {
    std::optional<std::string> id = Select(task);
    if (id.has_value()) Adjust(*id, task, -1);
    return id;
  }
  void Release(const Held& held) { Adjust(held.worker_id, held.request, +1); }

 private:
  static bool IsSuitable(const SeedWorkerInfo& w, const Resources& task) {
    return w.is_active && !w.worker_ip.empty() && w.available_cpu >= task.cpu_millis &&
           w.available_memory >= task.memory_mib && w.available_storage >= task.storage_mib &&
           w.available_gpu >= task.gpu_millis;
  }
  void Adjust(const std::string& id, const Resources& r, int sign) {
    SeedWorkerInfo& w = workers_[id];
    w.available_cpu += sign * r.cpu_millis;
    w.available_memory += sign * r.memory_mib;
    w.available_storage += sign * r.storage_mib;
    w.available_gpu += sign * r.gpu_millis;
  }

  std::unordered_map<std::string, SeedWorkerInfo> workers_;
  int64_t last_index_ = -1;
};

int Main(int argc, char** argv) {
  const Options options = ParseFlags(argc, argv);
  const std::vector<Resources> requests = MakeRequests();
  std::map<std::pair<std::string, size_t>, double> rates;
  std::map<size_t, double> baseline;

  for (size_t n : options.workers) {
    const Scenario scenario = MakeScenario(n, requests);
    {
      SeedRoundRobin seed(scenario.view);
      baseline[n] = Measure(
          "seed-baseline", n, options.seconds, requests, scenario.held,
          [&](const Resources& r) { return seed.SelectAndAllocate(r); },
          [&](const Held& h) { seed.Release(h); });
    }
    for (const std::string& name : options.policies) {
      ClusterView view = scenario.view;
      std::unique_ptr<PlacementPolicy> policy = std::move(MakePolicy(name).value());
      rates[{name, n}] = Measure(
          name, n, options.seconds, requests, scenario.held,
          [&](const Resources& r) -> std::optional<std::string> {
            std::optional<std::string> id = policy->Select(view, r);
            if (id.has_value() && !view.Allocate(*id, r).ok()) {
              std::fprintf(stderr, "policy %s chose a worker that cannot take the task\n",
                           name.c_str());
              std::exit(1);
            }
            return id;
          },
          [&](const Held& h) {
            if (!view.Release(h.worker_id, h.request).ok()) {
              std::fprintf(stderr, "release failed\n");
              std::exit(1);
            }
          });
      if (absl::Status s = view.CheckInvariants(); !s.ok()) {
        std::fprintf(stderr, "invariants broken after %s: %s\n", name.c_str(),
                     std::string(s.message()).c_str());
        return 1;
      }
    }
  }
  for (const std::string& name : options.policies) {
    for (size_t n : options.workers) {
      std::printf("ratio_vs_baseline policy=%s workers=%zu value=%.1f\n", name.c_str(), n,
                  rates[{name, n}] / baseline[n]);
    }
  }
  return 0;
}

}  // namespace
}  // namespace cloudai::scheduler

int main(int argc, char** argv) { return cloudai::scheduler::Main(argc, argv); }
