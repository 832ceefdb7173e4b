// SqliteStore: the Store in one SQLite database file.
//
// The file is in WAL mode with synchronous=FULL: a commit returns only after its WAL
// frames are synced, so an acknowledged batch survives a crash of the master (and, as
// far as the disk keeps its promises, of the machine). Foreign keys are enforced
// (assignments, results, events and service instances name an existing task; an
// assignment names an existing worker; allocation events an existing allocation). The
// schema is versioned (sqlite_schema.h) and migrated on open.
//
// One store per file: Open() takes an exclusive lock on "<path>.lock" for the store's
// lifetime, so a second master pointed at the same file is refused instead of writing
// beside the first (the kernel drops the lock when the process dies, however it dies).
//
// Two connections: the writer, used only by the thread leading a commit group
// (group_committer.h), and a query_only reader for Get*/List*/LoadAll, so reads do not
// wait for a commit's sync and never see uncommitted data. An in-memory database
// (":memory:") has a single connection serving both, under one lock.
//
// Thread safety: as Store -- every method may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cloudai/common/clock.h"
#include "store/group_committer.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

namespace cloudai::store {

struct SqliteStoreOptions {
  // How long a statement waits for a lock held by another process before failing.
  int busy_timeout_ms = 5000;
  // Most batches applied in one transaction.
  size_t max_group_batches = 1024;
  // The schema to bring the database to; tests pass their own lists.
  std::span<const Migration> migrations = SqliteMigrations();
  // Stamps SCHEMA_VERSION.applied_at; the real clock when null.
  std::shared_ptr<Clock> clock;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating and migrating when needed) the database at `path`, or a private
  // in-memory one for ":memory:".
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(std::string_view path,
                                                           SqliteStoreOptions options = {});
  ~SqliteStore() override;

  absl::Status Commit(Batch batch) override;
  void CommitAsync(Batch batch, CommitCallback done) override;

  absl::StatusOr<Snapshot> LoadAll() const override;
  absl::StatusOr<TaskRecord> GetTask(std::string_view task_id) const override;
  absl::StatusOr<std::vector<TaskRecord>> ListTasks(const TaskFilter& filter) const override;
  absl::StatusOr<ResultRecord> GetResult(std::string_view task_id) const override;
  absl::StatusOr<std::vector<TaskEvent>> ListTaskEvents(std::string_view task_id) const override;
  absl::StatusOr<WorkerRecord> GetWorker(std::string_view worker_id) const override;
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() const override;
  absl::StatusOr<AssignmentRecord> GetAssignment(std::string_view task_id) const override;
  absl::StatusOr<std::vector<AssignmentRecord>> ListAssignments(
      std::string_view worker_id) const override;
  absl::StatusOr<AllocationRecord> GetAllocation(std::string_view allocation_id) const override;
  absl::StatusOr<std::vector<AllocationRecord>> ListAllocations(
      const AllocationFilter& filter) const override;
  absl::StatusOr<std::vector<AllocationEvent>> ListAllocationEvents(
      std::string_view allocation_id) const override;

  CommitStats Stats() const override;
  void Close() override;

  // The schema version the database is at (the last migration's).
  int schema_version() const { return schema_version_; }

 private:
  SqliteStore(std::unique_ptr<SqliteConnection> writer, std::unique_ptr<SqliteConnection> reader,
              int lock_fd, int schema_version, size_t max_group_batches);

  // The group committer's apply function: one transaction, a savepoint per batch.
  int ApplyGroup(std::span<PendingCommit* const> group);

  // Runs `read(conn)` on the reader connection under its lock; FAILED_PRECONDITION
  // once closed.
  template <typename T, typename ReadFn>
  absl::StatusOr<T> Read(ReadFn read) const;

  const bool separate_reader_;
  const int lock_fd_;  // flock on "<path>.lock"; -1 in memory
  const int schema_version_;

  mutable std::mutex writer_mu_;  // guards writer_ (and serves reads without a reader_)
  std::unique_ptr<SqliteConnection> writer_;
  mutable std::mutex reader_mu_;  // guards reader_
  std::unique_ptr<SqliteConnection> reader_;

  std::unique_ptr<GroupCommitter> committer_;
  std::once_flag close_once_;
};

}  // namespace cloudai::store
