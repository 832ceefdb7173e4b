// Clock: the one source of time for CloudAI code.
//
// Everything that reads the time or waits for it (token buckets, TTLs, heartbeats,
// timeouts) takes a Clock, so tests can use a SimulatedClock and move time by hand
// instead of sleeping.
//
// Now() is monotonic and is what deadlines and rates are computed from; WallNow() is
// the calendar time stored in records and shown to people.
//
// Thread safety: every method of both implementations may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace cloudai {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  // Monotonic time; never goes backwards.
  virtual TimePoint Now() const = 0;
  // Calendar time.
  virtual WallTime WallNow() const = 0;

  // Blocks on `cv` (whose mutex `lock` holds) until it is notified, `deadline` (in this
  // clock's time) passes, or a spurious wake-up. Callers re-check their condition and
  // Now() in a loop, as with std::condition_variable. A SimulatedClock wakes waiters
  // soon after Advance() moves its time past their deadline.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) const = 0;

  // Sleeps until Now() >= Now() + d (in this clock's time).
  void SleepFor(Duration d) const;

  // The process-wide real clock.
  static std::shared_ptr<Clock> Real();
};

// Unix milliseconds of a calendar time, the form CloudAI stores and sends times in.
inline int64_t ToUnixMillis(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A clock whose time moves only when told. Starts at an arbitrary fixed point.
class SimulatedClock final : public Clock {
 public:
  SimulatedClock();

  TimePoint Now() const override;
  WallTime WallNow() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override;

  // Moves time forward by `d` (negative durations are ignored).
  void Advance(Duration d);

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  WallTime wall_now_;
};

}  // namespace cloudai
