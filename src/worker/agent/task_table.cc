#include "worker/agent/task_table.h"

#include <unistd.h>

#include <algorithm>

namespace cloudai::worker {

TaskTable::TaskTable(std::chrono::milliseconds finished_ttl, size_t max_finished)
    : finished_ttl_(finished_ttl), max_finished_(max_finished) {}

absl::StatusOr<TaskTable::Admitted> TaskTable::Admit(
    const std::string& task_id, int64_t started_at_ms,
    const std::function<absl::StatusOr<std::shared_ptr<LogSpool>>()>& make_spool) {
  std::lock_guard<std::mutex> lock(mu_);
  Admitted out;
  auto it = tasks_.find(task_id);
  if (it != tasks_.end()) {
    const TaskView& v = it->second.view;
    if (!v.finished) {
      out.admission = Admission::kAlreadyRunning;
      return out;
    }
    if (!v.reported) {
      out.admission = Admission::kAlreadyFinished;
      out.final_status = v.exit.status;
      return out;
    }
  }
  absl::StatusOr<std::shared_ptr<LogSpool>> spool = make_spool();
  if (!spool.ok()) return spool.status();
  Record& r = tasks_[task_id];
  r = Record{};
  r.view.task_id = task_id;
  r.view.spool = *spool;
  r.view.started_at_ms = started_at_ms;
  out.spool = *std::move(spool);
  return out;
}

void TaskTable::Adopt(const std::string& task_id, std::shared_ptr<LogSpool> spool,
                      int64_t started_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Record& r = tasks_[task_id];
  r = Record{};
  r.view.task_id = task_id;
  r.view.spool = std::move(spool);
  r.view.started_at_ms = started_at_ms;
}

void TaskTable::SetStartedAt(const std::string& task_id, int64_t started_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it != tasks_.end() && !it->second.view.finished) {
    it->second.view.started_at_ms = started_at_ms;
  }
}

void TaskTable::Remove(const std::string& task_id, const std::shared_ptr<LogSpool>& spool) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it != tasks_.end() && it->second.view.spool == spool) tasks_.erase(it);
}

bool TaskTable::Finish(const std::string& task_id, const TaskExit& exit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return false;
  it->second.view.finished = true;
  it->second.view.exit = exit;
  it->second.finished_at = std::chrono::steady_clock::now();
  return true;
}

void TaskTable::MarkReported(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it != tasks_.end() && it->second.view.finished) it->second.view.reported = true;
}

std::optional<TaskView> TaskTable::Find(const std::string& task_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.view;
}

std::vector<TaskView> TaskTable::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TaskView> out;
  for (const auto& [id, r] : tasks_) {
    if (!r.view.finished) out.push_back(r.view);
  }
  return out;
}

void TaskTable::Prune() {
  std::vector<std::string> doomed_files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> done;
    for (const auto& [id, r] : tasks_) {
      if (r.view.finished && r.view.reported) done.emplace_back(r.finished_at, id);
    }
    std::sort(done.begin(), done.end());
    const size_t excess = done.size() > max_finished_ ? done.size() - max_finished_ : 0;
    for (size_t i = 0; i < done.size(); ++i) {
      if (i >= excess && now - done[i].first < finished_ttl_) break;
      auto it = tasks_.find(done[i].second);
      doomed_files.push_back(it->second.view.spool->path());
      tasks_.erase(it);
    }
  }
  for (const std::string& path : doomed_files) ::unlink(path.c_str());
}

}  // namespace cloudai::worker
