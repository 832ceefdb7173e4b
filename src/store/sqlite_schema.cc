#include "store/sqlite_schema.h"

#include <string>

#include "common/strings.h"

namespace cloudai::store {
namespace {

// Version 1. Resources are integers in fixed units (cpu, gpu: thousandths; memory,
// storage: MiB); extras and env are small encoded text columns (store/text_codec.h);
// times are Unix milliseconds; every table keeps an integer row id so that listings
// follow insertion order and rows have a number to name in errors.
const Migration kMigrations[] = {
    {1,
     "tables named after seed 001's collections, plus TASK_EVENTS and COUNTERS",
     {
         R"sql(CREATE TABLE USERS (
  user_seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL))sql",
         "CREATE UNIQUE INDEX USERS_user_id ON USERS(user_id)",

         R"sql(CREATE TABLE WORKER_REGISTRY (
  worker_seq INTEGER PRIMARY KEY,
  worker_id TEXT NOT NULL,
  worker_ip TEXT NOT NULL,
  total_cpu INTEGER NOT NULL,
  total_memory INTEGER NOT NULL,
  total_storage INTEGER NOT NULL,
  total_gpu INTEGER NOT NULL,
  total_extras TEXT NOT NULL,
  is_active INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  registered_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  driver TEXT NOT NULL,
  hostname TEXT NOT NULL))sql",
         "CREATE UNIQUE INDEX WORKER_REGISTRY_worker_id ON WORKER_REGISTRY(worker_id)",
         "CREATE INDEX WORKER_REGISTRY_is_active ON WORKER_REGISTRY(is_active)",
         "CREATE INDEX WORKER_REGISTRY_worker_ip ON WORKER_REGISTRY(worker_ip)",
         "CREATE INDEX WORKER_REGISTRY_last_heartbeat ON WORKER_REGISTRY(last_heartbeat)",

         R"sql(CREATE TABLE TASKS (
  task_seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  docker_image TEXT NOT NULL,
  command TEXT NOT NULL,
  req_cpu INTEGER NOT NULL,
  req_memory INTEGER NOT NULL,
  req_storage INTEGER NOT NULL,
  req_gpu INTEGER NOT NULL,
  req_extras TEXT NOT NULL,
  priority INTEGER NOT NULL,
  max_retries INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  status TEXT NOT NULL,
  target_worker_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  scheduled_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  exit_code INTEGER,
  error TEXT NOT NULL,
  env TEXT NOT NULL,
  timeout_ms INTEGER NOT NULL))sql",
         "CREATE UNIQUE INDEX TASKS_task_id ON TASKS(task_id)",
         "CREATE INDEX TASKS_user_id ON TASKS(user_id)",
         "CREATE INDEX TASKS_status ON TASKS(status)",
         "CREATE INDEX TASKS_worker_id ON TASKS(worker_id)",
         // The tasks a restarted master loads, in submission order: only live rows.
         "CREATE INDEX TASKS_live ON TASKS(task_seq) "
         "WHERE status IN ('pending', 'scheduled', 'running')",

         R"sql(CREATE TABLE ASSIGNMENTS (
  ass_seq INTEGER PRIMARY KEY,
  ass_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES TASKS(task_id) ON DELETE CASCADE,
  worker_id TEXT NOT NULL REFERENCES WORKER_REGISTRY(worker_id),
  assigned_at INTEGER NOT NULL))sql",
         "CREATE UNIQUE INDEX ASSIGNMENTS_ass_id ON ASSIGNMENTS(ass_id)",
         "CREATE UNIQUE INDEX ASSIGNMENTS_task_id ON ASSIGNMENTS(task_id)",
         "CREATE INDEX ASSIGNMENTS_worker_id ON ASSIGNMENTS(worker_id)",

         R"sql(CREATE TABLE RESULTS (
  result_seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES TASKS(task_id) ON DELETE CASCADE,
  worker_id TEXT NOT NULL,
  status TEXT NOT NULL,
  logs BLOB NOT NULL,
  logs_truncated INTEGER NOT NULL,
  result_location TEXT NOT NULL,
  exit_code INTEGER,
  completed_at INTEGER NOT NULL))sql",
         "CREATE UNIQUE INDEX RESULTS_task_id ON RESULTS(task_id)",
         "CREATE INDEX RESULTS_worker_id ON RESULTS(worker_id)",
         "CREATE INDEX RESULTS_status ON RESULTS(status)",

         R"sql(CREATE TABLE TASK_EVENTS (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL REFERENCES TASKS(task_id) ON DELETE CASCADE,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  at INTEGER NOT NULL,
  detail TEXT NOT NULL))sql",
         "CREATE INDEX TASK_EVENTS_task_id ON TASK_EVENTS(task_id)",

         R"sql(CREATE TABLE COUNTERS (
  name TEXT NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL) WITHOUT ROWID)sql",
     }},

    // Version 2: allocations (docs/allocations.md). An allocation's per-slot size is
    // four quantity columns and an extras column, as a task's request; its reserved slots,
    // services and metadata are encoded text columns (store/text_codec.h); state and
    // priority are stored by name. Tasks gain the allocation they run in ('' for the
    // general pool, which every task of version 1 is).
    {2,
     "allocations: ALLOCATIONS, ALLOCATION_EVENTS, SERVICE_INSTANCES, TASKS.allocation_id",
     {
         "ALTER TABLE TASKS ADD COLUMN allocation_id TEXT NOT NULL DEFAULT ''",
         "CREATE INDEX TASKS_allocation_id ON TASKS(allocation_id)",

         R"sql(CREATE TABLE ALLOCATIONS (
  allocation_seq INTEGER PRIMARY KEY,
  allocation_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  state TEXT NOT NULL,
  priority TEXT NOT NULL,
  workers INTEGER NOT NULL,
  per_cpu INTEGER NOT NULL,
  per_memory INTEGER NOT NULL,
  per_storage INTEGER NOT NULL,
  per_gpu INTEGER NOT NULL,
  per_extras TEXT NOT NULL,
  slots TEXT NOT NULL,
  services TEXT NOT NULL,
  metadata TEXT NOT NULL,
  wait INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  reason TEXT NOT NULL))sql",
         "CREATE UNIQUE INDEX ALLOCATIONS_allocation_id ON ALLOCATIONS(allocation_id)",
         "CREATE INDEX ALLOCATIONS_state ON ALLOCATIONS(state)",
         "CREATE INDEX ALLOCATIONS_job_id ON ALLOCATIONS(job_id)",
         // The allocations a restarted master loads, oldest first: only live rows.
         "CREATE INDEX ALLOCATIONS_live ON ALLOCATIONS(allocation_seq) "
         "WHERE state IN ('pending', 'active', 'releasing')",

         R"sql(CREATE TABLE ALLOCATION_EVENTS (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  allocation_id TEXT NOT NULL REFERENCES ALLOCATIONS(allocation_id) ON DELETE CASCADE,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  at INTEGER NOT NULL,
  detail TEXT NOT NULL))sql",
         "CREATE INDEX ALLOCATION_EVENTS_allocation_id ON ALLOCATION_EVENTS(allocation_id)",

         R"sql(CREATE TABLE SERVICE_INSTANCES (
  instance_seq INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES TASKS(task_id) ON DELETE CASCADE,
  port INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  idle_since INTEGER NOT NULL))sql",
         "CREATE UNIQUE INDEX SERVICE_INSTANCES_service ON SERVICE_INSTANCES(service)",
         "CREATE INDEX SERVICE_INSTANCES_task_id ON SERVICE_INSTANCES(task_id)",
     }},
};

constexpr std::string_view kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS SCHEMA_VERSION (version INTEGER PRIMARY KEY, "
    "description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

absl::StatusOr<int64_t> QueryInt(SqliteConnection& conn, const std::string& sql) {
  absl::StatusOr<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  const int rc = stmt->Step();
  if (rc != SQLITE_ROW) return conn.Error(rc, sql);
  if (sqlite3_column_type(stmt->get(), 0) == SQLITE_NULL) return 0;
  if (sqlite3_column_type(stmt->get(), 0) != SQLITE_INTEGER) {
    return absl::DataLossError(StrCat(sql, ": expected an integer"));
  }
  return sqlite3_column_int64(stmt->get(), 0);
}

absl::Status ApplyMigrations(SqliteConnection& conn, std::span<const Migration> migrations,
                             int current, int64_t now_ms) {
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    for (std::string_view sql : m.statements) {
      if (absl::Status s = conn.ExecUncached(std::string(sql)); !s.ok()) {
        return absl::Status(s.code(), StrCat("schema migration ", m.version, " (", m.description,
                                             ") failed: ", s.message()));
      }
    }
    absl::StatusOr<Statement> record = conn.Prepare(
        "INSERT INTO SCHEMA_VERSION (version, description, applied_at) VALUES (?1, ?2, ?3)");
    if (!record.ok()) return record.status();
    record->BindInt(1, m.version);
    record->BindText(2, m.description);
    record->BindInt(3, now_ms);
    if (const int rc = record->Step(); rc != SQLITE_DONE) {
      return conn.Error(rc, "cannot record the schema version");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

absl::StatusOr<int> SqliteSchemaVersion(SqliteConnection& conn) {
  absl::StatusOr<int64_t> has_table = QueryInt(
      conn, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'SCHEMA_VERSION'");
  if (!has_table.ok()) return has_table.status();
  if (*has_table == 0) return 0;
  absl::StatusOr<int64_t> version = QueryInt(conn, "SELECT max(version) FROM SCHEMA_VERSION");
  if (!version.ok()) return version.status();
  if (*version < 0 || *version > 1'000'000) {
    return absl::DataLossError(
        StrCat("SCHEMA_VERSION: version ", *version, " is not a schema version"));
  }
  return static_cast<int>(*version);
}

absl::StatusOr<int> MigrateSqlite(SqliteConnection& conn, std::span<const Migration> migrations,
                                  int64_t now_ms) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(
          StrCat("schema migration ", i + 1, " is numbered ", migrations[i].version));
    }
  }
  const int latest = static_cast<int>(migrations.size());

  if (absl::Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) {
    return absl::Status(s.code(), StrCat("cannot migrate ", conn.path(), ": ", s.message()));
  }
  auto fail = [&conn](absl::Status s) {
    (void)conn.Exec("ROLLBACK");
    return s;
  };
  absl::StatusOr<int> current = SqliteSchemaVersion(conn);
  if (!current.ok()) return fail(current.status());
  if (*current == 0) {
    absl::StatusOr<int64_t> tables = QueryInt(
        conn,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!tables.ok()) return fail(tables.status());
    if (*tables > 0) {
      return fail(absl::FailedPreconditionError(StrCat("database ", conn.path(),
                                                       " is not a CloudAI store: it holds ",
                                                       *tables, " tables but no SCHEMA_VERSION")));
    }
  }
  if (*current > latest) {
    return fail(absl::FailedPreconditionError(
        StrCat("database ", conn.path(), " has schema version ", *current,
               ", newer than the version ", latest,
               " this build of CloudAI knows; run a newer "
               "cloudai-master, or restore a backup made by this version")));
  }
  if (*current == latest) {
    (void)conn.Exec("ROLLBACK");  // nothing to do
    return *current;
  }
  if (absl::Status s = conn.ExecUncached(std::string(kCreateSchemaVersion)); !s.ok()) {
    return fail(s);
  }
  if (absl::Status s = ApplyMigrations(conn, migrations, *current, now_ms); !s.ok()) {
    return fail(s);
  }
  if (absl::Status s = conn.Exec("COMMIT"); !s.ok()) return fail(s);
  return *current;
}

}  // namespace cloudai::store
