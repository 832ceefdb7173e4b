#include "cloudai/rm/load_monitor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cloudai::rm {
namespace {

// A factor applied to a capacity, rounded toward the factor's direction and kept in range.
int64_t Scale(int64_t capacity, double factor) {
  const double scaled = static_cast<double>(capacity) * factor;
  const double max = static_cast<double>(std::numeric_limits<int64_t>::max() / 2);
  if (scaled >= max) return static_cast<int64_t>(max);
  return static_cast<int64_t>(factor > 1 ? std::ceil(scaled) : std::floor(scaled));
}

}  // namespace

Result<std::unique_ptr<LoadMonitor>> LoadMonitor::Create(LoadTarget& target,
                                                         LoadMonitorOptions options) {
  const double up = options.scale_up_threshold;
  const double down = options.scale_down_threshold;
  if (!(down >= 0 && down < up && up <= 100)) {
    return Status(Code::kInvalidArgument,
                  "load thresholds need 0 <= scale_down_threshold < scale_up_threshold <= "
                  "100 (percent), got down=" +
                      std::to_string(down) + " up=" + std::to_string(up));
  }
  if (!(options.scale_up_factor > 1 && std::isfinite(options.scale_up_factor)) ||
      !(options.scale_down_factor > 0 && options.scale_down_factor < 1)) {
    return Status(Code::kInvalidArgument,
                  "scale factors need scale_up_factor > 1 and 0 < scale_down_factor < 1, "
                  "got up=" +
                      std::to_string(options.scale_up_factor) +
                      " down=" + std::to_string(options.scale_down_factor));
  }
  if (options.interval <= Clock::Duration::zero()) {
    return Status(Code::kInvalidArgument, "load monitor interval must be positive");
  }
  if (!options.clock) options.clock = Clock::Real();
  return std::unique_ptr<LoadMonitor>(new LoadMonitor(target, std::move(options)));
}

LoadMonitor::LoadMonitor(LoadTarget& target, LoadMonitorOptions options)
    : target_(target), options_(std::move(options)) {}

LoadMonitor::~LoadMonitor() { Stop(); }

void LoadMonitor::RegisterCallback(LoadCallback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  callbacks_.push_back(std::move(callback));
}

void LoadMonitor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  // The schedule starts now, not whenever the thread gets to run.
  const Clock::TimePoint first_check = options_.clock->Now() + options_.interval;
  thread_ = std::thread([this, first_check] { Run(first_check); });
}

void LoadMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void LoadMonitor::Run(Clock::TimePoint next_check) {
  const Clock& clock = *options_.clock;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (clock.Now() < next_check) {
      clock.WaitUntil(cv_, lock, next_check);
      continue;
    }
    lock.unlock();
    CheckNow();
    lock.lock();
    // Skip the checks missed while the clock jumped ahead; keep the cadence otherwise.
    const Clock::TimePoint now = clock.Now();
    next_check += options_.interval;
    if (next_check <= now) next_check = now + options_.interval;
  }
}

int64_t LoadMonitor::TargetCapacity(const LoadTarget::Sample& sample) const {
  if (sample.capacity <= 0) return sample.capacity;
  const double load =
      100.0 * static_cast<double>(sample.in_use) / static_cast<double>(sample.capacity);
  if (load >= options_.scale_up_threshold && sample.capacity < sample.max_capacity) {
    return std::min(sample.max_capacity, Scale(sample.capacity, options_.scale_up_factor));
  }
  if (load <= options_.scale_down_threshold && sample.capacity > sample.min_capacity) {
    const int64_t floor = std::max({sample.min_capacity, sample.in_use, int64_t{1}});
    return std::max(floor, Scale(sample.capacity, options_.scale_down_factor));
  }
  return sample.capacity;
}

void LoadMonitor::CheckNow() {
  std::lock_guard<std::mutex> check_lock(check_mu_);
  std::vector<LoadCallback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks = callbacks_;
  }
  for (const LoadTarget::Sample& sample : target_.SampleLoad()) {
    const double load = sample.capacity > 0 ? 100.0 * static_cast<double>(sample.in_use) /
                                                  static_cast<double>(sample.capacity)
                                            : 0.0;
    for (const LoadCallback& callback : callbacks) callback(sample.type, load);
    if (!options_.auto_scale) continue;
    const int64_t capacity = TargetCapacity(sample);
    if (capacity != sample.capacity) target_.ScaleCapacity(sample.type, capacity);
  }
}

}  // namespace cloudai::rm
