#include "cloudai/rm/semaphore.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"

namespace cloudai::rm {
namespace {

using testing::Eventually;
using testing::Resolves;
using testing::StillPending;

std::unique_ptr<Semaphore> MakeSemaphore(int64_t capacity) {
  Result<std::unique_ptr<Semaphore>> semaphore = Semaphore::Create(capacity);
  EXPECT_TRUE(semaphore.ok()) << semaphore.status().ToString();
  return std::move(*semaphore);
}

TEST(SemaphoreTest, RejectsInvalidCapacity) {
  EXPECT_EQ(Semaphore::Create(0).status().code(), Code::kInvalidCapacity);
  EXPECT_EQ(Semaphore::Create(-3).status().code(), Code::kInvalidCapacity);
}

TEST(SemaphoreTest, AcquireTryAcquireAndRelease) {
  auto semaphore = MakeSemaphore(3);
  EXPECT_TRUE(semaphore->Acquire(2).ok());
  EXPECT_TRUE(semaphore->TryAcquire(1).ok());
  EXPECT_EQ(semaphore->InUse(), 3);
  EXPECT_EQ(semaphore->TryAcquire(1).code(), Code::kExhausted);
  EXPECT_TRUE(semaphore->Release(3).ok());
  EXPECT_EQ(semaphore->InUse(), 0);
  EXPECT_EQ(semaphore->Acquire(4).code(), Code::kInvalidArgument);  // above capacity
  EXPECT_EQ(semaphore->TryAcquire(0).code(), Code::kInvalidArgument);
}

TEST(SemaphoreTest, ReleasingMoreThanHeldChangesNothing) {
  auto semaphore = MakeSemaphore(5);
  EXPECT_EQ(semaphore->Release(1).code(), Code::kNotAcquired);
  ASSERT_TRUE(semaphore->Acquire(2).ok());
  EXPECT_EQ(semaphore->Release(3).code(), Code::kNotAcquired);
  EXPECT_EQ(semaphore->InUse(), 2);
  EXPECT_TRUE(semaphore->Release(2).ok());
}

TEST(SemaphoreTest, ReleaseWakesWaiter) {
  auto semaphore = MakeSemaphore(2);
  ASSERT_TRUE(semaphore->Acquire(2).ok());
  auto acquired = std::async(std::launch::async, [&] { return semaphore->Acquire(2); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  ASSERT_TRUE(semaphore->Release(1).ok());
  EXPECT_TRUE(StillPending(acquired));  // one unit is not enough
  ASSERT_TRUE(semaphore->Release(1).ok());
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_TRUE(acquired.get().ok());
  EXPECT_EQ(semaphore->InUse(), 2);
}

TEST(SemaphoreTest, GrowingCapacityWakesWaiters) {
  auto semaphore = MakeSemaphore(2);
  ASSERT_TRUE(semaphore->Acquire(2).ok());
  auto acquired = std::async(std::launch::async, [&] { return semaphore->Acquire(1); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  ASSERT_TRUE(semaphore->SetCapacity(3).ok());
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_TRUE(acquired.get().ok());
  EXPECT_EQ(semaphore->InUse(), 3);
}

TEST(SemaphoreTest, ShrinkingBelowUsageMakesNewAcquisitionsWait) {
  auto semaphore = MakeSemaphore(10);
  ASSERT_TRUE(semaphore->Acquire(8).ok());
  ASSERT_TRUE(semaphore->SetCapacity(5).ok());
  EXPECT_EQ(semaphore->Capacity(), 5);
  EXPECT_EQ(semaphore->InUse(), 8);
  EXPECT_EQ(semaphore->TryAcquire(1).code(), Code::kExhausted);
  ASSERT_TRUE(semaphore->Release(4).ok());  // 4 held of 5
  EXPECT_TRUE(semaphore->TryAcquire(1).ok());
  EXPECT_EQ(semaphore->TryAcquire(1).code(), Code::kExhausted);
  EXPECT_EQ(semaphore->SetCapacity(0).code(), Code::kInvalidCapacity);
}

TEST(SemaphoreTest, WaiterThatNoLongerFitsTheCapacityFails) {
  auto semaphore = MakeSemaphore(10);
  ASSERT_TRUE(semaphore->Acquire(5).ok());
  auto acquired = std::async(std::launch::async, [&] { return semaphore->Acquire(8); });
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 1; }));
  ASSERT_TRUE(semaphore->SetCapacity(6).ok());
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_EQ(acquired.get().code(), Code::kInvalidArgument);
  EXPECT_EQ(semaphore->InUse(), 5);
}

TEST(SemaphoreTest, StopWakesWaitersAndRefusesNewOnes) {
  auto semaphore = MakeSemaphore(1);
  ASSERT_TRUE(semaphore->Acquire(1).ok());
  std::vector<std::future<Status>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::async(std::launch::async, [&] { return semaphore->Acquire(1); }));
  }
  ASSERT_TRUE(Eventually([&] { return semaphore->Waiting() == 3; }));
  semaphore->Stop();
  for (auto& waiter : waiters) {
    ASSERT_TRUE(Resolves(waiter));
    EXPECT_EQ(waiter.get().code(), Code::kStopped);
  }
  EXPECT_EQ(semaphore->TryAcquire(1).code(), Code::kStopped);
  EXPECT_TRUE(semaphore->Release(1).ok());  // releases still work after Stop
  EXPECT_EQ(semaphore->InUse(), 0);
}

TEST(SemaphoreTest, NeverMoreHoldersThanCapacity) {
  constexpr int64_t kCapacity = 5;
  auto semaphore = MakeSemaphore(kCapacity);
  std::atomic<int64_t> held{0};
  std::atomic<int64_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      for (int i = 0; i < 2000; ++i) {
        const int64_t n = 1 + static_cast<int64_t>(random() % 3);
        ASSERT_TRUE(semaphore->Acquire(n).ok());
        const int64_t now_held = held.fetch_add(n) + n;
        int64_t seen = most.load();
        while (now_held > seen && !most.compare_exchange_weak(seen, now_held)) {
        }
        held.fetch_sub(n);
        ASSERT_TRUE(semaphore->Release(n).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), kCapacity);
  EXPECT_GT(most.load(), 0);
  EXPECT_EQ(semaphore->InUse(), 0);
  EXPECT_EQ(semaphore->Waiting(), 0);
}

}  // namespace
}  // namespace cloudai::rm
