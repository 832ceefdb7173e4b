#include "store/sqlite_rows.h"

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "store/text_codec.h"

namespace cloudai::store {
namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string_view TypeName(int type) {
  switch (type) {
    case SQLITE_INTEGER:
      return "an integer";
    case SQLITE_FLOAT:
      return "a real number";
    case SQLITE_TEXT:
      return "text";
    case SQLITE_BLOB:
      return "a blob";
    default:
      return "NULL";
  }
}

// Reads the columns of one row, keeping the first problem. After a problem every
// accessor returns a default value, so a decoder reads straight through and checks
// status() once at the end.
class RowReader {
 public:
  RowReader(sqlite3_stmt* stmt, std::string_view table)
      : stmt_(stmt), table_(table), row_(sqlite3_column_int64(stmt, 0)) {}

  // Names the row by its id in errors from now on. `value` must outlive the reader.
  void SetKey(std::string_view column, std::string_view value) {
    key_column_ = column;
    key_value_ = value;
  }

  std::string Text(int col, std::string_view name, size_t max_length) {
    if (!ok()) return {};
    const int type = sqlite3_column_type(stmt_, col);
    if (type != SQLITE_TEXT) {
      Fail(name, StrCat("expected text, found ", TypeName(type)));
      return {};
    }
    return Bytes(col, name, max_length);
  }

  // TEXT or BLOB.
  std::string Blob(int col, std::string_view name, size_t max_length) {
    if (!ok()) return {};
    const int type = sqlite3_column_type(stmt_, col);
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
      Fail(name, StrCat("expected bytes, found ", TypeName(type)));
      return {};
    }
    return Bytes(col, name, max_length);
  }

  std::string Id(int col, std::string_view name) {
    std::string id = Text(col, name, kMaxIdLength);
    if (ok()) Check(ValidateId(id, name), name);
    return id;
  }

  int64_t Int(int col, std::string_view name, int64_t min, int64_t max) {
    if (!ok()) return 0;
    const int type = sqlite3_column_type(stmt_, col);
    if (type != SQLITE_INTEGER) {
      if (type == SQLITE_TEXT) {
        Fail(name,
             StrCat("expected an integer, found text \"",
                    std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col)))
                        .substr(0, 40),
                    "\""));
      } else {
        Fail(name, StrCat("expected an integer, found ", TypeName(type)));
      }
      return 0;
    }
    const int64_t v = sqlite3_column_int64(stmt_, col);
    if (v < min) {
      Fail(name, min == 0 ? StrCat(v, " is negative") : StrCat(v, " is below ", min));
    } else if (v > max) {
      Fail(name, StrCat(v, " is above the limit of ", max));
    }
    return v;
  }

  std::optional<int64_t> OptionalInt(int col, std::string_view name, int64_t min, int64_t max) {
    if (!ok() || sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Int(col, name, min, max);
  }

  bool Bool(int col, std::string_view name) { return Int(col, name, 0, 1) != 0; }

  // A value stored by name (a state, a priority), parsed by `parse`.
  template <typename E>
  E Named(int col, std::string_view name, absl::StatusOr<E> (*parse)(std::string_view)) {
    const std::string text = Text(col, name, 32);
    if (!ok()) return E{};
    absl::StatusOr<E> value = parse(text);
    if (!value.ok()) {
      Fail(name, std::string(value.status().message()));
      return E{};
    }
    return *value;
  }

  // "" is none.
  template <typename E>
  std::optional<E> OptionalNamed(int col, std::string_view name,
                                 absl::StatusOr<E> (*parse)(std::string_view)) {
    if (ok() && sqlite3_column_type(stmt_, col) == SQLITE_TEXT &&
        sqlite3_column_bytes(stmt_, col) == 0) {
      return std::nullopt;
    }
    return Named(col, name, parse);
  }

  TaskState State(int col, std::string_view name) { return Named(col, name, &ParseTaskState); }
  std::optional<TaskState> OptionalState(int col, std::string_view name) {
    return OptionalNamed(col, name, &ParseTaskState);
  }

  // Four quantity columns then the extras column, from `col` on.
  Resources Quantities(int col, const std::string_view (&names)[5]) {
    Resources r;
    r.cpu_millis = Int(col, names[0], 0, kMaxCpuMillis);
    r.memory_mib = Int(col + 1, names[1], 0, kMaxMemoryMiB);
    r.storage_mib = Int(col + 2, names[2], 0, kMaxStorageMiB);
    r.gpu_millis = Int(col + 3, names[3], 0, kMaxGpuMillis);
    const std::string extras = Text(col + 4, names[4], kMaxTextLength);
    if (ok()) Check(DecodeExtras(extras, names[4], &r), names[4]);
    return r;
  }

  std::map<std::string, std::string> Env(int col, std::string_view name) {
    const std::string text = Text(col, name, kMaxTextLength * 4);
    if (!ok()) return {};
    absl::StatusOr<std::map<std::string, std::string>> env = DecodeStringMap(text, name);
    if (!env.ok()) {
      Check(env.status(), name);
      return {};
    }
    Check(ValidateEnv(*env, name), name);
    return *std::move(env);
  }

  std::map<std::string, std::string> Metadata(int col, std::string_view name) {
    const std::string text = Text(col, name, kMaxTextLength);
    if (!ok()) return {};
    absl::StatusOr<std::map<std::string, std::string>> map = DecodeStringMap(text, name);
    if (!map.ok()) {
      Check(map.status(), name);
      return {};
    }
    Check(ValidateMetadata(*map, name), name);
    return *std::move(map);
  }

  std::vector<std::string> Services(int col, std::string_view name) {
    const std::string text = Text(col, name, kMaxTextLength);
    if (!ok()) return {};
    absl::StatusOr<std::vector<std::string>> list = DecodeStringList(text, name);
    if (!list.ok()) {
      Check(list.status(), name);
      return {};
    }
    Check(ValidateServices(*list, name), name);
    return *std::move(list);
  }

  std::vector<AllocationSlot> Slots(int col, std::string_view name) {
    const std::string text = Text(col, name, kMaxTextLength);
    if (!ok()) return {};
    absl::StatusOr<std::vector<AllocationSlot>> slots = DecodeSlots(text, name);
    if (!slots.ok()) {
      Check(slots.status(), name);
      return {};
    }
    Check(ValidateSlots(*slots, name), name);
    return *std::move(slots);
  }

  // Keeps `s` (whose message already starts with the column name) as the row's error.
  void Check(const absl::Status& s, std::string_view column) {
    if (!s.ok() && ok()) {
      std::string_view message(s.message().data(), s.message().size());
      if (message.substr(0, column.size() + 2) == StrCat(column, ": ")) {
        message.remove_prefix(column.size() + 2);
      }
      Fail(column, std::string(message));
    }
  }

  bool ok() const { return error_.empty(); }

  absl::Status status() const {
    if (ok()) return absl::OkStatus();
    std::string key;
    if (!key_column_.empty())
      key = StrCat(" (", key_column_, " \"", key_value_.substr(0, 80), "\")");
    return absl::DataLossError(StrCat(table_, " row ", row_, key, ", column ", error_));
  }

 private:
  std::string Bytes(int col, std::string_view name, size_t max_length) {
    const void* data = sqlite3_column_blob(stmt_, col);
    const size_t size = static_cast<size_t>(sqlite3_column_bytes(stmt_, col));
    if (size > max_length) {
      Fail(name, StrCat(size, " bytes is longer than the limit of ", max_length));
      return {};
    }
    return size == 0 ? std::string() : std::string(static_cast<const char*>(data), size);
  }

  void Fail(std::string_view column, std::string message) {
    if (ok()) error_ = StrCat(column, ": ", message);
  }

  sqlite3_stmt* stmt_;
  std::string_view table_;
  int64_t row_;
  std::string_view key_column_;
  std::string_view key_value_;
  std::string error_;
};

}  // namespace

absl::StatusOr<UserRecord> ReadUserRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "USERS");
  UserRecord u;
  u.user_id = r.Id(1, "user_id");
  if (r.ok()) r.SetKey("user_id", u.user_id);
  u.username = r.Text(2, "username", kMaxIdLength);
  u.email = r.Text(3, "email", kMaxIdLength);
  u.password_hash = r.Text(4, "password_hash", kMaxIdLength);
  u.role = r.Text(5, "role", kMaxIdLength);
  if (r.ok() && u.role != "admin" && u.role != "user") {
    r.Check(absl::InvalidArgumentError(StrCat("role: \"", u.role, "\" is not admin or user")),
            "role");
  }
  u.created_at = r.Int(6, "created_at", 0, kInt64Max);
  if (!r.ok()) return r.status();
  return u;
}

absl::StatusOr<WorkerRecord> ReadWorkerRow(sqlite3_stmt* stmt) {
  static constexpr std::string_view kTotals[5] = {"total_cpu", "total_memory", "total_storage",
                                                  "total_gpu", "total_extras"};
  RowReader r(stmt, "WORKER_REGISTRY");
  WorkerRecord w;
  w.worker_id = r.Id(1, "worker_id");
  if (r.ok()) r.SetKey("worker_id", w.worker_id);
  w.worker_ip = r.Text(2, "worker_ip", kMaxIdLength);
  w.total = r.Quantities(3, kTotals);
  w.is_active = r.Bool(8, "is_active");
  w.last_heartbeat = r.Int(9, "last_heartbeat", 0, kInt64Max);
  w.registered_at = r.Int(10, "registered_at", 0, kInt64Max);
  w.updated_at = r.Int(11, "updated_at", 0, kInt64Max);
  w.driver = r.Text(12, "driver", kMaxIdLength);
  w.hostname = r.Text(13, "hostname", kMaxIdLength);
  if (!r.ok()) return r.status();
  return w;
}

absl::StatusOr<TaskRecord> ReadTaskRow(sqlite3_stmt* stmt) {
  static constexpr std::string_view kRequest[5] = {"req_cpu", "req_memory", "req_storage",
                                                   "req_gpu", "req_extras"};
  RowReader r(stmt, "TASKS");
  TaskRecord t;
  t.task_id = r.Id(1, "task_id");
  if (r.ok()) r.SetKey("task_id", t.task_id);
  t.user_id = r.Text(2, "user_id", kMaxIdLength);
  t.docker_image = r.Text(3, "docker_image", kMaxTextLength);
  t.command = r.Text(4, "command", kMaxTextLength);
  t.request = r.Quantities(5, kRequest);
  t.priority = static_cast<int32_t>(r.Int(10, "priority", kInt32Min, kInt32Max));
  t.max_retries = static_cast<int32_t>(r.Int(11, "max_retries", 0, kInt32Max));
  t.retries = static_cast<int32_t>(r.Int(12, "retries", 0, kInt32Max));
  t.status = r.State(13, "status");
  t.target_worker_id = r.Text(14, "target_worker_id", kMaxIdLength);
  t.worker_id = r.Text(15, "worker_id", kMaxIdLength);
  t.created_at = r.Int(16, "created_at", 0, kInt64Max);
  t.scheduled_at = r.Int(17, "scheduled_at", 0, kInt64Max);
  t.started_at = r.Int(18, "started_at", 0, kInt64Max);
  t.completed_at = r.Int(19, "completed_at", 0, kInt64Max);
  if (auto code = r.OptionalInt(20, "exit_code", kInt32Min, kInt32Max)) {
    t.exit_code = static_cast<int32_t>(*code);
  }
  t.error = r.Text(21, "error", kMaxTextLength);
  t.env = r.Env(22, "env");
  t.timeout_ms = r.Int(23, "timeout_ms", 0, kInt64Max);
  t.allocation_id = r.Text(24, "allocation_id", kMaxIdLength);
  if (!r.ok()) return r.status();
  return t;
}

absl::StatusOr<AssignmentRecord> ReadAssignmentRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "ASSIGNMENTS");
  AssignmentRecord a;
  a.ass_id = r.Id(1, "ass_id");
  if (r.ok()) r.SetKey("ass_id", a.ass_id);
  a.task_id = r.Id(2, "task_id");
  a.worker_id = r.Id(3, "worker_id");
  a.assigned_at = r.Int(4, "assigned_at", 0, kInt64Max);
  if (!r.ok()) return r.status();
  return a;
}

absl::StatusOr<ResultRecord> ReadResultRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "RESULTS");
  ResultRecord res;
  res.task_id = r.Id(1, "task_id");
  if (r.ok()) r.SetKey("task_id", res.task_id);
  res.worker_id = r.Text(2, "worker_id", kMaxIdLength);
  res.status = r.State(3, "status");
  if (r.ok() && !IsFinal(res.status)) {
    r.Check(absl::InvalidArgumentError(
                StrCat("status: \"", TaskStateName(res.status), "\" is not a final state")),
            "status");
  }
  res.logs = r.Blob(4, "logs", kMaxLogsLength);
  res.logs_truncated = r.Bool(5, "logs_truncated");
  res.result_location = r.Text(6, "result_location", kMaxTextLength);
  if (auto code = r.OptionalInt(7, "exit_code", kInt32Min, kInt32Max)) {
    res.exit_code = static_cast<int32_t>(*code);
  }
  res.completed_at = r.Int(8, "completed_at", 0, kInt64Max);
  if (!r.ok()) return r.status();
  return res;
}

absl::StatusOr<TaskEvent> ReadEventRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "TASK_EVENTS");
  TaskEvent e;
  e.seq = r.Int(0, "seq", 1, kInt64Max);
  e.task_id = r.Id(1, "task_id");
  e.from_state = r.OptionalState(2, "from_state");
  e.to_state = r.State(3, "to_state");
  e.at = r.Int(4, "at", 0, kInt64Max);
  e.detail = r.Text(5, "detail", kMaxTextLength);
  if (!r.ok()) return r.status();
  return e;
}

absl::StatusOr<AllocationRecord> ReadAllocationRow(sqlite3_stmt* stmt) {
  static constexpr std::string_view kPerWorker[5] = {"per_cpu", "per_memory", "per_storage",
                                                     "per_gpu", "per_extras"};
  RowReader r(stmt, "ALLOCATIONS");
  AllocationRecord a;
  a.allocation_id = r.Id(1, "allocation_id");
  if (r.ok()) r.SetKey("allocation_id", a.allocation_id);
  a.job_id = r.Id(2, "job_id");
  a.state = r.Named(3, "state", &ParseAllocationState);
  a.priority = r.Named(4, "priority", &ParseAllocationPriority);
  a.workers = static_cast<int32_t>(r.Int(5, "workers", 1, kMaxAllocationWorkers));
  a.per_worker = r.Quantities(6, kPerWorker);
  a.slots = r.Slots(11, "slots");
  if (r.ok() && a.slots.size() > static_cast<size_t>(a.workers)) {
    r.Check(absl::InvalidArgumentError(
                StrCat(a.slots.size(), " slots is more than workers (", a.workers, ")")),
            "slots");
  }
  a.services = r.Services(12, "services");
  a.metadata = r.Metadata(13, "metadata");
  a.wait = r.Bool(14, "wait");
  a.ttl_ms = r.Int(15, "ttl_ms", 0, kInt64Max);
  a.created_at = r.Int(16, "created_at", 0, kInt64Max);
  a.activated_at = r.Int(17, "activated_at", 0, kInt64Max);
  a.expires_at = r.Int(18, "expires_at", 0, kInt64Max);
  a.ended_at = r.Int(19, "ended_at", 0, kInt64Max);
  a.reason = r.Text(20, "reason", kMaxTextLength);
  if (!r.ok()) return r.status();
  return a;
}

absl::StatusOr<AllocationEvent> ReadAllocationEventRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "ALLOCATION_EVENTS");
  AllocationEvent e;
  e.seq = r.Int(0, "seq", 1, kInt64Max);
  e.allocation_id = r.Id(1, "allocation_id");
  e.from_state = r.OptionalNamed(2, "from_state", &ParseAllocationState);
  e.to_state = r.Named(3, "to_state", &ParseAllocationState);
  e.at = r.Int(4, "at", 0, kInt64Max);
  e.detail = r.Text(5, "detail", kMaxTextLength);
  if (!r.ok()) return r.status();
  return e;
}

absl::StatusOr<ServiceInstanceRecord> ReadServiceInstanceRow(sqlite3_stmt* stmt) {
  RowReader r(stmt, "SERVICE_INSTANCES");
  ServiceInstanceRecord i;
  i.service = r.Id(1, "service");
  if (r.ok()) r.SetKey("service", i.service);
  i.task_id = r.Id(2, "task_id");
  i.port = static_cast<int32_t>(r.Int(3, "port", 1, 65535));
  i.started_at = r.Int(4, "started_at", 0, kInt64Max);
  i.idle_since = r.Int(5, "idle_since", 0, kInt64Max);
  if (!r.ok()) return r.status();
  return i;
}

}  // namespace cloudai::store
