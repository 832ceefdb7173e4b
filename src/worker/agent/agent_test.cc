// Agent end to end in one process: its gRPC server on a loopback port with the exec
// driver, and a fake master (MasterService) on another port that records what the worker
// sends and can misbehave on request.
#include "worker/agent/agent.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "cloudai/v1/cluster.grpc.pb.h"
#include "worker/docker/docker_client.h"
#include "worker/driver/docker_driver.h"
#include "worker/driver/exec_driver.h"

namespace cloudai::worker {
namespace {

using namespace std::chrono_literals;

// The task's own output: the log without the worker's "[cloudai] ..." notes (the exec
// driver notes that these tests run tasks without cgroups).
std::string TaskOutput(const std::string& log) {
  std::string out;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    end = end == std::string::npos ? log.size() : end + 1;
    if (log.compare(pos, 10, "[cloudai] ") != 0) out.append(log, pos, end - pos);
    pos = end;
  }
  return out;
}

class FakeMaster final : public v1::MasterService::Service {
 public:
  FakeMaster() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeMaster() override { server_->Shutdown(std::chrono::system_clock::now() + 1s); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::WorkerInfo* info,
                              v1::RegisterAck* ack) override {
    std::lock_guard<std::mutex> lock(mu_);
    registrations_.push_back(*info);
    ack->set_success(true);
    cv_.notify_all();
    return grpc::Status::OK;
  }
  grpc::Status SendHeartbeat(grpc::ServerContext*, const v1::Heartbeat* hb,
                             v1::HeartbeatAck* ack) override {
    std::lock_guard<std::mutex> lock(mu_);
    Answer(*hb, 0, ack);
    return grpc::Status::OK;
  }
  grpc::Status StreamHeartbeats(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::HeartbeatAck, v1::Heartbeat>* stream) override {
    int number;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!streams_enabled_) {  // as a master older than the stream answers
        return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method");
      }
      number = ++streams_opened_;
    }
    v1::Heartbeat hb;
    for (int carried = 1; stream->Read(&hb); ++carried) {
      v1::HeartbeatAck ack;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (break_stream_after_ > 0 && carried > break_stream_after_) {
          break_stream_after_ = 0;  // this heartbeat is lost with the stream
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset");
        }
        Answer(hb, number, &ack);
      }
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }
  grpc::Status ReportTaskCompletion(grpc::ServerContext*, const v1::TaskResult* result,
                                    v1::Ack* ack) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++report_attempts_;
    if (failing_reports_ > 0) {
      --failing_reports_;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "master is restarting");
    }
    results_.push_back(*result);
    ack->set_success(true);
    cv_.notify_all();
    return grpc::Status::OK;
  }

  // Waits until `pred` (called under the lock) holds; false after `timeout`.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  std::optional<v1::TaskResult> WaitResult(const std::string& task_id,
                                           std::chrono::milliseconds timeout = 5s) {
    std::optional<v1::TaskResult> found;
    WaitFor(
        [&] {
          for (const auto& r : results_) {
            if (r.task_id() == task_id) found = r;
          }
          return found.has_value();
        },
        timeout);
    return found;
  }
  int ResultsFor(const std::string& task_id) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& r : results_) n += r.task_id() == task_id;
    return n;
  }

  struct ReceivedHeartbeat {
    v1::Heartbeat hb;
    std::chrono::steady_clock::time_point at;
    int stream;  // which heartbeat stream carried it (1, 2, ...); 0: a SendHeartbeat call
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::WorkerInfo> registrations_;
  std::vector<ReceivedHeartbeat> heartbeats_;
  std::vector<v1::TaskResult> results_;
  int report_attempts_ = 0;
  int failing_reports_ = 0;
  bool reject_heartbeats_ = false;
  std::vector<std::string> unknown_tasks_;
  bool streams_enabled_ = true;  // false: StreamHeartbeats is UNIMPLEMENTED
  int streams_opened_ = 0;
  int break_stream_after_ = 0;  // > 0: the stream breaks after carrying this many, once

 private:
  void Answer(const v1::Heartbeat& hb, int stream, v1::HeartbeatAck* ack) {
    heartbeats_.push_back({hb, std::chrono::steady_clock::now(), stream});
    if (reject_heartbeats_) {
      ack->set_message("worker " + hb.worker_id() + " is not registered");
    } else {
      ack->set_success(true);
      for (const std::string& id : unknown_tasks_) ack->add_unknown_task_ids(id);
    }
    cv_.notify_all();
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    work_dir_ = std::string(::testing::TempDir()) + "/agent-" + std::to_string(getpid()) + "-" +
                std::to_string(++counter);
  }
  void TearDown() override {
    if (agent_ != nullptr) agent_->Shutdown();
  }

  void StartAgent(bool with_master = true, std::unique_ptr<Driver> driver = nullptr) {
    AgentOptions o;
    o.worker_id = "w-test";
    o.port = 0;
    o.port_attempts = 1;
    o.listen_host = "127.0.0.1";
    o.advertise_host = "127.0.0.1";
    o.driver = "exec";
    o.work_dir = work_dir_;
    if (with_master) o.master_address = master_.address();
    o.heartbeat_interval = 200ms;
    o.initial_backoff = 100ms;
    o.max_backoff = 1s;
    o.rpc_timeout = 2s;
    ExecDriverOptions eo;
    eo.work_dir = "/tmp";
    eo.cgroup_parent = "";
    eo.kill_grace = 1000ms;
    if (driver == nullptr) driver = std::make_unique<ExecDriver>(eo);
    o.driver = std::string(driver->Name());
    auto agent = Agent::Create(o, std::move(driver));
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    ASSERT_TRUE(agent_->Start().ok());
    stub_ = v1::WorkerService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(agent_->port()), grpc::InsecureChannelCredentials()));
  }

  v1::TaskAck Assign(const std::string& id, const std::string& command) {
    v1::Task task;
    task.set_task_id(id);
    task.set_command(command);
    task.set_req_cpu(100);
    task.set_req_memory(64);
    grpc::ClientContext ctx;
    v1::TaskAck ack;
    EXPECT_TRUE(stub_->AssignTask(&ctx, task, &ack).ok());
    return ack;
  }

  v1::TaskAck Cancel(const std::string& id) {
    v1::TaskId req;
    req.set_task_id(id);
    grpc::ClientContext ctx;
    v1::TaskAck ack;
    EXPECT_TRUE(stub_->CancelTask(&ctx, req, &ack).ok());
    return ack;
  }

  std::vector<v1::LogChunk> StreamLogs(const std::string& id, bool follow, int64_t offset = 0) {
    v1::TaskLogRequest req;
    req.set_task_id(id);
    req.set_follow(follow);
    req.set_offset(offset);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    auto reader = stub_->StreamTaskLogs(&ctx, req);
    std::vector<v1::LogChunk> chunks;
    v1::LogChunk c;
    while (reader->Read(&c)) chunks.push_back(c);
    EXPECT_TRUE(reader->Finish().ok());
    return chunks;
  }

  std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  FakeMaster master_;
  std::string work_dir_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
};

TEST_F(AgentTest, RegistersBackWithItsTotalsWhenTheMasterAnnouncesItself) {
  StartAgent(/*with_master=*/false);
  v1::MasterInfo info;
  info.set_master_id("m1");
  info.set_master_address(master_.address());
  grpc::ClientContext ctx;
  v1::RegisterAck ack;
  ASSERT_TRUE(stub_->MasterRegister(&ctx, info, &ack).ok());
  EXPECT_TRUE(ack.success()) << ack.message();

  ASSERT_TRUE(master_.WaitFor([&] { return !master_.registrations_.empty(); }));
  const v1::WorkerInfo w = master_.registrations_[0];
  EXPECT_EQ(w.worker_id(), "w-test");
  EXPECT_EQ(w.worker_ip(), "127.0.0.1:" + std::to_string(agent_->port()));
  EXPECT_GT(w.total_cpu(), 0);
  EXPECT_GT(w.total_memory(), 0);
  EXPECT_GT(w.total_storage(), 0);
  EXPECT_GE(w.total_gpu(), 0);
  EXPECT_EQ(w.driver(), "exec");
  EXPECT_FALSE(w.hostname().empty());
  EXPECT_FALSE(w.version().empty());
  EXPECT_EQ(ReadFile(work_dir_ + "/master"), master_.address() + "\n");
  // Heartbeats follow.
  EXPECT_TRUE(master_.WaitFor([&] { return !master_.heartbeats_.empty(); }));
}

TEST_F(AgentTest, RegistersAtStartWithTheSavedMasterAfterARestart) {
  StartAgent(/*with_master=*/true);
  ASSERT_TRUE(master_.WaitFor([&] { return master_.registrations_.size() == 1; }));
  agent_->Shutdown();
  agent_.reset();
  StartAgent(/*with_master=*/false);  // same work directory: reads <work-dir>/master
  EXPECT_TRUE(master_.WaitFor([&] { return master_.registrations_.size() == 2; }));
}

TEST_F(AgentTest, RunsATaskAndReportsItsOutput) {
  StartAgent();
  v1::TaskAck ack = Assign("echo-hi", "echo hi");
  EXPECT_TRUE(ack.success()) << ack.message();
  EXPECT_EQ(ack.task_id(), "echo-hi");
  auto result = master_.WaitResult("echo-hi");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status(), "completed");
  EXPECT_EQ(result->exit_code(), 0);
  EXPECT_EQ(TaskOutput(result->logs()), "hi\n");
  EXPECT_FALSE(result->logs_truncated());
  EXPECT_EQ(result->worker_id(), "w-test");
  EXPECT_GT(result->started_at_ms(), 0);
  EXPECT_GE(result->finished_at_ms(), result->started_at_ms());
  EXPECT_EQ(TaskOutput(ReadFile(work_dir_ + "/spool/echo-hi.log")), "hi\n");
}

TEST_F(AgentTest, AFailingCommandIsReportedAsFailedWithItsExitCode) {
  StartAgent();
  ASSERT_TRUE(Assign("fails", "echo oops >&2; exit 3").success());
  auto result = master_.WaitResult("fails");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status(), "failed");
  EXPECT_EQ(result->exit_code(), 3);
  EXPECT_NE(result->logs().find("oops"), std::string::npos) << result->logs();
}

TEST_F(AgentTest, AResentAssignmentOfARunningTaskDoesNotRunItTwice) {
  StartAgent();
  const std::string count = work_dir_ + "/count";
  const std::string cmd = "echo run >> " + count + "; sleep 0.5";
  ASSERT_TRUE(Assign("dup", cmd).success());
  v1::TaskAck again = Assign("dup", cmd);
  EXPECT_TRUE(again.success());
  EXPECT_NE(again.message().find("already running"), std::string::npos) << again.message();
  ASSERT_TRUE(master_.WaitResult("dup").has_value());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ReadFile(count), "run\n");
  EXPECT_EQ(master_.ResultsFor("dup"), 1);
}

TEST_F(AgentTest, AResentAssignmentBeforeTheResultIsAcknowledgedDoesNotRunItAgain) {
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.failing_reports_ = 1000;
  }
  StartAgent();
  const std::string count = work_dir_ + "/count";
  const std::string cmd = "echo run >> " + count;
  ASSERT_TRUE(Assign("resent", cmd).success());
  for (int i = 0; i < 250; ++i) {
    auto t = agent_->tasks().Find("resent");
    if (t.has_value() && t->finished) break;
    std::this_thread::sleep_for(20ms);
  }
  v1::TaskAck again = Assign("resent", cmd);
  EXPECT_TRUE(again.success());
  EXPECT_NE(again.message().find("already finished"), std::string::npos) << again.message();
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.failing_reports_ = 0;
  }
  ASSERT_TRUE(master_.WaitResult("resent").has_value());
  EXPECT_EQ(ReadFile(count), "run\n");
  // Once the master has the result, the same id is a new attempt (a retry).
  for (int i = 0; i < 250 && agent_->pending_reports() > 0; ++i) std::this_thread::sleep_for(20ms);
  v1::TaskAck retry = Assign("resent", cmd);
  EXPECT_TRUE(retry.success());
  EXPECT_NE(retry.message().find("accepted"), std::string::npos) << retry.message();
  EXPECT_TRUE(master_.WaitFor([&] {
    int n = 0;
    for (const auto& r : master_.results_) n += r.task_id() == "resent";
    return n == 2;
  }));
  EXPECT_EQ(ReadFile(count), "run\nrun\n");
}

TEST_F(AgentTest, CancelStopsARunningTask) {
  StartAgent();
  ASSERT_TRUE(Assign("sleeper", "sleep 30").success());
  v1::TaskAck ack = Cancel("sleeper");
  EXPECT_TRUE(ack.success()) << ack.message();
  auto result = master_.WaitResult("sleeper", 4s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status(), "cancelled");
  // Cancelling it again, or an unknown task, is refused.
  for (int i = 0; i < 100 && !agent_->tasks().Find("sleeper")->finished; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  v1::TaskAck done = Cancel("sleeper");
  EXPECT_FALSE(done.success());
  EXPECT_NE(done.message().find("already finished"), std::string::npos) << done.message();
  v1::TaskAck unknown = Cancel("nope");
  EXPECT_FALSE(unknown.success());
  EXPECT_EQ(unknown.message(), "task nope not found on worker w-test");
}

TEST_F(AgentTest, StreamTaskLogsFollowsARunningTask) {
  StartAgent();
  ASSERT_TRUE(Assign("talker", "echo one; sleep 0.4; echo two; sleep 0.4; echo three").success());
  std::vector<v1::LogChunk> chunks = StreamLogs("talker", /*follow=*/true);
  ASSERT_FALSE(chunks.empty());
  std::string all;
  int content_chunks = 0;
  for (const auto& c : chunks) {
    all += c.content();
    content_chunks += !c.content().empty() && !c.is_final();
    EXPECT_EQ(c.task_id(), "talker");
    EXPECT_TRUE(c.error().empty()) << c.error();
  }
  EXPECT_EQ(TaskOutput(all), "one\ntwo\nthree\n");
  EXPECT_GE(content_chunks, 2) << "output must arrive while the task runs";
  EXPECT_TRUE(chunks.back().is_final());
  EXPECT_EQ(chunks.back().status(), "completed");
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_FALSE(chunks[i].is_final());

  // Later, from an offset, without follow: the rest and the final chunk.
  const int64_t offset = static_cast<int64_t>(all.find("one\n")) + 4;
  std::vector<v1::LogChunk> rest = StreamLogs("talker", /*follow=*/false, offset);
  std::string tail;
  for (const auto& c : rest) tail += c.content();
  EXPECT_EQ(tail, "two\nthree\n");
  ASSERT_FALSE(rest.empty());
  EXPECT_TRUE(rest.back().is_final());
  EXPECT_EQ(rest.back().status(), "completed");
}

TEST_F(AgentTest, StreamTaskLogsWithoutFollowEndsWhileTheTaskRuns) {
  StartAgent();
  ASSERT_TRUE(Assign("slow", "echo started; sleep 30").success());
  for (int i = 0; i < 100 && TaskOutput(ReadFile(work_dir_ + "/spool/slow.log")).empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  std::vector<v1::LogChunk> chunks = StreamLogs("slow", /*follow=*/false);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(TaskOutput(chunks[0].content()), "started\n");
  EXPECT_FALSE(chunks[0].is_final());
  Cancel("slow");
}

TEST_F(AgentTest, StreamTaskLogsOfAnUnknownTaskSendsAnErrorChunk) {
  StartAgent();
  std::vector<v1::LogChunk> chunks = StreamLogs("ghost", /*follow=*/true);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].error(), "task ghost not found on worker w-test");
  EXPECT_TRUE(chunks[0].is_final());
  EXPECT_EQ(chunks[0].task_id(), "ghost");
}

TEST_F(AgentTest, HeartbeatsArriveAtTheIntervalWithTheRunningTasks) {
  StartAgent();
  ASSERT_TRUE(Assign("hb-task", "sleep 1.5").success());
  ASSERT_TRUE(master_.WaitFor(
      [&] {
        int with_task = 0;
        for (const auto& h : master_.heartbeats_) {
          with_task += h.hb.running_tasks_size() == 1 &&
                       h.hb.running_tasks(0).task_id() == "hb-task";
        }
        return with_task >= 3;
      },
      3s));
  std::lock_guard<std::mutex> lock(master_.mu_);
  const auto& hbs = master_.heartbeats_;
  for (size_t i = 1; i < hbs.size(); ++i) {
    const auto gap = hbs[i].at - hbs[i - 1].at;
    EXPECT_GE(gap, 100ms);
    EXPECT_LE(gap, 1000ms);
  }
  const v1::Heartbeat& hb = hbs.back().hb;
  EXPECT_EQ(hb.worker_id(), "w-test");
  EXPECT_GT(hb.sent_at_ms(), 0);
  for (double u : {hb.cpu_usage(), hb.memory_usage(), hb.storage_usage(), hb.gpu_usage()}) {
    EXPECT_GE(u, 0.0);
    EXPECT_LE(u, 100.0);
  }
  EXPECT_GT(hb.memory_usage(), 0.0);
  ASSERT_EQ(hb.running_tasks_size(), 1);
  EXPECT_EQ(hb.running_tasks(0).status(), "running");
  EXPECT_GT(hb.running_tasks(0).started_at_ms(), 0);
  // Every one of them on the one heartbeat stream.
  EXPECT_EQ(master_.streams_opened_, 1);
  for (const auto& h : hbs) EXPECT_EQ(h.stream, 1);
}

TEST_F(AgentTest, ABrokenHeartbeatStreamIsReplacedForTheSameHeartbeat) {
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.break_stream_after_ = 2;
  }
  StartAgent();
  ASSERT_TRUE(master_.WaitFor(
      [&] { return master_.heartbeats_.size() >= 4 && master_.heartbeats_.back().stream == 2; },
      3s));
  std::lock_guard<std::mutex> lock(master_.mu_);
  const auto& hbs = master_.heartbeats_;
  EXPECT_EQ(hbs[0].stream, 1);
  EXPECT_EQ(hbs[1].stream, 1);
  EXPECT_EQ(hbs[2].stream, 2);
  // The heartbeat the broken stream lost went on the new stream at once, not an interval
  // (200 ms) later.
  EXPECT_LT(hbs[2].at - hbs[1].at, 350ms);
}

TEST_F(AgentTest, AMasterWithoutHeartbeatStreamsGetsEachHeartbeatAsACall) {
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.streams_enabled_ = false;
  }
  StartAgent();
  ASSERT_TRUE(master_.WaitFor([&] { return master_.heartbeats_.size() >= 3; }, 3s));
  std::lock_guard<std::mutex> lock(master_.mu_);
  EXPECT_EQ(master_.streams_opened_, 0);
  for (const auto& h : master_.heartbeats_) EXPECT_EQ(h.stream, 0);
}

TEST_F(AgentTest, ReportsAreRetriedUntilTheMasterTakesThem) {
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.failing_reports_ = 3;
  }
  StartAgent();
  ASSERT_TRUE(Assign("retried", "echo ok").success());
  auto result = master_.WaitResult("retried");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(TaskOutput(result->logs()), "ok\n");
  std::lock_guard<std::mutex> lock(master_.mu_);
  EXPECT_EQ(master_.report_attempts_, 4);
}

TEST_F(AgentTest, TasksTheMasterDoesNotKnowAreStopped) {
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.unknown_tasks_ = {"stray"};
  }
  StartAgent();
  ASSERT_TRUE(Assign("stray", "sleep 30").success());
  auto result = master_.WaitResult("stray", 4s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status(), "cancelled");
}

TEST_F(AgentTest, ARefusedHeartbeatMakesTheWorkerRegisterAgain) {
  StartAgent();
  ASSERT_TRUE(master_.WaitFor([&] { return !master_.heartbeats_.empty(); }));
  {
    std::lock_guard<std::mutex> lock(master_.mu_);
    master_.reject_heartbeats_ = true;
  }
  ASSERT_TRUE(master_.WaitFor([&] { return master_.registrations_.size() >= 2; }, 3s));
  std::lock_guard<std::mutex> lock(master_.mu_);
  master_.reject_heartbeats_ = false;
}

TEST_F(AgentTest, ANewMasterRegisterMovesTheWorkerToThatMaster) {
  StartAgent();
  ASSERT_TRUE(master_.WaitFor([&] { return !master_.registrations_.empty(); }));
  FakeMaster other;
  v1::MasterInfo info;
  info.set_master_id("m2");
  info.set_master_address(other.address());
  grpc::ClientContext ctx;
  v1::RegisterAck ack;
  ASSERT_TRUE(stub_->MasterRegister(&ctx, info, &ack).ok());
  ASSERT_TRUE(other.WaitFor([&] { return !other.registrations_.empty(); }));
  ASSERT_TRUE(Assign("moved", "echo moved").success());
  EXPECT_TRUE(other.WaitResult("moved").has_value());
  EXPECT_EQ(ReadFile(work_dir_ + "/master"), other.address() + "\n");
  agent_->Shutdown();  // before `other` goes away
}

TEST_F(AgentTest, MalformedAssignmentsAreRefused) {
  StartAgent();
  v1::TaskAck bad_id = Assign("../escape", "true");
  EXPECT_FALSE(bad_id.success());
  EXPECT_NE(bad_id.message().find("task_id"), std::string::npos) << bad_id.message();
  EXPECT_FALSE(Assign("", "true").success());

  v1::Task task;
  task.set_task_id("neg");
  task.set_req_cpu(-1);
  grpc::ClientContext ctx;
  v1::TaskAck ack;
  ASSERT_TRUE(stub_->AssignTask(&ctx, task, &ack).ok());
  EXPECT_FALSE(ack.success());
  EXPECT_NE(ack.message().find("cpu"), std::string::npos) << ack.message();

  task.set_req_cpu(0);
  task.set_target_worker_id("someone-else");
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub_->AssignTask(&ctx2, task, &ack).ok());
  EXPECT_FALSE(ack.success());
  EXPECT_NE(ack.message().find("someone-else"), std::string::npos) << ack.message();
}

// With the real Docker engine (skipped without one, except under CI=true): a worker that
// stops leaves its container running, and the next worker process on the same work
// directory takes it over, announces it when registering and reports its end.
TEST_F(AgentTest, ARestartedDockerWorkerTakesOverItsRunningContainers) {
  auto client_options = docker::DockerClient::OptionsFromEnvironment();
  ASSERT_TRUE(client_options.ok());
  auto client = std::make_shared<docker::DockerClient>(*client_options);
  if (absl::Status s = client->Ping(); !s.ok()) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "CI=true but no Docker engine: " << s;
    GTEST_SKIP() << "no Docker engine: " << s;
  }
  constexpr char kImage[] = "cloudai-test:busybox";
  auto exists = client->ImageExists(kImage);
  ASSERT_TRUE(exists.ok()) << exists.status();
  if (!*exists) {
    const std::string cmd = std::string(CLOUDAI_DOCKER_TESTDATA_DIR) + "/build-test-image.sh " + kImage;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  auto docker_driver = [&] {
    DockerDriverOptions o;
    o.stop_grace = std::chrono::seconds(1);
    o.network_mode = "none";
    o.keep_containers_on_shutdown = true;
    o.owner = "agent-test-" + std::to_string(getpid());
    return std::make_unique<DockerDriver>(client, o);
  };
  const std::string id = "adopt-" + std::to_string(getpid());
  StartAgent(/*with_master=*/true, docker_driver());
  v1::Task task;
  task.set_task_id(id);
  task.set_docker_image(kImage);
  task.set_command("echo before; sleep 2; echo after; exit 5");
  grpc::ClientContext ctx;
  v1::TaskAck ack;
  ASSERT_TRUE(stub_->AssignTask(&ctx, task, &ack).ok());
  ASSERT_TRUE(ack.success()) << ack.message();
  const std::string spool = work_dir_ + "/spool/" + id + ".log";
  for (int i = 0; i < 250 && ReadFile(spool).find("before") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  agent_->Shutdown();
  agent_.reset();
  EXPECT_EQ(master_.ResultsFor(id), 0) << "a kept container is not reported by the old worker";

  StartAgent(/*with_master=*/false, docker_driver());  // the saved master address
  ASSERT_TRUE(master_.WaitFor([&] {
    for (const auto& r : master_.registrations_) {
      for (const auto& t : r.running_tasks()) {
        if (t.task_id() == id) return true;
      }
    }
    return false;
  }));
  auto result = master_.WaitResult(id, 10s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status(), "failed");
  EXPECT_EQ(result->exit_code(), 5);
  EXPECT_NE(result->logs().find("before\n"), std::string::npos) << result->logs();
  EXPECT_NE(result->logs().find("after\n"), std::string::npos) << result->logs();
}

}  // namespace
}  // namespace cloudai::worker
