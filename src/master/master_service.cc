#include "master/master_service.h"

#include <algorithm>
#include <cmath>

#include "common/strings.h"
#include "master/proto_convert.h"
#include "master/task_input.h"

namespace cloudai::master {
namespace {

constexpr int kMaxReportedTasks = 100'000;

// Usage percentages outside [0, 100] (or NaN) are clamped: they are telemetry, not state.
double Percent(double value) {
  if (!std::isfinite(value) || value < 0) return 0;
  return value > 100 ? 100 : value;
}

absl::Status CheckRunning(const google::protobuf::RepeatedPtrField<v1::RunningTask>& tasks,
                          std::vector<std::string>* ids) {
  if (tasks.size() > kMaxReportedTasks) {
    return absl::InvalidArgumentError(
        StrCat("running_tasks: ", tasks.size(), " entries; the limit is ", kMaxReportedTasks));
  }
  for (const v1::RunningTask& task : tasks) {
    if (absl::Status s = ValidateName(task.task_id(), kMaxTaskIdLength, "running_tasks.task_id");
        !s.ok()) {
      return s;
    }
    ids->push_back(task.task_id());
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status MasterServiceImpl::RegisterWorker(grpc::ServerContext*, const v1::WorkerInfo* request,
                                               v1::RegisterAck* response) {
  WorkerJoin join;
  join.worker_id = request->worker_id();
  join.address = request->worker_ip();
  join.total = Resources::Of(request->total_cpu(), request->total_memory(),
                             request->total_storage(), request->total_gpu());
  for (const auto& [name, quantity] : request->total_extra()) {
    if (quantity != 0) join.total.extras.emplace_back(name, quantity);
  }
  std::sort(join.total.extras.begin(), join.total.extras.end());
  join.driver = request->driver().substr(0, 32);
  join.hostname = request->hostname().substr(0, 253);
  absl::Status status = CheckRunning(request->running_tasks(), &join.running_task_ids);
  if (status.ok()) status = cluster_.WorkerJoined(join);
  response->set_success(status.ok());
  response->set_message(status.ok() ? StrCat("worker ", join.worker_id, " registered")
                                    : std::string(status.message()));
  return grpc::Status::OK;
}

void MasterServiceImpl::Beat(const v1::Heartbeat& request, v1::HeartbeatAck* response) {
  HeartbeatInput beat;
  beat.worker_id = request.worker_id();
  beat.cpu_usage = Percent(request.cpu_usage());
  beat.memory_usage = Percent(request.memory_usage());
  beat.storage_usage = Percent(request.storage_usage());
  beat.gpu_usage = Percent(request.gpu_usage());
  absl::Status status = CheckRunning(request.running_tasks(), &beat.running_task_ids);
  if (!status.ok()) {
    response->set_success(false);
    response->set_message(std::string(status.message()));
    return;
  }
  absl::StatusOr<HeartbeatOutcome> outcome = cluster_.Heartbeat(beat);
  response->set_success(outcome.ok());
  if (!outcome.ok()) {
    response->set_message(std::string(outcome.status().message()));
    return;
  }
  for (const std::string& id : outcome->unknown_task_ids) response->add_unknown_task_ids(id);
}

grpc::Status MasterServiceImpl::ReportTaskCompletion(grpc::ServerContext*,
                                                     const v1::TaskResult* request,
                                                     v1::Ack* response) {
  TaskCompletion completion;
  completion.task_id = request->task_id();
  completion.worker_id = request->worker_id();
  completion.status = request->status();
  completion.exit_code = request->exit_code();
  completion.error = request->error();
  completion.logs = request->logs();
  completion.logs_truncated = request->logs_truncated();
  completion.result_location = request->result_location().substr(0, 4096);
  completion.started_at_ms = std::max<int64_t>(0, request->started_at_ms());
  completion.finished_at_ms = std::max<int64_t>(0, request->finished_at_ms());
  absl::Status status = ValidateName(completion.task_id, kMaxTaskIdLength, "task_id");
  if (status.ok()) status = ValidateName(completion.worker_id, kMaxWorkerIdLength, "worker_id");
  if (status.ok()) status = cluster_.TaskEnded(completion);
  if (absl::IsUnavailable(status)) {
    // Not recorded: the worker must retry.
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(status.message()));
  }
  response->set_success(status.ok());
  response->set_message(status.ok() ? "recorded" : std::string(status.message()));
  return grpc::Status::OK;
}

}  // namespace cloudai::master
