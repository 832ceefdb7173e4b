#include "scheduler/task_queue.h"

#include <algorithm>
#include <iterator>
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
  fresh_.push_back(key);
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
  // With no new room since the last pass over this view, what did not fit then still
  // does not: only the tasks queued since then are tried.
  const bool incremental = last_view_ == &view &&
                           last_room_generation_ == view.room_generation() &&
                           last_judged_infeasible_ == judge_infeasible;
  // Requests that found no worker in this pass. Room only shrinks during a pass, so a
  // request at least as large in every dimension finds none either.
  std::vector<Resources> refused;
  auto dominated = [&refused](const Resources& request) {
    for (const Resources& r : refused) {
      if (r.FitsIn(request)) return true;
    }
    return false;
  };
  auto try_place = [&](std::map<Key, Entry, KeyOrder>::iterator it) {
    Entry& entry = it->second;
    QueuedTask& task = entry.task;
    std::optional<std::string> worker;
    if (!dominated(task.request)) worker = policy.Select(view, task.request);
    if (worker.has_value()) {
      absl::Status allocated = view.Allocate(*worker, task.request);
      if (allocated.ok()) {
        result.placements.push_back({task.task_id, std::move(*worker)});
        key_of_.erase(task.task_id);
        return by_order_.erase(it);
      }
      // Only a misbehaving policy gets here; the task stays and is tried again.
      ++task.retries;
      task.last_error = StrCat("placement policy ", policy.Name(), " chose worker \"", *worker,
                               "\", which cannot take it: ", std::string(allocated.message()));
      return std::next(it);
    }
    if (judge_infeasible && entry.fits_some_total_at != view.capacity_generation()) {
      if (!view.CouldEverFit(task.request)) {
        result.infeasible.push_back({task.task_id, view.WhyNoFit(task.request)});
        key_of_.erase(task.task_id);
        return by_order_.erase(it);
      }
      entry.fits_some_total_at = view.capacity_generation();
    }
    if (refused.size() < kRefusedMemory && !dominated(task.request)) {
      refused.push_back(task.request);
    }
    ++task.retries;
    task.last_error.clear();
    return std::next(it);
  };

  if (incremental) {
    std::sort(fresh_.begin(), fresh_.end(), KeyOrder());
    for (const Key& key : fresh_) {
      auto it = by_order_.find(key);
      if (it != by_order_.end()) try_place(it);
    }
  } else {
    for (auto it = by_order_.begin(); it != by_order_.end();) it = try_place(it);
  }
  fresh_.clear();
  last_view_ = &view;
  last_room_generation_ = view.room_generation();
  last_judged_infeasible_ = judge_infeasible;
  result.remaining = by_order_.size();
  return result;
}

}  // namespace cloudai::scheduler
