// Tests of `cloudai shell` without a terminal: command lines read from a stream (and from
// a real pipe into the cloudai binary) against a FakeClusterService. The terminal side
// (line editing, live views) is tested in tmux by tests/integration/shell_test.cc.
#include "cli/shell.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/live_views.h"
#include "client/fake_cluster_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudai::cli {
namespace {

using client::testing::FakeClusterServer;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kNowMs = 1'714'564'800'000;  // 2024-05-01 12:00:00 UTC

struct Result {
  int code;
  std::string out;
  std::string err;
};

v1::WorkerStatus Worker(const std::string& id, bool active) {
  v1::WorkerStatus w;
  w.mutable_info()->set_worker_id(id);
  w.mutable_info()->set_worker_ip("10.0.0.5:50052");
  w.mutable_info()->set_total_cpu(4000);
  w.mutable_info()->set_total_memory(8192);
  w.mutable_info()->set_total_storage(10240);
  w.set_is_active(active);
  w.mutable_allocated()->set_cpu(1000);
  w.mutable_allocated()->set_memory(2048);
  w.mutable_available()->set_cpu(3000);
  w.mutable_available()->set_memory(6144);
  w.mutable_available()->set_storage(10240);
  w.set_last_heartbeat_ms(kNowMs - 2000);
  w.add_running_task_ids("t-1");
  return w;
}

v1::TaskStatus Task(const std::string& status) {
  v1::TaskStatus t;
  t.mutable_task()->set_task_id("t-42");
  t.mutable_task()->set_docker_image("busybox");
  t.set_status(status);
  t.set_worker_id("w1");
  t.set_created_at_ms(kNowMs - 10'000);
  t.set_started_at_ms(kNowMs - 9'000);
  if (status == "completed") {
    t.set_completed_at_ms(kNowMs - 4'000);
    t.set_exit_code(0);
  }
  return t;
}

class ShellTest : public ::testing::Test {
 protected:
  Result Shell(const std::string& input) {
    std::istringstream in(input);
    CliContext context;
    const std::string address = server_.address();
    context.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "HOME") return std::string("/nonexistent");
      return std::nullopt;
    };
    context.now_ms = [] { return kNowMs; };
    context.in = &in;
    context.stdin_fd = -1;
    std::ostringstream out;
    std::ostringstream err;
    const int code =
        RunCli({"--master", address, "--token", "secret", "shell"}, out, err, context);
    return {code, out.str(), err.str()};
  }
  client::testing::FakeClusterService& fake() { return server_.service(); }

  FakeClusterServer server_{"secret"};
};

TEST_F(ShellTest, RunsVerbsLineByLineWithoutEscapeCodes) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = Worker("w1", true);
  fake().SetWorkers(workers);
  fake().SetWorker(Worker("w1", true));
  const Result r = Shell("workers\nlist\n\nstats w1\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("w1  active  10.0.0.5:50052  running tasks: 1\n"));
  EXPECT_THAT(r.out, HasSubstr("Resource  Total"));
  EXPECT_THAT(r.out, HasSubstr("Allocated %"));  // stats, printed once
  EXPECT_THAT(r.out, Not(HasSubstr("\033")));
  EXPECT_THAT(r.out, Not(HasSubstr("master>")));  // no prompt without a terminal
  EXPECT_EQ(fake().calls().size(), 3u);
}

TEST_F(ShellTest, ErrorsKeepTheShellRunning) {
  fake().FailWith("GetTask", grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task nope"));
  v1::QueueStatusResponse queue;
  fake().SetQueue(queue);
  const Result r = Shell(
      "frobnicate\n"
      "get nope\n"
      "stats\n"
      "echo 'unterminated\n"
      "monitor\n"
      "tasks --master x:1\n"
      "queue\n");
  EXPECT_THAT(r.err, HasSubstr("error: unknown command \"frobnicate\""));
  EXPECT_THAT(r.err, HasSubstr("error: unknown task nope"));
  EXPECT_THAT(r.err, HasSubstr("error: missing <id>"));
  EXPECT_THAT(r.err, HasSubstr("usage: stats <id>"));
  EXPECT_THAT(r.err, HasSubstr("error: unterminated ' quote"));
  EXPECT_THAT(r.err, HasSubstr("usage: monitor <task_id>"));
  EXPECT_THAT(r.err, HasSubstr("given when the shell starts"));
  EXPECT_THAT(r.err, Not(HasSubstr("cloudai help")));
  EXPECT_THAT(r.out, HasSubstr("The queue is empty."));  // the last line still ran
  EXPECT_EQ(r.code, kExitUsage);  // the last failure, for scripts
}

TEST_F(ShellTest, ExitAndQuitEndTheShell) {
  fake().SetQueue(v1::QueueStatusResponse());
  Result r = Shell("queue\nexit\nqueue\n");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(fake().calls().size(), 1u);
  r = Shell("quit\nqueue\n");
  EXPECT_EQ(fake().calls().size(), 1u);
  EXPECT_EQ(r.out, "");
}

TEST_F(ShellTest, TaskRunsWithQuotedCommandAndPointsToMonitor) {
  fake().SetTask(Task("running"));
  const Result r = Shell("task w1 busybox -cpu_cores 0.5 -- sh -c 'echo a; echo b'\n");
  EXPECT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::SubmitTaskRequest>("AssignTask");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->task().target_worker_id(), "w1");
  EXPECT_EQ(request->task().req_cpu(), 500);
  EXPECT_EQ(request->task().command(), "sh -c 'echo a; echo b'");
  EXPECT_THAT(r.out, HasSubstr("Task t-42 assigned to worker w1"));
  EXPECT_THAT(r.out, HasSubstr("Watch it with: monitor t-42"));
}

TEST_F(ShellTest, StatusPrintsOneSnapshot) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = Worker("w1", true);
  *workers.add_workers() = Worker("w2", false);
  fake().SetWorkers(workers);
  v1::QueueStatusResponse queue;
  queue.add_tasks()->set_task_id("q1");
  fake().SetQueue(queue);
  const Result r = Shell("status\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Cluster status"));
  EXPECT_THAT(r.out, HasSubstr("Workers   2 total, 1 active\n"));
  EXPECT_THAT(r.out, HasSubstr("Tasks     2 running, 1 queued\n"));
  // Capacity of the active worker only.
  EXPECT_THAT(r.out, HasSubstr("CPU       1.00 / 4.00         [#####...............] 25.0%\n"));
  EXPECT_THAT(r.out, HasSubstr("Memory    2.00 GB / 8.00 GB   [#####...............] 25.0%\n"));
  EXPECT_THAT(r.out, HasSubstr("Storage   0.00 GB / 10.00 GB  [....................] 0.0%\n"));
  EXPECT_THAT(r.out, HasSubstr("GPU       0.00 / 0.00         -\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("\033")));
  EXPECT_THAT(r.out, Not(HasSubstr("any key")));
}

TEST_F(ShellTest, MonitorPrintsTheLogAndTheFinalState) {
  fake().SetTask(Task("completed"));
  v1::LogChunk line;
  line.set_content("hello\nworld");
  v1::LogChunk final_chunk;
  final_chunk.set_is_final(true);
  final_chunk.set_status("completed");
  fake().SetLogChunks({line, final_chunk});
  const Result r = Shell("monitor t-42\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\nworld\nTask t-42 completed (exit code 0, ran 5s)\n");
}

TEST_F(ShellTest, MonitorOfARunningTaskSaysHowToFollow) {
  fake().SetTask(Task("running"));
  v1::LogChunk line;
  line.set_content("step 1\n");
  fake().SetLogChunks({line});
  const Result r = Shell("monitor t-42\n");
  EXPECT_EQ(r.out, "step 1\nTask t-42 is running on worker w1 (follow it with: logs -f t-42)\n");
}

TEST_F(ShellTest, HelpListsShellCommandsAndVerbHelp) {
  const Result r = Shell("help\nhelp monitor\nhelp task\nhelp nothing\n");
  EXPECT_THAT(r.out, HasSubstr("status"));
  EXPECT_THAT(r.out, HasSubstr("monitor <task_id>"));
  EXPECT_THAT(r.out, HasSubstr("exit (quit)"));
  EXPECT_THAT(r.out, HasSubstr("usage: task <worker> <image>"));
  EXPECT_THAT(r.out, HasSubstr("-cpu_cores"));
  EXPECT_THAT(r.err, HasSubstr("error: unknown command \"nothing\""));
  EXPECT_TRUE(fake().calls().empty());
}

TEST_F(ShellTest, CommentsAndJsonOutput) {
  fake().SetTask(Task("running"));
  const Result r = Shell("# a comment\nget t-42 -o json\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"task_id\": \"t-42\""));
}

TEST(ShellHelpTest, OneShotHelpMentionsTheShell) {
  CliContext context;
  context.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"help"}, out, err, context), 0);
  EXPECT_THAT(out.str(), HasSubstr("shell"));
  std::ostringstream out2;
  EXPECT_EQ(RunCli({"shell", "--help"}, out2, err, context), 0);
  EXPECT_THAT(out2.str(), HasSubstr("master> prompt"));
}

TEST(ClusterStatusTest, BoxOnATerminal) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = Worker("w1", true);
  const ClusterSummary s = Summarize(workers, v1::QueueStatusResponse());
  RenderOptions o;
  o.color = true;
  const std::string box = RenderClusterStatus(s, o);
  EXPECT_THAT(box, HasSubstr("\u250c\u2500 "));
  EXPECT_THAT(box, HasSubstr("Cluster status"));
  EXPECT_THAT(box, HasSubstr("\u2518\n"));
  EXPECT_EQ(s.running_tasks, 1);
  EXPECT_EQ(s.total.cpu(), 4000);
}

#ifdef CLOUDAI_CLI_BIN
// The real binary with its stdin a pipe: `printf 'queue\n' | cloudai shell`.
TEST_F(ShellTest, BinaryReadsCommandsFromAPipe) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = Worker("w1", true);
  fake().SetWorkers(workers);
  const std::string command = std::string("printf 'workers\\nbogus\\nexit\\nqueue\\n' | env -u NO_COLOR ") +
                              CLOUDAI_CLI_BIN + " --master " + server_.address() +
                              " --token secret shell 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), kExitUsage) << output;  // `bogus` failed
  EXPECT_THAT(output, HasSubstr("w1  active"));
  EXPECT_THAT(output, HasSubstr("error: unknown command \"bogus\""));
  EXPECT_THAT(output, Not(HasSubstr("\033")));
  EXPECT_EQ(fake().calls().size(), 1u);  // nothing after exit
}
#endif

}  // namespace
}  // namespace cloudai::cli
