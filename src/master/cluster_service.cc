#include "master/cluster_service.h"

#include <chrono>
#include <thread>

#include "common/strings.h"
#include "master/proto_convert.h"
#include "master/admin_token.h"
#include "master/task_input.h"

namespace cloudai::master {
namespace {

constexpr size_t kLogChunkBytes = 64 * 1024;

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status CheckTaskId(const std::string& id) {
  return ValidateName(id, kMaxTaskIdLength, "task_id");
}

absl::Status CheckWorkerId(const std::string& id) {
  return ValidateName(id, kMaxWorkerIdLength, "worker_id");
}

// Sends `logs` from `offset` in chunks; false when the client went away.
bool SendStored(const std::string& task_id, const std::string& logs, int64_t offset,
                grpc::ServerWriter<v1::LogChunk>* writer) {
  for (size_t at = static_cast<size_t>(std::min<int64_t>(offset, logs.size())); at < logs.size();
       at += kLogChunkBytes) {
    v1::LogChunk chunk;
    chunk.set_task_id(task_id);
    chunk.set_content(logs.substr(at, kLogChunkBytes));
    if (!writer->Write(chunk)) return false;
  }
  return true;
}

v1::LogChunk FinalChunk(const std::string& task_id, const TaskView& view) {
  v1::LogChunk chunk;
  chunk.set_task_id(task_id);
  chunk.set_is_final(true);
  chunk.set_status(std::string(store::TaskStateName(view.task.status)));
  chunk.set_error(view.task.error);
  return chunk;
}

}  // namespace

grpc::Status ClusterServiceImpl::Authorize(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing admin token: pass it with --token or CLOUDAI_TOKEN, or run "
                        "where the master's state directory is readable");
  }
  std::string_view value(it->second.data(), it->second.size());
  if (!BearerMatches(value, token_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong admin token");
  }
  return grpc::Status::OK;
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
  absl::Status status = cluster_.RegisterWorker(request->worker_id(), request->worker_ip());
  if (!status.ok()) return ToGrpc(status);
  response->set_success(true);
  response->set_message(StrCat("worker ", request->worker_id(), " registered at ",
                               request->worker_ip(), "; it has been notified and will join"));
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::UnregisterWorker(grpc::ServerContext* context,
                                                  const v1::WorkerIdRequest* request,
                                                  v1::Ack* response) {
  CLOUDAI_AUTHORIZE(context);
  if (absl::Status s = CheckWorkerId(request->worker_id()); !s.ok()) return ToGrpc(s);
  absl::Status status = cluster_.UnregisterWorker(request->worker_id());
  if (!status.ok()) return ToGrpc(status);
  response->set_success(true);
  response->set_message(StrCat("worker ", request->worker_id(), " unregistered"));
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::ListWorkers(grpc::ServerContext* context,
                                             const v1::ListWorkersRequest*,
                                             v1::ListWorkersResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  for (const WorkerView& view : cluster_.ListWorkers()) {
    *response->add_workers() = WorkerStatusToProto(view);
  }
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::GetWorker(grpc::ServerContext* context,
                                           const v1::WorkerIdRequest* request,
                                           v1::WorkerStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  if (absl::Status s = CheckWorkerId(request->worker_id()); !s.ok()) return ToGrpc(s);
  absl::StatusOr<WorkerView> view = cluster_.GetWorker(request->worker_id());
  if (!view.ok()) return ToGrpc(view.status());
  *response = WorkerStatusToProto(*view);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::SubmitTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  absl::StatusOr<TaskView> view = cluster_.Submit(TaskFromProto(request->task()));
  if (!view.ok()) return ToGrpc(view.status());
  *response = TaskStatusToProto(*view);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::AssignTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  absl::StatusOr<TaskView> view = cluster_.Assign(TaskFromProto(request->task()));
  if (!view.ok()) return ToGrpc(view.status());
  *response = TaskStatusToProto(*view);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::GetTask(grpc::ServerContext* context, const v1::TaskId* request,
                                         v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  if (absl::Status s = CheckTaskId(request->task_id()); !s.ok()) return ToGrpc(s);
  absl::StatusOr<TaskView> view = cluster_.GetTask(request->task_id());
  if (!view.ok()) return ToGrpc(view.status());
  *response = TaskStatusToProto(*view);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::ListTasks(grpc::ServerContext* context,
                                           const v1::ListTasksRequest* request,
                                           v1::ListTasksResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  store::TaskFilter filter;
  filter.newest_first = true;
  if (!request->status().empty()) {
    absl::StatusOr<store::TaskState> state = store::ParseTaskState(request->status());
    if (!state.ok()) {
      return ToGrpc(absl::InvalidArgumentError(
          StrCat("status: ", std::string(state.status().message()))));
    }
    filter.status = *state;
  }
  if (!request->worker_id().empty()) {
    if (absl::Status s = CheckWorkerId(request->worker_id()); !s.ok()) return ToGrpc(s);
    filter.worker_id = request->worker_id();
  }
  if (request->limit() < 0 || request->limit() > static_cast<int>(store::kMaxListLimit)) {
    return ToGrpc(absl::InvalidArgumentError(
        StrCat("limit: ", request->limit(), " is outside [0, ", store::kMaxListLimit, "]")));
  }
  filter.limit = static_cast<size_t>(request->limit());
  if (!request->after_task_id().empty()) {
    if (absl::Status s = ValidateName(request->after_task_id(), kMaxTaskIdLength, "after_task_id");
        !s.ok()) {
      return ToGrpc(s);
    }
    filter.after_task_id = request->after_task_id();
  }
  absl::StatusOr<std::vector<TaskView>> views = cluster_.ListTasks(filter);
  if (!views.ok()) return ToGrpc(views.status());
  for (const TaskView& view : *views) *response->add_tasks() = TaskStatusToProto(view);
  const size_t limit = filter.limit == 0 ? store::kDefaultListLimit : filter.limit;
  if (views->size() == limit && !views->empty()) {
    response->set_next_after_task_id(views->back().task.task_id);
  }
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::CancelTask(grpc::ServerContext* context, const v1::TaskId* request,
                                            v1::TaskStatus* response) {
  CLOUDAI_AUTHORIZE(context);
  if (absl::Status s = CheckTaskId(request->task_id()); !s.ok()) return ToGrpc(s);
  absl::StatusOr<TaskView> view = cluster_.Cancel(request->task_id());
  if (!view.ok()) return ToGrpc(view.status());
  *response = TaskStatusToProto(*view);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::QueueStatus(grpc::ServerContext* context,
                                             const v1::QueueStatusRequest*,
                                             v1::QueueStatusResponse* response) {
  CLOUDAI_AUTHORIZE(context);
  for (const QueueEntry& entry : cluster_.Queue()) {
    v1::QueuedTaskStatus* task = response->add_tasks();
    task->set_task_id(entry.task_id);
    *task->mutable_request() = ResourcesToProto(entry.request);
    task->set_priority(entry.priority);
    task->set_queued_at_ms(entry.queued_at_ms);
    task->set_retries(entry.retries);
    task->set_last_error(entry.waiting_reason);
  }
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::StreamTaskLogs(grpc::ServerContext* context,
                                                const v1::TaskLogRequest* request,
                                                grpc::ServerWriter<v1::LogChunk>* writer) {
  CLOUDAI_AUTHORIZE(context);
  const std::string& task_id = request->task_id();
  if (absl::Status s = CheckTaskId(task_id); !s.ok()) return ToGrpc(s);
  if (request->offset() < 0) {
    return ToGrpc(absl::InvalidArgumentError("offset: is negative"));
  }
  int64_t offset = request->offset();
  for (;;) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    absl::StatusOr<LogLocation> where = cluster_.LocateLogs(task_id);
    if (!where.ok()) return ToGrpc(where.status());
    if (store::IsFinal(where->status)) {
      absl::StatusOr<TaskView> view = cluster_.GetTask(task_id);
      if (!view.ok()) return ToGrpc(view.status());
      const std::string logs = where->result ? where->result->logs : "";
      if (!SendStored(task_id, logs, offset, writer)) return grpc::Status::CANCELLED;
      writer->Write(FinalChunk(task_id, *view));
      return grpc::Status::OK;
    }
    if (where->status == store::TaskState::kPending || where->worker_address.empty()) {
      if (!request->follow()) {
        v1::LogChunk chunk;
        chunk.set_task_id(task_id);
        chunk.set_status(std::string(store::TaskStateName(where->status)));
        writer->Write(chunk);
        return grpc::Status::OK;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    // Placed: read from the worker's spool.
    auto stub = gateway_.Stub(where->worker_id, where->worker_address);
    grpc::ClientContext upstream;
    upstream.set_deadline(std::chrono::system_clock::now() +
                          (request->follow() ? std::chrono::hours(24 * 365)
                                             : std::chrono::hours(0) + std::chrono::seconds(10)));
    v1::TaskLogRequest forward = *request;
    forward.set_offset(offset);
    std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader =
        stub->StreamTaskLogs(&upstream, forward);
    v1::LogChunk chunk;
    bool final_seen = false;
    while (reader->Read(&chunk)) {
      if (context->IsCancelled()) {
        upstream.TryCancel();
        reader->Finish();
        return grpc::Status::CANCELLED;
      }
      if (!chunk.is_final()) {
        offset += static_cast<int64_t>(chunk.content().size());
        if (!chunk.error().empty() && chunk.content().empty()) break;  // the worker lost it
        if (!writer->Write(chunk)) {
          upstream.TryCancel();
          reader->Finish();
          return grpc::Status::CANCELLED;
        }
        continue;
      }
      offset += static_cast<int64_t>(chunk.content().size());
      if (!chunk.content().empty()) {
        v1::LogChunk content = chunk;
        content.set_is_final(false);
        writer->Write(content);
      }
      final_seen = true;
      break;
    }
    upstream.TryCancel();
    reader->Finish();
    if (!request->follow() && !final_seen) {
      v1::LogChunk status;
      status.set_task_id(task_id);
      status.set_status(std::string(store::TaskStateName(where->status)));
      writer->Write(status);
      return grpc::Status::OK;
    }
    // The task ended (or its worker went away): once the master has recorded the end,
    // send the rest from the stored result and the final state.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!cluster_.WaitFinal(task_id, std::chrono::milliseconds(200))) {
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      if (std::chrono::steady_clock::now() > deadline && final_seen) break;
    }
  }
}

}  // namespace cloudai::master
