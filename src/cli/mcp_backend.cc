#include "cli/mcp_backend.h"

#include <algorithm>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "common/strings.h"

#include "mcp/stdio.h"

namespace cloudai::cli {

absl::StatusOr<v1::Allocation> ClientBackend::RequestAllocation(
    const v1::AllocationRequest& request) {
  return client_.RequestAllocation(request);
}

absl::StatusOr<v1::Allocation> ClientBackend::ReleaseAllocation(const v1::AllocationId& request) {
  return client_.ReleaseAllocation(request.allocation_id());
}

absl::StatusOr<v1::Allocation> ClientBackend::GetAllocation(const v1::AllocationId& request) {
  return client_.GetAllocation(request.allocation_id());
}

absl::StatusOr<v1::ListAllocationsResponse> ClientBackend::ListAllocations(
    const v1::ListAllocationsRequest& request) {
  return client_.ListAllocations(request);
}

absl::StatusOr<v1::Allocation> ClientBackend::ExtendAllocation(
    const v1::ExtendAllocationRequest& request) {
  return client_.ExtendAllocation(request.allocation_id(), request.extend_seconds());
}

absl::StatusOr<v1::Capacity> ClientBackend::GetCapacity() { return client_.GetCapacity(); }

absl::StatusOr<v1::CleanupResponse> ClientBackend::CleanupExpiredAllocations() {
  return client_.CleanupExpiredAllocations();
}

absl::StatusOr<v1::TaskStatus> ClientBackend::SubmitTask(const v1::Task& task) {
  return client_.SubmitTask(task);
}

absl::StatusOr<v1::TaskStatus> ClientBackend::GetTask(const std::string& task_id) {
  return client_.GetTask(task_id);
}

absl::StatusOr<v1::TaskStatus> ClientBackend::CancelTask(const std::string& task_id) {
  return client_.CancelTask(task_id);
}

absl::StatusOr<mcp::LogSlice> ClientBackend::GetTaskLogs(const std::string& task_id,
                                                         int64_t offset, int64_t max_bytes) {
  if (max_bytes <= 0) max_bytes = kDefaultMcpLogBytes;
  v1::TaskLogRequest request;
  request.set_task_id(task_id);
  request.set_follow(false);
  request.set_offset(offset);
  mcp::LogSlice slice;
  bool ended = false;        // a chunk said the task has ended
  bool reached_end = true;   // nothing was left out for lack of room
  const absl::Status status = client_.StreamTaskLogs(request, [&](const v1::LogChunk& chunk) {
    if (!chunk.status().empty()) slice.status = chunk.status();
    if (chunk.is_final()) ended = true;
    const int64_t room = max_bytes - static_cast<int64_t>(slice.content.size());
    if (static_cast<int64_t>(chunk.content().size()) > room) {
      slice.content.append(chunk.content(), 0, static_cast<size_t>(std::max<int64_t>(0, room)));
      reached_end = false;
      return false;  // enough; the rest is for the next read
    }
    slice.content.append(chunk.content());
    return true;
  });
  if (!status.ok()) return status;
  slice.next_offset = offset + static_cast<int64_t>(slice.content.size());
  slice.final = ended && reached_end;
  if (slice.status.empty()) {
    absl::StatusOr<v1::TaskStatus> task = client_.GetTask(task_id);
    if (!task.ok()) return task.status();
    slice.status = task->status();
  }
  return slice;
}

absl::StatusOr<v1::ListWorkersResponse> ClientBackend::ListWorkers() {
  return client_.ListWorkers();
}

int RunMcpServer(client::ClusterClient& client, std::istream& in, std::ostream& out,
                 std::ostream& log) {
  ClientBackend backend(client);
  log << "cloudai mcp: master " << client.options().master_address << " (token from "
      << client.options().token_source << ")\n";
  log.flush();
  return mcp::RunStdio(backend, in, out, log);
}

VerbResult RunMcp(Invocation& inv) {
  if (inv.in_shell) {
    return VerbResult{kExitUsage, "mcp runs as its own process: cloudai mcp, not in the shell"};
  }
  if (inv.json) return VerbResult{kExitUsage, "mcp speaks JSON-RPC; -o does not apply"};
  if (inv.in == nullptr) {
    inv.err << "error: mcp needs a standard input\n";
    return VerbResult{kExitUsage, ""};
  }
  return VerbResult{RunMcpServer(inv.client, *inv.in, inv.out, inv.err), ""};
}

}  // namespace cloudai::cli
