// cloudai-bench-exec-driver: no-op tasks per second through the exec driver, beside a
// bare fork + exec + waitpid of the same command measured in the same run.
//
// The driver runs N tasks `true` with at most C in flight: each exit callback lets the
// next task start, so the rate counts the whole path a worker pays per task (log spool,
// cgroup when the host has them, fork and exec of /bin/sh, output capture, exit
// detection, cleanup, callback). Start-to-exit latency is measured per task from the
// Start() call to its exit callback.
//
// The baseline runs the same number of `/bin/sh -c true` with the same concurrency: C
// threads, each doing fork, exec and waitpid in a loop -- the least any driver can pay.
//
// Output (key=value, one per line):
//   exec_tasks_per_s=<v>  exec_start_to_exit_ms_p50=<v>  exec_start_to_exit_ms_p99=<v>
//   baseline_tasks_per_s=<v>  ratio_vs_baseline=<driver / baseline>
// Flags: --tasks=500 --concurrency=8 --cgroups=auto|off (off: run without task cgroups)
// Diagnostics go to stderr.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "worker/driver/exec_driver.h"
#include "worker/driver/log_spool.h"

namespace cloudai::worker {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  int tasks = 500;
  int concurrency = 8;
  bool cgroups = true;
};

bool ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      return arg.substr(0, name.size()) == name ? argv[i] + name.size() : nullptr;
    };
    if (const char* v = value("--tasks=")) {
      options->tasks = std::atoi(v);
    } else if (const char* v = value("--concurrency=")) {
      options->concurrency = std::atoi(v);
    } else if (const char* v = value("--cgroups=")) {
      options->cgroups = std::string_view(v) != "off";
    } else {
      std::fprintf(stderr, "unknown flag %s\nflags: --tasks=N --concurrency=C --cgroups=auto|off\n",
                   argv[i]);
      return false;
    }
  }
  if (options->tasks < 1 || options->concurrency < 1) {
    std::fprintf(stderr, "--tasks and --concurrency must be at least 1\n");
    return false;
  }
  return true;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// Runs every task through the driver; returns tasks per second and fills `latency_ms`.
double RunDriver(const Options& options, const std::string& dir, std::vector<double>* latency_ms,
                 int* failures) {
  ExecDriverOptions driver_options;
  driver_options.work_dir = dir;
  driver_options.cgroup_parent = options.cgroups ? StrCat("cloudai-bench-", getpid()) : "";
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int done = 0;
  latency_ms->assign(options.tasks, 0);
  const auto t0 = SteadyClock::now();
  {
    ExecDriver driver(driver_options);
    std::fprintf(stderr, "cgroups: %s\n",
                 driver.cgroups_enabled() ? "on"
                                          : StrCat("off (", driver.cgroups_unavailable_reason(),
                                                   ")").c_str());
    for (int i = 0; i < options.tasks; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return in_flight < options.concurrency; });
        ++in_flight;
      }
      TaskSpec spec;
      spec.task_id = StrCat("bench-", i);
      spec.command = "true";
      spec.request = Resources::Of(100, 64);
      auto spool = LogSpool::Create(StrCat(dir, "/", spec.task_id, ".log"));
      if (!spool.ok()) {
        std::fprintf(stderr, "log spool: %s\n", std::string(spool.status().message()).c_str());
        std::exit(1);
      }
      const auto started = SteadyClock::now();
      absl::Status s = driver.Start(
          spec, *spool, [&, i, started](const std::string&, const TaskExit& exit) {
            const auto now = SteadyClock::now();
            std::lock_guard<std::mutex> lock(mu);
            (*latency_ms)[i] = std::chrono::duration<double, std::milli>(now - started).count();
            if (exit.status != "completed") ++*failures;
            --in_flight;
            ++done;
            cv.notify_all();
          });
      if (!s.ok()) {
        std::fprintf(stderr, "start: %s\n", std::string(s.message()).c_str());
        std::exit(1);
      }
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == options.tasks; });
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  if (options.cgroups) {
    for (const char* fs : {"/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"}) {
      rmdir(StrCat(fs, "/", driver_options.cgroup_parent).c_str());
    }
  }
  return options.tasks / seconds;
}

// fork + exec + waitpid of /bin/sh -c true, with the same concurrency.
double RunBaseline(const Options& options) {
  std::atomic<int> next{0};
  const auto t0 = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.concurrency; ++t) {
    threads.emplace_back([&] {
      while (next.fetch_add(1) < options.tasks) {
        const pid_t pid = fork();
        if (pid == 0) {
          execl("/bin/sh", "sh", "-c", "true", static_cast<char*>(nullptr));
          _exit(127);
        }
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return options.tasks / std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

int Main(int argc, char** argv) {
  Options options;
  if (!ParseFlags(argc, argv, &options)) return 2;
  std::string dir = (std::filesystem::temp_directory_path() / "cloudai-exec-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  // Warm-up: page cache, the shell's binary, the driver's first cgroup.
  {
    Options warm = options;
    warm.tasks = std::min(options.tasks, 2 * options.concurrency);
    std::vector<double> ignored;
    int ignored_failures = 0;
    (void)RunBaseline(warm);
    (void)RunDriver(warm, dir, &ignored, &ignored_failures);
  }
  std::vector<double> latency_ms;
  int failures = 0;
  const double driver_rate = RunDriver(options, dir, &latency_ms, &failures);
  const double baseline_rate = RunBaseline(options);
  std::filesystem::remove_all(dir);
  if (failures > 0) std::fprintf(stderr, "%d tasks did not complete\n", failures);
  std::printf("tasks=%d concurrency=%d\n", options.tasks, options.concurrency);
  std::printf("exec_tasks_per_s=%.1f\n", driver_rate);
  std::printf("exec_start_to_exit_ms_p50=%.3f\n", Percentile(latency_ms, 0.50));
  std::printf("exec_start_to_exit_ms_p99=%.3f\n", Percentile(latency_ms, 0.99));
  std::printf("baseline_tasks_per_s=%.1f\n", baseline_rate);
  std::printf("ratio_vs_baseline=%.3f\n", driver_rate / baseline_rate);
  return failures > 0 ? 1 : 0;
}

}  // namespace
}  // namespace cloudai::worker

int main(int argc, char** argv) { return cloudai::worker::Main(argc, argv); }
