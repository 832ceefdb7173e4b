#include "cloudai/rm/token_bucket.h"

#include "admission.h"
#include "bucket.h"

namespace cloudai::rm {
namespace {

// The engine's single resource type for a bucket.
constexpr char kTokens[] = "tokens";

}  // namespace

Result<std::unique_ptr<TokenBucket>> TokenBucket::Create(TokenBucketOptions options) {
  Status valid = internal::Bucket::Validate("token bucket capacity",
                                            "token bucket refill rate (tokens per second)",
                                            options.capacity, options.refill_rate);
  if (!valid.ok()) return valid;
  auto engine =
      std::make_unique<internal::Admission>(std::move(options.clock), internal::Charge::kTokens);
  internal::TypeSpec spec;
  spec.capacity = internal::Admission::kUnlimited;
  spec.rate_limit = options.refill_rate;
  spec.burst = options.capacity;
  Status added = engine->AddType(kTokens, spec);
  if (!added.ok()) return added;
  return std::unique_ptr<TokenBucket>(
      new TokenBucket(std::move(engine), options.capacity, options.refill_rate));
}

Result<std::unique_ptr<TokenBucket>> TokenBucket::Create(int64_t capacity, double refill_rate,
                                                         std::shared_ptr<Clock> clock) {
  TokenBucketOptions options;
  options.capacity = capacity;
  options.refill_rate = refill_rate;
  options.clock = std::move(clock);
  return Create(std::move(options));
}

TokenBucket::TokenBucket(std::unique_ptr<internal::Admission> engine, int64_t capacity,
                         double refill_rate)
    : engine_(std::move(engine)), capacity_(capacity), refill_rate_(refill_rate) {}

TokenBucket::~TokenBucket() = default;

Status TokenBucket::TryAcquire(int64_t n, int priority) {
  return engine_->TryAcquire("", {{kTokens, n}}, priority);
}

Status TokenBucket::Acquire(int64_t n, const AcquireOptions& options) {
  return engine_->Acquire("", {{kTokens, n}}, options);
}

double TokenBucket::Available() const { return engine_->AvailableTokens(kTokens).value(); }

Result<Clock::Duration> TokenBucket::TimeUntilAvailable(int64_t n) const {
  return engine_->TimeUntilTokens(kTokens, n);
}

int64_t TokenBucket::Waiting() const { return engine_->Stats(kTokens)->waiting; }

void TokenBucket::Stop() { engine_->Stop(); }

}  // namespace cloudai::rm
