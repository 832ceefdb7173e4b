// Heartbeats and inactivity: a worker that stops sending heartbeats (SIGSTOP) turns
// inactive after the master's inactivity timeout (2 s here) and active again when it
// resumes (SIGCONT).
#include <signal.h>

#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using HeartbeatTest = ClusterTest;

TEST_F(HeartbeatTest, HeartbeatsKeepTheWorkerActiveAndCarryUsage) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  std::optional<Json> first = WorkerStatus("w1");
  ASSERT_TRUE(first.has_value());
  const int64_t first_beat = JInt(*first, "last_heartbeat_ms");
  std::this_thread::sleep_for(milliseconds(1000));
  std::optional<Json> second = WorkerStatus("w1");
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(JBool(*second, "is_active"));
  EXPECT_GT(JInt(*second, "last_heartbeat_ms"), first_beat)
      << "no heartbeat recorded in a second with a 200 ms interval";
  for (const char* usage : {"cpu_usage", "memory_usage", "storage_usage", "gpu_usage"}) {
    const double v = JDouble(*second, usage);
    EXPECT_GE(v, 0.0) << usage;
    EXPECT_LE(v, 100.0) << usage;
  }
  // Still active well past the inactivity timeout.
  std::this_thread::sleep_for(milliseconds(2500));
  std::optional<Json> later = WorkerStatus("w1");
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(JBool(*later, "is_active")) << later->dump();
}

TEST_F(HeartbeatTest, StoppedWorkerTurnsInactiveAndResumedWorkerActiveAgain) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("w1");
  ASSERT_NE(w, nullptr);

  const Clock::time_point stopped_at = Clock::now();
  ASSERT_TRUE(w->process->Signal(SIGSTOP));
  ASSERT_TRUE(WaitWorkerActive("w1", false, seconds(10)))
      << "w1 still active 10 s after SIGSTOP (inactivity timeout 2 s)";
  const auto to_inactive = Clock::now() - stopped_at;
  EXPECT_GE(to_inactive, milliseconds(1500))
      << "inactive before the 2 s inactivity timeout could have passed";

  // The CLI's table and stats still answer for an inactive worker.
  CommandResult stats = Cli({"stats", "w1"});
  EXPECT_EQ(stats.exit_code, 0) << stats.ToString();

  // An inactive worker gets no direct assignment.
  CommandResult refused = Cli({"task", "w1", kAnyImage, "-cpu_cores", "0.1", "-mem", "0.05",
                               "-storage", "0.01", "--", "true"});
  EXPECT_EQ(refused.exit_code, 1) << refused.ToString();
  EXPECT_NE(refused.err.find("error:"), std::string::npos) << refused.ToString();

  ASSERT_TRUE(w->process->Signal(SIGCONT));
  EXPECT_TRUE(WaitWorkerActive("w1", true, seconds(10)))
      << "w1 not active again 10 s after SIGCONT";

  // And it takes work again.
  CommandResult ok = Cli({"task", "w1", kAnyImage, "--id", "after-resume", "-cpu_cores", "0.1",
                          "-mem", "0.05", "-storage", "0.01", "--", "echo resumed"});
  ASSERT_EQ(ok.exit_code, 0) << ok.ToString();
  std::optional<Json> done = WaitForTaskState("after-resume", {"completed"}, seconds(15));
  ASSERT_TRUE(done.has_value());
}

}  // namespace
}  // namespace cloudai::integration
