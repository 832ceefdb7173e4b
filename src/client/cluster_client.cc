#include "client/cluster_client.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "common/strings.h"

namespace cloudai::client {
namespace {

// Large enough for a long task list or a big log chunk.
constexpr int kMaxReceiveBytes = 64 << 20;

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// An Ack that says no is a refusal, whatever the transport said.
absl::StatusOr<v1::Ack> CheckAck(absl::StatusOr<v1::Ack> ack) {
  if (ack.ok() && !ack->success()) {
    return absl::FailedPreconditionError(ack->message().empty() ? std::string("the master refused")
                                                                : ack->message());
  }
  return ack;
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC and absl number their codes identically (both follow google.rpc.Code).
  const int code = static_cast<int>(status.error_code());
  const auto absl_code =
      (code > 0 && code <= 16) ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(absl_code, status.error_message());
}

bool IsUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

ClusterClient::ClusterClient(ClientOptions options)
    : ClusterClient(OpenChannel(options.master_address), options) {}

ClusterClient::ClusterClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::ClusterService::NewStub(channel_)) {}

ClusterClient::~ClusterClient() = default;

void ClusterClient::Prepare(grpc::ClientContext& context, bool with_deadline) const {
  context.AddMetadata("authorization", StrCat("Bearer ", options_.token));
  if (with_deadline && options_.call_timeout.count() > 0) {
    context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
  }
}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> ClusterClient::Call(Method method, const Request& request) {
  grpc::ClientContext context;
  Prepare(context, /*with_deadline=*/true);
  Response response;
  const grpc::Status status = ((*stub_).*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::Ack> ClusterClient::RegisterWorker(const std::string& worker_id,
                                                      const std::string& worker_ip) {
  v1::RegisterWorkerRequest request;
  request.set_worker_id(worker_id);
  request.set_worker_ip(worker_ip);
  return CheckAck(
      Call<v1::RegisterWorkerRequest, v1::Ack>(&v1::ClusterService::Stub::RegisterWorker, request));
}

absl::StatusOr<v1::Ack> ClusterClient::UnregisterWorker(const std::string& worker_id) {
  v1::WorkerIdRequest request;
  request.set_worker_id(worker_id);
  return CheckAck(
      Call<v1::WorkerIdRequest, v1::Ack>(&v1::ClusterService::Stub::UnregisterWorker, request));
}

absl::StatusOr<v1::ListWorkersResponse> ClusterClient::ListWorkers() {
  return Call<v1::ListWorkersRequest, v1::ListWorkersResponse>(
      &v1::ClusterService::Stub::ListWorkers, v1::ListWorkersRequest());
}

absl::StatusOr<v1::WorkerStatus> ClusterClient::GetWorker(const std::string& worker_id) {
  v1::WorkerIdRequest request;
  request.set_worker_id(worker_id);
  return Call<v1::WorkerIdRequest, v1::WorkerStatus>(&v1::ClusterService::Stub::GetWorker, request);
}

absl::StatusOr<v1::TaskStatus> ClusterClient::SubmitTask(const v1::Task& task) {
  v1::SubmitTaskRequest request;
  *request.mutable_task() = task;
  return Call<v1::SubmitTaskRequest, v1::TaskStatus>(&v1::ClusterService::Stub::SubmitTask,
                                                     request);
}

absl::StatusOr<v1::TaskStatus> ClusterClient::AssignTask(const v1::Task& task) {
  v1::SubmitTaskRequest request;
  *request.mutable_task() = task;
  return Call<v1::SubmitTaskRequest, v1::TaskStatus>(&v1::ClusterService::Stub::AssignTask,
                                                     request);
}

absl::StatusOr<v1::TaskStatus> ClusterClient::GetTask(const std::string& task_id) {
  v1::TaskId request;
  request.set_task_id(task_id);
  return Call<v1::TaskId, v1::TaskStatus>(&v1::ClusterService::Stub::GetTask, request);
}

absl::StatusOr<v1::ListTasksResponse> ClusterClient::ListTasks(
    const v1::ListTasksRequest& request) {
  return Call<v1::ListTasksRequest, v1::ListTasksResponse>(&v1::ClusterService::Stub::ListTasks,
                                                           request);
}

absl::StatusOr<v1::TaskStatus> ClusterClient::CancelTask(const std::string& task_id) {
  v1::TaskId request;
  request.set_task_id(task_id);
  return Call<v1::TaskId, v1::TaskStatus>(&v1::ClusterService::Stub::CancelTask, request);
}

absl::StatusOr<v1::QueueStatusResponse> ClusterClient::QueueStatus() {
  return Call<v1::QueueStatusRequest, v1::QueueStatusResponse>(
      &v1::ClusterService::Stub::QueueStatus, v1::QueueStatusRequest());
}

absl::StatusOr<v1::Allocation> ClusterClient::RequestAllocation(
    const v1::AllocationRequest& request) {
  return Call<v1::AllocationRequest, v1::Allocation>(
      &v1::ClusterService::Stub::RequestAllocation, request);
}

absl::StatusOr<v1::Allocation> ClusterClient::ReleaseAllocation(
    const std::string& allocation_id) {
  v1::AllocationId request;
  request.set_allocation_id(allocation_id);
  return Call<v1::AllocationId, v1::Allocation>(&v1::ClusterService::Stub::ReleaseAllocation,
                                                request);
}

absl::StatusOr<v1::Allocation> ClusterClient::GetAllocation(const std::string& allocation_id) {
  v1::AllocationId request;
  request.set_allocation_id(allocation_id);
  return Call<v1::AllocationId, v1::Allocation>(&v1::ClusterService::Stub::GetAllocation,
                                                request);
}

absl::StatusOr<v1::ListAllocationsResponse> ClusterClient::ListAllocations(
    const v1::ListAllocationsRequest& request) {
  return Call<v1::ListAllocationsRequest, v1::ListAllocationsResponse>(
      &v1::ClusterService::Stub::ListAllocations, request);
}

absl::StatusOr<v1::Allocation> ClusterClient::ExtendAllocation(const std::string& allocation_id,
                                                               int64_t extend_seconds) {
  v1::ExtendAllocationRequest request;
  request.set_allocation_id(allocation_id);
  request.set_extend_seconds(extend_seconds);
  return Call<v1::ExtendAllocationRequest, v1::Allocation>(
      &v1::ClusterService::Stub::ExtendAllocation, request);
}

absl::StatusOr<v1::Capacity> ClusterClient::GetCapacity() {
  return Call<v1::CapacityRequest, v1::Capacity>(&v1::ClusterService::Stub::GetCapacity,
                                                 v1::CapacityRequest());
}

absl::StatusOr<v1::CleanupResponse> ClusterClient::CleanupExpiredAllocations() {
  return Call<v1::CleanupRequest, v1::CleanupResponse>(
      &v1::ClusterService::Stub::CleanupExpiredAllocations, v1::CleanupRequest());
}

absl::Status ClusterClient::StreamTaskLogs(const v1::TaskLogRequest& request,
                                           const ChunkCallback& on_chunk) {
  grpc::ClientContext context;
  Prepare(context, /*with_deadline=*/!request.follow());
  std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader =
      stub_->StreamTaskLogs(&context, request);
  v1::LogChunk chunk;
  bool stopped = false;
  while (reader->Read(&chunk)) {
    if (!on_chunk(chunk)) {
      stopped = true;
      context.TryCancel();
      // Drain what is already buffered so Finish() does not block.
      while (reader->Read(&chunk)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (stopped) return absl::OkStatus();
  return FromGrpcStatus(status);
}

}  // namespace cloudai::client
