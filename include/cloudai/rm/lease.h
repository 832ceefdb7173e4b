// Lease: a move-only handle on resources granted by a CloudAI resource manager, semaphore
// or pool, which releases them when it is destroyed.
//
//   Result<Lease> lease = manager->AcquireLease("agent-1", {{"cpu", 2}, {"memory", 512}});
//   if (!lease.ok()) return lease.status();
//   ...                       // use the resources
//   // released here, or earlier with lease->Release()
//
// Moving a lease transfers the resources; the moved-from lease holds nothing and releases
// nothing. Assigning to a lease first releases what it held.
//
// A Lease must be released or destroyed before the component that granted it.
// Thread safety: a Lease is not synchronized itself; use one from one thread at a time.
// Releasing it is safe while other threads use the component that granted it.
#pragma once

#include <string>

#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

namespace internal {
class Admission;
}  // namespace internal

class Lease {
 public:
  // An empty lease: holds nothing.
  Lease() = default;
  ~Lease();

  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // True while the lease holds resources.
  bool Valid() const { return engine_ != nullptr; }
  // Releases everything now. kNotAcquired if the lease holds nothing.
  Status Release();

  // The agent the resources are held for ("" for semaphores and pools).
  const std::string& agent() const { return agent_; }
  // What the lease holds (empty once released or moved from).
  const ResourceAmounts& amounts() const { return amounts_; }

 private:
  friend class ResourceManager;
  friend class ResourcePool;

  Lease(internal::Admission* engine, std::string agent, ResourceAmounts amounts);

  internal::Admission* engine_ = nullptr;
  std::string agent_;
  ResourceAmounts amounts_;
};

}  // namespace cloudai::rm
