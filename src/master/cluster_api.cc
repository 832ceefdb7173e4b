#include "master/cluster_api.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/strings.h"
#include "master/admin_token.h"
#include "master/proto_convert.h"
#include "master/task_input.h"

namespace cloudai::master {
namespace {

constexpr size_t kLogChunkBytes = 64 * 1024;

absl::Status CheckTaskId(const std::string& id) {
  return ValidateName(id, kMaxTaskIdLength, "task_id");
}

absl::Status CheckAllocationId(const std::string& id) {
  return ValidateAllocationId(id, "allocation_id");
}

absl::Status CheckWorkerId(const std::string& id) {
  return ValidateName(id, kMaxWorkerIdLength, "worker_id");
}

// Sends `logs` from `offset` in chunks; false when the client went away.
bool SendStored(const std::string& task_id, const std::string& logs, int64_t offset,
                const std::function<bool(const v1::LogChunk&)>& write) {
  for (size_t at = static_cast<size_t>(std::min<int64_t>(offset, logs.size())); at < logs.size();
       at += kLogChunkBytes) {
    v1::LogChunk chunk;
    chunk.set_task_id(task_id);
    chunk.set_content(logs.substr(at, kLogChunkBytes));
    if (!write(chunk)) return false;
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

v1::LogChunk StatusChunk(const std::string& task_id, store::TaskState state) {
  v1::LogChunk chunk;
  chunk.set_task_id(task_id);
  chunk.set_status(std::string(store::TaskStateName(state)));
  return chunk;
}

}  // namespace

absl::Status ClusterApi::Authorize(std::optional<std::string_view> authorization) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing admin token: pass it with --token or CLOUDAI_TOKEN, or run where the "
        "master's state directory is readable");
  }
  if (!BearerMatches(*authorization, token_)) return absl::UnauthenticatedError("wrong admin token");
  return absl::OkStatus();
}

absl::Status ClusterApi::AuthorizeToken(std::string_view token) const {
  if (token.empty()) return Authorize(std::nullopt);
  return Authorize(StrCat("Bearer ", token));
}

absl::StatusOr<v1::Ack> ClusterApi::RegisterWorker(const v1::RegisterWorkerRequest& request) {
  absl::Status status = cluster_.RegisterWorker(request.worker_id(), request.worker_ip());
  if (!status.ok()) return status;
  v1::Ack ack;
  ack.set_success(true);
  ack.set_message(StrCat("worker ", request.worker_id(), " registered at ", request.worker_ip(),
                         "; it has been notified and will join"));
  return ack;
}

absl::StatusOr<v1::Ack> ClusterApi::UnregisterWorker(const v1::WorkerIdRequest& request) {
  if (absl::Status s = CheckWorkerId(request.worker_id()); !s.ok()) return s;
  absl::Status status = cluster_.UnregisterWorker(request.worker_id());
  if (!status.ok()) return status;
  v1::Ack ack;
  ack.set_success(true);
  ack.set_message(StrCat("worker ", request.worker_id(), " unregistered"));
  return ack;
}

absl::StatusOr<v1::ListWorkersResponse> ClusterApi::ListWorkers(
    const v1::ListWorkersRequest&) const {
  v1::ListWorkersResponse response;
  for (const WorkerView& view : cluster_.ListWorkers()) {
    *response.add_workers() = WorkerStatusToProto(view);
  }
  return response;
}

absl::StatusOr<v1::WorkerStatus> ClusterApi::GetWorker(const v1::WorkerIdRequest& request) const {
  if (absl::Status s = CheckWorkerId(request.worker_id()); !s.ok()) return s;
  absl::StatusOr<WorkerView> view = cluster_.GetWorker(request.worker_id());
  if (!view.ok()) return view.status();
  return WorkerStatusToProto(*view);
}

absl::StatusOr<v1::TaskStatus> ClusterApi::SubmitTask(const v1::SubmitTaskRequest& request) {
  absl::StatusOr<TaskView> view = cluster_.Submit(TaskFromProto(request.task()));
  if (!view.ok()) return view.status();
  return TaskStatusToProto(*view);
}

absl::StatusOr<v1::TaskStatus> ClusterApi::AssignTask(const v1::SubmitTaskRequest& request) {
  absl::StatusOr<TaskView> view = cluster_.Assign(TaskFromProto(request.task()));
  if (!view.ok()) return view.status();
  return TaskStatusToProto(*view);
}

absl::StatusOr<v1::TaskStatus> ClusterApi::GetTask(const v1::TaskId& request) const {
  if (absl::Status s = CheckTaskId(request.task_id()); !s.ok()) return s;
  absl::StatusOr<TaskView> view = cluster_.GetTask(request.task_id());
  if (!view.ok()) return view.status();
  return TaskStatusToProto(*view);
}

absl::StatusOr<v1::ListTasksResponse> ClusterApi::ListTasks(
    const v1::ListTasksRequest& request) const {
  store::TaskFilter filter;
  filter.newest_first = true;
  if (!request.status().empty()) {
    absl::StatusOr<store::TaskState> state = store::ParseTaskState(request.status());
    if (!state.ok()) {
      return absl::InvalidArgumentError(StrCat("status: ", std::string(state.status().message())));
    }
    filter.status = *state;
  }
  if (!request.worker_id().empty()) {
    if (absl::Status s = CheckWorkerId(request.worker_id()); !s.ok()) return s;
    filter.worker_id = request.worker_id();
  }
  if (request.limit() < 0 || request.limit() > static_cast<int>(store::kMaxListLimit)) {
    return absl::InvalidArgumentError(
        StrCat("limit: ", request.limit(), " is outside [0, ", store::kMaxListLimit, "]"));
  }
  filter.limit = static_cast<size_t>(request.limit());
  if (!request.after_task_id().empty()) {
    if (absl::Status s = ValidateName(request.after_task_id(), kMaxTaskIdLength, "after_task_id");
        !s.ok()) {
      return s;
    }
    filter.after_task_id = request.after_task_id();
  }
  absl::StatusOr<std::vector<TaskView>> views = cluster_.ListTasks(filter);
  if (!views.ok()) return views.status();
  v1::ListTasksResponse response;
  for (const TaskView& view : *views) *response.add_tasks() = TaskStatusToProto(view);
  const size_t limit = filter.limit == 0 ? store::kDefaultListLimit : filter.limit;
  if (views->size() == limit && !views->empty()) {
    response.set_next_after_task_id(views->back().task.task_id);
  }
  return response;
}

absl::StatusOr<v1::TaskStatus> ClusterApi::CancelTask(const v1::TaskId& request) {
  if (absl::Status s = CheckTaskId(request.task_id()); !s.ok()) return s;
  absl::StatusOr<TaskView> view = cluster_.Cancel(request.task_id());
  if (!view.ok()) return view.status();
  return TaskStatusToProto(*view);
}

absl::StatusOr<v1::QueueStatusResponse> ClusterApi::QueueStatus(
    const v1::QueueStatusRequest&) const {
  v1::QueueStatusResponse response;
  for (const QueueEntry& entry : cluster_.Queue()) {
    v1::QueuedTaskStatus* task = response.add_tasks();
    task->set_task_id(entry.task_id);
    *task->mutable_request() = ResourcesToProto(entry.request);
    task->set_priority(entry.priority);
    task->set_queued_at_ms(entry.queued_at_ms);
    task->set_retries(entry.retries);
    task->set_last_error(entry.waiting_reason);
  }
  return response;
}

absl::StatusOr<std::vector<store::TaskEvent>> ClusterApi::TaskEvents(
    const v1::TaskId& request) const {
  if (absl::Status s = CheckTaskId(request.task_id()); !s.ok()) return s;
  // GetTask first: NOT_FOUND for an unknown task, as every other call answers.
  absl::StatusOr<TaskView> view = cluster_.GetTask(request.task_id());
  if (!view.ok()) return view.status();
  return store_.ListTaskEvents(request.task_id());
}

absl::Status ClusterApi::StreamLogs(const v1::TaskLogRequest& request,
                                    const std::function<bool(const v1::LogChunk&)>& write,
                                    const std::function<bool()>& cancelled) {
  const std::string& task_id = request.task_id();
  if (absl::Status s = CheckTaskId(task_id); !s.ok()) return s;
  if (request.offset() < 0) return absl::InvalidArgumentError("offset: is negative");
  int64_t offset = request.offset();
  for (;;) {
    if (cancelled()) return absl::CancelledError("the client went away");
    absl::StatusOr<LogLocation> where = cluster_.LocateLogs(task_id);
    if (!where.ok()) return where.status();
    if (store::IsFinal(where->status)) {
      absl::StatusOr<TaskView> view = cluster_.GetTask(task_id);
      if (!view.ok()) return view.status();
      const std::string logs = where->result ? where->result->logs : "";
      if (!SendStored(task_id, logs, offset, write)) {
        return absl::CancelledError("the client went away");
      }
      write(FinalChunk(task_id, *view));
      return absl::OkStatus();
    }
    if (where->status == store::TaskState::kPending || where->worker_address.empty()) {
      if (!request.follow()) {
        write(StatusChunk(task_id, where->status));
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    // Placed: read from the worker's spool.
    auto stub = gateway_.Stub(where->worker_id, where->worker_address);
    grpc::ClientContext upstream;
    upstream.set_deadline(std::chrono::system_clock::now() +
                          (request.follow() ? std::chrono::hours(24 * 365)
                                            : std::chrono::hours(0) + std::chrono::seconds(10)));
    v1::TaskLogRequest forward = request;
    forward.set_offset(offset);
    std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader =
        stub->StreamTaskLogs(&upstream, forward);
    v1::LogChunk chunk;
    bool final_seen = false;
    while (reader->Read(&chunk)) {
      if (cancelled()) {
        upstream.TryCancel();
        reader->Finish();
        return absl::CancelledError("the client went away");
      }
      if (!chunk.is_final()) {
        offset += static_cast<int64_t>(chunk.content().size());
        if (!chunk.error().empty() && chunk.content().empty()) break;  // the worker lost it
        if (!write(chunk)) {
          upstream.TryCancel();
          reader->Finish();
          return absl::CancelledError("the client went away");
        }
        continue;
      }
      offset += static_cast<int64_t>(chunk.content().size());
      if (!chunk.content().empty()) {
        v1::LogChunk content = chunk;
        content.set_is_final(false);
        write(content);
      }
      final_seen = true;
      break;
    }
    upstream.TryCancel();
    reader->Finish();
    if (!request.follow() && !final_seen) {
      write(StatusChunk(task_id, where->status));
      return absl::OkStatus();
    }
    // The task ended (or its worker went away): once the master has recorded the end,
    // send the rest from the stored result and the final state.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!cluster_.WaitFinal(task_id, std::chrono::milliseconds(200))) {
      if (cancelled()) return absl::CancelledError("the client went away");
      if (std::chrono::steady_clock::now() > deadline && final_seen) break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Allocations
// ---------------------------------------------------------------------------------------

absl::StatusOr<v1::Allocation> ClusterApi::RequestAllocation(const v1::AllocationRequest& request) {
  absl::StatusOr<AllocationView> view = cluster_.RequestAllocation(AllocationAskFromProto(request));
  if (!view.ok()) return view.status();
  return AllocationToProto(*view);
}

absl::StatusOr<v1::Allocation> ClusterApi::ReleaseAllocation(const v1::AllocationId& request) {
  if (absl::Status s = CheckAllocationId(request.allocation_id()); !s.ok()) return s;
  absl::StatusOr<AllocationView> view = cluster_.ReleaseAllocation(request.allocation_id());
  if (!view.ok()) return view.status();
  return AllocationToProto(*view);
}

absl::StatusOr<v1::Allocation> ClusterApi::GetAllocation(const v1::AllocationId& request) const {
  if (absl::Status s = CheckAllocationId(request.allocation_id()); !s.ok()) return s;
  absl::StatusOr<AllocationView> view = cluster_.GetAllocation(request.allocation_id());
  if (!view.ok()) return view.status();
  return AllocationToProto(*view);
}

absl::StatusOr<v1::ListAllocationsResponse> ClusterApi::ListAllocations(
    const v1::ListAllocationsRequest& request) const {
  store::AllocationFilter filter;
  if (!request.state().empty()) {
    absl::StatusOr<store::AllocationState> state = store::ParseAllocationState(request.state());
    if (!state.ok()) {
      return absl::InvalidArgumentError(StrCat("state: ", std::string(state.status().message())));
    }
    filter.state = *state;
  }
  if (!request.job_id().empty()) {
    if (absl::Status s = ValidateName(request.job_id(), kMaxTaskIdLength, "job_id"); !s.ok()) {
      return s;
    }
    filter.job_id = request.job_id();
  }
  if (request.limit() < 0 || static_cast<size_t>(request.limit()) > store::kMaxListLimit) {
    return absl::InvalidArgumentError(
        StrCat("limit: ", request.limit(), " is outside 0..", store::kMaxListLimit));
  }
  filter.limit = static_cast<size_t>(request.limit());
  absl::StatusOr<std::vector<AllocationView>> views = cluster_.ListAllocations(filter);
  if (!views.ok()) return views.status();
  v1::ListAllocationsResponse response;
  for (const AllocationView& view : *views) *response.add_allocations() = AllocationToProto(view);
  return response;
}

absl::StatusOr<v1::Allocation> ClusterApi::ExtendAllocation(
    const v1::ExtendAllocationRequest& request) {
  if (absl::Status s = CheckAllocationId(request.allocation_id()); !s.ok()) return s;
  absl::StatusOr<AllocationView> view =
      cluster_.ExtendAllocation(request.allocation_id(), request.extend_seconds());
  if (!view.ok()) return view.status();
  return AllocationToProto(*view);
}

absl::StatusOr<v1::Capacity> ClusterApi::GetCapacity(const v1::CapacityRequest&) const {
  return CapacityToProto(cluster_.Capacity());
}

absl::StatusOr<v1::CleanupResponse> ClusterApi::CleanupExpiredAllocations(
    const v1::CleanupRequest&) {
  if (absl::Status s = cluster_.CheckWritableForApi(); !s.ok()) return s;
  SweepReport report = cluster_.SweepAllocations();
  v1::CleanupResponse response;
  for (const std::string& id : report.expired_allocation_ids) response.add_expired_allocation_ids(id);
  for (const std::string& name : report.stopped_services) response.add_stopped_services(name);
  response.set_active_allocations(static_cast<int32_t>(report.active_allocations));
  return response;
}

}  // namespace cloudai::master
