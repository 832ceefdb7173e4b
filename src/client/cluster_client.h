// ClusterClient: a typed client of the master's ClusterService.
//
// One gRPC channel per client. Every call carries the metadata
// `authorization: Bearer <token>` and a deadline (ClientOptions::call_timeout; a log stream
// that follows the task has none). Failures come back as absl::Status with the gRPC code
// mapped to the absl code of the same meaning and the master's message kept, e.g.
// NOT_FOUND "unknown task t-1". UNAVAILABLE and DEADLINE_EXCEEDED mean the master could
// not be reached or did not answer in time (or, for UNAVAILABLE, that its store could not
// commit); IsUnreachable() tells them apart from refusals.
//
// An Ack with success == false is reported as FAILED_PRECONDITION with the Ack's message,
// so callers only look at the status.
//
// Thread safety: every method may be called concurrently from any thread; StreamTaskLogs'
// callback runs on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "cloudai/v1/cluster.grpc.pb.h"
#include "cloudai/v1/cluster.pb.h"

namespace cloudai::client {

namespace v1 = ::cloudai::v1;

// The absl status for a gRPC status: same code, same message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// True for UNAVAILABLE and DEADLINE_EXCEEDED: the master could not be reached, did not
// answer in time, or could not commit; trying again later may succeed.
bool IsUnreachable(const absl::Status& status);

class ClusterClient {
 public:
  // Opens an insecure channel to options.master_address (connects lazily, on first call).
  explicit ClusterClient(ClientOptions options);
  // Uses an existing channel (tests, in-process servers).
  ClusterClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);
  ~ClusterClient();

  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  const ClientOptions& options() const { return options_; }

  absl::StatusOr<v1::Ack> RegisterWorker(const std::string& worker_id,
                                         const std::string& worker_ip);
  absl::StatusOr<v1::Ack> UnregisterWorker(const std::string& worker_id);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers();
  absl::StatusOr<v1::WorkerStatus> GetWorker(const std::string& worker_id);
  // Queues the task; the scheduler places it.
  absl::StatusOr<v1::TaskStatus> SubmitTask(const v1::Task& task);
  // Runs the task on task.target_worker_id now, or fails with the reason.
  absl::StatusOr<v1::TaskStatus> AssignTask(const v1::Task& task);
  absl::StatusOr<v1::TaskStatus> GetTask(const std::string& task_id);
  absl::StatusOr<v1::ListTasksResponse> ListTasks(const v1::ListTasksRequest& request);
  absl::StatusOr<v1::TaskStatus> CancelTask(const std::string& task_id);
  absl::StatusOr<v1::QueueStatusResponse> QueueStatus();

  // Allocations (docs/allocations.md): leases on worker capacity for a job.
  // Reserves request.workers slots; the reply is active, or pending with the reason.
  absl::StatusOr<v1::Allocation> RequestAllocation(const v1::AllocationRequest& request);
  // Ends it; FAILED_PRECONDITION when it has already ended.
  absl::StatusOr<v1::Allocation> ReleaseAllocation(const std::string& allocation_id);
  // One allocation, with its events.
  absl::StatusOr<v1::Allocation> GetAllocation(const std::string& allocation_id);
  absl::StatusOr<v1::ListAllocationsResponse> ListAllocations(
      const v1::ListAllocationsRequest& request);
  // Adds `extend_seconds` to its expiry.
  absl::StatusOr<v1::Allocation> ExtendAllocation(const std::string& allocation_id,
                                                  int64_t extend_seconds);
  absl::StatusOr<v1::Capacity> GetCapacity();
  // Runs the expiry pass now.
  absl::StatusOr<v1::CleanupResponse> CleanupExpiredAllocations();

  // Called for each chunk as it arrives; return false to stop reading (the stream is
  // cancelled and StreamTaskLogs returns OK).
  using ChunkCallback = std::function<bool(const v1::LogChunk&)>;

  // Streams a task's log. With request.follow the call has no deadline and ends when the
  // task does (its last chunk has is_final set). Returns the stream's final status.
  absl::Status StreamTaskLogs(const v1::TaskLogRequest& request, const ChunkCallback& on_chunk);

 private:
  // Adds the token and, when `deadline` is set, the deadline.
  void Prepare(grpc::ClientContext& context, bool with_deadline) const;

  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ClusterService::Stub> stub_;
};

}  // namespace cloudai::client
