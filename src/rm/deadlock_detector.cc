#include "cloudai/rm/deadlock_detector.h"

#include <algorithm>
#include <deque>

namespace cloudai::rm {

bool DeadlockDetector::Ahead(const WaitRecord& a, const WaitRecord& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

Status DeadlockDetector::RecordWait(const std::string& agent, const std::string& type,
                                    int priority) {
  if (!enabled_) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  waits_[agent].push_back(WaitRecord{type, priority, next_seq_++});
  waiters_[type].insert(agent);
  const std::vector<std::string> cycle = FindPath(agent, agent);
  if (cycle.empty()) return Status::Ok();

  // Undo the wait just recorded; ClearWait would remove the earliest one instead.
  std::vector<WaitRecord>& records = waits_[agent];
  records.pop_back();
  if (std::none_of(records.begin(), records.end(),
                   [&](const WaitRecord& r) { return r.type == type; })) {
    waiters_[type].erase(agent);
    if (waiters_[type].empty()) waiters_.erase(type);
  }
  if (records.empty()) waits_.erase(agent);

  std::string path = agent;
  for (const std::string& step : cycle) path += " -> " + step;
  return Status(Code::kDeadlockDetected,
                "agent '" + agent + "' waiting for '" + type + "' would close the wait-for cycle " +
                    path +
                    "; release what it holds before waiting, or acquire every type it "
                    "needs in one request");
}

void DeadlockDetector::ClearWait(const std::string& agent, const std::string& type) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto agent_it = waits_.find(agent);
  if (agent_it == waits_.end()) return;
  std::vector<WaitRecord>& records = agent_it->second;
  auto same_type = [&](const WaitRecord& r) { return r.type == type; };
  auto it = std::find_if(records.begin(), records.end(), same_type);
  if (it == records.end()) return;
  records.erase(it);
  if (std::none_of(records.begin(), records.end(), same_type)) {
    waiters_[type].erase(agent);
    if (waiters_[type].empty()) waiters_.erase(type);
  }
  if (records.empty()) waits_.erase(agent_it);
}

void DeadlockDetector::RecordAcquire(const std::string& agent, const std::string& type) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  holders_[type].insert(agent);
}

void DeadlockDetector::RecordRelease(const std::string& agent, const std::string& type) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holders_.find(type);
  if (it == holders_.end()) return;
  it->second.erase(agent);
  if (it->second.empty()) holders_.erase(it);
}

std::set<std::string> DeadlockDetector::WaitsFor(const std::string& agent) const {
  std::lock_guard<std::mutex> lock(mu_);
  return WaitsForLocked(agent);
}

std::set<std::string> DeadlockDetector::WaitsForLocked(const std::string& agent) const {
  std::set<std::string> targets;
  auto agent_it = waits_.find(agent);
  if (agent_it == waits_.end()) return targets;
  for (const WaitRecord& mine : agent_it->second) {
    if (auto h = holders_.find(mine.type); h != holders_.end()) {
      targets.insert(h->second.begin(), h->second.end());
    }
    auto w = waiters_.find(mine.type);
    if (w == waiters_.end()) continue;
    for (const std::string& other : w->second) {
      if (other == agent || targets.count(other) > 0) continue;
      for (const WaitRecord& theirs : waits_.at(other)) {
        if (theirs.type == mine.type && Ahead(theirs, mine)) {
          targets.insert(other);
          break;
        }
      }
    }
  }
  targets.erase(agent);  // an agent never waits for itself
  return targets;
}

std::vector<std::string> DeadlockDetector::FindPath(const std::string& from,
                                                    const std::string& to) const {
  // Breadth-first search; parent links rebuild the path.
  std::map<std::string, std::string> parent;
  std::deque<std::string> frontier{from};
  while (!frontier.empty()) {
    const std::string node = frontier.front();
    frontier.pop_front();
    for (const std::string& next : WaitsForLocked(node)) {
      if (parent.count(next) > 0) continue;
      parent[next] = node;
      if (next == to) {
        std::vector<std::string> path{to};
        for (std::string at = node; at != from; at = parent.at(at)) path.push_back(at);
        std::reverse(path.begin(), path.end());
        return path;
      }
      frontier.push_back(next);
    }
  }
  return {};
}

}  // namespace cloudai::rm
