// ClusterApi: the client-facing operations of the master (the CLI's, the REST API's, the
// dashboard's), independent of the transport.
//
// Requests and answers are the messages of proto/cloudai/v1/cluster.proto; every method
// validates its input (errors name the field) and answers an absl::Status whose code
// docs/cluster.md lists. The gRPC ClusterService (cluster_service.h) and the HTTP REST
// handlers (http/rest_handlers.h) are thin adapters over it, so both behave the same.
//
// Authorize() checks the admin token ("Bearer <token>"); the adapters call it before
// anything else. StreamLogs serves a finished task's stored logs itself and proxies a
// running task's logs from its worker.
//
// Thread safety: every method may be called from any thread, concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cloudai/v1/cluster.pb.h"
#include "master/cluster.h"
#include "master/grpc_worker_gateway.h"
#include "store/store.h"

namespace cloudai::master {

class ClusterApi {
 public:
  ClusterApi(Cluster& cluster, store::Store& store, GrpcWorkerGateway& gateway,
             std::string admin_token)
      : cluster_(cluster), store_(store), gateway_(gateway), token_(std::move(admin_token)) {}

  // `authorization`: the value of the authorization header or metadata, nullopt when
  // absent. UNAUTHENTICATED when missing or wrong.
  absl::Status Authorize(std::optional<std::string_view> authorization) const;
  // The same for a bare token (e.g. a WebSocket's ?token= query parameter).
  absl::Status AuthorizeToken(std::string_view token) const;

  absl::StatusOr<v1::Ack> RegisterWorker(const v1::RegisterWorkerRequest& request);
  absl::StatusOr<v1::Ack> UnregisterWorker(const v1::WorkerIdRequest& request);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers(const v1::ListWorkersRequest& request) const;
  absl::StatusOr<v1::WorkerStatus> GetWorker(const v1::WorkerIdRequest& request) const;
  absl::StatusOr<v1::TaskStatus> SubmitTask(const v1::SubmitTaskRequest& request);
  absl::StatusOr<v1::TaskStatus> AssignTask(const v1::SubmitTaskRequest& request);
  absl::StatusOr<v1::TaskStatus> GetTask(const v1::TaskId& request) const;
  absl::StatusOr<v1::ListTasksResponse> ListTasks(const v1::ListTasksRequest& request) const;
  absl::StatusOr<v1::TaskStatus> CancelTask(const v1::TaskId& request);
  absl::StatusOr<v1::QueueStatusResponse> QueueStatus(const v1::QueueStatusRequest& request) const;
  // The task's stored state changes, oldest first. NOT_FOUND for an unknown task.
  absl::StatusOr<std::vector<store::TaskEvent>> TaskEvents(const v1::TaskId& request) const;
  ClusterCounts Counts() const { return cluster_.Counts(); }

  absl::StatusOr<v1::Allocation> RequestAllocation(const v1::AllocationRequest& request);
  absl::StatusOr<v1::Allocation> ReleaseAllocation(const v1::AllocationId& request);
  absl::StatusOr<v1::Allocation> GetAllocation(const v1::AllocationId& request) const;
  absl::StatusOr<v1::ListAllocationsResponse> ListAllocations(
      const v1::ListAllocationsRequest& request) const;
  absl::StatusOr<v1::Allocation> ExtendAllocation(const v1::ExtendAllocationRequest& request);
  absl::StatusOr<v1::Capacity> GetCapacity(const v1::CapacityRequest& request) const;
  absl::StatusOr<v1::CleanupResponse> CleanupExpiredAllocations(const v1::CleanupRequest& request);
  Cluster& cluster() { return cluster_; }

  // Streams a task's logs from request.offset: every chunk goes to `write` (false: the
  // client went away; the stream ends CANCELLED). Ends with a chunk with is_final set
  // once the task has ended; without `follow`, a chunk with only the status when the
  // task is still pending or running. `cancelled` is polled while waiting.
  absl::Status StreamLogs(const v1::TaskLogRequest& request,
                          const std::function<bool(const v1::LogChunk&)>& write,
                          const std::function<bool()>& cancelled);

 private:
  Cluster& cluster_;
  store::Store& store_;
  GrpcWorkerGateway& gateway_;
  const std::string token_;
};

}  // namespace cloudai::master
