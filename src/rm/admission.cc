#include "admission.h"

#include <algorithm>
#include <cmath>
#include <stop_token>

namespace cloudai::rm::internal {
namespace {

// A waiter with no deadline and no tokens to wait for still wakes this often (in clock
// time) and looks again; it costs nothing and guards against a missed notification.
constexpr Clock::Duration kMaxWaitSlice = std::chrono::minutes(10);

std::string Quote(const std::string& name) { return "'" + name + "'"; }

Status StoppedStatus() {
  return Status(Code::kStopped, "the resource manager is stopped; create a new one");
}

}  // namespace

Admission::Admission(std::shared_ptr<Clock> clock, Charge charge, AdmissionHooks* hooks)
    : clock_(clock ? std::move(clock) : Clock::Real()), charge_(charge), hooks_(hooks) {}

Status Admission::AddType(const std::string& name, const TypeSpec& spec) {
  if (name.empty()) return Status(Code::kInvalidArgument, "resource type name is empty");
  if (spec.capacity <= 0) {
    return Status(Code::kInvalidCapacity, "capacity of " + Quote(name) + " must be positive, got " +
                                              std::to_string(spec.capacity));
  }
  if (!std::isfinite(spec.rate_limit) || spec.rate_limit < 0) {
    return Status(Code::kInvalidRate, "rate limit of " + Quote(name) +
                                          " must be 0 (unlimited) or positive, got " +
                                          std::to_string(spec.rate_limit));
  }
  if (spec.burst < 0) {
    return Status(Code::kInvalidCapacity, "burst of " + Quote(name) +
                                              " must be 0 (default) or positive, got " +
                                              std::to_string(spec.burst));
  }
  TypeState state;
  state.capacity = spec.capacity;
  if (spec.rate_limit > 0) {
    const int64_t burst =
        spec.burst > 0 ? spec.burst
                       : std::max<int64_t>(
                             1, static_cast<int64_t>(std::ceil(std::min(spec.rate_limit, 1e18))));
    Status valid = Bucket::Validate("burst of " + Quote(name), "rate limit of " + Quote(name),
                                    burst, spec.rate_limit);
    if (!valid.ok()) return valid;
    state.bucket.emplace(burst, spec.rate_limit, clock_->Now());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!types_.emplace(name, std::move(state)).second) {
    return Status(Code::kInvalidArgument,
                  "resource type " + Quote(name) + " already exists; pick another name");
  }
  return Status::Ok();
}

std::vector<std::string> Admission::TypeNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, state] : types_) names.push_back(name);
  return names;
}

Result<std::vector<Admission::Need>> Admission::Resolve(const ResourceAmounts& amounts,
                                                        bool for_release) {
  if (amounts.empty()) {
    return Status(Code::kInvalidArgument, "a request must name at least one resource type");
  }
  std::vector<Need> needs;
  needs.reserve(amounts.size());
  for (const auto& [name, amount] : amounts) {
    auto it = types_.find(name);
    if (it == types_.end()) {
      std::string known;
      for (const auto& [known_name, state] : types_) {
        known += (known.empty() ? "" : ", ") + known_name;
      }
      return Status(Code::kUnknownResource, "unknown resource type " + Quote(name) +
                                                "; known types: " + known +
                                                " (AddResourceType adds one)");
    }
    if (amount <= 0) {
      return Status(Code::kInvalidArgument, "amount of " + Quote(name) + " must be positive, got " +
                                                std::to_string(amount));
    }
    TypeState& state = it->second;
    Need need{&*it, 0, 0};
    if (charge_ == Charge::kTokens) {
      if (for_release) {
        return Status(Code::kInvalidArgument, "tokens are consumed, not released");
      }
      if (amount > state.bucket->capacity()) {
        return Status(Code::kInvalidArgument, "request for " + std::to_string(amount) +
                                                  " tokens exceeds the bucket capacity " +
                                                  std::to_string(state.bucket->capacity()) +
                                                  "; ask for at most that many");
      }
      need.tokens = amount;
    } else {
      if (!for_release && amount > state.capacity) {
        return Status(Code::kInvalidArgument,
                      "request for " + std::to_string(amount) + " of " + Quote(name) +
                          " exceeds its capacity " + std::to_string(state.capacity) +
                          "; ask for at most that much or raise the capacity");
      }
      need.hold = amount;
      need.tokens = state.bucket ? 1 : 0;
    }
    needs.push_back(need);
  }
  return needs;
}

Admission::Verdict Admission::Evaluate(const std::vector<Need>& needs, Clock::TimePoint now,
                                       uint64_t pass, Clock::TimePoint* ready_at) {
  for (const Need& need : needs) {
    const TypeState& state = need.type->second;
    if (state.blocked_in_pass == pass) return Verdict::kBlocked;
    // in_use may exceed capacity after a shrink; this form cannot overflow.
    if (need.hold > state.capacity - state.in_use) return Verdict::kBlocked;
  }
  Clock::TimePoint ready = now;
  for (const Need& need : needs) {
    if (need.tokens == 0) continue;
    Bucket& bucket = *need.type->second.bucket;
    bucket.Refill(now);
    if (!bucket.Has(need.tokens)) ready = std::max(ready, bucket.ReadyAt(need.tokens));
  }
  if (ready > now) {
    *ready_at = ready;
    return Verdict::kWaitTokens;
  }
  return Verdict::kGrant;
}

void Admission::Block(const std::vector<Need>& needs, uint64_t pass) {
  for (const Need& need : needs) need.type->second.blocked_in_pass = pass;
}

void Admission::Grant(Waiter& w, Clock::TimePoint now) {
  for (const Need& need : w.needs) {
    TypeState& state = need.type->second;
    state.in_use += need.hold;
    state.peak = std::max(state.peak, state.in_use);
    if (need.tokens > 0) state.bucket->Take(need.tokens);
    ++state.acquisitions;
    state.total_wait += now - w.start;
  }
  if (hooks_ != nullptr && w.admitted) hooks_->Granted(w.owner, w.amounts, w.waited);
  w.done = true;
  w.status = Status::Ok();
  w.cv.notify_one();
}

Status Admission::Refuse(Waiter& w, Status status) {
  for (const Need& need : w.needs) ++need.type->second.failures;
  if (hooks_ != nullptr && w.admitted) hooks_->Refused(w.owner, w.amounts, w.waited);
  w.done = true;
  w.status = std::move(status);
  w.cv.notify_one();
  return w.status;
}

void Admission::Leave(Waiter& w, Status status) {
  queue_.erase(&w);
  Refuse(w, std::move(status));
  // Its departure may unblock the waiters behind it.
  RunGrantPass(clock_->Now());
}

void Admission::RunGrantPass(Clock::TimePoint now) {
  if (stopped_) return;
  const uint64_t pass = ++pass_;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Waiter& w = **it;
    Clock::TimePoint ready_at = Clock::TimePoint::max();
    if (Evaluate(w.needs, now, pass, &ready_at) == Verdict::kGrant) {
      it = queue_.erase(it);
      Grant(w, now);
      continue;
    }
    // Wake it early if its tokens now arrive sooner than it planned for.
    if (ready_at < w.tokens_ready_at) w.cv.notify_one();
    w.tokens_ready_at = ready_at;
    Block(w.needs, pass);
    ++it;
  }
}

Status Admission::Acquire(const std::string& owner, const ResourceAmounts& amounts,
                          const AcquireOptions& options) {
  Waiter w(owner, amounts, options.priority);
  // Registered before taking the lock: if a stop was already requested, the callback runs
  // right here and must be able to lock. It is destroyed after the lock is released
  // (reverse order of declaration), since its destructor waits for a running callback.
  auto wake = [this, &w] {
    std::lock_guard<std::mutex> guard(mu_);
    w.cv.notify_one();
  };
  std::optional<std::stop_callback<decltype(wake)>> wake_on_cancel;
  if (options.cancel.stop_possible()) wake_on_cancel.emplace(options.cancel, wake);
  std::unique_lock<std::mutex> lock(mu_);
  return AcquireLocked(lock, w, options);
}

Status Admission::AcquireLocked(std::unique_lock<std::mutex>& lock, Waiter& w,
                                const AcquireOptions& options) {
  if (stopped_) return StoppedStatus();
  Result<std::vector<Need>> needs = Resolve(w.amounts, /*for_release=*/false);
  if (!needs.ok()) return needs.status();
  w.needs = std::move(*needs);

  Clock::TimePoint now = clock_->Now();
  if (options.cancel.stop_requested()) {
    return Refuse(w, Status(Code::kCancelled, "the request was cancelled before it started"));
  }
  if (options.deadline && *options.deadline <= now) {
    return Refuse(
        w, Status(Code::kDeadlineExceeded, "the deadline had passed before the request started"));
  }
  if (hooks_ != nullptr) {
    Status admitted = hooks_->Admit(w.owner, w.amounts);
    if (!admitted.ok()) return Refuse(w, std::move(admitted));
    w.admitted = true;
  }
  w.seq = next_seq_++;
  w.start = now;
  queue_.insert(&w);
  RunGrantPass(now);
  if (w.done) return w.status;

  if (hooks_ != nullptr) {
    Status may_wait = hooks_->BeforeWait(w.owner, w.amounts, w.priority);
    if (!may_wait.ok()) {
      Leave(w, std::move(may_wait));
      return w.status;
    }
    w.waited = true;
  }
  while (!w.done) {
    if (options.cancel.stop_requested()) {
      Leave(w, Status(Code::kCancelled, "the request was cancelled while waiting"));
      break;
    }
    now = clock_->Now();
    if (options.deadline && now >= *options.deadline) {
      Leave(w, Status(Code::kDeadlineExceeded,
                      "the deadline passed while waiting; allow more time, ask for less "
                      "or raise the capacity"));
      break;
    }
    if (now >= w.tokens_ready_at) {
      RunGrantPass(now);
      continue;
    }
    Clock::TimePoint wake_at = std::min(w.tokens_ready_at, now + kMaxWaitSlice);
    if (options.deadline) wake_at = std::min(wake_at, *options.deadline);
    clock_->WaitUntil(w.cv, lock, wake_at);
  }
  return w.status;
}

Status Admission::TryAcquire(const std::string& owner, const ResourceAmounts& amounts,
                             int priority) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return StoppedStatus();
  Waiter w(owner, amounts, priority);
  Result<std::vector<Need>> needs = Resolve(amounts, /*for_release=*/false);
  if (!needs.ok()) return needs.status();
  w.needs = std::move(*needs);

  if (hooks_ != nullptr) {
    Status admitted = hooks_->Admit(owner, amounts);
    if (!admitted.ok()) return Refuse(w, std::move(admitted));
    w.admitted = true;
  }
  const Clock::TimePoint now = clock_->Now();
  RunGrantPass(now);  // serve waiters whose tokens have arrived first
  // The try may not overtake waiters of equal or higher priority for its types.
  const uint64_t pass = ++pass_;
  for (const Waiter* queued : queue_) {
    if (queued->priority < priority) break;
    Block(queued->needs, pass);
  }
  Clock::TimePoint ready_at;
  if (Evaluate(w.needs, now, pass, &ready_at) != Verdict::kGrant) {
    return Refuse(
        w, Status(Code::kExhausted, "not available now; use a blocking Acquire or retry later"));
  }
  w.start = now;
  Grant(w, now);
  return Status::Ok();
}

Status Admission::Release(const std::string& owner, const ResourceAmounts& amounts) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<Need>> needs = Resolve(amounts, /*for_release=*/true);
  if (!needs.ok()) return needs.status();
  for (const Need& need : *needs) {
    if (need.hold > need.type->second.in_use) {
      return Status(Code::kNotAcquired, "release of " + std::to_string(need.hold) + " " +
                                            Quote(need.type->first) + " exceeds the " +
                                            std::to_string(need.type->second.in_use) +
                                            " held; release only what was acquired");
    }
  }
  if (hooks_ != nullptr) {
    Status released = hooks_->Release(owner, amounts);
    if (!released.ok()) return released;
  }
  for (const Need& need : *needs) need.type->second.in_use -= need.hold;
  RunGrantPass(clock_->Now());
  return Status::Ok();
}

Status Admission::SetCapacity(const std::string& type, int64_t capacity, bool keep_demand) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = types_.find(type);
  if (it == types_.end()) {
    return Status(Code::kUnknownResource, "unknown resource type " + Quote(type));
  }
  if (capacity <= 0) {
    return Status(Code::kInvalidCapacity, "capacity of " + Quote(type) + " must be positive, got " +
                                              std::to_string(capacity));
  }
  TypeState& state = it->second;
  if (keep_demand) {
    capacity = std::max(capacity, state.in_use);
    for (const Waiter* w : queue_) {
      for (const Need& need : w->needs) {
        if (need.type == &*it) capacity = std::max(capacity, need.hold);
      }
    }
  }
  state.capacity = capacity;
  // Waiters asking for more than the whole capacity could never be served.
  for (auto w_it = queue_.begin(); w_it != queue_.end();) {
    Waiter& w = **w_it;
    auto too_big = [&](const Need& need) { return need.type == &*it && need.hold > capacity; };
    if (std::none_of(w.needs.begin(), w.needs.end(), too_big)) {
      ++w_it;
      continue;
    }
    w_it = queue_.erase(w_it);
    Refuse(w,
           Status(Code::kInvalidArgument, "the capacity of " + Quote(type) + " was lowered to " +
                                              std::to_string(capacity) + ", below this request"));
  }
  RunGrantPass(clock_->Now());
  return Status::Ok();
}

PoolStats Admission::StatsLocked(const TypeMap::value_type& type) const {
  const TypeState& state = type.second;
  PoolStats stats;
  stats.capacity = state.capacity;
  stats.current = state.in_use;
  stats.peak = state.peak;
  stats.acquisitions = state.acquisitions;
  stats.failures = state.failures;
  if (state.acquisitions > 0) stats.average_wait = state.total_wait / state.acquisitions;
  stats.usage_percent =
      100.0 * static_cast<double>(state.in_use) / static_cast<double>(state.capacity);
  for (const Waiter* w : queue_) {
    for (const Need& need : w->needs) {
      if (need.type == &type) ++stats.waiting;
    }
  }
  return stats;
}

Result<PoolStats> Admission::Stats(const std::string& type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = types_.find(type);
  if (it == types_.end()) {
    return Status(Code::kUnknownResource, "unknown resource type " + Quote(type));
  }
  return StatsLocked(*it);
}

std::vector<std::pair<std::string, PoolStats>> Admission::AllStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, PoolStats>> all;
  for (const auto& type : types_) all.emplace_back(type.first, StatsLocked(type));
  return all;
}

Result<double> Admission::AvailableTokens(const std::string& type) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = types_.find(type);
  if (it == types_.end() || !it->second.bucket) {
    return Status(Code::kUnknownResource, "no rate limit on " + Quote(type));
  }
  it->second.bucket->Refill(clock_->Now());
  return it->second.bucket->Available();
}

Result<Clock::Duration> Admission::TimeUntilTokens(const std::string& type, int64_t tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = types_.find(type);
  if (it == types_.end() || !it->second.bucket) {
    return Status(Code::kUnknownResource, "no rate limit on " + Quote(type));
  }
  Bucket& bucket = *it->second.bucket;
  if (tokens < 1 || tokens > bucket.capacity()) {
    return Status(Code::kInvalidArgument, "token count must be between 1 and the capacity " +
                                              std::to_string(bucket.capacity()) + ", got " +
                                              std::to_string(tokens));
  }
  const Clock::TimePoint now = clock_->Now();
  bucket.Refill(now);
  return std::max(Clock::Duration::zero(), bucket.ReadyAt(tokens) - now);
}

void Admission::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  for (Waiter* w : queue_) Refuse(*w, StoppedStatus());
  queue_.clear();
}

}  // namespace cloudai::rm::internal
