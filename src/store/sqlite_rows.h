// Reading records back from SQLite rows, checked column by column.
//
// A row read back is input like any other: a file edited by hand, a disk that lies, or
// a bug elsewhere can leave a negative quantity, an unknown state, a text where a number
// belongs. Each Read*Row() checks the type and range of every column and returns
// DATA_LOSS naming the table, the row and the column:
//   TASKS row 42 (task_id "t-7"), column req_cpu: -5 is negative
// never a crash, never a half-valid record.
//
// Each function reads the current row of a statement that selected the matching
// k*Columns list, in that order (the table's integer row id first).
//
// Thread safety: free functions; the statement belongs to the caller.
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "absl/status/statusor.h"
#include "store/records.h"

namespace cloudai::store {

inline constexpr std::string_view kUserColumns =
    "user_seq, user_id, username, email, password_hash, role, created_at";
inline constexpr std::string_view kWorkerColumns =
    "worker_seq, worker_id, worker_ip, total_cpu, total_memory, total_storage, total_gpu, "
    "total_extras, is_active, last_heartbeat, registered_at, updated_at, driver, hostname";
inline constexpr std::string_view kTaskColumns =
    "task_seq, task_id, user_id, docker_image, command, req_cpu, req_memory, req_storage, "
    "req_gpu, req_extras, priority, max_retries, retries, status, target_worker_id, "
    "worker_id, created_at, scheduled_at, started_at, completed_at, exit_code, error, env, "
    "timeout_ms, allocation_id";
inline constexpr std::string_view kAssignmentColumns =
    "ass_seq, ass_id, task_id, worker_id, assigned_at";
inline constexpr std::string_view kResultColumns =
    "result_seq, task_id, worker_id, status, logs, logs_truncated, result_location, "
    "exit_code, completed_at";
inline constexpr std::string_view kEventColumns = "seq, task_id, from_state, to_state, at, detail";
inline constexpr std::string_view kAllocationColumns =
    "allocation_seq, allocation_id, job_id, state, priority, workers, per_cpu, per_memory, "
    "per_storage, per_gpu, per_extras, slots, services, metadata, wait, ttl_ms, created_at, "
    "activated_at, expires_at, ended_at, reason";
inline constexpr std::string_view kAllocationEventColumns =
    "seq, allocation_id, from_state, to_state, at, detail";
inline constexpr std::string_view kServiceInstanceColumns =
    "instance_seq, service, task_id, port, started_at, idle_since";

absl::StatusOr<UserRecord> ReadUserRow(sqlite3_stmt* stmt);
absl::StatusOr<WorkerRecord> ReadWorkerRow(sqlite3_stmt* stmt);
absl::StatusOr<TaskRecord> ReadTaskRow(sqlite3_stmt* stmt);
absl::StatusOr<AssignmentRecord> ReadAssignmentRow(sqlite3_stmt* stmt);
absl::StatusOr<ResultRecord> ReadResultRow(sqlite3_stmt* stmt);
absl::StatusOr<TaskEvent> ReadEventRow(sqlite3_stmt* stmt);
absl::StatusOr<AllocationRecord> ReadAllocationRow(sqlite3_stmt* stmt);
absl::StatusOr<AllocationEvent> ReadAllocationEventRow(sqlite3_stmt* stmt);
absl::StatusOr<ServiceInstanceRecord> ReadServiceInstanceRow(sqlite3_stmt* stmt);

}  // namespace cloudai::store
