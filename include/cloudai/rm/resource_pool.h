// ResourcePool: one kind of resource in CloudAI with a capacity, an optional rate limit on
// acquisitions and statistics.
//
// A pool is a weighted semaphore (at most `capacity` units held at once) combined with a
// token bucket that admits at most `rate_limit` acquisitions per second (one token per
// acquisition, whatever its size; 0 means unlimited). The capacity may change at run time:
// growing it wakes waiters; shrinking it below what is held is allowed (new acquisitions
// wait until usage falls), and waiters whose request no longer fits the capacity at all
// fail with kInvalidArgument. Waiting follows AcquireOptions (deadlines, cancellation,
// priorities, no starvation).
//
// Thread safety: every method may be called from any thread. Destroying the pool while
// another thread is inside one of its methods is not allowed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cloudai/common/clock.h"
#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/lease.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

// A consistent snapshot of one pool (or one resource type of a ResourceManager).
struct PoolStats {
  int64_t capacity = 0;
  // Units held now; may exceed capacity right after the capacity was lowered.
  int64_t current = 0;
  // Most units ever held at once.
  int64_t peak = 0;
  // Granted requests.
  int64_t acquisitions = 0;
  // Requests that ended without a grant: refused try-acquires, timeouts, cancellations,
  // stops, quota and deadlock refusals. Malformed requests are not counted.
  int64_t failures = 0;
  // Mean time from request to grant over all granted requests (zero waits included).
  Clock::Duration average_wait{0};
  // 100 * current / capacity.
  double usage_percent = 0;
  // Requests blocked now.
  int64_t waiting = 0;
};

struct ResourcePoolOptions {
  // Shown in messages, e.g. "cpu".
  std::string name = "pool";
  // > 0, else kInvalidCapacity.
  int64_t capacity = 0;
  // Acquisitions per second; 0 = unlimited. Negative or not finite: kInvalidRate.
  double rate_limit = 0;
  // Most acquisitions admitted in a burst; 0 = max(1, ceil(rate_limit)).
  int64_t burst = 0;
  // Null: the real clock.
  std::shared_ptr<Clock> clock;
};

class ResourcePool {
 public:
  static Result<std::unique_ptr<ResourcePool>> Create(ResourcePoolOptions options);
  ~ResourcePool();

  ResourcePool(const ResourcePool&) = delete;
  ResourcePool& operator=(const ResourcePool&) = delete;

  // Waits for `n` units (and a rate-limit token). kInvalidArgument if n < 1 or n > capacity.
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
  const std::string& name() const { return name_; }
  // 100 * units held / capacity.
  double Usage() const;
  PoolStats Stats() const;

  // Wakes every waiter with kStopped; later acquisitions fail with kStopped.
  void Stop();

 private:
  ResourcePool(std::unique_ptr<internal::Admission> engine, std::string name);

  std::unique_ptr<internal::Admission> engine_;
  const std::string name_;
};

}  // namespace cloudai::rm
