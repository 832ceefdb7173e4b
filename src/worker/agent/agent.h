// Agent: the CloudAI worker process's core. It owns the driver, the table of tasks, the
// link to the master, the master session (registration and heartbeats), the completion
// reporter and the gRPC server of WorkerService, and implements WorkerService's calls:
//
//   MasterRegister  remember the master (persisted to <work-dir>/master), register back
//                   asynchronously; answers at once.
//   AssignTask      validate, admit (a resent assignment of a task that runs, or whose
//                   result the master has not acknowledged yet, is acknowledged again
//                   without starting anything), spool to <work-dir>/spool/<task>.log and
//                   start it through the driver; never waits for the task.
//   CancelTask      ask the driver to stop the task; its end is reported as "cancelled".
//   StreamTaskLogs  see worker_service.h.
//
// Start() takes over the tasks a previous worker process left running (Driver::Recover),
// starts serving on the first free port from --port, and registers with --master or the
// saved master address. Shutdown() stops heartbeats, stops serving, releases the driver
// (exec tasks are killed; docker containers keep running for the next worker process) and
// gives pending completion reports a moment to get through.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "cloudai/v1/cluster.pb.h"
#include "worker/agent/agent_options.h"
#include "worker/agent/completion_reporter.h"
#include "worker/agent/master_link.h"
#include "worker/agent/master_session.h"
#include "worker/agent/task_table.h"
#include "worker/driver/driver.h"
#include "worker/host/gpu_info.h"
#include "worker/host/host_info.h"

namespace cloudai::worker {

class WorkerServiceImpl;

class Agent {
 public:
  // Creates the work directory and measures the host. `driver` is the driver to use.
  static absl::StatusOr<std::unique_ptr<Agent>> Create(AgentOptions options,
                                                       std::unique_ptr<Driver> driver);
  ~Agent();

  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  absl::Status Start();
  void Shutdown();

  // After Start: the port served and "advertise-host:port".
  int port() const { return port_; }
  std::string address() const;
  const AgentOptions& options() const { return options_; }
  std::string_view driver_name() const;
  const std::string& work_dir() const { return work_dir_; }
  bool registered() const;
  size_t pending_reports() const;

  // WorkerService.
  v1::RegisterAck MasterRegister(const v1::MasterInfo& info);
  v1::TaskAck AssignTask(const v1::Task& task);
  v1::TaskAck CancelTask(const v1::TaskId& id);
  const TaskTable& tasks() const { return *tasks_; }
  bool stopping() const { return stopping_; }

  // The registration and heartbeat messages as they would be sent now.
  v1::WorkerInfo BuildWorkerInfo();
  v1::Heartbeat BuildHeartbeat();

 private:
  Agent(AgentOptions options, std::string work_dir, std::unique_ptr<Driver> driver);
  std::string SpoolPath(const std::string& task_id) const;
  void OnTaskExit(const std::string& task_id, const TaskExit& exit);
  void Recover();
  absl::Status Serve();
  void SaveMasterAddress(const std::string& address);
  void CancelUnknownTasks(const std::vector<std::string>& task_ids);

  const AgentOptions options_;
  const std::string work_dir_;  // absolute
  std::string hostname_;
  int64_t total_cpu_ = 0;
  int64_t total_memory_ = 0;
  int64_t total_gpu_ = 0;
  std::unique_ptr<GpuProbe> gpus_;
  CpuUsageSampler cpu_sampler_;  // used on the session thread only

  std::unique_ptr<TaskTable> tasks_;
  MasterLink link_;
  std::unique_ptr<CompletionReporter> reporter_;
  std::unique_ptr<MasterSession> session_;
  std::unique_ptr<Driver> driver_;
  std::unique_ptr<WorkerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex lifecycle_mu_;  // Start and Shutdown
  bool shut_down_ = false;
  std::mutex master_file_mu_;
  std::string saved_master_;
};

}  // namespace cloudai::worker
