// ExecDriver: runs a task's command as a child process of the CloudAI worker, for hosts
// without a Docker engine (as Nomad's exec driver).
//
// Each task runs `/bin/sh -c <command>` in its own process group, with stdout and stderr
// written to its LogSpool. Where the cgroup v2 hierarchy is writable, the task also gets
// its own cgroup (v2 or v1, see cgroup.h) with CPU and memory limits from its request;
// where it is not, the task runs without limits and its log says so. Cancel and timeouts
// send SIGTERM to the whole group, then SIGKILL after the grace period. When the shell
// exits, whatever it left running in its group or cgroup is killed, as when a container's
// main process ends; the exit is reported once the output has drained (every byte of it
// is in the spool first), or one grace period later if a process that escaped both the
// group and the cgroup still holds the output open.
//
// Each task has a thread of its own: Start only registers the task and starts that
// thread, which makes the cgroup and spawns the shell without copying the worker's page
// tables (clone with CLONE_VM and CLONE_VFORK, as posix_spawn does; the child joins its
// cgroup itself before it execs). A task cancelled before it was spawned never runs; one
// that cannot be spawned ends "failed", its error saying why. The thread then waits in
// poll() on the output pipe, a pidfd of the shell (Linux 5.3 and later) and an eventfd
// that Cancel writes, so output, the shell's exit and a cancel are each seen at once; on
// kernels without pidfd_open the shell's exit is checked every 100 ms instead.
//
// Thread safety: every method may be called from any thread, the exit callback included.
// The destructor kills every task and waits until each thread has returned from its exit
// callback.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "worker/driver/cgroup.h"
#include "worker/driver/driver.h"

namespace cloudai::worker {

struct ExecDriverOptions {
  // Working directory of the tasks.
  std::string work_dir = "/tmp";
  // Where cgroup file systems are mounted, and the parent cgroup of the tasks' cgroups
  // (an empty parent disables cgroups).
  std::string cgroup_fs_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "cloudai";
  // From SIGTERM to SIGKILL on cancel and timeout; also how long output may go on
  // draining after the shell has exited and its group was killed.
  std::chrono::milliseconds kill_grace{5000};
};

class ExecDriver final : public Driver {
 public:
  explicit ExecDriver(ExecDriverOptions options);
  ~ExecDriver() override;

  std::string_view Name() const override { return "exec"; }
  absl::Status Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                     ExitCallback on_exit) override;
  absl::Status Cancel(const std::string& task_id) override;
  std::vector<std::string> Running() const override;

  // Whether tasks get cgroup limits on this host (decided at construction), and why not.
  bool cgroups_enabled() const { return cgroups_ != nullptr; }
  const std::string& cgroups_unavailable_reason() const { return no_cgroups_reason_; }

 private:
  struct Task;
  // Makes the task's cgroup and spawns its shell (sets pid, out_fd, pidfd).
  absl::Status Launch(Task& task);
  // Collects the output until the shell has exited and its output is drained; kills
  // what it left, reaps it and returns its wait status.
  int WaitForExit(Task& task);
  // Launch, WaitForExit, then the exit report; on the task's own thread.
  void Supervise(std::shared_ptr<Task> task);
  void Signal(Task& task, int sig);
  // Wakes the task's thread (it then looks at its cancel and kill flags).
  static void Wake(const Task& task);

  const ExecDriverOptions options_;
  std::unique_ptr<CgroupHost> cgroups_;
  std::string no_cgroups_reason_;
  mutable std::mutex mu_;
  std::condition_variable all_done_;
  std::map<std::string, std::shared_ptr<Task>> tasks_;
  int live_threads_ = 0;
};

}  // namespace cloudai::worker
