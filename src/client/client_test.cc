// Tests of cloudai_client: option resolution, Task building, and the typed calls against an
// in-process FakeClusterService.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "client/client_options.h"
#include "client/cluster_client.h"
#include "client/fake_cluster_service.h"
#include "client/task_builder.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudai::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cloudai-client-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& contents) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << contents;
    return p.string();
  }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------------------
// ResolveClientOptions

TEST(ResolveClientOptions, DefaultsToLocalhostAndEnvToken) {
  absl::StatusOr<ClientOptions> o =
      ResolveClientOptions({}, MapEnv({{"CLOUDAI_TOKEN", "  abc\n"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->master_address, "localhost:50051");
  EXPECT_EQ(o->token, "abc");
  EXPECT_EQ(o->token_source, "CLOUDAI_TOKEN");
  EXPECT_EQ(o->call_timeout, std::chrono::seconds(10));
}

TEST(ResolveClientOptions, FlagsBeatEnvironment) {
  TempDir dir;
  const std::string file = dir.Write("t", "from-file\n");
  ConnectionFlags flags;
  flags.master = "m:1";
  flags.token = "flag-token";
  flags.token_file = file;
  const EnvLookup env = MapEnv({{"CLOUDAI_MASTER", "env:2"}, {"CLOUDAI_TOKEN", "env-token"}});
  absl::StatusOr<ClientOptions> o = ResolveClientOptions(flags, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->master_address, "m:1");
  EXPECT_EQ(o->token, "flag-token");

  flags.token.reset();
  o = ResolveClientOptions(flags, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->token, "from-file");
  EXPECT_EQ(o->token_source, "--token-file " + file);

  flags = {};
  o = ResolveClientOptions(flags, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->master_address, "env:2");
  EXPECT_EQ(o->token, "env-token");
}

TEST(ResolveClientOptions, StateDirToken) {
  TempDir dir;
  const std::string file = dir.Write("admin.token", "0123abcd\n");
  absl::StatusOr<ClientOptions> o =
      ResolveClientOptions({}, MapEnv({{"CLOUDAI_STATE_DIR", dir.path().string()}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->token, "0123abcd");
  EXPECT_EQ(o->token_source, file);
}

TEST(ResolveClientOptions, WorkingDirectoryStateToken) {
  TempDir dir;
  dir.Write("cloudai-state/admin.token", "cwd-token\n");
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  absl::StatusOr<ClientOptions> o = ResolveClientOptions({}, MapEnv({}));
  fs::current_path(old);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->token, "cwd-token");
  EXPECT_EQ(o->token_source, "./cloudai-state/admin.token");
}

TEST(ResolveClientOptions, NoTokenNamesEveryPlace) {
  TempDir dir;
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  absl::StatusOr<ClientOptions> o =
      ResolveClientOptions({}, MapEnv({{"CLOUDAI_STATE_DIR", "/nonexistent/state"}}));
  fs::current_path(old);
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(absl::IsNotFound(o.status()));
  const std::string msg(o.status().message());
  EXPECT_THAT(msg, HasSubstr("--token"));
  EXPECT_THAT(msg, HasSubstr("CLOUDAI_TOKEN"));
  EXPECT_THAT(msg, HasSubstr("/nonexistent/state/admin.token"));
  EXPECT_THAT(msg, HasSubstr("./cloudai-state/admin.token"));
}

TEST(ResolveClientOptions, BadTokenFiles) {
  TempDir dir;
  ConnectionFlags flags;
  flags.token_file = (dir.path() / "missing").string();
  absl::StatusOr<ClientOptions> o = ResolveClientOptions(flags, MapEnv({}));
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(std::string(o.status().message()), HasSubstr("--token-file"));
  EXPECT_THAT(std::string(o.status().message()), HasSubstr("missing"));

  flags.token_file = dir.Write("empty", " \n\t");
  o = ResolveClientOptions(flags, MapEnv({}));
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(std::string(o.status().message()), HasSubstr("empty"));

  flags = {};
  flags.master = " ";
  o = ResolveClientOptions(flags, MapEnv({{"CLOUDAI_TOKEN", "t"}}));
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(std::string(o.status().message()), HasSubstr("--master"));
}

// ---------------------------------------------------------------------------------------
// BuildTask

TEST(BuildTask, SeedDefaults) {
  TaskOptions options;
  options.image = "busybox:latest";
  absl::StatusOr<v1::Task> task = BuildTask(options);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->docker_image(), "busybox:latest");
  EXPECT_EQ(task->req_cpu(), 1000);
  EXPECT_EQ(task->req_memory(), 512);
  EXPECT_EQ(task->req_storage(), 1024);
  EXPECT_EQ(task->req_gpu(), 0);
  EXPECT_EQ(task->priority(), 0);
  EXPECT_EQ(task->timeout_ms(), 0);
  EXPECT_TRUE(task->command().empty());
}

TEST(BuildTask, ParsesEveryFlag) {
  TaskOptions options;
  options.image = "ubuntu:22.04";
  options.command = "echo hi";
  options.target_worker_id = "w1";
  options.task_id = "t-1";
  options.cpu_cores = "1.5";
  options.memory = "2";
  options.storage = "512Mi";
  options.gpu_cores = "500m";
  options.priority = "-3";
  options.max_retries = "2";
  options.timeout = "1m30s";
  options.env = {"A=1", "B=x=y", "A=2", "EMPTY="};
  absl::StatusOr<v1::Task> task = BuildTask(options);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->req_cpu(), 1500);
  EXPECT_EQ(task->req_memory(), 2048);
  EXPECT_EQ(task->req_storage(), 512);
  EXPECT_EQ(task->req_gpu(), 500);
  EXPECT_EQ(task->priority(), -3);
  EXPECT_EQ(task->max_retries(), 2);
  EXPECT_EQ(task->timeout_ms(), 90'000);
  EXPECT_EQ(task->target_worker_id(), "w1");
  EXPECT_EQ(task->task_id(), "t-1");
  EXPECT_EQ(task->command(), "echo hi");
  EXPECT_EQ(task->env().at("A"), "2");
  EXPECT_EQ(task->env().at("B"), "x=y");
  EXPECT_EQ(task->env().at("EMPTY"), "");
}

TEST(BuildTask, ErrorsNameTheFlag) {
  struct Case {
    std::string TaskOptions::*member;
    std::string value;
    std::string flag;
    std::string words;
  };
  const std::vector<Case> cases = {
      {&TaskOptions::cpu_cores, "abc", "-cpu_cores", ""},
      {&TaskOptions::cpu_cores, "-1", "-cpu_cores", "negative"},
      {&TaskOptions::memory, "lots", "-mem", ""},
      {&TaskOptions::memory, "-2", "-mem", "negative"},
      {&TaskOptions::storage, "1.5x", "-storage", ""},
      {&TaskOptions::gpu_cores, "-0.5", "-gpu_cores", "negative"},
      {&TaskOptions::priority, "high", "--priority", "whole number"},
      {&TaskOptions::max_retries, "-1", "--max-retries", "negative"},
      {&TaskOptions::timeout, "soon", "--timeout", "duration"},
      {&TaskOptions::timeout, "-5s", "--timeout", "negative"},
      {&TaskOptions::task_id, "a b", "--id", "whitespace"},
      {&TaskOptions::image, "", "image", "missing"},
  };
  for (const Case& c : cases) {
    TaskOptions options;
    options.image = "busybox";
    options.*c.member = c.value;
    absl::StatusOr<v1::Task> task = BuildTask(options);
    ASSERT_FALSE(task.ok()) << c.flag << " " << c.value;
    EXPECT_TRUE(absl::IsInvalidArgument(task.status()));
    const std::string msg(task.status().message());
    EXPECT_EQ(msg.rfind(c.flag + ":", 0), 0u) << msg;
    EXPECT_THAT(msg, HasSubstr(c.words)) << msg;
  }
  TaskOptions options;
  options.image = "busybox";
  options.env = {"NOEQUALS"};
  ASSERT_FALSE(BuildTask(options).ok());
  EXPECT_THAT(std::string(BuildTask(options).status().message()), HasSubstr("--env"));
  options.env = {"=v"};
  EXPECT_FALSE(BuildTask(options).ok());
}

TEST(JoinCommand, KeepsOneLineAndRequotesArgumentLists) {
  EXPECT_EQ(JoinCommand({"echo hi; sleep 1"}), "echo hi; sleep 1");
  EXPECT_EQ(JoinCommand({"echo", "hello"}), "echo hello");
  EXPECT_EQ(JoinCommand({"sh", "-c", "exit 3"}), "sh -c 'exit 3'");
  EXPECT_EQ(JoinCommand({"echo", "it's"}), "echo 'it'\\''s'");
  EXPECT_EQ(JoinCommand({"echo", ""}), "echo ''");
  EXPECT_EQ(JoinCommand({}), "");
}

TEST(ParseTaskDuration, Forms) {
  EXPECT_EQ(*ParseTaskDuration("500ms", "t"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseTaskDuration("30", "t"), std::chrono::seconds(30));
  EXPECT_EQ(*ParseTaskDuration("2h", "t"), std::chrono::hours(2));
  EXPECT_EQ(*ParseTaskDuration("0", "t"), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseTaskDuration("1h30", "t").ok());
  EXPECT_FALSE(ParseTaskDuration("", "t").ok());
  EXPECT_FALSE(ParseTaskDuration("100000000h", "t").ok());
  EXPECT_EQ(*ParseTaskDuration("2d", "t"), std::chrono::hours(48));
}

TEST(ParseDurationSeconds, WholeSecondsWithDays) {
  EXPECT_EQ(*ParseDurationSeconds("90s", "--ttl"), 90);
  EXPECT_EQ(*ParseDurationSeconds("10m", "--ttl"), 600);
  EXPECT_EQ(*ParseDurationSeconds("1h", "--ttl"), 3600);
  EXPECT_EQ(*ParseDurationSeconds("2d", "--ttl"), 172'800);
  EXPECT_EQ(*ParseDurationSeconds("1d12h", "--ttl"), 129'600);
  EXPECT_EQ(*ParseDurationSeconds("45", "--ttl"), 45);
  for (const char* bad : {"1500ms", "0", "", "soon", "-5m", "1x"}) {
    absl::StatusOr<int64_t> got = ParseDurationSeconds(bad, "--ttl");
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(std::string(got.status().message()).rfind("--ttl: ", 0), 0u) << got.status();
  }
  EXPECT_THAT(std::string(ParseDurationSeconds("1500ms", "--ttl").status().message()),
              HasSubstr("whole number of seconds"));
}

// ---------------------------------------------------------------------------------------
// BuildAllocationRequest

TEST(BuildAllocationRequest, DefaultsLeaveTheMastersChoice) {
  AllocationOptions options;
  options.job_id = "train-42";
  absl::StatusOr<v1::AllocationRequest> r = BuildAllocationRequest(options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job_id(), "train-42");
  EXPECT_EQ(r->workers(), 0);
  EXPECT_FALSE(r->has_per_worker());
  EXPECT_EQ(r->priority(), "");
  EXPECT_EQ(r->ttl_seconds(), 0);
  EXPECT_FALSE(r->has_wait());
}

TEST(BuildAllocationRequest, ParsesEveryFlag) {
  AllocationOptions options;
  options.job_id = "job.1";
  options.workers = "3";
  options.cpu_cores = "2";
  options.gpu_cores = "1";
  options.priority = "HIGH";
  options.ttl = "90m";
  options.services = {"echo", "mcp"};
  options.metadata = {"owner=ann", "note=a=b", "owner=bob"};
  options.wait = false;
  absl::StatusOr<v1::AllocationRequest> r = BuildAllocationRequest(options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->workers(), 3);
  EXPECT_EQ(r->per_worker().cpu(), 2000);
  EXPECT_EQ(r->per_worker().memory(), 2048);  // the default slot's memory
  EXPECT_EQ(r->per_worker().gpu(), 1000);
  EXPECT_EQ(r->per_worker().storage(), 1024);  // what a default task asks
  EXPECT_EQ(r->priority(), "high");
  EXPECT_EQ(r->ttl_seconds(), 5400);
  ASSERT_EQ(r->services_size(), 2);
  EXPECT_EQ(r->services(1), "mcp");
  EXPECT_EQ(r->metadata().at("owner"), "bob");
  EXPECT_EQ(r->metadata().at("note"), "a=b");
  ASSERT_TRUE(r->has_wait());
  EXPECT_FALSE(r->wait());

  options = {};
  options.job_id = "j";
  options.memory = "0.5";
  r = BuildAllocationRequest(options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->per_worker().cpu(), 1000);
  EXPECT_EQ(r->per_worker().memory(), 512);
}

TEST(BuildAllocationRequest, ErrorsNameTheFlag) {
  struct Case {
    std::string AllocationOptions::*member;
    std::string value;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {&AllocationOptions::job_id, "", "job_id: missing"},
      {&AllocationOptions::job_id, "-x", "job_id:"},
      {&AllocationOptions::job_id, "a b", "job_id:"},
      {&AllocationOptions::workers, "0", "--workers:"},
      {&AllocationOptions::workers, "1001", "--workers:"},
      {&AllocationOptions::workers, "two", "--workers:"},
      {&AllocationOptions::cpu_cores, "lots", "-cpu_cores:"},
      {&AllocationOptions::memory, "-1", "-mem:"},
      {&AllocationOptions::gpu_cores, "x", "-gpu_cores:"},
      {&AllocationOptions::storage, "x", "-storage:"},
      {&AllocationOptions::priority, "urgent", "--priority:"},
      {&AllocationOptions::ttl, "forever", "--ttl:"},
      {&AllocationOptions::ttl, "0", "--ttl:"},
  };
  for (const Case& c : cases) {
    AllocationOptions options;
    options.job_id = "job";
    options.*c.member = c.value;
    absl::StatusOr<v1::AllocationRequest> r = BuildAllocationRequest(options);
    ASSERT_FALSE(r.ok()) << c.prefix << " " << c.value;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    EXPECT_EQ(std::string(r.status().message()).rfind(c.prefix, 0), 0u) << r.status();
  }
  AllocationOptions options;
  options.job_id = "job";
  options.metadata = {"novalue"};
  EXPECT_THAT(std::string(BuildAllocationRequest(options).status().message()),
              HasSubstr("--meta:"));
  options.metadata = {"=v"};
  EXPECT_FALSE(BuildAllocationRequest(options).ok());
  options.metadata = {};
  options.services = {""};
  EXPECT_THAT(std::string(BuildAllocationRequest(options).status().message()),
              HasSubstr("--service:"));
}

TEST(BuildTask, AllocationId) {
  TaskOptions options;
  options.image = "busybox";
  options.allocation_id = " alloc-0123456789ab ";
  absl::StatusOr<v1::Task> task = BuildTask(options);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->allocation_id(), "alloc-0123456789ab");
  options.allocation_id = "a b";
  EXPECT_FALSE(BuildTask(options).ok());
}

// ---------------------------------------------------------------------------------------
// ClusterClient against the fake service

class ClusterClientTest : public ::testing::Test {
 protected:
  ClientOptions Options(const std::string& token) {
    ClientOptions o;
    o.master_address = server_.address();
    o.token = token;
    return o;
  }
  testing::FakeClusterServer server_{"secret"};
};

TEST_F(ClusterClientTest, SendsTokenAndReturnsReply) {
  v1::ListWorkersResponse workers;
  workers.add_workers()->mutable_info()->set_worker_id("w1");
  server_.service().SetWorkers(workers);
  ClusterClient client(Options("secret"));
  absl::StatusOr<v1::ListWorkersResponse> got = client.ListWorkers();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->workers_size(), 1);
  EXPECT_EQ(got->workers(0).info().worker_id(), "w1");
  const auto calls = server_.service().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "ListWorkers");
  EXPECT_EQ(calls[0].authorization, "Bearer secret");
}

TEST_F(ClusterClientTest, WrongTokenIsUnauthenticated) {
  ClusterClient client(Options("wrong"));
  absl::StatusOr<v1::TaskStatus> got = client.GetTask("t1");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(got.status()));
  EXPECT_EQ(got.status().message(), "missing or wrong admin token");
  EXPECT_FALSE(IsUnreachable(got.status()));
}

TEST_F(ClusterClientTest, MapsCodesAndKeepsMessages) {
  server_.service().FailWith("AssignTask",
                             grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "Insufficient CPU: worker has 2.00 available, "
                                          "task requires 3.00"));
  server_.service().FailWith("GetTask",
                             grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task t9"));
  ClusterClient client(Options("secret"));
  TaskOptions options;
  options.image = "busybox";
  options.cpu_cores = "3";
  options.target_worker_id = "w1";
  absl::StatusOr<v1::TaskStatus> assigned = client.AssignTask(*BuildTask(options));
  ASSERT_FALSE(assigned.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(assigned.status()));
  EXPECT_EQ(assigned.status().message(),
            "Insufficient CPU: worker has 2.00 available, task requires 3.00");
  auto request = server_.service().LastRequest<v1::SubmitTaskRequest>("AssignTask");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->task().req_cpu(), 3000);
  EXPECT_EQ(request->task().target_worker_id(), "w1");

  absl::StatusOr<v1::TaskStatus> got = client.GetTask("t9");
  EXPECT_TRUE(absl::IsNotFound(got.status()));
  EXPECT_EQ(got.status().message(), "unknown task t9");
}

TEST_F(ClusterClientTest, NegativeAckIsARefusal) {
  v1::Ack ack;
  ack.set_success(false);
  ack.set_message("worker w1 is already registered");
  server_.service().SetAck(ack);
  ClusterClient client(Options("secret"));
  absl::StatusOr<v1::Ack> got = client.RegisterWorker("w1", "10.0.0.1:50052");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(got.status()));
  EXPECT_EQ(got.status().message(), "worker w1 is already registered");
  auto request = server_.service().LastRequest<v1::RegisterWorkerRequest>("RegisterWorker");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->worker_ip(), "10.0.0.1:50052");
}

TEST_F(ClusterClientTest, StreamsEveryChunk) {
  std::vector<v1::LogChunk> chunks(3);
  chunks[0].set_content("one\n");
  chunks[1].set_content("two\n");
  chunks[2].set_content("three\n");
  chunks[2].set_is_final(true);
  chunks[2].set_status("completed");
  server_.service().SetLogChunks(chunks);
  ClusterClient client(Options("secret"));
  v1::TaskLogRequest request;
  request.set_task_id("t1");
  request.set_follow(true);
  std::string text;
  std::string final_status;
  absl::Status s = client.StreamTaskLogs(request, [&](const v1::LogChunk& c) {
    text += c.content();
    if (c.is_final()) final_status = c.status();
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(text, "one\ntwo\nthree\n");
  EXPECT_EQ(final_status, "completed");
  auto got = server_.service().LastRequest<v1::TaskLogRequest>("StreamTaskLogs");
  ASSERT_NE(got, nullptr);
  EXPECT_TRUE(got->follow());
  EXPECT_EQ(server_.service().calls()[0].authorization, "Bearer secret");

  // Stopping early is not an error.
  int seen = 0;
  s = client.StreamTaskLogs(request, [&](const v1::LogChunk&) { return ++seen < 1; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, 1);
}

TEST_F(ClusterClientTest, StreamErrorsSurface) {
  ClusterClient client(Options("nope"));
  v1::TaskLogRequest request;
  request.set_task_id("t1");
  absl::Status s = client.StreamTaskLogs(request, [](const v1::LogChunk&) { return true; });
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
}

// ---------------------------------------------------------------------------------------
// Allocations against the fake's in-memory allocations

bool IsAllocationId(const std::string& id) {
  if (id.size() != 18 || id.rfind("alloc-", 0) != 0) return false;
  return id.find_first_not_of("0123456789abcdef", 6) == std::string::npos;
}

TEST_F(ClusterClientTest, AllocationLifecycle) {
  constexpr int64_t kNow = 1'714'564'800'000;
  server_.service().SetNowMs(kNow);
  v1::ListWorkersResponse workers;
  for (const char* id : {"w1", "w2"}) {
    v1::WorkerStatus* w = workers.add_workers();
    w->mutable_info()->set_worker_id(id);
    w->mutable_info()->set_worker_ip(StrCat("10.0.0.", id[1], ":50052"));
    w->set_is_active(true);
  }
  server_.service().SetWorkers(workers);
  ClusterClient client(Options("secret"));

  v1::AllocationRequest request;
  request.set_job_id("train");
  request.set_workers(3);
  request.mutable_per_worker()->set_cpu(2000);
  request.mutable_per_worker()->set_memory(4096);
  request.add_services("echo");
  (*request.mutable_metadata())["owner"] = "ann";
  absl::StatusOr<v1::Allocation> a = client.RequestAllocation(request);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(IsAllocationId(a->allocation_id())) << a->allocation_id();
  EXPECT_EQ(a->state(), "active");
  EXPECT_EQ(a->priority(), "normal");
  EXPECT_EQ(a->ttl_seconds(), 3600);
  EXPECT_EQ(a->expires_at_ms(), kNow + 3'600'000);
  ASSERT_EQ(a->slots_size(), 3);
  EXPECT_EQ(a->slots(0).worker_id(), "w1");
  EXPECT_EQ(a->slots(1).worker_id(), "w2");
  EXPECT_EQ(a->slots(1).host(), "10.0.0.2");
  EXPECT_EQ(a->slots(2).resources().cpu(), 2000);
  ASSERT_EQ(a->endpoints_size(), 1);
  EXPECT_EQ(a->endpoints(0).endpoint(), "10.0.0.1:9000");
  EXPECT_EQ(a->metadata().at("owner"), "ann");
  EXPECT_EQ(a->events_size(), 0);
  auto sent = server_.service().LastRequest<v1::AllocationRequest>("RequestAllocation");
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sent->workers(), 3);
  EXPECT_EQ(server_.service().calls().back().authorization, "Bearer secret");

  const std::string id = a->allocation_id();
  absl::StatusOr<v1::Allocation> got = client.GetAllocation(id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->events_size(), 1);
  EXPECT_EQ(got->events(0).to_state(), "active");

  absl::StatusOr<v1::Allocation> extended = client.ExtendAllocation(id, 1800);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->expires_at_ms(), kNow + 5'400'000);
  EXPECT_EQ(server_.service().LastRequest<v1::ExtendAllocationRequest>("ExtendAllocation")
                ->extend_seconds(),
            1800);

  request.set_job_id("other");
  request.clear_services();
  ASSERT_TRUE(client.RequestAllocation(request).ok());
  v1::ListAllocationsRequest list;
  absl::StatusOr<v1::ListAllocationsResponse> all = client.ListAllocations(list);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->allocations_size(), 2);
  EXPECT_EQ(all->allocations(0).job_id(), "other");  // newest first
  list.set_job_id("train");
  EXPECT_EQ(client.ListAllocations(list)->allocations_size(), 1);

  absl::StatusOr<v1::Capacity> capacity = client.GetCapacity();
  ASSERT_TRUE(capacity.ok()) << capacity.status();
  EXPECT_EQ(capacity->active_allocations(), 2);
  EXPECT_EQ(capacity->reserved().cpu(), 12'000);
  EXPECT_EQ(capacity->workers_active(), 2);
  ASSERT_EQ(capacity->services_size(), 1);
  EXPECT_EQ(capacity->services(0).references(), 1);

  absl::StatusOr<v1::Allocation> released = client.ReleaseAllocation(id);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state(), "released");
  absl::StatusOr<v1::Allocation> again = client.ReleaseAllocation(id);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status()));
  EXPECT_EQ(again.status().message(), StrCat("allocation ", id, " is already released"));
  EXPECT_TRUE(absl::IsFailedPrecondition(client.ExtendAllocation(id, 60).status()));
  EXPECT_TRUE(absl::IsNotFound(client.GetAllocation("alloc-000000000bad").status()));
  EXPECT_EQ(client.GetAllocation(id)->events_size(), 2);

  // The released allocation's service is idle; cleanup stops it and expires the rest once
  // their time has passed.
  absl::StatusOr<v1::CleanupResponse> cleanup = client.CleanupExpiredAllocations();
  ASSERT_TRUE(cleanup.ok()) << cleanup.status();
  EXPECT_EQ(cleanup->expired_allocation_ids_size(), 0);
  ASSERT_EQ(cleanup->stopped_services_size(), 1);
  EXPECT_EQ(cleanup->active_allocations(), 1);
  server_.service().SetNowMs(kNow + 3'600'000);
  cleanup = client.CleanupExpiredAllocations();
  ASSERT_TRUE(cleanup.ok()) << cleanup.status();
  ASSERT_EQ(cleanup->expired_allocation_ids_size(), 1);
  EXPECT_EQ(cleanup->active_allocations(), 0);
}

TEST_F(ClusterClientTest, PendingAllocationsAndTasksInThem) {
  server_.service().SetAllocationsPending("no worker has 64.00 GB of memory free");
  ClusterClient client(Options("secret"));
  v1::AllocationRequest request;
  request.set_job_id("big");
  absl::StatusOr<v1::Allocation> a = client.RequestAllocation(request);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->state(), "pending");
  EXPECT_EQ(a->reason(), "no worker has 64.00 GB of memory free");
  EXPECT_EQ(a->slots_size(), 0);
  request.set_wait(false);
  absl::StatusOr<v1::Allocation> refused = client.RequestAllocation(request);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();

  v1::TaskStatus reply;
  reply.mutable_task()->set_task_id("t-1");
  reply.set_status("pending");
  server_.service().SetTask(reply);
  v1::Task task;
  task.set_docker_image("busybox");
  task.set_allocation_id(a->allocation_id());
  absl::StatusOr<v1::TaskStatus> submitted = client.SubmitTask(task);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_EQ(submitted->task().allocation_id(), a->allocation_id());
  EXPECT_EQ(client.GetAllocation(a->allocation_id())->task_ids_size(), 1);
  task.set_allocation_id("alloc-ffffffffffff");
  EXPECT_TRUE(absl::IsNotFound(client.SubmitTask(task).status()));
  ASSERT_TRUE(client.ReleaseAllocation(a->allocation_id()).ok());
  task.set_allocation_id(a->allocation_id());
  EXPECT_TRUE(absl::IsFailedPrecondition(client.SubmitTask(task).status()));

  request.set_job_id("");
  EXPECT_TRUE(absl::IsInvalidArgument(client.RequestAllocation(request).status()));
  server_.service().FailWith("GetCapacity",
                             grpc::Status(grpc::StatusCode::UNAVAILABLE, "store down"));
  EXPECT_TRUE(IsUnreachable(client.GetCapacity().status()));
}

TEST(ClusterClientUnreachable, ClosedPortIsUnavailable) {
  std::string address;
  {
    testing::FakeClusterServer server;
    address = server.address();
  }
  ClientOptions options;
  options.master_address = address;
  options.token = "t";
  options.call_timeout = std::chrono::seconds(5);
  ClusterClient client(options);
  absl::StatusOr<v1::ListWorkersResponse> got = client.ListWorkers();
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(IsUnreachable(got.status())) << got.status();
}

}  // namespace
}  // namespace cloudai::client
