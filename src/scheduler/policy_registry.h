// PolicyRegistry: placement policies by name.
//
// The master picks its placement policy by name from configuration; an unknown name is
// refused at start-up with the list of known ones, never silently replaced. The default
// registry holds the built-in policies — "best-fit", "round-robin", "spread" — and
// RegisterPolicy() adds more. A registry may also be built empty (for tests) and filled
// with Register().
//
// Thread safety: every method may be called from any thread; the default registry is
// created on first use.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scheduler/placement_policy.h"

namespace cloudai::scheduler {

// Makes a new policy, in its initial state.
using PolicyFactory = std::function<std::unique_ptr<PlacementPolicy>()>;

class PolicyRegistry {
 public:
  // An empty registry.
  PolicyRegistry() = default;
  PolicyRegistry(const PolicyRegistry&) = delete;
  PolicyRegistry& operator=(const PolicyRegistry&) = delete;

  // The process-wide registry, holding the built-in policies.
  static PolicyRegistry& Default();

  // Adds a policy. `name` is 1 to 63 characters of [a-z0-9-], starting with a letter;
  // a name already taken or a null factory is refused.
  absl::Status Register(std::string name, PolicyFactory factory);
  // A new policy by name; an unknown name is refused with the list of known ones:
  //   unknown placement policy "foo"; known: best-fit, round-robin, spread
  absl::StatusOr<std::unique_ptr<PlacementPolicy>> Make(std::string_view name) const;
  // Every registered name, sorted.
  std::vector<std::string> Names() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, PolicyFactory, std::less<>> factories_;  // guarded by mu_
};

// The same, on the default registry.
absl::StatusOr<std::unique_ptr<PlacementPolicy>> MakePolicy(std::string_view name);
std::vector<std::string> PolicyNames();
absl::Status RegisterPolicy(std::string name, PolicyFactory factory);

}  // namespace cloudai::scheduler
