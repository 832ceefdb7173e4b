#include "cluster.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

#include "common/strings.h"

namespace cloudai::integration {

const std::vector<std::string>& ForeignEnvironment() {
  static const std::vector<std::string>* const kVars = new std::vector<std::string>{
      "CLOUDAI_MASTER",         "CLOUDAI_TOKEN",      "CLOUDAI_STATE_DIR",
      "CLOUDAI_STORE",          "CLOUDAI_MASTER_ID",  "CLOUDAI_ADVERTISE_ADDRESS",
      "CLOUDAI_SCHEDULER",      "CLOUDAI_INACTIVITY_TIMEOUT",
      "CLOUDAI_LOST_GRACE",     "CLOUDAI_QUEUE_INTERVAL",
      "CLOUDAI_MAX_LOG_BYTES",  "GRPC_PORT",          "HTTP_PORT"};
  return *kVars;
}

namespace {

Res ResOf(const Json& j, std::string_view prefix) {
  Res r;
  r.cpu = JInt(j, StrCat(prefix, "cpu"));
  r.memory = JInt(j, StrCat(prefix, "memory"));
  r.storage = JInt(j, StrCat(prefix, "storage"));
  r.gpu = JInt(j, StrCat(prefix, "gpu"));
  return r;
}

}  // namespace

std::string Res::ToString() const {
  return StrCat("{cpu ", cpu, "m, memory ", memory, " MiB, storage ", storage, " MiB, gpu ",
                gpu, "m}");
}

WorkerResources ResourcesOf(const Json& worker_status) {
  WorkerResources r;
  r.total = ResOf(JObj(worker_status, "info"), "total_");
  r.allocated = ResOf(JObj(worker_status, "allocated"), "");
  r.available = ResOf(JObj(worker_status, "available"), "");
  return r;
}

bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

ClusterTest::ClusterTest() {
  state_dir_ = dir_.Sub("state", /*create=*/true);
  dir_.Sub("cli", /*create=*/true);
  grpc_port_ = FreePort();
  http_port_ = FreePort();
  while (http_port_ == grpc_port_) http_port_ = FreePort();
}

ClusterTest::~ClusterTest() {
  // Politely first (so that drivers can clean up), then for sure.
  for (auto& [id, w] : workers_) {
    if (w.process != nullptr) w.process->Signal(SIGCONT);
    if (w.process != nullptr) w.process->Signal(SIGTERM);
  }
  if (master_ != nullptr) master_->Signal(SIGTERM);
  for (auto& [id, w] : workers_) {
    if (w.process != nullptr && !w.process->Wait(seconds(5)).has_value()) w.process->Kill();
  }
  if (master_ != nullptr && !master_->Wait(seconds(5)).has_value()) master_->Kill();
  workers_.clear();
  master_.reset();
  // Tasks whose worker was killed outlive it; they run in the test's directory.
  KillProcessesUnder(dir_.path());
}

void ClusterTest::TearDown() {
  if (HasFailure()) {
    dir_.Keep();
    DumpLogs();
  }
}

void ClusterTest::DumpLogs() {
  std::fprintf(stderr, "[ cluster  ] files of this test: %s\n", dir_.path().c_str());
  auto dump = [](const std::string& what, const Process& p) {
    std::fprintf(stderr, "[ cluster  ] ---- %s: %s\n[ cluster  ] ---- log %s, last lines:\n%s\n",
                 what.c_str(), p.description().c_str(), p.log_path().c_str(),
                 p.LogTail(60).c_str());
  };
  for (const std::string& log : old_logs_) {
    std::fprintf(stderr, "[ cluster  ] ---- earlier process log: %s\n", log.c_str());
  }
  if (master_ != nullptr) dump("master", *master_);
  for (const auto& [id, w] : workers_) {
    if (w.process != nullptr) dump(StrCat("worker ", id), *w.process);
  }
}

// ---------------------------------------------------------------------------------------
// Master

std::string ClusterTest::master_address() const { return StrCat("127.0.0.1:", grpc_port_); }

std::string ClusterTest::Token() const {
  return std::string(StripWhitespace(ReadFile(StrCat(state_dir_, "/admin.token"))));
}

bool ClusterTest::StartMaster(const std::vector<std::string>& extra_flags) {
  if (master_ != nullptr) {
    if (master_->Running()) {
      ADD_FAILURE() << "StartMaster: a master is still running";
      return false;
    }
    old_logs_.push_back(master_->log_path());
    master_.reset();
  }
  ++master_starts_;
  const std::string cwd = dir_.Sub("master", /*create=*/true);
  ProcessOptions options;
  options.args = {CLOUDAI_MASTER_BIN,
                  "--grpc-port", master_address(),
                  "--http-port", StrCat("127.0.0.1:", http_port_),
                  "--advertise-address", master_address(),
                  "--state-dir", state_dir_,
                  "--inactivity-timeout", "2s",
                  "--lost-grace", "3s",
                  "--queue-interval", "1s"};
  options.args.insert(options.args.end(), extra_flags.begin(), extra_flags.end());
  options.unset_env = ForeignEnvironment();
  options.cwd = cwd;
  options.log_path = StrCat(cwd, "/master-", master_starts_, ".log");
  std::string error;
  master_ = Process::Start(options, &error);
  if (master_ == nullptr) {
    ADD_FAILURE() << "cannot start cloudai-master: " << error;
    return false;
  }
  // A restart may find the port still held by the old process for a moment.
  if (!master_->WaitForLine("serving gRPC on", seconds(20)).has_value()) {
    ADD_FAILURE() << "cloudai-master did not print \"serving gRPC on\" within 20 s ("
                  << (master_->Running() ? "still running" : "exited") << "); log:\n"
                  << master_->LogTail(40);
    return false;
  }
  if (!WaitUntil([&] { return !Token().empty(); }, seconds(5))) {
    ADD_FAILURE() << "no admin token in " << state_dir_ << "/admin.token";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Workers

WorkerHandle* ClusterTest::StartWorker(const std::string& id, const std::string& driver,
                                       const std::vector<std::string>& extra_flags) {
  auto it = workers_.find(id);
  if (it != workers_.end()) {
    if (it->second.process != nullptr && it->second.process->Running()) {
      ADD_FAILURE() << "StartWorker: worker " << id << " is still running";
      return nullptr;
    }
    old_logs_.push_back(it->second.process->log_path());
    workers_.erase(it);
  }
  WorkerHandle w;
  w.id = id;
  w.driver = driver;
  w.work_dir = dir_.Sub(StrCat("worker-", id), /*create=*/true);
  ProcessOptions options;
  options.args = {CLOUDAI_WORKER_BIN,
                  "--id", id,
                  "--port", StrCat(FreePort()),
                  "--listen-host", "127.0.0.1",
                  "--advertise-host", "127.0.0.1",
                  "--driver", driver,
                  "--work-dir", w.work_dir,
                  "--heartbeat-interval", "200ms"};
  options.args.insert(options.args.end(), extra_flags.begin(), extra_flags.end());
  options.unset_env = ForeignEnvironment();
  options.cwd = w.work_dir;
  static int starts = 0;
  options.log_path = dir_.Sub(StrCat("worker-", id, "-", ++starts, ".log"));
  std::string error;
  w.process = Process::Start(options, &error);
  if (w.process == nullptr) {
    ADD_FAILURE() << "cannot start cloudai-worker: " << error;
    return nullptr;
  }
  std::optional<std::vector<std::string>> m = w.process->WaitForRegex(
      std::regex(R"(worker (\S+) serving on (\S+) \(driver (\w+)\))"), seconds(20));
  if (!m.has_value()) {
    ADD_FAILURE() << "cloudai-worker " << id
                  << " did not print \"worker <id> serving on <ip:port> (driver <name>)\" "
                     "within 20 s; log:\n"
                  << w.process->LogTail(40);
    return nullptr;
  }
  EXPECT_EQ((*m)[1], id) << "worker banner: " << (*m)[0];
  EXPECT_EQ((*m)[3], driver) << "worker banner: " << (*m)[0];
  w.address = (*m)[2];
  WorkerHandle& stored = workers_[id] = std::move(w);
  return &stored;
}

WorkerHandle* ClusterTest::worker(const std::string& id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

bool ClusterTest::RegisterWorker(const std::string& id) {
  WorkerHandle* w = worker(id);
  if (w == nullptr) {
    ADD_FAILURE() << "RegisterWorker: no worker " << id << " was started";
    return false;
  }
  CommandResult r = Cli({"register", id, w->address});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "cloudai register " << id << " " << w->address << ": " << r.ToString();
    return false;
  }
  // Active, and registered back with its capacity.
  std::optional<Json> last;
  const bool ok = WaitUntil(
      [&] {
        last = WorkerStatus(id);
        return last.has_value() && JBool(*last, "is_active") &&
               ResourcesOf(*last).total.cpu > 0 && ResourcesOf(*last).total.memory > 0;
      },
      seconds(15), milliseconds(100));
  if (!ok) {
    ADD_FAILURE() << "worker " << id << " did not become active with its totals within 15 s; "
                  << "last status: " << (last.has_value() ? last->dump() : "none");
  }
  return ok;
}

WorkerHandle* ClusterTest::StartRegisteredWorker(const std::string& id,
                                                 const std::string& driver,
                                                 const std::vector<std::string>& extra_flags) {
  WorkerHandle* w = StartWorker(id, driver, extra_flags);
  if (w == nullptr || !RegisterWorker(id)) return nullptr;
  return w;
}

// ---------------------------------------------------------------------------------------
// cloudai

std::string ClusterTest::CliBinary() { return CLOUDAI_CLI_BIN; }
std::string ClusterTest::MasterBinary() { return CLOUDAI_MASTER_BIN; }

std::vector<std::string> ClusterTest::CliPrefix() const {
  return {CLOUDAI_CLI_BIN, "--master", master_address(), "--token-file",
          StrCat(state_dir_, "/admin.token")};
}

CommandResult ClusterTest::Cli(const std::vector<std::string>& args, milliseconds timeout) {
  ProcessOptions options;
  options.args = CliPrefix();
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.unset_env = ForeignEnvironment();
  return RunCommand(std::move(options), dir_.Sub("cli"), timeout);
}

std::optional<Json> ClusterTest::CliJson(const std::vector<std::string>& args,
                                         milliseconds timeout) {
  std::vector<std::string> with_format = {"-o", "json"};
  with_format.insert(with_format.end(), args.begin(), args.end());
  CommandResult r = Cli(with_format, timeout);
  std::string shown;
  for (const std::string& a : with_format) StrAppend(&shown, " ", a);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "cloudai" << shown << ": " << r.ToString();
    return std::nullopt;
  }
  std::optional<Json> j = ParseJson(r.out);
  if (!j.has_value()) {
    ADD_FAILURE() << "cloudai" << shown << " printed something that is not one JSON document: "
                  << r.ToString();
  }
  return j;
}

std::unique_ptr<Process> ClusterTest::CliBackground(const std::vector<std::string>& args,
                                                    const std::string& log_name) {
  ProcessOptions options;
  options.args = CliPrefix();
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.unset_env = ForeignEnvironment();
  options.log_path = dir_.Sub(log_name);
  std::string error;
  std::unique_ptr<Process> p = Process::Start(options, &error);
  if (p == nullptr) ADD_FAILURE() << "cannot start cloudai: " << error;
  return p;
}

// ---------------------------------------------------------------------------------------
// Views

std::optional<Json> ClusterTest::Workers() { return CliJson({"workers"}); }

std::optional<Json> ClusterTest::WorkerStatus(const std::string& id) {
  std::optional<Json> all = Workers();
  if (!all.has_value()) return std::nullopt;
  for (const Json& w : JArr(*all, "workers")) {
    if (JStr(JObj(w, "info"), "worker_id") == id) return w;
  }
  return std::nullopt;
}

std::optional<Json> ClusterTest::GetTask(const std::string& task_id) {
  return CliJson({"get", task_id});
}

std::string ClusterTest::TaskState(const std::string& task_id) {
  std::optional<Json> t = GetTask(task_id);
  return t.has_value() ? JStr(*t, "status") : "";
}

std::optional<Json> ClusterTest::WaitForTaskState(const std::string& task_id,
                                                  const std::set<std::string>& states,
                                                  milliseconds timeout) {
  std::optional<Json> last;
  const bool ok = WaitUntil(
      [&] {
        last = GetTask(task_id);
        return last.has_value() && states.count(JStr(*last, "status")) > 0;
      },
      timeout, milliseconds(100));
  if (!ok) {
    std::string wanted;
    for (const std::string& s : states) StrAppend(&wanted, wanted.empty() ? "" : "|", s);
    ADD_FAILURE() << "task " << task_id << " did not reach " << wanted << " within "
                  << timeout.count() << " ms; last: " << (last.has_value() ? last->dump() : "none");
    return std::nullopt;
  }
  return last;
}

bool ClusterTest::WaitWorkerActive(const std::string& id, bool active, milliseconds timeout) {
  return WaitUntil(
      [&] {
        std::optional<Json> w = WorkerStatus(id);
        return w.has_value() && JBool(*w, "is_active") == active;
      },
      timeout, milliseconds(100));
}

bool ClusterTest::WaitWorkerIdle(const std::string& id, milliseconds timeout) {
  return WaitUntil(
      [&] {
        std::optional<Json> w = WorkerStatus(id);
        if (!w.has_value()) return false;
        const Res a = ResourcesOf(*w).allocated;
        return a.cpu == 0 && a.memory == 0 && a.storage == 0 && a.gpu == 0;
      },
      timeout, milliseconds(100));
}

// ---------------------------------------------------------------------------------------
// gRPC

std::shared_ptr<grpc::Channel> ClusterTest::Channel() {
  if (channel_ == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(master_address(), grpc::InsecureChannelCredentials(),
                                         args);
  }
  return channel_;
}

std::unique_ptr<cloudai::v1::ClusterService::Stub> ClusterTest::ClusterStub() {
  return cloudai::v1::ClusterService::NewStub(Channel());
}

std::unique_ptr<cloudai::v1::MasterService::Stub> ClusterTest::MasterStub() {
  return cloudai::v1::MasterService::NewStub(Channel());
}

std::unique_ptr<grpc::ClientContext> ClusterTest::Context(bool with_token,
                                                          milliseconds deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  if (with_token) context->AddMetadata("authorization", StrCat("Bearer ", Token()));
  return context;
}

std::optional<std::vector<cloudai::v1::TaskStatus>> ClusterTest::ListAllTasks() {
  std::unique_ptr<cloudai::v1::ClusterService::Stub> stub = ClusterStub();
  std::vector<cloudai::v1::TaskStatus> all;
  std::string after;
  for (int page = 0; page < 10000; ++page) {
    cloudai::v1::ListTasksRequest request;
    request.set_limit(50);  // several pages for the larger tests
    request.set_after_task_id(after);
    cloudai::v1::ListTasksResponse response;
    std::unique_ptr<grpc::ClientContext> context = Context();
    grpc::Status status = stub->ListTasks(context.get(), request, &response);
    if (!status.ok()) {
      ADD_FAILURE() << "ListTasks: " << status.error_code() << " " << status.error_message();
      return std::nullopt;
    }
    for (const cloudai::v1::TaskStatus& t : response.tasks()) all.push_back(t);
    if (response.next_after_task_id().empty() || response.tasks().empty()) return all;
    after = response.next_after_task_id();
  }
  ADD_FAILURE() << "ListTasks: paging does not end";
  return std::nullopt;
}

}  // namespace cloudai::integration
