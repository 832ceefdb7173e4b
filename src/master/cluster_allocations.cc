// Cluster: allocations (leases on worker slots) and the services they start.
// docs/allocations.md describes the rules; cluster.h the locking and commit discipline,
// which everything here follows.
#include <algorithm>
#include <iostream>
#include <random>

#include "common/strings.h"
#include "master/cluster.h"
#include "master/cluster_internal.h"

namespace cloudai::master {

using store::AllocationState;
using store::TaskState;
namespace st = cloudai::store;

namespace {

constexpr char kServiceUser[] = "service";

// "10.0.0.5:50052" -> "10.0.0.5"; "[::1]:50052" -> "::1".
std::string HostOf(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// How many slots of `slot` a worker of `total` could hold when empty.
int64_t SlotsThatFit(const Resources& total, const Resources& slot) {
  int64_t fit = kMaxAllocationWorkers;
  auto dim = [&fit](int64_t have, int64_t need) {
    if (need > 0) fit = std::min(fit, have / need);
  };
  dim(total.cpu_millis, slot.cpu_millis);
  dim(total.memory_mib, slot.memory_mib);
  dim(total.storage_mib, slot.storage_mib);
  dim(total.gpu_millis, slot.gpu_millis);
  for (const auto& [name, quantity] : slot.extras) dim(total.Extra(name), quantity);
  return fit;
}

bool ServesBefore(const st::AllocationRecord& a, const st::AllocationRecord& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.created_at != b.created_at) return a.created_at < b.created_at;
  return a.allocation_id < b.allocation_id;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

absl::Status Cluster::LoadAllocationsLocked(st::Snapshot& snapshot,
                                            std::map<std::string, Resources, std::less<>>& allocated,
                                            st::Batch& batch) {
  const int64_t now_ms = NowMs();
  for (st::AllocationRecord& record : snapshot.allocations) {
    auto entry = std::make_unique<AllocationEntry>();
    entry->record = std::move(record);
    AllocationEntry& a = *entry;
    a.used.assign(a.record.slots.size(), Resources{});
    if (a.record.state == AllocationState::kActive ||
        a.record.state == AllocationState::kReleasing) {
      std::string gone;
      for (const st::AllocationSlot& slot : a.record.slots) {
        auto worker = workers_.find(slot.worker_id);
        if (worker == workers_.end()) {
          gone = slot.worker_id;
          continue;
        }
        absl::StatusOr<Resources> sum = Add(allocated[slot.worker_id], slot.resources);
        if (!sum.ok()) return sum.status();
        allocated[slot.worker_id] = std::move(*sum);
        worker->second->allocation_ids.insert(a.record.allocation_id);
      }
      if (a.record.state == AllocationState::kReleasing) {
        a.ending_as = now_ms >= a.record.expires_at ? AllocationState::kExpired
                                                    : AllocationState::kReleased;
      } else if (!gone.empty()) {
        // Its tasks are stopped at the first scheduling pass.
        const AllocationState from = a.record.state;
        a.record.state = AllocationState::kReleasing;
        a.ending_as = AllocationState::kFailed;
        a.record.reason = StrCat("worker ", gone, " holding one of its slots is gone");
        batch.UpsertAllocation(a.record);
        AppendAllocationEvent(batch, a.record, from, a.record.reason);
      }
    }
    allocations_.emplace(a.record.allocation_id, std::move(entry));
  }
  for (st::ServiceInstanceRecord& instance : snapshot.service_instances) {
    std::string name = instance.service;
    services_.emplace(std::move(name), std::move(instance));
  }
  if (!allocations_.empty()) {
    Log(StrCat("loaded ", allocations_.size(), " live allocations and ", services_.size(),
               " service instances"));
  }
  return absl::OkStatus();
}

void Cluster::RestoreServicesLocked(st::Batch& batch) {
  for (auto it = services_.begin(); it != services_.end();) {
    if (tasks_.count(it->second.task_id) == 0) {
      batch.DeleteServiceInstance(it->first);
      it = services_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

std::string Cluster::NewAllocationIdLocked() const {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    const uint64_t bits = rng() & 0xffffffffffffULL;  // 12 hex digits
    std::string hex(12, '0');
    for (int i = 11; i >= 0; --i) hex[i] = "0123456789abcdef"[(bits >> (4 * (11 - i))) & 0xf];
    std::string id = StrCat(kAllocationIdPrefix, hex);
    if (allocations_.count(id) == 0 && absl::IsNotFound(store_.GetAllocation(id).status())) {
      return id;
    }
  }
}

void Cluster::AppendAllocationEvent(st::Batch& batch, const st::AllocationRecord& record,
                                    std::optional<AllocationState> from, std::string detail) {
  st::AllocationEvent event;
  event.allocation_id = record.allocation_id;
  event.from_state = from;
  event.to_state = record.state;
  event.at = NowMs();
  event.detail = std::move(detail);
  batch.AppendAllocationEvent(std::move(event));
}

void Cluster::NoteAllocationLocked(const AllocationEntry& allocation) {
  if (observer_.load() == nullptr) return;
  AllocationView view = AllocationViewLocked(allocation);
  notes_in_batch_.push_back(
      [view = std::move(view)](ClusterObserver& o) { o.OnAllocationChanged(view); });
}

int32_t Cluster::ServiceReferencesLocked(const std::string& service) const {
  int32_t references = 0;
  for (const auto& [id, a] : allocations_) {
    if (a->record.state != AllocationState::kActive &&
        a->record.state != AllocationState::kReleasing) {
      continue;
    }
    if (std::find(a->record.services.begin(), a->record.services.end(), service) !=
        a->record.services.end()) {
      ++references;
    }
  }
  return references;
}

ServiceView Cluster::ServiceViewLocked(const st::ServiceInstanceRecord& instance) const {
  ServiceView view;
  view.service = instance.service;
  view.task_id = instance.task_id;
  view.port = instance.port;
  view.idle_since = instance.idle_since;
  view.references = ServiceReferencesLocked(instance.service);
  if (auto t = tasks_.find(instance.task_id); t != tasks_.end()) {
    view.status = t->second->record.status;
    view.worker_id = t->second->record.worker_id;
    if (auto w = workers_.find(view.worker_id); w != workers_.end()) {
      view.host = HostOf(w->second->record.worker_ip);
    }
  } else {
    view.status = TaskState::kCancelled;
  }
  return view;
}

AllocationView Cluster::AllocationViewOfRecord(const st::AllocationRecord& record) const {
  AllocationView view;
  view.record = record;
  for (const st::AllocationSlot& slot : record.slots) {
    AllocationSlotView s;
    s.worker_id = slot.worker_id;
    s.resources = slot.resources;
    if (auto w = workers_.find(slot.worker_id); w != workers_.end()) {
      s.host = HostOf(w->second->record.worker_ip);
    }
    view.slots.push_back(std::move(s));
  }
  return view;
}

AllocationView Cluster::AllocationViewLocked(const AllocationEntry& allocation) const {
  AllocationView view = AllocationViewOfRecord(allocation.record);
  for (size_t i = 0; i < view.slots.size() && i < allocation.used.size(); ++i) {
    view.slots[i].used = allocation.used[i];
  }
  if (allocation.record.state == AllocationState::kActive ||
      allocation.record.state == AllocationState::kReleasing) {
    for (const std::string& name : allocation.record.services) {
      if (auto it = services_.find(name); it != services_.end()) {
        view.endpoints.push_back(ServiceViewLocked(it->second));
      }
    }
  }
  view.task_ids.assign(allocation.task_ids.begin(), allocation.task_ids.end());
  return view;
}

std::string Cluster::WhyNeverFitsLocked(const st::AllocationRecord& record) const {
  int64_t slots = 0;
  Resources largest;
  for (const auto& [id, worker] : workers_) {
    if (!worker->joined) continue;
    slots += SlotsThatFit(worker->record.total, record.per_worker);
    if (slots >= record.workers) break;
  }
  if (slots == 0) {
    return StrCat("a slot of ", record.per_worker.ToString(),
                  " is larger than what any registered worker has in total");
  }
  if (slots < record.workers) {
    return StrCat("the workers could hold at most ", slots, " slot(s) of ",
                  record.per_worker.ToString(), " even when idle; asked for ", record.workers);
  }
  for (const std::string& name : record.services) {
    if (services_.count(name) != 0) continue;
    auto def = options_.allocations.services.find(name);
    if (def != options_.allocations.services.end() && !view_.CouldEverFit(def->second.request)) {
      return StrCat("service ", name, " needs ", def->second.request.ToString(),
                    ", more than any worker has in total");
    }
  }
  return "";
}

absl::Status Cluster::CheckAllocationTaskLocked(const st::TaskRecord& task) const {
  auto it = allocations_.find(task.allocation_id);
  if (it == allocations_.end()) {
    absl::StatusOr<st::AllocationRecord> ended = absl::NotFoundError("");
    {
      std::lock_guard<std::mutex> lock(final_mu_);
      if (auto e = ending_allocations_.find(task.allocation_id); e != ending_allocations_.end()) {
        ended = e->second;
      }
    }
    if (!ended.ok()) ended = store_.GetAllocation(task.allocation_id);
    if (!ended.ok()) {
      return absl::NotFoundError(StrCat("allocation \"", task.allocation_id, "\" not found"));
    }
    return absl::FailedPreconditionError(
        StrCat("allocation ", task.allocation_id, " has ended (",
               st::AllocationStateName(ended->state), "); request a new one"));
  }
  const AllocationEntry& a = *it->second;
  if (a.record.state == AllocationState::kReleasing) {
    return absl::FailedPreconditionError(
        StrCat("allocation ", task.allocation_id, " is being released"));
  }
  if (std::optional<std::string> shortfall = Shortfall(a.record.per_worker, task.request)) {
    return absl::InvalidArgumentError(
        StrCat("task.request: does not fit in a slot of allocation ", task.allocation_id, " (",
               a.record.per_worker.ToString(), "): ", *shortfall));
  }
  if (!task.target_worker_id.empty() && a.record.state == AllocationState::kActive) {
    bool found = false;
    for (const st::AllocationSlot& slot : a.record.slots) found |= slot.worker_id == task.target_worker_id;
    if (!found) {
      return absl::InvalidArgumentError(
          StrCat("task.target_worker_id: worker \"", task.target_worker_id,
                 "\" holds no slot of allocation ", task.allocation_id));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------

std::string Cluster::TryActivateLocked(AllocationEntry& allocation, st::Batch& batch) {
  st::AllocationRecord& record = allocation.record;
  const AllocationSettings& settings = options_.allocations;
  // Choose everything first, in the view, so that a shortfall undoes it all.
  std::vector<std::pair<std::string, Resources>> taken;
  auto undo = [&] {
    for (const auto& [worker_id, request] : taken) (void)view_.Release(worker_id, request);
  };
  for (int32_t i = 0; i < record.workers; ++i) {
    std::optional<std::string> worker = policy_->Select(view_, record.per_worker);
    if (!worker || !view_.Allocate(*worker, record.per_worker).ok()) {
      undo();
      std::string why = view_.WhyNoFit(record.per_worker);
      return StrCat("waiting for capacity: ", i, " of ", record.workers, " slot(s) of ",
                    record.per_worker.ToString(), " fit now",
                    why.empty() ? std::string() : StrCat(" (", why, ")"));
    }
    taken.emplace_back(*worker, record.per_worker);
  }
  const size_t slot_count = taken.size();
  struct NewService {
    std::string name, worker_id;
    int32_t port;
  };
  std::vector<NewService> new_services;
  std::set<int32_t> ports;
  for (const auto& [name, instance] : services_) ports.insert(instance.port);
  for (const std::string& name : record.services) {
    if (services_.count(name) != 0) continue;
    const ServiceDefinition& def = settings.services.at(name);
    std::optional<std::string> worker = policy_->Select(view_, def.request);
    if (!worker || !view_.Allocate(*worker, def.request).ok()) {
      undo();
      return StrCat("waiting for capacity to start service ", name, " (",
                    def.request.ToString(), ")");
    }
    taken.emplace_back(*worker, def.request);
    int32_t port = settings.service_port_min;
    while (port <= settings.service_port_max && ports.count(port) != 0) ++port;
    if (port > settings.service_port_max) {
      undo();
      return StrCat("waiting for a free service port in ", settings.service_port_min, "-",
                    settings.service_port_max);
    }
    ports.insert(port);
    new_services.push_back({name, *worker, port});
  }

  // It fits: record the slots and start the services.
  const AllocationState from = record.state;
  record.slots.clear();
  for (size_t i = 0; i < slot_count; ++i) {
    record.slots.push_back({taken[i].first, taken[i].second});
    workers_.at(taken[i].first)->allocation_ids.insert(record.allocation_id);
  }
  allocation.used.assign(slot_count, Resources{});
  record.state = AllocationState::kActive;
  record.activated_at = NowMs();
  record.reason.clear();
  for (const NewService& s : new_services) StartServiceLocked(s.name, s.worker_id, s.port, batch);
  for (const std::string& name : record.services) {
    auto it = services_.find(name);
    if (it != services_.end() && it->second.idle_since != 0) {
      it->second.idle_since = 0;
      batch.UpsertServiceInstance(it->second);
    }
  }
  batch.UpsertAllocation(record);
  std::string where;
  for (const st::AllocationSlot& slot : record.slots) StrAppend(&where, where.empty() ? "" : ", ", slot.worker_id);
  AppendAllocationEvent(batch, record, from, StrCat("slots reserved on ", where));
  NoteAllocationLocked(allocation);
  MarkDirtyLocked();  // its queued tasks may now be placed
  Log(StrCat("allocation ", record.allocation_id, " for job ", record.job_id, " active: ",
             record.workers, " slot(s) on ", where));
  return "";
}

void Cluster::StartServiceLocked(const std::string& name, const std::string& worker_id,
                                 int32_t port, st::Batch& batch) {
  const ServiceDefinition& def = options_.allocations.services.at(name);
  auto task = std::make_unique<TaskEntry>();
  st::TaskRecord& record = task->record;
  record.task_id = NextTaskIdLocked(batch);
  record.user_id = kServiceUser;
  record.docker_image = def.docker_image;
  record.command = def.command;
  record.request = def.request;
  record.env = def.env;
  record.env["PORT"] = std::to_string(port);
  record.env["CLOUDAI_SERVICE"] = name;
  record.status = TaskState::kPending;
  record.created_at = NowMs();
  batch.InsertTask(record);
  AppendEvent(batch, record, std::nullopt, StrCat("started for service ", name, " on port ", port));
  TaskEntry& t = *task;
  tasks_.emplace(record.task_id, std::move(task));
  PlaceTaskLocked(batch, t, *workers_.at(worker_id), StrCat("placed on ", worker_id, " for service ", name));
  st::ServiceInstanceRecord instance;
  instance.service = name;
  instance.task_id = t.record.task_id;
  instance.port = port;
  instance.started_at = NowMs();
  batch.UpsertServiceInstance(instance);
  services_[name] = instance;
  Log(StrCat("service ", name, " starting as task ", t.record.task_id, " on ", worker_id, ":", port));
}

void Cluster::ServiceTaskEndedLocked(st::Batch& batch, const TaskEntry& task) {
  if (task.record.user_id != kServiceUser) return;
  for (auto it = services_.begin(); it != services_.end(); ++it) {
    if (it->second.task_id == task.record.task_id) {
      batch.DeleteServiceInstance(it->first);
      services_.erase(it);
      return;
    }
  }
}

void Cluster::SchedulePendingAllocationsLocked(st::Batch& batch) {
  std::vector<std::string> releasing;
  std::vector<AllocationEntry*> pending;
  for (auto& [id, a] : allocations_) {
    if (a->record.state == AllocationState::kReleasing) releasing.push_back(id);
    if (a->record.state == AllocationState::kPending) pending.push_back(a.get());
  }
  // Releases left unfinished by a restart.
  for (const std::string& id : releasing) {
    auto it = allocations_.find(id);
    if (it == allocations_.end()) continue;
    AllocationEntry& a = *it->second;
    if (a.task_ids.empty()) {
      CompleteReleaseLocked(batch, a);
    } else if (!a.stops_requested) {
      EndAllocationLocked(batch, a, a.ending_as, a.record.reason);
    }
  }
  std::sort(pending.begin(), pending.end(), [](const AllocationEntry* a, const AllocationEntry* b) {
    return ServesBefore(a->record, b->record);
  });
  const bool all_joined = AllJoinedLocked();
  for (AllocationEntry* a : pending) {
    if (all_joined) {
      std::string never = WhyNeverFitsLocked(a->record);
      if (!never.empty()) {
        EndAllocationLocked(batch, *a, AllocationState::kFailed, StrCat("can never fit: ", never));
        continue;
      }
    }
    std::string why = TryActivateLocked(*a, batch);
    if (!why.empty()) {
      a->record.reason = std::move(why);
      break;  // those after it wait their turn
    }
  }
}

size_t Cluster::ScheduleAllocationTasksLocked(st::Batch& batch, std::vector<std::string>& placed) {
  // A task queued again (lost, or its worker unreachable) in an allocation that is ending
  // will not run: it ends as cancelled.
  std::vector<std::string> stranded;
  for (auto& [id, a] : allocations_) {
    if (a->record.state == AllocationState::kReleasing) {
      stranded.insert(stranded.end(), a->queue.begin(), a->queue.end());
    }
  }
  for (const std::string& task_id : stranded) {
    auto t = tasks_.find(task_id);
    if (t == tasks_.end()) continue;
    FinishLocked(batch, *t->second, TaskState::kCancelled,
                 StrCat("cancelled: its allocation ", t->second->record.allocation_id, " is ending"),
                 nullptr);
  }
  for (auto& [id, a_ptr] : allocations_) {
    AllocationEntry& a = *a_ptr;
    if (a.record.state != AllocationState::kActive || a.queue.empty()) continue;
    for (auto q = a.queue.begin(); q != a.queue.end();) {
      TaskEntry& task = *tasks_.at(*q);
      int chosen = -1;
      for (size_t i = 0; i < a.record.slots.size() && chosen < 0; ++i) {
        const st::AllocationSlot& slot = a.record.slots[i];
        auto w = workers_.find(slot.worker_id);
        if (w == workers_.end() || !w->second->record.is_active) continue;
        if (!task.record.target_worker_id.empty() && task.record.target_worker_id != slot.worker_id) {
          continue;
        }
        absl::StatusOr<Resources> sum = Add(a.used[i], task.record.request);
        if (sum.ok() && sum->FitsIn(slot.resources)) {
          a.used[i] = std::move(*sum);
          chosen = static_cast<int>(i);
        }
      }
      if (chosen < 0) {
        ++q;
        continue;
      }
      task.slot = chosen;
      const std::string& worker_id = a.record.slots[chosen].worker_id;
      PlaceTaskLocked(batch, task, *workers_.at(worker_id),
                      StrCat("placed on ", worker_id, " in slot ", chosen, " of allocation ", id));
      placed.push_back(task.record.task_id);
      q = a.queue.erase(q);
    }
  }
  return placed.size();
}

// ---------------------------------------------------------------------------------------
// Ending
// ---------------------------------------------------------------------------------------

void Cluster::EndAllocationLocked(st::Batch& batch, AllocationEntry& allocation,
                                  AllocationState final_state, const std::string& why) {
  const std::string id = allocation.record.allocation_id;
  const AllocationState from = allocation.record.state;
  if (from == AllocationState::kPending) {
    for (const std::string& task_id : std::set<std::string>(allocation.task_ids)) {
      auto t = tasks_.find(task_id);
      if (t == tasks_.end()) continue;
      FinishLocked(batch, *t->second, TaskState::kCancelled,
                   StrCat("cancelled: its allocation ", id, " ended (", why, ")"), nullptr);
    }
    allocation.ending_as = final_state;
    allocation.record.reason = why;
    CompleteReleaseLocked(batch, allocation);
    return;
  }
  if (from == AllocationState::kActive) {
    allocation.record.state = AllocationState::kReleasing;
    allocation.record.reason = why;
    allocation.ending_as = final_state;
    batch.UpsertAllocation(allocation.record);
    AppendAllocationEvent(batch, allocation.record, from, why);
    NoteAllocationLocked(allocation);
    Log(StrCat("allocation ", id, " releasing: ", why));
  } else if (from == AllocationState::kReleasing && final_state == AllocationState::kFailed) {
    allocation.ending_as = final_state;
  }
  allocation.stops_requested = true;
  for (const std::string& task_id : std::set<std::string>(allocation.task_ids)) {
    auto t = tasks_.find(task_id);
    if (t == tasks_.end()) continue;
    const std::string detail = StrCat("cancelled: its allocation ", id, " is ending (", why, ")");
    if (t->second->record.status == TaskState::kPending) {
      FinishLocked(batch, *t->second, TaskState::kCancelled, detail, nullptr);
    } else {
      RequestStopLocked(batch, *t->second, detail);
    }
  }
  // The last task to end completes the release (FinishLocked); with none, do it now.
  auto it = allocations_.find(id);
  if (it != allocations_.end() && it->second->record.state == AllocationState::kReleasing &&
      it->second->task_ids.empty()) {
    CompleteReleaseLocked(batch, *it->second);
  }
}

void Cluster::CompleteReleaseLocked(st::Batch& batch, AllocationEntry& allocation) {
  st::AllocationRecord& record = allocation.record;
  const std::string id = record.allocation_id;
  const AllocationState from = record.state;
  if (from == AllocationState::kActive || from == AllocationState::kReleasing) {
    for (const st::AllocationSlot& slot : record.slots) {
      if (absl::Status s = view_.Release(slot.worker_id, slot.resources);
          !s.ok() && workers_.count(slot.worker_id) != 0) {
        Log(StrCat("BUG: freeing a slot of ", id, " on ", slot.worker_id, ": ",
                   std::string(s.message())));
      }
      if (auto w = workers_.find(slot.worker_id); w != workers_.end()) {
        w->second->allocation_ids.erase(id);
      }
    }
  }
  record.state = allocation.ending_as;
  record.ended_at = NowMs();
  batch.UpsertAllocation(record);
  AppendAllocationEvent(batch, record, from,
                        from == AllocationState::kReleasing ? "its tasks have stopped; slots freed"
                                                            : record.reason);
  NoteAllocationLocked(allocation);
  Log(StrCat("allocation ", id, " ", st::AllocationStateName(record.state),
             record.reason.empty() ? std::string() : StrCat(": ", record.reason)));
  const std::vector<std::string> services = record.services;
  {
    std::lock_guard<std::mutex> lock(final_mu_);
    ending_allocations_[id] = record;
  }
  ended_allocations_in_batch_.push_back(id);
  allocations_.erase(id);  // `allocation` is gone from here on
  for (const std::string& name : services) {
    auto it = services_.find(name);
    if (it == services_.end() || it->second.idle_since != 0) continue;
    if (ServiceReferencesLocked(name) == 0) {
      it->second.idle_since = NowMs();
      batch.UpsertServiceInstance(it->second);
    }
  }
  MarkDirtyLocked();
}

void Cluster::WaitAllocationFinalLocked(std::unique_lock<std::mutex>& lock, const std::string& id,
                                        Clock::TimePoint deadline) {
  while (allocations_.count(id) != 0 && !shutdown_ && clock_.Now() < deadline) {
    clock_.WaitUntil(changed_, lock, deadline);
  }
}

// ---------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------

absl::StatusOr<AllocationView> Cluster::RequestAllocation(const AllocationAsk& ask) {
  absl::StatusOr<st::AllocationRecord> validated = ValidateAllocationAsk(ask, options_.allocations);
  if (!validated.ok()) return validated.status();
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  auto entry = std::make_unique<AllocationEntry>();
  AllocationEntry& a = *entry;
  a.record = std::move(*validated);
  a.record.allocation_id = NewAllocationIdLocked();
  a.record.created_at = NowMs();
  a.record.expires_at = a.record.created_at + a.record.ttl_ms;
  if (AllJoinedLocked()) {
    if (std::string never = WhyNeverFitsLocked(a.record); !never.empty()) {
      return absl::ResourceExhaustedError(StrCat("the allocation could never fit: ", never));
    }
  } else if (workers_.empty()) {
    if (!a.record.wait) {
      return absl::ResourceExhaustedError("no worker is registered; the allocation cannot fit now");
    }
  }
  size_t ahead = 0;
  for (const auto& [id, other] : allocations_) {
    if (other->record.state == AllocationState::kPending && other->record.priority >= a.record.priority) {
      ++ahead;
    }
  }
  st::Batch batch;
  batch.UpsertAllocation(a.record);
  AppendAllocationEvent(batch, a.record, std::nullopt,
                        StrCat("requested for job ", a.record.job_id, ": ", a.record.workers,
                               " slot(s) of ", a.record.per_worker.ToString(), ", priority ",
                               st::AllocationPriorityName(a.record.priority)));
  std::string why = ahead > 0 ? StrCat("waiting behind ", ahead,
                                       " pending allocation(s) of the same or higher priority")
                              : TryActivateLocked(a, batch);
  if (!why.empty()) {
    if (!a.record.wait) {
      return absl::ResourceExhaustedError(
          StrCat("the allocation does not fit now and wait=false: ", why));
    }
    a.record.reason = why;
    NoteAllocationLocked(a);
    Log(StrCat("allocation ", a.record.allocation_id, " for job ", a.record.job_id,
               " pending: ", why));
  }
  const std::string id = a.record.allocation_id;
  allocations_.emplace(id, std::move(entry));
  MarkDirtyLocked();
  AllocationView view = AllocationViewLocked(*allocations_.at(id));
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  return view;
}

absl::StatusOr<AllocationView> Cluster::ReleaseAllocation(std::string_view allocation_id) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const std::string id(allocation_id);
  std::unique_lock<std::mutex> lock(mu_);
  auto it = allocations_.find(id);
  if (it == allocations_.end()) {
    lock.unlock();
    absl::StatusOr<AllocationView> ended = GetAllocation(id);
    if (!ended.ok()) return ended.status();
    return absl::FailedPreconditionError(StrCat("allocation ", id, " is already ",
                                                st::AllocationStateName(ended->record.state),
                                                "; nothing was changed"));
  }
  if (it->second->record.state == AllocationState::kReleasing) {
    return absl::FailedPreconditionError(
        StrCat("allocation ", id, " is already being released; nothing was changed"));
  }
  st::Batch batch;
  EndAllocationLocked(batch, *it->second, AllocationState::kReleased, "released by request");
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  lock.lock();
  WaitAllocationFinalLocked(lock, id, clock_.Now() + options_.cancel_wait);
  lock.unlock();
  return GetAllocation(id);
}

absl::StatusOr<AllocationView> Cluster::GetAllocation(std::string_view allocation_id) const {
  const std::string id(allocation_id);
  std::optional<AllocationView> view;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = allocations_.find(id); it != allocations_.end()) {
      view = AllocationViewLocked(*it->second);
    } else {
      std::lock_guard<std::mutex> final_lock(final_mu_);
      if (auto e = ending_allocations_.find(id); e != ending_allocations_.end()) {
        view = AllocationViewOfRecord(e->second);
      }
    }
  }
  if (!view) {
    absl::StatusOr<st::AllocationRecord> record = store_.GetAllocation(id);
    if (!record.ok()) {
      if (absl::IsNotFound(record.status())) {
        return absl::NotFoundError(StrCat("allocation \"", id.substr(0, 64), "\" not found"));
      }
      return record.status();
    }
    std::lock_guard<std::mutex> lock(mu_);
    view = AllocationViewOfRecord(*record);
  }
  absl::StatusOr<std::vector<st::AllocationEvent>> events = store_.ListAllocationEvents(id);
  if (events.ok()) view->events = std::move(*events);
  return *view;
}

absl::StatusOr<std::vector<AllocationView>> Cluster::ListAllocations(
    const st::AllocationFilter& filter) const {
  absl::StatusOr<std::vector<st::AllocationRecord>> records = store_.ListAllocations(filter);
  if (!records.ok()) return records.status();
  std::vector<AllocationView> out;
  out.reserve(records->size());
  std::lock_guard<std::mutex> lock(mu_);
  std::lock_guard<std::mutex> final_lock(final_mu_);
  for (const st::AllocationRecord& record : *records) {
    if (auto it = allocations_.find(record.allocation_id); it != allocations_.end()) {
      out.push_back(AllocationViewLocked(*it->second));  // memory is newer than the store
    } else if (auto e = ending_allocations_.find(record.allocation_id);
               e != ending_allocations_.end()) {
      out.push_back(AllocationViewOfRecord(e->second));
    } else {
      out.push_back(AllocationViewOfRecord(record));
    }
  }
  return out;
}

absl::StatusOr<AllocationView> Cluster::ExtendAllocation(std::string_view allocation_id,
                                                         int64_t extend_seconds) {
  const int64_t max_ttl_s = options_.allocations.max_ttl.count() / 1000;
  if (extend_seconds < 1 || extend_seconds > max_ttl_s) {
    return absl::InvalidArgumentError(
        StrCat("extend_seconds: ", extend_seconds, " is outside 1..", max_ttl_s));
  }
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const std::string id(allocation_id);
  std::unique_lock<std::mutex> lock(mu_);
  auto it = allocations_.find(id);
  if (it == allocations_.end() || it->second->record.state == AllocationState::kReleasing) {
    lock.unlock();
    absl::StatusOr<AllocationView> ended = GetAllocation(id);
    if (!ended.ok()) return ended.status();
    return absl::FailedPreconditionError(
        StrCat("allocation ", id, " is ", st::AllocationStateName(ended->record.state),
               "; only pending and active allocations can be extended"));
  }
  st::AllocationRecord& record = it->second->record;
  const int64_t expires = record.expires_at + extend_seconds * 1000;
  if (expires - record.created_at > options_.allocations.max_ttl.count()) {
    return absl::InvalidArgumentError(StrCat(
        "extend_seconds: ", extend_seconds, " would make the allocation's TTL ",
        (expires - record.created_at) / 1000, "s, above the maximum of ", max_ttl_s, "s"));
  }
  record.expires_at = expires;
  record.ttl_ms = expires - record.created_at;
  st::Batch batch;
  batch.UpsertAllocation(record);
  AppendAllocationEvent(batch, record, record.state, StrCat("extended by ", extend_seconds, "s"));
  NoteAllocationLocked(*it->second);
  AllocationView view = AllocationViewLocked(*it->second);
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  return view;
}

CapacityView Cluster::Capacity() const {
  std::lock_guard<std::mutex> lock(mu_);
  CapacityView out;
  out.workers = workers_.size();
  for (const auto& [id, worker] : workers_) {
    if (!worker->record.is_active) continue;
    ++out.active_workers;
    if (const scheduler::WorkerSpec* spec = view_.Find(id)) {
      if (auto sum = Add(out.total, spec->total); sum.ok()) out.total = std::move(*sum);
      if (auto sum = Add(out.allocated, spec->allocated); sum.ok()) out.allocated = std::move(*sum);
    }
  }
  for (const auto& [id, a] : allocations_) {
    if (a->record.state == AllocationState::kPending) {
      ++out.pending_allocations;
      continue;
    }
    if (a->record.state == AllocationState::kActive) ++out.active_allocations;
    for (const st::AllocationSlot& slot : a->record.slots) {
      if (auto sum = Add(out.reserved, slot.resources); sum.ok()) out.reserved = std::move(*sum);
    }
  }
  for (const auto& [name, instance] : services_) out.services.push_back(ServiceViewLocked(instance));
  return out;
}

SweepReport Cluster::SweepAllocations() {
  SweepReport report;
  if (!CheckWritable().ok()) return report;
  std::unique_lock<std::mutex> lock(mu_);
  if (shutdown_) return report;
  const int64_t now_ms = NowMs();
  st::Batch batch;
  std::vector<std::string> expired;
  for (const auto& [id, a] : allocations_) {
    if ((a->record.state == AllocationState::kPending ||
         a->record.state == AllocationState::kActive) &&
        a->record.expires_at <= now_ms) {
      expired.push_back(id);
    }
  }
  for (const std::string& id : expired) {
    auto it = allocations_.find(id);
    if (it == allocations_.end()) continue;
    EndAllocationLocked(batch, *it->second, AllocationState::kExpired,
                        StrCat("its TTL of ", it->second->record.ttl_ms / 1000, "s passed"));
    report.expired_allocation_ids.push_back(id);
  }
  const int64_t idle_ms = options_.allocations.service_idle_timeout.count();
  std::vector<std::string> idle;
  for (const auto& [name, instance] : services_) {
    if (instance.idle_since != 0 && now_ms - instance.idle_since >= idle_ms &&
        ServiceReferencesLocked(name) == 0) {
      idle.push_back(name);
    }
  }
  for (const std::string& name : idle) {
    const std::string task_id = services_.at(name).task_id;
    batch.DeleteServiceInstance(name);
    services_.erase(name);
    report.stopped_services.push_back(name);
    Log(StrCat("service ", name, " idle; stopping task ", task_id));
    auto t = tasks_.find(task_id);
    if (t == tasks_.end()) continue;
    const std::string detail = StrCat("stopped: service ", name, " was idle");
    if (t->second->record.status == TaskState::kPending) {
      FinishLocked(batch, *t->second, TaskState::kCancelled, detail, nullptr);
    } else {
      RequestStopLocked(batch, *t->second, detail);
    }
  }
  for (const auto& [id, a] : allocations_) {
    report.active_allocations += a->record.state == AllocationState::kActive;
  }
  if (!batch.empty()) (void)CommitAndWait(lock, std::move(batch));
  return report;
}

}  // namespace cloudai::master
