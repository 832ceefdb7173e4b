// Tests of the `cloudai` command, run in-process against a FakeClusterService: argument
// parsing, the requests sent, table and JSON output, log streaming and exit codes.
#include "cli/cli.h"

#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/render.h"
#include "client/fake_cluster_service.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
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

v1::WorkerStatus SampleWorker() {
  v1::WorkerStatus w;
  v1::WorkerInfo* info = w.mutable_info();
  info->set_worker_id("worker-1");
  info->set_worker_ip("10.0.0.5:50052");
  info->set_total_cpu(8000);
  info->set_total_memory(16384);
  info->set_total_storage(102400);
  info->set_total_gpu(1000);
  info->set_driver("docker");
  w.set_is_active(true);
  w.mutable_allocated()->set_cpu(2000);
  w.mutable_allocated()->set_memory(4096);
  w.mutable_allocated()->set_storage(1024);
  w.mutable_available()->set_cpu(6000);
  w.mutable_available()->set_memory(12288);
  w.mutable_available()->set_storage(101376);
  w.mutable_available()->set_gpu(1000);
  w.set_cpu_usage(12.5);
  w.set_memory_usage(30);
  w.set_last_heartbeat_ms(kNowMs - 4000);
  w.set_registered_at_ms(kNowMs - 3'600'000);
  w.add_running_task_ids("t1");
  w.add_running_task_ids("t2");
  return w;
}

v1::TaskStatus SampleTask(const std::string& status) {
  v1::TaskStatus t;
  t.mutable_task()->set_task_id("t-42");
  t.mutable_task()->set_docker_image("busybox:latest");
  t.mutable_task()->set_command("echo hello");
  t.mutable_task()->set_req_cpu(1500);
  t.mutable_task()->set_req_memory(2048);
  t.mutable_task()->set_req_storage(1024);
  t.set_status(status);
  t.set_worker_id("worker-1");
  t.set_created_at_ms(kNowMs - 10'000);
  t.set_started_at_ms(kNowMs - 9'000);
  t.set_completed_at_ms(kNowMs - 5'500);
  t.set_exit_code(3);
  t.set_error("command exited with status 3");
  return t;
}

class CliTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args, bool tty = false, std::string no_color = "") {
    CliContext context;
    const std::string address = server_.address();
    context.env = [address, no_color](const std::string& name) -> std::optional<std::string> {
      if (name == "CLOUDAI_MASTER") return address;
      if (name == "CLOUDAI_TOKEN") return std::string("secret");
      if (name == "NO_COLOR" && !no_color.empty()) return no_color;
      return std::nullopt;
    };
    context.stdout_is_tty = tty;
    context.now_ms = [] { return kNowMs; };
    std::ostringstream out;
    std::ostringstream err;
    const int code = RunCli(args, out, err, context);
    return {code, out.str(), err.str()};
  }
  client::testing::FakeClusterService& fake() { return server_.service(); }

  FakeClusterServer server_{"secret"};
};

// ---------------------------------------------------------------------------------------
// Workers

TEST_F(CliTest, WorkersTableShowsTotalAllocatedAvailable) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = SampleWorker();
  fake().SetWorkers(workers);
  const Result r = Run({"workers"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "worker-1  active  10.0.0.5:50052  running tasks: 2\n"
            "  Resource  Total      Allocated  Available\n"
            "  CPU       8.00       2.00       6.00\n"
            "  Memory    16.00 GB   4.00 GB    12.00 GB\n"
            "  Storage   100.00 GB  1.00 GB    99.00 GB\n"
            "  GPU       1.00       0.00       1.00\n"
            "\n"
            "1 worker, 1 active\n");
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(fake().calls().size(), 1u);
  EXPECT_EQ(fake().calls()[0].method, "ListWorkers");
  EXPECT_EQ(fake().calls()[0].authorization, "Bearer secret");

  // `list` is the same verb.
  EXPECT_EQ(Run({"list"}).out, r.out);
}

TEST_F(CliTest, ColourOnlyOnATerminalWithoutNoColor) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = SampleWorker();
  v1::WorkerStatus down = SampleWorker();
  down.mutable_info()->set_worker_id("worker-2");
  down.set_is_active(false);
  *workers.add_workers() = down;
  fake().SetWorkers(workers);
  EXPECT_THAT(Run({"workers"}).out, Not(HasSubstr("\033[")));
  const Result tty = Run({"workers"}, /*tty=*/true);
  EXPECT_THAT(tty.out, HasSubstr("\033[32mactive\033[0m"));
  EXPECT_THAT(tty.out, HasSubstr("\033[31minactive\033[0m"));
  EXPECT_THAT(Run({"workers"}, /*tty=*/true, /*no_color=*/"1").out, Not(HasSubstr("\033[")));
}

TEST_F(CliTest, StatsShowsPercentagesAndLastSeen) {
  fake().SetWorker(SampleWorker());
  const Result r = Run({"stats", "worker-1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Last seen:     4s ago (2024-05-01 11:59:56 UTC)\n"));
  EXPECT_THAT(r.out, HasSubstr("Running tasks: 2 (t1, t2)\n"));
  EXPECT_THAT(r.out,
              HasSubstr("Resource  Total      Allocated  Available  Allocated %  Usage %\n"));
  EXPECT_THAT(r.out, HasSubstr("CPU       8.00       2.00       6.00       25.0%        12.5%\n"));
  EXPECT_THAT(r.out, HasSubstr("Memory    16.00 GB   4.00 GB    12.00 GB   25.0%        30.0%\n"));
  auto request = fake().LastRequest<v1::WorkerIdRequest>("GetWorker");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->worker_id(), "worker-1");
}

TEST_F(CliTest, JsonOutputParsesBack) {
  v1::ListWorkersResponse workers;
  *workers.add_workers() = SampleWorker();
  workers.mutable_workers(0)->set_is_active(false);
  fake().SetWorkers(workers);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-o", "json", "workers"},
        std::vector<std::string>{"workers", "--output=json"}}) {
    const Result r = Run(args);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"worker_id\""));
    EXPECT_THAT(r.out, HasSubstr("\"is_active\": false"));  // defaults are printed
    v1::ListWorkersResponse parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
    EXPECT_EQ(parsed.SerializeAsString(), workers.SerializeAsString());
  }
  EXPECT_EQ(Run({"workers", "-o", "yaml"}).code, kExitUsage);
}

TEST_F(CliTest, RegisterAndUnregister) {
  v1::Ack ack;
  ack.set_success(true);
  fake().SetAck(ack);
  Result r = Run({"register", "w1", "10.0.0.5:50052"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Worker w1 registered at 10.0.0.5:50052\n");
  auto request = fake().LastRequest<v1::RegisterWorkerRequest>("RegisterWorker");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->worker_id(), "w1");
  EXPECT_EQ(request->worker_ip(), "10.0.0.5:50052");

  fake().FailWith("UnregisterWorker", grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                                   "worker w1 has 2 running tasks"));
  r = Run({"unregister", "w1"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: worker w1 has 2 running tasks\n");

  r = Run({"register", "w1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("missing <ip:port>"));
  EXPECT_THAT(r.err, HasSubstr("usage: cloudai register <id> <ip:port>"));
}

// ---------------------------------------------------------------------------------------
// Tasks

TEST_F(CliTest, SubmitParsesSeedFlagsAndCommand) {
  fake().SetTask(SampleTask("pending"));
  const Result r =
      Run({"submit", "-cpu_cores", "1.5", "-mem", "2", "--env", "A=1", "--env=B=2", "--timeout",
           "30s", "--priority", "5", "busybox:latest", "--", "echo", "-n", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::SubmitTaskRequest>("SubmitTask");
  ASSERT_NE(request, nullptr);
  const v1::Task& task = request->task();
  EXPECT_EQ(task.docker_image(), "busybox:latest");
  EXPECT_EQ(task.command(), "echo -n hello");
  EXPECT_EQ(task.req_cpu(), 1500);
  EXPECT_EQ(task.req_memory(), 2048);
  EXPECT_EQ(task.req_storage(), 1024);  // default 1.0 GB
  EXPECT_EQ(task.req_gpu(), 0);
  EXPECT_EQ(task.timeout_ms(), 30'000);
  EXPECT_EQ(task.priority(), 5);
  EXPECT_EQ(task.env().at("A"), "1");
  EXPECT_EQ(task.env().at("B"), "2");
  EXPECT_TRUE(task.target_worker_id().empty());
  EXPECT_THAT(r.out, HasSubstr("Task t-42 submitted (pending)\n"));
  EXPECT_THAT(r.out, HasSubstr("cloudai logs -f t-42"));
}

TEST_F(CliTest, TaskAssignsDirectlyAndCommandKeepsItsDashes) {
  fake().SetTask(SampleTask("running"));
  const Result r = Run({"task", "worker-1", "ubuntu:22.04", "-gpu_cores", "0.5", "sh", "-c",
                        "echo hi", "--master", "ignored:1"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::SubmitTaskRequest>("AssignTask");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->task().target_worker_id(), "worker-1");
  EXPECT_EQ(request->task().docker_image(), "ubuntu:22.04");
  EXPECT_EQ(request->task().req_gpu(), 500);
  // Everything from the first command word on is the command, flags included.
  EXPECT_EQ(request->task().command(), "sh -c 'echo hi' --master ignored:1");
  EXPECT_THAT(r.out, HasSubstr("Task t-42 assigned to worker worker-1 (running)\n"));

  // No command: the image's default.
  Run({"submit", "busybox"});
  EXPECT_EQ(fake().LastRequest<v1::SubmitTaskRequest>("SubmitTask")->task().command(), "");
}

TEST_F(CliTest, BadTaskFlagsAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"submit", "busybox", "-mem", "lots"}, "-mem:"},
      {{"submit", "busybox", "-cpu_cores", "-1"}, "-cpu_cores: -1 is negative"},
      {{"submit", "busybox", "-storage", "-2"}, "-storage: -2 is negative"},
      {{"submit", "busybox", "--max-retries", "x"}, "--max-retries:"},
      {{"submit", "busybox", "--timeout", "soon"}, "--timeout:"},
      {{"submit", "busybox", "--env", "NOVALUE"}, "--env:"},
      {{"submit", "busybox", "-mem"}, "-mem needs a value"},
      {{"submit", "busybox", "--bogus", "1"}, "unknown flag --bogus"},
      {{"submit"}, "missing <image>"},
      {{"task", "w1"}, "missing <image>"},
      {{"tasks", "--limit", "many"}, "--limit:"},
      {{"logs", "t1", "--follow=yes"}, "-f takes no value"},
      {{"get", "t1", "t2"}, "unexpected argument \"t2\""},
      {{"frobnicate"}, "unknown verb \"frobnicate\""},
      {{"--bogus", "workers"}, "unknown flag --bogus"},
      {{}, "no verb given"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << args.size();
    EXPECT_THAT(r.err, HasSubstr("error: " + message));
    EXPECT_THAT(r.err, HasSubstr("usage: cloudai"));
    EXPECT_EQ(r.out, "");
  }
  EXPECT_TRUE(fake().calls().empty());
}

TEST_F(CliTest, GetShowsTheResult) {
  fake().SetTask(SampleTask("failed"));
  const Result r = Run({"get", "t-42"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Task:          t-42\n"));
  EXPECT_THAT(r.out, HasSubstr("Status:        failed\n"));
  EXPECT_THAT(r.out, HasSubstr("Request:       CPU 1.50, Memory 2.00 GB, Storage 1.00 GB, "
                               "GPU 0.00\n"));
  EXPECT_THAT(r.out, HasSubstr("Started:       2024-05-01 11:59:51 UTC\n"));
  EXPECT_THAT(r.out, HasSubstr("(ran 3.5s)"));
  EXPECT_THAT(r.out, HasSubstr("Exit code:     3\n"));
  EXPECT_THAT(r.out, HasSubstr("Error:         command exited with status 3\n"));
  EXPECT_EQ(fake().LastRequest<v1::TaskId>("GetTask")->task_id(), "t-42");
}

TEST_F(CliTest, TasksListAndFilters) {
  v1::ListTasksResponse tasks;
  *tasks.add_tasks() = SampleTask("completed");
  tasks.mutable_tasks(0)->set_exit_code(0);
  tasks.set_next_after_task_id("t-42");
  fake().SetTasks(tasks);
  const Result r = Run({"tasks", "--status", "completed", "--worker", "worker-1", "--limit", "10"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Task  Status     Worker    Image           CPU   Memory"));
  EXPECT_THAT(r.out, HasSubstr("t-42  completed  worker-1  busybox:latest  1.50  2.00 GB"));
  EXPECT_THAT(r.out, HasSubstr("--after t-42"));
  auto request = fake().LastRequest<v1::ListTasksRequest>("ListTasks");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->status(), "completed");
  EXPECT_EQ(request->worker_id(), "worker-1");
  EXPECT_EQ(request->limit(), 10);
}

TEST_F(CliTest, QueueAndCancel) {
  v1::QueueStatusResponse queue;
  v1::QueuedTaskStatus* q = queue.add_tasks();
  q->set_task_id("t-7");
  q->set_priority(2);
  q->mutable_request()->set_cpu(4000);
  q->mutable_request()->set_memory(8192);
  q->set_queued_at_ms(kNowMs - 65'000);
  q->set_last_error("Insufficient CPU: worker has 2.00 available, task requires 4.00");
  fake().SetQueue(queue);
  Result r = Run({"queue"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("t-7   2         4.00  8.00 GB  0.00 GB  0.00  1m5s ago  0"));
  EXPECT_THAT(r.out, HasSubstr("Insufficient CPU: worker has 2.00 available"));

  fake().SetTask(SampleTask("cancelled"));
  r = Run({"cancel", "t-42"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Task t-42: cancelled\n");
  fake().FailWith("CancelTask", grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task t-9"));
  r = Run({"cancel", "t-9"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: unknown task t-9\n");
}

// ---------------------------------------------------------------------------------------
// Tokens and exit codes

TEST_F(CliTest, TokenFlagIsSentAndWrongTokenIsRefused) {
  const Result r = Run({"--token", "wrong", "queue"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: missing or wrong admin token (token from --token)\n");
  EXPECT_EQ(fake().calls().back().authorization, "Bearer wrong");
}

TEST_F(CliTest, RefusalKeepsTheMastersMessage) {
  fake().FailWith("AssignTask",
                  grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "Insufficient CPU: worker has 2.00 available, task requires "
                               "3.00"));
  const Result r = Run({"task", "worker-1", "busybox", "-cpu_cores", "3"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: Insufficient CPU: worker has 2.00 available, task requires 3.00\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, UnreachableMasterIsExitThreeAndNamesTheAddress) {
  std::string closed;
  {
    FakeClusterServer gone;
    closed = gone.address();
  }
  const Result r = Run({"--master", closed, "workers"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_THAT(r.err, HasSubstr("error: master at " + closed + " unavailable"));

  fake().FailWith("ListWorkers",
                  grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  const Result slow = Run({"workers"});
  EXPECT_EQ(slow.code, kExitUnreachable);
  EXPECT_THAT(slow.err, HasSubstr("did not answer in time"));
}

TEST_F(CliTest, NoTokenIsAUsageError) {
  CliContext context;
  context.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string> args = {"--master", server_.address(), "--token-file",
                                         "/nonexistent/admin.token", "workers"};
  EXPECT_EQ(RunCli(args, out, err, context), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("--token-file: /nonexistent/admin.token does not exist"));
  EXPECT_TRUE(fake().calls().empty());
}

TEST_F(CliTest, Help) {
  Result r = Run({"help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: cloudai"));
  for (const char* verb : {"register", "unregister", "workers (list)", "stats", "task", "submit",
                           "tasks", "get", "logs", "cancel", "queue"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("  ") + verb + " "));
  }
  EXPECT_EQ(Run({"--help"}).out, r.out);
  r = Run({"submit", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: cloudai submit <image>"));
  EXPECT_THAT(r.out, HasSubstr("-cpu_cores CORES"));
  EXPECT_EQ(Run({"help", "logs"}).code, 0);
  EXPECT_EQ(Run({"help", "nope"}).code, kExitUsage);
  EXPECT_TRUE(fake().calls().empty());
}

// ---------------------------------------------------------------------------------------
// Logs

std::vector<v1::LogChunk> Chunks(const std::string& final_status, const std::string& error) {
  std::vector<v1::LogChunk> chunks(4);
  chunks[0].set_content("pulling busybox\n");
  chunks[1].set_content("hello ");
  chunks[2].set_content("world\n");
  chunks[3].set_is_final(true);
  chunks[3].set_status(final_status);
  chunks[3].set_error(error);
  return chunks;
}

TEST_F(CliTest, LogsFollowCompleted) {
  fake().SetLogChunks(Chunks("completed", ""));
  const Result r = Run({"logs", "-f", "t-42"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pulling busybox\nhello world\n");
  EXPECT_EQ(r.err, "");
  auto request = fake().LastRequest<v1::TaskLogRequest>("StreamTaskLogs");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->task_id(), "t-42");
  EXPECT_TRUE(request->follow());
  EXPECT_EQ(fake().calls().back().authorization, "Bearer secret");
}

TEST_F(CliTest, LogsFollowFailedExitsOneWithTheError) {
  fake().SetLogChunks(Chunks("failed", "container exited with status 3"));
  Result r = Run({"logs", "t-42", "--follow"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, "pulling busybox\nhello world\n");
  EXPECT_EQ(r.err, "task t-42 failed: container exited with status 3\n");

  // Without -f the log is shown and the command succeeds.
  r = Run({"logs", "t-42"});
  EXPECT_EQ(r.code, 0);
  EXPECT_FALSE(fake().LastRequest<v1::TaskLogRequest>("StreamTaskLogs")->follow());
  EXPECT_EQ(r.err, "task t-42 failed: container exited with status 3\n");

  // A stream that ends without a final chunk is not a completed task.
  std::vector<v1::LogChunk> partial = Chunks("completed", "");
  partial.pop_back();
  fake().SetLogChunks(partial);
  r = Run({"logs", "-f", "t-42"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, HasSubstr("ended before the task did"));
}

TEST_F(CliTest, LogsJsonIsOneChunkPerLine) {
  fake().SetLogChunks(Chunks("completed", ""));
  const Result r = Run({"logs", "-f", "t-42", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::string content;
  int count = 0;
  while (std::getline(lines, line)) {
    v1::LogChunk chunk;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &chunk).ok()) << line;
    content += chunk.content();
    ++count;
  }
  EXPECT_EQ(count, 4);
  EXPECT_EQ(content, "pulling busybox\nhello world\n");
}

TEST_F(CliTest, LogsNotFound) {
  fake().FailWith("StreamTaskLogs", grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task t-1"));
  const Result r = Run({"logs", "-f", "t-1"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: unknown task t-1\n");
}

// ---------------------------------------------------------------------------------------
// Pieces

TEST(ParseArgs, FlagForms) {
  const FlagSpec value{{"mem", "memory"}, "GB", ""};
  const FlagSpec boolean{{"f", "follow"}, "", ""};
  ParseSpec spec;
  spec.flags = {&value, &boolean};
  spec.max_positional = 1;
  spec.positional_names = {"<x>"};
  spec.min_positional = 1;
  absl::StatusOr<ParsedArgs> p = ParseArgs({"--memory=2", "x", "--follow"}, spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Get("mem"), "2");
  EXPECT_TRUE(p->Has("f"));
  EXPECT_EQ(p->positional, std::vector<std::string>{"x"});
  EXPECT_FALSE(ParseArgs({"-mem", "1", "-mem", "2", "x"}, spec).ok());
  p = ParseArgs({"--", "-x"}, spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->positional, std::vector<std::string>{"-x"});
}

TEST(Render, Formats) {
  EXPECT_EQ(FormatDuration(250), "250ms");
  EXPECT_EQ(FormatDuration(1500), "1.5s");
  EXPECT_EQ(FormatDuration(65'000), "1m5s");
  EXPECT_EQ(FormatDuration(7'500'000), "2h5m");
  EXPECT_EQ(FormatTime(0), "-");
  EXPECT_EQ(FormatTime(kNowMs), "2024-05-01 12:00:00 UTC");
  EXPECT_EQ(FormatRequest(1000, 512, 1024, 0),
            "CPU 1.00, Memory 0.50 GB, Storage 1.00 GB, GPU 0.00");
}

}  // namespace
}  // namespace cloudai::cli
