// Allocations in the Cluster: leases on worker slots, their tasks, TTLs and services,
// against a real SQLite store (cluster_test_fixture.h).
#include "master/cluster_test_fixture.h"

namespace cloudai::master {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using store::AllocationState;
using namespace testing_fixture;  // NOLINT: the fixture's helpers

class AllocationTest : public ClusterTest {
 protected:
  static AllocationAsk Ask(std::string job, int32_t workers, int64_t cpu_millis, int64_t memory_mib,
                           std::string priority = "") {
    AllocationAsk ask;
    ask.job_id = std::move(job);
    ask.workers = workers;
    ask.per_worker = Resources::Of(cpu_millis, memory_mib);
    ask.priority = std::move(priority);
    return ask;
  }

  AllocationView Request(const AllocationAsk& ask) {
    auto view = cluster_->RequestAllocation(ask);
    EXPECT_TRUE(view.ok()) << view.status();
    Settle();
    return view.ok() ? *view : AllocationView{};
  }

  AllocationState StateOfAllocation(const std::string& id) {
    auto view = cluster_->GetAllocation(id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->record.state : AllocationState::kFailed;
  }

  // The worker reports a cancelled task as stopped, as a real one does.
  void WorkersHonourCancels() {
    gateway_.SetCancelReply({true, true, "stopping"},
                            [this](const std::string& id, const std::string& worker) {
                              EXPECT_TRUE(Complete(id, worker, "cancelled", 143, "").ok());
                            });
  }
};

TEST_F(AllocationTest, ReservesSlotsOnRealWorkersAllOrNothing) {
  AddWorker("w1", 4000, 8 * kGiB);
  AddWorker("w2", 4000, 8 * kGiB);
  AllocationView a = Request(Ask("job-1", 3, 2000, 2 * kGiB));
  EXPECT_EQ(a.record.state, AllocationState::kActive);
  EXPECT_THAT(a.record.allocation_id, ::testing::MatchesRegex("alloc-[0-9a-f]{12}"));
  ASSERT_THAT(a.slots, SizeIs(3));
  EXPECT_EQ(a.slots[0].host, "127.0.0.1");
  EXPECT_EQ(a.record.expires_at, a.record.created_at + 3'600'000);
  Resources reserved = Worker("w1").allocated;
  reserved = *Add(reserved, Worker("w2").allocated);
  EXPECT_EQ(reserved, Resources::Of(6000, 6 * kGiB));

  CapacityView capacity = cluster_->Capacity();
  EXPECT_EQ(capacity.total, Resources::Of(8000, 16 * kGiB, 200 * kGiB));
  EXPECT_EQ(capacity.reserved, Resources::Of(6000, 6 * kGiB));
  EXPECT_EQ(capacity.active_allocations, 1u);

  // Two more slots of 2 cores do not fit now (one would): nothing is taken, it waits.
  AllocationView b = Request(Ask("job-2", 2, 2000, 2 * kGiB));
  EXPECT_EQ(b.record.state, AllocationState::kPending);
  EXPECT_THAT(b.record.reason, HasSubstr("1 of 2 slot(s)"));
  EXPECT_EQ(cluster_->Capacity().reserved, Resources::Of(6000, 6 * kGiB));
}

TEST_F(AllocationTest, ARequestThatCouldNeverFitFailsAtOnceAndStoresNothing) {
  AddWorker("w1", 4000, 8 * kGiB);
  auto too_big = cluster_->RequestAllocation(Ask("job-1", 1, 8000, kGiB));
  EXPECT_TRUE(absl::IsResourceExhausted(too_big.status())) << too_big.status();
  EXPECT_THAT(Message(too_big.status()), HasSubstr("larger than what any registered worker has"));
  auto too_many = cluster_->RequestAllocation(Ask("job-1", 5, 1000, kGiB));
  EXPECT_TRUE(absl::IsResourceExhausted(too_many.status()));
  EXPECT_THAT(Message(too_many.status()), HasSubstr("at most 4 slot(s)"));
  AllocationAsk no_wait = Ask("job-1", 1, 4000, kGiB);
  Request(Ask("filler", 1, 1000, kGiB));
  no_wait.wait = false;
  auto refused = cluster_->RequestAllocation(no_wait);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status()));
  EXPECT_THAT(Message(refused.status()), HasSubstr("wait=false"));
  auto listed = cluster_->ListAllocations({});
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(*listed, SizeIs(1));  // the filler only
}

TEST_F(AllocationTest, BadInputNamesTheFieldAndChangesNothing) {
  AddWorker("w1", 4000, 8 * kGiB);
  struct Case {
    std::function<void(AllocationAsk&)> edit;
    std::string field;
  } cases[] = {
      {[](AllocationAsk& a) { a.job_id = ""; }, "job_id"},
      {[](AllocationAsk& a) { a.workers = 1001; }, "workers"},
      {[](AllocationAsk& a) { a.priority = "urgent"; }, "priority"},
      {[](AllocationAsk& a) { a.ttl_seconds = -1; }, "ttl_seconds"},
      {[](AllocationAsk& a) { a.ttl_seconds = 8 * 24 * 3600; }, "ttl_seconds"},
      {[](AllocationAsk& a) { a.services = {"nope"}; }, "services[0]"},
      {[](AllocationAsk& a) { a.metadata[std::string(200, 'k')] = "v"; }, "metadata"},
      {[](AllocationAsk& a) { a.per_worker.cpu_millis = -5; }, "per_worker"},
  };
  for (const Case& c : cases) {
    AllocationAsk ask = Ask("job-1", 1, 1000, kGiB);
    c.edit(ask);
    auto refused = cluster_->RequestAllocation(ask);
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << c.field << ": " << refused.status();
    EXPECT_THAT(Message(refused.status()), HasSubstr(c.field));
  }
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  EXPECT_THAT(*cluster_->ListAllocations({}), SizeIs(0));
}

TEST_F(AllocationTest, PendingAllocationsAreServedByPriorityThenAge) {
  AddWorker("w1", 2000, 4 * kGiB);
  AllocationView holder = Request(Ask("holder", 1, 2000, kGiB));
  AllocationView normal = Request(Ask("normal", 1, 2000, kGiB));
  AllocationView high = Request(Ask("high", 1, 2000, kGiB, "high"));
  EXPECT_EQ(normal.record.state, AllocationState::kPending);
  EXPECT_EQ(high.record.state, AllocationState::kPending);

  ASSERT_TRUE(cluster_->ReleaseAllocation(holder.record.allocation_id).ok());
  Schedule();
  EXPECT_EQ(StateOfAllocation(high.record.allocation_id), AllocationState::kActive);
  EXPECT_EQ(StateOfAllocation(normal.record.allocation_id), AllocationState::kPending);
  auto events = cluster_->GetAllocation(high.record.allocation_id)->events;
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].to_state, AllocationState::kPending);
  EXPECT_EQ(events[1].to_state, AllocationState::kActive);
}

TEST_F(AllocationTest, ReleasingFreesEverySlotExactlyOnce) {
  AddWorker("w1", 4000, 8 * kGiB);
  AllocationView a = Request(Ask("job-1", 2, 1000, kGiB));
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(2000, 2 * kGiB));
  auto released = cluster_->ReleaseAllocation(a.record.allocation_id);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->record.state, AllocationState::kReleased);
  EXPECT_EQ(Worker("w1").allocated, Resources{});

  auto again = cluster_->ReleaseAllocation(a.record.allocation_id);
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status()));
  EXPECT_THAT(Message(again.status()), HasSubstr("already released"));
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  EXPECT_TRUE(absl::IsNotFound(cluster_->ReleaseAllocation("alloc-000000000000").status()));
}

TEST_F(AllocationTest, TasksRunInTheSlotsAndUseTheirCapacityNotThePool) {
  AddWorker("w1", 4000, 8 * kGiB);
  AllocationView a = Request(Ask("job-1", 1, 1000, 2 * kGiB));
  const std::string id = a.record.allocation_id;
  auto in = [&](int64_t cpu, int64_t mem) {
    store::TaskRecord task = Task(cpu, mem);
    task.allocation_id = id;
    return task;
  };
  auto too_big = cluster_->Submit(in(2000, kGiB));
  EXPECT_TRUE(absl::IsInvalidArgument(too_big.status()));
  EXPECT_THAT(Message(too_big.status()), HasSubstr("does not fit in a slot of allocation"));

  auto first = cluster_->Submit(in(1000, kGiB));
  auto second = cluster_->Submit(in(500, kGiB));
  ASSERT_TRUE(first.ok() && second.ok());
  Schedule();
  EXPECT_EQ(StateOf(first->task.task_id), TaskState::kRunning);
  EXPECT_EQ(StateOf(second->task.task_id), TaskState::kPending);  // the slot is full
  EXPECT_THAT(cluster_->GetTask(second->task.task_id)->waiting_reason, HasSubstr(id));
  // The worker's allocation is the slot's, whatever runs inside it.
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(1000, 2 * kGiB));
  EXPECT_EQ(cluster_->GetAllocation(id)->slots[0].used, Resources::Of(1000, kGiB));

  ASSERT_TRUE(Complete(first->task.task_id, "w1").ok());
  Schedule();
  EXPECT_EQ(StateOf(second->task.task_id), TaskState::kRunning);
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(1000, 2 * kGiB));

  // Ending the allocation cancels its tasks, then frees the slot.
  WorkersHonourCancels();
  auto released = cluster_->ReleaseAllocation(id);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->record.state, AllocationState::kReleased);
  EXPECT_EQ(StateOf(second->task.task_id), TaskState::kCancelled);
  EXPECT_EQ(Worker("w1").allocated, Resources{});
  auto late = cluster_->Submit(in(100, 100));
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status()));
  EXPECT_THAT(Message(late.status()), HasSubstr("has ended (released)"));
}

TEST_F(AllocationTest, TheSweepExpiresAllocationsPastTheirTtl) {
  AddWorker("w1", 4000, 8 * kGiB);
  AllocationAsk short_lived = Ask("job-1", 1, 1000, kGiB);
  short_lived.ttl_seconds = 10;
  AllocationView a = Request(short_lived);
  AllocationView b = Request(Ask("job-2", 1, 1000, kGiB));
  auto extended = cluster_->ExtendAllocation(a.record.allocation_id, 5);
  ASSERT_TRUE(extended.ok());
  EXPECT_EQ(extended->record.expires_at, a.record.expires_at + 5000);
  EXPECT_TRUE(absl::IsInvalidArgument(
      cluster_->ExtendAllocation(a.record.allocation_id, 8 * 24 * 3600).status()));

  clock_.Advance(std::chrono::seconds(11));
  EXPECT_TRUE(cluster_->SweepAllocations().expired_allocation_ids.empty());
  clock_.Advance(std::chrono::seconds(5));
  SweepReport report = cluster_->SweepAllocations();
  EXPECT_THAT(report.expired_allocation_ids, ElementsAre(a.record.allocation_id));
  EXPECT_EQ(report.active_allocations, 1u);
  EXPECT_EQ(StateOfAllocation(a.record.allocation_id), AllocationState::kExpired);
  EXPECT_EQ(StateOfAllocation(b.record.allocation_id), AllocationState::kActive);
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(1000, kGiB));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      cluster_->ExtendAllocation(a.record.allocation_id, 5).status()));
}

TEST_F(AllocationTest, AllocationsAndTheirTasksSurviveARestart) {
  AddWorker("w1", 4000, 8 * kGiB);
  AllocationAsk ask = Ask("job-1", 2, 1000, kGiB);
  ask.metadata["team"] = "vision";
  AllocationView a = Request(ask);
  store::TaskRecord task = Task(500, 512);
  task.allocation_id = a.record.allocation_id;
  auto submitted = cluster_->Submit(task);
  ASSERT_TRUE(submitted.ok());
  Schedule();
  AllocationView pending = Request(Ask("job-2", 1, 4000, kGiB));
  ASSERT_EQ(pending.record.state, AllocationState::kPending);

  OpenCluster();
  Join("w1", 4000, 8 * kGiB, {submitted->task.task_id});
  auto restored = cluster_->GetAllocation(a.record.allocation_id);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->record.state, AllocationState::kActive);
  EXPECT_EQ(restored->record.expires_at, a.record.expires_at);
  EXPECT_EQ(restored->record.metadata.at("team"), "vision");
  EXPECT_EQ(restored->slots[0].used, Resources::Of(500, 512));
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(2000, 2 * kGiB));
  EXPECT_EQ(StateOfAllocation(pending.record.allocation_id), AllocationState::kPending);

  WorkersHonourCancels();
  ASSERT_TRUE(cluster_->ReleaseAllocation(a.record.allocation_id).ok());
  Schedule();
  EXPECT_EQ(StateOfAllocation(pending.record.allocation_id), AllocationState::kActive);
}

TEST_F(AllocationTest, ALostWorkerFailsTheAllocationsHoldingItsSlots) {
  AddWorker("w1", 4000, 8 * kGiB);
  AddWorker("w2", 4000, 8 * kGiB);
  AllocationView a = Request(Ask("job-1", 2, 4000, kGiB));  // one slot on each
  ASSERT_EQ(a.record.state, AllocationState::kActive);
  EXPECT_TRUE(absl::IsFailedPrecondition(cluster_->UnregisterWorker("w1")));
  HeartbeatInput beat;
  beat.worker_id = "w2";
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  cluster_->CheckLiveness();
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(cluster_->Heartbeat(beat).ok());
  cluster_->CheckLiveness();
  Settle();
  auto failed = cluster_->GetAllocation(a.record.allocation_id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->record.state, AllocationState::kFailed);
  EXPECT_THAT(failed->record.reason, HasSubstr("w1"));
  EXPECT_EQ(Worker("w2").allocated, Resources{});
}

TEST_F(AllocationTest, ServicesStartOnceAreSharedAndStopWhenIdle) {
  ServiceDefinition echo;
  echo.name = "echo";
  echo.docker_image = "busybox:latest";
  echo.command = "httpd -f -p $PORT";
  echo.request = Resources::Of(250, 128);
  allocation_settings_.services["echo"] = echo;
  allocation_settings_.service_idle_timeout = std::chrono::seconds(60);
  OpenCluster();
  AddWorker("w1", 4000, 8 * kGiB);

  AllocationAsk ask = Ask("job-1", 1, 1000, kGiB);
  ask.services = {"echo"};
  AllocationView a = Request(ask);
  ASSERT_EQ(a.record.state, AllocationState::kActive);
  ASSERT_THAT(a.endpoints, SizeIs(1));
  EXPECT_EQ(a.endpoints[0].port, 9000);
  EXPECT_EQ(a.endpoints[0].host, "127.0.0.1");
  const std::string service_task = a.endpoints[0].task_id;
  auto task = cluster_->GetTask(service_task);
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(task->task.env.at("PORT"), "9000");
  EXPECT_EQ(task->task.command, "httpd -f -p $PORT");
  EXPECT_EQ(Worker("w1").allocated, Resources::Of(1250, kGiB + 128));

  AllocationView b = Request(ask);
  ASSERT_THAT(b.endpoints, SizeIs(1));
  EXPECT_EQ(b.endpoints[0].task_id, service_task);  // reused
  EXPECT_EQ(b.endpoints[0].references, 2);

  ASSERT_TRUE(cluster_->ReleaseAllocation(a.record.allocation_id).ok());
  ASSERT_TRUE(cluster_->ReleaseAllocation(b.record.allocation_id).ok());
  CapacityView capacity = cluster_->Capacity();
  ASSERT_THAT(capacity.services, SizeIs(1));
  EXPECT_EQ(capacity.services[0].references, 0);
  EXPECT_GT(capacity.services[0].idle_since, 0);
  EXPECT_TRUE(cluster_->SweepAllocations().stopped_services.empty());  // not idle long enough

  WorkersHonourCancels();
  clock_.Advance(std::chrono::seconds(61));
  SweepReport report = cluster_->SweepAllocations();
  EXPECT_THAT(report.stopped_services, ElementsAre("echo"));
  Settle();
  EXPECT_EQ(StateOf(service_task), TaskState::kCancelled);
  EXPECT_TRUE(cluster_->Capacity().services.empty());
  EXPECT_EQ(Worker("w1").allocated, Resources{});
}

}  // namespace
}  // namespace cloudai::master
