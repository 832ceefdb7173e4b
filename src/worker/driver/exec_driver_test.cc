#include "worker/driver/exec_driver.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>

namespace cloudai::worker {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct Run {
  std::shared_ptr<LogSpool> spool;
  std::promise<TaskExit> exit;
};

class ExecDriverTest : public ::testing::Test {
 protected:
  // The tests' parent cgroup goes with them (an empty cgroup can be removed).
  void TearDown() override {
    const std::string parent = Options().cgroup_parent;
    for (const char* fs : {"/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"}) {
      rmdir((std::string(fs) + "/" + parent).c_str());
    }
  }

  ExecDriverOptions Options() {
    ExecDriverOptions o;
    o.work_dir = ::testing::TempDir();
    o.kill_grace = milliseconds(500);
    o.cgroup_parent = "cloudai-test-" + std::to_string(getpid());
    return o;
  }

  std::future<TaskExit> Start(ExecDriver& driver, TaskSpec spec,
                              std::shared_ptr<LogSpool>* spool_out = nullptr) {
    auto spool = LogSpool::Create(std::string(::testing::TempDir()) + "/" + spec.task_id + "-" +
                                  std::to_string(getpid()) + ".log")
                     .value();
    auto promise = std::make_shared<std::promise<TaskExit>>();
    auto future = promise->get_future();
    absl::Status s = driver.Start(spec, spool, [promise](const std::string&, const TaskExit& e) {
      promise->set_value(e);
    });
    EXPECT_TRUE(s.ok()) << s;
    if (spool_out != nullptr) *spool_out = spool;
    return future;
  }

  static std::string Log(const std::shared_ptr<LogSpool>& spool) {
    return spool->Read(0, 1 << 20, false, 0).value().data;
  }
};

TaskSpec Spec(std::string id, std::string command) {
  TaskSpec s;
  s.task_id = std::move(id);
  s.command = std::move(command);
  s.request = Resources::Of(500, 64);
  return s;
}

TEST_F(ExecDriverTest, ExitCodeAndOutput) {
  ExecDriver driver(Options());
  std::shared_ptr<LogSpool> spool;
  auto exit = Start(driver, Spec("t-exit", "echo hello; echo oops >&2; exit 3"), &spool).get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_TRUE(spool->closed());
  const std::string log = Log(spool);
  EXPECT_NE(log.find("hello\n"), std::string::npos);
  EXPECT_NE(log.find("oops\n"), std::string::npos);
  EXPECT_LE(exit.started_at_ms, exit.finished_at_ms);
}

TEST_F(ExecDriverTest, SuccessAndEnvironment) {
  ExecDriver driver(Options());
  TaskSpec spec = Spec("t-env", "echo \"$GREETING from $CLOUDAI_TASK_ID\"");
  spec.env["GREETING"] = "hi";
  std::shared_ptr<LogSpool> spool;
  auto exit = Start(driver, spec, &spool).get();
  EXPECT_EQ(exit.status, "completed");
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_NE(Log(spool).find("hi from t-env\n"), std::string::npos);
}

TEST_F(ExecDriverTest, CancelStopsTheWholeGroupQuickly) {
  ExecDriver driver(Options());
  auto future = Start(driver, Spec("t-cancel", "sleep 60 & sleep 60; echo never"));
  ASSERT_EQ(driver.Running(), std::vector<std::string>{"t-cancel"});
  const auto t0 = steady_clock::now();
  ASSERT_TRUE(driver.Cancel("t-cancel").ok());
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const TaskExit exit = future.get();
  EXPECT_EQ(exit.status, "cancelled");
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(driver.Running().empty());
  EXPECT_TRUE(driver.Cancel("t-cancel").code() == absl::StatusCode::kNotFound);
}

TEST_F(ExecDriverTest, TimeoutFailsTheTask) {
  ExecDriver driver(Options());
  TaskSpec spec = Spec("t-timeout", "sleep 30");
  spec.timeout_ms = 200;
  auto exit = Start(driver, spec).get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_NE(exit.error.find("timed out after 200 ms"), std::string::npos);
}

TEST_F(ExecDriverTest, BackgroundChildrenDoNotKeepTheTaskAlive) {
  ExecDriver driver(Options());
  const auto t0 = steady_clock::now();
  auto exit = Start(driver, Spec("t-bg", "sleep 60 & echo started")).get();
  EXPECT_EQ(exit.status, "completed");
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(5));
}

// The shell's exit is reported as soon as it happens, even while a background child
// still holds the output pipe: the child is killed then, not waited for.
TEST_F(ExecDriverTest, ShellExitIsReportedPromptlyWhileAChildHoldsItsOutput) {
  ExecDriver driver(Options());
  std::shared_ptr<LogSpool> spool;
  const auto t0 = steady_clock::now();
  // The last thing the shell does is print the time (ms since the epoch) it is about to
  // exit at.
  auto future = Start(driver, Spec("t-bg-prompt", "sleep 30 & echo started; date +%s%3N"),
                      &spool);
  ASSERT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const TaskExit exit = future.get();
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(exit.status, "completed");
  const std::string log = Log(spool);
  ASSERT_NE(log.find("started\n"), std::string::npos) << log;
  const size_t line = log.find('\n', log.find("started\n")) + 1;
  const int64_t shell_exit_ms = std::stoll(log.substr(line));
  EXPECT_LT(exit.finished_at_ms - shell_exit_ms, 1000) << log;
}

// A shell that closed its output but goes on running can still be cancelled.
TEST_F(ExecDriverTest, CancelAfterTheShellClosedItsOutput) {
  ExecDriver driver(Options());
  auto future = Start(driver, Spec("t-closed", "exec >&- 2>&-; sleep 60"));
  usleep(100'000);  // lets the shell close its output first
  ASSERT_TRUE(driver.Cancel("t-closed").ok());
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get().status, "cancelled");
}

// Without a cgroup, a process that left the task's process group may keep the output
// open; the exit is still reported, one grace period after the shell's.
TEST_F(ExecDriverTest, EscapedProcessDoesNotHoldTheExitBeyondTheGrace) {
  ExecDriverOptions options = Options();
  options.cgroup_parent = "";
  ExecDriver driver(options);
  const std::string pid_file =
      std::string(::testing::TempDir()) + "/escaped-" + std::to_string(getpid()) + ".pid";
  const auto t0 = steady_clock::now();
  auto future = Start(driver, Spec("t-escaped", "setsid sh -c 'echo $$ > " + pid_file +
                                                     "; exec sleep 30' & sleep 0.2; echo done"));
  ASSERT_EQ(future.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  EXPECT_EQ(future.get().status, "completed");
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(15));
  pid_t escaped = 0;
  std::ifstream(pid_file) >> escaped;
  if (escaped > 0) kill(escaped, SIGKILL);
  unlink(pid_file.c_str());
}

TEST_F(ExecDriverTest, RefusesEmptyCommandsAndDuplicates) {
  ExecDriver driver(Options());
  auto spool = LogSpool::Create(std::string(::testing::TempDir()) + "/dup.log").value();
  EXPECT_EQ(driver.Start(Spec("t-empty", ""), spool, [](auto&, auto&) {}).code(),
            absl::StatusCode::kInvalidArgument);
  auto future = Start(driver, Spec("t-dup", "sleep 60"));
  EXPECT_EQ(driver.Start(Spec("t-dup", "true"), spool, [](auto&, auto&) {}).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(driver.Cancel("t-dup").ok());
  EXPECT_EQ(future.get().status, "cancelled");
}

// Where the host lets us, the task's cgroup carries its limits.
TEST_F(ExecDriverTest, CgroupLimitsWhenAvailable) {
  ExecDriver driver(Options());
  if (!driver.cgroups_enabled()) {
    GTEST_SKIP() << "cgroups unavailable here: " << driver.cgroups_unavailable_reason();
  }
  std::shared_ptr<LogSpool> spool;
  auto exit = Start(driver, Spec("t-cg", "cat /proc/self/cgroup"), &spool).get();
  EXPECT_EQ(exit.status, "completed");
  // Named after the worker's pid too: another worker's task "t-cg" has a cgroup of its own.
  EXPECT_NE(Log(spool).find("/t-cg." + std::to_string(::getpid())), std::string::npos) << Log(spool);
}

TEST_F(ExecDriverTest, DestructorEndsRunningTasks) {
  std::future<TaskExit> future;
  {
    ExecDriver driver(Options());
    future = Start(driver, Spec("t-dtor", "sleep 60"));
  }
  ASSERT_EQ(future.wait_for(milliseconds(0)), std::future_status::ready);
  EXPECT_EQ(future.get().status, "cancelled");
}

}  // namespace
}  // namespace cloudai::worker
