// Tests of the integration-test harness itself, with /bin/sh children.
#include "harness.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <thread>

#include "common/strings.h"

namespace cloudai::integration {
namespace {

std::unique_ptr<Process> StartShell(const TestDir& dir, const std::string& script,
                                    std::map<std::string, std::string> env = {}) {
  ProcessOptions options;
  options.args = {"/bin/sh", "-c", script};
  options.env = std::move(env);
  options.cwd = dir.path();
  options.log_path = dir.Sub("sh.log");
  std::string error;
  std::unique_ptr<Process> p = Process::Start(options, &error);
  EXPECT_NE(p, nullptr) << error;
  return p;
}

TEST(HarnessTest, FreePortIsBindableAndDistinct) {
  const int a = FreePort();
  const int b = FreePort();
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_FALSE(PortAcceptsConnections(a));
}

TEST(HarnessTest, WaitUntilIsBounded) {
  const Clock::time_point start = Clock::now();
  EXPECT_FALSE(WaitUntil([] { return false; }, milliseconds(200)));
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(1500));
  int calls = 0;
  EXPECT_TRUE(WaitUntil([&] { return ++calls == 3; }, seconds(5), milliseconds(1)));
}

TEST(HarnessTest, WaitForLineSeesOutputWrittenLater) {
  TestDir dir;
  std::unique_ptr<Process> p =
      StartShell(dir, "echo starting; sleep 0.3; echo \"serving on 127.0.0.1:4242\"; sleep 30");
  ASSERT_NE(p, nullptr);
  std::optional<std::string> line = p->WaitForLine("serving on", seconds(10));
  ASSERT_TRUE(line.has_value()) << p->ReadLog();
  EXPECT_EQ(*line, "serving on 127.0.0.1:4242");
  std::optional<std::vector<std::string>> m =
      p->WaitForRegex(std::regex(R"(serving on (\S+):(\d+))"), seconds(1));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ((*m)[1], "127.0.0.1");
  EXPECT_EQ((*m)[2], "4242");
  EXPECT_TRUE(p->Running());
}

TEST(HarnessTest, WaitForLineFromAnOffsetIgnoresEarlierOutput) {
  TestDir dir;
  std::unique_ptr<Process> p = StartShell(dir, "echo ready; read x; sleep 30");
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->WaitForLine("ready", seconds(10)).has_value());
  const size_t mark = p->LogSize();
  EXPECT_FALSE(p->WaitForLine("ready", milliseconds(200), mark).has_value());
}

TEST(HarnessTest, WaitForLineGivesUpWhenTheProcessExits) {
  TestDir dir;
  std::unique_ptr<Process> p = StartShell(dir, "echo bye; exit 3");
  ASSERT_NE(p, nullptr);
  const Clock::time_point start = Clock::now();
  EXPECT_FALSE(p->WaitForLine("never printed", seconds(20)).has_value());
  EXPECT_LT(Clock::now() - start, seconds(5));
  std::optional<ExitStatus> status = p->Wait(seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 3);
  EXPECT_NE(p->ReadLog().find("bye"), std::string::npos);
}

TEST(HarnessTest, StderrGoesToTheLogAndEnvironmentIsPassed) {
  TestDir dir;
  std::unique_ptr<Process> p =
      StartShell(dir, "echo \"to stderr $HARNESS_VALUE\" >&2; pwd", {{"HARNESS_VALUE", "42"}});
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->Wait(seconds(10)).has_value());
  const std::string log = p->ReadLog();
  EXPECT_NE(log.find("to stderr 42"), std::string::npos) << log;
  EXPECT_NE(log.find(dir.path()), std::string::npos) << log;
}

TEST(HarnessTest, SignalStopsAndWaitReportsTheSignal) {
  TestDir dir;
  std::unique_ptr<Process> p = StartShell(dir, "exec sleep 30");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->Wait(milliseconds(100)).has_value());
  ASSERT_TRUE(p->Signal(SIGTERM));
  std::optional<ExitStatus> status = p->Wait(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_FALSE(p->Running());
  EXPECT_FALSE(p->Signal(SIGTERM));
}

TEST(HarnessTest, DestructorKillsTheWholeGroup) {
  TestDir dir;
  const std::string pid_file = dir.Sub("child.pid");
  {
    std::unique_ptr<Process> p =
        StartShell(dir, StrCat("sleep 60 & echo $! > ", pid_file, "; wait"));
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(WaitUntil([&] { return !ReadFile(pid_file).empty(); }, seconds(10)));
  }
  const pid_t child = std::stoi(ReadFile(pid_file));
  // The grandchild was reparented and is reaped by init; it must be gone or a zombie.
  EXPECT_TRUE(WaitUntil(
      [&] {
        if (::kill(child, 0) != 0) return true;
        const std::string stat = ReadFile(StrCat("/proc/", child, "/stat"));
        return stat.find(") Z") != std::string::npos;
      },
      seconds(10)));
}

TEST(HarnessTest, KillProcessesUnderFindsProcessesByWorkingDirectory) {
  TestDir dir;
  const std::string sub = dir.Sub("work", /*create=*/true);
  const std::string pid_file = dir.Sub("orphan.pid");
  // A process that leaves its own group (as a worker's task does) and outlives its parent.
  std::unique_ptr<Process> p = StartShell(
      dir, StrCat("(cd ", sub, " && exec setsid sleep 60) & echo $! > ", pid_file, "; exit 0"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->Wait(seconds(10)).has_value());
  ASSERT_TRUE(WaitUntil([&] { return !ReadFile(pid_file).empty(); }, seconds(10)));
  ASSERT_TRUE(WaitUntil(
      [&] {
        // Until the exec the subshell's command line is the whole script.
        return ReadFile(StrCat("/proc/", std::stoi(ReadFile(pid_file)), "/cmdline"))
                   .rfind("sleep", 0) == 0;
      },
      seconds(10)));
  EXPECT_GE(KillProcessesUnder(sub), 1);
  EXPECT_EQ(KillProcessesUnder(dir.Sub("nothing-here")), 0);
}

TEST(HarnessTest, RunCommandCapturesOutputAndExitCode) {
  TestDir dir;
  CommandResult r =
      RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, dir.path());
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");

  CommandResult slow = RunCommand({"/bin/sh", "-c", "sleep 30"}, dir.path(), milliseconds(200));
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.exit_code, -1);

  CommandResult missing = RunCommand({"/nonexistent/program"}, dir.path());
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_NE(missing.err.find("No such file"), std::string::npos) << missing.err;
}

TEST(HarnessTest, RunCommandFromManyThreads) {
  TestDir dir;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        CommandResult r = RunCommand({"/bin/sh", "-c", StrCat("echo ", t, "-", i)}, dir.path());
        if (r.exit_code == 0 && r.out == StrCat(t, "-", i, "\n")) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
}

TEST(HarnessTest, JsonHelpersFollowTheProtobufMapping) {
  std::optional<Json> j = ParseJson(
      R"({"a":"123","b":7,"s":"x","t":true,"o":{"k":1},"l":[1,2],"d":0.5,"n":null})");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(JInt(*j, "a"), 123);
  EXPECT_EQ(JInt(*j, "b"), 7);
  EXPECT_EQ(JInt(*j, "missing"), 0);
  EXPECT_EQ(JInt(*j, "n"), 0);
  EXPECT_EQ(JStr(*j, "s"), "x");
  EXPECT_EQ(JStr(*j, "missing"), "");
  EXPECT_TRUE(JBool(*j, "t"));
  EXPECT_FALSE(JBool(*j, "missing"));
  EXPECT_EQ(JInt(JObj(*j, "o"), "k"), 1);
  EXPECT_TRUE(JObj(*j, "missing").empty());
  EXPECT_EQ(JArr(*j, "l").size(), 2u);
  EXPECT_TRUE(JArr(*j, "missing").empty());
  EXPECT_DOUBLE_EQ(JDouble(*j, "d"), 0.5);
  EXPECT_FALSE(ParseJson("not json").has_value());
}

}  // namespace
}  // namespace cloudai::integration
