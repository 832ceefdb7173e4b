// Bucket: the token-bucket arithmetic shared by TokenBucket and rate-limited pools.
//
// Tokens are counted in integer nano-tokens and the refill rate in nano-tokens per second;
// the part of a nano-token earned but not yet credited is carried over, so refill is exact
// however the elapsed time is sliced. Refill is computed from the times passed in; there is
// no thread.
//
// Thread safety: none; the owner (internal::Admission) serializes access.
#pragma once

#include <cstdint>
#include <string>

#include "cloudai/common/clock.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm::internal {

class Bucket {
 public:
  static constexpr int64_t kNanoPerToken = 1'000'000'000;

  // OK if 1 <= capacity <= TokenBucket::kMaxTokens (else kInvalidCapacity) and `rate` is
  // finite, at least 1e-9 and at most TokenBucket::kMaxTokens per second (else
  // kInvalidRate). The labels name the two settings in messages.
  static Status Validate(const std::string& capacity_label, const std::string& rate_label,
                         int64_t capacity, double rate);

  // A full bucket at `now`. The arguments must pass Validate.
  Bucket(int64_t capacity, double rate, Clock::TimePoint now);

  // Credits the tokens earned up to `now` (earlier times are ignored).
  void Refill(Clock::TimePoint now);
  bool Has(int64_t tokens) const { return tokens_ >= tokens * kNanoPerToken; }
  // Requires Has(tokens).
  void Take(int64_t tokens) { tokens_ -= tokens * kNanoPerToken; }

  // Whole and fractional tokens as of the last Refill.
  double Available() const;
  // When `tokens` will be in the bucket, counting from the last Refill. Requires
  // tokens <= capacity().
  Clock::TimePoint ReadyAt(int64_t tokens) const;
  int64_t capacity() const { return capacity_ / kNanoPerToken; }

 private:
  const int64_t capacity_;  // nano-tokens
  const int64_t rate_;      // nano-tokens per second
  int64_t tokens_;          // nano-tokens
  int64_t carry_ = 0;       // rate_ * elapsed_ns not yet credited, below kNanoPerToken
  Clock::TimePoint last_;
};

}  // namespace cloudai::rm::internal
