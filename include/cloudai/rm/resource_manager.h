// ResourceManager: the CloudAI embeddable resource manager. Agents (named by strings)
// acquire and release amounts of named resource types.
//
// Each resource type has a capacity and an optional rate limit (acquisitions per second).
// On top of the per-type pools the manager enforces:
//   - per-agent quotas (kQuotaExceeded at once, counting what the agent holds and asks for);
//   - deadlock detection: before a request blocks, its waits enter a wait-for graph, and a
//     wait that would close a cycle is refused with kDeadlockDetected instead of hanging;
//   - all-or-nothing multi-type requests: Acquire(agent, {{"cpu", 2}, {"memory", 512}});
//   - priorities without starvation, deadlines and cancellation (see acquire_options.h);
//   - load monitoring with callbacks and automatic capacity scaling (see load_monitor.h).
// Releasing more than an agent holds is refused with kNotAcquired and changes nothing.
// Stop() wakes every waiter with kStopped and joins the monitor thread; releases still work
// afterwards, so leases may outlive Stop() (but not the manager).
//
// Thread safety: every method may be called from any thread. Destroying the manager while
// another thread is inside one of its methods is not allowed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cloudai/common/clock.h"
#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/lease.h"
#include "cloudai/rm/load_monitor.h"
#include "cloudai/rm/resource_pool.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

// Names of the standard resource types (any other name works as well).
inline constexpr char kCpu[] = "cpu";
inline constexpr char kMemory[] = "memory";
inline constexpr char kFileHandles[] = "file_handles";
inline constexpr char kNetwork[] = "network";

struct ResourceTypeConfig {
  // Non-empty and unique.
  std::string name;
  // > 0, else kInvalidCapacity.
  int64_t capacity = 0;
  // Acquisitions per second; 0 = unlimited. Negative or not finite: kInvalidRate.
  double rate_limit = 0;
  // Most acquisitions admitted in a burst; 0 = max(1, ceil(rate_limit)).
  int64_t burst = 0;
  // Bounds for automatic scaling; 0 = capacity (no automatic change in that direction).
  // Need min_capacity <= capacity <= max_capacity, else kInvalidCapacity.
  int64_t min_capacity = 0;
  int64_t max_capacity = 0;
};

struct ResourceManagerConfig {
  std::vector<ResourceTypeConfig> types;
  bool enable_deadlock_detection = true;
  // Load monitoring (see LoadMonitorOptions). A zero interval runs no monitor thread;
  // CheckLoadNow() still works.
  bool enable_auto_scaling = true;
  double scale_up_threshold = 80.0;
  double scale_down_threshold = 20.0;
  double scale_up_factor = 1.5;
  double scale_down_factor = 0.5;
  Clock::Duration monitor_interval = std::chrono::seconds(5);
  // Null: the real clock.
  std::shared_ptr<Clock> clock;
};

// cpu 100, memory 1 GiB (in bytes), file_handles 1000, network 100, each limited to 50
// acquisitions per second and scalable between a tenth and twice its capacity.
ResourceManagerConfig DefaultConfig();

class ResourceManager {
 public:
  static Result<std::unique_ptr<ResourceManager>> Create(ResourceManagerConfig config);
  // Calls Stop().
  ~ResourceManager();

  ResourceManager(const ResourceManager&) = delete;
  ResourceManager& operator=(const ResourceManager&) = delete;

  // Adds a resource type at run time (validated as in the config; duplicates are
  // kInvalidArgument).
  Status AddResourceType(const ResourceTypeConfig& type);
  std::vector<std::string> ResourceTypes() const;

  // Waits until every amount is granted to `agent` (all or nothing).
  Status Acquire(const std::string& agent, const ResourceAmounts& amounts,
                 const AcquireOptions& options = {});
  Status Acquire(const std::string& agent, const std::string& type, int64_t amount,
                 const AcquireOptions& options = {});
  // Grants every amount now, or returns kExhausted (or another error) and takes nothing.
  Status TryAcquire(const std::string& agent, const ResourceAmounts& amounts, int priority = 0);
  Status TryAcquire(const std::string& agent, const std::string& type, int64_t amount,
                    int priority = 0);
  // Like Acquire / TryAcquire; the Lease releases everything when it goes away.
  Result<Lease> AcquireLease(const std::string& agent, const ResourceAmounts& amounts,
                             const AcquireOptions& options = {});
  Result<Lease> TryAcquireLease(const std::string& agent, const ResourceAmounts& amounts,
                                int priority = 0);
  // Gives back what `agent` holds; kNotAcquired (and no change) if any amount exceeds it.
  Status Release(const std::string& agent, const ResourceAmounts& amounts);
  Status Release(const std::string& agent, const std::string& type, int64_t amount);

  // Quotas: limit >= 0; the type must exist.
  Status SetQuota(const std::string& agent, const std::string& type, int64_t limit);
  Status RemoveQuota(const std::string& agent, const std::string& type);
  // What `agent` holds of `type` / of every type.
  int64_t GetUsage(const std::string& agent, const std::string& type) const;
  ResourceAmounts GetAgentUsage(const std::string& agent) const;

  // 100 * in use / capacity.
  Result<double> GetPoolUsage(const std::string& type) const;
  Result<PoolStats> GetPoolStats(const std::string& type) const;
  // Sets a type's capacity by hand (any value > 0; the scaling bounds do not apply) and
  // wakes waiters that now fit.
  Status SetPoolCapacity(const std::string& type, int64_t capacity);

  void RegisterLoadCallback(LoadCallback callback);
  // One load check (callbacks and scaling) now, on the caller's thread.
  void CheckLoadNow();

  // Wakes all waiters with kStopped, refuses later acquisitions, joins the monitor thread.
  void Stop();

 private:
  struct Impl;
  explicit ResourceManager(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace cloudai::rm
