// What a restarted master finds: everything acknowledged before a SIGKILL, a large
// state loaded fast, and damaged rows reported instead of trusted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cloudai::store {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

using SqliteRecoveryTest = SqliteStoreTest;

TEST_F(SqliteRecoveryTest, BadRowsAreErrorsNamingTableRowAndColumn) {
  ResultRecord r;
  r.task_id = "t-2";
  r.worker_id = "w-1";
  r.status = TaskState::kCompleted;
  ASSERT_TRUE(store_
                  ->Commit(Batch()
                               .UpsertWorker(MakeWorker("w-1"))
                               .InsertTask(MakeTask("t-1"))
                               .InsertTask(MakeTask("t-2", TaskState::kCompleted, "w-1"))
                               .InsertResult(r)
                               .AppendTaskEvent(Event("t-1", std::nullopt, TaskState::kPending, 1)))
                  .ok());
  store_.reset();

  struct Case {
    std::string sql;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"UPDATE TASKS SET req_cpu = -5 WHERE task_id = 't-1'",
       {"TASKS row 1 (task_id \"t-1\"), column req_cpu: -5 is negative"}},
      {"UPDATE TASKS SET status = 'bogus' WHERE task_id = 't-1'",
       {"column status: unknown task state \"bogus\""}},
      {"UPDATE TASKS SET req_memory = 'lots' WHERE task_id = 't-1'",
       {"column req_memory: expected an integer, found text \"lots\""}},
      {"UPDATE TASKS SET req_gpu = 2.5 WHERE task_id = 't-1'",
       {"column req_gpu: expected an integer, found a real number"}},
      {"UPDATE TASKS SET req_storage = 9223372036854775807 WHERE task_id = 't-1'",
       {"column req_storage: 9223372036854775807 is above the limit"}},
      {"UPDATE TASKS SET req_extras = 'fpga=-2' WHERE task_id = 't-1'",
       {"column req_extras: ", "-2 is negative"}},
      {"UPDATE TASKS SET env = 'A=%zz' WHERE task_id = 't-1'", {"column env: malformed escape"}},
      {"UPDATE TASKS SET retries = -1 WHERE task_id = 't-1'", {"column retries: -1 is negative"}},
      {"UPDATE TASKS SET exit_code = 4294967296 WHERE task_id = 't-1'",
       {"column exit_code: 4294967296 is above the limit"}},
      {"UPDATE TASKS SET task_id = '' WHERE task_id = 't-1'",
       {"TASKS row 1, column task_id: must not be empty"}},
      {"UPDATE TASKS SET command = x'00ff' WHERE task_id = 't-1'",
       {"column command: expected text, found a blob"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    std::filesystem::copy_file(path_, path_ + ".orig",
                               std::filesystem::copy_options::overwrite_existing);
    RawExec(c.sql);
    auto store = OpenStore("sqlite:" + path_);
    ASSERT_TRUE(store.ok()) << store.status();
    // The same row, through every read that returns it.
    const absl::Status get = c.sql.find("task_id = ''") == std::string::npos
                                 ? (*store)->GetTask("t-1").status()
                                 : (*store)->GetTask("").status();
    const absl::Status list = (*store)->ListTasks(TaskFilter()).status();
    const absl::Status load = (*store)->LoadAll().status();
    for (const absl::Status* s : {&list, &load}) {
      EXPECT_EQ(s->code(), absl::StatusCode::kDataLoss) << *s;
      for (const std::string& e : c.expected) EXPECT_THAT(Message(*s), HasSubstr(e));
    }
    if (c.sql.find("task_id = ''") == std::string::npos) {
      EXPECT_EQ(get.code(), absl::StatusCode::kDataLoss);
      for (const std::string& e : c.expected) EXPECT_THAT(Message(get), HasSubstr(e));
    }
    store->reset();
    // Undo: back to the good file (and drop the WAL the edit left).
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
    std::filesystem::copy_file(path_ + ".orig", path_,
                               std::filesystem::copy_options::overwrite_existing);
  }

  const std::vector<Case> other_tables = {
      {"UPDATE WORKER_REGISTRY SET total_gpu = -1",
       {"WORKER_REGISTRY row 1 (worker_id \"w-1\"), column total_gpu: -1 is negative"}},
      {"UPDATE WORKER_REGISTRY SET is_active = 7", {"column is_active: 7 is above the limit of 1"}},
      {"UPDATE RESULTS SET status = 'running'",
       {"RESULTS row 1 (task_id \"t-2\"), column status: \"running\" is not a final state"}},
      {"UPDATE RESULTS SET logs = 5", {"column logs: expected bytes, found an integer"}},
      {"UPDATE TASK_EVENTS SET to_state = 'x'",
       {"TASK_EVENTS row 1, column to_state: unknown task state"}},
      {"UPDATE USERS SET role = 'root'", {"USERS row", "column role"}},
  };
  RawExec(
      "INSERT INTO USERS (user_id, username, email, password_hash, role, created_at) "
      "VALUES ('u', '', '', '', 'user', 0)");
  std::filesystem::copy_file(path_, path_ + ".orig",
                             std::filesystem::copy_options::overwrite_existing);
  for (const Case& c : other_tables) {
    SCOPED_TRACE(c.sql);
    RawExec(c.sql);
    auto store = OpenStore("sqlite:" + path_);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::Status s;
    if (c.sql.find("WORKER") != std::string::npos) {
      s = (*store)->GetWorker("w-1").status();
      EXPECT_EQ((*store)->ListWorkers().status().code(), absl::StatusCode::kDataLoss);
    } else if (c.sql.find("RESULTS") != std::string::npos) {
      s = (*store)->GetResult("t-2").status();
    } else if (c.sql.find("EVENTS") != std::string::npos) {
      s = (*store)->ListTaskEvents("t-1").status();
    } else {
      s = (*store)->LoadAll().status();
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    for (const std::string& e : c.expected) EXPECT_THAT(Message(s), HasSubstr(e));
    store->reset();
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
    std::filesystem::copy_file(path_ + ".orig", path_,
                               std::filesystem::copy_options::overwrite_existing);
  }
}

struct Ack {
  int32_t thread;
  int32_t index;
};

std::string AckedId(const Ack& a) {
  return "c-" + std::to_string(a.thread) + "-" + std::to_string(a.index);
}

[[noreturn]] void CommitThenDie(const std::string& path, int ack_fd) {
  auto store = OpenStore("sqlite:" + path);
  if (!store.ok()) _exit(3);
  std::atomic<int> acks{0};
  for (int t = 0; t < 4; ++t) {
    std::thread([&, t] {
      for (int i = 0;; ++i) {
        const Ack ack{t, i};
        const std::string id = AckedId(ack);
        Batch b;
        b.InsertTask(MakeTask(id))
            .AppendTaskEvent(Event(id, std::nullopt, TaskState::kPending, kT0));
        if (!(*store)->Commit(std::move(b)).ok()) _exit(4);
        if (write(ack_fd, &ack, sizeof ack) != sizeof ack) _exit(5);
        ++acks;
      }
    }).detach();
  }
  while (acks < 300) std::this_thread::sleep_for(std::chrono::microseconds(200));
  kill(getpid(), SIGKILL);
  pause();
  _exit(6);
}

TEST_F(SqliteRecoveryTest, AcknowledgedBatchesSurviveSigkill) {
  store_.reset();  // the child opens the file itself
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    CommitThenDie(path_, fds[1]);
  }
  close(fds[1]);
  std::vector<std::string> acked;
  Ack ack;
  while (read(fds[0], &ack, sizeof ack) == sizeof ack) acked.push_back(AckedId(ack));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  ASSERT_GE(acked.size(), 300u);

  store_ = Open();
  ASSERT_NE(store_, nullptr);
  for (const std::string& id : acked) {
    ASSERT_TRUE(store_->GetTask(id).ok()) << id << " was acknowledged but is gone";
  }
  // Whatever reached the disk, acknowledged or not, did so whole: no task without its
  // event.
  auto snap = store_->LoadAll();
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_GE(snap->tasks.size(), acked.size());
  for (const TaskRecord& t : snap->tasks) {
    ASSERT_THAT(store_->ListTaskEvents(t.task_id).value(), SizeIs(1)) << t.task_id;
  }
  std::printf("child acknowledged %zu batches before SIGKILL; %zu found after restart\n",
              acked.size(), snap->tasks.size());
}

TEST_F(SqliteRecoveryTest, LoadAllOfOneHundredThousandTasks) {
  constexpr int kTasks = 100'000;
  constexpr int kWorkers = 100;
  Batch workers;
  for (int w = 0; w < kWorkers; ++w) workers.UpsertWorker(MakeWorker("w-" + std::to_string(w)));
  ASSERT_TRUE(store_->Commit(std::move(workers)).ok());

  // Mixed states: 30% pending, 10% scheduled, 20% running, 40% final.
  constexpr TaskState kStates[10] = {
      TaskState::kPending, TaskState::kPending, TaskState::kPending,   TaskState::kScheduled,
      TaskState::kRunning, TaskState::kRunning, TaskState::kCompleted, TaskState::kCompleted,
      TaskState::kFailed,  TaskState::kLost};
  auto task = [&](int i) {
    char id[32];
    std::snprintf(id, sizeof id, "task-%06d", i);
    TaskRecord t = MakeTask(id, kStates[i % 10], "w-" + std::to_string(i % kWorkers));
    t.created_at = kT0 + i;
    return t;
  };
  Batch b;
  for (int i = 0; i < kTasks; ++i) {
    TaskRecord t = task(i);
    const bool placed = t.status == TaskState::kScheduled || t.status == TaskState::kRunning;
    const std::string worker = t.worker_id;
    const std::string id = t.task_id;
    b.InsertTask(std::move(t));
    if (placed) b.InsertAssignment({"a-" + id, id, worker, kT0 + i});
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->Commit(std::move(b)).ok());
  const double commit_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  Reopen();  // as a restarted master would
  start = std::chrono::steady_clock::now();
  auto snap = store_->LoadAll();
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(snap.ok()) << snap.status();
  std::printf(
      "100k tasks: one-batch commit %.0f ms; LoadAll %.0f ms (%zu live tasks, %zu "
      "assignments, %zu workers)\n",
      commit_ms, load_ms, snap->tasks.size(), snap->assignments.size(), snap->workers.size());
  RecordProperty("load_all_ms", static_cast<int>(load_ms));

  EXPECT_THAT(snap->workers, SizeIs(kWorkers));
  ASSERT_THAT(snap->tasks, SizeIs(kTasks * 6 / 10));
  EXPECT_THAT(snap->assignments, SizeIs(kTasks * 3 / 10));
  // In submission order, each exactly as written.
  int next = 0;
  for (const TaskRecord& t : snap->tasks) {
    while (IsFinal(kStates[next % 10])) ++next;
    ASSERT_EQ(t, task(next)) << next;
    ++next;
  }
  std::set<std::string> live;
  for (const TaskRecord& t : snap->tasks) live.insert(t.task_id);
  for (const AssignmentRecord& a : snap->assignments)
    ASSERT_TRUE(live.count(a.task_id)) << a.task_id;
}

}  // namespace
}  // namespace cloudai::store
