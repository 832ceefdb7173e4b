// Simulated workers for the telemetry benchmarks: many CloudAI workers played from one
// process over the master's worker-facing service (join, heartbeat), and the CPU time of a
// process read from /proc.
//
// Thread safety: Simulator's methods may be called from several threads at once.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "bench_cluster.h"
#include "cloudai/v1/cluster.grpc.pb.h"
#include "common/strings.h"

namespace cloudai::bench {

// The process's user + system CPU time, in seconds.
inline double CpuSeconds(pid_t pid) {
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

  // Worker i's heartbeat with a real-sized payload (four usage figures, two running tasks);
  // true when acknowledged.
  bool Beat(int i) { return Beat(i, 12.5 + i % 50); }
  // The same with the CPU usage given (the master passes it on to telemetry clients as is,
  // when within [0, 100]).
  bool Beat(int i, double cpu_usage) {
    v1::Heartbeat beat;
    beat.set_worker_id(Id(i));
    beat.set_cpu_usage(cpu_usage);
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

// Pre-registers `workers` simulated workers on `cluster`'s master and has each join with its
// capacity. They are registered at one address that refuses connections: the master's
// announcements fail fast there, as they would for a machine that is down.
inline std::unique_ptr<Simulator> JoinSimulatedWorkers(BenchCluster& cluster, int workers) {
  const std::string nowhere = StrCat("127.0.0.1:", FreePort());
  for (int i = 0; i < workers; ++i) cluster.Register(Simulator::Id(i), nowhere);
  auto sim = std::make_unique<Simulator>(cluster.address(), workers);
  for (int i = 0; i < workers; ++i) sim->Join(i);
  return sim;
}

}  // namespace cloudai::bench
