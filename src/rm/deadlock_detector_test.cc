#include "cloudai/rm/deadlock_detector.h"

#include <gtest/gtest.h>

namespace cloudai::rm {
namespace {

using Agents = std::set<std::string>;

TEST(DeadlockDetectorTest, RefusesTheWaitThatClosesACycle) {
  DeadlockDetector detector;
  detector.RecordAcquire("A", "x");
  detector.RecordAcquire("B", "y");
  ASSERT_TRUE(detector.RecordWait("A", "y").ok());
  EXPECT_EQ(detector.WaitsFor("A"), Agents{"B"});

  Status refused = detector.RecordWait("B", "x");
  EXPECT_EQ(refused.code(), Code::kDeadlockDetected);
  EXPECT_NE(refused.message().find("B -> A -> B"), std::string::npos) << refused.message();
  EXPECT_TRUE(detector.WaitsFor("B").empty());  // the refused wait was not recorded
}

TEST(DeadlockDetectorTest, FindsLongerCycles) {
  DeadlockDetector detector;
  detector.RecordAcquire("A", "x");
  detector.RecordAcquire("B", "y");
  detector.RecordAcquire("C", "z");
  ASSERT_TRUE(detector.RecordWait("A", "y").ok());
  ASSERT_TRUE(detector.RecordWait("B", "z").ok());
  EXPECT_EQ(detector.RecordWait("C", "x").code(), Code::kDeadlockDetected);
  EXPECT_TRUE(detector.RecordWait("C", "w").ok());  // nobody holds w
}

TEST(DeadlockDetectorTest, ReleaseOrClearedWaitBreaksTheCycle) {
  DeadlockDetector detector;
  detector.RecordAcquire("A", "x");
  detector.RecordAcquire("B", "y");
  ASSERT_TRUE(detector.RecordWait("A", "y").ok());
  detector.ClearWait("A", "y");
  EXPECT_TRUE(detector.RecordWait("B", "x").ok());
  detector.RecordRelease("A", "x");
  EXPECT_TRUE(detector.WaitsFor("B").empty());
  EXPECT_TRUE(detector.RecordWait("A", "y").ok());  // B waits for nobody now
}

TEST(DeadlockDetectorTest, WaitingForMoreOfWhatItHoldsIsNoCycle) {
  DeadlockDetector detector;
  detector.RecordAcquire("A", "x");
  EXPECT_TRUE(detector.RecordWait("A", "x").ok());
  EXPECT_TRUE(detector.WaitsFor("A").empty());
}

TEST(DeadlockDetectorTest, WaitersQueuedAheadCountAsDependencies) {
  // B waits for x (held by A) and y; A then asks for y. B is ahead of A for y, and B needs
  // what A holds: A waiting would deadlock even though nobody holds y.
  DeadlockDetector detector;
  detector.RecordAcquire("A", "x");
  ASSERT_TRUE(detector.RecordWait("B", "x").ok());
  ASSERT_TRUE(detector.RecordWait("B", "y").ok());
  EXPECT_EQ(detector.RecordWait("A", "y").code(), Code::kDeadlockDetected);
  // At a higher priority A would be served before B, so it may wait.
  EXPECT_TRUE(detector.RecordWait("A", "y", /*priority=*/1).ok());
  EXPECT_EQ(detector.WaitsFor("A"), Agents{});
  EXPECT_EQ(detector.WaitsFor("B"), (Agents{"A"}));
}

TEST(DeadlockDetectorTest, DisabledDetectorAllowsEverything) {
  DeadlockDetector detector(/*enabled=*/false);
  EXPECT_FALSE(detector.enabled());
  detector.RecordAcquire("A", "x");
  detector.RecordAcquire("B", "y");
  EXPECT_TRUE(detector.RecordWait("A", "y").ok());
  EXPECT_TRUE(detector.RecordWait("B", "x").ok());
}

}  // namespace
}  // namespace cloudai::rm
