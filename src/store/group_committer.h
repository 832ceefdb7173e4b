// GroupCommitter: turns many concurrent commits into few durable transactions.
//
// Callers hand in batches (Commit() waits, CommitAsync() calls back). Whenever no group
// is being applied, one thread becomes the leader: it takes every batch queued so far
// (up to a limit), in arrival order, and passes them to the apply function, which
// applies them in one database transaction and sets each batch's outcome. While the
// leader waits for the disk, new batches queue up and form the next group.
//
// Who leads: a thread inside Commit() leads its own group (no hand-off to another
// thread when commits arrive one at a time); batches from CommitAsync() are led by the
// committer's background thread, or by any Commit() caller that finds them queued.
// CommitAsync() callbacks run on the leader's thread, in arrival order, before the next
// group starts, so callbacks observe commits in order.
//
// Close() refuses new batches, lets every queued one commit, and stops the background
// thread. The destructor calls it.
//
// The apply function is storage-specific (SQLite, PostgreSQL); this class holds only
// the queueing, so both share it.
//
// Thread safety: Commit(), CommitAsync(), Stats() and Close() may be called from any
// thread. The apply function is never called by two threads at once. Callbacks must not
// call Commit() (refused with FAILED_PRECONDITION) or Close() (deadlock).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>

#include "absl/status/status.h"
#include "store/batch.h"
#include "store/store.h"

namespace cloudai::store {

// One batch on its way to the database, as the apply function sees it.
struct PendingCommit {
  Batch batch;
  absl::Status status;  // the apply function sets the outcome
};

class GroupCommitter {
 public:
  // Applies `group` (in order) and sets every entry's status; returns the number of
  // database transactions it committed (0 when none was needed or it failed).
  using ApplyFn = std::function<int(std::span<PendingCommit* const> group)>;

  GroupCommitter(ApplyFn apply, size_t max_group_batches);
  ~GroupCommitter();

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  absl::Status Commit(Batch batch);
  // `done` runs exactly once; at once on the calling thread if the committer is closed.
  void CommitAsync(Batch batch, CommitCallback done);

  // Drains the queue and stops. Idempotent.
  void Close();

  // batches, failed_batches, groups, transactions, largest_group.
  CommitStats Stats() const;

 private:
  struct Entry {
    PendingCommit commit;
    CommitCallback callback;  // set: asynchronous, heap-allocated, owned by the queue
    bool done = false;        // synchronous entries: set under mu_ once applied
  };

  // Applies one group from the front of the queue. Holds mu_ on entry and on return;
  // releases it around the apply function and the callbacks.
  void LeadOneGroup(std::unique_lock<std::mutex>& lock);
  void BackgroundLoop();

  const ApplyFn apply_;
  const size_t max_group_batches_;

  mutable std::mutex mu_;
  std::condition_variable waiters_cv_;     // a group finished (Commit() callers)
  std::condition_variable background_cv_;  // work for the background thread
  std::deque<Entry*> queue_;
  bool leading_ = false;  // a group is being applied or its callbacks run
  bool closed_ = false;
  CommitStats stats_;

  std::once_flag close_once_;
  std::thread background_;
};

}  // namespace cloudai::store
