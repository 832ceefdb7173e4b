// Heartbeats and inactivity: a worker that stops sending heartbeats (SIGSTOP) turns
// inactive after the master's inactivity timeout (2 s here) and active again when it
// resumes (SIGCONT); the heartbeat stream's rules, checked against the master from a
// simulated worker.
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

// A simulated worker's heartbeat, with the CPU usage and running tasks given.
cloudai::v1::Heartbeat Beat(const std::string& worker_id, double cpu,
                            std::vector<std::string> running = {}) {
  cloudai::v1::Heartbeat beat;
  beat.set_worker_id(worker_id);
  beat.set_cpu_usage(cpu);
  beat.set_memory_usage(10);
  for (const std::string& id : running) {
    cloudai::v1::RunningTask* task = beat.add_running_tasks();
    task->set_task_id(id);
    task->set_status("running");
  }
  return beat;
}

TEST_F(HeartbeatTest, TheHeartbeatStreamCarriesOneWorkersHeartbeatsAndEachIsAnswered) {
  ASSERT_TRUE(StartMaster());
  ASSERT_EQ(Cli({"register", "sim", "127.0.0.1:9"}).exit_code, 0);
  std::unique_ptr<cloudai::v1::MasterService::Stub> stub = MasterStub();
  {
    cloudai::v1::WorkerInfo info;
    info.set_worker_id("sim");
    info.set_total_cpu(4000);
    info.set_total_memory(8192);
    info.set_total_storage(10240);
    info.set_driver("exec");
    cloudai::v1::RegisterAck ack;
    std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
    ASSERT_TRUE(stub->RegisterWorker(context.get(), info, &ack).ok());
    ASSERT_TRUE(ack.success()) << ack.message();
  }

  std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
  auto stream = stub->StreamHeartbeats(context.get());
  auto exchange = [&](const cloudai::v1::Heartbeat& beat) {
    cloudai::v1::HeartbeatAck ack;
    EXPECT_TRUE(stream->Write(beat));
    EXPECT_TRUE(stream->Read(&ack)) << "the stream ended";
    return ack;
  };

  cloudai::v1::HeartbeatAck first = exchange(Beat("sim", 42.5));
  EXPECT_TRUE(first.success()) << first.message();
  std::optional<Json> status = WorkerStatus("sim");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(JDouble(*status, "cpu_usage"), 42.5) << status->dump();

  // A task the master never placed there is listed back, for the worker to stop.
  cloudai::v1::HeartbeatAck stray = exchange(Beat("sim", 40, {"stray-task"}));
  EXPECT_TRUE(stray.success());
  ASSERT_EQ(stray.unknown_task_ids_size(), 1);
  EXPECT_EQ(stray.unknown_task_ids(0), "stray-task");

  // The stream is this worker's: another worker's heartbeat on it is refused, and the
  // stream goes on.
  cloudai::v1::HeartbeatAck other = exchange(Beat("w-other", 99));
  EXPECT_FALSE(other.success());
  EXPECT_NE(other.message().find("worker_id"), std::string::npos) << other.message();
  cloudai::v1::HeartbeatAck again = exchange(Beat("sim", 7.25));
  EXPECT_TRUE(again.success()) << again.message();
  status = WorkerStatus("sim");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(JDouble(*status, "cpu_usage"), 7.25) << status->dump();

  // A worker the admin never registered is refused on a stream as in a call.
  {
    std::unique_ptr<grpc::ClientContext> intruder_context = Context(/*with_token=*/false);
    auto intruder = stub->StreamHeartbeats(intruder_context.get());
    cloudai::v1::HeartbeatAck ack;
    ASSERT_TRUE(intruder->Write(Beat("intruder", 1)));
    ASSERT_TRUE(intruder->Read(&ack));
    EXPECT_FALSE(ack.success());
    intruder->WritesDone();
    EXPECT_TRUE(intruder->Finish().ok());
  }
  // The unary call still works, for workers older than the stream.
  {
    cloudai::v1::HeartbeatAck ack;
    std::unique_ptr<grpc::ClientContext> unary_context = Context(/*with_token=*/false);
    ASSERT_TRUE(stub->SendHeartbeat(unary_context.get(), Beat("sim", 3), &ack).ok());
    EXPECT_TRUE(ack.success()) << ack.message();
  }

  // A stream still open does not hold up the master's stop.
  const Clock::time_point stopping_at = Clock::now();
  ASSERT_TRUE(master()->Signal(SIGTERM));
  std::optional<ExitStatus> exit = master()->Wait(seconds(15));
  ASSERT_TRUE(exit.has_value()) << "master did not stop within 15 s of SIGTERM";
  EXPECT_EQ(exit->code, 0) << exit->ToString();
  EXPECT_LT(Clock::now() - stopping_at, seconds(5));
  cloudai::v1::HeartbeatAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_FALSE(stream->Finish().ok());
}

}  // namespace
}  // namespace cloudai::integration
