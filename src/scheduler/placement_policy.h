// PlacementPolicy: decides which worker a task goes to (seed 001's Scheduler interface).
//
// A policy is given the cluster view and the request on every call and keeps no
// reference to the view between calls; it may keep its own small state (round-robin
// remembers its last pick). It returns a worker that is suitable for the request —
// active, with an address, every resource fitting — or nullopt when there is none, and
// changes nothing: the caller allocates on the chosen worker. Given the same sequence
// of views and requests, a policy returns the same answers.
//
// Policies are created by name through the registry (policy_registry.h) and all pass
// the conformance suite in placement_policy_conformance_test.cc.
//
// Thread safety: none. A policy is used by one owner, which serialises its calls.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/resources.h"
#include "scheduler/cluster_view.h"

namespace cloudai::scheduler {

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;

  // The id of the worker to place `request` on, or nullopt when no worker is suitable.
  virtual std::optional<std::string> Select(const ClusterView& view,
                                            const Resources& request) = 0;
  // The name the policy is registered under ("round-robin").
  virtual std::string_view Name() const = 0;
  // Forgets any state kept between calls, as if newly created.
  virtual void Reset() = 0;
};

}  // namespace cloudai::scheduler
