#include "worker/driver/exec_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "cloudai/common/clock.h"
#include "common/strings.h"

namespace cloudai::worker {
namespace {

// A descriptor that becomes readable when the process exits (Linux 5.3 and later); -1
// where the kernel has no pidfd_open.
int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#endif
  return -1;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// What the child needs between clone and exec, all prepared by the parent.
struct SpawnArgs {
  const char* command = nullptr;
  const char* work_dir = nullptr;
  char* const* envp = nullptr;
  int out_fd = -1;                       // becomes the child's stdout and stderr
  const char* const* cgroup_procs = nullptr;  // cgroup.procs files the child joins
  size_t cgroup_procs_count = 0;
  sigset_t parent_mask;                  // the mask the command starts with
  int cgroup_errno = 0;                  // set by the child: why it could not join
};

// The child's side: joins the cgroup, becomes its own process group, sets up its file
// descriptors and signals, and execs the shell. It runs on its own stack in the
// parent's memory (CLONE_VM) while the parent waits (CLONE_VFORK), so it makes system
// calls only.
int SpawnedChild(void* arg) {
  auto* args = static_cast<SpawnArgs*>(arg);
  // Into the cgroup before anything runs ("0" is the writing process).
  for (size_t i = 0; i < args->cgroup_procs_count; ++i) {
    const int fd = open(args->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) args->cgroup_errno = errno;
    if (fd >= 0) close(fd);
  }
  setpgid(0, 0);
  dup2(args->out_fd, STDOUT_FILENO);
  dup2(args->out_fd, STDERR_FILENO);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0 && devnull != STDIN_FILENO) {
    dup2(devnull, STDIN_FILENO);
    close(devnull);
  }
  if (chdir(args->work_dir) != 0) _exit(126);
  // Handlers of the worker must not run here (exec resets them, but a signal may come
  // first); SIGPIPE, which the worker ignores, is the default again for the command.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, nullptr, &old) != 0) continue;
    if (sig == SIGPIPE || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
      sigaction(sig, &dfl, nullptr);
    }
  }
  sigprocmask(SIG_SETMASK, &args->parent_mask, nullptr);
  char sh[] = "sh";
  char dash_c[] = "-c";
  char* const argv[] = {sh, dash_c, const_cast<char*>(args->command), nullptr};
  execve("/bin/sh", argv, args->envp);
  _exit(127);
}

// Starts the child as vfork does (no copy of this process's page tables, which a fork
// of a large multi-threaded worker pays for), on a stack of its own. Returns once the
// child has exec'd or exited.
absl::StatusOr<pid_t> Spawn(SpawnArgs& args) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer models every clone as a fork, which a child sharing the memory
  // breaks: under it, a plain fork (the child cannot report a cgroup error back then).
  pthread_sigmask(SIG_SETMASK, nullptr, &args.parent_mask);
  const pid_t pid = fork();
  const int clone_errno = errno;
  if (pid == 0) _exit(SpawnedChild(&args));
#else
  constexpr size_t kStackSize = 64 * 1024;
  std::unique_ptr<char[]> stack(new char[kStackSize]);
  sigset_t all;
  sigfillset(&all);
  // No signal handler of this process may run in the child while it shares its memory.
  pthread_sigmask(SIG_SETMASK, &all, &args.parent_mask);
  const pid_t pid = clone(SpawnedChild, stack.get() + kStackSize,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &args.parent_mask, nullptr);
#endif
  if (pid < 0) {
    return absl::ResourceExhaustedError(StrCat("clone failed: ", std::strerror(clone_errno)));
  }
  return pid;
}

}  // namespace

struct ExecDriver::Task {
  ~Task() { CloseFd(wake_fd); }

  TaskSpec spec;
  std::shared_ptr<LogSpool> spool;
  ExitCallback on_exit;
  pid_t pid = -1;
  int out_fd = -1;  // the child's stdout and stderr, merged in order of arrival
  // Only the supervising thread touches pid, out_fd, pidfd and cgroup.
  int pidfd = -1;   // readable once the shell exits; -1: polled with waitid instead
  int wake_fd = -1;  // eventfd: Cancel and the destructor wake the supervising thread
  std::unique_ptr<TaskCgroup> cgroup;  // null: none
  int64_t started_at_ms = 0;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> kill_now{false};  // the driver is going away: SIGKILL, no grace
  std::atomic<bool> timed_out{false};
};

void ExecDriver::Wake(const Task& task) {
  const uint64_t one = 1;
  (void)!write(task.wake_fd, &one, sizeof(one));
}

ExecDriver::ExecDriver(ExecDriverOptions options) : options_(std::move(options)) {
  cgroups_ = CgroupHost::Detect(options_.cgroup_fs_root, options_.cgroup_parent,
                                &no_cgroups_reason_);
}

ExecDriver::~ExecDriver() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [id, task] : tasks_) {
    task->cancelled = true;
    task->kill_now = true;
    Wake(*task);
  }
  all_done_.wait(lock, [this] { return live_threads_ == 0; });
}

absl::Status ExecDriver::Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                               ExitCallback on_exit) {
  if (spec.command.empty()) return absl::InvalidArgumentError("command: must not be empty");
  auto task = std::make_shared<Task>();
  task->spec = spec;
  task->spool = std::move(spool);
  task->on_exit = std::move(on_exit);
  task->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (task->wake_fd < 0) {
    return absl::ResourceExhaustedError(StrCat("eventfd failed: ", std::strerror(errno)));
  }
  task->started_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!tasks_.emplace(spec.task_id, task).second) {
      return absl::AlreadyExistsError(StrCat("task ", spec.task_id, " is already running"));
    }
    ++live_threads_;
  }
  // The task's own thread makes its cgroup and spawns it, so that Start returns at once
  // and tasks start in parallel.
  try {
    std::thread([this, task] { Supervise(task); }).detach();
  } catch (const std::system_error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.erase(spec.task_id);
    if (--live_threads_ == 0) all_done_.notify_all();
    return absl::ResourceExhaustedError(StrCat("cannot start a thread: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status ExecDriver::Launch(Task& task) {
  if (cgroups_ != nullptr) {
    absl::StatusOr<std::unique_ptr<TaskCgroup>> cg =
        cgroups_->Create(task.spec.task_id, task.spec.request);
    if (cg.ok()) {
      task.cgroup = std::move(*cg);
    } else {
      (void)task.spool->Append(StrCat("[cloudai] no cgroup for this task: ", cg.status().message(),
                                      "; it runs without CPU and memory limits\n"));
    }
  } else {
    (void)task.spool->Append(StrCat("[cloudai] cgroup limits are not available (",
                                    no_cgroups_reason_,
                                    "); the task runs without CPU and memory limits\n"));
  }

  // Everything the child needs is built before it is spawned: it shares this process's
  // memory until it execs, so it may only make system calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : task.spec.env) env_strings.push_back(StrCat(k, "=", v));
  env_strings.push_back(StrCat("CLOUDAI_TASK_ID=", task.spec.task_id));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> procs_files;
  if (task.cgroup != nullptr) {
    for (const std::string& dir : task.cgroup->dirs()) {
      procs_files.push_back(StrCat(dir, "/cgroup.procs"));
    }
  }
  std::vector<const char*> procs_paths;
  for (const std::string& f : procs_files) procs_paths.push_back(f.c_str());

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return absl::ResourceExhaustedError(StrCat("pipe failed: ", std::strerror(errno)));
  }
  SpawnArgs args;
  args.command = task.spec.command.c_str();
  args.work_dir = options_.work_dir.c_str();
  args.envp = envp.data();
  args.out_fd = out[1];
  args.cgroup_procs = procs_paths.data();
  args.cgroup_procs_count = procs_paths.size();
  absl::StatusOr<pid_t> spawned = Spawn(args);
  close(out[1]);
  if (!spawned.ok()) {
    close(out[0]);
    return spawned.status();
  }
  if (args.cgroup_errno != 0) {
    (void)task.spool->Append(StrCat("[cloudai] could not move the task into its cgroup: ",
                                    std::strerror(args.cgroup_errno), "\n"));
  }
  task.pid = *spawned;
  task.out_fd = out[0];
  task.pidfd = OpenPidfd(task.pid);  // only this driver reaps the pid: it is not reused yet
  return absl::OkStatus();
}

void ExecDriver::Signal(Task& task, int sig) {
  if (task.pid > 0) kill(-task.pid, sig);
  if (sig == SIGKILL && task.cgroup != nullptr) task.cgroup->KillAll();
}

void ExecDriver::Supervise(std::shared_ptr<Task> task) {
  absl::Status launched = absl::OkStatus();
  if (!task->cancelled) launched = Launch(*task);
  int wstatus = 0;
  if (task->pid > 0) wstatus = WaitForExit(*task);
  task->cgroup.reset();  // removes its directories

  TaskExit exit;
  exit.started_at_ms = task->started_at_ms;
  exit.finished_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
  if (task->pid <= 0) {
    // Never ran: cancelled first, or could not be started.
    exit.status = task->cancelled ? "cancelled" : "failed";
    if (!launched.ok()) {
      exit.error = StrCat("could not start the command: ", launched.message());
    }
  } else {
    if (WIFEXITED(wstatus)) {
      exit.exit_code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
      exit.exit_code = 128 + WTERMSIG(wstatus);
      exit.error = StrCat("killed by signal ", WTERMSIG(wstatus));
    }
    if (task->cancelled) {
      exit.status = "cancelled";
    } else if (task->timed_out) {
      exit.status = "failed";
      exit.error = StrCat("timed out after ", task->spec.timeout_ms, " ms");
    } else if (exit.exit_code == 0) {
      exit.status = "completed";
    } else {
      exit.status = "failed";
      if (exit.exit_code == 127 && exit.error.empty()) exit.error = "command not found";
    }
  }
  task->spool->Close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.erase(task->spec.task_id);
  }
  task->on_exit(task->spec.task_id, exit);
  // Last: the destructor may run as soon as this count reaches zero.
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_threads_ == 0) all_done_.notify_all();
}

int ExecDriver::WaitForExit(Task& task) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  constexpr Clock::time_point kNever = Clock::time_point::max();
  const Clock::time_point deadline =
      task.spec.timeout_ms > 0 ? start + std::chrono::milliseconds(task.spec.timeout_ms)
                                : kNever;
  std::optional<Clock::time_point> term_sent;
  bool kill_sent = false;
  // Set when the shell has exited: its output then drains until every writer is gone,
  // or for at most the grace period (a process that left both the group and the cgroup
  // may hold the pipe open forever).
  std::optional<Clock::time_point> drain_deadline;
  char buf[16384];
  bool eof = false;
  bool leftovers_killed = false;
  siginfo_t info{};
  // Without a pidfd, the shell's exit is checked every 100 ms (sooner once its output
  // is closed).
  const bool event_driven = task.pidfd >= 0;
  int fallback_poll_ms = 1;
  while (!eof || !drain_deadline) {
    // The shell stays a zombie (not reaped) until the end, so its pid, and with it the
    // process group id, cannot be reused while the group is being signalled.
    if (!drain_deadline) {
      info.si_pid = 0;
      if (waitid(P_PID, task.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == task.pid) {
        // What the shell left behind in its group or cgroup ends with it.
        Signal(task, SIGKILL);
        drain_deadline = Clock::now() + options_.kill_grace;
        if (eof) {
          leftovers_killed = true;  // just now, with nothing left to drain
          break;
        }
      }
    }
    const auto now = Clock::now();
    if (drain_deadline && now >= *drain_deadline) break;
    // Timeout and cancellation: SIGTERM, then SIGKILL after the grace period (at once
    // when the driver is going away).
    if (task.kill_now && !kill_sent) {
      Signal(task, SIGKILL);
      kill_sent = true;
      if (!term_sent) term_sent = now;
    } else if (!term_sent && (task.cancelled || now >= deadline)) {
      if (!task.cancelled) task.timed_out = true;
      Signal(task, SIGTERM);
      term_sent = now;
    } else if (term_sent && !kill_sent && now - *term_sent >= options_.kill_grace) {
      Signal(task, SIGKILL);
      kill_sent = true;
    }
    // Sleep until output, the shell's exit, a Cancel, or the next deadline.
    Clock::time_point wake_at = drain_deadline.value_or(kNever);
    if (!term_sent) wake_at = std::min(wake_at, deadline);
    if (term_sent && !kill_sent) wake_at = std::min(wake_at, *term_sent + options_.kill_grace);
    int timeout_ms = -1;
    if (wake_at != kNever) {
      const int64_t ms = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 24 * 3600 * 1000));
    }
    if (!event_driven && !drain_deadline) {
      // Once the output is closed the shell is usually about to exit: look again soon,
      // then less and less often.
      int cap = 100;
      if (eof) {
        cap = fallback_poll_ms;
        fallback_poll_ms = std::min(2 * fallback_poll_ms, 100);
      }
      if (timeout_ms < 0 || timeout_ms > cap) timeout_ms = cap;
    }
    pollfd pfds[3];
    nfds_t n = 0;
    const nfds_t out_index = eof ? 3 : n;
    if (!eof) pfds[n++] = {task.out_fd, POLLIN, 0};
    const nfds_t pid_index = !drain_deadline && task.pidfd >= 0 ? n : 3;
    if (pid_index != 3) pfds[n++] = {task.pidfd, POLLIN, 0};
    const nfds_t wake_index = !kill_sent ? n : 3;
    if (wake_index != 3) pfds[n++] = {task.wake_fd, POLLIN, 0};
    const int ready = poll(pfds, n, timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (wake_index != 3 && pfds[wake_index].revents != 0) {
      uint64_t count;
      (void)!read(task.wake_fd, &count, sizeof(count));
    }
    if (out_index != 3 && pfds[out_index].revents != 0) {
      const ssize_t got = read(task.out_fd, buf, sizeof(buf));
      if (got > 0) {
        (void)task.spool->Append(std::string_view(buf, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        eof = true;
      }
    }
    // The pidfd's readiness is acted on at the top of the loop (waitid).
  }
  CloseFd(task.out_fd);
  CloseFd(task.pidfd);
  // The shell has closed its output; background children of the task may linger in the
  // group: they end with the task. Then the shell is reaped.
  if (!leftovers_killed) Signal(task, SIGKILL);
  int wstatus = 0;
  while (waitpid(task.pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return wstatus;
}

absl::Status ExecDriver::Cancel(const std::string& task_id) {
  std::shared_ptr<Task> task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end()) {
      return absl::NotFoundError(StrCat("task ", task_id, " is not running here"));
    }
    task = it->second;
  }
  task->cancelled = true;
  Wake(*task);
  return absl::OkStatus();
}

std::vector<std::string> ExecDriver::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, task] : tasks_) ids.push_back(id);
  return ids;
}

}  // namespace cloudai::worker
