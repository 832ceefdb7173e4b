// AcquireOptions and ResourceAmounts: the vocabulary shared by every blocking acquisition
// in the CloudAI resource manager (TokenBucket, Semaphore, ResourcePool, ResourceManager).
//
// A blocking Acquire waits until it is granted, its deadline passes (kDeadlineExceeded),
// its stop_token is triggered (kCancelled) or its component is stopped (kStopped). A
// request that ends without a grant takes nothing.
//
// Waiters are served by priority (higher first), first-come first-served within a
// priority. A waiter that cannot be served yet holds back every later or lower-priority
// waiter that needs one of its resource types (so a large request is never starved by a
// stream of small ones), but not waiters of other types. A try-acquire never overtakes a
// waiter of equal or higher priority for the same type.
//
// Thread safety: plain values. A std::stop_token may be shared between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>

#include "cloudai/common/clock.h"

namespace cloudai::rm {

struct AcquireOptions {
  // Give up with kDeadlineExceeded at this time of the component's Clock. None: no limit.
  std::optional<Clock::TimePoint> deadline;
  // Give up with kCancelled once a stop is requested on this token's std::stop_source.
  std::stop_token cancel;
  // Higher values are served first; equal values in arrival order.
  int priority = 0;
};

// Amounts per resource type name, e.g. {{"cpu", 2}, {"memory", 512}}. Every amount must
// be positive. A multi-type request is all-or-nothing: every amount or none.
using ResourceAmounts = std::map<std::string, int64_t>;

}  // namespace cloudai::rm
