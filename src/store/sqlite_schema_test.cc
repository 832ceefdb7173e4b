#include "store/sqlite_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "store/sqlite_store.h"

namespace cloudai::store {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

class SqliteSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/cloudai_schema_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `sql` on the file directly, as an operator with the sqlite3 shell would.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  std::string RawText(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteSchemaTest, AnEmptyFileIsMigratedToTheLatestVersion) {
  std::ofstream(path_).close();  // zero bytes
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), static_cast<int>(SqliteMigrations().size()));
  store->reset();
  EXPECT_EQ(RawInt("SELECT max(version) FROM SCHEMA_VERSION"),
            static_cast<int64_t>(SqliteMigrations().size()));
  EXPECT_GT(RawInt("SELECT applied_at FROM SCHEMA_VERSION WHERE version = 1"), 1'600'000'000'000);
  for (const char* table :
       {"USERS", "WORKER_REGISTRY", "TASKS", "ASSIGNMENTS", "RESULTS", "TASK_EVENTS", "COUNTERS",
        "ALLOCATIONS", "ALLOCATION_EVENTS", "SERVICE_INSTANCES"}) {
    EXPECT_EQ(RawInt(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name = '") +
                     table + "'"),
              1)
        << table;
  }
  for (const char* index :
       {"WORKER_REGISTRY_worker_id", "WORKER_REGISTRY_is_active", "TASKS_task_id", "TASKS_user_id",
        "TASKS_status", "ASSIGNMENTS_task_id", "ASSIGNMENTS_worker_id", "RESULTS_task_id",
        "RESULTS_worker_id", "RESULTS_status", "TASK_EVENTS_task_id", "TASKS_allocation_id",
        "ALLOCATIONS_allocation_id", "ALLOCATIONS_state", "ALLOCATIONS_job_id", "ALLOCATIONS_live",
        "ALLOCATION_EVENTS_allocation_id", "SERVICE_INSTANCES_service",
        "SERVICE_INSTANCES_task_id"}) {
    EXPECT_EQ(RawInt(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                 "name = '") +
                     index + "'"),
              1)
        << index;
  }
  EXPECT_EQ(RawText("PRAGMA journal_mode"), "wal");
  // Opening again applies nothing.
  auto again = SqliteStore::Open(path_);
  ASSERT_TRUE(again.ok()) << again.status();
  again->reset();
  EXPECT_EQ(RawInt("SELECT count(*) FROM SCHEMA_VERSION"),
            static_cast<int64_t>(SqliteMigrations().size()));
}

TEST_F(SqliteSchemaTest, LaterMigrationsApplyInOrderOnce) {
  ASSERT_TRUE(SqliteStore::Open(path_).ok());
  std::vector<Migration> list(SqliteMigrations().begin(), SqliteMigrations().end());
  const int base = static_cast<int>(list.size());
  list.push_back(
      {base + 1, "add a column", {"ALTER TABLE TASKS ADD COLUMN note TEXT NOT NULL DEFAULT ''"}});
  list.push_back({base + 2,
                  "add a table",
                  {"CREATE TABLE QUOTAS (id TEXT)", "CREATE INDEX QUOTAS_id ON QUOTAS(id)"}});
  SqliteStoreOptions options;
  options.migrations = list;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), base + 2);
  store->reset();
  EXPECT_EQ(RawInt("SELECT max(version) FROM SCHEMA_VERSION"), base + 2);
  EXPECT_EQ(RawInt("SELECT count(*) FROM pragma_table_info('TASKS') WHERE name = 'note'"), 1);
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name = 'QUOTAS'"), 1);
}

TEST_F(SqliteSchemaTest, AFailingMigrationChangesNothing) {
  ASSERT_TRUE(SqliteStore::Open(path_).ok());
  std::vector<Migration> list(SqliteMigrations().begin(), SqliteMigrations().end());
  const int base = static_cast<int>(list.size());
  list.push_back({base + 1, "good", {"CREATE TABLE EXTRA_ONE (x INTEGER)"}});
  list.push_back({base + 2, "broken", {"CREATE TABLE EXTRA_TWO (y INTEGER)", "THIS IS NOT SQL"}});
  SqliteStoreOptions options;
  options.migrations = list;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(Message(store.status()),
              HasSubstr("schema migration " + std::to_string(base + 2) + " (broken) failed"));
  EXPECT_EQ(RawInt("SELECT max(version) FROM SCHEMA_VERSION"), base);
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name LIKE 'EXTRA_%'"), 0);
}

TEST_F(SqliteSchemaTest, ANewerDatabaseIsRefusedUntouched) {
  ASSERT_TRUE(SqliteStore::Open(path_).ok());
  RawExec("INSERT INTO SCHEMA_VERSION (version, description, applied_at) VALUES (99, 'future', 1)");
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(store.status()), HasSubstr("has schema version 99, newer than the version " +
                                                 std::to_string(SqliteMigrations().size())));
  EXPECT_THAT(Message(store.status()), HasSubstr(path_));
  EXPECT_EQ(RawInt("SELECT max(version) FROM SCHEMA_VERSION"), 99);
}

TEST_F(SqliteSchemaTest, AForeignDatabaseIsRefused) {
  RawExec("CREATE TABLE something_else (x INTEGER)");
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(Message(store.status()), HasSubstr("is not a CloudAI store"));
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name = 'TASKS'"), 0);
}

TEST_F(SqliteSchemaTest, AFileThatIsNotADatabaseIsRefused) {
  std::ofstream(path_) << std::string(8192, 'x');
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(store.status()), HasSubstr("cannot open database " + path_));
  EXPECT_THAT(Message(store.status()), HasSubstr("not a database"));
}

TEST_F(SqliteSchemaTest, MisnumberedMigrationsAreABug) {
  std::vector<Migration> list = {{2, "skips one", {"SELECT 1"}}};
  SqliteStoreOptions options;
  options.migrations = list;
  auto store = SqliteStore::Open(path_, options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInternal);
}

TEST_F(SqliteSchemaTest, AVersionOneDatabaseMigratesKeepingItsTasks) {
  // A database as the first release wrote it: version 1 only, one task, one event.
  {
    SqliteStoreOptions v1;
    v1.migrations = SqliteMigrations().first(1);
    auto store = SqliteStore::Open(path_, v1);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), 1);
  }
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name = 'ALLOCATIONS'"), 0);
  RawExec(
      "INSERT INTO TASKS (task_id, user_id, docker_image, command, req_cpu, req_memory, "
      "req_storage, req_gpu, req_extras, priority, max_retries, retries, status, "
      "target_worker_id, worker_id, created_at, scheduled_at, started_at, completed_at, "
      "exit_code, error, env, timeout_ms) VALUES ('t-old', 'alice', 'busybox', 'true', 1500, "
      "512, 0, 0, 'fpga=1', 3, 1, 0, 'pending', '', '', 1700000000000, 0, 0, 0, NULL, '', "
      "'A=1', 60000)");
  RawExec(
      "INSERT INTO TASK_EVENTS (task_id, from_state, to_state, at, detail) "
      "VALUES ('t-old', '', 'pending', 1700000000000, 'submitted')");

  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), static_cast<int>(SqliteMigrations().size()));
  TaskRecord expected;
  expected.task_id = "t-old";
  expected.user_id = "alice";
  expected.docker_image = "busybox";
  expected.command = "true";
  expected.request = Resources::Of(1500, 512);
  expected.request.SetExtra("fpga", 1);
  expected.priority = 3;
  expected.max_retries = 1;
  expected.created_at = 1'700'000'000'000;
  expected.env = {{"A", "1"}};
  expected.timeout_ms = 60'000;
  auto task = (*store)->GetTask("t-old");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(*task, expected);
  EXPECT_EQ(task->allocation_id, "");
  auto snap = (*store)->LoadAll();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->tasks.size(), 1u);
  EXPECT_EQ(snap->tasks[0], expected);
  EXPECT_EQ(snap->next_event_seq, 2);
  EXPECT_TRUE(snap->allocations.empty());
  EXPECT_TRUE(snap->service_instances.empty());
  EXPECT_EQ(snap->next_allocation_event_seq, 1);

  // The migrated database takes the new records.
  AllocationRecord alloc;
  alloc.allocation_id = "alloc-1";
  alloc.job_id = "job";
  expected.allocation_id = "alloc-1";
  ASSERT_TRUE((*store)
                  ->Commit(Batch()
                               .UpsertAllocation(alloc)
                               .AppendAllocationEvent(
                                   {0, "alloc-1", std::nullopt, AllocationState::kPending, 1, ""})
                               .UpdateTask(expected))
                  .ok());
  EXPECT_EQ((*store)->GetTask("t-old").value().allocation_id, "alloc-1");
  EXPECT_EQ((*store)->GetAllocation("alloc-1").value(), alloc);
  store->reset();

  EXPECT_EQ(RawInt("SELECT count(*) FROM SCHEMA_VERSION"),
            static_cast<int64_t>(SqliteMigrations().size()));
  EXPECT_EQ(RawText("SELECT description FROM SCHEMA_VERSION WHERE version = 2"),
            std::string(SqliteMigrations()[1].description));
  EXPECT_EQ(RawInt("SELECT count(*) FROM pragma_table_info('TASKS') WHERE name = "
                   "'allocation_id'"),
            1);
}

}  // namespace
}  // namespace cloudai::store
