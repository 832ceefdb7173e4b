#include "cloudai/common/clock.h"

namespace cloudai {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override {
    cv.wait_until(lock, deadline);
  }
};

// How long a waiter on a SimulatedClock sleeps in real time before it looks at the
// simulated time again. Small enough that tests advancing the clock see waiters react
// promptly, large enough that idle waiters cost nothing measurable.
constexpr auto kSimulatedPollInterval = std::chrono::milliseconds(1);

}  // namespace

void Clock::SleepFor(Duration d) const {
  const TimePoint until = Now() + d;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  while (Now() < until) WaitUntil(cv, lock, until);
}

std::shared_ptr<Clock> Clock::Real() {
  static const std::shared_ptr<Clock> clock = std::make_shared<RealClock>();
  return clock;
}

SimulatedClock::SimulatedClock()
    : now_(TimePoint(std::chrono::hours(24))),
      wall_now_(WallTime(std::chrono::seconds(1'767'225'600))) {}  // 2026-01-01T00:00:00Z

Clock::TimePoint SimulatedClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

Clock::WallTime SimulatedClock::WallNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_now_;
}

void SimulatedClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                               TimePoint deadline) const {
  if (Now() >= deadline) return;
  cv.wait_for(lock, kSimulatedPollInterval);
}

void SimulatedClock::Advance(Duration d) {
  if (d <= Duration::zero()) return;
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
  wall_now_ += std::chrono::duration_cast<WallTime::duration>(d);
}

}  // namespace cloudai
