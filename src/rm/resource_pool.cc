#include "cloudai/rm/resource_pool.h"

#include <utility>

#include "admission.h"

namespace cloudai::rm {

Result<std::unique_ptr<ResourcePool>> ResourcePool::Create(ResourcePoolOptions options) {
  auto engine =
      std::make_unique<internal::Admission>(std::move(options.clock), internal::Charge::kHold);
  internal::TypeSpec spec;
  spec.capacity = options.capacity;
  spec.rate_limit = options.rate_limit;
  spec.burst = options.burst;
  Status added = engine->AddType(options.name, spec);
  if (!added.ok()) return added;
  return std::unique_ptr<ResourcePool>(
      new ResourcePool(std::move(engine), std::move(options.name)));
}

ResourcePool::ResourcePool(std::unique_ptr<internal::Admission> engine, std::string name)
    : engine_(std::move(engine)), name_(std::move(name)) {}

ResourcePool::~ResourcePool() = default;

Status ResourcePool::Acquire(int64_t n, const AcquireOptions& options) {
  return engine_->Acquire("", {{name_, n}}, options);
}

Status ResourcePool::TryAcquire(int64_t n, int priority) {
  return engine_->TryAcquire("", {{name_, n}}, priority);
}

Result<Lease> ResourcePool::AcquireLease(int64_t n, const AcquireOptions& options) {
  Status acquired = Acquire(n, options);
  if (!acquired.ok()) return acquired;
  return Lease(engine_.get(), "", {{name_, n}});
}

Result<Lease> ResourcePool::TryAcquireLease(int64_t n, int priority) {
  Status acquired = TryAcquire(n, priority);
  if (!acquired.ok()) return acquired;
  return Lease(engine_.get(), "", {{name_, n}});
}

Status ResourcePool::Release(int64_t n) { return engine_->Release("", {{name_, n}}); }

Status ResourcePool::SetCapacity(int64_t capacity) { return engine_->SetCapacity(name_, capacity); }

double ResourcePool::Usage() const { return Stats().usage_percent; }

PoolStats ResourcePool::Stats() const { return engine_->Stats(name_).value(); }

void ResourcePool::Stop() { engine_->Stop(); }

}  // namespace cloudai::rm
