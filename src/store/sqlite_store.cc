#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "store/sqlite_mutations.h"
#include "store/sqlite_rows.h"

namespace cloudai::store {
namespace {

constexpr std::string_view kLiveStates = "('pending', 'scheduled', 'running')";
constexpr std::string_view kLiveAllocationStates = "('pending', 'active', 'releasing')";

absl::Status ClosedError() { return absl::FailedPreconditionError("store is closed"); }

absl::Status Annotate(const absl::Status& s, std::string_view context) {
  return absl::Status(s.code(), StrCat(context, s.message()));
}

// Runs the cached statement `sql`, bound by `bind`, and reads every row with `read`.
template <typename T, typename BindFn>
absl::Status ReadRows(SqliteConnection& conn, const std::string& sql, BindFn bind,
                      absl::StatusOr<T> (*read)(sqlite3_stmt*), std::vector<T>* out) {
  absl::StatusOr<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  bind(*stmt);
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    absl::StatusOr<T> row = read(stmt->get());
    if (!row.ok()) return row.status();
    out->push_back(*std::move(row));
  }
  if (rc != SQLITE_DONE) return conn.Error(rc, "read failed");
  return absl::OkStatus();
}

// The single row `sql` selects, or NOT_FOUND with `missing`.
template <typename T>
absl::StatusOr<T> ReadOne(SqliteConnection& conn, const std::string& sql, std::string_view key,
                          absl::StatusOr<T> (*read)(sqlite3_stmt*), std::string missing) {
  absl::StatusOr<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, key);
  const int rc = stmt->Step();
  if (rc == SQLITE_ROW) return read(stmt->get());
  if (rc == SQLITE_DONE) return absl::NotFoundError(std::move(missing));
  return conn.Error(rc, "read failed");
}

std::string Quoted(std::string_view s) { return StrCat("\"", s.substr(0, kMaxIdLength), "\""); }

absl::Status ReadCounters(SqliteConnection& conn, std::map<std::string, int64_t>* counters) {
  absl::StatusOr<Statement> stmt = conn.Prepare("SELECT name, value FROM COUNTERS");
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    sqlite3_stmt* s = stmt->get();
    if (sqlite3_column_type(s, 0) != SQLITE_TEXT || sqlite3_column_type(s, 1) != SQLITE_INTEGER) {
      return absl::DataLossError("COUNTERS: a row's name is not text or its value not an integer");
    }
    const std::string name(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                           static_cast<size_t>(sqlite3_column_bytes(s, 0)));
    if (absl::Status v = ValidateId(name, "name"); !v.ok()) {
      return absl::DataLossError(StrCat("COUNTERS row ", Quoted(name), ", column ", v.message()));
    }
    (*counters)[name] = sqlite3_column_int64(s, 1);
  }
  if (rc != SQLITE_DONE) return conn.Error(rc, "read failed");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ReadCount(SqliteConnection& conn, const std::string& sql) {
  absl::StatusOr<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  const int rc = stmt->Step();
  if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
  return sqlite3_column_int64(stmt->get(), 0);
}

// One more than the highest seq `table` (an AUTOINCREMENT events table) ever used.
absl::StatusOr<int64_t> ReadNextEventSeq(SqliteConnection& conn, std::string_view table) {
  // AUTOINCREMENT remembers the highest seq ever used, even after its row is deleted.
  absl::StatusOr<Statement> stmt =
      conn.Prepare(StrCat("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '",
                          table, "'), 0), coalesce((SELECT max(seq) FROM ", table, "), 0))"));
  if (!stmt.ok()) return stmt.status();
  const int rc = stmt->Step();
  if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
  if (sqlite3_column_type(stmt->get(), 0) != SQLITE_INTEGER) {
    return absl::DataLossError(StrCat(table, ": the highest seq is not an integer"));
  }
  const int64_t max = sqlite3_column_int64(stmt->get(), 0);
  if (max < 0 || max == std::numeric_limits<int64_t>::max()) {
    return absl::DataLossError(StrCat(table, ": the highest seq ", max, " is out of range"));
  }
  return max + 1;
}

// Where CheckStates() looks: a table whose live rows LoadAll() reads through a partial
// index on a state column.
struct StateColumn {
  std::string_view table;
  std::string_view column;
  std::string_view columns;  // what `read` expects
  bool (*known)(std::string_view state);
  absl::Status (*read)(sqlite3_stmt* stmt);  // the row's decoding error
  std::string_view what;                     // "a task state"
};

// LoadAll() reads the live rows through the state index, so a row whose state is none
// of the known states would silently stay behind at a restart. This walks the distinct
// values of that index (one index seek each) and reports such a row the way its row
// decoder does.
absl::Status CheckStates(SqliteConnection& conn, const StateColumn& c) {
  const std::string row_with =
      StrCat("SELECT ", c.columns, " FROM ", c.table, " WHERE ", c.column, " = ?1 LIMIT 1");
  const std::string first_sql = StrCat("SELECT min(", c.column, ") FROM ", c.table);
  const std::string next_sql =
      StrCat("SELECT min(", c.column, ") FROM ", c.table, " WHERE ", c.column, " > ?1");
  absl::StatusOr<Statement> first = conn.Prepare(first_sql);
  if (!first.ok()) return first.status();
  int rc = first->Step();
  if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
  std::unique_ptr<sqlite3_value, void (*)(sqlite3_value*)> value(
      sqlite3_value_dup(sqlite3_column_value(first->get(), 0)), &sqlite3_value_free);
  while (value != nullptr && sqlite3_value_type(value.get()) != SQLITE_NULL) {
    const bool known =
        sqlite3_value_type(value.get()) == SQLITE_TEXT &&
        c.known(std::string_view(reinterpret_cast<const char*>(sqlite3_value_text(value.get())),
                                 static_cast<size_t>(sqlite3_value_bytes(value.get()))));
    if (!known) {
      absl::StatusOr<Statement> row = conn.Prepare(row_with);
      if (!row.ok()) return row.status();
      sqlite3_bind_value(row->get(), 1, value.get());
      rc = row->Step();
      if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
      if (absl::Status bad = c.read(row->get()); !bad.ok()) return bad;
      return absl::DataLossError(
          StrCat(c.table, ": a row has a ", c.column, " that is not ", c.what));
    }
    absl::StatusOr<Statement> next = conn.Prepare(next_sql);
    if (!next.ok()) return next.status();
    sqlite3_bind_value(next->get(), 1, value.get());
    rc = next->Step();
    if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
    value.reset(sqlite3_value_dup(sqlite3_column_value(next->get(), 0)));
  }
  return absl::OkStatus();
}

constexpr StateColumn kTaskStatus = {"TASKS",
                                     "status",
                                     kTaskColumns,
                                     [](std::string_view s) { return ParseTaskState(s).ok(); },
                                     [](sqlite3_stmt* stmt) { return ReadTaskRow(stmt).status(); },
                                     "a task state"};
constexpr StateColumn kAllocationState = {
    "ALLOCATIONS",
    "state",
    kAllocationColumns,
    [](std::string_view s) { return ParseAllocationState(s).ok(); },
    [](sqlite3_stmt* stmt) { return ReadAllocationRow(stmt).status(); },
    "an allocation state"};

// Takes the exclusive lock that makes this process the only CloudAI store on `path`:
// two masters writing one state file would each believe they own its tasks. The lock
// lives on a separate "<path>.lock" file (a second descriptor of the database itself
// would disturb SQLite's own locks) and goes with the process, however it ends.
absl::StatusOr<int> LockStateFile(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        StrCat("cannot open lock file ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(StrCat(
          "database ", path, " is in use by another CloudAI store (", lock_path, " is locked)"));
    }
    return absl::UnavailableError(StrCat("cannot lock ", lock_path, ": ", std::strerror(error)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(std::string_view path,
                                                               SqliteStoreOptions options) {
  const std::string file(path);
  if (file.empty()) return absl::InvalidArgumentError("SQLite store: empty path");
  const bool memory = file == ":memory:";
  int lock_fd = -1;
  if (!memory) {
    absl::StatusOr<int> lock = LockStateFile(file);
    if (!lock.ok()) return lock.status();
    lock_fd = *lock;
  }
  // Releases the lock if opening fails below.
  std::unique_ptr<int, void (*)(int*)> unlock_on_error(&lock_fd, [](int* fd) {
    if (*fd >= 0) ::close(*fd);
  });
  SqliteConnection::Options conn_options;
  conn_options.busy_timeout_ms = options.busy_timeout_ms;
  absl::StatusOr<std::unique_ptr<SqliteConnection>> writer =
      SqliteConnection::Open(file, conn_options);
  if (!writer.ok()) return writer.status();

  const std::shared_ptr<Clock> clock = options.clock ? options.clock : Clock::Real();
  const int64_t now_ms = ToUnixMillis(clock->WallNow());
  absl::StatusOr<int> before = MigrateSqlite(**writer, options.migrations, now_ms);
  if (!before.ok()) return before.status();

  std::unique_ptr<SqliteConnection> reader;
  if (!memory) {
    conn_options.read_only = true;
    absl::StatusOr<std::unique_ptr<SqliteConnection>> r =
        SqliteConnection::Open(file, conn_options);
    if (!r.ok()) return r.status();
    reader = *std::move(r);
  }
  unlock_on_error.release();
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(*std::move(writer), std::move(reader), lock_fd,
                      static_cast<int>(options.migrations.size()), options.max_group_batches));
}

SqliteStore::SqliteStore(std::unique_ptr<SqliteConnection> writer,
                         std::unique_ptr<SqliteConnection> reader, int lock_fd, int schema_version,
                         size_t max_group_batches)
    : separate_reader_(reader != nullptr),
      lock_fd_(lock_fd),
      schema_version_(schema_version),
      writer_(std::move(writer)),
      reader_(std::move(reader)) {
  committer_ = std::make_unique<GroupCommitter>(
      [this](std::span<PendingCommit* const> group) { return ApplyGroup(group); },
      max_group_batches);
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  std::call_once(close_once_, [this] {
    committer_->Close();  // commits what is queued
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      reader_.reset();
    }
    {
      std::lock_guard<std::mutex> lock(writer_mu_);
      writer_.reset();
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);  // only now may another store open the file
  });
}

absl::Status SqliteStore::Commit(Batch batch) { return committer_->Commit(std::move(batch)); }

void SqliteStore::CommitAsync(Batch batch, CommitCallback done) {
  committer_->CommitAsync(std::move(batch), std::move(done));
}

CommitStats SqliteStore::Stats() const { return committer_->Stats(); }

int SqliteStore::ApplyGroup(std::span<PendingCommit* const> group) {
  std::vector<PendingCommit*> live;
  live.reserve(group.size());
  for (PendingCommit* c : group) {
    c->status = ValidateBatch(c->batch);
    if (c->status.ok() && !c->batch.empty()) live.push_back(c);
  }
  if (live.empty()) return 0;

  std::lock_guard<std::mutex> lock(writer_mu_);
  // Fails every batch not already failed on its own.
  auto fail_all = [&live](const absl::Status& s) {
    for (PendingCommit* c : live) {
      if (c->status.ok()) c->status = s;
    }
    return 0;
  };
  if (writer_ == nullptr) return fail_all(ClosedError());
  SqliteConnection& conn = *writer_;
  auto abort = [&](const absl::Status& s, std::string_view context) {
    if (!conn.InAutocommit()) (void)conn.Exec("ROLLBACK");
    return fail_all(Annotate(s, context));
  };

  if (absl::Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) {
    return abort(s, "cannot begin a transaction: ");
  }
  // A lone batch needs no savepoint: the transaction is its savepoint.
  const bool savepoints = live.size() > 1;
  size_t applied = 0;
  for (PendingCommit* c : live) {
    if (savepoints) {
      if (absl::Status s = conn.Exec("SAVEPOINT batch"); !s.ok()) return abort(s, "savepoint: ");
    }
    absl::Status s = ApplyBatch(conn, c->batch);
    if (s.ok()) {
      ++applied;
      if (savepoints) {
        if (absl::Status r = conn.Exec("RELEASE batch"); !r.ok()) return abort(r, "release: ");
      }
      continue;
    }
    c->status = s;
    if (conn.InAutocommit()) {
      // SQLite rolled the whole transaction back (disk full, I/O error): the batches
      // applied before this one are gone too.
      return fail_all(Annotate(s, "the transaction was rolled back after: "));
    }
    if (savepoints) {
      absl::Status r = conn.Exec("ROLLBACK TO batch");
      if (r.ok()) r = conn.Exec("RELEASE batch");
      if (!r.ok()) return abort(r, "rollback to savepoint: ");
    }
  }
  if (applied == 0) {
    (void)conn.Exec("ROLLBACK");
    return 0;
  }
  if (absl::Status s = conn.Exec("COMMIT"); !s.ok()) return abort(s, "commit failed: ");
  return 1;
}

template <typename T, typename ReadFn>
absl::StatusOr<T> SqliteStore::Read(ReadFn read) const {
  std::lock_guard<std::mutex> lock(separate_reader_ ? reader_mu_ : writer_mu_);
  SqliteConnection* conn = separate_reader_ ? reader_.get() : writer_.get();
  if (conn == nullptr) return ClosedError();
  return read(*conn);
}

absl::StatusOr<Snapshot> SqliteStore::LoadAll() const {
  return Read<Snapshot>([](SqliteConnection& conn) -> absl::StatusOr<Snapshot> {
    static const std::string kUsers =
        StrCat("SELECT ", kUserColumns, " FROM USERS ORDER BY user_seq");
    static const std::string kWorkers =
        StrCat("SELECT ", kWorkerColumns, " FROM WORKER_REGISTRY ORDER BY worker_seq");
    // Through the partial index of live tasks: in submission order, without sorting and
    // without touching the final ones.
    static const std::string kTasks =
        StrCat("SELECT ", kTaskColumns, " FROM TASKS INDEXED BY TASKS_live WHERE status IN ",
               kLiveStates, " ORDER BY task_seq");
    static const std::string kCountTasks =
        StrCat("SELECT count(*) FROM TASKS INDEXED BY TASKS_live WHERE status IN ", kLiveStates);
    // Every assignment; those of final tasks (none, when every batch that ends a task
    // deletes its assignment) are dropped below.
    static const std::string kAssignments =
        StrCat("SELECT ", kAssignmentColumns, " FROM ASSIGNMENTS ORDER BY ass_seq");
    // Live allocations through their partial index, oldest first (created order).
    static const std::string kAllocations =
        StrCat("SELECT ", kAllocationColumns,
               " FROM ALLOCATIONS INDEXED BY ALLOCATIONS_live WHERE state IN ",
               kLiveAllocationStates, " ORDER BY allocation_seq");
    static const std::string kServiceInstances =
        StrCat("SELECT ", kServiceInstanceColumns, " FROM SERVICE_INSTANCES ORDER BY service");
    auto no_bind = [](Statement&) {};

    // One read transaction: every table as of the same commit.
    if (absl::Status s = conn.Exec("BEGIN"); !s.ok()) return s;
    Snapshot snap;
    absl::Status s = ReadRows(conn, kUsers, no_bind, &ReadUserRow, &snap.users);
    if (s.ok()) s = ReadRows(conn, kWorkers, no_bind, &ReadWorkerRow, &snap.workers);
    if (s.ok()) s = CheckStates(conn, kTaskStatus);
    if (s.ok()) {
      absl::StatusOr<int64_t> count = ReadCount(conn, kCountTasks);
      if (count.ok()) {
        snap.tasks.reserve(static_cast<size_t>(*count));
      } else {
        s = count.status();
      }
    }
    if (s.ok()) s = ReadRows(conn, kTasks, no_bind, &ReadTaskRow, &snap.tasks);
    if (s.ok()) {
      s = ReadRows(conn, kAssignments, no_bind, &ReadAssignmentRow, &snap.assignments);
    }
    if (s.ok()) {
      std::unordered_set<std::string_view> live;
      live.reserve(snap.tasks.size());
      for (const TaskRecord& t : snap.tasks) live.insert(t.task_id);
      std::erase_if(snap.assignments,
                    [&live](const AssignmentRecord& a) { return !live.contains(a.task_id); });
    }
    if (s.ok()) s = ReadCounters(conn, &snap.counters);
    if (s.ok()) {
      absl::StatusOr<int64_t> next = ReadNextEventSeq(conn, "TASK_EVENTS");
      if (next.ok()) {
        snap.next_event_seq = *next;
      } else {
        s = next.status();
      }
    }
    if (s.ok()) s = CheckStates(conn, kAllocationState);
    if (s.ok()) s = ReadRows(conn, kAllocations, no_bind, &ReadAllocationRow, &snap.allocations);
    if (s.ok()) {
      s = ReadRows(conn, kServiceInstances, no_bind, &ReadServiceInstanceRow,
                   &snap.service_instances);
    }
    if (s.ok()) {
      absl::StatusOr<int64_t> next = ReadNextEventSeq(conn, "ALLOCATION_EVENTS");
      if (next.ok()) {
        snap.next_allocation_event_seq = *next;
      } else {
        s = next.status();
      }
    }
    (void)conn.Exec(s.ok() ? "COMMIT" : "ROLLBACK");
    if (!s.ok()) return s;
    return snap;
  });
}

absl::StatusOr<TaskRecord> SqliteStore::GetTask(std::string_view task_id) const {
  return Read<TaskRecord>([&](SqliteConnection& conn) {
    static const std::string kSql =
        StrCat("SELECT ", kTaskColumns, " FROM TASKS WHERE task_id = ?1");
    return ReadOne(conn, kSql, task_id, &ReadTaskRow, StrCat("no task ", Quoted(task_id)));
  });
}

absl::StatusOr<std::vector<TaskRecord>> SqliteStore::ListTasks(const TaskFilter& filter) const {
  if (filter.limit > kMaxListLimit) {
    return absl::InvalidArgumentError(
        StrCat("limit: ", filter.limit, " is above the limit of ", kMaxListLimit));
  }
  const size_t limit = filter.limit == 0 ? kDefaultListLimit : filter.limit;
  std::string sql = StrCat("SELECT ", kTaskColumns, " FROM TASKS WHERE 1");
  if (filter.status) sql += " AND status = ?1";
  if (!filter.worker_id.empty()) sql += " AND worker_id = ?2";
  if (!filter.user_id.empty()) sql += " AND user_id = ?3";
  if (!filter.after_task_id.empty())
    sql += filter.newest_first ? " AND task_seq < ?4" : " AND task_seq > ?4";
  sql += filter.newest_first ? " ORDER BY task_seq DESC LIMIT ?5" : " ORDER BY task_seq LIMIT ?5";

  return Read<std::vector<TaskRecord>>(
      [&](SqliteConnection& conn) -> absl::StatusOr<std::vector<TaskRecord>> {
        int64_t cursor = 0;
        if (!filter.after_task_id.empty()) {
          absl::StatusOr<Statement> find =
              conn.Prepare("SELECT task_seq FROM TASKS WHERE task_id = ?1");
          if (!find.ok()) return find.status();
          find->BindText(1, filter.after_task_id);
          const int rc = find->Step();
          if (rc == SQLITE_DONE) {
            return absl::NotFoundError(
                StrCat("after_task_id: no task ", Quoted(filter.after_task_id)));
          }
          if (rc != SQLITE_ROW) return conn.Error(rc, "read failed");
          cursor = sqlite3_column_int64(find->get(), 0);
        }
        std::vector<TaskRecord> tasks;
        absl::Status s = ReadRows(
            conn, sql,
            [&](Statement& stmt) {
              if (filter.status) stmt.BindText(1, TaskStateName(*filter.status));
              if (!filter.worker_id.empty()) stmt.BindText(2, filter.worker_id);
              if (!filter.user_id.empty()) stmt.BindText(3, filter.user_id);
              if (!filter.after_task_id.empty()) stmt.BindInt(4, cursor);
              stmt.BindInt(5, static_cast<int64_t>(limit));
            },
            &ReadTaskRow, &tasks);
        if (!s.ok()) return s;
        return tasks;
      });
}

absl::StatusOr<ResultRecord> SqliteStore::GetResult(std::string_view task_id) const {
  return Read<ResultRecord>([&](SqliteConnection& conn) {
    static const std::string kSql =
        StrCat("SELECT ", kResultColumns, " FROM RESULTS WHERE task_id = ?1");
    return ReadOne(conn, kSql, task_id, &ReadResultRow,
                   StrCat("no result for task ", Quoted(task_id)));
  });
}

absl::StatusOr<std::vector<TaskEvent>> SqliteStore::ListTaskEvents(std::string_view task_id) const {
  return Read<std::vector<TaskEvent>>(
      [&](SqliteConnection& conn) -> absl::StatusOr<std::vector<TaskEvent>> {
        static const std::string kSql =
            StrCat("SELECT ", kEventColumns, " FROM TASK_EVENTS WHERE task_id = ?1 ORDER BY seq");
        std::vector<TaskEvent> events;
        absl::Status s = ReadRows(
            conn, kSql, [&](Statement& stmt) { stmt.BindText(1, task_id); }, &ReadEventRow,
            &events);
        if (!s.ok()) return s;
        return events;
      });
}

absl::StatusOr<WorkerRecord> SqliteStore::GetWorker(std::string_view worker_id) const {
  return Read<WorkerRecord>([&](SqliteConnection& conn) {
    static const std::string kSql =
        StrCat("SELECT ", kWorkerColumns, " FROM WORKER_REGISTRY WHERE worker_id = ?1");
    return ReadOne(conn, kSql, worker_id, &ReadWorkerRow, StrCat("no worker ", Quoted(worker_id)));
  });
}

absl::StatusOr<std::vector<WorkerRecord>> SqliteStore::ListWorkers() const {
  return Read<std::vector<WorkerRecord>>(
      [](SqliteConnection& conn) -> absl::StatusOr<std::vector<WorkerRecord>> {
        static const std::string kSql =
            StrCat("SELECT ", kWorkerColumns, " FROM WORKER_REGISTRY ORDER BY worker_seq");
        std::vector<WorkerRecord> workers;
        absl::Status s = ReadRows(
            conn, kSql, [](Statement&) {}, &ReadWorkerRow, &workers);
        if (!s.ok()) return s;
        return workers;
      });
}

absl::StatusOr<AssignmentRecord> SqliteStore::GetAssignment(std::string_view task_id) const {
  return Read<AssignmentRecord>([&](SqliteConnection& conn) {
    static const std::string kSql =
        StrCat("SELECT ", kAssignmentColumns, " FROM ASSIGNMENTS WHERE task_id = ?1");
    return ReadOne(conn, kSql, task_id, &ReadAssignmentRow,
                   StrCat("no assignment for task ", Quoted(task_id)));
  });
}

absl::StatusOr<std::vector<AssignmentRecord>> SqliteStore::ListAssignments(
    std::string_view worker_id) const {
  return Read<std::vector<AssignmentRecord>>(
      [&](SqliteConnection& conn) -> absl::StatusOr<std::vector<AssignmentRecord>> {
        static const std::string kSql =
            StrCat("SELECT ", kAssignmentColumns,
                   " FROM ASSIGNMENTS WHERE worker_id = ?1 ORDER BY ass_seq");
        std::vector<AssignmentRecord> assignments;
        absl::Status s = ReadRows(
            conn, kSql, [&](Statement& stmt) { stmt.BindText(1, worker_id); }, &ReadAssignmentRow,
            &assignments);
        if (!s.ok()) return s;
        return assignments;
      });
}

absl::StatusOr<AllocationRecord> SqliteStore::GetAllocation(std::string_view allocation_id) const {
  return Read<AllocationRecord>([&](SqliteConnection& conn) {
    static const std::string kSql =
        StrCat("SELECT ", kAllocationColumns, " FROM ALLOCATIONS WHERE allocation_id = ?1");
    return ReadOne(conn, kSql, allocation_id, &ReadAllocationRow,
                   StrCat("no allocation ", Quoted(allocation_id)));
  });
}

absl::StatusOr<std::vector<AllocationRecord>> SqliteStore::ListAllocations(
    const AllocationFilter& filter) const {
  if (filter.limit > kMaxListLimit) {
    return absl::InvalidArgumentError(
        StrCat("limit: ", filter.limit, " is above the limit of ", kMaxListLimit));
  }
  const size_t limit = filter.limit == 0 ? kDefaultListLimit : filter.limit;
  std::string sql = StrCat("SELECT ", kAllocationColumns, " FROM ALLOCATIONS WHERE 1");
  if (filter.state) sql += " AND state = ?1";
  if (!filter.job_id.empty()) sql += " AND job_id = ?2";
  sql += " ORDER BY allocation_seq DESC LIMIT ?3";

  return Read<std::vector<AllocationRecord>>(
      [&](SqliteConnection& conn) -> absl::StatusOr<std::vector<AllocationRecord>> {
        std::vector<AllocationRecord> allocations;
        absl::Status s = ReadRows(
            conn, sql,
            [&](Statement& stmt) {
              if (filter.state) stmt.BindText(1, AllocationStateName(*filter.state));
              if (!filter.job_id.empty()) stmt.BindText(2, filter.job_id);
              stmt.BindInt(3, static_cast<int64_t>(limit));
            },
            &ReadAllocationRow, &allocations);
        if (!s.ok()) return s;
        return allocations;
      });
}

absl::StatusOr<std::vector<AllocationEvent>> SqliteStore::ListAllocationEvents(
    std::string_view allocation_id) const {
  return Read<std::vector<AllocationEvent>>(
      [&](SqliteConnection& conn) -> absl::StatusOr<std::vector<AllocationEvent>> {
        static const std::string kSql =
            StrCat("SELECT ", kAllocationEventColumns,
                   " FROM ALLOCATION_EVENTS WHERE allocation_id = ?1 ORDER BY seq");
        std::vector<AllocationEvent> events;
        absl::Status s = ReadRows(
            conn, kSql, [&](Statement& stmt) { stmt.BindText(1, allocation_id); },
            &ReadAllocationEventRow, &events);
        if (!s.ok()) return s;
        return events;
      });
}

}  // namespace cloudai::store
