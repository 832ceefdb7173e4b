#include "cloudai/common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace cloudai {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SimulatedClock, MovesOnlyWhenAdvanced) {
  SimulatedClock clock;
  const auto t0 = clock.Now();
  const auto w0 = clock.WallNow();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(seconds(5));
  EXPECT_EQ(clock.Now() - t0, seconds(5));
  EXPECT_EQ(clock.WallNow() - w0, seconds(5));
  clock.Advance(seconds(-3));  // ignored: time never goes backwards
  EXPECT_EQ(clock.Now() - t0, seconds(5));
}

TEST(SimulatedClock, SleepForReturnsOnceTimeIsAdvanced) {
  SimulatedClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(seconds(60));
    woke = true;
  });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(woke.load());  // a minute of simulated time has not passed
  clock.Advance(seconds(60));
  sleeper.join();
  EXPECT_TRUE(woke.load());
}

TEST(RealClock, IsMonotonicAndWaitsUntilDeadline) {
  auto clock = Clock::Real();
  const auto t0 = clock->Now();
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  const auto deadline = t0 + milliseconds(20);
  while (clock->Now() < deadline) clock->WaitUntil(cv, lock, deadline);
  EXPECT_GE(clock->Now() - t0, milliseconds(20));
}

}  // namespace
}  // namespace cloudai
