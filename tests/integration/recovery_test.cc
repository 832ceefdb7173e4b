// Crashes: the master killed and restarted on its state dir (tasks, results and
// assignments survive; a task running through the crash reports back; nothing runs twice)
// and a worker killed (its tasks are lost after the grace period, their resources
// released, and a task with retries left runs again elsewhere).
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using RecoveryTest = ClusterTest;

std::vector<std::string> Small() {
  return {"-cpu_cores", "0.1", "-mem", "0.05", "-storage", "0.01"};
}

std::vector<std::string> Join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(RecoveryTest, MasterKilledAndRestartedKeepsEverythingAndRunsNothingTwice) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("w1");
  ASSERT_NE(w, nullptr);
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  const int64_t all_cpu = ResourcesOf(*status).total.cpu;

  // Finished before the crash.
  ASSERT_EQ(Cli(Join(Join({"task", "w1", kAnyImage, "--id", "before"}, Small()),
                     {"--", "echo done-before-crash"}))
                .exit_code,
            0);
  ASSERT_TRUE(WaitForTaskState("before", {"completed"}, seconds(15)).has_value());

  // Running through the crash: appends one line when it starts, finishes while the master
  // is down.
  const std::string runs = dir().Sub("runs.txt");
  const std::string spool_marker = dir().Sub("through-finished");
  ASSERT_EQ(Cli(Join(Join({"task", "w1", kAnyImage, "--id", "through"}, Small()),
                     {"--", StrCat("echo run >> ", runs, "; sleep 2; echo finished-through; "
                                   "touch ", spool_marker)}))
                .exit_code,
            0);
  // Queued behind it: needs the whole worker, so it waits until "through" ends.
  const std::string queued_runs = dir().Sub("queued-runs.txt");
  ASSERT_EQ(Cli({"submit", kAnyImage, "--id", "queued", "-cpu_cores", StrCat(all_cpu, "m"),
                 "-mem", "0.05", "-storage", "0.01", "--",
                 StrCat("echo run >> ", queued_runs)})
                .exit_code,
            0);
  ASSERT_TRUE(WaitForTaskState("through", {"running"}, seconds(10)).has_value());
  ASSERT_TRUE(WaitUntil([&] { return CountLines(runs) == 1; }, seconds(5)));
  EXPECT_EQ(TaskState("queued"), "pending");

  ASSERT_TRUE(master()->Signal(SIGKILL));
  ASSERT_TRUE(master()->Wait(seconds(10)).has_value());
  // The task ends while no master listens: the worker must keep its result and retry.
  ASSERT_TRUE(WaitUntil([&] { return ::access(spool_marker.c_str(), F_OK) == 0; }, seconds(10)))
      << "the task did not finish while the master was down";
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(StartMaster());

  // Finished task, with its result and logs.
  std::optional<Json> before = GetTask("before");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(JStr(*before, "status"), "completed") << before->dump();
  EXPECT_EQ(JStr(*before, "worker_id"), "w1");
  CommandResult before_logs = Cli({"logs", "before"});
  EXPECT_EQ(before_logs.exit_code, 0) << before_logs.ToString();
  EXPECT_NE(before_logs.out.find("done-before-crash"), std::string::npos)
      << before_logs.ToString();

  // The assignment survived; the result reported after the restart arrives.
  std::optional<Json> through = GetTask("through");
  ASSERT_TRUE(through.has_value());
  EXPECT_EQ(JStr(*through, "worker_id"), "w1") << through->dump();
  std::optional<Json> through_done =
      WaitForTaskState("through", {"completed", "failed", "lost", "cancelled"}, seconds(20));
  ASSERT_TRUE(through_done.has_value());
  EXPECT_EQ(JStr(*through_done, "status"), "completed") << through_done->dump();
  EXPECT_EQ(JInt(*through_done, "exit_code"), 0);
  CommandResult through_logs = Cli({"logs", "through"});
  EXPECT_NE(through_logs.out.find("finished-through"), std::string::npos)
      << through_logs.ToString();

  // The queued task survived the crash too, and runs once resources are free.
  std::optional<Json> queued_done =
      WaitForTaskState("queued", {"completed", "failed", "lost", "cancelled"}, seconds(20));
  ASSERT_TRUE(queued_done.has_value());
  EXPECT_EQ(JStr(*queued_done, "status"), "completed") << queued_done->dump();

  // The worker is back with the master, and nothing ran twice.
  EXPECT_TRUE(WaitWorkerActive("w1", true, seconds(10)));
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(10)));
  std::this_thread::sleep_for(milliseconds(2000));
  EXPECT_EQ(CountLines(runs), 1) << ReadFile(runs);
  EXPECT_EQ(CountLines(queued_runs), 1) << ReadFile(queued_runs);
  EXPECT_EQ(TaskState("through"), "completed");
}

TEST_F(RecoveryTest, MasterKilledWhileATaskRunsSeesItFinishAfterTheRestart) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  const std::string runs = dir().Sub("runs.txt");
  ASSERT_EQ(Cli(Join(Join({"task", "w1", kAnyImage, "--id", "long"}, Small()),
                     {"--", StrCat("echo run >> ", runs, "; sleep 5; echo finished-long")}))
                .exit_code,
            0);
  ASSERT_TRUE(WaitForTaskState("long", {"running"}, seconds(10)).has_value());
  ASSERT_TRUE(master()->Signal(SIGKILL));
  ASSERT_TRUE(master()->Wait(seconds(10)).has_value());
  ASSERT_TRUE(StartMaster());

  // Still running on w1 after the restart (the worker registers back with it) ...
  std::optional<Json> running = GetTask("long");
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(JStr(*running, "worker_id"), "w1");
  EXPECT_TRUE(WaitWorkerActive("w1", true, seconds(10)));
  std::optional<Json> w = WorkerStatus("w1");
  ASSERT_TRUE(w.has_value());
  if (TaskState("long") == "running") {
    EXPECT_EQ(ResourcesOf(*w).allocated.cpu, 100) << w->dump();
  }
  // ... and completes there, once.
  std::optional<Json> done =
      WaitForTaskState("long", {"completed", "failed", "lost", "cancelled"}, seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(10)));
  EXPECT_EQ(CountLines(runs), 1) << ReadFile(runs);
}

TEST_F(RecoveryTest, KilledWorkersTasksAreLostAndRetriedElsewhere) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w1 = StartRegisteredWorker("w1");
  ASSERT_NE(w1, nullptr);

  // Both land on w1, the only worker so far.
  ASSERT_EQ(Cli(Join(Join({"task", "w1", kAnyImage, "--id", "doomed"}, Small()),
                     {"--", "sleep 60"}))
                .exit_code,
            0);
  const std::string runs = dir().Sub("retried-runs.txt");
  // The first run blocks; a second run finishes at once.
  const std::string script = StrCat("n=$(cat ", runs, " 2>/dev/null | wc -l); echo run >> ",
                                    runs, "; if [ \"$n\" -eq 0 ]; then sleep 60; fi; "
                                    "echo retried-run-done");
  ASSERT_EQ(Cli(Join(Join({"submit", kAnyImage, "--id", "retried", "--max-retries", "1"},
                          Small()),
                     {"--", script}))
                .exit_code,
            0);
  std::optional<Json> placed = WaitForTaskState("retried", {"running"}, seconds(10));
  ASSERT_TRUE(placed.has_value());
  ASSERT_EQ(JStr(*placed, "worker_id"), "w1");
  ASSERT_TRUE(WaitForTaskState("doomed", {"running"}, seconds(10)).has_value());
  ASSERT_TRUE(WaitUntil([&] { return CountLines(runs) == 1; }, seconds(5)));

  ASSERT_NE(StartRegisteredWorker("w2"), nullptr);
  ASSERT_TRUE(w1->process->Signal(SIGKILL));
  const Clock::time_point killed_at = Clock::now();

  EXPECT_TRUE(WaitWorkerActive("w1", false, seconds(10)));
  std::optional<Json> lost = WaitForTaskState("doomed", {"lost", "completed", "failed"},
                                              seconds(20));
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(JStr(*lost, "status"), "lost") << lost->dump();
  EXPECT_GE(Clock::now() - killed_at, milliseconds(2500))
      << "lost before the inactivity timeout and the grace could have passed";

  // w1's resources are released.
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(5)));
  std::optional<Json> w1_status = WorkerStatus("w1");
  ASSERT_TRUE(w1_status.has_value());
  EXPECT_TRUE(JArr(*w1_status, "running_task_ids").empty()) << w1_status->dump();

  // The task with a retry left runs again, on w2, and completes.
  std::optional<Json> retried = WaitForTaskState("retried", {"completed", "failed", "lost"},
                                                 seconds(25));
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(JStr(*retried, "status"), "completed") << retried->dump();
  EXPECT_EQ(JStr(*retried, "worker_id"), "w2") << retried->dump();
  EXPECT_EQ(CountLines(runs), 2) << ReadFile(runs);
  CommandResult logs = Cli({"logs", "retried"});
  EXPECT_NE(logs.out.find("retried-run-done"), std::string::npos) << logs.ToString();
  EXPECT_TRUE(WaitWorkerIdle("w2", seconds(5)));
}

TEST_F(RecoveryTest, RestartedWorkerRegistersBackWithoutTheAdmin) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("w1");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->process->Signal(SIGKILL));
  ASSERT_TRUE(w->process->Wait(seconds(10)).has_value());
  ASSERT_TRUE(WaitWorkerActive("w1", false, seconds(10)));
  // Same id and work dir: it finds the master's address there and registers back. It may
  // come up on another port; the master learns the new one.
  WorkerHandle* again = StartWorker("w1");
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(WaitWorkerActive("w1", true, seconds(15)))
      << "a restarted worker registers back with the master it knew";
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(JStr(JObj(*status, "info"), "worker_ip"), again->address);
  ASSERT_EQ(Cli(Join(Join({"task", "w1", kAnyImage, "--id", "after-restart"}, Small()),
                     {"--", "true"}))
                .exit_code,
            0);
  EXPECT_TRUE(WaitForTaskState("after-restart", {"completed"}, seconds(15)).has_value());
}

}  // namespace
}  // namespace cloudai::integration
