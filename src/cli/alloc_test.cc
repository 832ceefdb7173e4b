// Tests of the `cloudai alloc` verbs, `submit --alloc` and `cloudai mcp`, run in-process
// against the FakeClusterService's in-memory allocations: the requests sent, summaries and
// JSON, the master's refusals, and the MCP backend over ClusterClient.
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/mcp_backend.h"
#include "client/cluster_client.h"
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
constexpr char kFirstId[] = "alloc-000000000001";

struct Result {
  int code;
  std::string out;
  std::string err;
};

v1::WorkerStatus Worker(const std::string& id, const std::string& ip) {
  v1::WorkerStatus w;
  w.mutable_info()->set_worker_id(id);
  w.mutable_info()->set_worker_ip(ip + ":50052");
  w.mutable_info()->set_total_cpu(8000);
  w.mutable_info()->set_total_memory(16384);
  w.mutable_info()->set_total_storage(102400);
  w.mutable_info()->set_total_gpu(1000);
  w.set_is_active(true);
  w.mutable_allocated()->set_cpu(1000);
  w.mutable_allocated()->set_memory(1024);
  return w;
}

class AllocTest : public ::testing::Test {
 protected:
  AllocTest() {
    v1::ListWorkersResponse workers;
    *workers.add_workers() = Worker("worker-1", "10.0.0.5");
    *workers.add_workers() = Worker("worker-2", "10.0.0.6");
    fake().SetWorkers(workers);
    fake().SetNowMs(kNowMs);
  }

  Result Run(std::vector<std::string> args, bool tty = false, std::istream* in = nullptr) {
    CliContext context;
    const std::string address = server_.address();
    context.env = [address](const std::string& name) -> std::optional<std::string> {
      if (name == "CLOUDAI_MASTER") return address;
      if (name == "CLOUDAI_TOKEN") return std::string("secret");
      return std::nullopt;
    };
    context.stdout_is_tty = tty;
    context.now_ms = [] { return kNowMs; };
    context.in = in;
    std::ostringstream out;
    std::ostringstream err;
    const int code = RunCli(args, out, err, context);
    return {code, out.str(), err.str()};
  }

  // Requests an allocation through the CLI and returns its id.
  std::string Request(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"alloc", "request", "job-1", "-o", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = Run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    v1::Allocation a;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &a).ok()) << r.out;
    return a.allocation_id();
  }

  client::testing::FakeClusterService& fake() { return server_.service(); }

  FakeClusterServer server_{"secret"};
};

template <typename Message>
Message ParseJson(const std::string& text) {
  Message m;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &m);
  EXPECT_TRUE(status.ok()) << text;
  return m;
}

// ---------------------------------------------------------------------------------------
// alloc request

TEST_F(AllocTest, RequestSendsEveryFlagAndPrintsSlotsEndpointsExpiry) {
  const Result r = Run({"alloc", "request", "train", "-workers", "2", "-cpu_cores", "2", "-mem",
                        "4", "-gpu", "1", "-priority", "high", "-ttl", "90m", "-service", "echo",
                        "-meta", "owner=ann", "--meta=team=ml"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto request = fake().LastRequest<v1::AllocationRequest>("RequestAllocation");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->job_id(), "train");
  EXPECT_EQ(request->workers(), 2);
  EXPECT_EQ(request->per_worker().cpu(), 2000);
  EXPECT_EQ(request->per_worker().memory(), 4096);  // -mem is GiB, as for submit
  EXPECT_EQ(request->per_worker().gpu(), 1000);
  EXPECT_EQ(request->priority(), "high");
  EXPECT_EQ(request->ttl_seconds(), 5400);
  ASSERT_EQ(request->services_size(), 1);
  EXPECT_EQ(request->services(0), "echo");
  EXPECT_EQ(request->metadata().at("owner"), "ann");
  EXPECT_EQ(request->metadata().at("team"), "ml");
  EXPECT_FALSE(request->has_wait());
  EXPECT_EQ(fake().calls().back().authorization, "Bearer secret");

  EXPECT_EQ(r.out,
            "Allocation alloc-000000000001 for job train: active, 2 slots, expires "
            "2024-05-01 13:30:00 UTC (in 1h30m)\n"
            "\n"
            "Allocation:    alloc-000000000001\n"
            "Job:           train\n"
            "State:         active\n"
            "Priority:      high\n"
            "Slots:         2 of 2, each CPU 2.00, Memory 4.00 GB, Storage 1.00 GB, GPU 1.00\n"
            "Services:      echo\n"
            "Metadata:      owner=ann team=ml\n"
            "Created:       2024-05-01 12:00:00 UTC\n"
            "Active since:  2024-05-01 12:00:00 UTC\n"
            "Expires:       2024-05-01 13:30:00 UTC (in 1h30m)\n"
            "TTL:           1h30m\n"
            "\n"
            "  Slot  Worker    Host      CPU   Memory   Storage  GPU   Used CPU  Used Memory\n"
            "  1     worker-1  10.0.0.5  2.00  4.00 GB  1.00 GB  1.00  0.00      0.00 GB\n"
            "  2     worker-2  10.0.0.6  2.00  4.00 GB  1.00 GB  1.00  0.00      0.00 GB\n"
            "\n"
            "  Service  Endpoint       Status   Task      Worker\n"
            "  echo     10.0.0.5:9000  running  svc-echo  worker-1\n"
            "\n"
            "Run tasks in it with: cloudai submit --alloc alloc-000000000001 <image> ...\n"
            "Release it with:      cloudai alloc release alloc-000000000001\n");
}

TEST_F(AllocTest, RequestDefaultsLeaveTheMastersChoice) {
  const Result r = Run({"alloc", "request", "job-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::AllocationRequest>("RequestAllocation");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->workers(), 0);
  EXPECT_FALSE(request->has_per_worker());
  EXPECT_EQ(request->ttl_seconds(), 0);
  EXPECT_EQ(request->priority(), "");
  // The fake, as the master, fills in 1 slot of 1 core and 2 GiB for an hour.
  EXPECT_THAT(r.out, HasSubstr("Slots:         1 of 1, each CPU 1.00, Memory 2.00 GB"));
  EXPECT_THAT(r.out, HasSubstr("Expires:       2024-05-01 13:00:00 UTC (in 1h)\n"));
}

TEST_F(AllocTest, PendingRequestSaysWhy) {
  fake().SetAllocationsPending("not enough free GPU: 2.00 asked, 1.00 free");
  Result r = Run({"alloc", "request", "big", "-gpu", "2", "-ttl", "2d"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Allocation alloc-000000000001 for job big: pending, waiting for "
                               "capacity: not enough free GPU: 2.00 asked, 1.00 free\n"));
  EXPECT_THAT(r.out, HasSubstr("It becomes active when the capacity is free, unless it expires "
                               "first (2024-05-03 12:00:00 UTC).\n"));
  EXPECT_THAT(r.out, HasSubstr("Waiting:       not enough free GPU"));
  EXPECT_THAT(r.out, HasSubstr("Slots:         0 of 1"));
  EXPECT_EQ(fake().LastRequest<v1::AllocationRequest>("RequestAllocation")->ttl_seconds(),
            172'800);

  // --nowait: the master refuses instead of queueing.
  r = Run({"alloc", "request", "big", "--nowait"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: not enough free GPU: 2.00 asked, 1.00 free\n");
  EXPECT_EQ(r.out, "");
  auto request = fake().LastRequest<v1::AllocationRequest>("RequestAllocation");
  ASSERT_TRUE(request->has_wait());
  EXPECT_FALSE(request->wait());
}

TEST_F(AllocTest, BadFlagsAreUsageErrorsAndSendNothing) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"alloc", "request"}, "missing <job_id>"},
      {{"alloc", "request", "-bad-id"}, "unknown flag -bad-id"},
      {{"alloc", "request", "j", "-workers", "0"}, "--workers: 0 is below the minimum of 1"},
      {{"alloc", "request", "j", "-workers", "1001"}, "--workers: 1001 is above the maximum"},
      {{"alloc", "request", "j", "-mem", "lots"}, "-mem:"},
      {{"alloc", "request", "j", "-cpu_cores", "-1"}, "-cpu_cores: -1 is negative"},
      {{"alloc", "request", "j", "-priority", "urgent"}, "--priority: \"urgent\" is not low"},
      {{"alloc", "request", "j", "-ttl", "soon"}, "--ttl: \"soon\" is not a duration"},
      {{"alloc", "request", "j", "-ttl", "500ms"}, "--ttl: 500ms is not a whole number"},
      {{"alloc", "request", "j", "-meta", "novalue"}, "--meta: \"novalue\" is not KEY=VALUE"},
      {{"alloc", "request", "j", "-nowait=yes"}, "--nowait takes no value"},
      {{"alloc", "request", "j k"}, "<job_id>: \"j k\" is not an id"},
      {{"alloc", "release"}, "missing <alloc_id>"},
      {{"alloc", "get", "a", "b"}, "unexpected argument \"b\""},
      {{"alloc", "extend", "alloc-1"}, "missing <duration>"},
      {{"alloc", "extend", "alloc-1", "forever"}, "<duration>: \"forever\" is not a duration"},
      {{"alloc", "extend", "alloc-1", "0"}, "<duration>: 0 is shorter than the minimum"},
      {{"alloc", "list", "--limit", "x"}, "--limit:"},
      {{"alloc", "capacity", "extra"}, "unexpected argument \"extra\""},
      {{"alloc"}, "missing command: request, release, get, list, extend, capacity, cleanup"},
      {{"alloc", "frob"}, "unknown alloc command \"frob\""},
      {{"alloc", "list", "-o", "yaml"}, "-o: \"yaml\" is not table or json"},
      {{"submit", "busybox", "--alloc"}, "--alloc needs a value"},
      {{"submit", "busybox", "--alloc", "a b"}, "--alloc: \"a b\" contains whitespace"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << args.back();
    EXPECT_THAT(r.err, HasSubstr("error: " + message)) << args.back();
    EXPECT_THAT(r.err, HasSubstr("usage: cloudai "));
    EXPECT_EQ(r.out, "");
  }
  EXPECT_TRUE(fake().calls().empty());
}

// ---------------------------------------------------------------------------------------
// release, get, list, extend, capacity, cleanup

TEST_F(AllocTest, ReleaseTwiceIsTheMastersRefusal) {
  const std::string id = Request();
  ASSERT_EQ(id, kFirstId);
  Result r = Run({"alloc", "release", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Allocation alloc-000000000001: released\n");
  EXPECT_EQ(fake().LastRequest<v1::AllocationId>("ReleaseAllocation")->allocation_id(), id);

  r = Run({"alloc", "release", id});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: allocation alloc-000000000001 is already released\n");
  EXPECT_EQ(r.out, "");

  r = Run({"alloc", "get", "alloc-00000000dead"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: unknown allocation alloc-00000000dead\n");
}

TEST_F(AllocTest, GetShowsEvents) {
  const std::string id = Request({"-workers", "2"});
  ASSERT_EQ(Run({"alloc", "release", id}).code, 0);
  const Result r = Run({"alloc", "get", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("State:         released\n"));
  EXPECT_THAT(r.out, HasSubstr("Reason:        released by request\n"));
  EXPECT_THAT(r.out, HasSubstr("Expires:       2024-05-01 13:00:00 UTC\n"));  // no "in" now
  EXPECT_THAT(r.out, HasSubstr("Ended:         2024-05-01 12:00:00 UTC\n"));
  EXPECT_THAT(r.out, HasSubstr("Events:\n"
                               "  Time                     From    To        Detail\n"
                               "  2024-05-01 12:00:00 UTC  -       active    2 slots placed\n"
                               "  2024-05-01 12:00:00 UTC  active  released  released by "
                               "request\n"));
}

TEST_F(AllocTest, ListFiltersAndTable) {
  Result r = Run({"alloc", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "No allocations.\n");

  Request({"-workers", "2"});
  fake().SetAllocationsPending("waiting for 3 slots");
  Request({"-workers", "3", "-cpu_cores", "4", "-mem", "8"});
  r = Run({"alloc", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Allocation          Job    State    Priority  Slots  CPU   Memory   GPU   Expires  "
            "Reason\n"
            "alloc-000000000002  job-1  pending  normal    0/3    4.00  8.00 GB  0.00  in 1h    "
            "waiting for 3 slots\n"
            "alloc-000000000001  job-1  active   normal    2/2    1.00  2.00 GB  0.00  in 1h    "
            "-\n"
            "2 allocations\n");

  r = Run({"alloc", "list", "-state", "active", "-job", "job-1", "-limit", "5"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::ListAllocationsRequest>("ListAllocations");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->state(), "active");
  EXPECT_EQ(request->job_id(), "job-1");
  EXPECT_EQ(request->limit(), 5);
  EXPECT_THAT(r.out, HasSubstr("1 allocation\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("pending")));
}

TEST_F(AllocTest, ExtendTakesDurations) {
  const std::string id = Request();
  Result r = Run({"alloc", "extend", id, "2d"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fake().LastRequest<v1::ExtendAllocationRequest>("ExtendAllocation")->extend_seconds(),
            172'800);
  EXPECT_EQ(r.out,
            "Allocation alloc-000000000001 now expires at 2024-05-03 13:00:00 UTC (in 2d1h) "
            "(TTL 2d1h)\n");
  for (const auto& [text, seconds] :
       std::vector<std::pair<std::string, int64_t>>{{"90s", 90}, {"10m", 600}, {"1h", 3600},
                                                    {"45", 45}}) {
    ASSERT_EQ(Run({"alloc", "extend", id, text}).code, 0) << text;
    EXPECT_EQ(
        fake().LastRequest<v1::ExtendAllocationRequest>("ExtendAllocation")->extend_seconds(),
        seconds);
  }
  // Past the master's maximum TTL: its refusal.
  r = Run({"alloc", "extend", id, "7d"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, HasSubstr("error: extend_seconds: the TTL would be"));
}

TEST_F(AllocTest, CapacityAndCleanup) {
  Request({"-workers", "2", "-service", "echo"});
  Request({"-ttl", "2h"});
  Result r = Run({"alloc", "capacity"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Workers:       2 active of 2\n"
            "Allocations:   2 active, 0 pending\n"
            "\n"
            "Resource  Total      Allocated  Reserved  Available  Allocated %\n"
            "CPU       16.00      5.00       3.00      11.00      31.3%\n"
            "Memory    32.00 GB   8.00 GB    6.00 GB   24.00 GB   25.0%\n"
            "Storage   200.00 GB  0.00 GB    0.00 GB   200.00 GB  0.0%\n"
            "GPU       2.00       0.00       0.00      2.00       0.0%\n"
            "\n"
            "Services:\n"
            "  Service  Endpoint       Status   Task      Worker    References  Idle\n"
            "  echo     10.0.0.5:9000  running  svc-echo  worker-1  1           -\n");

  r = Run({"alloc", "cleanup"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "No allocation had expired.\n2 allocations still active\n");

  fake().SetNowMs(kNowMs + 3'600'000);  // the first one's hour has passed
  r = Run({"alloc", "cleanup"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Expired 1 allocation: alloc-000000000001\n"
            "Stopped services: echo\n"
            "1 allocation still active\n");
  r = Run({"alloc", "list", "-state", "expired"});
  EXPECT_THAT(r.out, HasSubstr("alloc-000000000001  job-1  expired"));
}

TEST_F(AllocTest, JsonOfEveryVerbParsesBack) {
  Result r = Run({"alloc", "request", "job-1", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const v1::Allocation requested = ParseJson<v1::Allocation>(r.out);
  EXPECT_EQ(requested.allocation_id(), kFirstId);
  EXPECT_EQ(requested.state(), "active");
  EXPECT_THAT(r.out, HasSubstr("\"ended_at_ms\": \"0\""));  // defaults, int64 as strings
  const std::string id = requested.allocation_id();

  r = Run({"-o", "json", "alloc", "get", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::Allocation>(r.out).events_size(), 1);

  r = Run({"alloc", "--output=json", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::ListAllocationsResponse>(r.out).allocations_size(), 1);

  r = Run({"alloc", "extend", id, "1h", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::Allocation>(r.out).ttl_seconds(), 7200);

  r = Run({"alloc", "capacity", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::Capacity>(r.out).active_allocations(), 1);

  r = Run({"alloc", "release", id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::Allocation>(r.out).state(), "released");

  r = Run({"alloc", "cleanup", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseJson<v1::CleanupResponse>(r.out).active_allocations(), 0);
}

TEST_F(AllocTest, StatesAreColouredOnlyOnATerminal) {
  const std::string id = Request();
  EXPECT_THAT(Run({"alloc", "get", id}).out, Not(HasSubstr("\033[")));
  EXPECT_THAT(Run({"alloc", "get", id}, /*tty=*/true).out,
              HasSubstr("State:         \033[32mactive\033[0m\n"));
  fake().SetAllocationsPending("no room");
  EXPECT_THAT(Run({"alloc", "request", "j"}, /*tty=*/true).out,
              HasSubstr("\033[33mpending\033[0m"));
}

TEST_F(AllocTest, UnreachableMasterIsExitThree) {
  fake().FailWith("GetCapacity", grpc::Status(grpc::StatusCode::UNAVAILABLE, "store down"));
  const Result r = Run({"alloc", "capacity"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_THAT(r.err, HasSubstr("unavailable: store down"));
  const Result wrong = Run({"--token", "nope", "alloc", "list"});
  EXPECT_EQ(wrong.code, kExitRefused);
  EXPECT_EQ(wrong.err, "error: missing or wrong admin token (token from --token)\n");
}

// ---------------------------------------------------------------------------------------
// submit / task --alloc

TEST_F(AllocTest, SubmitIntoAnAllocation) {
  const std::string id = Request();
  v1::TaskStatus reply;
  reply.mutable_task()->set_task_id("t-7");
  reply.mutable_task()->set_docker_image("busybox");
  reply.set_status("pending");
  fake().SetTask(reply);
  Result r = Run({"submit", "--alloc", id, "busybox", "--", "echo", "hi"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto request = fake().LastRequest<v1::SubmitTaskRequest>("SubmitTask");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->task().allocation_id(), id);
  EXPECT_EQ(request->task().command(), "echo hi");
  EXPECT_THAT(r.out, HasSubstr("Task t-7 submitted into allocation alloc-000000000001 "
                               "(pending)\n"));
  EXPECT_THAT(r.out, HasSubstr("Allocation:    alloc-000000000001\n"));

  // One dash, and on `task` too.
  r = Run({"task", "worker-1", "busybox", "-alloc=" + id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fake().LastRequest<v1::SubmitTaskRequest>("AssignTask")->task().allocation_id(), id);

  // The master's refusals.
  r = Run({"submit", "--alloc", "alloc-ffffffffffff", "busybox"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: unknown allocation alloc-ffffffffffff\n");
  ASSERT_EQ(Run({"alloc", "release", id}).code, 0);
  r = Run({"submit", "--alloc", id, "busybox"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "error: allocation alloc-000000000001 is released\n");
}

// ---------------------------------------------------------------------------------------
// Help and the shell

TEST_F(AllocTest, Help) {
  Result r = Run({"help"});
  EXPECT_EQ(r.code, 0);
  for (const char* line : {"  alloc request <job_id> [flags]", "  alloc release <alloc_id>",
                           "  alloc get <alloc_id>", "  alloc list [flags]",
                           "  alloc extend <alloc_id> <duration>", "  alloc capacity",
                           "  alloc cleanup", "  mcp "}) {
    EXPECT_THAT(r.out, HasSubstr(line));
  }
  r = Run({"help", "alloc"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("Commands:\n  alloc request <job_id> [flags]"));
  EXPECT_EQ(Run({"alloc", "--help"}).out, r.out);
  r = Run({"help", "alloc", "request"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: cloudai alloc request <job_id>"));
  EXPECT_THAT(r.out, HasSubstr("--ttl DURATION"));
  EXPECT_THAT(r.out, HasSubstr("-mem GB"));
  EXPECT_EQ(Run({"alloc", "request", "--help"}).out, r.out);
  EXPECT_THAT(Run({"submit", "--help"}).out, HasSubstr("--alloc ALLOC_ID"));
  EXPECT_EQ(Run({"help", "alloc", "nope"}).code, kExitUsage);
  EXPECT_TRUE(fake().calls().empty());
}

TEST_F(AllocTest, InTheShell) {
  std::istringstream in(
      "alloc request job-1 -workers 2\n"
      "alloc list -o json\n"
      "help alloc extend\n"
      "alloc release alloc-000000000001\n"
      "alloc release alloc-000000000001\n"
      "mcp\n");
  CliContext context;
  context.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/nonexistent");
    return std::nullopt;
  };
  context.now_ms = [] { return kNowMs; };
  context.in = &in;
  context.stdin_fd = -1;
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunCli({"--master", server_.address(), "--token", "secret", "shell"}, out,
                          err, context);
  EXPECT_EQ(code, kExitUsage);  // the last failure: mcp is not a shell command
  EXPECT_THAT(out.str(), HasSubstr("Allocation alloc-000000000001 for job job-1: active"));
  EXPECT_THAT(out.str(), HasSubstr("Run tasks in it with: submit --alloc alloc-000000000001"));
  EXPECT_THAT(out.str(), HasSubstr("Release it with:      alloc release alloc-000000000001"));
  EXPECT_THAT(out.str(), HasSubstr("\"allocations\": ["));
  EXPECT_THAT(out.str(), HasSubstr("usage: alloc extend <alloc_id> <duration>"));
  EXPECT_THAT(out.str(), HasSubstr("Allocation alloc-000000000001: released\n"));
  EXPECT_THAT(err.str(), HasSubstr("error: allocation alloc-000000000001 is already released\n"));
  EXPECT_THAT(err.str(), HasSubstr("error: mcp runs as its own process"));
}

// ---------------------------------------------------------------------------------------
// The MCP backend over ClusterClient

class McpBackendTest : public ::testing::Test {
 protected:
  McpBackendTest() : client_(Options()), backend_(client_) {}
  client::ClientOptions Options() {
    client::ClientOptions o;
    o.master_address = server_.address();
    o.token = "secret";
    return o;
  }
  client::testing::FakeClusterService& fake() { return server_.service(); }

  FakeClusterServer server_{"secret"};
  client::ClusterClient client_;
  ClientBackend backend_;
};

TEST_F(McpBackendTest, RequestGetRelease) {
  mcp::Backend& backend = backend_;
  v1::AllocationRequest request;
  request.set_job_id("agent-job");
  request.set_workers(2);
  absl::StatusOr<v1::Allocation> a = backend.RequestAllocation(request);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->state(), "active");
  EXPECT_EQ(a->slots_size(), 2);

  v1::AllocationId id;
  id.set_allocation_id(a->allocation_id());
  absl::StatusOr<v1::Allocation> got = backend.GetAllocation(id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->job_id(), "agent-job");
  EXPECT_EQ(got->events_size(), 1);

  v1::ExtendAllocationRequest extend;
  extend.set_allocation_id(a->allocation_id());
  extend.set_extend_seconds(600);
  absl::StatusOr<v1::Allocation> extended = backend.ExtendAllocation(extend);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->ttl_seconds(), 3600 + 600);

  v1::ListAllocationsRequest list;
  list.set_job_id("agent-job");
  absl::StatusOr<v1::ListAllocationsResponse> all = backend.ListAllocations(list);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->allocations_size(), 1);
  absl::StatusOr<v1::Capacity> capacity = backend.GetCapacity();
  ASSERT_TRUE(capacity.ok()) << capacity.status();
  EXPECT_EQ(capacity->active_allocations(), 1);

  absl::StatusOr<v1::Allocation> released = backend.ReleaseAllocation(id);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state(), "released");
  absl::StatusOr<v1::Allocation> again = backend.ReleaseAllocation(id);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status()));
  EXPECT_EQ(again.status().message(),
            "allocation " + a->allocation_id() + " is already released");
  absl::StatusOr<v1::CleanupResponse> cleanup = backend.CleanupExpiredAllocations();
  ASSERT_TRUE(cleanup.ok()) << cleanup.status();
  EXPECT_EQ(cleanup->active_allocations(), 0);
  EXPECT_EQ(fake().calls().back().authorization, "Bearer secret");
}

TEST_F(McpBackendTest, TasksAndWorkers) {
  mcp::Backend& backend = backend_;
  v1::AllocationRequest request;
  request.set_job_id("j");
  const std::string alloc = backend.RequestAllocation(request)->allocation_id();
  v1::TaskStatus reply;
  reply.mutable_task()->set_task_id("t-1");
  reply.set_status("pending");
  fake().SetTask(reply);
  v1::Task task;
  task.set_docker_image("busybox");
  task.set_allocation_id(alloc);
  absl::StatusOr<v1::TaskStatus> submitted = backend.SubmitTask(task);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_EQ(fake().LastRequest<v1::SubmitTaskRequest>("SubmitTask")->task().allocation_id(),
            alloc);
  EXPECT_EQ(backend.GetTask("t-1")->status(), "pending");
  EXPECT_EQ(fake().LastRequest<v1::TaskId>("GetTask")->task_id(), "t-1");
  EXPECT_TRUE(backend.CancelTask("t-1").ok());
  EXPECT_EQ(fake().LastRequest<v1::TaskId>("CancelTask")->task_id(), "t-1");
  v1::ListWorkersResponse workers;
  workers.add_workers()->mutable_info()->set_worker_id("w1");
  fake().SetWorkers(workers);
  EXPECT_EQ(backend.ListWorkers()->workers_size(), 1);
  fake().FailWith("GetTask", grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task t-9"));
  absl::StatusOr<v1::TaskStatus> missing = backend.GetTask("t-9");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(), "unknown task t-9");
}

std::vector<v1::LogChunk> LogChunks(bool final) {
  std::vector<v1::LogChunk> chunks(3);
  chunks[0].set_content("hello ");
  chunks[1].set_content("world\n");
  chunks[2].set_is_final(final);
  chunks[2].set_status(final ? "completed" : "running");
  return chunks;
}

TEST_F(McpBackendTest, TaskLogsReadWithoutFollowing) {
  fake().SetLogChunks(LogChunks(/*final=*/true));
  absl::StatusOr<mcp::LogSlice> slice = backend_.GetTaskLogs("t-1", 5, 1000);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->content, "hello world\n");
  EXPECT_EQ(slice->next_offset, 5 + 12);
  EXPECT_EQ(slice->status, "completed");
  EXPECT_TRUE(slice->final);
  auto request = fake().LastRequest<v1::TaskLogRequest>("StreamTaskLogs");
  ASSERT_NE(request, nullptr);
  EXPECT_FALSE(request->follow());
  EXPECT_EQ(request->offset(), 5);
  EXPECT_EQ(request->task_id(), "t-1");

  // Exactly enough room still reaches the end.
  slice = backend_.GetTaskLogs("t-1", 0, 12);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->content, "hello world\n");
  EXPECT_TRUE(slice->final);

  // Less room: cut at max_bytes, and not final, though the task has ended.
  slice = backend_.GetTaskLogs("t-1", 0, 8);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->content, "hello wo");
  EXPECT_EQ(slice->next_offset, 8);
  EXPECT_FALSE(slice->final);

  // A running task: its status, never final.
  fake().SetLogChunks(LogChunks(/*final=*/false));
  slice = backend_.GetTaskLogs("t-1", 0, 1000);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->status, "running");
  EXPECT_FALSE(slice->final);

  // A stream that carries no status: the task's.
  std::vector<v1::LogChunk> bare(1);
  bare[0].set_content("x");
  fake().SetLogChunks(bare);
  v1::TaskStatus task;
  task.set_status("scheduled");
  fake().SetTask(task);
  slice = backend_.GetTaskLogs("t-1", 0, 1000);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->status, "scheduled");
  EXPECT_FALSE(slice->final);

  fake().FailWith("StreamTaskLogs",
                  grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown task t-2"));
  EXPECT_TRUE(absl::IsNotFound(backend_.GetTaskLogs("t-2", 0, 10).status()));
}

// `cloudai mcp`: protocol messages on stdout only, everything else on stderr.
TEST_F(AllocTest, McpVerbServesStdio) {
  std::istringstream in(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"
      "\n"
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
      "\n"
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_resources","arguments":{"job_id":"agent","workers":2}}})"
      "\n"
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"release_resources","arguments":{"allocation_id":"alloc-000000000001"}}})"
      "\n"
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"release_resources","arguments":{"allocation_id":"alloc-000000000001"}}})"
      "\n");
  const Result r = Run({"mcp"}, /*tty=*/false, &in);
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int replies = 0;
  while (std::getline(lines, line)) {
    ++replies;
    EXPECT_EQ(line.rfind("{", 0), 0u) << line;
    EXPECT_THAT(line, HasSubstr("\"jsonrpc\":\"2.0\"")) << line;
  }
  EXPECT_EQ(replies, 4);  // no reply to the notification
  EXPECT_THAT(r.out, HasSubstr("alloc-000000000001"));
  EXPECT_THAT(r.out, HasSubstr("is already released"));
  auto released = fake().allocation(kFirstId);
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(released->state(), "released");
  EXPECT_EQ(released->workers(), 2);

  // Not with -o json, and not without a standard input.
  EXPECT_EQ(Run({"mcp", "-o", "json"}).code, kExitUsage);
  const Result no_in = Run({"mcp"});
  EXPECT_EQ(no_in.code, kExitUsage);
  EXPECT_EQ(no_in.out, "");
}

}  // namespace
}  // namespace cloudai::cli
