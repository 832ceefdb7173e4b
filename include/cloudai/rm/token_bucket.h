// TokenBucket: rate limiting for CloudAI callers.
//
// The bucket holds up to `capacity` tokens (the largest burst) and gains `refill_rate`
// tokens per second. Refill is computed from the Clock on every call; there is no
// background thread. Fractions of a token are kept exactly (in integer nano-tokens), so
// many small refills add up to the same as one large one. A new bucket starts full.
//
// Asking for more tokens than the capacity is an error (kInvalidArgument), never an
// endless wait. Blocking waiters are served by priority, then in arrival order; a waiter
// that cannot be served yet holds back those behind it (see acquire_options.h).
//
// Thread safety: every method may be called from any thread. Destroying the bucket while
// another thread is inside one of its methods is not allowed: Stop() it and join first.
#pragma once

#include <cstdint>
#include <memory>

#include "cloudai/common/clock.h"
#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

namespace internal {
class Admission;
}  // namespace internal

struct TokenBucketOptions {
  // Maximum tokens held, 1 to kMaxTokens. Else kInvalidCapacity.
  int64_t capacity = 0;
  // Tokens added per second: > 0 and at most kMaxTokens, at a resolution of 1e-9 tokens
  // per second. Else kInvalidRate.
  double refill_rate = 0;
  // Null: the real clock.
  std::shared_ptr<Clock> clock;
};

class TokenBucket {
 public:
  static constexpr int64_t kMaxTokens = 1'000'000'000;

  static Result<std::unique_ptr<TokenBucket>> Create(TokenBucketOptions options);
  // Shorthand for Create({capacity, refill_rate, clock}).
  static Result<std::unique_ptr<TokenBucket>> Create(int64_t capacity, double refill_rate,
                                                     std::shared_ptr<Clock> clock = nullptr);
  ~TokenBucket();

  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes `n` tokens now, or returns kExhausted and takes nothing. `priority` decides
  // which waiters it may not overtake.
  Status TryAcquire(int64_t n, int priority = 0);
  // Takes `n` tokens, waiting for the refill as long as needed (see AcquireOptions).
  Status Acquire(int64_t n, const AcquireOptions& options = {});

  // Tokens in the bucket now, fractions included.
  double Available() const;
  // How long until `n` tokens are in the bucket (zero if they are now), ignoring other
  // waiters. kInvalidArgument if n < 1 or n > capacity.
  Result<Clock::Duration> TimeUntilAvailable(int64_t n) const;

  int64_t capacity() const { return capacity_; }
  double refill_rate() const { return refill_rate_; }
  // Number of blocked Acquire calls.
  int64_t Waiting() const;

  // Wakes every waiter with kStopped; later acquisitions fail with kStopped.
  void Stop();

 private:
  TokenBucket(std::unique_ptr<internal::Admission> engine, int64_t capacity, double refill_rate);
  Status CheckCount(int64_t n) const;

  std::unique_ptr<internal::Admission> engine_;
  const int64_t capacity_;
  const double refill_rate_;
};

}  // namespace cloudai::rm
