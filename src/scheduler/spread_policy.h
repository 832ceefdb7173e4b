// SpreadPolicy ("spread"): least-loaded placement.
//
// Places a task on the suitable worker that has the most room (ClusterView::Room: its
// free resources summed, each dimension scaled by the largest total of that dimension
// in the cluster), ties going to the worker whose id sorts first: the worker with the
// most left over after the placement. Spreading load keeps every machine lightly used,
// at the price of leaving no large holes.
//
// The answer is exact — what a scan of every worker would give — and comes from the
// view's room index: the last worker in room order that holds the request, found
// without a scan (see room_index.h for what a search costs).
//
// Thread safety: none; see placement_policy.h. The policy keeps no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scheduler/placement_policy.h"

namespace cloudai::scheduler {

class SpreadPolicy final : public PlacementPolicy {
 public:
  static constexpr std::string_view kName = "spread";

  std::optional<std::string> Select(const ClusterView& view,
                                    const Resources& request) override;
  std::string_view Name() const override { return kName; }
  void Reset() override {}
};

}  // namespace cloudai::scheduler
