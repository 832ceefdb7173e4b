#include "cloudai/rm/semaphore.h"

#include <utility>

namespace cloudai::rm {

Result<std::unique_ptr<Semaphore>> Semaphore::Create(int64_t capacity,
                                                     std::shared_ptr<Clock> clock) {
  ResourcePoolOptions options;
  options.name = "permits";
  options.capacity = capacity;
  options.clock = std::move(clock);
  Result<std::unique_ptr<ResourcePool>> pool = ResourcePool::Create(std::move(options));
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<Semaphore>(new Semaphore(std::move(*pool)));
}

Semaphore::Semaphore(std::unique_ptr<ResourcePool> pool) : pool_(std::move(pool)) {}

Semaphore::~Semaphore() = default;

Status Semaphore::Acquire(int64_t n, const AcquireOptions& options) {
  return pool_->Acquire(n, options);
}

Status Semaphore::TryAcquire(int64_t n, int priority) { return pool_->TryAcquire(n, priority); }

Result<Lease> Semaphore::AcquireLease(int64_t n, const AcquireOptions& options) {
  return pool_->AcquireLease(n, options);
}

Result<Lease> Semaphore::TryAcquireLease(int64_t n, int priority) {
  return pool_->TryAcquireLease(n, priority);
}

Status Semaphore::Release(int64_t n) { return pool_->Release(n); }

Status Semaphore::SetCapacity(int64_t capacity) { return pool_->SetCapacity(capacity); }

int64_t Semaphore::Capacity() const { return pool_->Stats().capacity; }

int64_t Semaphore::InUse() const { return pool_->Stats().current; }

int64_t Semaphore::Waiting() const { return pool_->Stats().waiting; }

void Semaphore::Stop() { pool_->Stop(); }

}  // namespace cloudai::rm
