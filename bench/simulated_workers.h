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
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench_cluster.h"
#include "cloudai/v1/cluster.grpc.pb.h"
#include "common/strings.h"
#include "worker/agent/heartbeat_stream.h"

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

// How simulated workers send heartbeats: on one long-lived stream each, as the CloudAI
// worker does (StreamHeartbeats), or one unary call each (SendHeartbeat, for older workers).
enum class Transport { kStream, kUnary };

// The master's worker-facing service: here the simulated workers are. They share
// `connections` connections to the master (real workers have one each; the master's work
// per heartbeat does not depend on how many it reads from).
class Simulator {
 public:
  Simulator(const std::string& address, int workers, int connections = 16)
      : workers_(workers), streams_(workers) {
    for (int c = 0; c < connections; ++c) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
      stubs_.push_back(v1::MasterService::NewStub(
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
    }
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
    grpc::Status s = Stub(i).RegisterWorker(&context, info, &ack);
    if (!s.ok() || !ack.success()) Die("join " + Id(i) + ": " + s.error_message() + ack.message());
  }

  // Worker i's heartbeat with a real-sized payload, on its heartbeat stream, as the CloudAI
  // worker sends it; true when acknowledged. One thread at a time per worker.
  bool Beat(int i) { return Beat(i, 12.5 + i % 50); }
  // The same with the CPU usage given (the master passes it on to telemetry clients as is,
  // when within [0, 100]).
  bool Beat(int i, double cpu_usage) {
    std::unique_ptr<worker::HeartbeatStream>& stream = streams_[i];
    if (stream == nullptr || stream->broken()) {
      stream = std::make_unique<worker::HeartbeatStream>(Stub(i));
    }
    v1::HeartbeatAck ack;
    return stream
               ->Exchange(Heartbeat(i, cpu_usage), &ack,
                          std::chrono::system_clock::now() + std::chrono::seconds(10))
               .ok() &&
           ack.success();
  }

  // Worker i's heartbeat message: four usage figures and two running tasks.
  v1::Heartbeat Heartbeat(int i) const { return Heartbeat(i, 12.5 + i % 50); }
  v1::Heartbeat Heartbeat(int i, double cpu_usage) const {
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
    return beat;
  }

  int workers() const { return workers_; }
  // The connection worker i uses.
  v1::MasterService::Stub& Stub(int i) { return *stubs_[i % stubs_.size()]; }

 private:

  const int workers_;
  std::vector<std::unique_ptr<v1::MasterService::Stub>> stubs_;
  std::vector<std::unique_ptr<worker::HeartbeatStream>> streams_;
};

// The workers' own endpoint (WorkerService), one for all of them: it accepts the master's
// MasterRegister announcements, as a running worker does, and nothing else. (At an address
// that refused connections, the master's announcements to 10,000 workers would fail one by
// one for minutes, each with a retry, and the benchmark would measure that too.)
class SimulatedWorkerEndpoint final : public v1::WorkerService::Service {
 public:
  SimulatedWorkerEndpoint() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) Die("cannot start the simulated workers' endpoint");
  }
  ~SimulatedWorkerEndpoint() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  std::string address() const { return StrCat("127.0.0.1:", port_); }

  grpc::Status MasterRegister(grpc::ServerContext*, const v1::MasterInfo*,
                              v1::RegisterAck* ack) override {
    ack->set_success(true);
    return grpc::Status::OK;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Pre-registers `workers` simulated workers on `cluster`'s master and has each join with its
// capacity; they are reached at `endpoint`.
inline std::unique_ptr<Simulator> JoinSimulatedWorkers(BenchCluster& cluster,
                                                       const SimulatedWorkerEndpoint& endpoint,
                                                       int workers, int connections = 16) {
  for (int i = 0; i < workers; ++i) cluster.Register(Simulator::Id(i), endpoint.address());
  auto sim = std::make_unique<Simulator>(cluster.address(), workers, connections);
  for (int i = 0; i < workers; ++i) sim->Join(i);
  return sim;
}

}  // namespace cloudai::bench
