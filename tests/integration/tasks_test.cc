// Tasks through the cloudai command: direct assignment, the oversubscription refusal,
// queueing until resources free up, live and finished logs, cancel.
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using TasksTest = ClusterTest;

// A small request that fits many times on any worker.
std::vector<std::string> Small() {
  return {"-cpu_cores", "0.1", "-mem", "0.05", "-storage", "0.01"};
}

std::vector<std::string> Join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string TwoDecimals(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

TEST_F(TasksTest, DirectAssignmentRunsOnTheNamedWorker) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  ASSERT_NE(StartRegisteredWorker("w2"), nullptr);

  std::optional<Json> assigned = CliJson(Join(
      {"task", "w2", kAnyImage, "--id", "direct-1", "-cpu_cores", "0.5", "-mem", "0.25",
       "-storage", "0.125", "--"},
      {"echo hello-from-direct; echo to-stderr >&2"}));
  ASSERT_TRUE(assigned.has_value());
  EXPECT_EQ(JStr(JObj(*assigned, "task"), "task_id"), "direct-1") << assigned->dump();
  EXPECT_EQ(JStr(*assigned, "worker_id"), "w2") << assigned->dump();
  // Seed units: -cpu_cores in cores, -mem and -storage in GB (powers of 1024).
  EXPECT_EQ(JInt(JObj(*assigned, "task"), "req_cpu"), 500);
  EXPECT_EQ(JInt(JObj(*assigned, "task"), "req_memory"), 256);
  EXPECT_EQ(JInt(JObj(*assigned, "task"), "req_storage"), 128);

  std::optional<Json> done = WaitForTaskState("direct-1", {"completed", "failed"}, seconds(15));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  EXPECT_EQ(JStr(*done, "worker_id"), "w2");
  EXPECT_EQ(JInt(*done, "exit_code"), 0);
  EXPECT_GT(JInt(*done, "completed_at_ms"), 0) << done->dump();
  EXPECT_EQ(JStr(JObj(*done, "task"), "command"), "echo hello-from-direct; echo to-stderr >&2")
      << "the command words are joined with single spaces";

  CommandResult logs = Cli({"logs", "direct-1"});
  EXPECT_EQ(logs.exit_code, 0) << logs.ToString();
  EXPECT_NE(logs.out.find("hello-from-direct"), std::string::npos) << logs.ToString();
  EXPECT_NE(logs.out.find("to-stderr"), std::string::npos) << logs.ToString();

  EXPECT_TRUE(WaitWorkerIdle("w2", seconds(5)));
  // `tasks` lists it, filtered by worker.
  std::optional<Json> on_w2 = CliJson({"tasks", "--worker", "w2"});
  ASSERT_TRUE(on_w2.has_value());
  ASSERT_EQ(JArr(*on_w2, "tasks").size(), 1u) << on_w2->dump();
  std::optional<Json> on_w1 = CliJson({"tasks", "--worker", "w1"});
  ASSERT_TRUE(on_w1.has_value());
  EXPECT_TRUE(JArr(*on_w1, "tasks").empty()) << on_w1->dump();
}

TEST_F(TasksTest, FailingCommandIsFailedWithItsExitCode) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  CommandResult r = Cli(Join(Join({"task", "w1", kAnyImage, "--id", "fails"}, Small()),
                             {"--", "echo about-to-fail; exit 3"}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  std::optional<Json> done = WaitForTaskState("fails", {"completed", "failed"}, seconds(15));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "failed") << done->dump();
  EXPECT_EQ(JInt(*done, "exit_code"), 3) << done->dump();
  // `logs -f` of a task that did not complete exits 1, after printing its output.
  CommandResult follow = Cli({"logs", "-f", "fails"});
  EXPECT_EQ(follow.exit_code, 1) << follow.ToString();
  EXPECT_NE(follow.out.find("about-to-fail"), std::string::npos) << follow.ToString();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(5)));
}

TEST_F(TasksTest, OversubscribedDirectAssignmentIsRefusedWithTheSeedText) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  std::optional<Json> before = WorkerStatus("w1");
  ASSERT_TRUE(before.has_value());
  const WorkerResources r = ResourcesOf(*before);

  CommandResult cpu = Cli({"task", "w1", kAnyImage, "-cpu_cores", "1000", "-mem", "0.05",
                           "-storage", "0.01", "--", "true"});
  EXPECT_EQ(cpu.exit_code, 1) << cpu.ToString();
  const std::string cpu_text =
      StrCat("Insufficient CPU: worker has ", TwoDecimals(r.available.cpu / 1000.0),
             " available, task requires 1000.00");
  EXPECT_NE(cpu.err.find(StrCat("error: ", cpu_text)), std::string::npos)
      << "expected \"error: " << cpu_text << "\"; " << cpu.ToString();

  CommandResult mem = Cli({"task", "w1", kAnyImage, "-cpu_cores", "0.1", "-mem", "100000",
                           "-storage", "0.01", "--", "true"});
  EXPECT_EQ(mem.exit_code, 1) << mem.ToString();
  const std::string mem_text =
      StrCat("Insufficient Memory: worker has ", TwoDecimals(r.available.memory / 1024.0),
             " GB available, task requires 100000.00 GB");
  EXPECT_NE(mem.err.find(mem_text), std::string::npos)
      << "expected \"" << mem_text << "\"; " << mem.ToString();

  // Nothing is allocated by a refusal.
  std::optional<Json> after = WorkerStatus("w1");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(ResourcesOf(*after).allocated.cpu, 0);
  EXPECT_EQ(ResourcesOf(*after).allocated.memory, 0);
}

TEST_F(TasksTest, QueuedTasksWaitForResourcesAndRunWhenTheyFreeUp) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  const int64_t all_cpu = ResourcesOf(*status).total.cpu;
  ASSERT_GT(all_cpu, 0);
  // Each task takes the whole worker's CPU: they can only run one after another.
  const std::vector<std::string> whole = {"-cpu_cores", StrCat(all_cpu, "m"), "-mem", "0.05",
                                          "-storage", "0.01"};
  for (const char* id : {"q-a", "q-b", "q-c"}) {
    std::optional<Json> submitted =
        CliJson(Join(Join({"submit", kAnyImage, "--id", id}, whole), {"--", "sleep 2"}));
    ASSERT_TRUE(submitted.has_value());
    EXPECT_EQ(JStr(JObj(*submitted, "task"), "task_id"), id);
  }
  ASSERT_TRUE(WaitForTaskState("q-a", {"scheduled", "running"}, seconds(10)).has_value());

  // q-b and q-c wait in the queue, in order, each with a reason.
  std::optional<Json> queue = CliJson({"queue"});
  ASSERT_TRUE(queue.has_value());
  const Json& queued = JArr(*queue, "tasks");
  ASSERT_EQ(queued.size(), 2u) << queue->dump();
  EXPECT_EQ(JStr(queued[0], "task_id"), "q-b");
  EXPECT_EQ(JStr(queued[1], "task_id"), "q-c");
  EXPECT_FALSE(JStr(queued[0], "last_error").empty()) << queue->dump();
  EXPECT_EQ(JInt(JObj(queued[0], "request"), "cpu"), all_cpu);
  EXPECT_EQ(TaskState("q-b"), "pending");
  CommandResult table = Cli({"queue"});
  EXPECT_EQ(table.exit_code, 0) << table.ToString();
  EXPECT_NE(table.out.find("q-b"), std::string::npos) << table.ToString();

  // Never more than the worker holds.
  std::optional<Json> busy = WorkerStatus("w1");
  ASSERT_TRUE(busy.has_value());
  EXPECT_LE(ResourcesOf(*busy).allocated.cpu, all_cpu);

  std::optional<Json> a = WaitForTaskState("q-a", {"completed"}, seconds(15));
  std::optional<Json> b = WaitForTaskState("q-b", {"completed"}, seconds(15));
  std::optional<Json> c = WaitForTaskState("q-c", {"completed"}, seconds(15));
  ASSERT_TRUE(a.has_value() && b.has_value() && c.has_value());
  // One after another.
  EXPECT_GE(JInt(*b, "started_at_ms"), JInt(*a, "completed_at_ms") - 50)
      << a->dump() << "\n" << b->dump();
  EXPECT_GE(JInt(*c, "started_at_ms"), JInt(*b, "completed_at_ms") - 50)
      << b->dump() << "\n" << c->dump();
  std::optional<Json> empty = CliJson({"queue"});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(JArr(*empty, "tasks").empty()) << empty->dump();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(5)));

  // `tasks`: newest first, filtered by status, limited.
  std::optional<Json> newest = CliJson({"tasks", "--limit", "2"});
  ASSERT_TRUE(newest.has_value());
  ASSERT_EQ(JArr(*newest, "tasks").size(), 2u) << newest->dump();
  EXPECT_EQ(JStr(JObj(JArr(*newest, "tasks")[0], "task"), "task_id"), "q-c") << newest->dump();
  EXPECT_EQ(JStr(JObj(JArr(*newest, "tasks")[1], "task"), "task_id"), "q-b") << newest->dump();
  std::optional<Json> completed = CliJson({"tasks", "--status", "completed"});
  ASSERT_TRUE(completed.has_value());
  EXPECT_EQ(JArr(*completed, "tasks").size(), 3u) << completed->dump();
  std::optional<Json> running = CliJson({"tasks", "--status", "running"});
  ASSERT_TRUE(running.has_value());
  EXPECT_TRUE(JArr(*running, "tasks").empty()) << running->dump();
}

TEST_F(TasksTest, QueueOrdersByPriority) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  const int64_t all_cpu = ResourcesOf(*status).total.cpu;
  const std::vector<std::string> whole = {"-cpu_cores", StrCat(all_cpu, "m"), "-mem", "0.05",
                                          "-storage", "0.01"};
  ASSERT_TRUE(CliJson(Join(Join({"submit", kAnyImage, "--id", "p-first"}, whole),
                           {"--", "sleep 2"}))
                  .has_value());
  ASSERT_TRUE(WaitForTaskState("p-first", {"scheduled", "running"}, seconds(10)).has_value());
  ASSERT_TRUE(CliJson(Join(Join({"submit", kAnyImage, "--id", "p-low", "--priority", "0"}, whole),
                           {"--", "true"}))
                  .has_value());
  ASSERT_TRUE(CliJson(Join(Join({"submit", kAnyImage, "--id", "p-high", "--priority", "10"},
                                whole),
                           {"--", "true"}))
                  .has_value());
  std::optional<Json> queue = CliJson({"queue"});
  ASSERT_TRUE(queue.has_value());
  ASSERT_EQ(JArr(*queue, "tasks").size(), 2u) << queue->dump();
  EXPECT_EQ(JStr(JArr(*queue, "tasks")[0], "task_id"), "p-high") << queue->dump();
  EXPECT_EQ(JInt(JArr(*queue, "tasks")[0], "priority"), 10) << queue->dump();
  EXPECT_EQ(JStr(JArr(*queue, "tasks")[1], "task_id"), "p-low") << queue->dump();
  std::optional<Json> high = WaitForTaskState("p-high", {"completed"}, seconds(15));
  std::optional<Json> low = WaitForTaskState("p-low", {"completed"}, seconds(15));
  ASSERT_TRUE(high.has_value() && low.has_value());
  EXPECT_LE(JInt(*high, "started_at_ms"), JInt(*low, "started_at_ms"))
      << high->dump() << "\n" << low->dump();
}

TEST_F(TasksTest, CliFindsTheMasterAndTheTokenAsDocumented) {
  ASSERT_TRUE(StartMaster());
  const std::string wrong(64, '0');
  auto run = [&](std::vector<std::string> args, std::map<std::string, std::string> env,
                 std::string cwd = "") {
    ProcessOptions options;
    options.args = {CliBinary()};
    options.args.insert(options.args.end(), args.begin(), args.end());
    options.unset_env = ForeignEnvironment();
    options.env = std::move(env);
    options.cwd = std::move(cwd);
    return RunCommand(std::move(options), dir().Sub("cli"), seconds(30));
  };
  // CLOUDAI_MASTER and $CLOUDAI_STATE_DIR/admin.token.
  CommandResult from_env =
      run({"workers"}, {{"CLOUDAI_MASTER", master_address()}, {"CLOUDAI_STATE_DIR", state_dir()}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.ToString();
  // --master wins over CLOUDAI_MASTER.
  CommandResult flag_wins = run({"--master", master_address(), "workers"},
                                {{"CLOUDAI_MASTER", StrCat("127.0.0.1:", FreePort())},
                                 {"CLOUDAI_STATE_DIR", state_dir()}});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.ToString();
  // Flags win over the environment: --token-file over CLOUDAI_TOKEN, --token over
  // CLOUDAI_TOKEN; CLOUDAI_TOKEN over the state directory's file.
  CommandResult file_flag = run({"--master", master_address(), "--token-file",
                                 StrCat(state_dir(), "/admin.token"), "workers"},
                                {{"CLOUDAI_TOKEN", wrong}});
  EXPECT_EQ(file_flag.exit_code, 0) << "--token-file comes before CLOUDAI_TOKEN; "
                                    << file_flag.ToString();
  CommandResult env_token = run({"--master", master_address(), "workers"},
                                {{"CLOUDAI_TOKEN", wrong}, {"CLOUDAI_STATE_DIR", state_dir()}});
  EXPECT_EQ(env_token.exit_code, 1) << "CLOUDAI_TOKEN comes before the state directory; "
                                    << env_token.ToString();
  CommandResult flag_token =
      run({"--master", master_address(), "--token", Token(), "workers"}, {{"CLOUDAI_TOKEN", wrong}});
  EXPECT_EQ(flag_token.exit_code, 0) << flag_token.ToString();
  // --token-file comes before $CLOUDAI_STATE_DIR.
  const std::string wrong_file = dir().Sub("wrong.token");
  WriteFile(wrong_file, StrCat(wrong, "\n"));
  CommandResult file_first = run({"--master", master_address(), "--token-file", wrong_file,
                                  "workers"},
                                 {{"CLOUDAI_STATE_DIR", state_dir()}});
  EXPECT_EQ(file_first.exit_code, 1) << file_first.ToString();
  // Last: ./cloudai-state/admin.token.
  const std::string cwd = dir().Sub("elsewhere", /*create=*/true);
  ASSERT_EQ(::symlink(state_dir().c_str(), StrCat(cwd, "/cloudai-state").c_str()), 0);
  CommandResult from_cwd = run({"--master", master_address(), "workers"}, {}, cwd);
  EXPECT_EQ(from_cwd.exit_code, 0) << from_cwd.ToString();
}

TEST_F(TasksTest, CliExitCodesFollowTheContract) {
  ASSERT_TRUE(StartMaster());
  // 2: bad usage.
  CommandResult unknown_verb = Cli({"no-such-verb"});
  EXPECT_EQ(unknown_verb.exit_code, 2) << unknown_verb.ToString();
  CommandResult missing_image = Cli({"submit"});
  EXPECT_EQ(missing_image.exit_code, 2) << missing_image.ToString();
  CommandResult bad_number = Cli({"submit", kAnyImage, "-cpu_cores", "lots", "--", "true"});
  EXPECT_EQ(bad_number.exit_code, 2) << bad_number.ToString();
  // 1: the master refused, with "error: <message>" on stderr.
  CommandResult unknown_task = Cli({"get", "no-such-task"});
  EXPECT_EQ(unknown_task.exit_code, 1) << unknown_task.ToString();
  EXPECT_EQ(unknown_task.err.rfind("error: ", 0), 0u) << unknown_task.ToString();
  // 3: no master there.
  const std::vector<std::string> elsewhere = {
      CliBinary(), "--master", StrCat("127.0.0.1:", FreePort()), "--token",
      std::string(64, '0'), "workers"};
  CommandResult unreachable = RunCommand(elsewhere, dir().Sub("cli"), seconds(30));
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.ToString();
}

TEST_F(TasksTest, LogsFollowShowsOutputWhileTheTaskRunsAndAllOfItAfter) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  CommandResult r = Cli(Join(Join({"task", "w1", kAnyImage, "--id", "chatty"}, Small()),
                             {"--", "echo first-line; sleep 4; echo second-line; sleep 1; "
                                    "echo third-line"}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();

  std::unique_ptr<Process> follow = CliBackground({"logs", "-f", "chatty"}, "follow.log");
  ASSERT_NE(follow, nullptr);
  ASSERT_TRUE(follow->WaitForLine("first-line", seconds(4)).has_value())
      << "logs -f showed nothing within 4 s:\n" << follow->ReadLog();
  // The task is still running, and the rest is not there yet.
  EXPECT_EQ(TaskState("chatty"), "running");
  EXPECT_EQ(follow->ReadLog().find("second-line"), std::string::npos) << follow->ReadLog();
  EXPECT_TRUE(follow->Running()) << "logs -f ended while the task still runs";

  std::optional<ExitStatus> end = follow->Wait(seconds(15));
  ASSERT_TRUE(end.has_value()) << "logs -f did not end with the task";
  EXPECT_TRUE(end->exited && end->code == 0) << end->ToString();
  const std::string followed = follow->ReadLog();
  EXPECT_NE(followed.find("second-line"), std::string::npos) << followed;
  EXPECT_NE(followed.find("third-line"), std::string::npos) << followed;
  // Each line once.
  EXPECT_EQ(followed.find("first-line"), followed.rfind("first-line")) << followed;

  std::optional<Json> done = WaitForTaskState("chatty", {"completed"}, seconds(5));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JInt(*done, "exit_code"), 0);
  CommandResult all = Cli({"logs", "chatty"});
  EXPECT_EQ(all.exit_code, 0) << all.ToString();
  const size_t first = all.out.find("first-line");
  const size_t second = all.out.find("second-line");
  const size_t third = all.out.find("third-line");
  EXPECT_TRUE(first != std::string::npos && second != std::string::npos &&
              third != std::string::npos && first < second && second < third)
      << all.ToString();

  // -o json: one LogChunk per line, the last one final with the status.
  CommandResult json = Cli({"-o", "json", "logs", "chatty"});
  ASSERT_EQ(json.exit_code, 0) << json.ToString();
  std::string content;
  std::optional<Json> last;
  size_t start = 0;
  while (start < json.out.size()) {
    size_t end_of_line = json.out.find('\n', start);
    if (end_of_line == std::string::npos) end_of_line = json.out.size();
    const std::string line = json.out.substr(start, end_of_line - start);
    start = end_of_line + 1;
    if (line.empty()) continue;
    std::optional<Json> chunk = ParseJson(line);
    ASSERT_TRUE(chunk.has_value()) << "not a LogChunk: " << line;
    content += JStr(*chunk, "content");
    last = chunk;
  }
  EXPECT_NE(content.find("third-line"), std::string::npos) << json.out;
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(JBool(*last, "is_final")) << last->dump();
  EXPECT_EQ(JStr(*last, "status"), "completed") << last->dump();

  // StreamTaskLogs from a byte offset starts there.
  const size_t offset = content.find("second-line");
  ASSERT_NE(offset, std::string::npos);
  std::unique_ptr<cloudai::v1::ClusterService::Stub> stub = ClusterStub();
  std::unique_ptr<grpc::ClientContext> context = Context();
  cloudai::v1::TaskLogRequest request;
  request.set_task_id("chatty");
  request.set_offset(static_cast<int64_t>(offset));
  std::unique_ptr<grpc::ClientReader<cloudai::v1::LogChunk>> reader =
      stub->StreamTaskLogs(context.get(), request);
  std::string from_offset;
  cloudai::v1::LogChunk chunk;
  while (reader->Read(&chunk)) from_offset += chunk.content();
  grpc::Status finished = reader->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(from_offset, content.substr(offset));
}

TEST_F(TasksTest, CancelStopsARunningTaskAndReleasesItsResources) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("w1");
  ASSERT_NE(w, nullptr);
  const std::string marker = dir().Sub("cancel-marker");
  CommandResult r = Cli({"task", "w1", kAnyImage, "--id", "to-cancel", "-cpu_cores", "0.5",
                         "-mem", "0.25", "-storage", "0.01", "--",
                         StrCat("echo started; sleep 3; echo not-cancelled > ", marker)});
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  ASSERT_TRUE(WaitForTaskState("to-cancel", {"running"}, seconds(10)).has_value());
  std::optional<Json> busy = WorkerStatus("w1");
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(ResourcesOf(*busy).allocated.cpu, 500);

  std::optional<Json> cancelled = CliJson({"cancel", "to-cancel"});
  ASSERT_TRUE(cancelled.has_value());
  std::optional<Json> final_state =
      WaitForTaskState("to-cancel", {"cancelled", "completed", "failed"}, seconds(10));
  ASSERT_TRUE(final_state.has_value());
  EXPECT_EQ(JStr(*final_state, "status"), "cancelled") << final_state->dump();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(5)));
  std::optional<Json> idle = WorkerStatus("w1");
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(ResourcesOf(*idle).available.cpu, ResourcesOf(*idle).total.cpu);
  EXPECT_TRUE(JArr(*idle, "running_task_ids").empty()) << idle->dump();

  // The command really stopped.
  std::this_thread::sleep_for(milliseconds(3500));
  EXPECT_TRUE(ReadFile(marker).empty()) << "the cancelled task ran to its end";

  // Cancelling it again: it has finished.
  CommandResult again = Cli({"cancel", "to-cancel"});
  EXPECT_EQ(again.exit_code, 1) << again.ToString();
  CommandResult unknown = Cli({"cancel", "no-such-task"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.ToString();
}

TEST_F(TasksTest, CancelOfAQueuedTaskTakesItOutOfTheQueue) {
  ASSERT_TRUE(StartMaster());
  // No worker: it stays queued.
  std::optional<Json> submitted =
      CliJson(Join(Join({"submit", kAnyImage, "--id", "queued-only"}, Small()), {"--", "true"}));
  ASSERT_TRUE(submitted.has_value());
  EXPECT_EQ(JStr(*submitted, "status"), "pending") << submitted->dump();
  std::optional<Json> queue = CliJson({"queue"});
  ASSERT_TRUE(queue.has_value());
  ASSERT_EQ(JArr(*queue, "tasks").size(), 1u) << queue->dump();
  EXPECT_FALSE(JStr(JArr(*queue, "tasks")[0], "last_error").empty() &&
               JStr(*submitted, "last_error").empty())
      << "a queued task says why it waits; " << queue->dump();

  std::optional<Json> cancelled = CliJson({"cancel", "queued-only"});
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(TaskState("queued-only"), "cancelled");
  std::optional<Json> empty = CliJson({"queue"});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(JArr(*empty, "tasks").empty()) << empty->dump();
}

TEST_F(TasksTest, TaskFlagsReachTheTask) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  CommandResult r = Cli(Join(Join({"task", "w1", kAnyImage, "--id", "with-env", "--env",
                                   "GREETING=hello-env", "--env", "OTHER=x", "--priority", "5"},
                                  Small()),
                             {"--", "echo \"greeting=$GREETING\""}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  std::optional<Json> done = WaitForTaskState("with-env", {"completed", "failed"}, seconds(15));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  EXPECT_EQ(JStr(JObj(JObj(*done, "task"), "env"), "GREETING"), "hello-env") << done->dump();
  EXPECT_EQ(JInt(JObj(*done, "task"), "priority"), 5) << done->dump();
  CommandResult logs = Cli({"logs", "with-env"});
  EXPECT_NE(logs.out.find("greeting=hello-env"), std::string::npos) << logs.ToString();

  // --timeout stops a task that runs too long; it fails, saying why.
  CommandResult slow = Cli(Join(Join({"task", "w1", kAnyImage, "--id", "too-slow", "--timeout",
                                      "1s"},
                                     Small()),
                                {"--", "sleep 20"}));
  ASSERT_EQ(slow.exit_code, 0) << slow.ToString();
  std::optional<Json> timed_out =
      WaitForTaskState("too-slow", {"completed", "failed", "cancelled"}, seconds(15));
  ASSERT_TRUE(timed_out.has_value());
  EXPECT_EQ(JStr(*timed_out, "status"), "failed") << timed_out->dump();
  EXPECT_FALSE(JStr(*timed_out, "error").empty()) << timed_out->dump();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(5)));
}

}  // namespace
}  // namespace cloudai::integration
