#include "cloudai/rm/token_bucket.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <limits>
#include <stop_token>

#include "test_util.h"

namespace cloudai::rm {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using testing::Eventually;
using testing::Resolves;
using testing::StillPending;

class TokenBucketTest : public ::testing::Test {
 protected:
  std::unique_ptr<TokenBucket> Make(int64_t capacity, double rate) {
    Result<std::unique_ptr<TokenBucket>> bucket = TokenBucket::Create(capacity, rate, clock_);
    EXPECT_TRUE(bucket.ok()) << bucket.status().ToString();
    return std::move(*bucket);
  }

  std::shared_ptr<SimulatedClock> clock_ = std::make_shared<SimulatedClock>();
};

TEST_F(TokenBucketTest, RejectsInvalidCapacityAndRate) {
  EXPECT_EQ(TokenBucket::Create(0, 1).status().code(), Code::kInvalidCapacity);
  EXPECT_EQ(TokenBucket::Create(-5, 1).status().code(), Code::kInvalidCapacity);
  EXPECT_EQ(TokenBucket::Create(TokenBucket::kMaxTokens + 1, 1).status().code(),
            Code::kInvalidCapacity);
  EXPECT_EQ(TokenBucket::Create(10, 0).status().code(), Code::kInvalidRate);
  EXPECT_EQ(TokenBucket::Create(10, -1).status().code(), Code::kInvalidRate);
  EXPECT_EQ(TokenBucket::Create(10, std::nan("")).status().code(), Code::kInvalidRate);
  EXPECT_EQ(TokenBucket::Create(10, std::numeric_limits<double>::infinity()).status().code(),
            Code::kInvalidRate);
  EXPECT_TRUE(TokenBucket::Create(10, 0.5).ok());
}

TEST_F(TokenBucketTest, StartsFullAndBurstsUpToCapacity) {
  auto bucket = Make(10, 2);
  EXPECT_DOUBLE_EQ(bucket->Available(), 10);
  EXPECT_TRUE(bucket->TryAcquire(4).ok());
  EXPECT_TRUE(bucket->TryAcquire(6).ok());
  Status empty = bucket->TryAcquire(1);
  EXPECT_EQ(empty.code(), Code::kExhausted) << empty.ToString();
  EXPECT_DOUBLE_EQ(bucket->Available(), 0);
}

TEST_F(TokenBucketTest, RefillIsComputedFromTheClock) {
  auto bucket = Make(10, 2);  // one token every 500 ms
  ASSERT_TRUE(bucket->TryAcquire(10).ok());
  EXPECT_EQ(*bucket->TimeUntilAvailable(1), milliseconds(500));
  EXPECT_EQ(*bucket->TimeUntilAvailable(3), milliseconds(1500));

  clock_->Advance(milliseconds(250));
  EXPECT_DOUBLE_EQ(bucket->Available(), 0.5);
  EXPECT_EQ(bucket->TryAcquire(1).code(), Code::kExhausted);
  EXPECT_EQ(*bucket->TimeUntilAvailable(1), milliseconds(250));

  clock_->Advance(milliseconds(250));
  EXPECT_TRUE(bucket->TryAcquire(1).ok());
  EXPECT_EQ(*bucket->TimeUntilAvailable(1), milliseconds(500));
}

TEST_F(TokenBucketTest, RefillStopsAtCapacity) {
  auto bucket = Make(10, 2);
  ASSERT_TRUE(bucket->TryAcquire(10).ok());
  clock_->Advance(std::chrono::hours(1));
  EXPECT_DOUBLE_EQ(bucket->Available(), 10);
  EXPECT_EQ(*bucket->TimeUntilAvailable(10), nanoseconds(0));
  EXPECT_TRUE(bucket->TryAcquire(10).ok());
  EXPECT_EQ(bucket->TryAcquire(1).code(), Code::kExhausted);
}

TEST_F(TokenBucketTest, KeepsFractionalTokensExactlyOverManySmallRefills) {
  auto bucket = Make(3, 3);
  ASSERT_TRUE(bucket->TryAcquire(3).ok());
  // 999 steps of 1,001,001 ns = 999,999,999 ns: 2.999999997 tokens, one nanosecond short.
  for (int i = 0; i < 999; ++i) {
    clock_->Advance(nanoseconds(1'001'001));
    ASSERT_EQ(bucket->TryAcquire(3).code(), Code::kExhausted) << "step " << i;
  }
  EXPECT_EQ(*bucket->TimeUntilAvailable(3), nanoseconds(1));
  clock_->Advance(nanoseconds(1));
  EXPECT_TRUE(bucket->TryAcquire(3).ok());
}

TEST_F(TokenBucketTest, FractionalRate) {
  auto bucket = Make(1, 0.5);  // one token every 2 s
  ASSERT_TRUE(bucket->TryAcquire(1).ok());
  EXPECT_EQ(*bucket->TimeUntilAvailable(1), seconds(2));
  clock_->Advance(milliseconds(1999));
  EXPECT_EQ(bucket->TryAcquire(1).code(), Code::kExhausted);
  clock_->Advance(milliseconds(1));
  EXPECT_TRUE(bucket->TryAcquire(1).ok());
}

TEST_F(TokenBucketTest, RequestAboveCapacityIsAnErrorNotAWait) {
  auto bucket = Make(10, 1);
  EXPECT_EQ(bucket->TryAcquire(11).code(), Code::kInvalidArgument);
  EXPECT_EQ(bucket->Acquire(11).code(), Code::kInvalidArgument);  // returns, no deadline
  EXPECT_EQ(bucket->TimeUntilAvailable(11).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bucket->TryAcquire(0).code(), Code::kInvalidArgument);
  EXPECT_EQ(bucket->Acquire(-1).code(), Code::kInvalidArgument);
  EXPECT_DOUBLE_EQ(bucket->Available(), 10);  // nothing was taken
}

TEST_F(TokenBucketTest, BlockingAcquireIsWokenByRefill) {
  auto bucket = Make(4, 2);
  ASSERT_TRUE(bucket->TryAcquire(4).ok());
  auto acquired = std::async(std::launch::async, [&] { return bucket->Acquire(2); });
  ASSERT_TRUE(Eventually([&] { return bucket->Waiting() == 1; }));

  clock_->Advance(milliseconds(999));  // 1.998 tokens: not yet
  EXPECT_TRUE(StillPending(acquired));
  clock_->Advance(milliseconds(1));
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_TRUE(acquired.get().ok());
  EXPECT_DOUBLE_EQ(bucket->Available(), 0);
  EXPECT_EQ(bucket->Waiting(), 0);
}

TEST_F(TokenBucketTest, DeadlineExpires) {
  auto bucket = Make(1, 1);
  ASSERT_TRUE(bucket->TryAcquire(1).ok());
  AcquireOptions options;
  options.deadline = clock_->Now() + milliseconds(100);
  auto acquired = std::async(std::launch::async, [&] { return bucket->Acquire(1, options); });
  ASSERT_TRUE(Eventually([&] { return bucket->Waiting() == 1; }));
  clock_->Advance(milliseconds(100));
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_EQ(acquired.get().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(bucket->Waiting(), 0);
  EXPECT_DOUBLE_EQ(bucket->Available(), 0.1);  // the timed-out waiter took nothing
}

TEST_F(TokenBucketTest, CancelledByStopSource) {
  auto bucket = Make(1, 1);
  ASSERT_TRUE(bucket->TryAcquire(1).ok());
  std::stop_source stop;
  AcquireOptions options;
  options.cancel = stop.get_token();
  auto acquired = std::async(std::launch::async, [&] { return bucket->Acquire(1, options); });
  ASSERT_TRUE(Eventually([&] { return bucket->Waiting() == 1; }));
  stop.request_stop();
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_EQ(acquired.get().code(), Code::kCancelled);
  EXPECT_EQ(bucket->Waiting(), 0);

  // An already cancelled token fails at once, even with tokens available.
  clock_->Advance(seconds(1));
  EXPECT_EQ(bucket->Acquire(1, options).code(), Code::kCancelled);
  EXPECT_DOUBLE_EQ(bucket->Available(), 1);
}

TEST_F(TokenBucketTest, WaitingRequestIsNotOvertakenBySmallerOnes) {
  auto bucket = Make(5, 2);
  ASSERT_TRUE(bucket->TryAcquire(5).ok());
  auto big = std::async(std::launch::async, [&] { return bucket->Acquire(5); });
  ASSERT_TRUE(Eventually([&] { return bucket->Waiting() == 1; }));
  clock_->Advance(seconds(1));  // 2 tokens, but they are the big waiter's
  EXPECT_EQ(bucket->TryAcquire(1).code(), Code::kExhausted);
  clock_->Advance(milliseconds(1500));  // 5 tokens
  ASSERT_TRUE(Resolves(big));
  EXPECT_TRUE(big.get().ok());
  EXPECT_DOUBLE_EQ(bucket->Available(), 0);
}

TEST_F(TokenBucketTest, StopWakesWaiters) {
  auto bucket = Make(1, 1);
  ASSERT_TRUE(bucket->TryAcquire(1).ok());
  auto acquired = std::async(std::launch::async, [&] { return bucket->Acquire(1); });
  ASSERT_TRUE(Eventually([&] { return bucket->Waiting() == 1; }));
  bucket->Stop();
  ASSERT_TRUE(Resolves(acquired));
  EXPECT_EQ(acquired.get().code(), Code::kStopped);
  clock_->Advance(seconds(1));
  EXPECT_EQ(bucket->TryAcquire(1).code(), Code::kStopped);
}

}  // namespace
}  // namespace cloudai::rm
