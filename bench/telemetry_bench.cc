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
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_cluster.h"

namespace cloudai::bench {
namespace {

struct Flags {
  int workers = 10000;
  int seconds = 30;
  int threads = 8;
  bool keep = false;
};

// The process's user + system CPU time, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) Die("cannot read /proc/<master>/stat");
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The master's worker-facing service: here the simulated workers are.
class Simulator {
 public:
  Simulator(const std::string& address, int workers) : workers_(workers) {
    grpc::ChannelArguments args;
    stub_ = v1::MasterService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  static std::string Id(int i) { return StrCat("sim-", i); }

  void Join(int i) {
    v1::WorkerInfo info;
    info.set_worker_id(Id(i));
    info.set_total_cpu(16000);
    info.set_total_memory(64 * 1024);
    info.set_total_storage(512 * 1024);
    info.set_driver("exec");
    info.set_hostname(Id(i));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::RegisterAck ack;
    grpc::Status s = stub_->RegisterWorker(&context, info, &ack);
    if (!s.ok() || !ack.success()) Die("join " + Id(i) + ": " + s.error_message() + ack.message());
  }

  // Worker i's heartbeat; true when acknowledged.
  bool Beat(int i) {
    v1::Heartbeat beat;
    beat.set_worker_id(Id(i));
    beat.set_cpu_usage(12.5 + i % 50);
    beat.set_memory_usage(40.25);
    beat.set_storage_usage(7.5);
    beat.set_gpu_usage(0);
    for (int t = 0; t < 2; ++t) {
      v1::RunningTask* task = beat.add_running_tasks();
      task->set_task_id(StrCat("sim-task-", i, "-", t));
      task->set_status("running");
      task->set_started_at_ms(WallMs() - 60'000);
    }
    beat.set_sent_at_ms(WallMs());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::HeartbeatAck ack;
    return stub_->SendHeartbeat(&context, beat, &ack).ok() && ack.success();
  }

  int workers() const { return workers_; }

 private:
  const int workers_;
  std::unique_ptr<v1::MasterService::Stub> stub_;
};

int Run(const Flags& flags) {
  BenchCluster cluster("telemetry", "exec", flags.keep);
  cluster.StartMaster();
  const pid_t master = cluster.master()->pid();
  // Every simulated worker is registered at one address that refuses connections: the
  // master's announcements fail fast there, as they would for a machine that is down.
  const std::string nowhere = StrCat("127.0.0.1:", FreePort());
  for (int i = 0; i < flags.workers; ++i) cluster.Register(Simulator::Id(i), nowhere);
  Simulator sim(cluster.address(), flags.workers);
  for (int i = 0; i < flags.workers; ++i) sim.Join(i);

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
          const auto due = start + round * kPeriod + kPeriod * i / flags.workers;
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
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) cloudai::bench::Die(arg + " needs a value");
      return std::atoi(argv[++i]);
    };
    if (arg == "--workers") {
      flags.workers = value();
    } else if (arg == "--seconds") {
      flags.seconds = value();
    } else if (arg == "--threads") {
      flags.threads = value();
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      std::cerr << "usage: cloudai-bench-telemetry [--workers N] [--seconds S] [--threads T] "
                   "[--keep]\n";
      return 2;
    }
  }
  if (flags.workers <= 0 || flags.threads <= 0 || flags.seconds < 10) {
    std::cerr << "cloudai-bench-telemetry: --workers and --threads must be positive, --seconds "
                 "at least 10\n";
    return 2;
  }
  return cloudai::bench::Run(flags);
}
