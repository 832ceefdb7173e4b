// cloudai-bench-store: durable commit latency and group-commit throughput of the SQLite
// store, LoadAll at 100,000 tasks, beside raw SQLite measured in the same run on the
// same disk.
//
// Every database lives in a fresh directory next to this executable (so on the disk the
// build is on; --dir=PATH puts it elsewhere), removed at the end.
//
//   (a) lone commit: one thread, one small batch at a time (InsertTask + AppendTaskEvent,
//       the shape of a submission), each Commit() timed.
//   (b) throughput: 1, 8 and 32 threads committing such batches as fast as they can for
//       --seconds each; the store groups the batches that queue up during a commit
//       into one transaction (one sync). Stats() says how many groups and transactions
//       that took.
//   (c) LoadAll: 2 workers and 100,000 tasks in mixed states (a fifth of them not final,
//       those placed with their assignment; one event per task), inserted in batches of
//       1,000; the store is then reopened and LoadAll() timed: the median of 3 runs,
//       and the first alone (SQLite's page cache still cold; the OS's is warm).
//   (d) baseline: raw sqlite3 on its own file, WAL, synchronous=FULL, one single-row
//       INSERT + COMMIT per transaction, one thread -- what one durable transaction costs
//       on this disk.
//
// Output, key=value:
//   commit_ms_p50=  commit_ms_p99=  lone_commits_per_s=
//   batches_per_s threads=<n> value=<v> groups=<g> transactions=<t> largest_group=<l>
//   load_insert_tasks_per_s=  loadall_100k_ms= (with loaded_tasks= loaded_assignments=)
//   loadall_100k_first_ms=
//   baseline_commits_per_s=  baseline_commit_ms_p50=
//   ratio_vs_baseline lone=<x>, and ratio_vs_baseline threads=<n> value=<x>
// Flags: --seconds=2 --commits=1000 --tasks=100000 --threads=1,8,32 --dir=PATH
// Progress goes to stderr.

#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "store/batch.h"
#include "store/records.h"
#include "store/store.h"

namespace cloudai::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kT0 = 1'700'000'000'000;  // a Unix time in ms

struct Options {
  double seconds = 2.0;
  int commits = 1000;
  int tasks = 100'000;
  std::vector<int> threads = {1, 8, 32};
  std::string dir;  // empty: next to the executable
};

bool ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      return arg.substr(0, name.size()) == name ? argv[i] + name.size() : nullptr;
    };
    if (const char* v = value("--seconds=")) {
      options->seconds = std::atof(v);
    } else if (const char* v = value("--commits=")) {
      options->commits = std::atoi(v);
    } else if (const char* v = value("--tasks=")) {
      options->tasks = std::atoi(v);
    } else if (const char* v = value("--dir=")) {
      options->dir = v;
    } else if (const char* v = value("--threads=")) {
      options->threads.clear();
      for (std::string_view list = v; !list.empty();) {
        const size_t comma = list.find(',');
        options->threads.push_back(std::atoi(std::string(list.substr(0, comma)).c_str()));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    } else {
      std::fprintf(stderr,
                   "unknown flag %s\nflags: --seconds=2 --commits=1000 --tasks=100000 "
                   "--threads=1,8,32 --dir=PATH\n",
                   argv[i]);
      return false;
    }
  }
  if (options->seconds <= 0 || options->commits < 1 || options->tasks < 1) {
    std::fprintf(stderr, "--seconds, --commits and --tasks must be positive\n");
    return false;
  }
  return true;
}

[[noreturn]] void Die(std::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(what.size()), what.data(),
               std::string(s.message()).c_str());
  std::exit(1);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

double MsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

std::unique_ptr<Store> Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(StrCat("sqlite:", path));
  if (!store.ok()) Die(StrCat("open ", path), store.status());
  return std::move(*store);
}

TaskRecord MakeTask(std::string id, TaskState state, const std::string& worker) {
  TaskRecord t;
  t.task_id = std::move(id);
  t.user_id = "bench";
  t.docker_image = "busybox:1.36";
  t.command = "echo hello && sleep 1";
  t.request = Resources::Of(500, 256);
  t.status = state;
  t.created_at = kT0;
  t.env = {{"A", "1"}};
  if (state != TaskState::kPending) {
    t.worker_id = worker;
    t.scheduled_at = kT0 + 10;
  }
  if (state == TaskState::kRunning || IsFinal(state)) t.started_at = kT0 + 20;
  if (IsFinal(state)) {
    t.completed_at = kT0 + 30;
    t.exit_code = state == TaskState::kCompleted ? 0 : 1;
  }
  return t;
}

// The batch a submission commits: the task and its first event.
Batch SubmitBatch(std::string id) {
  Batch b;
  b.InsertTask(MakeTask(id, TaskState::kPending, ""));
  b.AppendTaskEvent(TaskEvent{0, std::move(id), std::nullopt, TaskState::kPending, kT0,
                              "submitted"});
  return b;
}

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
  double per_s = 0;
};

// (a)
Latency LoneCommits(const std::string& dir, int commits) {
  auto store = Open(dir + "/lone.db");
  for (int i = 0; i < 50; ++i) {  // warm-up
    if (absl::Status s = store->Commit(SubmitBatch(StrCat("warm-", i))); !s.ok()) Die("commit", s);
  }
  std::vector<double> ms;
  ms.reserve(commits);
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < commits; ++i) {
    const auto c0 = SteadyClock::now();
    if (absl::Status s = store->Commit(SubmitBatch(StrCat("lone-", i))); !s.ok()) Die("commit", s);
    ms.push_back(MsSince(c0));
  }
  const double total_ms = MsSince(t0);
  return {Percentile(ms, 0.50), Percentile(ms, 0.99), commits * 1000.0 / total_ms};
}

// (b)
struct Throughput {
  double batches_per_s = 0;
  CommitStats stats;
};

Throughput Concurrent(const std::string& dir, int threads, double seconds) {
  auto store = Open(StrCat(dir, "/threads-", threads, ".db"));
  const CommitStats before = store->Stats();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> committed{0};
  std::vector<std::thread> pool;
  const auto t0 = SteadyClock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (absl::Status s = store->Commit(SubmitBatch(StrCat("c", t, "-", n))); !s.ok()) {
          Die("commit", s);
        }
        ++n;
      }
      committed += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  const double elapsed_s = MsSince(t0) / 1000.0;
  const CommitStats after = store->Stats();
  Throughput out;
  out.batches_per_s = committed.load() / elapsed_s;
  out.stats.batches = after.batches - before.batches;
  out.stats.groups = after.groups - before.groups;
  out.stats.transactions = after.transactions - before.transactions;
  out.stats.largest_group = after.largest_group;
  return out;
}

// (c)
struct Loaded {
  double ms = 0;        // median of 3
  double first_ms = 0;  // the first, right after opening
  size_t tasks = 0;
  size_t assignments = 0;
  double insert_tasks_per_s = 0;
};

Loaded LoadAllAt(const std::string& dir, int tasks) {
  const std::string path = dir + "/loadall.db";
  const std::vector<std::string> workers = {"w-1", "w-2"};
  // Four fifths final, the rest pending, scheduled or running.
  const TaskState kStates[] = {TaskState::kCompleted, TaskState::kCompleted,
                               TaskState::kCompleted, TaskState::kFailed,
                               TaskState::kCompleted, TaskState::kCancelled,
                               TaskState::kCompleted, TaskState::kLost,
                               TaskState::kPending,   TaskState::kRunning};
  double insert_ms = 0;
  {
    auto store = Open(path);
    Batch setup;
    for (const std::string& w : workers) {
      WorkerRecord r;
      r.worker_id = w;
      r.worker_ip = "10.0.0.1:50052";
      r.total = Resources::Of(64000, 256 * 1024);
      r.is_active = true;
      r.registered_at = kT0;
      r.updated_at = kT0;
      r.driver = "exec";
      r.hostname = w;
      setup.UpsertWorker(std::move(r));
    }
    if (absl::Status s = store->Commit(std::move(setup)); !s.ok()) Die("workers", s);
    const auto t0 = SteadyClock::now();
    constexpr int kPerBatch = 1000;
    for (int first = 0; first < tasks; first += kPerBatch) {
      Batch b;
      for (int i = first; i < std::min(tasks, first + kPerBatch); ++i) {
        TaskState state = kStates[i % 10];
        if (state == TaskState::kRunning && i % 20 == 19) state = TaskState::kScheduled;
        const std::string& worker = workers[i % workers.size()];
        const std::string id = StrCat("t-", i);
        b.InsertTask(MakeTask(id, state, worker));
        b.AppendTaskEvent(TaskEvent{0, id, std::nullopt, state, kT0, ""});
        if (state == TaskState::kScheduled || state == TaskState::kRunning) {
          b.InsertAssignment(AssignmentRecord{StrCat("a-", i), id, worker, kT0 + 10});
        }
      }
      if (absl::Status s = store->Commit(std::move(b)); !s.ok()) Die("insert", s);
    }
    insert_ms = MsSince(t0);
  }
  auto store = Open(path);
  std::vector<double> ms;
  Loaded out;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = SteadyClock::now();
    absl::StatusOr<Snapshot> snapshot = store->LoadAll();
    ms.push_back(MsSince(t0));
    if (!snapshot.ok()) Die("LoadAll", snapshot.status());
    out.tasks = snapshot->tasks.size();
    out.assignments = snapshot->assignments.size();
  }
  out.ms = Percentile(ms, 0.5);
  out.first_ms = ms[0];
  out.insert_tasks_per_s = tasks * 1000.0 / insert_ms;
  return out;
}

// (d)
Latency RawSqlite(const std::string& dir, double seconds) {
  const std::string path = dir + "/baseline.db";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite3_open %s failed\n", path.c_str());
    std::exit(1);
  }
  auto exec = [db](const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::fprintf(stderr, "%s: %s\n", sql, error != nullptr ? error : "?");
      std::exit(1);
    }
  };
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_prepare_v2(db, "BEGIN", -1, &begin, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &insert, nullptr);
  sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr);
  auto one = [&](int64_t i) {
    const std::string v = StrCat("row-", i);
    sqlite3_step(begin);
    sqlite3_reset(begin);
    sqlite3_bind_text(insert, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      std::fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
      std::exit(1);
    }
    sqlite3_reset(insert);
    if (sqlite3_step(commit) != SQLITE_DONE) {
      std::fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
      std::exit(1);
    }
    sqlite3_reset(commit);
  };
  for (int i = 0; i < 50; ++i) one(-i - 1);  // warm-up
  std::vector<double> ms;
  const auto t0 = SteadyClock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  int64_t n = 0;
  while (SteadyClock::now() < end) {
    const auto c0 = SteadyClock::now();
    one(n++);
    ms.push_back(MsSince(c0));
  }
  const double total_ms = MsSince(t0);
  for (sqlite3_stmt* s : {begin, insert, commit}) sqlite3_finalize(s);
  sqlite3_close(db);
  return {Percentile(ms, 0.50), Percentile(ms, 0.99), n * 1000.0 / total_ms};
}

int Main(int argc, char** argv) {
  Options options;
  if (!ParseFlags(argc, argv, &options)) return 2;
  std::string parent = options.dir;
  if (parent.empty()) {
    std::error_code ec;
    parent = std::filesystem::canonical("/proc/self/exe", ec).parent_path().string();
    if (ec) parent = ".";
  }
  std::string dir = StrCat(parent, "/cloudai-store-bench-XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::fprintf(stderr, "databases in %s\n", dir.c_str());

  std::fprintf(stderr, "baseline: raw sqlite3 commits...\n");
  const Latency baseline = RawSqlite(dir, options.seconds);
  std::printf("baseline_commits_per_s=%.1f\n", baseline.per_s);
  std::printf("baseline_commit_ms_p50=%.3f\n", baseline.p50_ms);
  std::printf("baseline_commit_ms_p99=%.3f\n", baseline.p99_ms);

  std::fprintf(stderr, "lone commits...\n");
  const Latency lone = LoneCommits(dir, options.commits);
  std::printf("commit_ms_p50=%.3f\n", lone.p50_ms);
  std::printf("commit_ms_p99=%.3f\n", lone.p99_ms);
  std::printf("lone_commits_per_s=%.1f\n", lone.per_s);
  std::printf("ratio_vs_baseline lone=%.3f\n", lone.per_s / baseline.per_s);

  for (int threads : options.threads) {
    std::fprintf(stderr, "%d committing threads...\n", threads);
    const Throughput t = Concurrent(dir, threads, options.seconds);
    std::printf(
        "batches_per_s threads=%d value=%.1f groups=%llu transactions=%llu "
        "batches_per_group=%.2f largest_group=%llu\n",
        threads, t.batches_per_s, static_cast<unsigned long long>(t.stats.groups),
        static_cast<unsigned long long>(t.stats.transactions),
        t.stats.groups > 0 ? static_cast<double>(t.stats.batches) / t.stats.groups : 0.0,
        static_cast<unsigned long long>(t.stats.largest_group));
    std::printf("ratio_vs_baseline threads=%d value=%.3f\n", threads,
                t.batches_per_s / baseline.per_s);
  }

  std::fprintf(stderr, "LoadAll: inserting %d tasks...\n", options.tasks);
  const Loaded loaded = LoadAllAt(dir, options.tasks);
  std::printf("load_insert_tasks_per_s=%.1f\n", loaded.insert_tasks_per_s);
  const std::string size = options.tasks == 100'000 ? "100k" : StrCat(options.tasks);
  std::printf("loadall_%s_ms=%.1f loaded_tasks=%zu loaded_assignments=%zu\n", size.c_str(),
              loaded.ms, loaded.tasks, loaded.assignments);
  std::printf("loadall_%s_first_ms=%.1f\n", size.c_str(), loaded.first_ms);

  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cloudai::store

int main(int argc, char** argv) { return cloudai::store::Main(argc, argv); }
