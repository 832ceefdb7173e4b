#include "master/cluster.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "master/cluster_test_fixture.h"

namespace cloudai::master {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using store::TaskState;

using namespace testing_fixture;  // NOLINT: the fixture's helpers

TEST_F(ClusterTest, OnlyPreRegisteredWorkersMayJoin) {
  WorkerJoin join;
  join.worker_id = "stranger";
  join.address = "10.0.0.9:50052";
  join.total = Resources::Of(4000, 8 * kGiB);
  absl::Status refused = cluster_->WorkerJoined(join);
  EXPECT_TRUE(absl::IsPermissionDenied(refused)) << refused;
  EXPECT_THAT(Message(refused), HasSubstr("cloudai register stranger 10.0.0.9:50052"));
  EXPECT_TRUE(cluster_->ListWorkers().empty());

  ASSERT_TRUE(cluster_->RegisterWorker("w1", "127.0.0.1:50052").ok());
  EXPECT_THAT(gateway_.announced(), ElementsAre("w1"));
  EXPECT_FALSE(Worker("w1").record.is_active);
  EXPECT_TRUE(absl::IsAlreadyExists(cluster_->RegisterWorker("w1", "127.0.0.1:50053")));
  Join("w1", 4000, 8 * kGiB);
  WorkerView w1 = Worker("w1");
  EXPECT_TRUE(w1.record.is_active);
  EXPECT_EQ(w1.record.total, Resources::Of(4000, 8 * kGiB, 100 * kGiB));
  EXPECT_EQ(w1.available, w1.record.total);
}

TEST_F(ClusterTest, BadRegistrationInputChangesNothing) {
  EXPECT_TRUE(absl::IsInvalidArgument(cluster_->RegisterWorker("", "127.0.0.1:1")));
  EXPECT_TRUE(absl::IsInvalidArgument(cluster_->RegisterWorker("w 1", "127.0.0.1:1")));
  EXPECT_TRUE(absl::IsInvalidArgument(cluster_->RegisterWorker("w1", "127.0.0.1")));
  EXPECT_TRUE(absl::IsInvalidArgument(cluster_->RegisterWorker("w1", "127.0.0.1:70000")));
  EXPECT_TRUE(absl::IsInvalidArgument(cluster_->RegisterWorker(std::string(300, 'a'), "h:1")));
  EXPECT_TRUE(cluster_->ListWorkers().empty());
}

TEST_F(ClusterTest, AQueuedTaskRunsAndReleasesItsResourcesExactlyOnce) {
  AddWorker("w1", 4000, 8 * kGiB);
  auto submitted = cluster_->Submit(Task(1500, 2 * kGiB));
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  const std::string id = submitted->task.task_id;
  EXPECT_EQ(id, "task-1");
  EXPECT_EQ(submitted->task.status, TaskState::kPending);

  Schedule();
  EXPECT_THAT(gateway_.assigned(), ElementsAre("task-1@w1"));
  EXPECT_EQ(StateOf(id), TaskState::kRunning);
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(1500, 2 * kGiB));

  ASSERT_TRUE(Complete(id, "w1").ok());
  auto done = cluster_->GetTask(id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.status, TaskState::kCompleted);
  EXPECT_EQ(done->task.exit_code, 0);
  ASSERT_TRUE(done->result.has_value());
  EXPECT_EQ(done->result->logs, "hi\n");
  EXPECT_EQ(Worker("w1").allocated, Resources{});

  // A repeated report changes nothing and is acknowledged.
  EXPECT_TRUE(Complete(id, "w1").ok());
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  auto events = store_->ListTaskEvents(id);
  ASSERT_TRUE(events.ok());
  std::vector<TaskState> states;
  for (const auto& e : *events) states.push_back(e.to_state);
  EXPECT_THAT(states, ElementsAre(TaskState::kPending, TaskState::kScheduled, TaskState::kRunning,
                                  TaskState::kCompleted));
}

TEST_F(ClusterTest, LongLogsAreStoredBoundedWithAMark) {
  AddWorker("w1", 4000, 8 * kGiB);
  auto submitted = cluster_->Submit(Task(100, 100));
  ASSERT_TRUE(submitted.ok());
  Schedule();
  ASSERT_TRUE(Complete("task-1", "w1", "completed", 0, std::string(1000, 'x')).ok());
  auto done = cluster_->GetTask("task-1");
  ASSERT_TRUE(done.ok() && done->result);
  EXPECT_TRUE(done->result->logs_truncated);
  EXPECT_THAT(done->result->logs, HasSubstr("bytes of output truncated"));
  EXPECT_LT(done->result->logs.size(), 200u);
}

TEST_F(ClusterTest, DirectAssignmentRefusesWhatDoesNotFitWithTheSeedsMessage) {
  AddWorker("w1", 2000, 4 * kGiB);
  auto refused = cluster_->Assign([] {
    auto t = Task(3000, kGiB);
    t.target_worker_id = "w1";
    return t;
  }());
  ASSERT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_EQ(Message(refused.status()),
            "Insufficient CPU: worker has 2.00 available, task requires 3.00");
  auto memory = Task(1000, 8 * kGiB);
  memory.target_worker_id = "w1";
  EXPECT_EQ(Message(cluster_->Assign(memory).status()),
            "Insufficient Memory: worker has 4.00 GB available, task requires 8.00 GB");
  auto listed = cluster_->ListTasks({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty()) << "a refused task is not stored";

  auto unknown = Task(1000, kGiB);
  unknown.target_worker_id = "nobody";
  EXPECT_TRUE(absl::IsNotFound(cluster_->Assign(unknown).status()));

  auto fits = Task(1000, kGiB);
  fits.target_worker_id = "w1";
  auto placed = cluster_->Assign(fits);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->task.status, TaskState::kRunning);
  EXPECT_EQ(placed->task.worker_id, "w1");
  EXPECT_EQ(Worker("w1").available.cpu_millis, 1000);
}

TEST_F(ClusterTest, AnAssignmentTheWorkerRefusesFailsAndReleases) {
  AddWorker("w1", 2000, 4 * kGiB);
  gateway_.SetAssignReply({true, false, "no such image"});
  auto t = Task(1000, kGiB);
  t.target_worker_id = "w1";
  auto placed = cluster_->Assign(t);
  EXPECT_TRUE(absl::IsFailedPrecondition(placed.status())) << placed.status();
  EXPECT_THAT(Message(placed.status()), HasSubstr("no such image"));
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  EXPECT_EQ(StateOf("task-1"), TaskState::kFailed);
}

TEST_F(ClusterTest, AnUnreachableWorkerSendsQueuedTasksBackToTheQueue) {
  AddWorker("w1", 2000, 4 * kGiB);
  gateway_.SetAssignReply({false, false, "connection refused"});
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  EXPECT_EQ(StateOf("task-1"), TaskState::kPending);
  EXPECT_FALSE(Worker("w1").record.is_active) << "kept away until heard from again";
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  gateway_.SetAssignReply({true, true, "ok"});
  ASSERT_TRUE(cluster_->Heartbeat({"w1"}).ok());
  Schedule();
  EXPECT_EQ(StateOf("task-1"), TaskState::kRunning);
}

TEST_F(ClusterTest, TasksWaitForRoomAndRunWhenItFrees) {
  AddWorker("w1", 2000, 4 * kGiB);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  EXPECT_EQ(StateOf("task-1"), TaskState::kRunning);
  EXPECT_EQ(StateOf("task-2"), TaskState::kRunning);
  EXPECT_EQ(StateOf("task-3"), TaskState::kPending);
  auto queue = cluster_->Queue();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_THAT(queue[0].waiting_reason, HasSubstr("CPU"));
  ASSERT_TRUE(Complete("task-1", "w1").ok());
  Schedule();
  EXPECT_EQ(StateOf("task-3"), TaskState::kRunning);
}

TEST_F(ClusterTest, ATaskNoWorkerCouldEverHoldFailsWithTheReason) {
  AddWorker("w1", 2000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Submit(Task(1000, 64 * kGiB)).ok());
  Schedule();
  auto view = cluster_->GetTask("task-1");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->task.status, TaskState::kFailed);
  EXPECT_THAT(view->task.error, HasSubstr("no worker could ever hold it"));
}

TEST_F(ClusterTest, InfeasibilityWaitsUntilEveryRegisteredWorkerHasJoined) {
  AddWorker("small", 2000, 4 * kGiB);
  ASSERT_TRUE(cluster_->RegisterWorker("big", "127.0.0.1:50053").ok());
  ASSERT_TRUE(cluster_->Submit(Task(1000, 16 * kGiB)).ok());
  Schedule();
  EXPECT_EQ(StateOf("task-1"), TaskState::kPending);
  Join("big", 8000, 32 * kGiB);
  Schedule();
  EXPECT_EQ(StateOf("task-1"), TaskState::kRunning);
}

TEST_F(ClusterTest, CancelAQueuedTaskAndARunningOne) {
  AddWorker("w1", 1000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  auto queued = cluster_->Cancel("task-2");
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(queued->task.status, TaskState::kCancelled);
  EXPECT_TRUE(cluster_->Queue().empty());

  // The worker stops the task and reports it cancelled.
  gateway_.SetCancelReply({true, true, "stopping"}, [this](const std::string& id,
                                                           const std::string& worker) {
    EXPECT_TRUE(Complete(id, worker, "cancelled", 143, "").ok());
  });
  auto running = cluster_->Cancel("task-1");
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->task.status, TaskState::kCancelled);
  EXPECT_THAT(gateway_.cancelled(), ElementsAre("task-1@w1"));
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  EXPECT_TRUE(absl::IsFailedPrecondition(cluster_->Cancel("task-1").status()));
  EXPECT_TRUE(absl::IsNotFound(cluster_->Cancel("task-99").status()));
}

TEST_F(ClusterTest, ACancelTheWorkerCannotHonourStillEndsTheTask) {
  AddWorker("w1", 1000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  gateway_.SetCancelReply({true, false, "task task-1 not found on worker w1"}, nullptr);
  auto cancelled = cluster_->Cancel("task-1");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->task.status, TaskState::kCancelled);
  EXPECT_EQ(Worker("w1").allocated, Resources{});
}

TEST_F(ClusterTest, LastHeartbeatsReachTheStoreInOneBatchEveryThirtySeconds) {
  AddWorker("w1", 1000, kGiB);
  AddWorker("w2", 1000, kGiB);
  const int64_t joined = store_->GetWorker("w1")->last_heartbeat;
  HeartbeatInput beat;
  for (const char* id : {"w1", "w2"}) {
    beat.worker_id = id;
    clock_.Advance(std::chrono::seconds(10));
    ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  }
  cluster_->CheckLiveness();
  Settle();
  EXPECT_EQ(store_->GetWorker("w1")->last_heartbeat, joined);  // not due yet
  clock_.Advance(std::chrono::seconds(15));
  for (const char* id : {"w1", "w2"}) {
    beat.worker_id = id;
    ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  }
  const uint64_t batches = store_->Stats().batches;
  cluster_->CheckLiveness();
  Settle();
  for (const char* id : {"w1", "w2"}) {
    EXPECT_EQ(store_->GetWorker(id)->last_heartbeat, Worker(id).record.last_heartbeat) << id;
  }
  EXPECT_EQ(store_->Stats().batches, batches + 1 + 2);  // one batch, then Settle's two barriers
}

TEST_F(ClusterTest, SilentWorkersGoInactiveThenTheirTasksAreLostOrRequeued) {
  AddWorker("w1", 2000, 4 * kGiB);
  AddWorker("w2", 2000, 4 * kGiB);
  auto once = Task(1000, kGiB);
  ASSERT_TRUE(cluster_->Submit(once).ok());
  auto retried = Task(1000, kGiB);
  retried.max_retries = 1;
  ASSERT_TRUE(cluster_->Submit(retried).ok());
  Schedule();
  auto w1 = Worker("w1");
  auto w2 = Worker("w2");
  ASSERT_EQ(w1.task_ids.size() + w2.task_ids.size(), 2u);
  // Put both tasks on one worker's fate: w2 keeps heartbeating, w1 falls silent.
  const std::string silent = w1.task_ids.size() == 2 ? "w1" : (w2.task_ids.size() == 2 ? "w2" : "w1");
  const std::string alive = silent == "w1" ? "w2" : "w1";
  clock_.Advance(std::chrono::seconds(31));
  HeartbeatInput beat{alive};
  beat.running_task_ids = Worker(alive).task_ids;
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  cluster_->CheckLiveness();
  EXPECT_FALSE(Worker(silent).record.is_active);
  EXPECT_TRUE(Worker(alive).record.is_active);
  const auto silent_tasks = Worker(silent).task_ids;
  ASSERT_FALSE(silent_tasks.empty());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  cluster_->CheckLiveness();
  EXPECT_EQ(Worker(silent).allocated, Resources{});
  for (const std::string& id : silent_tasks) {
    auto view = cluster_->GetTask(id);
    ASSERT_TRUE(view.ok());
    if (view->task.max_retries == 1) {
      EXPECT_EQ(view->task.status, TaskState::kPending) << "re-queued";
      EXPECT_EQ(view->task.retries, 1);
    } else {
      EXPECT_EQ(view->task.status, TaskState::kLost);
      EXPECT_THAT(view->task.error, HasSubstr("silent"));
    }
  }
}

TEST_F(ClusterTest, HeartbeatsReconcileRunningTasks) {
  AddWorker("w1", 2000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  HeartbeatInput beat{"w1"};
  beat.running_task_ids = {"task-1", "ghost"};
  auto outcome = cluster_->Heartbeat(beat);
  ASSERT_TRUE(outcome.ok());
  EXPECT_THAT(outcome->unknown_task_ids, ElementsAre("ghost"));
  // The worker stops reporting task-1 and never reports its end: lost after the grace.
  beat.running_task_ids.clear();
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  cluster_->CheckLiveness();
  EXPECT_EQ(StateOf("task-1"), TaskState::kLost);
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  EXPECT_TRUE(absl::IsNotFound(cluster_->Heartbeat({"nobody"}).status()));
}

TEST_F(ClusterTest, ARestartedMasterKeepsItsTasksAndPlacements) {
  AddWorker("w1", 2000, 4 * kGiB);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  ASSERT_TRUE(Complete("task-1", "w1").ok());
  // Task 3 is placed in the pass the completion triggered: it stays scheduled, as if the
  // master died before the worker answered.
  gateway_.DropAssignments(true);
  cluster_->SchedulePass(true);
  Settle();
  OpenCluster();  // same store file
  EXPECT_EQ(StateOf("task-1"), TaskState::kCompleted);
  EXPECT_EQ(StateOf("task-2"), TaskState::kRunning);
  auto w1 = Worker("w1");
  EXPECT_FALSE(w1.record.is_active) << "until it is heard from";
  EXPECT_EQ(w1.allocated.cpu_millis, 2000) << "task-2 and task-3 hold their resources";
  // The worker comes back running task-2 only; task-3 is delivered again.
  gateway_.DropAssignments(false);
  Join("w1", 2000, 4 * kGiB, {"task-2"});
  gateway_.Drain();
  EXPECT_EQ(StateOf("task-3"), TaskState::kRunning);
  auto submitted = cluster_->Submit(Task(100, 100));
  ASSERT_TRUE(submitted.ok());
  EXPECT_EQ(submitted->task.task_id, "task-4") << "task numbers survive restarts";
}

TEST_F(ClusterTest, ARestartKeepsPlacementsOnAWorkerThatShrankBelowThem) {
  AddWorker("w1", 2000, 4 * kGiB);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  Join("w1", 1000, 4 * kGiB, {"task-1", "task-2"});  // it now reports one core
  OpenCluster();
  EXPECT_EQ(StateOf("task-1"), TaskState::kRunning);
  EXPECT_EQ(StateOf("task-2"), TaskState::kRunning);
  WorkerView w1 = Worker("w1");
  EXPECT_EQ(w1.allocated.cpu_millis, 2000);
  EXPECT_EQ(w1.available.cpu_millis, 0) << "over capacity: nothing available";
  Join("w1", 1000, 4 * kGiB, {"task-1", "task-2"});
  ASSERT_TRUE(Complete("task-1", "w1").ok());
  ASSERT_TRUE(cluster_->Submit(Task(500, kGiB)).ok());
  Schedule();
  EXPECT_EQ(StateOf("task-3"), TaskState::kPending) << "still at its new total";
  ASSERT_TRUE(Complete("task-2", "w1").ok());
  Schedule();
  EXPECT_EQ(StateOf("task-3"), TaskState::kRunning);
}

TEST_F(ClusterTest, ManyRandomTasksNeverOversubscribeAnyWorker) {
  AddWorker("w1", 4000, 8 * kGiB);
  AddWorker("w2", 2000, 16 * kGiB);
  std::mt19937 rng(7);
  std::vector<std::string> running;
  for (int round = 0; round < 300; ++round) {
    if (rng() % 3 != 0) {
      ASSERT_TRUE(cluster_->Submit(Task(250 * (1 + rng() % 8), 512 * (1 + rng() % 8))).ok());
    }
    cluster_->SchedulePass(true);
    Settle();
    for (const WorkerView& w : cluster_->ListWorkers()) {
      ASSERT_TRUE(w.allocated.FitsIn(w.record.total)) << w.record.worker_id;
      if (rng() % 2 == 0 && !w.task_ids.empty()) {
        ASSERT_TRUE(Complete(w.task_ids[rng() % w.task_ids.size()], w.record.worker_id).ok());
      }
    }
  }
  for (;;) {
    bool any = false;
    for (const WorkerView& w : cluster_->ListWorkers()) {
      for (const std::string& id : w.task_ids) {
        ASSERT_TRUE(Complete(id, w.record.worker_id).ok());
        any = true;
      }
    }
    cluster_->SchedulePass(true);
    Settle();
    if (!any && cluster_->Queue().empty()) break;
  }
  for (const WorkerView& w : cluster_->ListWorkers()) {
    EXPECT_EQ(w.allocated, Resources{}) << w.record.worker_id;
    EXPECT_EQ(w.available, w.record.total);
  }
}

TEST_F(ClusterTest, BadTaskInputIsRefusedAndNothingIsStored) {
  AddWorker("w1", 2000, 4 * kGiB);
  auto negative = Task(-1, kGiB);
  EXPECT_THAT(Message(cluster_->Submit(negative).status()), HasSubstr("task.request.cpu"));
  auto no_image = Task(1000, kGiB);
  no_image.docker_image = "";
  EXPECT_THAT(Message(cluster_->Submit(no_image).status()), HasSubstr("task.docker_image"));
  auto long_command = Task(1000, kGiB);
  long_command.command = std::string(1 << 20, 'x');
  EXPECT_THAT(Message(cluster_->Submit(long_command).status()), HasSubstr("task.command"));
  auto named = Task(1000, kGiB, "mine");
  ASSERT_TRUE(cluster_->Submit(named).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(cluster_->Submit(named).status()));
  auto listed = cluster_->ListTasks({});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

class RecordingObserver final : public ClusterObserver {
 public:
  void OnHeartbeat(const WorkerView& worker) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back("heartbeat " + worker.record.worker_id);
  }
  void OnWorkerChanged(const WorkerView& worker, bool removed) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(std::string(removed ? "removed " : "worker ") + worker.record.worker_id +
                    (worker.record.is_active ? " active" : " inactive"));
  }
  void OnTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back("task " + task.task_id + " " + std::string(store::TaskStateName(event.to_state)));
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }
  std::mutex mu;
  std::vector<std::string> lines;
};

TEST_F(ClusterTest, TheObserverSeesCommittedChangesInOrder) {
  RecordingObserver observer;
  cluster_->SetObserver(&observer);
  AddWorker("w1", 2000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Heartbeat({"w1"}).ok());
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  ASSERT_TRUE(Complete("task-1", "w1").ok());
  ASSERT_TRUE(cluster_->UnregisterWorker("w1").ok());
  Settle();
  EXPECT_THAT(observer.Lines(),
              ElementsAre("worker w1 inactive", "worker w1 active", "heartbeat w1",
                          "task task-1 pending", "task task-1 scheduled", "task task-1 running",
                          "task task-1 completed", "removed w1 active"));
  cluster_->SetObserver(nullptr);
}

TEST_F(ClusterTest, UnregisterIsRefusedWhileTasksArePlaced) {
  AddWorker("w1", 2000, 4 * kGiB);
  ASSERT_TRUE(cluster_->Submit(Task(1000, kGiB)).ok());
  Schedule();
  EXPECT_TRUE(absl::IsFailedPrecondition(cluster_->UnregisterWorker("w1")));
  ASSERT_TRUE(Complete("task-1", "w1").ok());
  EXPECT_TRUE(cluster_->UnregisterWorker("w1").ok());
  EXPECT_TRUE(cluster_->ListWorkers().empty());
  EXPECT_TRUE(absl::IsNotFound(cluster_->UnregisterWorker("w1")));
  OpenCluster();
  EXPECT_TRUE(cluster_->ListWorkers().empty()) << "gone from the store too";
}

}  // namespace
}  // namespace cloudai::master
