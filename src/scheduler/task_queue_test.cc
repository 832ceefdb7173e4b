#include "scheduler/task_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler/best_fit_policy.h"
#include "scheduler/round_robin_policy.h"
#include "scheduler/test_cluster.h"

namespace cloudai::scheduler {
namespace {

using testing::kGiB;
using testing::Worker;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Placement = PassResult::Placement;
using Infeasible = PassResult::Infeasible;

QueuedTask Task(std::string id, int64_t cpu_millis, int64_t memory_mib, int priority = 0) {
  QueuedTask t;
  t.task_id = std::move(id);
  t.request = Resources::Of(cpu_millis, memory_mib);
  t.priority = priority;
  return t;
}

std::vector<std::string> Order(const TaskQueue& queue) {
  std::vector<std::string> ids;
  for (const QueuedTask& t : queue.Snapshot()) ids.push_back(t.task_id);
  return ids;
}

TEST(TaskQueue, OrdersByPriorityThenArrival) {
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("low-1", 1000, kGiB, 0)).ok());
  ASSERT_TRUE(queue.Push(Task("high-1", 1000, kGiB, 5)).ok());
  ASSERT_TRUE(queue.Push(Task("low-2", 1000, kGiB, 0)).ok());
  ASSERT_TRUE(queue.Push(Task("high-2", 1000, kGiB, 5)).ok());
  ASSERT_TRUE(queue.Push(Task("negative", 1000, kGiB, -1)).ok());
  EXPECT_THAT(Order(queue), ElementsAre("high-1", "high-2", "low-1", "low-2", "negative"));
  EXPECT_EQ(queue.size(), 5u);
}

TEST(TaskQueue, PushRefusesDuplicatesAndInvalidRequests) {
  TaskQueue queue;
  SimulatedClock clock;
  QueuedTask task = Task("t1", 1000, kGiB);
  task.queued_at = clock.Now();
  ASSERT_TRUE(queue.Push(task).ok());
  EXPECT_EQ(queue.Push(Task("t1", 2000, kGiB)).code(), absl::StatusCode::kAlreadyExists);

  absl::Status s = queue.Push(Task("t2", 1000, -1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("request.memory"));
  EXPECT_EQ(queue.Push(Task("", 1000, kGiB)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Order(queue), ElementsAre("t1"));
  ASSERT_NE(queue.Find("t1"), nullptr);
  EXPECT_EQ(*queue.Find("t1"), task);
  EXPECT_EQ(queue.Find("t2"), nullptr);
}

TEST(TaskQueue, RemoveTakesATaskOut) {
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("a", 1000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("b", 1000, kGiB)).ok());
  ASSERT_TRUE(queue.Remove("a").ok());
  EXPECT_EQ(queue.Remove("a").code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Order(queue), ElementsAre("b"));
  // The id may be queued again, and goes to the back.
  ASSERT_TRUE(queue.Push(Task("a", 1000, kGiB)).ok());
  EXPECT_THAT(Order(queue), ElementsAre("b", "a"));
}

TEST(TaskQueue, PassPlacesWhatFitsAndAllocatesIt) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("w1", 4000, 8 * kGiB), Worker("w2", 4000, 8 * kGiB)})
                  .ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("t1", 3000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("t2", 3000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("t3", 3000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("t4", 1000, kGiB)).ok());
  RoundRobinPolicy policy;

  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"t1", "w1"}, Placement{"t2", "w2"},
                                             Placement{"t4", "w1"}));
  EXPECT_TRUE(result.infeasible.empty());
  EXPECT_EQ(result.remaining, 1u);
  EXPECT_EQ(view.Find("w1")->allocated, Resources::Of(4000, 2 * kGiB));
  EXPECT_EQ(view.Find("w2")->allocated, Resources::Of(3000, kGiB));
  EXPECT_TRUE(view.CheckInvariants().ok());

  // t3 waits, with the attempt counted; the view says why.
  ASSERT_THAT(Order(queue), ElementsAre("t3"));
  const QueuedTask* t3 = queue.Find("t3");
  EXPECT_EQ(t3->retries, 1);
  EXPECT_EQ(view.WhyNoFit(t3->request),
            "Insufficient CPU: at most 1.00 available on any active worker, task requires "
            "3.00");
  // Nothing gained room: the next pass does not try it again, but tries a new task.
  ASSERT_TRUE(queue.Push(Task("t5", 1000, kGiB)).ok());
  result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"t5", "w2"}));
  EXPECT_EQ(queue.Find("t3")->retries, 1);
  ASSERT_TRUE(view.Release("w2", Resources::Of(1000, kGiB)).ok());

  // Room frees up: it is placed on the next pass.
  ASSERT_TRUE(view.Release("w2", Resources::Of(3000, kGiB)).ok());
  result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"t3", "w2"}));
  EXPECT_EQ(result.remaining, 0u);
  EXPECT_TRUE(queue.empty());
}

TEST(TaskQueue, HigherPriorityGetsScarceRoomFirst) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("w1", 4000, 8 * kGiB)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("early-low", 4000, kGiB, 0)).ok());
  ASSERT_TRUE(queue.Push(Task("late-high", 4000, kGiB, 10)).ok());
  BestFitPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"late-high", "w1"}));
  EXPECT_THAT(Order(queue), ElementsAre("early-low"));
}

TEST(TaskQueue, ATaskThatCannotFitDoesNotBlockThoseBehindIt) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("w1", 4000, 8 * kGiB)).ok());
  ASSERT_TRUE(view.Allocate("w1", Resources::Of(2000, 0)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("big", 4000, kGiB, 10)).ok());
  ASSERT_TRUE(queue.Push(Task("small", 1000, kGiB, 0)).ok());
  BestFitPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"small", "w1"}));
  EXPECT_THAT(Order(queue), ElementsAre("big"));
}

TEST(TaskQueue, TasksNoWorkerCouldEverHoldAreReportedNotRetried) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("w1", 4000, 16 * kGiB)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("huge", 1000, 64 * kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("ok", 1000, kGiB)).ok());
  BestFitPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"ok", "w1"}));
  EXPECT_THAT(result.infeasible,
              ElementsAre(Infeasible{"huge",
                                     "no worker could ever hold it: largest Memory is 16.00 "
                                     "GB, task requires 64.00 GB"}));
  EXPECT_EQ(result.remaining, 0u);
  EXPECT_EQ(queue.Find("huge"), nullptr);
}

TEST(TaskQueue, AnEmptyClusterReportsEveryTaskAsInfeasible) {
  ClusterView view;
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("a", 1000, kGiB)).ok());
  RoundRobinPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.infeasible,
              ElementsAre(Infeasible{"a", "no worker could ever hold it: no workers are "
                                          "registered"}));
  EXPECT_TRUE(queue.empty());
}

TEST(TaskQueue, WithoutJudgingInfeasibilityAnImpossibleTaskWaitsWithItsReason) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("w1", 4000, 16 * kGiB)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("huge", 1000, 64 * kGiB)).ok());
  BestFitPolicy policy;
  PassResult result = queue.SchedulePass(view, policy, /*judge_infeasible=*/false);
  EXPECT_TRUE(result.infeasible.empty());
  EXPECT_EQ(result.remaining, 1u);
  ASSERT_NE(queue.Find("huge"), nullptr);
  EXPECT_THAT(view.WhyNoFit(queue.Find("huge")->request), HasSubstr("largest Memory is 16.00 GB"));
  result = queue.SchedulePass(view, policy);
  ASSERT_EQ(result.infeasible.size(), 1u) << "judged on the next pass that may judge";
}

TEST(TaskQueue, ARequestAtLeastAsLargeAsARefusedOneIsRefusedToo) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("w1", 4000, 8 * kGiB)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("fits", 3000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("big", 2000, kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("bigger", 2000, 2 * kGiB)).ok());
  ASSERT_TRUE(queue.Push(Task("small", 1000, kGiB)).ok());
  // A policy that counts its decisions.
  class Counting final : public PlacementPolicy {
   public:
    std::optional<std::string> Select(const ClusterView& v, const Resources& r) override {
      ++calls;
      return inner.Select(v, r);
    }
    std::string_view Name() const override { return "counting"; }
    void Reset() override {}
    BestFitPolicy inner;
    int calls = 0;
  } policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_THAT(result.placements, ElementsAre(Placement{"fits", "w1"}, Placement{"small", "w1"}));
  EXPECT_EQ(policy.calls, 3) << "\"bigger\" is refused because \"big\" was";
  EXPECT_EQ(queue.Find("bigger")->retries, 1);
}

TEST(TaskQueue, AShrinkingClusterTurnsAWaitingTaskInfeasible) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("big", 16000, 64 * kGiB), Worker("small", 2000,
                                                                           4 * kGiB)})
                  .ok());
  ASSERT_TRUE(view.Allocate("big", Resources::Of(16000, 0)).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("wide", 8000, kGiB)).ok());
  BestFitPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_EQ(result.remaining, 1u) << "big is full now but could hold it later";
  result = queue.SchedulePass(view, policy);
  EXPECT_EQ(queue.Find("wide")->retries, 1) << "nothing gained room: not tried again";

  ASSERT_TRUE(view.RemoveWorker("big").ok());
  result = queue.SchedulePass(view, policy);
  ASSERT_EQ(result.infeasible.size(), 1u);
  EXPECT_EQ(result.infeasible[0].task_id, "wide");
  EXPECT_THAT(result.infeasible[0].reason, HasSubstr("largest CPU is 2.00"));
  EXPECT_EQ(result.remaining, 0u);
}

// A policy that picks a worker without looking: the pass must not trust it blindly.
class CarelessPolicy final : public PlacementPolicy {
 public:
  std::optional<std::string> Select(const ClusterView& view, const Resources&) override {
    return view.worker(0).id;
  }
  std::string_view Name() const override { return "careless"; }
  void Reset() override {}
};

TEST(TaskQueue, AWrongPickFromAPolicyLeavesTheTaskQueued) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("a", 1000, kGiB), Worker("b", 8000, 8 * kGiB)}).ok());
  TaskQueue queue;
  ASSERT_TRUE(queue.Push(Task("t", 4000, kGiB)).ok());
  CarelessPolicy policy;
  PassResult result = queue.SchedulePass(view, policy);
  EXPECT_TRUE(result.placements.empty());
  EXPECT_EQ(result.remaining, 1u);
  EXPECT_THAT(queue.Find("t")->last_error, HasSubstr("Insufficient CPU"));
  EXPECT_TRUE(view.Find("a")->allocated.IsZero());
  EXPECT_TRUE(view.CheckInvariants().ok());
}

}  // namespace
}  // namespace cloudai::scheduler
