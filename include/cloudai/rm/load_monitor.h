// LoadMonitor: watches the load of CloudAI resource types and scales their capacity.
//
// Every `interval` of its Clock (on its own thread, started by Start()), or when CheckNow()
// is called, the monitor samples each type of its LoadTarget, reports the load (100 *
// in use / capacity) to every registered callback, and, when auto-scaling is on:
//   - load >= scale_up_threshold:   capacity *= scale_up_factor, at most max_capacity;
//   - load <= scale_down_threshold: capacity *= scale_down_factor, at least min_capacity;
//     the target also keeps it at or above what is in use and what waiters ask for.
// With a SimulatedClock, advancing time past the next interval triggers a check.
//
// Thread safety: every method may be called from any thread. Callbacks run on the thread
// doing the check (the monitor's thread or CheckNow's caller) with no lock of the monitor
// held; they may call the target, but not Stop() or CheckNow(). Checks never overlap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/common/clock.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

// Called with a resource type and its load in percent.
using LoadCallback = std::function<void(const std::string& type, double load_percent)>;

// What a LoadMonitor watches and scales (a ResourceManager provides one).
class LoadTarget {
 public:
  struct Sample {
    std::string type;
    int64_t capacity = 0;
    int64_t in_use = 0;
    // Bounds for automatic scaling.
    int64_t min_capacity = 0;
    int64_t max_capacity = 0;
  };

  virtual ~LoadTarget() = default;
  virtual std::vector<Sample> SampleLoad() = 0;
  // Sets an automatically chosen capacity. The target may raise a decrease to keep it at
  // or above what is in use and what waiters ask for.
  virtual void ScaleCapacity(const std::string& type, int64_t capacity) = 0;
};

struct LoadMonitorOptions {
  // Percent, 0 <= down < up <= 100. Else kInvalidArgument.
  double scale_up_threshold = 80.0;
  double scale_down_threshold = 20.0;
  // up > 1 and 0 < down < 1. Else kInvalidArgument.
  double scale_up_factor = 1.5;
  double scale_down_factor = 0.5;
  // Off: callbacks only, capacities are left alone.
  bool auto_scale = true;
  // Time between checks on the monitor's thread; > 0. Else kInvalidArgument.
  Clock::Duration interval = std::chrono::seconds(5);
  // Null: the real clock.
  std::shared_ptr<Clock> clock;
};

class LoadMonitor {
 public:
  // `target` must outlive the monitor.
  static Result<std::unique_ptr<LoadMonitor>> Create(LoadTarget& target,
                                                     LoadMonitorOptions options);
  // Stops the thread if running.
  ~LoadMonitor();

  LoadMonitor(const LoadMonitor&) = delete;
  LoadMonitor& operator=(const LoadMonitor&) = delete;

  void RegisterCallback(LoadCallback callback);
  // Starts the periodic checks on the monitor's own thread (no-op if started or stopped).
  void Start();
  // One check now, on the caller's thread.
  void CheckNow();
  // Stops and joins the monitor's thread. Idempotent; the monitor cannot be restarted.
  void Stop();

  // The capacity a check would choose for one sample (exposed for documentation and tests).
  int64_t TargetCapacity(const LoadTarget::Sample& sample) const;

 private:
  LoadMonitor(LoadTarget& target, LoadMonitorOptions options);
  void Run(Clock::TimePoint first_check);

  LoadTarget& target_;
  const LoadMonitorOptions options_;

  std::mutex check_mu_;  // serializes checks
  std::mutex mu_;        // guards the fields below
  std::condition_variable cv_;
  std::vector<LoadCallback> callbacks_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cloudai::rm
