// WorkerGateway: how the master's cluster state reaches the workers.
//
// The cluster state (cluster.h) decides; the gateway carries the decisions to the
// workers: announcing the master (MasterRegister), delivering an assignment
// (AssignTask) and cancelling a task (CancelTask). Every call returns at once; the work
// happens on the gateway's own threads, and the outcome comes back through a callback.
// The production gateway (grpc_worker_gateway.h) keeps one long-lived gRPC channel per
// worker; tests use a recording fake.
//
// Thread safety: every method may be called from any thread, including while the caller
// holds its own locks: methods only enqueue. Callbacks run on a gateway thread, never
// inside the call that enqueued them.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "store/records.h"

namespace cloudai::master {

// What a worker said to an assignment or a cancel: `delivered` false when the worker
// could not be reached (then `message` says why); otherwise `accepted` is the worker's
// answer and `message` its explanation.
struct WorkerReply {
  bool delivered = false;
  bool accepted = false;
  std::string message;
};

using ReplyCallback = std::function<void(const WorkerReply&)>;

class WorkerGateway {
 public:
  virtual ~WorkerGateway() = default;

  // Tells the worker at `address` where the master is (MasterRegister); the worker then
  // registers back. Failures are logged, nothing more.
  virtual void AnnounceMaster(const std::string& worker_id, const std::string& address) = 0;
  // Sends the task to the worker (AssignTask).
  virtual void DeliverAssignment(const std::string& worker_id, const std::string& address,
                                 const store::TaskRecord& task, ReplyCallback done) = 0;
  // Asks the worker to stop the task (CancelTask).
  virtual void DeliverCancel(const std::string& worker_id, const std::string& address,
                             const std::string& task_id, ReplyCallback done) = 0;
  // The worker left the cluster: drop its channel.
  virtual void Forget(const std::string& worker_id) = 0;
};

}  // namespace cloudai::master
