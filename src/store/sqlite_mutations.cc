#include "store/sqlite_mutations.h"

#include <span>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "store/text_codec.h"

namespace cloudai::store {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

using Columns = std::span<const std::string_view>;

// The written columns of each table, in parameter order (?1, ?2, ...). The first is
// the row's key.
constexpr std::string_view kUserCols[] = {"user_id",       "username", "email",
                                          "password_hash", "role",     "created_at"};
constexpr std::string_view kWorkerCols[] = {
    "worker_id",  "worker_ip",    "total_cpu", "total_memory",   "total_storage",
    "total_gpu",  "total_extras", "is_active", "last_heartbeat", "registered_at",
    "updated_at", "driver",       "hostname"};
constexpr std::string_view kTaskCols[] = {
    "task_id",     "user_id",      "docker_image", "command",          "req_cpu",
    "req_memory",  "req_storage",  "req_gpu",      "req_extras",       "priority",
    "max_retries", "retries",      "status",       "target_worker_id", "worker_id",
    "created_at",  "scheduled_at", "started_at",   "completed_at",     "exit_code",
    "error",       "env",          "timeout_ms",   "allocation_id"};
constexpr std::string_view kAssignmentCols[] = {"ass_id", "task_id", "worker_id", "assigned_at"};
constexpr std::string_view kResultCols[] = {"task_id",   "worker_id",      "status",
                                            "logs",      "logs_truncated", "result_location",
                                            "exit_code", "completed_at"};
constexpr std::string_view kEventCols[] = {"seq",      "task_id", "from_state",
                                           "to_state", "at",      "detail"};
constexpr std::string_view kAllocationCols[] = {
    "allocation_id", "job_id",       "state",       "priority", "workers",
    "per_cpu",       "per_memory",   "per_storage", "per_gpu",  "per_extras",
    "slots",         "services",     "metadata",    "wait",     "ttl_ms",
    "created_at",    "activated_at", "expires_at",  "ended_at", "reason"};
constexpr std::string_view kAllocationEventCols[] = {
    "seq", "allocation_id", "from_state", "to_state", "at", "detail"};
constexpr std::string_view kServiceInstanceCols[] = {"service", "task_id", "port", "started_at",
                                                     "idle_since"};

std::string InsertSql(std::string_view table, Columns cols) {
  std::string names, params;
  int i = 0;
  for (std::string_view c : cols) {
    StrAppend(&names, i ? ", " : "", c);
    StrAppend(&params, i ? ", " : "", "?", i + 1);
    ++i;
  }
  return StrCat("INSERT INTO ", table, " (", names, ") VALUES (", params, ")");
}

// Insert, or on a duplicate key replace every other column (the row keeps its id).
std::string UpsertSql(std::string_view table, Columns cols) {
  std::string sql =
      StrCat(InsertSql(table, cols), " ON CONFLICT(", cols.front(), ") DO UPDATE SET ");
  bool first = true;
  for (std::string_view c : cols) {
    if (c == cols.front()) continue;
    StrAppend(&sql, first ? "" : ", ", c, " = excluded.", c);
    first = false;
  }
  return sql;
}

std::string UpdateSql(std::string_view table, Columns cols) {
  std::string sql = StrCat("UPDATE ", table, " SET ");
  int i = 0;
  for (std::string_view c : cols) {
    if (i > 0) StrAppend(&sql, i > 1 ? ", " : "", c, " = ?", i + 1);
    ++i;
  }
  StrAppend(&sql, " WHERE ", cols.front(), " = ?1");
  return sql;
}

void BindOptional(Statement& s, int index, const std::optional<int32_t>& v) {
  if (v.has_value()) {
    s.BindInt(index, *v);
  } else {
    s.BindNull(index);
  }
}

void BindUser(Statement& s, const UserRecord& u) {
  s.BindText(1, u.user_id);
  s.BindText(2, u.username);
  s.BindText(3, u.email);
  s.BindText(4, u.password_hash);
  s.BindText(5, u.role);
  s.BindInt(6, u.created_at);
}

void BindWorker(Statement& s, const WorkerRecord& w, const std::string& extras) {
  s.BindText(1, w.worker_id);
  s.BindText(2, w.worker_ip);
  s.BindInt(3, w.total.cpu_millis);
  s.BindInt(4, w.total.memory_mib);
  s.BindInt(5, w.total.storage_mib);
  s.BindInt(6, w.total.gpu_millis);
  s.BindText(7, extras);
  s.BindInt(8, w.is_active ? 1 : 0);
  s.BindInt(9, w.last_heartbeat);
  s.BindInt(10, w.registered_at);
  s.BindInt(11, w.updated_at);
  s.BindText(12, w.driver);
  s.BindText(13, w.hostname);
}

// `extras` and `env` must outlive the statement's step (bound without copying).
void BindTask(Statement& s, const TaskRecord& t, const std::string& extras,
              const std::string& env) {
  s.BindText(1, t.task_id);
  s.BindText(2, t.user_id);
  s.BindText(3, t.docker_image);
  s.BindText(4, t.command);
  s.BindInt(5, t.request.cpu_millis);
  s.BindInt(6, t.request.memory_mib);
  s.BindInt(7, t.request.storage_mib);
  s.BindInt(8, t.request.gpu_millis);
  s.BindText(9, extras);
  s.BindInt(10, t.priority);
  s.BindInt(11, t.max_retries);
  s.BindInt(12, t.retries);
  s.BindText(13, TaskStateName(t.status));
  s.BindText(14, t.target_worker_id);
  s.BindText(15, t.worker_id);
  s.BindInt(16, t.created_at);
  s.BindInt(17, t.scheduled_at);
  s.BindInt(18, t.started_at);
  s.BindInt(19, t.completed_at);
  BindOptional(s, 20, t.exit_code);
  s.BindText(21, t.error);
  s.BindText(22, env);
  s.BindInt(23, t.timeout_ms);
  s.BindText(24, t.allocation_id);
}

// The encoded columns of an allocation, kept alive while its statement runs.
struct EncodedAllocation {
  explicit EncodedAllocation(const AllocationRecord& a)
      : extras(EncodeExtras(a.per_worker)),
        slots(EncodeSlots(a.slots)),
        services(EncodeStringList(a.services)),
        metadata(EncodeStringMap(a.metadata)) {}
  std::string extras, slots, services, metadata;
};

void BindAllocation(Statement& s, const AllocationRecord& a, const EncodedAllocation& e) {
  s.BindText(1, a.allocation_id);
  s.BindText(2, a.job_id);
  s.BindText(3, AllocationStateName(a.state));
  s.BindText(4, AllocationPriorityName(a.priority));
  s.BindInt(5, a.workers);
  s.BindInt(6, a.per_worker.cpu_millis);
  s.BindInt(7, a.per_worker.memory_mib);
  s.BindInt(8, a.per_worker.storage_mib);
  s.BindInt(9, a.per_worker.gpu_millis);
  s.BindText(10, e.extras);
  s.BindText(11, e.slots);
  s.BindText(12, e.services);
  s.BindText(13, e.metadata);
  s.BindInt(14, a.wait ? 1 : 0);
  s.BindInt(15, a.ttl_ms);
  s.BindInt(16, a.created_at);
  s.BindInt(17, a.activated_at);
  s.BindInt(18, a.expires_at);
  s.BindInt(19, a.ended_at);
  s.BindText(20, a.reason);
}

// Runs a bound write statement. A statement with a key (update, delete) must change a
// row; `missing` is the NOT_FOUND message when it changes none.
absl::Status Run(SqliteConnection& conn, Statement& s, std::string_view missing = {}) {
  const int rc = s.Step();
  if (rc != SQLITE_DONE) return conn.Error(rc, "");
  if (!missing.empty() && sqlite3_changes(conn.db()) == 0) {
    return absl::NotFoundError(std::string(missing));
  }
  return absl::OkStatus();
}

// Prepares the cached statement for `sql`, binds it with `bind` and runs it.
template <typename BindFn>
absl::Status Write(SqliteConnection& conn, const std::string& sql, BindFn bind,
                   std::string_view missing = {}) {
  absl::StatusOr<Statement> s = conn.Prepare(sql);
  if (!s.ok()) return s.status();
  bind(*s);
  return Run(conn, *s, missing);
}

absl::Status ApplyMutation(SqliteConnection& conn, const Mutation& m) {
  static const std::string kUpsertUser = UpsertSql("USERS", kUserCols);
  static const std::string kUpsertWorker = UpsertSql("WORKER_REGISTRY", kWorkerCols);
  static const std::string kInsertTask = InsertSql("TASKS", kTaskCols);
  static const std::string kUpdateTask = UpdateSql("TASKS", kTaskCols);
  static const std::string kInsertAssignment = InsertSql("ASSIGNMENTS", kAssignmentCols);
  static const std::string kInsertResult = InsertSql("RESULTS", kResultCols);
  static const std::string kInsertEvent = InsertSql("TASK_EVENTS", kEventCols);
  static const std::string kUpsertAllocation = UpsertSql("ALLOCATIONS", kAllocationCols);
  static const std::string kInsertAllocationEvent =
      InsertSql("ALLOCATION_EVENTS", kAllocationEventCols);
  static const std::string kUpsertServiceInstance =
      UpsertSql("SERVICE_INSTANCES", kServiceInstanceCols);

  return std::visit(
      Overloaded{
          [&](const mutation::UpsertUser& u) {
            return Write(conn, kUpsertUser, [&](Statement& s) { BindUser(s, u.user); });
          },
          [&](const mutation::DeleteUser& u) {
            return Write(
                conn, "DELETE FROM USERS WHERE user_id = ?1",
                [&](Statement& s) { s.BindText(1, u.user_id); }, "no such user");
          },
          [&](const mutation::UpsertWorker& u) {
            const std::string extras = EncodeExtras(u.worker.total);
            return Write(conn, kUpsertWorker,
                         [&](Statement& s) { BindWorker(s, u.worker, extras); });
          },
          [&](const mutation::SetWorkerStatus& u) {
            return Write(
                conn,
                "UPDATE WORKER_REGISTRY SET is_active = ?2, last_heartbeat = ?3, "
                "updated_at = ?4 WHERE worker_id = ?1",
                [&](Statement& s) {
                  s.BindText(1, u.worker_id);
                  s.BindInt(2, u.is_active ? 1 : 0);
                  s.BindInt(3, u.last_heartbeat);
                  s.BindInt(4, u.updated_at);
                },
                "no such worker");
          },
          [&](const mutation::DeleteWorker& u) {
            return Write(
                conn, "DELETE FROM WORKER_REGISTRY WHERE worker_id = ?1",
                [&](Statement& s) { s.BindText(1, u.worker_id); }, "no such worker");
          },
          [&](const mutation::InsertTask& u) {
            const std::string extras = EncodeExtras(u.task.request);
            const std::string env = EncodeStringMap(u.task.env);
            return Write(conn, kInsertTask,
                         [&](Statement& s) { BindTask(s, u.task, extras, env); });
          },
          [&](const mutation::UpdateTask& u) {
            const std::string extras = EncodeExtras(u.task.request);
            const std::string env = EncodeStringMap(u.task.env);
            return Write(
                conn, kUpdateTask, [&](Statement& s) { BindTask(s, u.task, extras, env); },
                "no such task");
          },
          [&](const mutation::DeleteTask& u) {
            return Write(
                conn, "DELETE FROM TASKS WHERE task_id = ?1",
                [&](Statement& s) { s.BindText(1, u.task_id); }, "no such task");
          },
          [&](const mutation::InsertAssignment& u) {
            return Write(conn, kInsertAssignment, [&](Statement& s) {
              s.BindText(1, u.assignment.ass_id);
              s.BindText(2, u.assignment.task_id);
              s.BindText(3, u.assignment.worker_id);
              s.BindInt(4, u.assignment.assigned_at);
            });
          },
          [&](const mutation::DeleteAssignment& u) {
            return Write(
                conn, "DELETE FROM ASSIGNMENTS WHERE task_id = ?1",
                [&](Statement& s) { s.BindText(1, u.task_id); }, "the task has no assignment");
          },
          [&](const mutation::InsertResult& u) {
            return Write(conn, kInsertResult, [&](Statement& s) {
              const ResultRecord& r = u.result;
              s.BindText(1, r.task_id);
              s.BindText(2, r.worker_id);
              s.BindText(3, TaskStateName(r.status));
              s.BindBlob(4, r.logs);
              s.BindInt(5, r.logs_truncated ? 1 : 0);
              s.BindText(6, r.result_location);
              BindOptional(s, 7, r.exit_code);
              s.BindInt(8, r.completed_at);
            });
          },
          [&](const mutation::AppendTaskEvent& u) {
            return Write(conn, kInsertEvent, [&](Statement& s) {
              const TaskEvent& e = u.event;
              if (e.seq > 0) {
                s.BindInt(1, e.seq);
              } else {
                s.BindNull(1);  // the next number
              }
              s.BindText(2, e.task_id);
              s.BindText(3, e.from_state ? TaskStateName(*e.from_state) : std::string_view());
              s.BindText(4, TaskStateName(e.to_state));
              s.BindInt(5, e.at);
              s.BindText(6, e.detail);
            });
          },
          [&](const mutation::SetCounter& u) {
            return Write(conn,
                         "INSERT INTO COUNTERS (name, value) VALUES (?1, ?2) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                         [&](Statement& s) {
                           s.BindText(1, u.name);
                           s.BindInt(2, u.value);
                         });
          },
          [&](const mutation::UpsertAllocation& u) {
            const EncodedAllocation encoded(u.allocation);
            return Write(conn, kUpsertAllocation,
                         [&](Statement& s) { BindAllocation(s, u.allocation, encoded); });
          },
          [&](const mutation::AppendAllocationEvent& u) {
            return Write(conn, kInsertAllocationEvent, [&](Statement& s) {
              const AllocationEvent& e = u.event;
              if (e.seq > 0) {
                s.BindInt(1, e.seq);
              } else {
                s.BindNull(1);  // the next number
              }
              s.BindText(2, e.allocation_id);
              s.BindText(3, e.from_state ? AllocationStateName(*e.from_state) : std::string_view());
              s.BindText(4, AllocationStateName(e.to_state));
              s.BindInt(5, e.at);
              s.BindText(6, e.detail);
            });
          },
          [&](const mutation::UpsertServiceInstance& u) {
            return Write(conn, kUpsertServiceInstance, [&](Statement& s) {
              const ServiceInstanceRecord& i = u.instance;
              s.BindText(1, i.service);
              s.BindText(2, i.task_id);
              s.BindInt(3, i.port);
              s.BindInt(4, i.started_at);
              s.BindInt(5, i.idle_since);
            });
          },
          [&](const mutation::DeleteServiceInstance& u) {
            return Write(
                conn, "DELETE FROM SERVICE_INSTANCES WHERE service = ?1",
                [&](Statement& s) { s.BindText(1, u.service); }, "no such service instance");
          },
      },
      m);
}

// What a foreign-key failure means for each kind of mutation.
std::string_view ForeignKeyHint(const Mutation& m) {
  if (std::holds_alternative<mutation::InsertAssignment>(m)) {
    return " (the task or the worker does not exist)";
  }
  if (std::holds_alternative<mutation::DeleteWorker>(m)) {
    return " (assignments still name the worker; delete them first)";
  }
  if (std::holds_alternative<mutation::InsertResult>(m) ||
      std::holds_alternative<mutation::AppendTaskEvent>(m) ||
      std::holds_alternative<mutation::UpsertServiceInstance>(m)) {
    return " (the task does not exist)";
  }
  if (std::holds_alternative<mutation::AppendAllocationEvent>(m)) {
    return " (the allocation does not exist)";
  }
  return "";
}

}  // namespace

absl::Status ApplyBatch(SqliteConnection& conn, const Batch& batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const Mutation& m = batch.mutations()[i];
    absl::Status s = ApplyMutation(conn, m);
    if (s.ok()) continue;
    std::string_view message(s.message().data(), s.message().size());
    if (message.substr(0, 2) == ": ") message.remove_prefix(2);
    const std::string_view hint =
        s.code() == absl::StatusCode::kFailedPrecondition &&
                sqlite3_extended_errcode(conn.db()) == SQLITE_CONSTRAINT_FOREIGNKEY
            ? ForeignKeyHint(m)
            : std::string_view();
    return absl::Status(s.code(),
                        StrCat("mutation ", i + 1, " (", Describe(m), "): ", message, hint));
  }
  return absl::OkStatus();
}

}  // namespace cloudai::store
