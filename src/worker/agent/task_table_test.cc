#include "worker/agent/task_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace cloudai::worker {
namespace {

using namespace std::chrono_literals;

std::function<absl::StatusOr<std::shared_ptr<LogSpool>>()> NewSpool(const std::string& name) {
  return [name] {
    return LogSpool::Create(std::string(::testing::TempDir()) + "/table-" + name + "-" +
                            std::to_string(getpid()) + ".log");
  };
}

TaskExit Exit(std::string status) {
  TaskExit e;
  e.status = std::move(status);
  return e;
}

TEST(TaskTable, AnIdIsAdmittedOnceUntilItsResultIsAcknowledged) {
  TaskTable table(1h, 100);
  auto first = table.Admit("a", 1, NewSpool("a"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->admission, TaskTable::Admission::kAdmitted);
  ASSERT_NE(first->spool, nullptr);
  EXPECT_EQ(table.Admit("a", 2, NewSpool("a"))->admission,
            TaskTable::Admission::kAlreadyRunning);
  ASSERT_EQ(table.Running().size(), 1u);
  EXPECT_EQ(table.Running()[0].started_at_ms, 1);

  EXPECT_TRUE(table.Finish("a", Exit("failed")));
  EXPECT_TRUE(table.Running().empty());
  auto again = table.Admit("a", 3, NewSpool("a"));
  EXPECT_EQ(again->admission, TaskTable::Admission::kAlreadyFinished);
  EXPECT_EQ(again->final_status, "failed");

  table.MarkReported("a");
  EXPECT_EQ(table.Admit("a", 4, NewSpool("a"))->admission, TaskTable::Admission::kAdmitted);
  EXPECT_FALSE(table.Find("a")->finished);
  EXPECT_FALSE(table.Finish("unknown", Exit("completed")));
}

TEST(TaskTable, ASpoolErrorAdmitsNothing) {
  TaskTable table(1h, 100);
  auto r = table.Admit("b", 1, [] { return LogSpool::Create("/nonexistent-dir/b.log"); });
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(table.Find("b").has_value());
}

TEST(TaskTable, RemoveForgetsOnlyTheSameAttempt) {
  TaskTable table(1h, 100);
  auto r = table.Admit("c", 1, NewSpool("c"));
  table.Remove("c", nullptr);
  EXPECT_TRUE(table.Find("c").has_value());
  table.Remove("c", r->spool);
  EXPECT_FALSE(table.Find("c").has_value());
}

TEST(TaskTable, PruneDropsAcknowledgedTasksBeyondTheCountAndDeletesTheirSpools) {
  TaskTable table(1h, 1);
  std::string old_path;
  for (const char* id : {"p1", "p2", "p3"}) {
    auto r = table.Admit(id, 1, NewSpool(id));
    if (old_path.empty()) old_path = r->spool->path();
    table.Finish(id, Exit("completed"));
    std::this_thread::sleep_for(2ms);
  }
  table.MarkReported("p1");
  table.MarkReported("p2");
  table.Prune();
  // p3 is unacknowledged and stays; of p1 and p2 only the newest (p2) is kept.
  EXPECT_FALSE(table.Find("p1").has_value());
  EXPECT_TRUE(table.Find("p2").has_value());
  EXPECT_TRUE(table.Find("p3").has_value());
  EXPECT_NE(::access(old_path.c_str(), F_OK), 0);
}

TEST(TaskTable, PruneDropsAcknowledgedTasksPastTheirTimeToLive) {
  TaskTable table(0ms, 100);
  ASSERT_TRUE(table.Admit("t", 1, NewSpool("t")).ok());
  table.Finish("t", Exit("completed"));
  table.Prune();
  EXPECT_TRUE(table.Find("t").has_value()) << "not acknowledged yet";
  table.MarkReported("t");
  table.Prune();
  EXPECT_FALSE(table.Find("t").has_value());
}

TEST(TaskTable, AdoptedTasksAreRunning) {
  TaskTable table(1h, 100);
  table.Adopt("r", NewSpool("r")().value(), 5);
  table.SetStartedAt("r", 7);
  ASSERT_EQ(table.Running().size(), 1u);
  EXPECT_EQ(table.Running()[0].started_at_ms, 7);
}

}  // namespace
}  // namespace cloudai::worker
