#include "store/group_committer.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace cloudai::store {
namespace {

// The committer whose group this thread is leading, to refuse Commit() from a callback
// (which would wait for itself).
thread_local const GroupCommitter* tls_leading = nullptr;

absl::Status ClosedError() {
  return absl::FailedPreconditionError("store is closed; the commit was not applied");
}

}  // namespace

GroupCommitter::GroupCommitter(ApplyFn apply, size_t max_group_batches)
    : apply_(std::move(apply)), max_group_batches_(std::max<size_t>(1, max_group_batches)) {
  background_ = std::thread([this] { BackgroundLoop(); });
}

GroupCommitter::~GroupCommitter() { Close(); }

absl::Status GroupCommitter::Commit(Batch batch) {
  if (tls_leading == this) {
    return absl::FailedPreconditionError(
        "Commit() called from a commit callback would wait for itself; use CommitAsync()");
  }
  Entry entry;
  entry.commit.batch = std::move(batch);
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return ClosedError();
  queue_.push_back(&entry);
  while (!entry.done) {
    if (!leading_) {
      LeadOneGroup(lock);
    } else {
      waiters_cv_.wait(lock);
    }
  }
  return std::move(entry.commit.status);
}

void GroupCommitter::CommitAsync(Batch batch, CommitCallback done) {
  auto entry = std::make_unique<Entry>();
  entry->commit.batch = std::move(batch);
  entry->callback = done ? std::move(done) : [](absl::Status) {};
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) {
    lock.unlock();
    entry->callback(ClosedError());
    return;
  }
  queue_.push_back(entry.release());
  if (!leading_) background_cv_.notify_one();
}

void GroupCommitter::LeadOneGroup(std::unique_lock<std::mutex>& lock) {
  leading_ = true;
  const size_t n = std::min(queue_.size(), max_group_batches_);
  std::vector<Entry*> group(queue_.begin(), queue_.begin() + n);
  queue_.erase(queue_.begin(), queue_.begin() + n);
  std::vector<PendingCommit*> commits;
  commits.reserve(n);
  for (Entry* e : group) commits.push_back(&e->commit);

  lock.unlock();
  const int transactions = apply_(commits);
  lock.lock();

  stats_.batches += n;
  stats_.groups += 1;
  stats_.transactions += static_cast<uint64_t>(std::max(transactions, 0));
  stats_.largest_group = std::max<uint64_t>(stats_.largest_group, n);
  std::vector<Entry*> async;
  bool any_sync = false;
  for (Entry* e : group) {
    if (!e->commit.status.ok()) ++stats_.failed_batches;
    if (e->callback) {
      async.push_back(e);
    } else {
      // The owner may return (and destroy *e) as soon as it sees this.
      e->done = true;
      any_sync = true;
    }
  }
  if (any_sync) waiters_cv_.notify_all();

  if (!async.empty()) {
    lock.unlock();
    tls_leading = this;
    for (Entry* e : async) {
      e->callback(std::move(e->commit.status));
      delete e;
    }
    tls_leading = nullptr;
    lock.lock();
  }
  leading_ = false;
  if (!queue_.empty()) {
    // Whoever gets the lock first leads the next group: a waiting Commit() caller or
    // the background thread.
    waiters_cv_.notify_all();
    background_cv_.notify_one();
  } else if (closed_) {
    background_cv_.notify_one();
  }
}

void GroupCommitter::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!leading_ && !queue_.empty()) {
      LeadOneGroup(lock);
      continue;
    }
    if (closed_ && !leading_ && queue_.empty()) return;
    background_cv_.wait(lock);
  }
}

void GroupCommitter::Close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      background_cv_.notify_one();
    }
    background_.join();
  });
}

CommitStats GroupCommitter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace cloudai::store
