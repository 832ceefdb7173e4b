// Driver: how a CloudAI worker runs a task. The worker agent owns one driver ("docker" or
// "exec") and hands it tasks; the driver starts them, writes their output to the task's
// LogSpool, and reports each task's end exactly once through the exit callback.
//
// Thread safety: every method may be called from any thread; the exit callback runs on a
// driver thread and must not block for long.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/resources.h"
#include "worker/driver/log_spool.h"

namespace cloudai::worker {

struct TaskSpec {
  std::string task_id;
  std::string image;    // docker: the image; exec: ignored
  std::string command;  // run as /bin/sh -c <command>
  std::map<std::string, std::string> env;
  Resources request;    // limits: CPU (millicores), memory (MiB), GPUs
  int64_t timeout_ms = 0;  // 0: no limit
};

struct TaskExit {
  // "completed" (exit code 0), "failed" (non-zero exit, or could not run) or "cancelled".
  std::string status;
  int exit_code = -1;
  // Why it failed when the command's own exit status does not say (start failure,
  // timeout, killed by a signal, ...); empty otherwise.
  std::string error;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

using ExitCallback = std::function<void(const std::string& task_id, const TaskExit& exit)>;

// A task found running when the worker started (left behind by a previous worker
// process), now followed again by the driver.
struct RecoveredTask {
  std::string task_id;
  int64_t started_at_ms = 0;
};

// Opens the log of a recovered task for appending (its earlier output kept); null when it
// cannot be opened, in which case the driver leaves that task alone.
using SpoolOpener = std::function<std::shared_ptr<LogSpool>(const std::string& task_id)>;

class Driver {
 public:
  virtual ~Driver() = default;

  virtual std::string_view Name() const = 0;
  // Starts `spec`; output goes to `spool`, which the driver closes when the task ends.
  // An error means nothing runs and `on_exit` will not be called.
  virtual absl::Status Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                             ExitCallback on_exit) = 0;
  // Stops a running task (its exit is reported as "cancelled"). NotFound when unknown.
  virtual absl::Status Cancel(const std::string& task_id) = 0;
  // Ids of the tasks running now.
  virtual std::vector<std::string> Running() const = 0;
  // Called once at start, before any Start: takes over the tasks a previous worker process
  // left running (their output resumes into the spool `open_spool` gives, their end is
  // reported through `on_exit` as for any task) and reports the ones that ended meanwhile
  // through `on_exit` too. Returns the tasks still running; an error when the driver could
  // not look for them. Drivers whose tasks cannot outlive the worker recover nothing.
  virtual absl::StatusOr<std::vector<RecoveredTask>> Recover(SpoolOpener open_spool,
                                                             ExitCallback on_exit) {
    return std::vector<RecoveredTask>{};
  }
};

}  // namespace cloudai::worker
