// Rendering ClusterService replies for people (aligned text tables) and for programs
// (protobuf JSON with the proto field names).
//
// Resource figures use the seed's operator-facing formats from common/quantity.h: CPU and
// GPU as two-decimal numbers ("2.00"), memory and storage in GB ("4.00 GB"). Times are UTC
// ("2024-05-01 12:00:00 UTC"); "now" is passed in so output is reproducible. Colour (ANSI
// green / red / yellow for states) is added only when RenderOptions::color is set; the
// caller decides that from the terminal and NO_COLOR.
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cloudai/v1/cluster.pb.h"
#include "google/protobuf/message.h"

namespace cloudai::cli {

namespace v1 = ::cloudai::v1;

struct RenderOptions {
  bool color = false;
  int64_t now_ms = 0;  // for "4s ago"
};

// A text table: a header row and rows of cells, columns padded to the widest cell and
// separated by two spaces. A cell may carry an ANSI colour, which does not count towards
// its width.
class Table {
 public:
  struct Cell {
    std::string text;
    const char* color = nullptr;  // an ANSI SGR sequence, or nullptr
  };

  explicit Table(std::vector<std::string> header, std::string indent = "");
  void AddRow(std::vector<Cell> row);
  size_t rows() const { return rows_.size(); }
  // Lines end with '\n'; trailing spaces are trimmed.
  std::string Render(bool color) const;

 private:
  std::string indent_;
  std::vector<std::vector<Cell>> rows_;  // rows_[0] is the header
};

// The protobuf JSON of `message`: proto field names, fields at their defaults included.
// `pretty`: indented over several lines; otherwise one line. Ends with '\n'.
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

// `workers` / `list`: one block per worker: id, state, address, running tasks, then
// Total / Allocated / Available for CPU, Memory, Storage, GPU (and extras).
std::string RenderWorkers(const v1::ListWorkersResponse& workers, const RenderOptions& o);
// `stats <id>`: one worker in detail, with allocation and usage percentages.
std::string RenderWorkerStats(const v1::WorkerStatus& worker, const RenderOptions& o);
// `get`, and the details after `task` / `submit` / `cancel`.
std::string RenderTask(const v1::TaskStatus& task, const RenderOptions& o);
// `tasks`: one row per task.
std::string RenderTaskList(const v1::ListTasksResponse& tasks, const RenderOptions& o);
// `queue`: one row per queued task, with why it waits.
std::string RenderQueue(const v1::QueueStatusResponse& queue, const RenderOptions& o);

// Allocations (docs/allocations.md).
// `alloc get` / `request` / `extend`: one allocation: job, state (why it waits or ended),
// size, times, then its slots (worker, host, resources, used), service endpoints, and
// its events when the reply has them.
std::string RenderAllocation(const v1::Allocation& allocation, const RenderOptions& o);
// `alloc list`: one row per allocation.
std::string RenderAllocationList(const v1::ListAllocationsResponse& list, const RenderOptions& o);
// `alloc capacity`: workers, allocations, Total / Allocated / Reserved / Available per
// resource, and the running services.
std::string RenderCapacity(const v1::Capacity& capacity, const RenderOptions& o);
// `alloc cleanup`: what the pass expired and stopped.
std::string RenderCleanup(const v1::CleanupResponse& cleanup);
// An allocation state, coloured when `color` is set (active green, pending yellow,
// failed and expired red).
std::string FormatAllocationState(const std::string& state, bool color);
// "2024-05-01 13:00:00 UTC (in 59m)" for a live allocation's expiry; the time alone when
// it has ended or `now_ms` is 0.
std::string FormatExpiry(const v1::Allocation& allocation, int64_t now_ms);

// 0 -> "-", else "2024-05-01 12:00:00 UTC".
std::string FormatTime(int64_t unix_ms);
// 1500 -> "1.5s", 65000 -> "1m5s", 7'500'000 -> "2h5m", 250 -> "250ms".
std::string FormatDuration(int64_t ms);
// "4s ago (2024-05-01 12:00:00 UTC)", or "never" for 0.
std::string FormatAgo(int64_t unix_ms, int64_t now_ms);
// "CPU 1.00, Memory 0.50 GB, Storage 1.00 GB, GPU 0.00"
std::string FormatRequest(int64_t cpu, int64_t memory, int64_t storage, int64_t gpu);

}  // namespace cloudai::cli
