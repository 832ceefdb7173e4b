#include "client/fake_cluster_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "common/strings.h"

namespace cloudai::client::testing {

void FakeClusterService::SetAck(v1::Ack ack) {
  std::lock_guard<std::mutex> lock(mu_);
  ack_ = std::move(ack);
}
void FakeClusterService::SetWorkers(v1::ListWorkersResponse workers) {
  std::lock_guard<std::mutex> lock(mu_);
  workers_ = std::move(workers);
}
void FakeClusterService::SetWorker(v1::WorkerStatus worker) {
  std::lock_guard<std::mutex> lock(mu_);
  worker_ = std::move(worker);
}
void FakeClusterService::SetTask(v1::TaskStatus task) {
  std::lock_guard<std::mutex> lock(mu_);
  task_ = std::move(task);
}
void FakeClusterService::SetTasks(v1::ListTasksResponse tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_ = std::move(tasks);
}
void FakeClusterService::SetQueue(v1::QueueStatusResponse queue) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_ = std::move(queue);
}
void FakeClusterService::SetLogChunks(std::vector<v1::LogChunk> chunks) {
  std::lock_guard<std::mutex> lock(mu_);
  chunks_ = std::move(chunks);
}
void FakeClusterService::SetAllocationsPending(std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_reason_ = std::move(reason);
}
void FakeClusterService::SetNowMs(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ms_ = now_ms;
}
std::optional<v1::Allocation> FakeClusterService::allocation(
    const std::string& allocation_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Allocation& a : allocations_) {
    if (a.allocation_id() == allocation_id) return a;
  }
  return std::nullopt;
}
void FakeClusterService::FailWith(const std::string& method, grpc::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_[method] = std::move(status);
}

std::vector<FakeClusterService::Call> FakeClusterService::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

grpc::Status FakeClusterService::Record(const std::string& method, grpc::ServerContext* context,
                                        const google::protobuf::Message& request) {
  Call call;
  call.method = method;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    call.authorization.assign(it->second.data(), it->second.size());
  }
  call.request.reset(request.New());
  call.request->CopyFrom(request);
  std::lock_guard<std::mutex> lock(mu_);
  const bool authorized = call.authorization == StrCat("Bearer ", token_);
  calls_.push_back(std::move(call));
  if (!authorized) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong admin token");
  }
  if (auto it = failures_.find(method); it != failures_.end()) return it->second;
  return grpc::Status::OK;
}

#define CLOUDAI_FAKE_UNARY(Method, Request, Response, field)                                    \
  grpc::Status FakeClusterService::Method(grpc::ServerContext* context, const Request* request, \
                                          Response* response) {                                 \
    if (grpc::Status s = Record(#Method, context, *request); !s.ok()) return s;                 \
    std::lock_guard<std::mutex> lock(mu_);                                                      \
    *response = field;                                                                          \
    return grpc::Status::OK;                                                                    \
  }

CLOUDAI_FAKE_UNARY(RegisterWorker, v1::RegisterWorkerRequest, v1::Ack, ack_)
CLOUDAI_FAKE_UNARY(UnregisterWorker, v1::WorkerIdRequest, v1::Ack, ack_)
CLOUDAI_FAKE_UNARY(ListWorkers, v1::ListWorkersRequest, v1::ListWorkersResponse, workers_)
CLOUDAI_FAKE_UNARY(GetWorker, v1::WorkerIdRequest, v1::WorkerStatus, worker_)
CLOUDAI_FAKE_UNARY(GetTask, v1::TaskId, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(ListTasks, v1::ListTasksRequest, v1::ListTasksResponse, tasks_)
CLOUDAI_FAKE_UNARY(CancelTask, v1::TaskId, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(QueueStatus, v1::QueueStatusRequest, v1::QueueStatusResponse, queue_)

#undef CLOUDAI_FAKE_UNARY

// ---------------------------------------------------------------------------------------
// Tasks, with their allocation

grpc::Status FakeClusterService::CheckTaskAllocationLocked(const v1::Task& task) {
  if (task.allocation_id().empty()) return grpc::Status::OK;
  const v1::Allocation* a = FindAllocationLocked(task.allocation_id());
  if (a == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("unknown allocation ", task.allocation_id()));
  }
  if (a->state() != "active" && a->state() != "pending") {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        StrCat("allocation ", a->allocation_id(), " is ", a->state()));
  }
  return grpc::Status::OK;
}

void FakeClusterService::RecordTaskLocked(const v1::Task& task, const v1::TaskStatus& reply) {
  if (task.allocation_id().empty()) return;
  v1::Allocation* a = FindAllocationLocked(task.allocation_id());
  if (a != nullptr && !reply.task().task_id().empty()) a->add_task_ids(reply.task().task_id());
}

grpc::Status FakeClusterService::SubmitTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  if (grpc::Status s = Record("SubmitTask", context, *request); !s.ok()) return s;
  return AnswerTask(request->task(), response);
}

grpc::Status FakeClusterService::AssignTask(grpc::ServerContext* context,
                                            const v1::SubmitTaskRequest* request,
                                            v1::TaskStatus* response) {
  if (grpc::Status s = Record("AssignTask", context, *request); !s.ok()) return s;
  return AnswerTask(request->task(), response);
}

grpc::Status FakeClusterService::AnswerTask(const v1::Task& task, v1::TaskStatus* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (grpc::Status s = CheckTaskAllocationLocked(task); !s.ok()) return s;
  *response = task_;
  if (!task.allocation_id().empty()) response->mutable_task()->set_allocation_id(task.allocation_id());
  RecordTaskLocked(task, *response);
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::StreamTaskLogs(grpc::ServerContext* context,
                                                const v1::TaskLogRequest* request,
                                                grpc::ServerWriter<v1::LogChunk>* writer) {
  if (grpc::Status s = Record("StreamTaskLogs", context, *request); !s.ok()) return s;
  std::vector<v1::LogChunk> chunks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chunks = chunks_;
  }
  for (const v1::LogChunk& chunk : chunks) {
    if (!writer->Write(chunk)) break;
  }
  return grpc::Status::OK;
}

// ---------------------------------------------------------------------------------------
// Allocations

namespace {

constexpr int64_t kDefaultTtlSeconds = 3600;
constexpr int64_t kMaxTtlSeconds = int64_t{7} * 24 * 3600;
constexpr int32_t kMaxWorkers = 1000;
constexpr int kMaxServices = 16;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

bool IsLive(const std::string& state) { return state == "pending" || state == "active"; }

bool IsPriority(const std::string& p) {
  return p == "low" || p == "normal" || p == "high" || p == "critical";
}

// "10.0.0.5:50052" -> "10.0.0.5".
std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

void AddResources(v1::Resources& into, const v1::Resources& r) {
  into.set_cpu(into.cpu() + r.cpu());
  into.set_memory(into.memory() + r.memory());
  into.set_storage(into.storage() + r.storage());
  into.set_gpu(into.gpu() + r.gpu());
}

v1::Resources Minus(const v1::Resources& a, const v1::Resources& b) {
  v1::Resources out;
  out.set_cpu(std::max<int64_t>(0, a.cpu() - b.cpu()));
  out.set_memory(std::max<int64_t>(0, a.memory() - b.memory()));
  out.set_storage(std::max<int64_t>(0, a.storage() - b.storage()));
  out.set_gpu(std::max<int64_t>(0, a.gpu() - b.gpu()));
  return out;
}

// `a` as replies other than GetAllocation carry it: without events.
v1::Allocation WithoutEvents(const v1::Allocation& a) {
  v1::Allocation out = a;
  out.clear_events();
  return out;
}

}  // namespace

int64_t FakeClusterService::NowMsLocked() const {
  if (now_ms_ != 0) return now_ms_;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

v1::Allocation* FakeClusterService::FindAllocationLocked(const std::string& allocation_id) {
  for (v1::Allocation& a : allocations_) {
    if (a.allocation_id() == allocation_id) return &a;
  }
  return nullptr;
}

void FakeClusterService::AddEventLocked(v1::Allocation& allocation, const std::string& to_state,
                                        const std::string& detail) {
  v1::AllocationEvent* e = allocation.add_events();
  e->set_seq(allocation.events_size());
  e->set_from_state(allocation.state());  // empty for the event that creates it
  e->set_to_state(to_state);
  e->set_at_ms(NowMsLocked());
  e->set_detail(detail);
}

void FakeClusterService::EndAllocationLocked(v1::Allocation& allocation, const std::string& state,
                                             const std::string& reason) {
  const bool was_active = allocation.state() == "active";
  AddEventLocked(allocation, state, reason);
  allocation.set_state(state);
  allocation.set_reason(reason);
  allocation.set_ended_at_ms(NowMsLocked());
  allocation.clear_task_ids();
  if (!was_active) return;
  for (const std::string& name : allocation.services()) {
    auto it = services_.find(name);
    if (it == services_.end()) continue;
    v1::ServiceEndpoint& service = it->second;
    service.set_references(std::max(0, service.references() - 1));
    if (service.references() == 0) service.set_idle_since_ms(NowMsLocked());
  }
}

grpc::Status FakeClusterService::RequestAllocation(grpc::ServerContext* context,
                                                   const v1::AllocationRequest* request,
                                                   v1::Allocation* response) {
  if (grpc::Status s = Record("RequestAllocation", context, *request); !s.ok()) return s;
  const std::string& job = request->job_id();
  if (job.empty()) return Invalid("job_id: missing");
  if (request->workers() < 0 || request->workers() > kMaxWorkers) {
    return Invalid(StrCat("workers: ", request->workers(), " is out of bounds (1 to ",
                          kMaxWorkers, ")"));
  }
  if (!request->priority().empty() && !IsPriority(request->priority())) {
    return Invalid(StrCat("priority: \"", request->priority(),
                          "\" is not low, normal, high or critical"));
  }
  if (request->ttl_seconds() < 0 || request->ttl_seconds() > kMaxTtlSeconds) {
    return Invalid(StrCat("ttl_seconds: ", request->ttl_seconds(), " is out of bounds (1 to ",
                          kMaxTtlSeconds, ")"));
  }
  if (request->services_size() > kMaxServices) {
    return Invalid(StrCat("services: ", request->services_size(), " is more than ", kMaxServices));
  }
  for (const std::string& name : request->services()) {
    if (name.empty()) return Invalid("services: an empty name");
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_reason_.empty() && request->has_wait() && !request->wait()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, pending_reason_);
  }
  const int64_t now = NowMsLocked();
  v1::Allocation a;
  char id[32];
  std::snprintf(id, sizeof(id), "alloc-%012llx",
                static_cast<unsigned long long>(++next_allocation_));
  a.set_allocation_id(id);
  a.set_job_id(job);
  a.set_priority(request->priority().empty() ? "normal" : request->priority());
  a.set_workers(request->workers() == 0 ? 1 : request->workers());
  *a.mutable_per_worker() = request->per_worker();
  const v1::Resources& size = request->per_worker();
  if (size.cpu() == 0 && size.memory() == 0 && size.storage() == 0 && size.gpu() == 0) {
    a.mutable_per_worker()->set_cpu(1000);
    a.mutable_per_worker()->set_memory(2048);
  }
  *a.mutable_services() = request->services();
  *a.mutable_metadata() = request->metadata();
  a.set_ttl_seconds(request->ttl_seconds() == 0 ? kDefaultTtlSeconds : request->ttl_seconds());
  a.set_created_at_ms(now);
  a.set_expires_at_ms(now + a.ttl_seconds() * 1000);

  if (!pending_reason_.empty()) {
    AddEventLocked(a, "pending", pending_reason_);
    a.set_state("pending");
    a.set_reason(pending_reason_);
  } else {
    std::vector<std::pair<std::string, std::string>> hosts;  // worker id, host
    for (const v1::WorkerStatus& w : workers_.workers()) {
      if (w.is_active()) hosts.emplace_back(w.info().worker_id(), HostOf(w.info().worker_ip()));
    }
    if (hosts.empty()) hosts.emplace_back("worker-1", "127.0.0.1");
    for (int i = 0; i < a.workers(); ++i) {
      const auto& [worker, host] = hosts[next_slot_worker_++ % hosts.size()];
      v1::AllocationSlot* slot = a.add_slots();
      slot->set_worker_id(worker);
      slot->set_host(host);
      *slot->mutable_resources() = a.per_worker();
      slot->mutable_used();
    }
    for (const std::string& name : a.services()) {
      v1::ServiceEndpoint& service = services_[name];
      if (service.service().empty()) {
        const int port = next_service_port_++;
        service.set_service(name);
        service.set_task_id(StrCat("svc-", name));
        service.set_worker_id(a.slots(0).worker_id());
        service.set_port(port);
        service.set_endpoint(StrCat(a.slots(0).host(), ":", port));
        service.set_status("running");
      }
      service.set_references(service.references() + 1);
      service.set_idle_since_ms(0);
      *a.add_endpoints() = service;
    }
    AddEventLocked(a, "active", StrCat(a.workers(), a.workers() == 1 ? " slot" : " slots",
                                       " placed"));
    a.set_state("active");
    a.set_activated_at_ms(now);
  }
  allocations_.push_back(a);
  *response = WithoutEvents(a);
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::ReleaseAllocation(grpc::ServerContext* context,
                                                   const v1::AllocationId* request,
                                                   v1::Allocation* response) {
  if (grpc::Status s = Record("ReleaseAllocation", context, *request); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  v1::Allocation* a = FindAllocationLocked(request->allocation_id());
  if (a == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("unknown allocation ", request->allocation_id()));
  }
  if (!IsLive(a->state())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        StrCat("allocation ", a->allocation_id(), " is already released"));
  }
  EndAllocationLocked(*a, "released", "released by request");
  *response = WithoutEvents(*a);
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::GetAllocation(grpc::ServerContext* context,
                                               const v1::AllocationId* request,
                                               v1::Allocation* response) {
  if (grpc::Status s = Record("GetAllocation", context, *request); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const v1::Allocation* a = FindAllocationLocked(request->allocation_id());
  if (a == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("unknown allocation ", request->allocation_id()));
  }
  *response = *a;
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::ListAllocations(grpc::ServerContext* context,
                                                 const v1::ListAllocationsRequest* request,
                                                 v1::ListAllocationsResponse* response) {
  if (grpc::Status s = Record("ListAllocations", context, *request); !s.ok()) return s;
  if (request->limit() < 0) return Invalid(StrCat("limit: ", request->limit(), " is negative"));
  const int limit = request->limit() == 0 ? 100 : request->limit();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = allocations_.rbegin(); it != allocations_.rend(); ++it) {
    if (response->allocations_size() >= limit) break;
    if (!request->state().empty() && it->state() != request->state()) continue;
    if (!request->job_id().empty() && it->job_id() != request->job_id()) continue;
    *response->add_allocations() = WithoutEvents(*it);
  }
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::ExtendAllocation(grpc::ServerContext* context,
                                                  const v1::ExtendAllocationRequest* request,
                                                  v1::Allocation* response) {
  if (grpc::Status s = Record("ExtendAllocation", context, *request); !s.ok()) return s;
  if (request->extend_seconds() <= 0) {
    return Invalid(StrCat("extend_seconds: ", request->extend_seconds(), " is not positive"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  v1::Allocation* a = FindAllocationLocked(request->allocation_id());
  if (a == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("unknown allocation ", request->allocation_id()));
  }
  if (!IsLive(a->state())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        StrCat("allocation ", a->allocation_id(), " is ", a->state()));
  }
  const int64_t ttl = a->ttl_seconds() + request->extend_seconds();
  if (ttl > kMaxTtlSeconds) {
    return Invalid(StrCat("extend_seconds: the TTL would be ", ttl, "s, above the maximum of ",
                          kMaxTtlSeconds, "s"));
  }
  a->set_ttl_seconds(ttl);
  a->set_expires_at_ms(a->expires_at_ms() + request->extend_seconds() * 1000);
  *response = WithoutEvents(*a);
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::GetCapacity(grpc::ServerContext* context,
                                             const v1::CapacityRequest* request,
                                             v1::Capacity* response) {
  if (grpc::Status s = Record("GetCapacity", context, *request); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  v1::Resources total;
  v1::Resources allocated;
  v1::Resources reserved;
  int active_workers = 0;
  for (const v1::WorkerStatus& w : workers_.workers()) {
    if (!w.is_active()) continue;
    ++active_workers;
    total.set_cpu(total.cpu() + w.info().total_cpu());
    total.set_memory(total.memory() + w.info().total_memory());
    total.set_storage(total.storage() + w.info().total_storage());
    total.set_gpu(total.gpu() + w.info().total_gpu());
    AddResources(allocated, w.allocated());
  }
  int active = 0;
  int pending = 0;
  for (const v1::Allocation& a : allocations_) {
    if (a.state() == "pending") ++pending;
    if (a.state() != "active") continue;
    ++active;
    for (const v1::AllocationSlot& slot : a.slots()) AddResources(reserved, slot.resources());
  }
  AddResources(allocated, reserved);
  *response->mutable_total() = total;
  *response->mutable_allocated() = allocated;
  *response->mutable_reserved() = reserved;
  *response->mutable_available() = Minus(total, allocated);
  response->set_workers_total(workers_.workers_size());
  response->set_workers_active(active_workers);
  response->set_active_allocations(active);
  response->set_pending_allocations(pending);
  for (const auto& [name, service] : services_) *response->add_services() = service;
  return grpc::Status::OK;
}

grpc::Status FakeClusterService::CleanupExpiredAllocations(grpc::ServerContext* context,
                                                           const v1::CleanupRequest* request,
                                                           v1::CleanupResponse* response) {
  if (grpc::Status s = Record("CleanupExpiredAllocations", context, *request); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMsLocked();
  for (v1::Allocation& a : allocations_) {
    if (!IsLive(a.state()) || a.expires_at_ms() > now) continue;
    EndAllocationLocked(a, "expired", "TTL passed");
    response->add_expired_allocation_ids(a.allocation_id());
  }
  // Services no live allocation names any more stop at once (the master waits for its
  // idle timeout first).
  for (auto it = services_.begin(); it != services_.end();) {
    if (it->second.references() == 0) {
      response->add_stopped_services(it->first);
      it = services_.erase(it);
    } else {
      ++it;
    }
  }
  int active = 0;
  for (const v1::Allocation& a : allocations_) active += a.state() == "active" ? 1 : 0;
  response->set_active_allocations(active);
  return grpc::Status::OK;
}

FakeClusterServer::FakeClusterServer(std::string token)
    : token_(std::move(token)), service_(token_) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    throw std::runtime_error("FakeClusterServer: cannot listen on 127.0.0.1");
  }
  address_ = StrCat("127.0.0.1:", port);
}

FakeClusterServer::~FakeClusterServer() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace cloudai::client::testing
