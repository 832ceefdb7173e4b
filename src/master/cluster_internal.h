// The entries behind Cluster's maps, shared by cluster.cc and cluster_allocations.cc.
// Everything here is guarded by Cluster::mu_.
#pragma once

#include <deque>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "master/cluster.h"

namespace cloudai::master {

// The master's log: one line on stderr.
inline void Log(std::string_view line) { std::cerr << "cloudai-master: " << line << std::endl; }

struct Cluster::WorkerEntry {
  store::WorkerRecord record;
  bool joined = false;  // reported its capacity since it was registered
  Clock::TimePoint last_seen;
  Clock::TimePoint last_persisted;
  double cpu_usage = 0, memory_usage = 0, storage_usage = 0, gpu_usage = 0;
  std::set<std::string> task_ids;        // placed here: scheduled or running
  std::set<std::string> allocation_ids;  // allocations holding a slot here
};

struct Cluster::TaskEntry {
  store::TaskRecord record;
  int64_t queued_at_ms = 0;
  // Placed and counted: on its worker in the scheduler's view, or (record.allocation_id
  // set) in slot `slot` of its allocation.
  bool holds_resources = false;
  int slot = -1;
  std::optional<Clock::TimePoint> missing_since;  // running, but its worker omits it
};

struct Cluster::AllocationEntry {
  store::AllocationRecord record;
  std::vector<Resources> used;     // per slot: what its placed tasks take
  std::deque<std::string> queue;   // its tasks waiting for room, oldest first
  std::set<std::string> task_ids;  // its unfinished tasks
  // While releasing: the final state it ends in once its tasks have stopped.
  store::AllocationState ending_as = store::AllocationState::kReleased;
  bool stops_requested = false;  // its placed tasks were asked to stop
};

}  // namespace cloudai::master
