// GrpcWorkerGateway: the WorkerGateway that talks to real workers over gRPC.
//
// One long-lived channel per worker, created on first use and kept until the worker is
// forgotten or its address changes. Calls to workers run on a few sender threads; a
// worker always maps to the same thread, so what is sent to one worker arrives in the
// order it was sent (an assignment before its cancel). A worker that cannot be reached
// fails its call quickly (the channel does not wait for readiness) and the callback says
// so; nothing here is fatal to the master.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/v1/cluster.grpc.pb.h"
#include "master/worker_gateway.h"

namespace cloudai::master {

struct GrpcWorkerGatewayOptions {
  std::string master_id;
  std::string master_address;
  int sender_threads = 4;
  std::chrono::milliseconds call_timeout{5000};
};

class GrpcWorkerGateway final : public WorkerGateway {
 public:
  explicit GrpcWorkerGateway(GrpcWorkerGatewayOptions options);
  ~GrpcWorkerGateway() override;

  void AnnounceMaster(const std::string& worker_id, const std::string& address) override;
  void DeliverAssignment(const std::string& worker_id, const std::string& address,
                         const store::TaskRecord& task, ReplyCallback done) override;
  void DeliverCancel(const std::string& worker_id, const std::string& address,
                     const std::string& task_id, ReplyCallback done) override;
  void Forget(const std::string& worker_id) override;

  // The stub of the worker's long-lived channel (for streaming its task logs).
  std::shared_ptr<v1::WorkerService::Stub> Stub(const std::string& worker_id,
                                                const std::string& address);
  // Stops the sender threads; queued calls are dropped. Idempotent.
  void Stop();

 private:
  struct Sender {
    std::mutex mu;
    std::condition_variable ready;
    std::deque<std::function<void()>> jobs;
    std::thread thread;
  };
  void Enqueue(const std::string& worker_id, std::function<void()> job);
  void Run(Sender& sender);

  const GrpcWorkerGatewayOptions options_;
  std::mutex channels_mu_;
  struct Link {
    std::string address;
    std::shared_ptr<v1::WorkerService::Stub> stub;
  };
  std::map<std::string, Link> links_;  // guarded by channels_mu_
  std::vector<std::unique_ptr<Sender>> senders_;
  std::atomic<bool> stopping_{false};
};

}  // namespace cloudai::master
