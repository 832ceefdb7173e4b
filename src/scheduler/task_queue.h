// TaskQueue: tasks waiting for a worker, and the scheduling pass that places them.
//
// Tasks are ordered by priority (higher first), then by arrival (first in, first out).
// A scheduling pass (seed 001's processQueue) walks the queue in that order and, for
// each task, asks the placement policy for a worker:
//   - placed: the request is allocated on that worker in the view, and the task leaves
//     the queue;
//   - no worker could ever hold it (ClusterView::CouldEverFit() is false): the task
//     leaves the queue and is reported as infeasible with the reason, instead of being
//     retried forever;
//   - otherwise it stays, with retries incremented (ClusterView::WhyNoFit() says why it
//     does not fit now; the pass does not spend time writing that down).
// A task that does not fit does not block those behind it: smaller tasks further back
// may be placed in the same pass.
//
// Cost: a pass over a view that has not gained room since the previous pass over it
// (ClusterView::room_generation()) tries only the tasks queued since then: nothing else
// can fit. Otherwise every task is tried, but a task whose request is at least as large
// in every dimension as one already refused in the same pass is refused without asking
// the policy (room only shrinks during a pass). A decision that asks the policy stops at
// the root of the capacity index when the cluster has no room for the request, and
// whether a task could ever fit is remembered per task until the cluster's capacity
// changes, so even a full pass over a queue that cannot move is O(queue length).
//
// Thread safety: none. A plain data structure; its owner serialises access (the view
// and policy passed to SchedulePass() likewise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "cloudai/common/clock.h"
#include "common/resources.h"
#include "scheduler/cluster_view.h"
#include "scheduler/placement_policy.h"

namespace cloudai::scheduler {

// A task waiting for resources (seed 001's QueuedTask).
struct QueuedTask {
  std::string task_id;
  Resources request;
  int priority = 0;  // higher goes first
  Clock::TimePoint queued_at;
  int retries = 0;         // scheduling attempts that found no worker
  std::string last_error;  // set when a placement policy misbehaved; see WhyNoFit()

  friend bool operator==(const QueuedTask&, const QueuedTask&) = default;
};

// What one scheduling pass did.
struct PassResult {
  struct Placement {
    std::string task_id;
    std::string worker_id;
    friend bool operator==(const Placement&, const Placement&) = default;
  };
  struct Infeasible {
    std::string task_id;
    std::string reason;  // e.g. "no worker could ever hold it: largest Memory is ..."
    friend bool operator==(const Infeasible&, const Infeasible&) = default;
  };
  std::vector<Placement> placements;  // in queue order; allocated in the view
  std::vector<Infeasible> infeasible;  // removed from the queue
  size_t remaining = 0;                // tasks still queued after the pass
};

class TaskQueue {
 public:
  TaskQueue() = default;

  // Queues a task. Refuses an empty or already queued task id, and an invalid request
  // (the error names the field, e.g. "request.memory: -1 is negative; ...").
  absl::Status Push(QueuedTask task);
  // Takes a task out of the queue (e.g. it was cancelled). NotFound when not queued.
  absl::Status Remove(std::string_view task_id);
  // The queued task with that id, or null. Valid until the queue next changes.
  const QueuedTask* Find(std::string_view task_id) const;
  size_t size() const { return by_order_.size(); }
  bool empty() const { return by_order_.empty(); }
  // A copy of the queue, in scheduling order (for the CLI's `queue` view).
  std::vector<QueuedTask> Snapshot() const;

  // One scheduling pass over the queued tasks, in order (see above). With
  // `judge_infeasible` false, a task no worker could ever hold stays queued instead of
  // being reported: for when the view is known to be
  // incomplete, e.g. while registered workers have not yet reported their capacity.
  PassResult SchedulePass(ClusterView& view, PlacementPolicy& policy,
                          bool judge_infeasible = true);

 private:
  struct Key {
    int priority;
    uint64_t sequence;  // arrival order
  };
  struct KeyOrder {
    bool operator()(const Key& a, const Key& b) const {
      if (a.priority != b.priority) return a.priority > b.priority;
      return a.sequence < b.sequence;
    }
  };
  struct Entry {
    QueuedTask task;
    // The view capacity generation at which the task was last found able to fit some
    // worker; 0 when not yet checked.
    uint64_t fits_some_total_at = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Distinct refused requests a pass remembers for its dominance check.
  static constexpr size_t kRefusedMemory = 8;

  std::map<Key, Entry, KeyOrder> by_order_;
  std::vector<Key> fresh_;  // queued since the last pass (some may be gone since)
  const ClusterView* last_view_ = nullptr;
  uint64_t last_room_generation_ = 0;
  bool last_judged_infeasible_ = true;
  std::unordered_map<std::string, Key, StringHash, std::equal_to<>> key_of_;
  uint64_t next_sequence_ = 0;
};

}  // namespace cloudai::scheduler
