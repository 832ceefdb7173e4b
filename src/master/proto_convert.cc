#include "master/proto_convert.h"

#include "common/strings.h"

#include <algorithm>

namespace cloudai::master {

v1::Resources ResourcesToProto(const Resources& resources) {
  v1::Resources message;
  message.set_cpu(resources.cpu_millis);
  message.set_memory(resources.memory_mib);
  message.set_storage(resources.storage_mib);
  message.set_gpu(resources.gpu_millis);
  for (const auto& [name, quantity] : resources.extras) (*message.mutable_extra())[name] = quantity;
  return message;
}

Resources ResourcesFromProto(const v1::Resources& message) {
  Resources resources = Resources::Of(message.cpu(), message.memory(), message.storage(),
                                      message.gpu());
  for (const auto& [name, quantity] : message.extra()) {
    // Zero means "none"; negative quantities stay, for Validate() to refuse.
    if (quantity != 0) resources.extras.emplace_back(name, quantity);
  }
  std::sort(resources.extras.begin(), resources.extras.end());
  return resources;
}

v1::Task TaskToProto(const store::TaskRecord& task) {
  v1::Task message;
  message.set_task_id(task.task_id);
  message.set_docker_image(task.docker_image);
  message.set_command(task.command);
  message.set_req_cpu(task.request.cpu_millis);
  message.set_req_memory(task.request.memory_mib);
  message.set_req_storage(task.request.storage_mib);
  message.set_req_gpu(task.request.gpu_millis);
  for (const auto& [name, quantity] : task.request.extras) {
    (*message.mutable_req_extra())[name] = quantity;
  }
  message.set_target_worker_id(task.target_worker_id.empty() ? task.worker_id
                                                             : task.target_worker_id);
  message.set_user_id(task.user_id);
  message.set_priority(task.priority);
  message.set_max_retries(task.max_retries);
  for (const auto& [name, value] : task.env) (*message.mutable_env())[name] = value;
  message.set_timeout_ms(task.timeout_ms);
  message.set_allocation_id(task.allocation_id);
  return message;
}

store::TaskRecord TaskFromProto(const v1::Task& message) {
  store::TaskRecord task;
  task.task_id = message.task_id();
  task.docker_image = message.docker_image();
  task.command = message.command();
  task.request = Resources::Of(message.req_cpu(), message.req_memory(), message.req_storage(),
                               message.req_gpu());
  for (const auto& [name, quantity] : message.req_extra()) {
    if (quantity != 0) task.request.extras.emplace_back(name, quantity);
  }
  std::sort(task.request.extras.begin(), task.request.extras.end());
  task.target_worker_id = message.target_worker_id();
  task.user_id = message.user_id();
  task.priority = message.priority();
  task.max_retries = message.max_retries();
  task.env.insert(message.env().begin(), message.env().end());
  task.timeout_ms = message.timeout_ms();
  task.allocation_id = message.allocation_id();
  return task;
}

v1::TaskStatus TaskStatusToProto(const TaskView& view) {
  const store::TaskRecord& task = view.task;
  v1::TaskStatus message;
  *message.mutable_task() = TaskToProto(task);
  message.mutable_task()->set_target_worker_id(task.target_worker_id);
  message.set_status(std::string(store::TaskStateName(task.status)));
  message.set_worker_id(task.worker_id);
  message.set_created_at_ms(task.created_at);
  message.set_scheduled_at_ms(task.scheduled_at);
  message.set_started_at_ms(task.started_at);
  message.set_completed_at_ms(task.completed_at);
  if (task.exit_code) message.set_exit_code(*task.exit_code);
  message.set_error(task.error);
  message.set_retries(task.retries);
  message.set_last_error(view.waiting_reason);
  return message;
}

v1::WorkerStatus WorkerStatusToProto(const WorkerView& view) {
  const store::WorkerRecord& record = view.record;
  v1::WorkerStatus message;
  v1::WorkerInfo* info = message.mutable_info();
  info->set_worker_id(record.worker_id);
  info->set_worker_ip(record.worker_ip);
  info->set_total_cpu(record.total.cpu_millis);
  info->set_total_memory(record.total.memory_mib);
  info->set_total_storage(record.total.storage_mib);
  info->set_total_gpu(record.total.gpu_millis);
  for (const auto& [name, quantity] : record.total.extras) {
    (*info->mutable_total_extra())[name] = quantity;
  }
  info->set_driver(record.driver);
  info->set_hostname(record.hostname);
  message.set_is_active(record.is_active);
  *message.mutable_allocated() = ResourcesToProto(view.allocated);
  *message.mutable_available() = ResourcesToProto(view.available);
  message.set_cpu_usage(view.cpu_usage);
  message.set_memory_usage(view.memory_usage);
  message.set_storage_usage(view.storage_usage);
  message.set_gpu_usage(view.gpu_usage);
  message.set_last_heartbeat_ms(record.last_heartbeat);
  message.set_registered_at_ms(record.registered_at);
  for (const std::string& id : view.task_ids) message.add_running_task_ids(id);
  return message;
}

v1::ServiceEndpoint ServiceToProto(const ServiceView& view) {
  v1::ServiceEndpoint message;
  message.set_service(view.service);
  if (!view.host.empty() && view.port > 0 && !view.worker_id.empty()) {
    message.set_endpoint(view.host.find(':') != std::string::npos
                             ? StrCat("[", view.host, "]:", view.port)
                             : StrCat(view.host, ":", view.port));
  }
  message.set_task_id(view.task_id);
  message.set_worker_id(view.worker_id);
  message.set_port(view.port);
  message.set_status(std::string(store::TaskStateName(view.status)));
  message.set_references(view.references);
  message.set_idle_since_ms(view.idle_since);
  return message;
}

v1::Allocation AllocationToProto(const AllocationView& view) {
  const store::AllocationRecord& record = view.record;
  v1::Allocation message;
  message.set_allocation_id(record.allocation_id);
  message.set_job_id(record.job_id);
  message.set_state(std::string(store::AllocationStateName(record.state)));
  message.set_priority(std::string(store::AllocationPriorityName(record.priority)));
  message.set_workers(record.workers);
  *message.mutable_per_worker() = ResourcesToProto(record.per_worker);
  for (const AllocationSlotView& slot : view.slots) {
    v1::AllocationSlot* s = message.add_slots();
    s->set_worker_id(slot.worker_id);
    s->set_host(slot.host);
    *s->mutable_resources() = ResourcesToProto(slot.resources);
    *s->mutable_used() = ResourcesToProto(slot.used);
  }
  for (const std::string& name : record.services) message.add_services(name);
  for (const ServiceView& service : view.endpoints) *message.add_endpoints() = ServiceToProto(service);
  for (const auto& [key, value] : record.metadata) (*message.mutable_metadata())[key] = value;
  message.set_ttl_seconds(record.ttl_ms / 1000);
  message.set_created_at_ms(record.created_at);
  message.set_activated_at_ms(record.activated_at);
  message.set_expires_at_ms(record.expires_at);
  message.set_ended_at_ms(record.ended_at);
  message.set_reason(record.reason);
  for (const std::string& id : view.task_ids) message.add_task_ids(id);
  for (const store::AllocationEvent& event : view.events) {
    v1::AllocationEvent* e = message.add_events();
    e->set_seq(event.seq);
    if (event.from_state) e->set_from_state(std::string(store::AllocationStateName(*event.from_state)));
    e->set_to_state(std::string(store::AllocationStateName(event.to_state)));
    e->set_at_ms(event.at);
    e->set_detail(event.detail);
  }
  return message;
}

AllocationAsk AllocationAskFromProto(const v1::AllocationRequest& message) {
  AllocationAsk ask;
  ask.job_id = message.job_id();
  ask.services.assign(message.services().begin(), message.services().end());
  ask.workers = message.workers();
  ask.priority = message.priority();
  ask.ttl_seconds = message.ttl_seconds();
  ask.per_worker = ResourcesFromProto(message.per_worker());
  for (const auto& [key, value] : message.metadata()) ask.metadata[key] = value;
  ask.wait = !message.has_wait() || message.wait();
  return ask;
}

v1::Capacity CapacityToProto(const CapacityView& view) {
  v1::Capacity message;
  *message.mutable_total() = ResourcesToProto(view.total);
  *message.mutable_allocated() = ResourcesToProto(view.allocated);
  absl::StatusOr<Resources> available = Subtract(view.total, view.allocated);
  *message.mutable_available() = ResourcesToProto(available.ok() ? *available : Resources{});
  *message.mutable_reserved() = ResourcesToProto(view.reserved);
  message.set_workers_total(static_cast<int32_t>(view.workers));
  message.set_workers_active(static_cast<int32_t>(view.active_workers));
  for (const ServiceView& service : view.services) *message.add_services() = ServiceToProto(service);
  message.set_active_allocations(static_cast<int32_t>(view.active_allocations));
  message.set_pending_allocations(static_cast<int32_t>(view.pending_allocations));
  return message;
}

}  // namespace cloudai::master
