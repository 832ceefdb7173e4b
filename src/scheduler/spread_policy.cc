#include "scheduler/spread_policy.h"

namespace cloudai::scheduler {

std::optional<std::string> SpreadPolicy::Select(const ClusterView& view,
                                                const Resources& request) {
  std::optional<size_t> index = view.FindMostRoomSuitable(request);
  if (!index.has_value()) return std::nullopt;
  return view.worker(*index).id;
}

}  // namespace cloudai::scheduler
