#include "scheduler/round_robin_policy.h"

namespace cloudai::scheduler {

size_t RoundRobinPolicy::StartIndex(const ClusterView& view) const {
  if (!last_id_.has_value()) return 0;
  size_t start;
  if (last_index_hint_ < view.size() && view.worker(last_index_hint_).id == *last_id_) {
    start = last_index_hint_ + 1;
  } else {
    start = view.IndexAfter(*last_id_);  // the last pick may have left the cluster
  }
  return start < view.size() ? start : 0;
}

std::optional<std::string> RoundRobinPolicy::Select(const ClusterView& view,
                                                    const Resources& request) {
  if (view.empty()) return std::nullopt;
  const size_t start = StartIndex(view);
  std::optional<size_t> found = view.FindFirstSuitable(request, start, view.size());
  if (!found.has_value() && start > 0) found = view.FindFirstSuitable(request, 0, start);
  if (!found.has_value()) return std::nullopt;
  last_id_ = view.worker(*found).id;
  last_index_hint_ = *found;
  return last_id_;
}

void RoundRobinPolicy::Reset() {
  last_id_.reset();
  last_index_hint_ = 0;
}

}  // namespace cloudai::scheduler
