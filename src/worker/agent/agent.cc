#include "worker/agent/agent.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cloudai/common/clock.h"
#include "common/resources.h"
#include "common/strings.h"
#include "common/system_info.h"
#include "worker/agent/agent_log.h"
#include "worker/agent/worker_service.h"

#ifndef CLOUDAI_VERSION
#define CLOUDAI_VERSION "0.0.0"
#endif

namespace cloudai::worker {
namespace {

int64_t NowMillis() { return ToUnixMillis(Clock::Real()->WallNow()); }

double Finite(double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 100.0) : 0.0; }

v1::TaskAck TaskAckOf(bool success, std::string message, const std::string& task_id) {
  v1::TaskAck ack;
  ack.set_success(success);
  ack.set_message(std::move(message));
  ack.set_task_id(task_id);
  return ack;
}

// The TaskSpec for a Task; an error names the malformed field.
absl::StatusOr<TaskSpec> ToSpec(const v1::Task& task) {
  if (absl::Status s = ValidateId(task.task_id(), "task_id"); !s.ok()) return s;
  TaskSpec spec;
  spec.task_id = task.task_id();
  spec.image = task.docker_image();
  spec.command = task.command();
  spec.request = Resources::Of(task.req_cpu(), task.req_memory(), task.req_storage(),
                               task.req_gpu());
  for (const auto& [name, qty] : task.req_extra()) spec.request.SetExtra(name, qty);
  if (absl::Status s = spec.request.Validate("task"); !s.ok()) {
    return absl::InvalidArgumentError(std::string(s.message()));
  }
  if (task.timeout_ms() < 0) {
    return absl::InvalidArgumentError(
        StrCat("timeout_ms: ", task.timeout_ms(), " is negative"));
  }
  spec.timeout_ms = task.timeout_ms();
  for (const auto& [key, value] : task.env()) {
    if (key.empty() || key.find('=') != std::string::npos ||
        key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("env: \"", key, "\" is not a variable name"));
    }
    spec.env[key] = value;
  }
  return spec;
}

// Whether `host`:`port` is free to bind (as gRPC binds it, with SO_REUSEADDR). Only a
// pre-check that spares gRPC's error log for ports in use; gRPC's own bind decides.
bool PortLooksFree(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr) {
    return true;
  }
  bool free = true;
  const int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    free = ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 || errno != EADDRINUSE;
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return free;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options,
                                                     std::unique_ptr<Driver> driver) {
  if (driver == nullptr) return absl::InvalidArgumentError("no driver");
  if (absl::Status s = ValidateId(options.worker_id, "--id"); !s.ok()) return s;
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(options.work_dir, ec);
  if (!ec) std::filesystem::create_directories(dir / "spool", ec);
  if (ec) {
    return absl::FailedPreconditionError(
        StrCat("--work-dir: cannot create ", options.work_dir, "/spool: ", ec.message()));
  }
  std::unique_ptr<Agent> agent(new Agent(std::move(options), dir.lexically_normal().string(),
                                         std::move(driver)));
  return agent;
}

Agent::Agent(AgentOptions options, std::string work_dir, std::unique_ptr<Driver> driver)
    : options_(std::move(options)), work_dir_(std::move(work_dir)), driver_(std::move(driver)) {
  hostname_ = CollectSystemInfo().hostname;
  total_cpu_ = ReadCpuMillis();
  absl::StatusOr<int64_t> memory = ReadMemoryMiB();
  if (memory.ok()) total_memory_ = *memory;
  gpus_ = GpuProbe::Create();
  total_gpu_ = gpus_->TotalMilliGpus();
  (void)cpu_sampler_.Sample();  // the first sample measures since boot

  tasks_ = std::make_unique<TaskTable>(options_.finished_ttl, options_.max_finished);
  reporter_ = std::make_unique<CompletionReporter>(
      ReporterOptions{.worker_id = options_.worker_id,
                      .max_log_bytes = options_.max_log_bytes,
                      .initial_backoff = options_.initial_backoff,
                      .max_backoff = options_.max_backoff,
                      .rpc_timeout = options_.rpc_timeout},
      link_, [this](const std::string& task_id) { tasks_->MarkReported(task_id); });
  session_ = std::make_unique<MasterSession>(
      SessionOptions{.heartbeat_interval = options_.heartbeat_interval,
                     .initial_backoff = options_.initial_backoff,
                     .max_backoff = options_.max_backoff,
                     .rpc_timeout = options_.rpc_timeout},
      link_,
      SessionHooks{
          .worker_info = [this] { return BuildWorkerInfo(); },
          .heartbeat = [this] { return BuildHeartbeat(); },
          .on_unknown_tasks =
              [this](const std::vector<std::string>& ids) { CancelUnknownTasks(ids); },
          .on_registered = [this](const std::string&) { reporter_->Wake(); },
      });
}

Agent::~Agent() { Shutdown(); }

std::string Agent::address() const {
  const std::string& host = options_.advertise_host;
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return v6 ? StrCat("[", host, "]:", port_) : StrCat(host, ":", port_);
}

std::string_view Agent::driver_name() const {
  return driver_ != nullptr ? driver_->Name() : std::string_view();
}

bool Agent::registered() const { return session_->registered(); }

size_t Agent::pending_reports() const { return reporter_->pending(); }

std::string Agent::SpoolPath(const std::string& task_id) const {
  return StrCat(work_dir_, "/spool/", task_id, ".log");
}

absl::Status Agent::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (shut_down_) return absl::FailedPreconditionError("the agent was shut down");
  Recover();
  if (absl::Status s = Serve(); !s.ok()) return s;
  std::string master = options_.master_address;
  if (master.empty()) {
    std::ifstream in(StrCat(work_dir_, "/master"));
    std::stringstream text;
    text << in.rdbuf();
    master = std::string(StripWhitespace(text.str()));
    if (!master.empty()) LogLine(StrCat("registering with the saved master address ", master));
  }
  if (!master.empty()) {
    link_.Set("", master);
    SaveMasterAddress(master);
  }
  session_->Start();
  return absl::OkStatus();
}

void Agent::Recover() {
  auto open_spool = [this](const std::string& task_id) -> std::shared_ptr<LogSpool> {
    if (!ValidateId(task_id, "task_id").ok()) return nullptr;
    absl::StatusOr<std::shared_ptr<LogSpool>> spool = LogSpool::OpenForAppend(SpoolPath(task_id));
    if (!spool.ok()) {
      LogLine(StrCat("cannot take over task ", task_id, ": ", std::string(spool.status().message())));
      return nullptr;
    }
    tasks_->Adopt(task_id, *spool, NowMillis());
    return *spool;
  };
  absl::StatusOr<std::vector<RecoveredTask>> recovered = driver_->Recover(
      open_spool, [this](const std::string& id, const TaskExit& exit) { OnTaskExit(id, exit); });
  if (!recovered.ok()) {
    LogLine(StrCat("could not look for tasks left by a previous worker: ",
                   std::string(recovered.status().message())));
    return;
  }
  for (const RecoveredTask& t : *recovered) {
    tasks_->SetStartedAt(t.task_id, t.started_at_ms);
    LogLine(StrCat("took over running task ", t.task_id));
  }
}

absl::Status Agent::Serve() {
  const std::string& host = options_.listen_host;
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  service_ = std::make_unique<WorkerServiceImpl>(*this);
  const int last = std::min(65535, options_.port + std::max(1, options_.port_attempts) - 1);
  for (int port = options_.port; port <= last; ++port) {
    if (port != 0 && !PortLooksFree(host, port)) continue;
    grpc::ServerBuilder builder;
    // Without this, gRPC binds with SO_REUSEPORT and two workers could share a port.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    int selected = 0;
    builder.AddListeningPort(v6 ? StrCat("[", host, "]:", port) : StrCat(host, ":", port),
                             grpc::InsecureServerCredentials(), &selected);
    builder.RegisterService(service_.get());
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server != nullptr && selected != 0) {
      server_ = std::move(server);
      port_ = selected;
      return absl::OkStatus();
    }
    if (server != nullptr) server->Shutdown();
  }
  return absl::UnavailableError(
      options_.port == 0
          ? StrCat("--listen-host: cannot listen on ", host)
          : StrCat("--port: no free port in ", options_.port, "..", last, " on ", host));
}

void Agent::Shutdown() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_ = true;
  session_->Stop();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  // Exec tasks are killed here (and reported); docker containers keep running.
  driver_.reset();
  reporter_->Stop(std::chrono::seconds(2));
  if (server_ != nullptr) server_->Wait();
}

void Agent::SaveMasterAddress(const std::string& address) {
  std::lock_guard<std::mutex> lock(master_file_mu_);
  if (address == saved_master_) return;
  const std::string path = StrCat(work_dir_, "/master");
  const std::string tmp = StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << "\n";
    if (!out.good()) {
      LogLine(StrCat("cannot write ", tmp));
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    LogLine(StrCat("cannot write ", path, ": ", ec.message()));
    return;
  }
  saved_master_ = address;
}

v1::RegisterAck Agent::MasterRegister(const v1::MasterInfo& info) {
  v1::RegisterAck ack;
  const std::string& address = info.master_address();
  if (address.empty() || address.find(':') == std::string::npos) {
    ack.set_message(StrCat("master_address: \"", address, "\" is not HOST:PORT"));
    return ack;
  }
  LogLine(StrCat("master ", info.master_id(), " at ", address, " announced itself"));
  link_.Set(info.master_id(), address);
  SaveMasterAddress(address);
  session_->Wake();
  reporter_->Wake();
  ack.set_success(true);
  ack.set_message(StrCat("worker ", options_.worker_id, " will register with master ", address));
  return ack;
}

v1::TaskAck Agent::AssignTask(const v1::Task& task) {
  const std::string& id = task.task_id();
  if (stopping_) return TaskAckOf(false, StrCat("worker ", options_.worker_id, " is shutting down"), id);
  if (!task.target_worker_id().empty() && task.target_worker_id() != options_.worker_id) {
    return TaskAckOf(false,
               StrCat("task ", id, " is for worker ", task.target_worker_id(), ", this is worker ",
                      options_.worker_id),
               id);
  }
  absl::StatusOr<TaskSpec> spec = ToSpec(task);
  if (!spec.ok()) return TaskAckOf(false, std::string(spec.status().message()), id);

  absl::StatusOr<TaskTable::Admitted> admitted =
      tasks_->Admit(id, NowMillis(), [&]() { return LogSpool::Create(SpoolPath(id)); });
  if (!admitted.ok()) {
    return TaskAckOf(false, StrCat("worker ", options_.worker_id, " could not start task ", id, ": ",
                             std::string(admitted.status().message())),
               id);
  }
  switch (admitted->admission) {
    case TaskTable::Admission::kAlreadyRunning:
      return TaskAckOf(true, StrCat("task ", id, " is already running on worker ", options_.worker_id),
                 id);
    case TaskTable::Admission::kAlreadyFinished:
      return TaskAckOf(true,
                 StrCat("task ", id, " already finished on worker ", options_.worker_id, " (",
                        admitted->final_status, "); its result is being reported"),
                 id);
    case TaskTable::Admission::kAdmitted:
      break;
  }
  absl::Status started = driver_->Start(
      *spec, admitted->spool,
      [this](const std::string& task_id, const TaskExit& exit) { OnTaskExit(task_id, exit); });
  if (!started.ok()) {
    tasks_->Remove(id, admitted->spool);
    LogLine(StrCat("task ", id, " refused: ", std::string(started.message())));
    return TaskAckOf(false, StrCat("worker ", options_.worker_id, " could not start task ", id, ": ",
                             std::string(started.message())),
               id);
  }
  LogLine(StrCat("task ", id, " started (", driver_->Name(), "): ", spec->command));
  return TaskAckOf(true, StrCat("task ", id, " accepted by worker ", options_.worker_id), id);
}

v1::TaskAck Agent::CancelTask(const v1::TaskId& request) {
  const std::string& id = request.task_id();
  std::optional<TaskView> view = tasks_->Find(id);
  if (!view.has_value()) {
    return TaskAckOf(false, StrCat("task ", id, " not found on worker ", options_.worker_id), id);
  }
  if (view->finished) {
    return TaskAckOf(false,
               StrCat("task ", id, " already finished on worker ", options_.worker_id, " (",
                      view->exit.status, ")"),
               id);
  }
  if (stopping_ || driver_ == nullptr) {
    return TaskAckOf(false, StrCat("worker ", options_.worker_id, " is shutting down"), id);
  }
  absl::Status s = driver_->Cancel(id);
  if (!s.ok() && !absl::IsNotFound(s)) {
    return TaskAckOf(false, StrCat("cancelling task ", id, ": ", std::string(s.message())), id);
  }
  // NotFound here means it is ending right now; its end is reported either way.
  LogLine(StrCat("task ", id, " cancelled"));
  return TaskAckOf(true, StrCat("task ", id, " is being cancelled on worker ", options_.worker_id), id);
}

void Agent::CancelUnknownTasks(const std::vector<std::string>& task_ids) {
  for (const std::string& id : task_ids) {
    std::optional<TaskView> view = tasks_->Find(id);
    if (!view.has_value() || view->finished || driver_ == nullptr) continue;
    LogLine(StrCat("the master does not know task ", id, "; stopping it"));
    (void)driver_->Cancel(id);
  }
}

void Agent::OnTaskExit(const std::string& task_id, const TaskExit& exit) {
  tasks_->Finish(task_id, exit);
  std::optional<TaskView> view = tasks_->Find(task_id);
  LogLine(StrCat("task ", task_id, " ", exit.status, " (exit code ", exit.exit_code, ")",
                 exit.error.empty() ? "" : StrCat(": ", exit.error)));
  reporter_->Report(task_id, exit, view.has_value() ? view->spool : nullptr);
}

v1::WorkerInfo Agent::BuildWorkerInfo() {
  v1::WorkerInfo info;
  info.set_worker_id(options_.worker_id);
  info.set_worker_ip(address());
  info.set_total_cpu(total_cpu_);
  info.set_total_memory(total_memory_);
  absl::StatusOr<DiskInfo> disk = ReadDisk(work_dir_);
  if (disk.ok()) info.set_total_storage(disk->total_mib);
  info.set_total_gpu(total_gpu_);
  info.set_driver(std::string(driver_name()));
  info.set_hostname(hostname_);
  info.set_version(CLOUDAI_VERSION);
  for (const TaskView& t : tasks_->Running()) {
    v1::RunningTask* r = info.add_running_tasks();
    r->set_task_id(t.task_id);
    r->set_status("running");
    r->set_started_at_ms(t.started_at_ms);
  }
  return info;
}

v1::Heartbeat Agent::BuildHeartbeat() {
  tasks_->Prune();
  v1::Heartbeat hb;
  hb.set_worker_id(options_.worker_id);
  absl::StatusOr<double> cpu = cpu_sampler_.Sample();
  if (cpu.ok()) hb.set_cpu_usage(Finite(*cpu));
  absl::StatusOr<double> memory = ReadMemoryUsagePercent();
  if (memory.ok()) hb.set_memory_usage(Finite(*memory));
  absl::StatusOr<DiskInfo> disk = ReadDisk(work_dir_);
  if (disk.ok() && disk->total_mib > 0) {
    hb.set_storage_usage(Finite(100.0 * static_cast<double>(disk->total_mib - disk->available_mib) /
                                static_cast<double>(disk->total_mib)));
  }
  if (total_gpu_ > 0) hb.set_gpu_usage(Finite(gpus_->UsagePercent()));
  for (const TaskView& t : tasks_->Running()) {
    v1::RunningTask* r = hb.add_running_tasks();
    r->set_task_id(t.task_id);
    r->set_status("running");
    r->set_started_at_ms(t.started_at_ms);
  }
  hb.set_sent_at_ms(NowMillis());
  return hb;
}

}  // namespace cloudai::worker
