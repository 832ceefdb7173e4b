// RoundRobinPolicy ("round-robin"): seed 001's RoundRobinScheduler.
//
// Workers are taken in a deterministic order, sorted by id. Each decision starts just
// after the worker picked last time and returns the first suitable worker in circular
// order, so tasks are dealt out in turn among the workers that can take them.
//
// The seed remembers the index of its last pick; this policy remembers the last pick's
// id and starts at the first worker whose id sorts after it, so workers joining or
// leaving do not shift the turn onto another worker. The search runs on the view's
// capacity index: the first suitable worker in [start, n), then in [0, start),
// O(log n) in the usual case instead of the seed's sort and scan of every worker.
//
// Thread safety: none; see placement_policy.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "scheduler/placement_policy.h"

namespace cloudai::scheduler {

class RoundRobinPolicy final : public PlacementPolicy {
 public:
  static constexpr std::string_view kName = "round-robin";

  std::optional<std::string> Select(const ClusterView& view,
                                    const Resources& request) override;
  std::string_view Name() const override { return kName; }
  void Reset() override;

 private:
  // Where this decision starts: the index of the first worker after the last pick.
  size_t StartIndex(const ClusterView& view) const;

  std::optional<std::string> last_id_;  // the last worker picked, if any
  // Where last_id_ was in the view last time: a hint that saves the binary search when
  // the worker is still there. Never trusted without checking the id.
  size_t last_index_hint_ = 0;
};

}  // namespace cloudai::scheduler
