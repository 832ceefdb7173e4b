// TaskTable: the tasks a CloudAI worker knows: those running now and, for a while, those
// that finished (so their logs stay readable and a resent assignment is recognised).
//
// A task is admitted once. While it runs, and after it ends until the master has
// acknowledged its result, admitting the same id again is a duplicate (a master that
// restarted may resend its assignments); once the result is acknowledged, the id may be
// admitted again as a new attempt (the master retrying it). Finished tasks whose result
// was acknowledged are pruned after a time-to-live or beyond a count, oldest first, and
// their spool files deleted.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/driver/driver.h"
#include "worker/driver/log_spool.h"

namespace cloudai::worker {

struct TaskView {
  std::string task_id;
  std::shared_ptr<LogSpool> spool;
  int64_t started_at_ms = 0;
  bool finished = false;
  TaskExit exit;  // when finished
  bool reported = false;
};

class TaskTable {
 public:
  TaskTable(std::chrono::milliseconds finished_ttl, size_t max_finished);

  enum class Admission { kAdmitted, kAlreadyRunning, kAlreadyFinished };
  struct Admitted {
    Admission admission = Admission::kAdmitted;
    std::shared_ptr<LogSpool> spool;  // kAdmitted: the new task's spool
    std::string final_status;         // kAlreadyFinished: how it ended
  };
  // Admits `task_id` as running with the spool `make_spool` creates (called under the
  // table's lock, only when admitted). An error from `make_spool` admits nothing.
  absl::StatusOr<Admitted> Admit(
      const std::string& task_id, int64_t started_at_ms,
      const std::function<absl::StatusOr<std::shared_ptr<LogSpool>>()>& make_spool);
  // Records a task taken over from a previous worker process as running.
  void Adopt(const std::string& task_id, std::shared_ptr<LogSpool> spool, int64_t started_at_ms);
  // Updates the start time of a running task.
  void SetStartedAt(const std::string& task_id, int64_t started_at_ms);
  // Forgets a task whose start failed (only if `spool` is still its spool).
  void Remove(const std::string& task_id, const std::shared_ptr<LogSpool>& spool);
  // Records the end of a task. False when the id is unknown.
  bool Finish(const std::string& task_id, const TaskExit& exit);
  // The master has acknowledged the task's result.
  void MarkReported(const std::string& task_id);

  std::optional<TaskView> Find(const std::string& task_id) const;
  // Running tasks, by id.
  std::vector<TaskView> Running() const;
  // Drops acknowledged finished tasks past the time-to-live or the count and deletes their
  // spool files.
  void Prune();

 private:
  struct Record {
    TaskView view;
    std::chrono::steady_clock::time_point finished_at;
  };

  const std::chrono::milliseconds finished_ttl_;
  const size_t max_finished_;
  mutable std::mutex mu_;
  std::map<std::string, Record> tasks_;
};

}  // namespace cloudai::worker
