#include "scheduler/best_fit_policy.h"

namespace cloudai::scheduler {

std::optional<std::string> BestFitPolicy::Select(const ClusterView& view,
                                                 const Resources& request) {
  std::optional<size_t> index = view.FindLeastRoomSuitable(request);
  if (!index.has_value()) return std::nullopt;
  return view.worker(*index).id;
}

}  // namespace cloudai::scheduler
