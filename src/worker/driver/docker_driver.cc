#include "worker/driver/docker_driver.h"

#include <atomic>
#include <stop_token>
#include <thread>

#include "cloudai/common/clock.h"
#include "common/strings.h"

namespace cloudai::worker {
struct DockerDriver::Task {
  TaskSpec spec;
  std::shared_ptr<LogSpool> spool;
  ExitCallback on_exit;
  std::stop_source stop;  // requested on cancel or timeout
  std::atomic<bool> cancelled{false};
  std::atomic<bool> timed_out{false};
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
};

DockerDriver::DockerDriver(std::shared_ptr<docker::DockerClient> client,
                           DockerDriverOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

DockerDriver::~DockerDriver() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [id, task] : tasks_) {
    task->cancelled = true;
    task->stop.request_stop();
  }
  all_done_.wait(lock, [this] { return live_threads_ == 0; });
}

absl::Status DockerDriver::Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                                 ExitCallback on_exit) {
  if (absl::Status s = docker::ValidateImageRef(spec.image); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("image: ", s.message()));
  }
  auto task = std::make_shared<Task>();
  task->spec = spec;
  task->spool = std::move(spool);
  task->on_exit = std::move(on_exit);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.count(spec.task_id) != 0) {
      return absl::AlreadyExistsError(StrCat("task ", spec.task_id, " is already running"));
    }
    tasks_[spec.task_id] = task;
    ++live_threads_;
  }
  std::thread([this, task] { Supervise(task); }).detach();
  return absl::OkStatus();
}

absl::StatusOr<std::string> DockerDriver::Launch(Task& task) {
  const TaskSpec& spec = task.spec;
  absl::StatusOr<bool> present = client_->ImageExists(spec.image);
  if (!present.ok()) return present.status();
  if (!*present) {
    (void)task.spool->Append(StrCat("[cloudai] pulling ", spec.image, "\n"));
    std::map<std::string, std::string> last_status;  // per layer: one line per change
    absl::Status pulled = client_->PullImage(
        spec.image,
        [&](const docker::PullProgress& p) {
          std::string& last = last_status[p.id];
          if (last == p.status) return;
          last = p.status;
          (void)task.spool->Append(StrCat("[cloudai] ", p.ToString(), "\n"));
        },
        task.stop.get_token());
    if (!pulled.ok()) return pulled;
  }
  docker::ContainerSpec c;
  c.task_id = spec.task_id;
  c.name = StrCat("cloudai-", spec.task_id);
  c.image = spec.image;
  c.command = spec.command;
  c.env = spec.env;
  c.env["CLOUDAI_TASK_ID"] = spec.task_id;
  c.cpu_millis = spec.request.cpu_millis;
  c.memory_mib = spec.request.memory_mib;
  c.gpus.count = docker::GpusForMillis(spec.request.gpu_millis);
  c.network_mode = options_.network_mode;
  absl::StatusOr<std::string> id = client_->CreateContainer(c);
  if (!id.ok()) return id.status();
  if (absl::Status s = client_->StartContainer(*id); !s.ok()) {
    (void)client_->RemoveContainer(*id, /*force=*/true);
    return s;
  }
  return id;
}

void DockerDriver::Supervise(std::shared_ptr<Task> task) {
  TaskExit exit;
  exit.started_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
  // A timeout is a stop requested by a watchdog that gives up when the task ends first.
  std::thread watchdog;
  if (task->spec.timeout_ms > 0) {
    watchdog = std::thread([task] {
      std::unique_lock<std::mutex> lock(task->mu);
      if (!task->done_cv.wait_for(lock, std::chrono::milliseconds(task->spec.timeout_ms),
                                  [&] { return task->done; })) {
        task->timed_out = true;
        task->stop.request_stop();
      }
    });
  }

  absl::StatusOr<std::string> id = Launch(*task);
  if (!id.ok()) {
    exit.error = StrCat("could not start the container: ", id.status().message());
    exit.exit_code = -1;
  } else {
    // Follow the output until the container stops or the task is stopped.
    absl::Status logs = client_->Logs(
        *id, docker::LogsOptions{.follow = true},
        [&](docker::LogStream, std::string_view data) { (void)task->spool->Append(data); },
        task->stop.get_token());
    if (task->stop.stop_requested()) {
      (void)client_->StopContainer(*id, options_.stop_grace);
    } else if (!logs.ok()) {
      (void)task->spool->Append(
          StrCat("[cloudai] log stream ended early: ", logs.message(), "\n"));
    }
    absl::StatusOr<int64_t> code = client_->WaitContainer(*id);
    if (code.ok()) {
      exit.exit_code = static_cast<int>(*code);
    } else {
      exit.error = StrCat("waiting for the container: ", code.status().message());
    }
    absl::StatusOr<docker::ContainerInfo> info = client_->InspectContainer(*id);
    if (info.ok()) {
      if (info->state.started_at_ms > 0) exit.started_at_ms = info->state.started_at_ms;
      if (info->state.oom_killed) {
        exit.error = "killed: out of memory (the memory limit was reached)";
      }
    }
    (void)client_->RemoveContainer(*id, /*force=*/true);
  }
  exit.finished_at_ms = ToUnixMillis(cloudai::Clock::Real()->WallNow());
  if (task->cancelled) {
    exit.status = "cancelled";
  } else if (task->timed_out) {
    exit.status = "failed";
    exit.error = StrCat("timed out after ", task->spec.timeout_ms, " ms");
  } else {
    exit.status = exit.exit_code == 0 && exit.error.empty() ? "completed" : "failed";
  }
  {
    std::lock_guard<std::mutex> lock(task->mu);
    task->done = true;
  }
  task->done_cv.notify_all();
  if (watchdog.joinable()) watchdog.join();
  task->spool->Close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.erase(task->spec.task_id);
  }
  task->on_exit(task->spec.task_id, exit);
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_threads_ == 0) all_done_.notify_all();
}

absl::Status DockerDriver::Cancel(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) {
    return absl::NotFoundError(StrCat("task ", task_id, " is not running here"));
  }
  it->second->cancelled = true;
  it->second->stop.request_stop();
  return absl::OkStatus();
}

std::vector<std::string> DockerDriver::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, task] : tasks_) ids.push_back(id);
  return ids;
}

}  // namespace cloudai::worker
