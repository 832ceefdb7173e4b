// ClusterServiceImpl: the client-facing RPCs (the CLI, the MCP server), a thin gRPC
// adapter over ClusterApi (cluster_api.h), which the REST API shares.
//
// Every call must carry the admin token ("authorization: Bearer <token>"); without it
// the call fails with UNAUTHENTICATED before anything is read. Errors map to gRPC codes
// as docs/cluster.md lists them, with messages that name the field or the reason.
//
// Thread safety: gRPC calls the methods from its threads concurrently.
#pragma once

#include <string>

#include "cloudai/v1/cluster.grpc.pb.h"
#include "master/cluster_api.h"

namespace cloudai::master {

class ClusterServiceImpl final : public v1::ClusterService::Service {
 public:
  explicit ClusterServiceImpl(ClusterApi& api) : api_(api) {}

  grpc::Status RegisterWorker(grpc::ServerContext* context, const v1::RegisterWorkerRequest* request,
                              v1::Ack* response) override;
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
  grpc::Status Authorize(const grpc::ServerContext& context) const;

  ClusterApi& api_;
};

}  // namespace cloudai::master
