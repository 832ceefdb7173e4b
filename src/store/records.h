// Records: the plain values CloudAI keeps in its store, one struct per table.
//
// The tables are named after seed 001's collections (USERS, WORKER_REGISTRY, TASKS,
// ASSIGNMENTS, RESULTS) plus TASK_EVENTS, the history of every task's state changes, and
// for allocations ALLOCATIONS, ALLOCATION_EVENTS and SERVICE_INSTANCES.
// Every time is a Unix time in milliseconds (int64; 0 means "not yet"). Resource
// quantities use the integer units of common/resources.h (CPU and GPU in thousandths,
// memory and storage in MiB).
//
// ValidateRecord() states what the store requires of a record before it writes it: ids
// present and printable, quantities and times not negative, states known, sizes bounded.
// The error names the field ("task.request.cpu: -1 is negative ..."). Rows read back from
// the database are checked to the same rules.
//
// Thread safety: value types and free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/resources.h"

namespace cloudai::store {

// Bounds the store enforces on what it writes (and checks on what it reads).
inline constexpr size_t kMaxIdLength = 256;                 // any *_id, user names, roles
inline constexpr size_t kMaxTextLength = 1 << 20;           // command, image, error, ...
inline constexpr size_t kMaxLogsLength = size_t{64} << 20;  // RESULTS.logs
inline constexpr size_t kMaxEnvEntries = 1024;
// Allocations (docs/allocations.md).
inline constexpr int32_t kMaxAllocationWorkers = 1000;   // slots one allocation asks for
inline constexpr size_t kMaxAllocationServices = 16;     // service names per allocation
inline constexpr size_t kMaxMetadataEntries = 64;        // metadata keys per allocation
inline constexpr size_t kMaxMetadataKeyLength = 128;     // bytes
inline constexpr size_t kMaxMetadataValueLength = 4096;  // bytes

// A task's state. pending (queued) -> scheduled (placed, sent to a worker) -> running ->
// completed | failed | cancelled | lost (its worker vanished). The last four are final.
enum class TaskState { kPending, kScheduled, kRunning, kCompleted, kFailed, kCancelled, kLost };

// "pending", "scheduled", ..., as stored in the database and shown to people.
std::string_view TaskStateName(TaskState state);
// The inverse of TaskStateName(); an error naming the accepted names otherwise.
absl::StatusOr<TaskState> ParseTaskState(std::string_view name);
// completed, failed, cancelled or lost.
bool IsFinal(TaskState state);

// USERS (seed 001; accounts arrive in a later issue).
struct UserRecord {
  std::string user_id;
  std::string username;
  std::string email;
  std::string password_hash;
  std::string role = "user";  // "admin" or "user"
  int64_t created_at = 0;

  friend bool operator==(const UserRecord&, const UserRecord&) = default;
};

// WORKER_REGISTRY (seed 002): a worker the admin registered, with what it reported when
// it connected. `total` is all zero until the worker first registers back.
struct WorkerRecord {
  std::string worker_id;
  std::string worker_ip;  // "IP:PORT" of the worker's gRPC server
  Resources total;
  bool is_active = false;      // connected and heard from within the inactivity timeout
  int64_t last_heartbeat = 0;  // 0 until the first heartbeat
  int64_t registered_at = 0;
  int64_t updated_at = 0;
  std::string driver;  // "docker" or "exec"; empty until the worker registers back
  std::string hostname;

  friend bool operator==(const WorkerRecord&, const WorkerRecord&) = default;
};

// TASKS: a task as submitted, and where it stands.
struct TaskRecord {
  std::string task_id;
  std::string user_id;
  std::string docker_image;
  std::string command;
  Resources request;
  int32_t priority = 0;     // higher goes first
  int32_t max_retries = 0;  // times a lost task may be queued again
  int32_t retries = 0;      // times it was queued again
  TaskState status = TaskState::kPending;
  std::string target_worker_id;  // the worker the user named; empty: the scheduler picks
  std::string worker_id;         // where it was placed; empty while pending
  int64_t created_at = 0;
  int64_t scheduled_at = 0;
  int64_t started_at = 0;
  int64_t completed_at = 0;
  std::optional<int32_t> exit_code;  // the command's exit status, once known
  std::string error;                 // why it failed or was lost, when not its exit status
  std::map<std::string, std::string> env;
  int64_t timeout_ms = 0;  // 0: no limit
  std::string allocation_id;  // the allocation it runs in; empty: the general pool

  friend bool operator==(const TaskRecord&, const TaskRecord&) = default;
};

// ASSIGNMENTS: which worker holds a placed task. At most one per task; removed when
// the task ends.
struct AssignmentRecord {
  std::string ass_id;
  std::string task_id;
  std::string worker_id;
  int64_t assigned_at = 0;

  friend bool operator==(const AssignmentRecord&, const AssignmentRecord&) = default;
};

// RESULTS: how a task ended. One per task.
struct ResultRecord {
  std::string task_id;
  std::string worker_id;
  TaskState status = TaskState::kCompleted;  // a final state
  std::string logs;                          // bytes, as the worker collected them
  bool logs_truncated = false;
  std::string result_location;
  std::optional<int32_t> exit_code;
  int64_t completed_at = 0;

  friend bool operator==(const ResultRecord&, const ResultRecord&) = default;
};

// TASK_EVENTS: one state change of one task. `seq` orders all events of the store;
// 0 on append asks the store for the next number.
struct TaskEvent {
  int64_t seq = 0;
  std::string task_id;
  std::optional<TaskState> from_state;  // none for the event that creates the task
  TaskState to_state = TaskState::kPending;
  int64_t at = 0;
  std::string detail;

  friend bool operator==(const TaskEvent&, const TaskEvent&) = default;
};

// An allocation's state (seed 003): pending (waiting for capacity) -> active (slots
// reserved) -> releasing (its tasks are being stopped) -> released | expired (TTL
// passed) | failed (could never fit, or a worker holding a slot was lost). The last
// three are final.
enum class AllocationState { kPending, kActive, kReleasing, kReleased, kFailed, kExpired };
std::string_view AllocationStateName(AllocationState state);
absl::StatusOr<AllocationState> ParseAllocationState(std::string_view name);
bool IsFinal(AllocationState state);

// An allocation's priority; pending allocations are served by priority, then age.
enum class AllocationPriority { kLow = 0, kNormal = 1, kHigh = 2, kCritical = 3 };
std::string_view AllocationPriorityName(AllocationPriority priority);
absl::StatusOr<AllocationPriority> ParseAllocationPriority(std::string_view name);

// One worker slot an allocation reserves.
struct AllocationSlot {
  std::string worker_id;
  Resources resources;

  friend bool operator==(const AllocationSlot&, const AllocationSlot&) = default;
};

// ALLOCATIONS: a lease on worker capacity for a job.
struct AllocationRecord {
  std::string allocation_id;  // "alloc-" + 12 hex digits
  std::string job_id;
  AllocationState state = AllocationState::kPending;
  AllocationPriority priority = AllocationPriority::kNormal;
  int32_t workers = 1;  // slots asked for
  Resources per_worker;
  std::vector<AllocationSlot> slots;  // reserved slots; empty unless active or releasing
  std::vector<std::string> services;  // service names, in the order asked
  std::map<std::string, std::string> metadata;
  bool wait = true;  // false: fail rather than wait for capacity
  int64_t ttl_ms = 0;
  int64_t created_at = 0;
  int64_t activated_at = 0;
  int64_t expires_at = 0;  // created_at + ttl_ms, moved by extensions
  int64_t ended_at = 0;
  std::string reason;  // why it waits or why it ended

  friend bool operator==(const AllocationRecord&, const AllocationRecord&) = default;
};

// ALLOCATION_EVENTS: one state change of one allocation (as TASK_EVENTS for tasks).
struct AllocationEvent {
  int64_t seq = 0;
  std::string allocation_id;
  std::optional<AllocationState> from_state;  // none for the event that creates it
  AllocationState to_state = AllocationState::kPending;
  int64_t at = 0;
  std::string detail;

  friend bool operator==(const AllocationEvent&, const AllocationEvent&) = default;
};

// SERVICE_INSTANCES: a catalog service running as a long-running task, shared by the
// allocations that name it. At most one per service name.
struct ServiceInstanceRecord {
  std::string service;
  std::string task_id;  // the task that runs it (TASKS)
  int32_t port = 0;     // from the configured range
  int64_t started_at = 0;
  int64_t idle_since = 0;  // when the last allocation naming it ended; 0 while in use

  friend bool operator==(const ServiceInstanceRecord&, const ServiceInstanceRecord&) = default;
};

// What the store requires of each record before writing it.
absl::Status ValidateRecord(const UserRecord& user);
absl::Status ValidateRecord(const WorkerRecord& worker);
absl::Status ValidateRecord(const TaskRecord& task);
absl::Status ValidateRecord(const AssignmentRecord& assignment);
absl::Status ValidateRecord(const ResultRecord& result);
absl::Status ValidateRecord(const TaskEvent& event);
absl::Status ValidateRecord(const AllocationRecord& allocation);
absl::Status ValidateRecord(const AllocationEvent& event);
absl::Status ValidateRecord(const ServiceInstanceRecord& instance);

// Field checks shared with the row decoder. `field` names the value in the error.
absl::Status ValidateId(std::string_view value, std::string_view field);
absl::Status ValidateText(std::string_view value, size_t max_length, std::string_view field);
absl::Status ValidateTime(int64_t value, std::string_view field);
absl::Status ValidateEnv(const std::map<std::string, std::string>& env, std::string_view field);
// Allocation metadata: at most kMaxMetadataEntries keys, each non-empty and within
// kMaxMetadataKeyLength, values within kMaxMetadataValueLength.
absl::Status ValidateMetadata(const std::map<std::string, std::string>& metadata,
                              std::string_view field);
// At most kMaxAllocationServices names, each an id.
absl::Status ValidateServices(const std::vector<std::string>& services, std::string_view field);
// Each slot's worker id is an id and its resources are valid ("<field>[2].worker_id: ...").
absl::Status ValidateSlots(const std::vector<AllocationSlot>& slots, std::string_view field);

}  // namespace cloudai::store
