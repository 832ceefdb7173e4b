#include "store/group_committer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace cloudai::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A batch whose counter name says what the fake database does with it.
Batch Named(std::string name) { return std::move(Batch().SetCounter(std::move(name), 0)); }

std::string NameOf(const PendingCommit& c) {
  return std::get<mutation::SetCounter>(c.batch.mutations()[0]).name;
}

// Stands in for a database: records every group, fails batches named "bad", and takes
// `sync` per group as a disk would.
class FakeDatabase {
 public:
  explicit FakeDatabase(std::chrono::microseconds sync = std::chrono::microseconds(0))
      : sync_(sync) {}

  int Apply(std::span<PendingCommit* const> group) {
    std::vector<std::string> names;
    for (PendingCommit* c : group) {
      names.push_back(NameOf(*c));
      c->status = names.back() == "bad" ? absl::AlreadyExistsError("bad batch") : absl::OkStatus();
    }
    EXPECT_FALSE(applying_.exchange(true)) << "two groups applied at once";
    std::this_thread::sleep_for(sync_);
    applying_ = false;
    std::lock_guard<std::mutex> lock(mu_);
    groups_.push_back(std::move(names));
    return 1;
  }

  std::vector<std::vector<std::string>> groups() {
    std::lock_guard<std::mutex> lock(mu_);
    return groups_;
  }

  GroupCommitter::ApplyFn Fn() {
    return [this](std::span<PendingCommit* const> g) { return Apply(g); };
  }

 private:
  const std::chrono::microseconds sync_;
  std::atomic<bool> applying_{false};
  std::mutex mu_;
  std::vector<std::vector<std::string>> groups_;
};

TEST(GroupCommitter, CommitReturnsTheOutcome) {
  FakeDatabase db;
  GroupCommitter committer(db.Fn(), 100);
  EXPECT_TRUE(committer.Commit(Named("a")).ok());
  EXPECT_EQ(committer.Commit(Named("bad")).code(), absl::StatusCode::kAlreadyExists);
  const CommitStats stats = committer.Stats();
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.failed_batches, 1u);
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.transactions, 2u);
}

TEST(GroupCommitter, ConcurrentCommitsShareTransactions) {
  FakeDatabase db(std::chrono::microseconds(500));
  GroupCommitter committer(db.Fn(), 1000);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!committer.Commit(Named("ok")).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const CommitStats stats = committer.Stats();
  EXPECT_EQ(stats.batches, uint64_t{kThreads * kPerThread});
  EXPECT_LT(stats.transactions * 2, stats.batches) << "groups: " << stats.groups;
  EXPECT_GT(stats.largest_group, 1u);
}

TEST(GroupCommitter, AsyncCallbacksRunInOrderAndAFailingBatchFailsAlone) {
  FakeDatabase db;
  GroupCommitter committer(db.Fn(), 1000);
  // The first callback holds the committer until the rest are queued, so they form
  // one group.
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  std::vector<std::string> order;
  committer.CommitAsync(Named("first"), [&](absl::Status s) {
    std::unique_lock<std::mutex> lock(mu);
    order.push_back("first");
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  std::vector<absl::Status> outcomes(3);
  int i = 0;
  for (const char* name : {"a", "bad", "b"}) {
    committer.CommitAsync(Named(name), [&, i, name](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(name);
      outcomes[i] = s;
    });
    ++i;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
  committer.Close();
  EXPECT_THAT(order, ElementsAre("first", "a", "bad", "b"));
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_THAT(db.groups(), ElementsAre(ElementsAre("first"), ElementsAre("a", "bad", "b")));
}

TEST(GroupCommitter, GroupsAreCappedAndKeepArrivalOrder) {
  FakeDatabase db(std::chrono::microseconds(200));
  GroupCommitter committer(db.Fn(), 3);
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) {
    committer.CommitAsync(Named(std::to_string(i)), [&](absl::Status) { ++done; });
  }
  committer.Close();
  EXPECT_EQ(done.load(), 20);
  std::vector<std::string> all;
  for (const auto& g : db.groups()) {
    EXPECT_LE(g.size(), 3u);
    all.insert(all.end(), g.begin(), g.end());
  }
  ASSERT_EQ(all.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(all[i], std::to_string(i));
}

TEST(GroupCommitter, CloseDrainsTheQueueThenRefuses) {
  FakeDatabase db(std::chrono::microseconds(100));
  GroupCommitter committer(db.Fn(), 1000);
  std::atomic<int> ok{0};
  for (int i = 0; i < 200; ++i) {
    committer.CommitAsync(Named("x"), [&](absl::Status s) { ok += s.ok(); });
  }
  committer.Close();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(committer.Commit(Named("late")).code(), absl::StatusCode::kFailedPrecondition);
  bool called = false;
  committer.CommitAsync(Named("late"), [&](absl::Status s) {
    called = true;
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  });
  EXPECT_TRUE(called);
  committer.Close();  // idempotent
}

TEST(GroupCommitter, CommitFromACallbackIsRefusedNotDeadlocked) {
  FakeDatabase db;
  GroupCommitter committer(db.Fn(), 10);
  std::promise<absl::Status> inner;
  std::promise<absl::Status> nested_async;
  committer.CommitAsync(Named("outer"), [&](absl::Status) {
    inner.set_value(committer.Commit(Named("inner")));
    committer.CommitAsync(Named("nested"), [&](absl::Status s) { nested_async.set_value(s); });
  });
  const absl::Status s = inner.get_future().get();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("use CommitAsync"));
  EXPECT_TRUE(nested_async.get_future().get().ok());
}

TEST(GroupCommitter, MixedSyncAndAsyncFromManyThreads) {
  FakeDatabase db(std::chrono::microseconds(300));
  GroupCommitter committer(db.Fn(), 64);
  std::atomic<int> async_ok{0}, sync_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if ((i + t) % 2 == 0) {
          sync_ok += committer.Commit(Named("s")).ok();
        } else {
          committer.CommitAsync(Named("a"), [&](absl::Status s) { async_ok += s.ok(); });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  committer.Close();
  EXPECT_EQ(sync_ok.load() + async_ok.load(), 400);
  EXPECT_EQ(committer.Stats().batches, 400u);
}

}  // namespace
}  // namespace cloudai::store
