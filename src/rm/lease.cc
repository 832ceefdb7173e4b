#include "cloudai/rm/lease.h"

#include <utility>

#include "admission.h"

namespace cloudai::rm {

Lease::Lease(internal::Admission* engine, std::string agent, ResourceAmounts amounts)
    : engine_(engine), agent_(std::move(agent)), amounts_(std::move(amounts)) {}

Lease::~Lease() { Release(); }

Lease::Lease(Lease&& other) noexcept
    : engine_(std::exchange(other.engine_, nullptr)),
      agent_(std::move(other.agent_)),
      amounts_(std::exchange(other.amounts_, {})) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    engine_ = std::exchange(other.engine_, nullptr);
    agent_ = std::move(other.agent_);
    amounts_ = std::exchange(other.amounts_, {});
  }
  return *this;
}

Status Lease::Release() {
  if (engine_ == nullptr) return Status(Code::kNotAcquired, "the lease holds nothing");
  internal::Admission* engine = std::exchange(engine_, nullptr);
  ResourceAmounts amounts = std::exchange(amounts_, {});
  return engine->Release(agent_, amounts);
}

}  // namespace cloudai::rm
