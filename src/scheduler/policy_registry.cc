#include "scheduler/policy_registry.h"

#include <utility>

#include "common/strings.h"
#include "scheduler/best_fit_policy.h"
#include "scheduler/round_robin_policy.h"
#include "scheduler/spread_policy.h"

namespace cloudai::scheduler {
namespace {

constexpr size_t kMaxNameLength = 63;

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

template <typename Policy>
PolicyFactory FactoryOf() {
  return [] { return std::make_unique<Policy>(); };
}

}  // namespace

PolicyRegistry& PolicyRegistry::Default() {
  static PolicyRegistry* const registry = [] {
    auto* r = new PolicyRegistry();
    // The built-in names are valid and distinct, so these cannot fail.
    (void)r->Register(std::string(BestFitPolicy::kName), FactoryOf<BestFitPolicy>());
    (void)r->Register(std::string(RoundRobinPolicy::kName), FactoryOf<RoundRobinPolicy>());
    (void)r->Register(std::string(SpreadPolicy::kName), FactoryOf<SpreadPolicy>());
    return r;
  }();
  return *registry;
}

absl::Status PolicyRegistry::Register(std::string name, PolicyFactory factory) {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(
        StrCat("placement policy name \"", name,
               "\" is not 1 to 63 characters of a-z, 0-9 and '-' starting with a letter"));
  }
  if (!factory) {
    return absl::InvalidArgumentError(
        StrCat("placement policy \"", name, "\" has no factory"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (factories_.contains(name)) {
    return absl::AlreadyExistsError(
        StrCat("placement policy \"", name, "\" is already registered"));
  }
  factories_.emplace(std::move(name), std::move(factory));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PlacementPolicy>> PolicyRegistry::Make(
    std::string_view name) const {
  PolicyFactory factory;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = factories_.find(name);
    if (it != factories_.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const std::string& n : Names()) StrAppend(&known, known.empty() ? "" : ", ", n);
    if (known.empty()) known = "none";
    return absl::InvalidArgumentError(
        StrCat("unknown placement policy \"", name, "\"; known: ", known));
  }
  std::unique_ptr<PlacementPolicy> policy = factory();
  if (policy == nullptr) {
    return absl::InternalError(
        StrCat("the factory of placement policy \"", name, "\" made nothing"));
  }
  return policy;
}

std::vector<std::string> PolicyRegistry::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  names.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

absl::StatusOr<std::unique_ptr<PlacementPolicy>> MakePolicy(std::string_view name) {
  return PolicyRegistry::Default().Make(name);
}

std::vector<std::string> PolicyNames() { return PolicyRegistry::Default().Names(); }

absl::Status RegisterPolicy(std::string name, PolicyFactory factory) {
  return PolicyRegistry::Default().Register(std::move(name), std::move(factory));
}

}  // namespace cloudai::scheduler
