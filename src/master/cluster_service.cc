#include "master/cluster_service.h"

#include <optional>
#include <string_view>

namespace cloudai::master {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Runs `call` and copies its answer into `response`.
template <typename Response, typename Call>
grpc::Status Answer(Response* response, Call&& call) {
  absl::StatusOr<Response> answer = call();
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = std::move(*answer);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ClusterServiceImpl::Authorize(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  std::optional<std::string_view> value;
  if (it != metadata.end()) value = std::string_view(it->second.data(), it->second.size());
  return ToGrpc(api_.Authorize(value));
}

#define CLOUDAI_AUTHORIZE(context)                               \
  do {                                                           \
    if (grpc::Status auth = Authorize(*(context)); !auth.ok()) { \
      return auth;                                               \
    }                                                            \
  } while (0)

grpc::Status ClusterServiceImpl::RegisterWorker(grpc::ServerContext* context,
                                                const v1::RegisterWorkerRequest* request,
                                                v1::Ack* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.RegisterWorker(*request); });
}

grpc::Status ClusterServiceImpl::UnregisterWorker(grpc::ServerContext* context,
                                                  const v1::WorkerIdRequest* request,
                                                  v1::Ack* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.UnregisterWorker(*request); });
}

grpc::Status ClusterServiceImpl::ListWorkers(grpc::ServerContext* context,
                                             const v1::ListWorkersRequest* request,
                                             v1::ListWorkersResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.ListWorkers(*request); });
}

grpc::Status ClusterServiceImpl::GetWorker(grpc::ServerContext* context,
                                           const v1::WorkerIdRequest* request,
                                           v1::WorkerStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.GetWorker(*request); });
}

grpc::Status ClusterServiceImpl::SubmitTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.SubmitTask(*request); });
}

grpc::Status ClusterServiceImpl::AssignTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.AssignTask(*request); });
}

grpc::Status ClusterServiceImpl::GetTask(grpc::ServerContext* context, const v1::TaskId* request,
                                         v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.GetTask(*request); });
}

grpc::Status ClusterServiceImpl::ListTasks(grpc::ServerContext* context,
                                           const v1::ListTasksRequest* request,
                                           v1::ListTasksResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.ListTasks(*request); });
}

grpc::Status ClusterServiceImpl::CancelTask(grpc::ServerContext* context, const v1::TaskId* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.CancelTask(*request); });
}

grpc::Status ClusterServiceImpl::QueueStatus(grpc::ServerContext* context,
                                             const v1::QueueStatusRequest* request,
                                             v1::QueueStatusResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.QueueStatus(*request); });
}

grpc::Status ClusterServiceImpl::StreamTaskLogs(grpc::ServerContext* context,
                                                const v1::TaskLogRequest* request,
                                                grpc::ServerWriter<v1::LogChunk>* writer) {
  CLOUDAI_AUTHORIZE(context);
  return ToGrpc(api_.StreamLogs(
      *request, [writer](const v1::LogChunk& chunk) { return writer->Write(chunk); },
      [context] { return context->IsCancelled(); }));
}

grpc::Status ClusterServiceImpl::RequestAllocation(grpc::ServerContext* context,
                                        const v1::AllocationRequest* request, v1::Allocation* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.RequestAllocation(*request); });
}

grpc::Status ClusterServiceImpl::ReleaseAllocation(grpc::ServerContext* context,
                                        const v1::AllocationId* request, v1::Allocation* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.ReleaseAllocation(*request); });
}

grpc::Status ClusterServiceImpl::GetAllocation(grpc::ServerContext* context,
                                        const v1::AllocationId* request, v1::Allocation* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.GetAllocation(*request); });
}

grpc::Status ClusterServiceImpl::ListAllocations(grpc::ServerContext* context,
                                        const v1::ListAllocationsRequest* request, v1::ListAllocationsResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.ListAllocations(*request); });
}

grpc::Status ClusterServiceImpl::ExtendAllocation(grpc::ServerContext* context,
                                        const v1::ExtendAllocationRequest* request, v1::Allocation* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.ExtendAllocation(*request); });
}

grpc::Status ClusterServiceImpl::GetCapacity(grpc::ServerContext* context,
                                        const v1::CapacityRequest* request, v1::Capacity* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.GetCapacity(*request); });
}

grpc::Status ClusterServiceImpl::CleanupExpiredAllocations(grpc::ServerContext* context,
                                        const v1::CleanupRequest* request, v1::CleanupResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  return Answer(response, [&] { return api_.CleanupExpiredAllocations(*request); });
}

}  // namespace cloudai::master
