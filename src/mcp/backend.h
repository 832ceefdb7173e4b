// mcp::Backend: the cluster operations the MCP server's tools call, in the messages of
// proto/cloudai/v1/cluster.proto.
//
// Two implementations: one over the master's ClusterApi (the master's /mcp endpoint,
// in-process) and one over client::ClusterClient (`cloudai mcp`, over gRPC). Errors are
// absl::Status values whose messages say what is wrong (the master's own texts); the
// MCP server turns them into isError tool results.
//
// Thread safety: implementations may be called from any thread, concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cloudai/v1/cluster.pb.h"

namespace cloudai::mcp {

namespace v1 = ::cloudai::v1;

// A slice of a task's log.
struct LogSlice {
  std::string content;      // bytes from `offset`, at most the asked-for length
  int64_t next_offset = 0;  // where the next read starts
  std::string status;       // the task's status when the slice was read
  bool final = false;       // the task has ended and `content` reaches the end of its log
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual absl::StatusOr<v1::Allocation> RequestAllocation(const v1::AllocationRequest& request) = 0;
  virtual absl::StatusOr<v1::Allocation> ReleaseAllocation(const v1::AllocationId& request) = 0;
  virtual absl::StatusOr<v1::Allocation> GetAllocation(const v1::AllocationId& request) = 0;
  virtual absl::StatusOr<v1::ListAllocationsResponse> ListAllocations(
      const v1::ListAllocationsRequest& request) = 0;
  virtual absl::StatusOr<v1::Allocation> ExtendAllocation(
      const v1::ExtendAllocationRequest& request) = 0;
  virtual absl::StatusOr<v1::Capacity> GetCapacity() = 0;
  virtual absl::StatusOr<v1::CleanupResponse> CleanupExpiredAllocations() = 0;

  // Queues the task (into task.allocation_id's slots when set).
  virtual absl::StatusOr<v1::TaskStatus> SubmitTask(const v1::Task& task) = 0;
  virtual absl::StatusOr<v1::TaskStatus> GetTask(const std::string& task_id) = 0;
  virtual absl::StatusOr<v1::TaskStatus> CancelTask(const std::string& task_id) = 0;
  // At most `max_bytes` of the task's log from `offset`, without waiting for more.
  virtual absl::StatusOr<LogSlice> GetTaskLogs(const std::string& task_id, int64_t offset,
                                               int64_t max_bytes) = 0;
  virtual absl::StatusOr<v1::ListWorkersResponse> ListWorkers() = 0;
};

}  // namespace cloudai::mcp
