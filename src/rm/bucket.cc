#include "bucket.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "cloudai/rm/token_bucket.h"

namespace cloudai::rm::internal {
namespace {

// 128-bit arithmetic keeps rate * elapsed exact for any rate and any elapsed time.
__extension__ using Int128 = __int128;

constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

Status Bucket::Validate(const std::string& capacity_label, const std::string& rate_label,
                        int64_t capacity, double rate) {
  if (capacity < 1 || capacity > TokenBucket::kMaxTokens) {
    return Status(Code::kInvalidCapacity, capacity_label + " must be between 1 and " +
                                              std::to_string(TokenBucket::kMaxTokens) + ", got " +
                                              std::to_string(capacity));
  }
  const double max_rate = static_cast<double>(TokenBucket::kMaxTokens);
  if (!std::isfinite(rate) || rate < 1e-9 || rate > max_rate) {
    return Status(Code::kInvalidRate, rate_label + " must be between 1e-9 and " +
                                          std::to_string(TokenBucket::kMaxTokens) +
                                          " per second, got " + std::to_string(rate));
  }
  return Status::Ok();
}

Bucket::Bucket(int64_t capacity, double rate, Clock::TimePoint now)
    : capacity_(capacity * kNanoPerToken),
      rate_(std::max<int64_t>(1, std::llround(rate * kNanoPerToken))),
      tokens_(capacity_),
      last_(now) {}

void Bucket::Refill(Clock::TimePoint now) {
  if (now <= last_) return;
  const int64_t elapsed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
  last_ = now;
  if (tokens_ >= capacity_) {
    carry_ = 0;
    return;
  }
  // rate_ nano-tokens per second == rate_ / 1e9 nano-tokens per nanosecond.
  const Int128 earned = Int128(rate_) * elapsed_ns + carry_;
  const Int128 whole = earned / kNanosPerSecond;
  if (whole >= capacity_ - tokens_) {
    tokens_ = capacity_;
    carry_ = 0;
  } else {
    tokens_ += static_cast<int64_t>(whole);
    carry_ = static_cast<int64_t>(earned % kNanosPerSecond);
  }
}

double Bucket::Available() const { return static_cast<double>(tokens_) / kNanoPerToken; }

Clock::TimePoint Bucket::ReadyAt(int64_t tokens) const {
  const int64_t missing = tokens * kNanoPerToken - tokens_;
  if (missing <= 0) return last_;
  // Smallest elapsed_ns with rate_ * elapsed_ns + carry_ >= missing * 1e9.
  const Int128 needed = Int128(missing) * kNanosPerSecond - carry_;
  const Int128 ns = (needed + rate_ - 1) / rate_;
  const Int128 max_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::TimePoint::max() - last_).count();
  return last_ + std::chrono::nanoseconds(static_cast<int64_t>(std::min(ns, max_ns)));
}

}  // namespace cloudai::rm::internal
