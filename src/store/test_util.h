// Helpers for the store's tests: records with every field filled in, and a fixture that
// gives each test its own database file in a fresh directory (removed afterwards).
//
// Thread safety: the record helpers are pure; a fixture belongs to its test.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/records.h"
#include "store/store.h"

namespace cloudai::store {

inline constexpr int64_t kT0 = 1'700'000'000'000;  // a Unix time in ms

inline std::string Message(const absl::Status& s) { return std::string(s.message()); }

inline WorkerRecord MakeWorker(std::string id) {
  WorkerRecord w;
  w.worker_id = std::move(id);
  w.worker_ip = "10.0.0.7:50052";
  w.total = Resources::Of(8000, 16 * 1024, 500 * 1024, 2000);
  w.total.SetExtra("fpga", 1);
  w.is_active = true;
  w.last_heartbeat = kT0 + 5000;
  w.registered_at = kT0;
  w.updated_at = kT0 + 5000;
  w.driver = "docker";
  w.hostname = "node-7";
  return w;
}

inline TaskRecord MakeTask(std::string id, TaskState state = TaskState::kPending,
                           std::string worker = "") {
  TaskRecord t;
  t.task_id = std::move(id);
  t.user_id = "alice";
  t.docker_image = "busybox:1.36";
  t.command = "echo 'hello world' && sleep 1";
  t.request = Resources::Of(1500, 512, 1024, 500);
  t.request.SetExtra("license.matlab", 1);
  t.priority = -2;
  t.max_retries = 3;
  t.status = state;
  t.created_at = kT0;
  t.env = {{"A", "1"}, {"TRICKY", "x=y&z%\n\xff"}};
  t.timeout_ms = 60'000;
  if (state != TaskState::kPending) {
    t.worker_id = std::move(worker);
    t.scheduled_at = kT0 + 10;
  }
  if (state == TaskState::kRunning || IsFinal(state)) t.started_at = kT0 + 20;
  if (IsFinal(state)) {
    t.completed_at = kT0 + 30;
    t.exit_code = state == TaskState::kCompleted ? 0 : 137;
    if (state != TaskState::kCompleted) t.error = "killed";
  }
  return t;
}

inline TaskEvent Event(std::string task_id, std::optional<TaskState> from, TaskState to,
                       int64_t at) {
  return TaskEvent{0, std::move(task_id), from, to, at, "because"};
}

// An allocation with every field filled in; active ones hold `workers` slots.
inline AllocationRecord MakeAllocation(std::string id,
                                       AllocationState state = AllocationState::kActive,
                                       std::string job = "job-1") {
  AllocationRecord a;
  a.allocation_id = std::move(id);
  a.job_id = std::move(job);
  a.state = state;
  a.priority = AllocationPriority::kHigh;
  a.workers = 3;
  a.per_worker = Resources::Of(1500, 2048, 10 * 1024, 500);
  a.per_worker.SetExtra("fpga", 1);
  if (state == AllocationState::kActive || state == AllocationState::kReleasing) {
    for (const char* worker : {"w-1", "w-1", "w|odd;id %"}) {
      a.slots.push_back(AllocationSlot{worker, a.per_worker});
    }
    a.activated_at = kT0 + 50;
  }
  a.services = {"echo", "redis,cache"};
  a.metadata = {{"owner", "alice"}, {"note", "a=b&c %\n\xff"}, {"empty", ""}};
  a.wait = false;
  a.ttl_ms = 3'600'000;
  a.created_at = kT0;
  a.expires_at = kT0 + a.ttl_ms;
  if (IsFinal(state)) a.ended_at = kT0 + 900;
  a.reason = state == AllocationState::kPending ? "waiting for 3 slots" : "";
  return a;
}

inline AllocationEvent AllocEvent(std::string allocation_id, std::optional<AllocationState> from,
                                  AllocationState to, int64_t at) {
  return AllocationEvent{0, std::move(allocation_id), from, to, at, "because"};
}

// Builds a TaskFilter field by field.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/cloudai_store_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/state.db";
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Store> Open() {
    auto store = OpenStore("sqlite:" + path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void Reopen() {
    store_.reset();
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  // Edits the file directly, as an operator with the sqlite3 shell would.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << " in " << sql;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

}  // namespace cloudai::store
