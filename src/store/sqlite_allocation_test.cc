// Allocations in the SQLite store: ALLOCATIONS, ALLOCATION_EVENTS, SERVICE_INSTANCES and
// TASKS.allocation_id, written by batches and read back (checked) by every read path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cloudai::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

using SqliteAllocationTest = SqliteStoreTest;

ServiceInstanceRecord Instance(std::string service, std::string task_id, int32_t port) {
  return ServiceInstanceRecord{std::move(service), std::move(task_id), port, kT0 + 5, 0};
}

std::vector<std::string> Ids(const absl::StatusOr<std::vector<AllocationRecord>>& list) {
  std::vector<std::string> ids;
  EXPECT_TRUE(list.ok()) << list.status();
  if (list.ok()) {
    for (const AllocationRecord& a : *list) ids.push_back(a.allocation_id);
  }
  return ids;
}

AllocationFilter Filter(std::optional<AllocationState> state, std::string job = "",
                        size_t limit = 0) {
  AllocationFilter f;
  f.state = state;
  f.job_id = std::move(job);
  f.limit = limit;
  return f;
}

TEST_F(SqliteAllocationTest, EveryFieldRoundTripsAndSurvivesReopening) {
  const AllocationRecord pending = MakeAllocation("alloc-pending", AllocationState::kPending);
  const AllocationRecord active = MakeAllocation("alloc-active", AllocationState::kActive);
  const AllocationRecord releasing = MakeAllocation("alloc-releasing", AllocationState::kReleasing);
  const AllocationRecord released = MakeAllocation("alloc-released", AllocationState::kReleased);
  const AllocationRecord expired = MakeAllocation("alloc-expired", AllocationState::kExpired);
  AllocationRecord bare_record;  // every optional part empty
  bare_record.allocation_id = "alloc-bare";
  bare_record.job_id = "j";
  const AllocationRecord& bare = bare_record;
  ASSERT_THAT(active.slots, SizeIs(3));
  ASSERT_EQ(active.slots[2].worker_id, "w|odd;id %");

  ASSERT_TRUE(store_
                  ->Commit(Batch()
                               .UpsertAllocation(released)
                               .UpsertAllocation(pending)
                               .UpsertAllocation(active)
                               .UpsertAllocation(expired)
                               .UpsertAllocation(releasing)
                               .UpsertAllocation(bare))
                  .ok());
  auto check = [&] {
    for (const AllocationRecord* a : {&pending, &active, &releasing, &released, &expired, &bare}) {
      auto got = store_->GetAllocation(a->allocation_id);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *a);
    }
    const absl::Status missing = store_->GetAllocation("alloc-none").status();
    EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(Message(missing), HasSubstr("no allocation \"alloc-none\""));

    auto snap = store_->LoadAll();
    ASSERT_TRUE(snap.ok()) << snap.status();
    // Not the final ones, in created order.
    EXPECT_THAT(snap->allocations, ElementsAre(pending, active, releasing, bare));
    EXPECT_THAT(snap->service_instances, SizeIs(0));
    EXPECT_EQ(snap->next_allocation_event_seq, 1);
  };
  check();
  Reopen();
  check();
}

TEST_F(SqliteAllocationTest, UpsertReplacesTheWholeRowAndKeepsItsPlace) {
  AllocationRecord a = MakeAllocation("alloc-a", AllocationState::kPending);
  const AllocationRecord b = MakeAllocation("alloc-b", AllocationState::kPending);
  ASSERT_TRUE(store_->Commit(Batch().UpsertAllocation(a).UpsertAllocation(b)).ok());

  a.state = AllocationState::kActive;
  a.priority = AllocationPriority::kCritical;
  a.workers = 2;
  a.slots = {{"w-9", a.per_worker}, {"w-8", a.per_worker}};
  a.services = {"echo"};
  a.metadata = {{"only", "this"}};
  a.wait = true;
  a.activated_at = kT0 + 70;
  a.expires_at = kT0 + 7'200'000;
  a.reason = "";
  ASSERT_TRUE(store_->Commit(Batch().UpsertAllocation(a)).ok());
  EXPECT_EQ(store_->GetAllocation("alloc-a").value(), a);
  EXPECT_THAT(store_->LoadAll()->allocations, ElementsAre(a, b));  // a is still the oldest

  a.state = AllocationState::kReleased;
  a.slots.clear();
  a.ended_at = kT0 + 100;
  a.reason = "released by alice";
  ASSERT_TRUE(store_->Commit(Batch().UpsertAllocation(a)).ok());
  EXPECT_THAT(store_->LoadAll()->allocations, ElementsAre(b));
  EXPECT_EQ(store_->GetAllocation("alloc-a").value(), a);
  EXPECT_THAT(Ids(store_->ListAllocations({})), ElementsAre("alloc-b", "alloc-a"));
}

TEST_F(SqliteAllocationTest, EventsAreKeptInSeqOrder) {
  ASSERT_TRUE(store_
                  ->Commit(Batch()
                               .InsertTask(MakeTask("t-1"))
                               .AppendTaskEvent(Event("t-1", std::nullopt, TaskState::kPending, 1))
                               .UpsertAllocation(MakeAllocation("alloc-1"))
                               .UpsertAllocation(MakeAllocation("alloc-2")))
                  .ok());
  ASSERT_TRUE(
      store_
          ->Commit(Batch()
                       .AppendAllocationEvent(
                           AllocEvent("alloc-1", std::nullopt, AllocationState::kPending, kT0))
                       .AppendAllocationEvent(
                           AllocEvent("alloc-2", std::nullopt, AllocationState::kPending, kT0 + 1))
                       .AppendAllocationEvent(AllocEvent("alloc-1", AllocationState::kPending,
                                                         AllocationState::kActive, kT0 + 2)))
          .ok());
  AllocationEvent released =
      AllocEvent("alloc-1", AllocationState::kActive, AllocationState::kReleasing, kT0 + 3);
  released.seq = 50;
  ASSERT_TRUE(store_
                  ->Commit(Batch().AppendAllocationEvent(released).AppendAllocationEvent(AllocEvent(
                      "alloc-1", AllocationState::kReleasing, AllocationState::kReleased, kT0 + 4)))
                  .ok());

  auto check = [&] {
    auto events = store_->ListAllocationEvents("alloc-1");
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_THAT(*events, SizeIs(4));
    std::vector<int64_t> seqs;
    for (const AllocationEvent& e : *events) seqs.push_back(e.seq);
    EXPECT_THAT(seqs, ElementsAre(1, 3, 50, 51));
    AllocationEvent first = AllocEvent("alloc-1", std::nullopt, AllocationState::kPending, kT0);
    first.seq = 1;
    EXPECT_EQ((*events)[0], first);
    EXPECT_EQ((*events)[2], released);
    EXPECT_EQ((*events)[3].from_state, AllocationState::kReleasing);
    EXPECT_EQ((*events)[3].to_state, AllocationState::kReleased);
    EXPECT_THAT(store_->ListAllocationEvents("alloc-2").value(), SizeIs(1));
    EXPECT_THAT(store_->ListAllocationEvents("alloc-none").value(), SizeIs(0));
    auto snap = store_->LoadAll();
    ASSERT_TRUE(snap.ok()) << snap.status();
    EXPECT_EQ(snap->next_allocation_event_seq, 52);
    EXPECT_EQ(snap->next_event_seq, 2);  // task events count on their own
  };
  check();
  Reopen();
  check();

  const absl::Status missing = store_->Commit(Batch().AppendAllocationEvent(
      AllocEvent("alloc-9", std::nullopt, AllocationState::kPending, 1)));
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(missing), HasSubstr("mutation 1 (append event of allocation \"alloc-9\")"));
  EXPECT_THAT(Message(missing), HasSubstr("(the allocation does not exist)"));
  EXPECT_EQ(store_->Commit(Batch().AppendAllocationEvent(released)).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(SqliteAllocationTest, ListAllocationsFiltersNewestFirst) {
  Batch b;
  for (int i = 0; i < 12; ++i) {
    const AllocationState state = i % 3 == 0   ? AllocationState::kPending
                                  : i % 3 == 1 ? AllocationState::kActive
                                               : AllocationState::kExpired;
    b.UpsertAllocation(
        MakeAllocation("alloc-" + std::to_string(100 + i), state, i % 2 ? "job-odd" : "job-even"));
  }
  ASSERT_TRUE(store_->Commit(std::move(b)).ok());

  EXPECT_THAT(Ids(store_->ListAllocations(Filter(std::nullopt, "", 3))),
              ElementsAre("alloc-111", "alloc-110", "alloc-109"));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(AllocationState::kActive))),
              ElementsAre("alloc-110", "alloc-107", "alloc-104", "alloc-101"));
  EXPECT_THAT(
      Ids(store_->ListAllocations(Filter(std::nullopt, "job-odd"))),
      ElementsAre("alloc-111", "alloc-109", "alloc-107", "alloc-105", "alloc-103", "alloc-101"));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(AllocationState::kActive, "job-odd"))),
              ElementsAre("alloc-107", "alloc-101"));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(AllocationState::kExpired, "job-even", 1))),
              ElementsAre("alloc-108"));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(AllocationState::kReleasing))), SizeIs(0));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(std::nullopt, "job-none"))), SizeIs(0));
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(std::nullopt))), SizeIs(12));

  const absl::Status too_many =
      store_->ListAllocations(Filter(std::nullopt, "", kMaxListLimit + 1)).status();
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(too_many), HasSubstr("limit: 10001 is above the limit of 10000"));

  // Without a limit: the default.
  Batch more;
  for (int i = 0; i < 100; ++i) {
    more.UpsertAllocation(MakeAllocation("alloc-" + std::to_string(200 + i)));
  }
  ASSERT_TRUE(store_->Commit(std::move(more)).ok());
  const std::vector<std::string> page = Ids(store_->ListAllocations({}));
  ASSERT_THAT(page, SizeIs(kDefaultListLimit));
  EXPECT_EQ(page.front(), "alloc-299");
  EXPECT_THAT(Ids(store_->ListAllocations(Filter(std::nullopt, "", kMaxListLimit))), SizeIs(112));
}

TEST_F(SqliteAllocationTest, ServiceInstancesUpsertDeleteAndLoad) {
  ASSERT_TRUE(store_
                  ->Commit(Batch()
                               .InsertTask(MakeTask("svc-redis", TaskState::kRunning, "w-1"))
                               .InsertTask(MakeTask("svc-echo", TaskState::kRunning, "w-1"))
                               .InsertTask(MakeTask("svc-echo-2"))
                               .UpsertServiceInstance(Instance("redis", "svc-redis", 9001))
                               .UpsertServiceInstance(Instance("echo", "svc-echo", 9000)))
                  .ok());
  EXPECT_THAT(
      store_->LoadAll()->service_instances,
      ElementsAre(Instance("echo", "svc-echo", 9000), Instance("redis", "svc-redis", 9001)));

  // Replaced whole: another task, port and idle time.
  ServiceInstanceRecord echo = Instance("echo", "svc-echo-2", 9005);
  echo.idle_since = kT0 + 600;
  ASSERT_TRUE(store_->Commit(Batch().UpsertServiceInstance(echo)).ok());
  Reopen();
  EXPECT_THAT(store_->LoadAll()->service_instances,
              ElementsAre(echo, Instance("redis", "svc-redis", 9001)));

  absl::Status s = store_->Commit(Batch().UpsertServiceInstance(Instance("web", "t-none", 9002)));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(s), HasSubstr("mutation 1 (upsert instance of service \"web\" (task "
                                    "\"t-none\")): FOREIGN KEY constraint failed (the task does "
                                    "not exist)"));

  ASSERT_TRUE(store_->Commit(Batch().DeleteServiceInstance("redis")).ok());
  EXPECT_THAT(store_->LoadAll()->service_instances, ElementsAre(echo));
  s = store_->Commit(Batch().DeleteServiceInstance("redis"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(s),
              HasSubstr("mutation 1 (delete instance of service \"redis\"): no such service "
                        "instance"));

  // An instance goes with the task that runs it.
  ASSERT_TRUE(store_->Commit(Batch().DeleteTask("svc-echo-2")).ok());
  EXPECT_THAT(store_->LoadAll()->service_instances, SizeIs(0));
}

TEST_F(SqliteAllocationTest, TaskAllocationIdRoundTrips) {
  TaskRecord in_alloc = MakeTask("t-in");
  in_alloc.allocation_id = "alloc-1";
  const TaskRecord general = MakeTask("t-general");
  ASSERT_TRUE(store_
                  ->Commit(Batch()
                               .UpsertWorker(MakeWorker("w-1"))
                               .UpsertAllocation(MakeAllocation("alloc-1"))
                               .InsertTask(in_alloc)
                               .InsertTask(general))
                  .ok());
  EXPECT_EQ(store_->GetTask("t-in").value(), in_alloc);
  EXPECT_EQ(store_->GetTask("t-general").value().allocation_id, "");

  TaskRecord placed = MakeTask("t-in", TaskState::kScheduled, "w-1");
  placed.allocation_id = "alloc-1";
  ASSERT_TRUE(store_->Commit(Batch().UpdateTask(placed)).ok());
  Reopen();
  EXPECT_EQ(store_->GetTask("t-in").value(), placed);
  EXPECT_THAT(store_->LoadAll()->tasks, ElementsAre(placed, general));
  auto listed = store_->ListTasks(TaskFilter());
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, ElementsAre(placed, general));
}

TEST_F(SqliteAllocationTest, ABatchWithAnEventOfAMissingAllocationChangesNothing) {
  Batch b;
  b.InsertTask(MakeTask("svc-echo", TaskState::kPending))
      .UpsertAllocation(MakeAllocation("alloc-1"))
      .AppendAllocationEvent(AllocEvent("alloc-1", std::nullopt, AllocationState::kActive, kT0))
      .UpsertServiceInstance(Instance("echo", "svc-echo", 9000))
      .AppendAllocationEvent(
          AllocEvent("alloc-missing", std::nullopt, AllocationState::kPending, kT0));
  const absl::Status s = store_->Commit(std::move(b));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(s), HasSubstr("mutation 5 (append event of allocation \"alloc-missing\"): "
                                    "FOREIGN KEY constraint failed (the allocation does not "
                                    "exist)"));
  EXPECT_EQ(store_->GetAllocation("alloc-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTask("svc-echo").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store_->ListAllocationEvents("alloc-1").value(), SizeIs(0));
  auto snap = store_->LoadAll();
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_THAT(snap->allocations, SizeIs(0));
  EXPECT_THAT(snap->service_instances, SizeIs(0));
  EXPECT_EQ(snap->next_allocation_event_seq, 1);  // the numbers taken went with the batch
  EXPECT_EQ(store_->Stats().transactions, 0u);

  // An invalid record is refused before the database.
  AllocationRecord bad = MakeAllocation("alloc-2");
  bad.workers = 0;
  const absl::Status invalid = store_->Commit(Batch().UpsertAllocation(bad));
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(invalid), HasSubstr("mutation 1 (upsert allocation \"alloc-2\"): "
                                          "allocation.workers: 0 is below 1"));
}

TEST_F(SqliteAllocationTest, BadRowsAreErrorsNamingTableRowAndColumn) {
  ASSERT_TRUE(
      store_
          ->Commit(Batch()
                       .InsertTask(MakeTask("svc-echo"))
                       .UpsertAllocation(MakeAllocation("alloc-1"))
                       .UpsertAllocation(MakeAllocation("alloc-done", AllocationState::kReleased))
                       .AppendAllocationEvent(
                           AllocEvent("alloc-1", std::nullopt, AllocationState::kPending, 1))
                       .UpsertServiceInstance(Instance("echo", "svc-echo", 9000)))
          .ok());
  store_.reset();
  std::filesystem::copy_file(path_, path_ + ".orig");

  enum Read { kAllocation, kFinalAllocation, kEvents, kSnapshot, kTask };
  struct Case {
    std::string sql;
    Read read;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"UPDATE ALLOCATIONS SET state = 'bogus' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"ALLOCATIONS row 1 (allocation_id \"alloc-1\"), column state: unknown allocation state "
        "\"bogus\""}},
      // A final row with a damaged state is found at start-up too, not skipped.
      {"UPDATE ALLOCATIONS SET state = 'gone' WHERE allocation_id = 'alloc-done'",
       kFinalAllocation,
       {"ALLOCATIONS row 2 (allocation_id \"alloc-done\"), column state: unknown allocation "
        "state \"gone\""}},
      {"UPDATE ALLOCATIONS SET priority = 'urgent' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column priority: unknown allocation priority \"urgent\""}},
      {"UPDATE ALLOCATIONS SET workers = 0 WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column workers: 0 is below 1"}},
      {"UPDATE ALLOCATIONS SET workers = 2 WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column slots: 3 slots is more than workers (2)"}},
      {"UPDATE ALLOCATIONS SET per_cpu = -5 WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column per_cpu: -5 is negative"}},
      {"UPDATE ALLOCATIONS SET per_extras = 'fpga' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column per_extras: \"fpga\" is not name=count"}},
      {"UPDATE ALLOCATIONS SET slots = 'w-1|1|2|3' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column slots: slots[0]: \"w-1|1|2|3\" is not worker_id|cpu|memory|storage|gpu|extras"}},
      {"UPDATE ALLOCATIONS SET slots = '|1|2|3|4|' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column slots: slots[0].worker_id: must not be empty"}},
      {"UPDATE ALLOCATIONS SET slots = 'w|1|-2|3|4|' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column slots: slots[0].resources.memory: -2 is negative"}},
      {"UPDATE ALLOCATIONS SET slots = x'00ff' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column slots: expected text, found a blob"}},
      {"UPDATE ALLOCATIONS SET ttl_ms = 'long' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column ttl_ms: expected an integer, found text \"long\""}},
      {"UPDATE ALLOCATIONS SET services = 'a,,b' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column services: item 2 of \"a,,b\" is empty"}},
      {"UPDATE ALLOCATIONS SET metadata = 'k=%zz' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column metadata: malformed escape"}},
      {"UPDATE ALLOCATIONS SET metadata = '=v' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column metadata: a key is empty"}},
      {"UPDATE ALLOCATIONS SET wait = 2 WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column wait: 2 is above the limit of 1"}},
      {"UPDATE ALLOCATIONS SET expires_at = -1 WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column expires_at: -1 is negative"}},
      {"UPDATE ALLOCATIONS SET job_id = '' WHERE allocation_id = 'alloc-1'",
       kAllocation,
       {"column job_id: must not be empty"}},
      {"UPDATE ALLOCATION_EVENTS SET to_state = 'x'",
       kEvents,
       {"ALLOCATION_EVENTS row 1, column to_state: unknown allocation state \"x\""}},
      {"UPDATE ALLOCATION_EVENTS SET from_state = 'running'",
       kEvents,
       {"column from_state: unknown allocation state \"running\""}},
      {"UPDATE SERVICE_INSTANCES SET port = 0",
       kSnapshot,
       {"SERVICE_INSTANCES row 1 (service \"echo\"), column port: 0 is below 1"}},
      {"UPDATE SERVICE_INSTANCES SET port = 70000", kSnapshot, {"column port: 70000 is above"}},
      {"UPDATE TASKS SET allocation_id = x'0a'",
       kTask,
       {"TASKS row 1 (task_id \"svc-echo\"), column allocation_id: expected text, found a "
        "blob"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    RawExec(c.sql);
    auto store = OpenStore("sqlite:" + path_);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<absl::Status> reads = {(*store)->LoadAll().status()};
    switch (c.read) {
      case kAllocation:
        reads.push_back((*store)->GetAllocation("alloc-1").status());
        reads.push_back((*store)->ListAllocations({}).status());
        break;
      case kFinalAllocation:
        reads.push_back((*store)->GetAllocation("alloc-done").status());
        reads.push_back((*store)->ListAllocations({}).status());
        break;
      case kEvents:
        reads = {(*store)->ListAllocationEvents("alloc-1").status()};
        break;
      case kSnapshot:
        break;
      case kTask:
        reads.push_back((*store)->GetTask("svc-echo").status());
        break;
    }
    for (const absl::Status& s : reads) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      for (const std::string& e : c.expected) EXPECT_THAT(Message(s), HasSubstr(e));
    }
    store->reset();
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
    std::filesystem::copy_file(path_ + ".orig", path_,
                               std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace cloudai::store
