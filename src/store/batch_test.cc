#include "store/batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudai::store {
namespace {

using ::testing::HasSubstr;

TEST(Batch, KeepsMutationsInOrder) {
  TaskRecord t;
  t.task_id = "t-1";
  Batch b;
  b.InsertTask(t).AppendTaskEvent({0, "t-1", std::nullopt, TaskState::kPending, 5, "submitted"});
  b.SetCounter("next_task", 2);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<mutation::InsertTask>(b.mutations()[0]));
  EXPECT_TRUE(std::holds_alternative<mutation::AppendTaskEvent>(b.mutations()[1]));
  EXPECT_TRUE(std::holds_alternative<mutation::SetCounter>(b.mutations()[2]));
  EXPECT_EQ(Describe(b.mutations()[0]), "insert task \"t-1\"");
  EXPECT_TRUE(ValidateBatch(b).ok());
  EXPECT_TRUE(Batch().empty());
}

TEST(Batch, ValidationNamesTheMutation) {
  TaskRecord t;
  t.task_id = "t-1";
  t.request.memory_mib = -3;
  Batch b;
  b.DeleteAssignment("t-0").UpdateTask(t);
  const absl::Status s = ValidateBatch(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("mutation 2 (update task \"t-1\"): task.request.memory: -3 is negative"));
  EXPECT_THAT(std::string(ValidateBatch(Batch().DeleteWorker("")).message()),
              HasSubstr("mutation 1 (delete worker \"\"): worker_id: must not be empty"));
}

TEST(Batch, DescribesEveryKind) {
  WorkerRecord w;
  w.worker_id = "w";
  ResultRecord r;
  r.task_id = "t";
  Batch b;
  b.UpsertUser({"u", "", "", "", "user", 0})
      .DeleteUser("u")
      .UpsertWorker(w)
      .SetWorkerStatus("w", true, 1, 1)
      .DeleteWorker("w")
      .DeleteTask("t")
      .InsertAssignment({"a", "t", "w", 0})
      .InsertResult(r)
      .SetCounter("c", 1);
  std::vector<std::string> text;
  for (const Mutation& m : b.mutations()) text.push_back(Describe(m));
  EXPECT_THAT(text, ::testing::ElementsAre("upsert user \"u\"", "delete user \"u\"",
                                           "upsert worker \"w\"", "set status of worker \"w\"",
                                           "delete worker \"w\"", "delete task \"t\"",
                                           "insert assignment \"a\" of task \"t\" to worker \"w\"",
                                           "insert result of task \"t\"", "set counter \"c\""));
}

TEST(Batch, AllocationMutations) {
  AllocationRecord a;
  a.allocation_id = "alloc-1";
  a.job_id = "job";
  Batch b;
  b.UpsertAllocation(a)
      .AppendAllocationEvent({0, "alloc-1", std::nullopt, AllocationState::kPending, 1, ""})
      .UpsertServiceInstance({"echo", "svc-1", 9000, 1, 0})
      .DeleteServiceInstance("echo");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<mutation::UpsertAllocation>(b.mutations()[0]));
  EXPECT_TRUE(std::holds_alternative<mutation::AppendAllocationEvent>(b.mutations()[1]));
  EXPECT_TRUE(std::holds_alternative<mutation::UpsertServiceInstance>(b.mutations()[2]));
  EXPECT_TRUE(std::holds_alternative<mutation::DeleteServiceInstance>(b.mutations()[3]));
  std::vector<std::string> text;
  for (const Mutation& m : b.mutations()) text.push_back(Describe(m));
  EXPECT_THAT(text, ::testing::ElementsAre("upsert allocation \"alloc-1\"",
                                           "append event of allocation \"alloc-1\"",
                                           "upsert instance of service \"echo\" (task \"svc-1\")",
                                           "delete instance of service \"echo\""));
  EXPECT_TRUE(ValidateBatch(b).ok()) << ValidateBatch(b);

  a.workers = 0;
  EXPECT_THAT(std::string(ValidateBatch(Batch().UpsertAllocation(a)).message()),
              HasSubstr("mutation 1 (upsert allocation \"alloc-1\"): allocation.workers: 0 is "
                        "below 1"));
  EXPECT_THAT(
      std::string(ValidateBatch(Batch().UpsertServiceInstance({"echo", "t", 0, 0, 0})).message()),
      HasSubstr("service_instance.port: 0 is not a port"));
  EXPECT_THAT(
      std::string(ValidateBatch(Batch().DeleteServiceInstance("")).message()),
      HasSubstr("mutation 1 (delete instance of service \"\"): service: must not be empty"));
  EXPECT_THAT(
      std::string(ValidateBatch(Batch().AppendAllocationEvent({0, "alloc-1", std::nullopt,
                                                               AllocationState::kPending, -1, ""}))
                      .message()),
      HasSubstr("allocation_event.at: -1 is negative"));
}

}  // namespace
}  // namespace cloudai::store
