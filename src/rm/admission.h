// Admission: the one admission engine behind every CloudAI resource-manager front end
// (TokenBucket, Semaphore, ResourcePool, ResourceManager).
//
// It keeps, per named resource type, a capacity, the amount in use, an optional token
// bucket and statistics, plus one queue of blocked requests ordered by priority (higher
// first) and arrival. The grant pass walks that queue in order with a set of "blocked"
// types: a request is granted iff none of its types is blocked, every amount fits and the
// tokens it needs are there; otherwise its types become blocked for everyone behind it.
// That gives priorities, FIFO within a priority, no starvation of large requests and
// all-or-nothing multi-type grants. The pass runs on every release, capacity change,
// departure (timeout, cancellation) and when tokens a request waits for have arrived.
//
// Front ends add policy through AdmissionHooks (quotas, deadlock detection); the hooks run
// under the engine's lock, so a grant and its bookkeeping are one atomic step.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bucket.h"
#include "cloudai/common/clock.h"
#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/resource_pool.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm::internal {

// Per-owner policy of a front end. Every method is called with the engine's lock held and
// must not call back into the engine.
class AdmissionHooks {
 public:
  virtual ~AdmissionHooks() = default;
  // Before anything is taken; a non-OK status refuses the request at once.
  virtual Status Admit(const std::string& owner, const ResourceAmounts& amounts) = 0;
  // The request cannot be granted now and is about to block; a non-OK status refuses it.
  virtual Status BeforeWait(const std::string& owner, const ResourceAmounts& amounts,
                            int priority) = 0;
  // The end of a request that Admit accepted: granted, or ended without a grant.
  // `waited`: BeforeWait accepted it earlier.
  virtual void Granted(const std::string& owner, const ResourceAmounts& amounts, bool waited) = 0;
  virtual void Refused(const std::string& owner, const ResourceAmounts& amounts, bool waited) = 0;
  // Checks and records a release before the engine applies it; non-OK refuses it.
  virtual Status Release(const std::string& owner, const ResourceAmounts& amounts) = 0;
};

// What an amount means to an engine.
enum class Charge {
  // Amounts are held until released; a rate-limited type also takes one token per grant.
  kHold,
  // Amounts are tokens, consumed for good; nothing is held (TokenBucket).
  kTokens,
};

struct TypeSpec {
  int64_t capacity = 0;   // > 0
  double rate_limit = 0;  // tokens per second, 0 = no bucket
  int64_t burst = 0;      // bucket capacity, 0 = max(1, ceil(rate_limit))
};

class Admission {
 public:
  static constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

  // `hooks` may be null; if not, it must outlive the engine.
  Admission(std::shared_ptr<Clock> clock, Charge charge, AdmissionHooks* hooks = nullptr);

  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Validates `spec` (kInvalidCapacity, kInvalidRate) and adds the type. A duplicate or
  // empty name is kInvalidArgument.
  Status AddType(const std::string& name, const TypeSpec& spec);
  std::vector<std::string> TypeNames() const;

  Status Acquire(const std::string& owner, const ResourceAmounts& amounts,
                 const AcquireOptions& options);
  Status TryAcquire(const std::string& owner, const ResourceAmounts& amounts, int priority);
  Status Release(const std::string& owner, const ResourceAmounts& amounts);

  // Sets a capacity (> 0, else kInvalidCapacity). With `keep_demand` it is first raised to
  // what is in use and to the largest waiting request for the type. Waiters that can no
  // longer fit fail with kInvalidArgument; the others are re-examined.
  Status SetCapacity(const std::string& type, int64_t capacity, bool keep_demand = false);

  Result<PoolStats> Stats(const std::string& type) const;
  // Every type's statistics, taken at one instant.
  std::vector<std::pair<std::string, PoolStats>> AllStats() const;

  // Token bucket of a rate-limited type.
  Result<double> AvailableTokens(const std::string& type);
  Result<Clock::Duration> TimeUntilTokens(const std::string& type, int64_t tokens);

  // Fails every waiter with kStopped; later acquisitions get kStopped. Releases still work.
  void Stop();

  Clock& clock() const { return *clock_; }

 private:
  struct TypeState {
    int64_t capacity = 0;
    int64_t in_use = 0;
    std::optional<Bucket> bucket;
    int64_t peak = 0;
    int64_t acquisitions = 0;
    int64_t failures = 0;
    Clock::Duration total_wait{0};
    uint64_t blocked_in_pass = 0;  // the pass (or try) in which the type is blocked
  };
  using TypeMap = std::map<std::string, TypeState, std::less<>>;

  struct Need {
    TypeMap::value_type* type;
    int64_t hold;    // amount held until released
    int64_t tokens;  // tokens consumed
  };

  struct Waiter {
    Waiter(const std::string& o, const ResourceAmounts& a, int p)
        : owner(o), amounts(a), priority(p) {}
    const std::string& owner;
    const ResourceAmounts& amounts;
    const int priority;
    std::vector<Need> needs;
    uint64_t seq = 0;
    Clock::TimePoint start;
    // When the tokens it lacks arrive (max: it is not waiting for tokens).
    Clock::TimePoint tokens_ready_at = Clock::TimePoint::max();
    bool admitted = false;  // AdmissionHooks::Admit accepted it
    bool waited = false;    // AdmissionHooks::BeforeWait accepted it
    bool done = false;
    Status status;
    std::condition_variable cv;
  };

  struct QueueOrder {
    bool operator()(const Waiter* a, const Waiter* b) const {
      if (a->priority != b->priority) return a->priority > b->priority;
      return a->seq < b->seq;
    }
  };

  enum class Verdict { kGrant, kBlocked, kWaitTokens };

  // Validates a request and resolves its types.
  Result<std::vector<Need>> Resolve(const ResourceAmounts& amounts, bool for_release);
  Status AcquireLocked(std::unique_lock<std::mutex>& lock, Waiter& w,
                       const AcquireOptions& options);
  Verdict Evaluate(const std::vector<Need>& needs, Clock::TimePoint now, uint64_t pass,
                   Clock::TimePoint* ready_at);
  void Block(const std::vector<Need>& needs, uint64_t pass);
  void Grant(Waiter& w, Clock::TimePoint now);
  // Ends a request without a grant (statistics, hooks). Returns w.status.
  Status Refuse(Waiter& w, Status status);
  // Removes a queued waiter that ends without a grant and re-runs the grant pass.
  void Leave(Waiter& w, Status status);
  void RunGrantPass(Clock::TimePoint now);
  PoolStats StatsLocked(const TypeMap::value_type& type) const;

  const std::shared_ptr<Clock> clock_;
  const Charge charge_;
  AdmissionHooks* const hooks_;

  mutable std::mutex mu_;
  TypeMap types_;
  std::set<Waiter*, QueueOrder> queue_;
  uint64_t next_seq_ = 0;
  uint64_t pass_ = 0;
  bool stopped_ = false;
};

}  // namespace cloudai::rm::internal
