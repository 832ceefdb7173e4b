// Store: where the master keeps what must survive a restart.
//
// The master's in-memory state is the working copy; the store is the truth after a
// restart. Every change is a Batch (store/batch.h) committed durably before anyone is
// told: Commit() returns, or CommitAsync()'s callback runs, only after the transaction
// holding the batch is on disk; nothing of a batch is visible to readers before then.
//
// Commits are grouped. A durable commit costs one fdatasync (0.2 to 0.6 ms on an idle
// disk here, several ms under load), so batches that arrive while one commit is in
// progress are applied together in the next transaction and made durable by a single
// sync, each batch inside its own savepoint: one failing batch fails alone, the others
// of its group commit. Batches are applied in the order Commit()/CommitAsync() were
// called (across threads: the order they entered the store's queue), and callbacks run
// in that same order.
//
// At start-up the master calls LoadAll(): the workers, the tasks that are not final yet
// with their assignments, the allocations that are not final yet, the service instances,
// and the counters -- one consistent snapshot, read in one pass. Final tasks, results,
// final allocations and all events stay on disk and are read on demand (GetTask,
// ListTasks, GetResult, ListTaskEvents, GetAllocation, ListAllocations,
// ListAllocationEvents).
//
// Implementations: SQLite (sqlite_store.h), chosen by OpenStore("sqlite:PATH");
// PostgreSQL ("postgresql://...") arrives in a later build.
//
// Thread safety: every method may be called from any thread, concurrently. CommitAsync
// callbacks run on a thread of the store, or on a thread inside Commit(); they must be
// quick, must not block, and must not call Commit() or Close() (CommitAsync() is fine).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/batch.h"
#include "store/records.h"

namespace cloudai::store {

// What the master needs to rebuild its state at start-up.
struct Snapshot {
  std::vector<UserRecord> users;
  std::vector<WorkerRecord> workers;          // every registered worker, by registration order
  std::vector<TaskRecord> tasks;              // tasks not in a final state, by submission order
  std::vector<AssignmentRecord> assignments;  // the assignments of those tasks
  std::map<std::string, int64_t> counters;    // every SetCounter() value
  int64_t next_event_seq = 1;                 // one more than the highest TASK_EVENTS seq
  std::vector<AllocationRecord> allocations;  // allocations not in a final state, oldest first
  std::vector<ServiceInstanceRecord> service_instances;  // every instance, by service name
  int64_t next_allocation_event_seq = 1;      // one more than the highest ALLOCATION_EVENTS seq
};

// Which allocations ListAllocations() returns, newest first.
struct AllocationFilter {
  std::optional<AllocationState> state;  // none: every state
  std::string job_id;                    // empty: every job
  size_t limit = 0;                      // 0: kDefaultListLimit; at most kMaxListLimit
};

// Which tasks ListTasks() returns, in submission order (oldest first unless
// newest_first). For the next page, pass the last task's id as after_task_id.
struct TaskFilter {
  std::optional<TaskState> status;  // none: every state
  std::string worker_id;            // empty: every worker (matches TaskRecord::worker_id)
  std::string user_id;              // empty: every user
  size_t limit = 0;                 // 0: kDefaultListLimit; at most kMaxListLimit
  std::string after_task_id;        // empty: from the first (or newest)
  bool newest_first = false;
};
inline constexpr size_t kDefaultListLimit = 100;
inline constexpr size_t kMaxListLimit = 10'000;

// Counters of the commit path, since the store was opened.
struct CommitStats {
  uint64_t batches = 0;         // batches handed to Commit()/CommitAsync() and processed
  uint64_t failed_batches = 0;  // of which failed (invalid, constraint, I/O error, closed)
  uint64_t groups = 0;          // groups the committer took from its queue
  uint64_t transactions = 0;    // database transactions committed
  uint64_t largest_group = 0;   // most batches in one group
};

using CommitCallback = std::function<void(absl::Status)>;

class Store {
 public:
  virtual ~Store() = default;

  // Applies `batch` atomically and durably; returns once it is committed (OK) or has
  // failed (nothing of it applied). Refused with FAILED_PRECONDITION after Close().
  // Errors: INVALID_ARGUMENT (a record fails ValidateRecord), ALREADY_EXISTS,
  // NOT_FOUND, FAILED_PRECONDITION (a reference to a missing task, worker or
  // allocation), and UNAVAILABLE for the disk or the database file itself; in that last
  // case, when the failure came from the final sync, the batch may yet be found on disk
  // after a restart (as with any database).
  virtual absl::Status Commit(Batch batch) = 0;
  // As Commit(), without waiting: `done` runs exactly once with the outcome, after the
  // commit (see the thread-safety note above). After Close(), `done` runs at once, on
  // the calling thread, with FAILED_PRECONDITION.
  virtual void CommitAsync(Batch batch, CommitCallback done) = 0;

  // Everything the master loads at start-up, from one consistent read.
  virtual absl::StatusOr<Snapshot> LoadAll() const = 0;

  // NOT_FOUND when there is no such row. A row that fails validation is DATA_LOSS,
  // naming the table, the row and the column.
  virtual absl::StatusOr<TaskRecord> GetTask(std::string_view task_id) const = 0;
  virtual absl::StatusOr<std::vector<TaskRecord>> ListTasks(const TaskFilter& filter) const = 0;
  virtual absl::StatusOr<ResultRecord> GetResult(std::string_view task_id) const = 0;
  // The task's events in seq order; empty when there are none (or no such task).
  virtual absl::StatusOr<std::vector<TaskEvent>> ListTaskEvents(std::string_view task_id) const = 0;
  virtual absl::StatusOr<WorkerRecord> GetWorker(std::string_view worker_id) const = 0;
  virtual absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() const = 0;
  virtual absl::StatusOr<AssignmentRecord> GetAssignment(std::string_view task_id) const = 0;
  virtual absl::StatusOr<std::vector<AssignmentRecord>> ListAssignments(
      std::string_view worker_id) const = 0;

  virtual absl::StatusOr<AllocationRecord> GetAllocation(std::string_view allocation_id) const = 0;
  virtual absl::StatusOr<std::vector<AllocationRecord>> ListAllocations(
      const AllocationFilter& filter) const = 0;
  // The allocation's events in seq order; empty when there are none.
  virtual absl::StatusOr<std::vector<AllocationEvent>> ListAllocationEvents(
      std::string_view allocation_id) const = 0;

  virtual CommitStats Stats() const = 0;

  // Commits everything already queued, then releases the database. Later commits and
  // reads fail with FAILED_PRECONDITION. Idempotent; the destructor calls it.
  virtual void Close() = 0;
};

// Opens the store a URL names:
//   sqlite:PATH         an SQLite database file (created, with mode 0600, when missing)
//   sqlite::memory:     a private in-memory database (tests)
//   postgresql://...    refused: not implemented yet in this build
// Anything else is INVALID_ARGUMENT naming the accepted forms.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url);

}  // namespace cloudai::store
