#include "master/mcp_backend.h"

#include <algorithm>

namespace cloudai::master {

absl::StatusOr<v1::Allocation> ClusterApiBackend::RequestAllocation(
    const v1::AllocationRequest& request) {
  return api_.RequestAllocation(request);
}

absl::StatusOr<v1::Allocation> ClusterApiBackend::ReleaseAllocation(const v1::AllocationId& request) {
  return api_.ReleaseAllocation(request);
}

absl::StatusOr<v1::Allocation> ClusterApiBackend::GetAllocation(const v1::AllocationId& request) {
  return api_.GetAllocation(request);
}

absl::StatusOr<v1::ListAllocationsResponse> ClusterApiBackend::ListAllocations(
    const v1::ListAllocationsRequest& request) {
  return api_.ListAllocations(request);
}

absl::StatusOr<v1::Allocation> ClusterApiBackend::ExtendAllocation(
    const v1::ExtendAllocationRequest& request) {
  return api_.ExtendAllocation(request);
}

absl::StatusOr<v1::Capacity> ClusterApiBackend::GetCapacity() {
  return api_.GetCapacity(v1::CapacityRequest());
}

absl::StatusOr<v1::CleanupResponse> ClusterApiBackend::CleanupExpiredAllocations() {
  return api_.CleanupExpiredAllocations(v1::CleanupRequest());
}

absl::StatusOr<v1::TaskStatus> ClusterApiBackend::SubmitTask(const v1::Task& task) {
  v1::SubmitTaskRequest request;
  *request.mutable_task() = task;
  if (!task.target_worker_id().empty() && task.allocation_id().empty()) {
    return api_.AssignTask(request);
  }
  return api_.SubmitTask(request);
}

absl::StatusOr<v1::TaskStatus> ClusterApiBackend::GetTask(const std::string& task_id) {
  v1::TaskId request;
  request.set_task_id(task_id);
  return api_.GetTask(request);
}

absl::StatusOr<v1::TaskStatus> ClusterApiBackend::CancelTask(const std::string& task_id) {
  v1::TaskId request;
  request.set_task_id(task_id);
  return api_.CancelTask(request);
}

absl::StatusOr<mcp::LogSlice> ClusterApiBackend::GetTaskLogs(const std::string& task_id,
                                                             int64_t offset, int64_t max_bytes) {
  v1::TaskLogRequest request;
  request.set_task_id(task_id);
  request.set_offset(std::max<int64_t>(0, offset));
  request.set_follow(false);
  mcp::LogSlice slice;
  slice.next_offset = request.offset();
  bool reached_end = true;
  absl::Status status = api_.StreamLogs(
      request,
      [&](const v1::LogChunk& chunk) {
        if (!chunk.status().empty()) slice.status = chunk.status();
        if (chunk.is_final()) slice.final = true;
        const int64_t room = max_bytes - static_cast<int64_t>(slice.content.size());
        if (static_cast<int64_t>(chunk.content().size()) > room) {
          slice.content.append(chunk.content(), 0, static_cast<size_t>(std::max<int64_t>(0, room)));
          reached_end = false;
          return false;  // enough
        }
        slice.content.append(chunk.content());
        return true;
      },
      [] { return false; });
  if (!status.ok() && !(absl::IsCancelled(status) && !reached_end)) return status;
  slice.next_offset += static_cast<int64_t>(slice.content.size());
  if (!reached_end) slice.final = false;
  if (slice.status.empty()) {
    absl::StatusOr<v1::TaskStatus> task = GetTask(task_id);
    if (task.ok()) slice.status = task->status();
  }
  return slice;
}

absl::StatusOr<v1::ListWorkersResponse> ClusterApiBackend::ListWorkers() {
  return api_.ListWorkers(v1::ListWorkersRequest());
}

}  // namespace cloudai::master
