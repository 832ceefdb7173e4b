// cloudai-bench-telemetry: heartbeat absorption.
//
// Starts a real master, registers N simulated workers (default 10,000) and, from this one
// process, makes each of them join and heartbeat every 5 s with a real-sized payload
// (usage figures and two running tasks), spread evenly over the period. The heartbeats go
// first on one long-lived stream per worker (StreamHeartbeats, as the CloudAI worker sends
// them), for --seconds, then as one unary call each (SendHeartbeat, as older workers send
// them), for --seconds more, without a pause. Prints, for each in turn (prefix `unary_` for
// the second):
//   heartbeats_per_s=<acknowledged heartbeats per second over the measured window>
//   master_cpu_percent=<the master's CPU time over the window, in % of one core>
// and then
//   idle_master_cpu_percent=<the same master with every worker registered, before any
//                            heartbeat: the baseline measured in the same run>
//   inactive_workers=<workers the master shows inactive at the end (should be 0)>
//
//   cloudai-bench-telemetry [--workers 10000] [--seconds 30] [--connections 16]
//                           [--stream-only] [--keep]
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

#include "bench_cluster.h"
#include "heartbeat_load.h"
#include "simulated_workers.h"

namespace cloudai::bench {
namespace {

struct Flags {
  int workers = 10000;
  int seconds = 30;
  int connections = 16;
  bool stream_only = false;
  bool keep = false;
};

constexpr auto kPeriod = std::chrono::seconds(5);

struct Phase {
  double heartbeats_per_s = 0;
  double master_cpu_percent = 0;
  int64_t failed = 0;
};

// Every worker heartbeats every kPeriod over `transport`, each at its own offset within the
// period; measured after the first period, for the rest of the phase.
Phase Heartbeat(const Flags& flags, Simulator& sim, pid_t master, Transport transport) {
  HeartbeatLoad load(sim, transport);
  const auto start = SteadyClock::now();
  load.Start(start, kPeriod);
  std::this_thread::sleep_until(start + kPeriod);
  const int64_t acked0 = load.counts().acked;
  const double cpu0 = CpuSeconds(master);
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_until(start + std::chrono::seconds(flags.seconds));
  const double window = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  Phase phase;
  phase.master_cpu_percent = 100 * (CpuSeconds(master) - cpu0) / window;
  phase.heartbeats_per_s = static_cast<double>(load.counts().acked - acked0) / window;
  load.Stop();
  phase.failed = load.counts().failed;
  return phase;
}

int Run(const Flags& flags) {
  SimulatedWorkerEndpoint endpoint;
  BenchCluster cluster("telemetry", "exec", flags.keep);
  cluster.StartMaster();
  const pid_t master = cluster.master()->pid();
  std::unique_ptr<Simulator> joined =
      JoinSimulatedWorkers(cluster, endpoint, flags.workers, flags.connections);
  Simulator& sim = *joined;

  // Baseline: the master with every worker registered, before any heartbeat.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double cpu0 = CpuSeconds(master);
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const double idle_percent =
      100 * (CpuSeconds(master) - cpu0) /
      std::chrono::duration<double>(SteadyClock::now() - t0).count();

  std::cout << std::fixed << std::setprecision(1) << "workers=" << flags.workers << std::endl;
  int64_t failed = 0;
  for (Transport transport : {Transport::kStream, Transport::kUnary}) {
    if (transport == Transport::kUnary && flags.stream_only) break;
    const Phase phase = Heartbeat(flags, sim, master, transport);
    const std::string prefix = transport == Transport::kStream ? "" : "unary_";
    std::cout << prefix << "heartbeats_per_s=" << phase.heartbeats_per_s << "\n"
              << prefix << "heartbeats_failed=" << phase.failed << "\n"
              << prefix << "master_cpu_percent=" << phase.master_cpu_percent << std::endl;
    failed += phase.failed;
  }

  grpc::ClientContext context;
  cluster.Prepare(context, 60);
  v1::ListWorkersResponse response;
  if (!cluster.stub().ListWorkers(&context, {}, &response).ok()) Die("list workers failed");
  int inactive = 0;
  for (const auto& w : response.workers()) inactive += !w.is_active();
  std::cout << "idle_master_cpu_percent=" << idle_percent << "\ninactive_workers=" << inactive
            << std::endl;
  return inactive == 0 && failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cloudai::bench

int main(int argc, char** argv) {
  cloudai::bench::Flags flags;
  cloudai::bench::ParseFlags(
      argc, argv,
      {.ints = {{"--workers", &flags.workers},
                {"--seconds", &flags.seconds},
                {"--connections", &flags.connections}},
       .texts = {},
       .switches = {{"--stream-only", &flags.stream_only}, {"--keep", &flags.keep}}},
      "cloudai-bench-telemetry [--workers N] [--seconds S] [--connections C] "
      "[--stream-only] [--keep]");
  if (flags.workers <= 0 || flags.connections <= 0 || flags.seconds < 10) {
    std::cerr << "cloudai-bench-telemetry: --workers and --connections must be positive, "
                 "--seconds "
                 "at least 10\n";
    return 2;
  }
  return cloudai::bench::Run(flags);
}
