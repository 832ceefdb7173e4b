#include "worker/driver/exec_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <optional>
#include <thread>

#include "cloudai/common/clock.h"
#include "common/strings.h"

namespace cloudai::worker {
struct ExecDriver::Task {
  TaskSpec spec;
  std::shared_ptr<LogSpool> spool;
  ExitCallback on_exit;
  pid_t pid = -1;
  int out_fd = -1;  // the child's stdout and stderr, merged in order of arrival
  std::unique_ptr<TaskCgroup> cgroup;  // null: none
  int64_t started_at_ms = 0;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> timed_out{false};
};

ExecDriver::ExecDriver(ExecDriverOptions options) : options_(std::move(options)) {
  cgroups_ = CgroupHost::Detect(options_.cgroup_fs_root, options_.cgroup_parent,
                                &no_cgroups_reason_);
}

ExecDriver::~ExecDriver() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [id, task] : tasks_) {
    task->cancelled = true;
    Signal(*task, SIGKILL);
  }
  all_done_.wait(lock, [this] { return live_threads_ == 0; });
}

absl::Status ExecDriver::Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                               ExitCallback on_exit) {
  if (spec.command.empty()) return absl::InvalidArgumentError("command: must not be empty");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.count(spec.task_id) != 0) {
      return absl::AlreadyExistsError(StrCat("task ", spec.task_id, " is already running"));
    }
  }
  auto task = std::make_shared<Task>();
  task->spec = spec;
  task->spool = std::move(spool);
  task->on_exit = std::move(on_exit);

  if (cgroups_ != nullptr) {
    absl::StatusOr<std::unique_ptr<TaskCgroup>> cg = cgroups_->Create(spec.task_id, spec.request);
    if (cg.ok()) {
      task->cgroup = std::move(*cg);
    } else {
      (void)task->spool->Append(StrCat("[cloudai] no cgroup for this task: ", cg.status().message(),
                                       "; it runs without CPU and memory limits\n"));
    }
  } else {
    (void)task->spool->Append(StrCat("[cloudai] cgroup limits are not available (",
                                     no_cgroups_reason_,
                                     "); the task runs without CPU and memory limits\n"));
  }

  // Everything the child needs is built before fork: after it only async-signal-safe
  // calls are allowed.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : spec.env) env_strings.push_back(StrCat(k, "=", v));
  env_strings.push_back(StrCat("CLOUDAI_TASK_ID=", spec.task_id));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out[2];
  int sync[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(sync, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out[0], out[1], sync[0], sync[1]}) close(fd);
    return absl::ResourceExhaustedError(StrCat("fork failed: ", std::strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    char go;
    close(sync[1]);
    while (read(sync[0], &go, 1) < 0 && errno == EINTR) {
    }
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (chdir(options_.work_dir.c_str()) != 0) _exit(126);
    signal(SIGPIPE, SIG_DFL);
    execle("/bin/sh", "sh", "-c", spec.command.c_str(), static_cast<char*>(nullptr),
           envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so Cancel works before the child runs
  close(out[1]);
  close(sync[0]);
  if (task->cgroup != nullptr) {
    if (absl::Status s = task->cgroup->AddProcess(pid); !s.ok()) {
      (void)task->spool->Append(StrCat("[cloudai] could not move the task into its cgroup: ",
                                       s.message(), "\n"));
    }
  }
  close(sync[1]);  // lets the child exec
  task->pid = pid;
  task->out_fd = out[0];
  task->started_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_[spec.task_id] = task;
    ++live_threads_;
  }
  std::thread([this, task] { Supervise(task); }).detach();
  return absl::OkStatus();
}

void ExecDriver::Signal(Task& task, int sig) {
  if (task.pid > 0) kill(-task.pid, sig);
  if (sig == SIGKILL && task.cgroup != nullptr) task.cgroup->KillAll();
}

void ExecDriver::Supervise(std::shared_ptr<Task> task) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::optional<Clock::time_point> term_sent;
  char buf[16384];
  bool eof = false;
  bool reaped = false;
  int wstatus = 0;
  while (!eof) {
    // When the shell has exited, what it left behind ends with it; its output still
    // drains until every writer is gone.
    if (!reaped && waitpid(task->pid, &wstatus, WNOHANG) == task->pid) {
      reaped = true;
      Signal(*task, SIGKILL);
    }
    // Timeout and cancellation: SIGTERM, then SIGKILL after the grace period.
    const bool timed_out = task->spec.timeout_ms > 0 &&
                           Clock::now() - start > std::chrono::milliseconds(task->spec.timeout_ms);
    if ((task->cancelled || timed_out) && !term_sent) {
      if (timed_out && !task->cancelled) task->timed_out = true;
      Signal(*task, SIGTERM);
      term_sent = Clock::now();
    } else if (term_sent && Clock::now() - *term_sent > options_.kill_grace) {
      Signal(*task, SIGKILL);
    }
    pollfd pfd{task->out_fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = read(task->out_fd, buf, sizeof(buf));
    if (n > 0) {
      (void)task->spool->Append(std::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      eof = true;
    }
  }
  close(task->out_fd);
  // The shell has closed its output; background children of the task may linger in the
  // group: they end with the task.
  while (!reaped && waitpid(task->pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  Signal(*task, SIGKILL);
  task->cgroup.reset();  // removes its directories

  TaskExit exit;
  exit.started_at_ms = task->started_at_ms;
  exit.finished_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
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
  return absl::OkStatus();
}

std::vector<std::string> ExecDriver::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, task] : tasks_) ids.push_back(id);
  return ids;
}

}  // namespace cloudai::worker
