// BestFitPolicy ("best-fit"): bin-packing placement.
//
// Places a task on the suitable worker that has the least room (ClusterView::Room: its
// free resources summed, each dimension scaled by the largest total of that dimension
// in the cluster), ties going to the worker whose id sorts first. Since every suitable
// worker is left with Room(w) - Room(request), this is the worker with the least left
// over after the placement: packing tasks tightly keeps large holes free for large
// tasks, and keeps GPU machines (whose GPUs count in their room) for tasks that need
// them.
//
// The answer is exact — what a scan of every worker would give — and comes from the
// view's room index: the first worker in room order that holds the request, found
// without a scan (see room_index.h for what a search costs).
//
// Thread safety: none; see placement_policy.h. The policy keeps no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scheduler/placement_policy.h"

namespace cloudai::scheduler {

class BestFitPolicy final : public PlacementPolicy {
 public:
  static constexpr std::string_view kName = "best-fit";

  std::optional<std::string> Select(const ClusterView& view,
                                    const Resources& request) override;
  std::string_view Name() const override { return kName; }
  void Reset() override {}
};

}  // namespace cloudai::scheduler
