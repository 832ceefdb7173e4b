// `cloudai mcp`: the MCP server of a CloudAI cluster over stdio, its tools calling the
// master through ClusterClient.
//
// ClientBackend implements mcp::Backend with one ClusterClient call per method; errors
// are the client's statuses (the master's code and message). GetTaskLogs reads the log
// without following it (TaskLogRequest follow=false from `offset`) and returns at most
// `max_bytes` (65,536 when it is not positive); `final` is set when the task has ended and
// the slice reaches the end of its log.
//
// Thread safety: ClientBackend's methods may be called concurrently (ClusterClient is
// thread-safe); it keeps no state of its own.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "client/cluster_client.h"
#include "mcp/backend.h"

namespace cloudai::cli {

inline constexpr int64_t kDefaultMcpLogBytes = 64 << 10;

class ClientBackend final : public mcp::Backend {
 public:
  explicit ClientBackend(client::ClusterClient& client) : client_(client) {}

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
  client::ClusterClient& client_;
};


// Serves MCP on `in` / `out` until `in` ends; `out` gets protocol messages only, `log`
// everything else. Returns the exit code: 0 at the end of input, 1 when `out` failed or
// this build has no MCP server.
int RunMcpServer(client::ClusterClient& client, std::istream& in, std::ostream& out,
                 std::ostream& log);

}  // namespace cloudai::cli
