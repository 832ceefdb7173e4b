// The MCP tools' backend inside the master (/mcp): every call goes straight to the
// ClusterApi, as the REST handlers do.
//
// Thread safety: as ClusterApi; may be called from any thread.
#pragma once

#include "master/cluster_api.h"
#include "mcp/backend.h"

namespace cloudai::master {

class ClusterApiBackend final : public mcp::Backend {
 public:
  explicit ClusterApiBackend(ClusterApi& api) : api_(api) {}

  absl::StatusOr<v1::Allocation> RequestAllocation(const v1::AllocationRequest& request) override;
  absl::StatusOr<v1::Allocation> ReleaseAllocation(const v1::AllocationId& request) override;
  absl::StatusOr<v1::Allocation> GetAllocation(const v1::AllocationId& request) override;
  absl::StatusOr<v1::ListAllocationsResponse> ListAllocations(
      const v1::ListAllocationsRequest& request) override;
  absl::StatusOr<v1::Allocation> ExtendAllocation(
      const v1::ExtendAllocationRequest& request) override;
  absl::StatusOr<v1::Capacity> GetCapacity() override;
  absl::StatusOr<v1::CleanupResponse> CleanupExpiredAllocations() override;
  absl::StatusOr<v1::TaskStatus> SubmitTask(const v1::Task& task) override;
  absl::StatusOr<v1::TaskStatus> GetTask(const std::string& task_id) override;
  absl::StatusOr<v1::TaskStatus> CancelTask(const std::string& task_id) override;
  absl::StatusOr<mcp::LogSlice> GetTaskLogs(const std::string& task_id, int64_t offset,
                                            int64_t max_bytes) override;
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers() override;

 private:
  ClusterApi& api_;
};

}  // namespace cloudai::master
