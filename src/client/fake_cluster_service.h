// FakeClusterService: an in-process ClusterService for tests of CloudAI clients.
//
// It listens on a free loopback port, checks the admin token like the master does
// (UNAUTHENTICATED when the `authorization` metadata is not "Bearer <token>"), records
// every request, and answers with canned replies the test sets beforehand. A method can be
// made to fail with any gRPC status.
//
// Allocations are kept in memory instead, close enough to the master's contract
// (docs/allocations.md) for client tests: RequestAllocation checks the request, makes an
// `alloc-<12 hex>` allocation and places its slots round-robin on the active workers of
// SetWorkers (or on "worker-1" at 127.0.0.1 when there are none), active at once unless
// SetAllocationsPending gave a reason; services get endpoints on ports from 9000.
// Release, extend, list, get (with events), capacity (from SetWorkers' workers and the
// slots) and cleanup (expires what is past its expiry at the fake's clock) follow it, with
// the master's refusals: NOT_FOUND "unknown allocation X", FAILED_PRECONDITION
// "allocation X is already released", INVALID_ARGUMENT naming the field. SubmitTask and
// AssignTask with task.allocation_id check the allocation (unknown, or ended) and record
// the canned reply's task id as one of its tasks.
//
// Thread safety: every method may be called from any thread; the gRPC handlers run on the
// server's threads and share state with the test under one mutex.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cloudai/v1/cluster.grpc.pb.h"

namespace cloudai::client::testing {

namespace v1 = ::cloudai::v1;

class FakeClusterService final : public v1::ClusterService::Service {
 public:
  struct Call {
    std::string method;         // "SubmitTask", ...
    std::string authorization;  // the metadata value as received ("" when absent)
    std::shared_ptr<google::protobuf::Message> request;
  };

  explicit FakeClusterService(std::string token) : token_(std::move(token)) {}

  // Canned replies. Set before the call that reads them.
  void SetAck(v1::Ack ack);
  void SetWorkers(v1::ListWorkersResponse workers);
  void SetWorker(v1::WorkerStatus worker);
  void SetTask(v1::TaskStatus task);  // GetTask, SubmitTask, AssignTask, CancelTask
  void SetTasks(v1::ListTasksResponse tasks);
  void SetQueue(v1::QueueStatusResponse queue);
  void SetLogChunks(std::vector<v1::LogChunk> chunks);
  // New allocations wait as pending with this reason (empty, the default: active at once);
  // with wait=false they fail with RESOURCE_EXHAUSTED and the reason.
  void SetAllocationsPending(std::string reason);
  // The fake's clock for allocation times, in Unix ms (0, the default: the system clock).
  void SetNowMs(int64_t now_ms);
  // The stored allocation (with events), or nullopt.
  std::optional<v1::Allocation> allocation(const std::string& allocation_id) const;
  // Makes `method` fail with `status` (after recording the call).
  void FailWith(const std::string& method, grpc::Status status);

  std::vector<Call> calls() const;
  // The last request of `method`, or nullptr.
  template <typename Request>
  std::shared_ptr<Request> LastRequest(const std::string& method) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->method == method) return std::static_pointer_cast<Request>(it->request);
    }
    return nullptr;
  }

  grpc::Status RegisterWorker(grpc::ServerContext* context,
                              const v1::RegisterWorkerRequest* request, v1::Ack* response) override;
  grpc::Status UnregisterWorker(grpc::ServerContext* context, const v1::WorkerIdRequest* request,
                                v1::Ack* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status GetWorker(grpc::ServerContext* context, const v1::WorkerIdRequest* request,
                         v1::WorkerStatus* response) override;
  grpc::Status SubmitTask(grpc::ServerContext* context, const v1::SubmitTaskRequest* request,
                          v1::TaskStatus* response) override;
  grpc::Status AssignTask(grpc::ServerContext* context, const v1::SubmitTaskRequest* request,
                          v1::TaskStatus* response) override;
  grpc::Status GetTask(grpc::ServerContext* context, const v1::TaskId* request,
                       v1::TaskStatus* response) override;
  grpc::Status ListTasks(grpc::ServerContext* context, const v1::ListTasksRequest* request,
                         v1::ListTasksResponse* response) override;
  grpc::Status CancelTask(grpc::ServerContext* context, const v1::TaskId* request,
                          v1::TaskStatus* response) override;
  grpc::Status StreamTaskLogs(grpc::ServerContext* context, const v1::TaskLogRequest* request,
                              grpc::ServerWriter<v1::LogChunk>* writer) override;
  grpc::Status QueueStatus(grpc::ServerContext* context, const v1::QueueStatusRequest* request,
                           v1::QueueStatusResponse* response) override;

  grpc::Status RequestAllocation(grpc::ServerContext* context,
                                 const v1::AllocationRequest* request,
                                 v1::Allocation* response) override;
  grpc::Status ReleaseAllocation(grpc::ServerContext* context, const v1::AllocationId* request,
                                 v1::Allocation* response) override;
  grpc::Status GetAllocation(grpc::ServerContext* context, const v1::AllocationId* request,
                             v1::Allocation* response) override;
  grpc::Status ListAllocations(grpc::ServerContext* context,
                               const v1::ListAllocationsRequest* request,
                               v1::ListAllocationsResponse* response) override;
  grpc::Status ExtendAllocation(grpc::ServerContext* context,
                                const v1::ExtendAllocationRequest* request,
                                v1::Allocation* response) override;
  grpc::Status GetCapacity(grpc::ServerContext* context, const v1::CapacityRequest* request,
                           v1::Capacity* response) override;
  grpc::Status CleanupExpiredAllocations(grpc::ServerContext* context,
                                         const v1::CleanupRequest* request,
                                         v1::CleanupResponse* response) override;

 private:
  // Records the call; returns the status the handler should end with first (not OK when
  // the token is wrong or the method was told to fail).
  grpc::Status Record(const std::string& method, grpc::ServerContext* context,
                      const google::protobuf::Message& request);
  // Under mu_.
  int64_t NowMsLocked() const;
  v1::Allocation* FindAllocationLocked(const std::string& allocation_id);
  void AddEventLocked(v1::Allocation& allocation, const std::string& to_state,
                      const std::string& detail);
  // Moves a live allocation to `state` (released, expired) and drops its services'
  // references.
  void EndAllocationLocked(v1::Allocation& allocation, const std::string& state,
                           const std::string& reason);
  grpc::Status CheckTaskAllocationLocked(const v1::Task& task);
  void RecordTaskLocked(const v1::Task& task, const v1::TaskStatus& reply);
  // SubmitTask's and AssignTask's answer: the canned task, in its allocation if it names one.
  grpc::Status AnswerTask(const v1::Task& task, v1::TaskStatus* response);

  const std::string token_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::map<std::string, grpc::Status> failures_;
  v1::Ack ack_;
  v1::ListWorkersResponse workers_;
  v1::WorkerStatus worker_;
  v1::TaskStatus task_;
  v1::ListTasksResponse tasks_;
  v1::QueueStatusResponse queue_;
  std::vector<v1::LogChunk> chunks_;
  // Allocations, oldest first.
  std::vector<v1::Allocation> allocations_;
  std::map<std::string, v1::ServiceEndpoint> services_;  // by name
  std::string pending_reason_;
  int64_t now_ms_ = 0;
  uint64_t next_allocation_ = 0;
  int next_service_port_ = 9000;
  size_t next_slot_worker_ = 0;
};

// The service served on 127.0.0.1:<free port>.
class FakeClusterServer {
 public:
  explicit FakeClusterServer(std::string token = "test-token");
  ~FakeClusterServer();

  const std::string& address() const { return address_; }
  const std::string& token() const { return token_; }
  FakeClusterService& service() { return service_; }

 private:
  std::string token_;
  FakeClusterService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace cloudai::client::testing
