#include "store/records.h"

#include <array>

#include "common/strings.h"

namespace cloudai::store {
namespace {

constexpr std::array<std::string_view, 7> kStateNames = {
    "pending", "scheduled", "running", "completed", "failed", "cancelled", "lost"};

constexpr std::array<std::string_view, 6> kAllocationStateNames = {
    "pending", "active", "releasing", "released", "failed", "expired"};
constexpr std::array<std::string_view, 4> kPriorityNames = {"low", "normal", "high", "critical"};

absl::Status NotNegative(int64_t value, std::string_view field) {
  if (value < 0) {
    return absl::InvalidArgumentError(StrCat(field, ": ", value, " is negative"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TaskStateName(TaskState state) {
  const auto i = static_cast<size_t>(state);
  return i < kStateNames.size() ? kStateNames[i] : std::string_view("invalid");
}

absl::StatusOr<TaskState> ParseTaskState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<TaskState>(i);
  }
  return absl::InvalidArgumentError(StrCat(
      "unknown task state \"", name.substr(0, 64),
      "\"; expected one of pending, scheduled, running, completed, failed, cancelled, lost"));
}

bool IsFinal(TaskState state) {
  return state == TaskState::kCompleted || state == TaskState::kFailed ||
         state == TaskState::kCancelled || state == TaskState::kLost;
}

std::string_view AllocationStateName(AllocationState state) {
  const auto i = static_cast<size_t>(state);
  return i < kAllocationStateNames.size() ? kAllocationStateNames[i] : std::string_view("invalid");
}

absl::StatusOr<AllocationState> ParseAllocationState(std::string_view name) {
  for (size_t i = 0; i < kAllocationStateNames.size(); ++i) {
    if (kAllocationStateNames[i] == name) return static_cast<AllocationState>(i);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown allocation state \"", name.substr(0, 64),
             "\"; expected one of pending, active, releasing, released, failed, expired"));
}

bool IsFinal(AllocationState state) {
  return state == AllocationState::kReleased || state == AllocationState::kFailed ||
         state == AllocationState::kExpired;
}

std::string_view AllocationPriorityName(AllocationPriority priority) {
  const auto i = static_cast<size_t>(priority);
  return i < kPriorityNames.size() ? kPriorityNames[i] : std::string_view("invalid");
}

absl::StatusOr<AllocationPriority> ParseAllocationPriority(std::string_view name) {
  for (size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (kPriorityNames[i] == name) return static_cast<AllocationPriority>(i);
  }
  return absl::InvalidArgumentError(StrCat("unknown allocation priority \"", name.substr(0, 64),
                                           "\"; expected one of low, normal, high, critical"));
}

absl::Status ValidateId(std::string_view value, std::string_view field) {
  if (value.empty()) return absl::InvalidArgumentError(StrCat(field, ": must not be empty"));
  if (value.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", value.size(), " bytes is longer than the limit of ", kMaxIdLength));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          StrCat(field, ": contains a control character (code ", int{c}, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(std::string_view value, size_t max_length, std::string_view field) {
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", value.size(), " bytes is longer than the limit of ", max_length));
  }
  return absl::OkStatus();
}

absl::Status ValidateTime(int64_t value, std::string_view field) {
  return NotNegative(value, field);
}

absl::Status ValidateEnv(const std::map<std::string, std::string>& env, std::string_view field) {
  if (env.size() > kMaxEnvEntries) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", env.size(), " variables is above the limit of ", kMaxEnvEntries));
  }
  size_t total = 0;
  for (const auto& [key, value] : env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(StrCat(field, ": variable name \"", key.substr(0, 64),
                                               "\" must be non-empty, without '=' or NUL"));
    }
    if (value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          StrCat(field, ".", key.substr(0, 64), ": value contains a NUL byte"));
    }
    total += key.size() + value.size();
  }
  if (total > kMaxTextLength) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", total, " bytes in all is longer than the limit of ", kMaxTextLength));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(const std::map<std::string, std::string>& metadata,
                              std::string_view field) {
  if (metadata.size() > kMaxMetadataEntries) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", metadata.size(), " keys is above the limit of ", kMaxMetadataEntries));
  }
  for (const auto& [key, value] : metadata) {
    if (key.empty()) return absl::InvalidArgumentError(StrCat(field, ": a key is empty"));
    if (key.size() > kMaxMetadataKeyLength) {
      return absl::InvalidArgumentError(StrCat(field, ": key \"", key.substr(0, 64), "...\" is ",
                                               key.size(), " bytes, longer than the limit of ",
                                               kMaxMetadataKeyLength));
    }
    if (value.size() > kMaxMetadataValueLength) {
      return absl::InvalidArgumentError(StrCat(field, ".", key.substr(0, 64), ": ", value.size(),
                                               " bytes is longer than the limit of ",
                                               kMaxMetadataValueLength));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateServices(const std::vector<std::string>& services, std::string_view field) {
  if (services.size() > kMaxAllocationServices) {
    return absl::InvalidArgumentError(StrCat(
        field, ": ", services.size(), " names is above the limit of ", kMaxAllocationServices));
  }
  for (size_t i = 0; i < services.size(); ++i) {
    if (absl::Status s = ValidateId(services[i], StrCat(field, "[", i, "]")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateSlots(const std::vector<AllocationSlot>& slots, std::string_view field) {
  if (slots.size() > static_cast<size_t>(kMaxAllocationWorkers)) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", slots.size(), " slots is above the limit of ", kMaxAllocationWorkers));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    const std::string prefix = StrCat(field, "[", i, "]");
    absl::Status s = ValidateId(slots[i].worker_id, StrCat(prefix, ".worker_id"));
    if (s.ok()) s = slots[i].resources.Validate(StrCat(prefix, ".resources"));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateRecord(const UserRecord& user) {
  absl::Status s = ValidateId(user.user_id, "user.user_id");
  if (s.ok()) s = ValidateText(user.username, kMaxIdLength, "user.username");
  if (s.ok()) s = ValidateText(user.email, kMaxIdLength, "user.email");
  if (s.ok()) s = ValidateText(user.password_hash, kMaxIdLength, "user.password_hash");
  if (s.ok() && user.role != "admin" && user.role != "user") {
    s = absl::InvalidArgumentError(
        StrCat("user.role: \"", user.role.substr(0, 64), "\" is not admin or user"));
  }
  if (s.ok()) s = ValidateTime(user.created_at, "user.created_at");
  return s;
}

absl::Status ValidateRecord(const WorkerRecord& worker) {
  absl::Status s = ValidateId(worker.worker_id, "worker.worker_id");
  if (s.ok()) s = ValidateText(worker.worker_ip, kMaxIdLength, "worker.worker_ip");
  if (s.ok()) s = worker.total.Validate("worker.total");
  if (s.ok()) s = ValidateTime(worker.last_heartbeat, "worker.last_heartbeat");
  if (s.ok()) s = ValidateTime(worker.registered_at, "worker.registered_at");
  if (s.ok()) s = ValidateTime(worker.updated_at, "worker.updated_at");
  if (s.ok()) s = ValidateText(worker.driver, kMaxIdLength, "worker.driver");
  if (s.ok()) s = ValidateText(worker.hostname, kMaxIdLength, "worker.hostname");
  return s;
}

absl::Status ValidateRecord(const TaskRecord& task) {
  absl::Status s = ValidateId(task.task_id, "task.task_id");
  if (s.ok()) s = ValidateText(task.user_id, kMaxIdLength, "task.user_id");
  if (s.ok()) s = ValidateText(task.docker_image, kMaxTextLength, "task.docker_image");
  if (s.ok()) s = ValidateText(task.command, kMaxTextLength, "task.command");
  if (s.ok()) s = task.request.Validate("task.request");
  if (s.ok()) s = NotNegative(task.max_retries, "task.max_retries");
  if (s.ok()) s = NotNegative(task.retries, "task.retries");
  if (s.ok() && TaskStateName(task.status) == "invalid") {
    s = absl::InvalidArgumentError("task.status: not a task state");
  }
  if (s.ok()) s = ValidateText(task.target_worker_id, kMaxIdLength, "task.target_worker_id");
  if (s.ok()) s = ValidateText(task.worker_id, kMaxIdLength, "task.worker_id");
  if (s.ok()) s = ValidateTime(task.created_at, "task.created_at");
  if (s.ok()) s = ValidateTime(task.scheduled_at, "task.scheduled_at");
  if (s.ok()) s = ValidateTime(task.started_at, "task.started_at");
  if (s.ok()) s = ValidateTime(task.completed_at, "task.completed_at");
  if (s.ok()) s = ValidateText(task.error, kMaxTextLength, "task.error");
  if (s.ok()) s = ValidateEnv(task.env, "task.env");
  if (s.ok()) s = NotNegative(task.timeout_ms, "task.timeout_ms");
  if (s.ok()) s = ValidateText(task.allocation_id, kMaxIdLength, "task.allocation_id");
  return s;
}

absl::Status ValidateRecord(const AssignmentRecord& assignment) {
  absl::Status s = ValidateId(assignment.ass_id, "assignment.ass_id");
  if (s.ok()) s = ValidateId(assignment.task_id, "assignment.task_id");
  if (s.ok()) s = ValidateId(assignment.worker_id, "assignment.worker_id");
  if (s.ok()) s = ValidateTime(assignment.assigned_at, "assignment.assigned_at");
  return s;
}

absl::Status ValidateRecord(const ResultRecord& result) {
  absl::Status s = ValidateId(result.task_id, "result.task_id");
  if (s.ok()) s = ValidateText(result.worker_id, kMaxIdLength, "result.worker_id");
  if (s.ok() && !IsFinal(result.status)) {
    s = absl::InvalidArgumentError(StrCat("result.status: \"", TaskStateName(result.status),
                                          "\" is not a final state (completed, failed, "
                                          "cancelled or lost)"));
  }
  if (s.ok()) s = ValidateText(result.logs, kMaxLogsLength, "result.logs");
  if (s.ok()) s = ValidateText(result.result_location, kMaxTextLength, "result.result_location");
  if (s.ok()) s = ValidateTime(result.completed_at, "result.completed_at");
  return s;
}

absl::Status ValidateRecord(const TaskEvent& event) {
  absl::Status s = NotNegative(event.seq, "event.seq");
  if (s.ok()) s = ValidateId(event.task_id, "event.task_id");
  if (s.ok() && event.from_state.has_value() && TaskStateName(*event.from_state) == "invalid") {
    s = absl::InvalidArgumentError("event.from_state: not a task state");
  }
  if (s.ok() && TaskStateName(event.to_state) == "invalid") {
    s = absl::InvalidArgumentError("event.to_state: not a task state");
  }
  if (s.ok()) s = ValidateTime(event.at, "event.at");
  if (s.ok()) s = ValidateText(event.detail, kMaxTextLength, "event.detail");
  return s;
}

absl::Status ValidateRecord(const AllocationRecord& allocation) {
  const AllocationRecord& a = allocation;
  absl::Status s = ValidateId(a.allocation_id, "allocation.allocation_id");
  if (s.ok()) s = ValidateId(a.job_id, "allocation.job_id");
  if (s.ok() && AllocationStateName(a.state) == "invalid") {
    s = absl::InvalidArgumentError("allocation.state: not an allocation state");
  }
  if (s.ok() && AllocationPriorityName(a.priority) == "invalid") {
    s = absl::InvalidArgumentError("allocation.priority: not an allocation priority");
  }
  if (s.ok() && a.workers < 1) {
    s = absl::InvalidArgumentError(StrCat("allocation.workers: ", a.workers,
                                          " is below 1 (an allocation reserves at least "
                                          "one slot)"));
  }
  if (s.ok() && a.workers > kMaxAllocationWorkers) {
    s = absl::InvalidArgumentError(StrCat("allocation.workers: ", a.workers,
                                          " is above the limit of ", kMaxAllocationWorkers));
  }
  if (s.ok()) s = a.per_worker.Validate("allocation.per_worker");
  if (s.ok()) s = ValidateSlots(a.slots, "allocation.slots");
  if (s.ok() && a.slots.size() > static_cast<size_t>(a.workers)) {
    s = absl::InvalidArgumentError(StrCat("allocation.slots: ", a.slots.size(),
                                          " slots is more than allocation.workers (", a.workers,
                                          ")"));
  }
  if (s.ok()) s = ValidateServices(a.services, "allocation.services");
  if (s.ok()) s = ValidateMetadata(a.metadata, "allocation.metadata");
  if (s.ok()) s = NotNegative(a.ttl_ms, "allocation.ttl_ms");
  if (s.ok()) s = ValidateTime(a.created_at, "allocation.created_at");
  if (s.ok()) s = ValidateTime(a.activated_at, "allocation.activated_at");
  if (s.ok()) s = ValidateTime(a.expires_at, "allocation.expires_at");
  if (s.ok()) s = ValidateTime(a.ended_at, "allocation.ended_at");
  if (s.ok()) s = ValidateText(a.reason, kMaxTextLength, "allocation.reason");
  return s;
}

absl::Status ValidateRecord(const AllocationEvent& event) {
  absl::Status s = NotNegative(event.seq, "allocation_event.seq");
  if (s.ok()) s = ValidateId(event.allocation_id, "allocation_event.allocation_id");
  if (s.ok() && event.from_state.has_value() &&
      AllocationStateName(*event.from_state) == "invalid") {
    s = absl::InvalidArgumentError("allocation_event.from_state: not an allocation state");
  }
  if (s.ok() && AllocationStateName(event.to_state) == "invalid") {
    s = absl::InvalidArgumentError("allocation_event.to_state: not an allocation state");
  }
  if (s.ok()) s = ValidateTime(event.at, "allocation_event.at");
  if (s.ok()) s = ValidateText(event.detail, kMaxTextLength, "allocation_event.detail");
  return s;
}

absl::Status ValidateRecord(const ServiceInstanceRecord& instance) {
  absl::Status s = ValidateId(instance.service, "service_instance.service");
  if (s.ok()) s = ValidateId(instance.task_id, "service_instance.task_id");
  if (s.ok() && (instance.port < 1 || instance.port > 65535)) {
    s = absl::InvalidArgumentError(
        StrCat("service_instance.port: ", instance.port, " is not a port (1 to 65535)"));
  }
  if (s.ok()) s = ValidateTime(instance.started_at, "service_instance.started_at");
  if (s.ok()) s = ValidateTime(instance.idle_since, "service_instance.idle_since");
  return s;
}

}  // namespace cloudai::store
