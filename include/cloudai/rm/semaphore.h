// Semaphore: a weighted counting semaphore for CloudAI callers.
//
// Up to `capacity` units may be held at once. Acquire(n) waits for n units (see
// AcquireOptions for deadlines, cancellation and priorities); Release(n) gives them back.
// Releasing more than is held is refused with kNotAcquired and changes nothing. The
// capacity may change at run time: growing it wakes waiters; shrinking it below what is
// held is allowed (new acquisitions wait until enough is released), and waiters whose
// request no longer fits the capacity at all fail with kInvalidArgument.
//
// Thread safety: every method may be called from any thread. Destroying the semaphore
// while another thread is inside one of its methods is not allowed.
#pragma once

#include <cstdint>
#include <memory>

#include "cloudai/common/clock.h"
#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/lease.h"
#include "cloudai/rm/resource_pool.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

class Semaphore {
 public:
  // capacity > 0, else kInvalidCapacity. Null clock: the real clock.
  static Result<std::unique_ptr<Semaphore>> Create(int64_t capacity,
                                                   std::shared_ptr<Clock> clock = nullptr);
  ~Semaphore();

  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Waits for `n` units. kInvalidArgument if n < 1 or n > capacity.
  Status Acquire(int64_t n, const AcquireOptions& options = {});
  // Takes `n` units now or returns kExhausted.
  Status TryAcquire(int64_t n, int priority = 0);
  // Like Acquire / TryAcquire, but the units come back when the Lease goes away.
  Result<Lease> AcquireLease(int64_t n, const AcquireOptions& options = {});
  Result<Lease> TryAcquireLease(int64_t n, int priority = 0);
  // Gives back `n` units. kNotAcquired (nothing changes) if fewer are held.
  Status Release(int64_t n);

  // capacity > 0, else kInvalidCapacity.
  Status SetCapacity(int64_t capacity);
  int64_t Capacity() const;
  // Units held now.
  int64_t InUse() const;
  // Number of blocked Acquire calls.
  int64_t Waiting() const;

  // Wakes every waiter with kStopped; later acquisitions fail with kStopped.
  void Stop();

 private:
  explicit Semaphore(std::unique_ptr<ResourcePool> pool);

  // A semaphore is a pool without a rate limit.
  std::unique_ptr<ResourcePool> pool_;
};

}  // namespace cloudai::rm
