// cloudai-bench-e2e: the whole cluster under load, on loopback.
//
// Starts a master and two workers (real processes), registers the workers and submits
// N tasks through the client API from several threads, then waits for every task to
// end. Then it submits 200 tasks one at a time, each after the previous one ended.
// Prints
//   e2e_tasks_per_s=<tasks / (last completion - first submission)>
//   submit_to_start_ms_p50=<v>  submit_to_start_ms_p99=<v>   (one task at a time)
//   loaded_submit_to_start_ms_p50=<v>  _p99=<v>   (the N tasks submitted at once: queueing)
// and, as a baseline measured in the same run, the same command started straight with
// posix_spawn with the cluster's concurrency:
//   direct_spawn_tasks_per_s=<v>  ratio_vs_direct_spawn=<cluster rate / direct rate>
// With --driver docker the tasks are containers of the local test image, and the same
// containers are also run straight through the Docker Engine API (create, start, wait,
// remove) with the same concurrency, in the same run:
//   docker_direct_s=<v>  docker_cluster_s=<v>  docker_overhead_ratio=<cluster / direct>
// With --recovery N the master's store is first filled with N tasks in mixed states;
// the master is killed with SIGKILL and restarted, and
//   recovery_s=<seconds from the restart until it serves reads and has placed a new task>
//
//   cloudai-bench-e2e [--tasks 2000] [--clients 16] [--driver exec|docker]
//                     [--task-cpu-millis 100] [--recovery 100000] [--keep]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bench_cluster.h"
#include "store/store.h"
#include "worker/docker/docker_client.h"

namespace cloudai::bench {
namespace {


struct Flags {
  int tasks = 2000;
  int clients = 16;
  std::string driver = "exec";
  int recovery = 0;
  // Each no-op task's CPU request: with two 2-core workers, 100m lets 40 run at once.
  int task_cpu_millis = 100;
  bool keep = false;
};

v1::Task NoOpTask(const Flags& flags) {
  v1::Task task;
  if (flags.driver == "docker") {
    task.set_docker_image("cloudai-test:busybox");
    task.set_command("true");
    task.set_req_cpu(500);  // four at a time per worker: the concurrency of the direct run
    task.set_req_memory(32);
  } else {
    task.set_docker_image("none");
    task.set_command("true");
    task.set_req_cpu(flags.task_cpu_millis);
    task.set_req_memory(1);
  }
  return task;
}

struct RunResult {
  double seconds = 0;
  std::vector<double> submit_to_start_ms;
};

// Submits `n` tasks from `clients` threads and waits until all have ended.
RunResult SubmitAndWait(BenchCluster& cluster, const Flags& flags, int n) {
  const int64_t first_submit = WallMs();
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  std::mutex mu;
  std::vector<std::string> ids;
  for (int c = 0; c < flags.clients; ++c) {
    clients.emplace_back([&] {
      while (next.fetch_add(1) < n) {
        grpc::ClientContext context;
        cluster.Prepare(context);
        v1::SubmitTaskRequest request;
        *request.mutable_task() = NoOpTask(flags);
        v1::TaskStatus status;
        grpc::Status s = cluster.stub().SubmitTask(&context, request, &status);
        if (!s.ok()) Die("submit: " + s.error_message());
        std::lock_guard<std::mutex> lock(mu);
        ids.push_back(status.task().task_id());
      }
    });
  }
  for (auto& t : clients) t.join();
  // Wait until nothing is queued, placed or running (three one-row queries), then read
  // the tasks' times once.
  const auto deadline = SteadyClock::now() + std::chrono::minutes(10);
  for (;;) {
    bool busy = false;
    for (const char* state : {"pending", "scheduled", "running"}) {
      grpc::ClientContext context;
      cluster.Prepare(context, 60);
      v1::ListTasksRequest request;
      request.set_status(state);
      request.set_limit(1);
      v1::ListTasksResponse response;
      grpc::Status s = cluster.stub().ListTasks(&context, request, &response);
      if (!s.ok()) Die("list: " + s.error_message());
      busy = busy || response.tasks_size() > 0;
    }
    if (!busy) break;
    if (SteadyClock::now() > deadline) Die("tasks did not end within 10 minutes");
    std::this_thread::sleep_for(milliseconds(50));
  }
  const std::unordered_set<std::string> wanted(ids.begin(), ids.end());
  std::vector<v1::TaskStatus> done;
  {
    grpc::ClientContext context;
    cluster.Prepare(context, 60);
    v1::ListTasksRequest request;
    request.set_limit(10000);
    v1::ListTasksResponse response;
    grpc::Status s = cluster.stub().ListTasks(&context, request, &response);
    if (!s.ok()) Die("list: " + s.error_message());
    for (const auto& t : response.tasks()) {
      if (wanted.count(t.task().task_id()) != 0) done.push_back(t);
    }
    if (done.size() != ids.size()) {
      Die(StrCat("listed ", done.size(), " of the ", ids.size(), " tasks submitted"));
    }
  }
  RunResult result;
  int64_t last = first_submit;
  int failed = 0;
  for (const auto& t : done) {
    if (t.status() != "completed") ++failed;
    last = std::max<int64_t>(last, t.completed_at_ms());
    if (t.started_at_ms() > 0) {
      result.submit_to_start_ms.push_back(static_cast<double>(t.started_at_ms() - t.created_at_ms()));
    }
  }
  if (failed > 0) std::cerr << "cloudai-bench-e2e: warning: " << failed << " tasks did not complete\n";
  result.seconds = static_cast<double>(last - first_submit) / 1000.0;
  return result;
}

// The same containers straight through the Engine API, `concurrency` at a time.
double DirectDocker(int n, int concurrency) {
  auto options = worker::docker::DockerClient::OptionsFromEnvironment();
  if (!options.ok()) Die("docker: " + options.status().ToString());
  std::atomic<int> next{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c) {
    threads.emplace_back([&] {
      worker::docker::DockerClient client(*options);
      for (int i; (i = next.fetch_add(1)) < n;) {
        worker::docker::ContainerSpec spec;
        spec.task_id = StrCat("bench-direct-", i);
        spec.image = "cloudai-test:busybox";
        spec.command = "true";
        spec.cpu_millis = 500;
        spec.memory_mib = 32;
        auto id = client.CreateContainer(spec);
        if (!id.ok()) Die("create: " + id.status().ToString());
        if (auto s = client.StartContainer(*id); !s.ok()) Die("start: " + s.ToString());
        if (auto code = client.WaitContainer(*id); !code.ok()) Die("wait: " + code.status().ToString());
        (void)client.RemoveContainer(*id, true);
      }
    });
  }
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Baseline for the exec driver: the same no-op command run straight with posix_spawn
// (/bin/sh -c true), `concurrency` at a time; seconds for `n`.
double DirectExec(int n, int concurrency) {
  std::atomic<int> next{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c) {
    threads.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < n;) {
        pid_t pid = 0;
        char sh[] = "/bin/sh", dash_c[] = "-c", cmd[] = "true";
        char* argv[] = {sh, dash_c, cmd, nullptr};
        if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) != 0) {
          Die("posix_spawn failed");
        }
        int status = 0;
        waitpid(pid, &status, 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

void FillStore(const std::string& state_dir, int n, const std::vector<std::string>& addresses) {
  auto opened = store::OpenStore("sqlite:" + state_dir + "/cloudai.db");
  if (!opened.ok()) Die("store: " + opened.status().ToString());
  store::Store& db = **opened;
  const int64_t now = WallMs();
  store::Batch workers;
  for (int w = 0; w < 2; ++w) {
    store::WorkerRecord record;
    record.worker_id = StrCat("bench-w", w + 1);
    record.worker_ip = addresses[w];
    record.total = Resources::Of(2000, 1024, 1024);
    record.driver = "exec";
    record.registered_at = record.updated_at = now;
    workers.UpsertWorker(record);
  }
  if (auto s = db.Commit(std::move(workers)); !s.ok()) Die("store: " + s.ToString());
  constexpr int kChunk = 5000;
  for (int base = 0; base < n; base += kChunk) {
    store::Batch batch;
    for (int i = base; i < std::min(n, base + kChunk); ++i) {
      store::TaskRecord task;
      task.task_id = StrCat("old-", i);
      task.docker_image = "none";
      task.command = "true";
      task.request = Resources::Of(10, 1);
      task.created_at = now - 1000;
      const int kind = i % 100;
      if (kind < 80) {
        task.status = kind < 75 ? store::TaskState::kCompleted : store::TaskState::kFailed;
        task.worker_id = StrCat("bench-w", i % 2 + 1);
        task.scheduled_at = task.started_at = task.created_at;
        task.completed_at = now - 500;
        task.exit_code = kind < 75 ? 0 : 1;
        batch.InsertTask(task);
        store::ResultRecord result;
        result.task_id = task.task_id;
        result.worker_id = task.worker_id;
        result.status = task.status;
        result.logs = "done\n";
        result.exit_code = task.exit_code;
        result.completed_at = task.completed_at;
        batch.InsertResult(result);
      } else if (kind < 98) {
        task.status = store::TaskState::kCancelled;
        task.completed_at = now - 500;
        batch.InsertTask(task);
      } else {
        // Placed and running, as the master last knew; the workers have never heard of
        // them, so they end up lost after the grace. A thousandth of a core each: they
        // fit on the workers' real capacity, leaving room for the new task.
        task.request = Resources::Of(1, 1);
        task.status = store::TaskState::kRunning;
        task.worker_id = StrCat("bench-w", i % 2 + 1);
        task.scheduled_at = task.started_at = task.created_at;
        batch.InsertTask(task);
        batch.InsertAssignment({StrCat("ass-", task.task_id), task.task_id, task.worker_id,
                                task.created_at});
      }
    }
    if (auto s = db.Commit(std::move(batch)); !s.ok()) Die("store: " + s.ToString());
  }
  db.Close();
}

int Run(const Flags& flags) {
  if (flags.recovery > 0) {
    BenchCluster cluster("e2e", flags.driver, flags.keep);
    std::vector<std::string> addresses = {cluster.StartWorker("bench-w1"),
                                          cluster.StartWorker("bench-w2")};
    FillStore(cluster.state_dir(), flags.recovery, addresses);
    cluster.StartMaster();
    cluster.AwaitActive(2);
    cluster.KillMaster();
    const auto restart = SteadyClock::now();
    cluster.SpawnMaster("master-restarted.log");
    cluster.master()->WaitForLine("serving gRPC on", std::chrono::seconds(60));
    const double listen_s = std::chrono::duration<double>(SteadyClock::now() - restart).count();
    cluster.Connect();
    double read_s = 0;
    integration::WaitUntil(
        [&] {
          grpc::ClientContext context;
          cluster.Prepare(context, 5);
          v1::TaskId id;
          id.set_task_id("old-0");
          v1::TaskStatus status;
          return cluster.stub().GetTask(&context, id, &status).ok();
        },
        std::chrono::seconds(60), milliseconds(2));
    read_s = std::chrono::duration<double>(SteadyClock::now() - restart).count();
    // A new task, ahead of the restored queue.
    v1::Task task = NoOpTask(flags);
    task.set_priority(1000);
    task.set_command("sleep 5");
    std::string new_id;
    integration::WaitUntil(
        [&] {
          grpc::ClientContext context;
          cluster.Prepare(context, 5);
          v1::SubmitTaskRequest request;
          *request.mutable_task() = task;
          v1::TaskStatus status;
          if (!cluster.stub().SubmitTask(&context, request, &status).ok()) return false;
          new_id = status.task().task_id();
          return true;
        },
        std::chrono::seconds(60), milliseconds(2));
    bool placed = integration::WaitUntil(
        [&] {
          grpc::ClientContext context;
          cluster.Prepare(context, 5);
          v1::TaskId id;
          id.set_task_id(new_id);
          v1::TaskStatus status;
          if (!cluster.stub().GetTask(&context, id, &status).ok()) return false;
          if (status.status() == "pending") return false;
          if (status.status() != "scheduled" && status.status() != "running" &&
              status.status() != "completed") {
            Die("the new task ended " + status.status() + ": " + status.error());
          }
          return true;
        },
        std::chrono::seconds(60), milliseconds(2));
    if (!placed) Die("the new task was not placed:\n" + cluster.master()->LogTail());
    const double total = std::chrono::duration<double>(SteadyClock::now() - restart).count();
    std::cout << std::fixed << std::setprecision(3) << "recovery_tasks=" << flags.recovery
              << "\nrecovery_listen_s=" << listen_s << "\nrecovery_read_s=" << read_s << "\nrecovery_s=" << total << std::endl;
    return 0;
  }

  BenchCluster cluster("e2e", flags.driver, flags.keep);
  cluster.StartMaster();
  cluster.StartTwoWorkers();
  if (flags.driver == "docker") {
    // Warm up both paths (image cache, first container) before timing.
    DirectDocker(2, 1);
    SubmitAndWait(cluster, flags, 2);
    const double direct = DirectDocker(flags.tasks, 8);
    RunResult ours = SubmitAndWait(cluster, flags, flags.tasks);
    std::cout << std::fixed << std::setprecision(3) << "docker_tasks=" << flags.tasks
              << "\ndocker_direct_s=" << direct << "\ndocker_cluster_s=" << ours.seconds
              << "\ndocker_overhead_ratio=" << ours.seconds / direct
              << "\nsubmit_to_start_ms_p50=" << Percentile(ours.submit_to_start_ms, 0.5)
              << "\nsubmit_to_start_ms_p99=" << Percentile(ours.submit_to_start_ms, 0.99)
              << std::endl;
    return 0;
  }
  SubmitAndWait(cluster, flags, std::min(100, flags.tasks));  // warm-up
  // As many at once as the cluster runs: two workers of 2 cores, task_cpu_millis each.
  const int concurrency = std::max(1, 4000 / flags.task_cpu_millis);
  const double direct_s = DirectExec(flags.tasks, concurrency);
  RunResult run = SubmitAndWait(cluster, flags, flags.tasks);
  // Latency on a quiet cluster: one client, one task at a time.
  Flags serial = flags;
  serial.clients = 1;
  std::vector<double> quiet;
  for (int i = 0; i < 200; ++i) {
    RunResult one = SubmitAndWait(cluster, serial, 1);
    quiet.insert(quiet.end(), one.submit_to_start_ms.begin(), one.submit_to_start_ms.end());
  }
  std::cout << std::fixed << std::setprecision(2) << "e2e_tasks=" << flags.tasks
            << "\ne2e_seconds=" << run.seconds
            << "\ne2e_tasks_per_s=" << flags.tasks / run.seconds
            << "\ndirect_spawn_tasks_per_s=" << flags.tasks / direct_s
            << "\nratio_vs_direct_spawn=" << direct_s / run.seconds
            << "\nsubmit_to_start_ms_p50=" << Percentile(quiet, 0.5)
            << "\nsubmit_to_start_ms_p99=" << Percentile(quiet, 0.99)
            << "\nloaded_submit_to_start_ms_p50=" << Percentile(run.submit_to_start_ms, 0.5)
            << "\nloaded_submit_to_start_ms_p99=" << Percentile(run.submit_to_start_ms, 0.99)
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace cloudai::bench

int main(int argc, char** argv) {
  cloudai::bench::Flags flags;
  cloudai::bench::ParseFlags(
      argc, argv,
      {.ints = {{"--tasks", &flags.tasks},
                {"--clients", &flags.clients},
                {"--recovery", &flags.recovery},
                {"--task-cpu-millis", &flags.task_cpu_millis}},
       .texts = {{"--driver", &flags.driver}},
       .switches = {{"--keep", &flags.keep}}},
      "cloudai-bench-e2e [--tasks N] [--clients C] [--driver exec|docker] "
      "[--task-cpu-millis M] [--recovery N] [--keep]");
  if (flags.tasks <= 0 || flags.clients <= 0 || flags.recovery < 0 || flags.task_cpu_millis <= 0 ||
      (flags.driver != "exec" && flags.driver != "docker")) {
    std::cerr << "cloudai-bench-e2e: --tasks and --clients must be positive, --driver exec or "
                 "docker\n";
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  return cloudai::bench::Run(flags);
}
