// The live views of `cloudai shell`: the cluster status box (`status`), one worker's
// statistics (`stats <id>`), a task's log as it is written (`monitor <task_id>`), and the
// wait after `task` / `submit` until the task starts.
//
// On a terminal (LiveIo::key_fd set) a view redraws in place with ANSI cursor movement,
// refreshes every LiveIo::refresh, and ends on any key. Without one it prints a single
// snapshot as plain text and returns. Colours and box-drawing characters are used only
// when LiveIo::color is set (a terminal, NO_COLOR unset or empty).
//
// Thread safety: the views run on the calling thread and use only their arguments.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "cli/render.h"
#include "client/cluster_client.h"

namespace cloudai::cli {

struct LiveIo {
  std::ostream& out;
  std::ostream& err;
  // A terminal in raw mode reads "any key" from; -1: not live (one snapshot).
  int key_fd = -1;
  bool color = false;
  // Unix milliseconds now.
  std::function<int64_t()> now_ms = {};
  std::chrono::milliseconds refresh{2000};
  // How often monitor and the start wait poll the master.
  std::chrono::milliseconds poll{300};
};

// Totals over the cluster for the status box.
struct ClusterSummary {
  int workers = 0;
  int active = 0;
  int running_tasks = 0;
  int queued_tasks = 0;
  // Over active workers: what tasks hold, and the total.
  v1::Resources allocated;
  v1::Resources total;
};

ClusterSummary Summarize(const v1::ListWorkersResponse& workers,
                         const v1::QueueStatusResponse& queue);

// The status box: workers total / active, running and queued tasks, capacity used per
// resource with a bar. `o.color`: box-drawing characters and colours; else plain lines.
std::string RenderClusterStatus(const ClusterSummary& summary, const RenderOptions& o);

// The views. Each returns 0, or 1 after printing `error: ...` (the shell goes on).
int ShowStatus(client::ClusterClient& client, const LiveIo& io);
int ShowWorkerStats(client::ClusterClient& client, const std::string& worker_id,
                    const LiveIo& io);
// Live: the log as it is written, a progress line while the task waits for a worker or
// starts, and its final state; any key leaves it running. Not live: the log so far and
// the state.
int MonitorTask(client::ClusterClient& client, const std::string& task_id, const LiveIo& io);
// Live only: a spinner with the task's state and why it waits, until it runs or ends (or
// a key is pressed).
void WaitForStart(client::ClusterClient& client, const std::string& task_id, const LiveIo& io);

}  // namespace cloudai::cli
