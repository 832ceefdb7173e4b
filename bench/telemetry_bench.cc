// cloudai-bench-telemetry: heartbeat absorption.
//
// Starts a real master, registers N simulated workers (default 10,000) and, from this one
// process, makes each of them join and heartbeat every 5 s with a real-sized payload
// (usage figures and two running tasks), spread evenly over the period, for --seconds.
// Prints
//   heartbeats_per_s=<acknowledged heartbeats per second over the measured window>
//   master_cpu_percent=<the master's CPU time over the window, in % of one core>
//   idle_master_cpu_percent=<the same master with every worker registered, before any
//                            heartbeat: the baseline measured in the same run>
//   inactive_workers=<workers the master shows inactive at the end (should be 0)>
//
//   cloudai-bench-telemetry [--workers 10000] [--seconds 30] [--threads 8] [--keep]
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

#include "bench_cluster.h"
#include "simulated_workers.h"

namespace cloudai::bench {
namespace {

struct Flags {
  int workers = 10000;
  int seconds = 30;
  int threads = 8;
  bool keep = false;
};

int Run(const Flags& flags) {
  BenchCluster cluster("telemetry", "exec", flags.keep);
  cluster.StartMaster();
  const pid_t master = cluster.master()->pid();
  std::unique_ptr<Simulator> joined = JoinSimulatedWorkers(cluster, flags.workers);
  Simulator& sim = *joined;

  // Baseline: the master with every worker registered, before any heartbeat.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double cpu0 = CpuSeconds(master);
  auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const double idle_percent =
      100 * (CpuSeconds(master) - cpu0) /
      std::chrono::duration<double>(SteadyClock::now() - t0).count();

  // Each thread owns an equal share of the workers and sends each one's heartbeat at its
  // own offset within the 5 s period.
  constexpr auto kPeriod = std::chrono::seconds(5);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, failed{0};
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t round = 0; !stop; ++round) {
        for (int i = t; i < flags.workers && !stop; i += flags.threads) {
          // Each worker at its own offset: one heartbeat every period / workers.
          const auto due =
              start + round * kPeriod + std::chrono::nanoseconds(kPeriod) * i / flags.workers;
          std::this_thread::sleep_until(due);
          (sim.Beat(i) ? acked : failed).fetch_add(1);
        }
      }
    });
  }
  // Measure after one whole period, for the rest of the run.
  std::this_thread::sleep_until(start + kPeriod);
  const int64_t acked0 = acked.load();
  cpu0 = CpuSeconds(master);
  t0 = SteadyClock::now();
  std::this_thread::sleep_until(start + std::chrono::seconds(flags.seconds));
  const double window = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double busy_percent = 100 * (CpuSeconds(master) - cpu0) / window;
  const double rate = static_cast<double>(acked.load() - acked0) / window;
  stop = true;
  for (auto& th : threads) th.join();

  grpc::ClientContext context;
  cluster.Prepare(context, 60);
  v1::ListWorkersResponse response;
  if (!cluster.stub().ListWorkers(&context, {}, &response).ok()) Die("list workers failed");
  int inactive = 0;
  for (const auto& w : response.workers()) inactive += !w.is_active();
  std::cout << std::fixed << std::setprecision(1) << "workers=" << flags.workers
            << "\nheartbeats_per_s=" << rate << "\nheartbeats_failed=" << failed.load()
            << "\nmaster_cpu_percent=" << busy_percent
            << "\nidle_master_cpu_percent=" << idle_percent << "\ninactive_workers=" << inactive
            << std::endl;
  return inactive == 0 && failed.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cloudai::bench

int main(int argc, char** argv) {
  cloudai::bench::Flags flags;
  cloudai::bench::ParseFlags(
      argc, argv,
      {.ints = {{"--workers", &flags.workers},
                {"--seconds", &flags.seconds},
                {"--threads", &flags.threads}},
       .switches = {{"--keep", &flags.keep}}},
      "cloudai-bench-telemetry [--workers N] [--seconds S] [--threads T] [--keep]");
  if (flags.workers <= 0 || flags.threads <= 0 || flags.seconds < 10) {
    std::cerr << "cloudai-bench-telemetry: --workers and --threads must be positive, --seconds "
                 "at least 10\n";
    return 2;
  }
  return cloudai::bench::Run(flags);
}
