// cloudai-bench-alloc: allocation throughput and latency.
//
// Starts a real master, makes N simulated workers (default 1,000) join and keep
// heartbeating, then from --clients threads (default 8) issues request_resources +
// release_resources pairs over gRPC (ClusterService.RequestAllocation and
// ReleaseAllocation, each a durable commit) for --seconds. Each request reserves
// --slots slots (default 2) of 1 core and 2 GiB on the workers, through the scheduler.
// Prints
//   alloc_pairs_per_s=<request+release pairs completed per second>
//   alloc_request_ms_p50= / alloc_request_ms_p99=  <latency of RequestAllocation>
//   alloc_release_ms_p99=  <latency of ReleaseAllocation>
//   baseline_extend_per_s=<ExtendAllocation calls per second with the same clients: one
//                          durable commit each, no placement; the baseline of this run>
//   pair_vs_extend=<alloc_pairs_per_s / baseline_extend_per_s>
//   failed=<calls that failed (should be 0)>
//
//   cloudai-bench-alloc [--workers 1000] [--clients 8] [--seconds 10] [--slots 2] [--keep]
#include <atomic>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_cluster.h"
#include "simulated_workers.h"

namespace cloudai::bench {
namespace {

struct Flags {
  int workers = 1000;
  int clients = 8;
  int seconds = 10;
  int slots = 2;
  bool keep = false;
};

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int Run(const Flags& flags) {
  SimulatedWorkerEndpoint endpoint;
  BenchCluster cluster("alloc", "exec", flags.keep);
  cluster.StartMaster();
  std::unique_ptr<Simulator> sim = JoinSimulatedWorkers(cluster, endpoint, flags.workers);

  // The workers keep heartbeating (every 5 s) so that none goes inactive meanwhile.
  std::atomic<bool> stop_beats{false};
  std::thread beats([&] {
    while (!stop_beats) {
      const auto round = SteadyClock::now();
      for (int i = 0; i < flags.workers && !stop_beats; ++i) sim->Beat(i);
      while (!stop_beats && SteadyClock::now() - round < std::chrono::seconds(5)) {
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
  });

  v1::AllocationRequest request;
  request.set_job_id("bench");
  request.set_workers(flags.slots);
  request.mutable_per_worker()->set_cpu(1000);
  request.mutable_per_worker()->set_memory(2048);
  request.set_ttl_seconds(600);

  std::atomic<int64_t> failed{0};
  auto call_request = [&](v1::Allocation* out) {
    grpc::ClientContext context;
    cluster.Prepare(context);
    grpc::Status s = cluster.stub().RequestAllocation(&context, request, out);
    if (!s.ok() || out->state() != "active") {
      if (failed++ == 0) std::cerr << "request: " << s.error_message() << " " << out->state() << "\n";
      return false;
    }
    return true;
  };

  // Phase 1: request + release pairs.
  std::mutex mu;
  std::vector<double> request_ms, release_ms;
  std::atomic<int64_t> pairs{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int c = 0; c < flags.clients; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine_request, mine_release;
      while (!stop) {
        v1::Allocation allocation;
        auto t0 = SteadyClock::now();
        if (!call_request(&allocation)) continue;
        auto t1 = SteadyClock::now();
        grpc::ClientContext context;
        cluster.Prepare(context);
        v1::AllocationId id;
        id.set_allocation_id(allocation.allocation_id());
        v1::Allocation released;
        grpc::Status s = cluster.stub().ReleaseAllocation(&context, id, &released);
        auto t2 = SteadyClock::now();
        if (!s.ok() || released.state() != "released") {
          if (failed++ == 0) std::cerr << "release: " << s.error_message() << "\n";
          continue;
        }
        mine_request.push_back(Ms(t1 - t0));
        mine_release.push_back(Ms(t2 - t1));
        ++pairs;
      }
      std::lock_guard<std::mutex> lock(mu);
      request_ms.insert(request_ms.end(), mine_request.begin(), mine_request.end());
      release_ms.insert(release_ms.end(), mine_release.begin(), mine_release.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(flags.seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  threads.clear();
  const double pair_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const double pairs_per_s = static_cast<double>(pairs) / pair_seconds;

  // Phase 2, the baseline: one durable commit per call, no placement.
  std::vector<std::string> held(flags.clients);
  for (int c = 0; c < flags.clients; ++c) {
    v1::Allocation allocation;
    if (!call_request(&allocation)) Die("cannot request an allocation for the baseline");
    held[c] = allocation.allocation_id();
  }
  std::atomic<int64_t> extends{0};
  stop = false;
  const auto base_start = SteadyClock::now();
  for (int c = 0; c < flags.clients; ++c) {
    threads.emplace_back([&, c] {
      v1::ExtendAllocationRequest extend;
      extend.set_allocation_id(held[c]);
      extend.set_extend_seconds(1);
      while (!stop) {
        grpc::ClientContext context;
        cluster.Prepare(context);
        v1::Allocation out;
        if (cluster.stub().ExtendAllocation(&context, extend, &out).ok()) {
          ++extends;
        } else {
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(std::max(2, flags.seconds / 2)));
  stop = true;
  for (std::thread& t : threads) t.join();
  const double extend_per_s = static_cast<double>(extends) /
                              std::chrono::duration<double>(SteadyClock::now() - base_start).count();

  stop_beats = true;
  beats.join();
  std::cout << std::fixed << std::setprecision(2) << "workers=" << flags.workers
            << "\nclients=" << flags.clients << "\nslots_per_allocation=" << flags.slots
            << "\nalloc_pairs=" << pairs.load() << "\nalloc_pairs_per_s=" << pairs_per_s
            << "\nalloc_request_ms_p50=" << Percentile(request_ms, 0.50)
            << "\nalloc_request_ms_p99=" << Percentile(request_ms, 0.99)
            << "\nalloc_release_ms_p99=" << Percentile(release_ms, 0.99)
            << "\nbaseline_extend_per_s=" << extend_per_s
            << "\npair_vs_extend=" << (extend_per_s > 0 ? pairs_per_s / extend_per_s : 0)
            << "\nfailed=" << failed.load() << std::endl;
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cloudai::bench

int main(int argc, char** argv) {
  cloudai::bench::Flags flags;
  cloudai::bench::ParseFlags(
      argc, argv,
      {.ints = {{"--workers", &flags.workers},
                {"--clients", &flags.clients},
                {"--seconds", &flags.seconds},
                {"--slots", &flags.slots}},
       .texts = {},
       .switches = {{"--keep", &flags.keep}}},
      "cloudai-bench-alloc [--workers N] [--clients N] [--seconds N] [--slots N] [--keep]");
  if (flags.workers < 1 || flags.clients < 1 || flags.seconds < 1 || flags.slots < 1) {
    cloudai::bench::Die("--workers, --clients, --seconds and --slots must be at least 1");
  }
  return cloudai::bench::Run(flags);
}
