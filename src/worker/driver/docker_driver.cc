#include "worker/driver/docker_driver.h"

#include <sys/stat.h>

#include <atomic>
#include <charconv>
#include <stop_token>
#include <thread>

#include "cloudai/common/clock.h"
#include "common/strings.h"

namespace cloudai::worker {
namespace {

int64_t NowMillis() { return ToUnixMillis(cloudai::Clock::Real()->WallNow()); }

// Unix ms of the file's last modification; 0 when it cannot be read.
int64_t ModifiedAtMillis(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

int64_t ParseTimeoutLabel(const std::map<std::string, std::string>& labels) {
  auto it = labels.find(std::string(kTimeoutLabel));
  if (it == labels.end()) return 0;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return ec == std::errc() && v > 0 ? v : 0;
}

}  // namespace

struct DockerDriver::Task {
  TaskSpec spec;
  std::shared_ptr<LogSpool> spool;
  ExitCallback on_exit;
  std::stop_source stop;  // requested on cancel, timeout or detach
  std::atomic<bool> cancelled{false};
  std::atomic<bool> timed_out{false};
  std::atomic<bool> detached{false};  // the driver is going away; leave the container
  // Set for a container recovered from a previous worker process.
  std::string container_id;
  std::string container_state;  // its state when recovered
  int64_t started_at_ms = 0;
  int64_t logs_since_ms = 0;
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
    if (options_.keep_containers_on_shutdown && !task->cancelled) {
      task->detached = true;
    } else {
      task->cancelled = true;
    }
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
  // A service the master started for an allocation listens on $PORT: publish it on this
  // host, where the master gives its endpoint (docs/allocations.md).
  if (auto service = spec.env.find("CLOUDAI_SERVICE"), port = spec.env.find("PORT");
      service != spec.env.end() && port != spec.env.end()) {
    int number = 0;
    const auto [end, ec] =
        std::from_chars(port->second.data(), port->second.data() + port->second.size(), number);
    if (ec == std::errc() && end == port->second.data() + port->second.size()) {
      c.published_ports.push_back(number);
    }
  }
  if (spec.timeout_ms > 0) c.labels[std::string(kTimeoutLabel)] = StrCat(spec.timeout_ms);
  if (!options_.owner.empty()) c.labels[std::string(kOwnerLabel)] = options_.owner;
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
  exit.started_at_ms = task->started_at_ms > 0 ? task->started_at_ms : NowMillis();
  // A timeout is a stop requested by a watchdog that gives up when the task ends first.
  // A recovered task has what is left of its time.
  std::thread watchdog;
  if (task->spec.timeout_ms > 0) {
    const int64_t left =
        task->started_at_ms > 0
            ? std::max<int64_t>(1, task->spec.timeout_ms - (NowMillis() - task->started_at_ms))
            : task->spec.timeout_ms;
    watchdog = std::thread([task, left] {
      std::unique_lock<std::mutex> lock(task->mu);
      if (!task->done_cv.wait_for(lock, std::chrono::milliseconds(left),
                                  [&] { return task->done; })) {
        task->timed_out = true;
        task->stop.request_stop();
      }
    });
  }

  bool report = true;
  absl::StatusOr<std::string> id =
      task->container_id.empty() ? Launch(*task) : absl::StatusOr<std::string>(task->container_id);
  if (task->detached) {
    report = false;  // the container (if any) stays for the next worker process
  } else if (!id.ok()) {
    exit.error = StrCat("could not start the container: ", id.status().message());
    exit.exit_code = -1;
  } else if (task->container_state == "created") {
    // The previous worker stopped between creating and starting it.
    exit.error = "the container was never started (the worker stopped before starting it)";
    exit.exit_code = -1;
    (void)client_->RemoveContainer(*id, /*force=*/true);
  } else {
    // Follow the output until the container stops or the task is stopped.
    absl::Status logs = client_->Logs(
        *id, docker::LogsOptions{.follow = true, .since_unix_ms = task->logs_since_ms},
        [&](docker::LogStream, std::string_view data) { (void)task->spool->Append(data); },
        task->stop.get_token());
    if (task->detached) {
      report = false;
    } else {
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
  }
  exit.finished_at_ms = NowMillis();
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
  if (report) task->on_exit(task->spec.task_id, exit);
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_threads_ == 0) all_done_.notify_all();
}

absl::StatusOr<std::vector<RecoveredTask>> DockerDriver::Recover(SpoolOpener open_spool,
                                                                 ExitCallback on_exit) {
  std::vector<std::string> labels = {std::string(docker::kManagedLabel)};
  if (!options_.owner.empty()) labels.push_back(StrCat(kOwnerLabel, "=", options_.owner));
  absl::StatusOr<std::vector<docker::ContainerSummary>> list =
      client_->ListContainers({.labels = labels, .all = true});
  if (!list.ok()) return list.status();
  std::vector<RecoveredTask> running;
  for (const docker::ContainerSummary& c : *list) {
    if (options_.owner.empty() && c.labels.count(std::string(kOwnerLabel)) != 0) continue;
    auto label = c.labels.find(std::string(docker::kTaskIdLabel));
    if (label == c.labels.end() || label->second.empty()) continue;
    const std::string& task_id = label->second;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.count(task_id) != 0) continue;
    }
    absl::StatusOr<docker::ContainerInfo> info = client_->InspectContainer(c.id);
    if (!info.ok()) continue;  // removed meanwhile
    std::shared_ptr<LogSpool> spool = open_spool(task_id);
    if (spool == nullptr) continue;

    auto task = std::make_shared<Task>();
    task->spec.task_id = task_id;
    task->spec.image = info->image;
    task->spec.timeout_ms = ParseTimeoutLabel(info->labels);
    task->spool = std::move(spool);
    task->on_exit = on_exit;
    task->container_id = info->id.empty() ? c.id : info->id;
    task->container_state = info->state.status;
    task->started_at_ms = info->state.started_at_ms;
    // Output written after the spool's last write; all of it when the spool is empty.
    task->logs_since_ms = task->spool->size() > 0 ? ModifiedAtMillis(task->spool->path()) : 0;
    (void)task->spool->Append("[cloudai] the worker restarted and took this task over again\n");
    const bool alive = info->state.running || info->state.status == "paused" ||
                       info->state.status == "restarting";
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_[task_id] = task;
      ++live_threads_;
    }
    if (alive) {
      running.push_back(RecoveredTask{
          .task_id = task_id,
          .started_at_ms = task->started_at_ms > 0 ? task->started_at_ms : NowMillis()});
    }
    std::thread([this, task] { Supervise(task); }).detach();
  }
  return running;
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
