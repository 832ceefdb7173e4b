// ClusterTest: a GoogleTest fixture that runs a real CloudAI cluster on loopback — one
// cloudai-master, any number of cloudai-worker processes — and drives it with the cloudai
// command and with direct gRPC calls, following docs/cluster.md.
//
// Everything a test starts lives under one temporary directory (state, work dirs, logs);
// when the test fails the directory is kept, its path printed, and the tail of every
// process's log shown.
//
// Timings are short so that tests are quick: inactivity after 2 s of silence, tasks lost
// 3 s later, a queue pass every second, a heartbeat every 200 ms.
//
// Thread safety: the fixture's methods are for the test's main thread, except Cli,
// CliJson, the view helpers and the gRPC helpers, which may be called from any thread
// while no process is being started or stopped.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloudai/v1/cluster.grpc.pb.h"
#include "harness.h"

namespace cloudai::integration {

// The image named in exec-driver tasks (the exec driver ignores it).
inline constexpr char kAnyImage[] = "busybox";
// The local image Docker tests run.
inline constexpr char kTestImage[] = "cloudai-test:busybox";

// A worker's resources as `workers -o json` reports them.
struct Res {
  int64_t cpu = 0, memory = 0, storage = 0, gpu = 0;
  std::string ToString() const;
};
struct WorkerResources {
  Res total, allocated, available;
};
// Reads total (info.total_*), allocated and available from a WorkerStatus.
WorkerResources ResourcesOf(const Json& worker_status);

struct WorkerHandle {
  std::string id;
  std::string address;   // ip:port it serves on
  std::string work_dir;
  std::string driver;
  std::unique_ptr<Process> process;
};

// The CLOUDAI_* and other variables that would point the binaries elsewhere than the
// test's cluster; removed from the environment of every process the fixture starts.
const std::vector<std::string>& ForeignEnvironment();

// Whether CI=true is set (docker tests fail instead of skipping there).
bool UnderCi();

class ClusterTest : public ::testing::Test {
 protected:
  ClusterTest();
  ~ClusterTest() override;
  void TearDown() override;

  // --- master --------------------------------------------------------------------------
  // Starts cloudai-master on the fixture's state dir and ports (the same ones on every
  // start, so that a restart replaces the old master); waits for "serving gRPC on".
  bool StartMaster(const std::vector<std::string>& extra_flags = {});
  Process* master() { return master_.get(); }
  std::string master_address() const;
  // The port of the master's HTTP side (REST, WebSocket, /metrics) on 127.0.0.1.
  int http_port() const { return http_port_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string Token() const;  // the admin token, without its newline

  // --- workers -------------------------------------------------------------------------
  // Starts cloudai-worker `id` (driver "exec" or "docker"); waits for "serving on".
  WorkerHandle* StartWorker(const std::string& id, const std::string& driver = "exec",
                            const std::vector<std::string>& extra_flags = {});
  // `cloudai register <id> <address>` and waits until the master shows it active with
  // its totals.
  bool RegisterWorker(const std::string& id);
  WorkerHandle* StartRegisteredWorker(const std::string& id, const std::string& driver = "exec",
                                      const std::vector<std::string>& extra_flags = {});
  WorkerHandle* worker(const std::string& id);

  // --- cloudai -------------------------------------------------------------------------
  // `cloudai --master <addr> --token-file <state>/admin.token <args...>`.
  CommandResult Cli(const std::vector<std::string>& args, milliseconds timeout = seconds(30));
  // The same with `-o json` before the verb; the parsed output, or nullopt (with a test
  // failure) when it exited non-zero or printed something else.
  std::optional<Json> CliJson(const std::vector<std::string>& args,
                              milliseconds timeout = seconds(30));
  // The cloudai binary, for calls that must not get the fixture's flags.
  static std::string CliBinary();
  static std::string MasterBinary();
  // Starts `cloudai ... <args...>` in the background, its output in `log_name`.
  std::unique_ptr<Process> CliBackground(const std::vector<std::string>& args,
                                         const std::string& log_name);

  // --- views through the CLI -----------------------------------------------------------
  std::optional<Json> Workers();                         // ListWorkersResponse
  std::optional<Json> WorkerStatus(const std::string& id);  // one of Workers()
  std::optional<Json> GetTask(const std::string& task_id);  // TaskStatus
  std::string TaskState(const std::string& task_id);     // its status, "" when unknown
  // Waits until the task's status is one of `states`; its last TaskStatus.
  std::optional<Json> WaitForTaskState(const std::string& task_id,
                                       const std::set<std::string>& states,
                                       milliseconds timeout);
  bool WaitWorkerActive(const std::string& id, bool active, milliseconds timeout);
  // Waits until the worker's allocation is zero in every dimension.
  bool WaitWorkerIdle(const std::string& id, milliseconds timeout);

  // --- gRPC ----------------------------------------------------------------------------
  std::shared_ptr<grpc::Channel> Channel();
  std::unique_ptr<cloudai::v1::ClusterService::Stub> ClusterStub();
  std::unique_ptr<cloudai::v1::MasterService::Stub> MasterStub();
  // A context with a deadline and, when `with_token`, the admin token.
  std::unique_ptr<grpc::ClientContext> Context(bool with_token = true,
                                               milliseconds deadline = seconds(20));

  // Every task, through ClusterService.ListTasks page by page (a test failure and
  // nullopt on an RPC error).
  std::optional<std::vector<cloudai::v1::TaskStatus>> ListAllTasks();

  TestDir& dir() { return dir_; }

  // Prints where the logs are and their tails (called on failure).
  void DumpLogs();

 private:
  std::vector<std::string> CliPrefix() const;

  TestDir dir_;
  std::string state_dir_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int master_starts_ = 0;
  std::unique_ptr<Process> master_;
  std::map<std::string, WorkerHandle> workers_;
  std::vector<std::string> old_logs_;  // logs of processes replaced by restarts
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cloudai::integration
