// DeadlockDetector: a wait-for graph over CloudAI agents that refuses waits which would
// close a cycle, so requests fail with kDeadlockDetected instead of hanging.
//
// An agent waiting for a resource type waits for the holders of that type and for the
// agents queued ahead of it for that type (higher priority, or equal priority and earlier),
// because those are served first. RecordWait adds the wait only if the new edges close no
// cycle through the agent; otherwise it returns kDeadlockDetected and records nothing.
// An agent never waits for itself. The check is conservative (any holder of a type counts),
// so it may refuse a wait that would have been served. Cycles are looked for when a wait is
// recorded, which is when a caller is about to block. An agent waiting from several threads
// at once is one node of the graph.
//
// A disabled detector records nothing and allows every wait.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cloudai/rm/status.h"

namespace cloudai::rm {

class DeadlockDetector {
 public:
  explicit DeadlockDetector(bool enabled = true) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }

  // Records that `agent` waits for `type` at `priority`, or returns kDeadlockDetected
  // (recording nothing) if that would close a cycle.
  Status RecordWait(const std::string& agent, const std::string& type, int priority = 0);
  // Removes one wait of `agent` for `type` (the earliest recorded).
  void ClearWait(const std::string& agent, const std::string& type);
  // `agent` now holds some of `type`.
  void RecordAcquire(const std::string& agent, const std::string& type);
  // `agent` holds none of `type` any more.
  void RecordRelease(const std::string& agent, const std::string& type);

  // The agents `agent` waits for now (holders and agents queued ahead), for diagnostics.
  std::set<std::string> WaitsFor(const std::string& agent) const;

 private:
  struct WaitRecord {
    std::string type;
    int priority;
    uint64_t seq;
  };

  // True if `a` is served before `b` (both waiting for the same type).
  static bool Ahead(const WaitRecord& a, const WaitRecord& b);
  std::set<std::string> WaitsForLocked(const std::string& agent) const;
  // A path from `from` to `to` in the graph, empty if none.
  std::vector<std::string> FindPath(const std::string& from, const std::string& to) const;

  const bool enabled_;
  mutable std::mutex mu_;
  uint64_t next_seq_ = 0;
  std::map<std::string, std::vector<WaitRecord>> waits_;  // agent -> its waits
  std::map<std::string, std::set<std::string>> holders_;  // type -> agents holding it
  std::map<std::string, std::set<std::string>> waiters_;  // type -> agents waiting for it
};

}  // namespace cloudai::rm
