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
       {"USERS", "WORKER_REGISTRY", "TASKS", "ASSIGNMENTS", "RESULTS", "TASK_EVENTS", "COUNTERS"}) {
    EXPECT_EQ(RawInt(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name = '") +
                     table + "'"),
              1)
        << table;
  }
  for (const char* index :
       {"WORKER_REGISTRY_worker_id", "WORKER_REGISTRY_is_active", "TASKS_task_id", "TASKS_user_id",
        "TASKS_status", "ASSIGNMENTS_task_id", "ASSIGNMENTS_worker_id", "RESULTS_task_id",
        "RESULTS_worker_id", "RESULTS_status", "TASK_EVENTS_task_id"}) {
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
  list.push_back(
      {base + 2,
       "add a table",
       {"CREATE TABLE ALLOCATIONS (id TEXT)", "CREATE INDEX ALLOCATIONS_id ON ALLOCATIONS(id)"}});
  SqliteStoreOptions options;
  options.migrations = list;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), base + 2);
  store->reset();
  EXPECT_EQ(RawInt("SELECT max(version) FROM SCHEMA_VERSION"), base + 2);
  EXPECT_EQ(RawInt("SELECT count(*) FROM pragma_table_info('TASKS') WHERE name = 'note'"), 1);
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name = 'ALLOCATIONS'"), 1);
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
  EXPECT_THAT(Message(store.status()),
              HasSubstr("has schema version 99, newer than the version 1"));
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

}  // namespace
}  // namespace cloudai::store
