#include "scheduler/task_queue.h"

#include <utility>

#include "common/strings.h"

namespace cloudai::scheduler {

absl::Status TaskQueue::Push(QueuedTask task) {
  if (task.task_id.empty()) return absl::InvalidArgumentError("task_id: must not be empty");
  if (absl::Status s = task.request.Validate("request"); !s.ok()) {
    return absl::InvalidArgumentError(
        StrCat("task \"", task.task_id, "\": ", std::string(s.message())));
  }
  if (key_of_.contains(task.task_id)) {
    return absl::AlreadyExistsError(StrCat("task \"", task.task_id, "\" is already queued"));
  }
  const Key key{task.priority, next_sequence_++};
  key_of_.emplace(task.task_id, key);
  by_order_.emplace(key, Entry{std::move(task), 0});
  return absl::OkStatus();
}

absl::Status TaskQueue::Remove(std::string_view task_id) {
  auto it = key_of_.find(task_id);
  if (it == key_of_.end()) {
    return absl::NotFoundError(StrCat("task \"", task_id, "\" is not queued"));
  }
  by_order_.erase(it->second);
  key_of_.erase(it);
  return absl::OkStatus();
}

const QueuedTask* TaskQueue::Find(std::string_view task_id) const {
  auto it = key_of_.find(task_id);
  if (it == key_of_.end()) return nullptr;
  return &by_order_.find(it->second)->second.task;
}

std::vector<QueuedTask> TaskQueue::Snapshot() const {
  std::vector<QueuedTask> out;
  out.reserve(by_order_.size());
  for (const auto& [key, entry] : by_order_) out.push_back(entry.task);
  return out;
}

PassResult TaskQueue::SchedulePass(ClusterView& view, PlacementPolicy& policy,
                                   bool judge_infeasible) {
  PassResult result;
  for (auto it = by_order_.begin(); it != by_order_.end();) {
    Entry& entry = it->second;
    QueuedTask& task = entry.task;
    std::optional<std::string> worker = policy.Select(view, task.request);
    if (worker.has_value()) {
      absl::Status allocated = view.Allocate(*worker, task.request);
      if (allocated.ok()) {
        result.placements.push_back({task.task_id, std::move(*worker)});
        key_of_.erase(task.task_id);
        it = by_order_.erase(it);
        continue;
      }
      // Only a misbehaving policy gets here; the task stays and is tried again.
      ++task.retries;
      task.last_error = StrCat("placement policy ", policy.Name(), " chose worker \"",
                               *worker, "\", which cannot take it: ",
                               std::string(allocated.message()));
      ++it;
      continue;
    }
    if (judge_infeasible && entry.fits_some_total_at != view.capacity_generation()) {
      if (!view.CouldEverFit(task.request)) {
        result.infeasible.push_back({task.task_id, view.WhyNoFit(task.request)});
        key_of_.erase(task.task_id);
        it = by_order_.erase(it);
        continue;
      }
      entry.fits_some_total_at = view.capacity_generation();
    }
    ++task.retries;
    task.last_error = view.WhyNoFit(task.request);
    ++it;
  }
  result.remaining = by_order_.size();
  return result;
}

}  // namespace cloudai::scheduler
