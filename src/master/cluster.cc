#include "master/cluster.h"
#include "master/cluster_internal.h"

#include <algorithm>
#include <future>
#include <iostream>
#include <utility>

#include "common/strings.h"
#include "master/task_input.h"
#include "scheduler/policy_registry.h"

namespace cloudai::master {

using store::TaskState;  // the enum; Cluster::TaskState is the in-memory entry
namespace st = cloudai::store;

namespace {

constexpr char kTaskCounter[] = "next_task_number";
// How often a live worker's last_heartbeat is written to the store (it is kept in memory
// on every heartbeat; the store needs it only for listings after a restart). CheckLiveness()
// writes every worker that is due in one batch, so that 10,000 workers cost one commit a
// second rather than one for each heartbeat that happens to be due.
constexpr std::chrono::seconds kHeartbeatPersistEvery{30};

std::string BoundLogs(std::string logs, int64_t limit, bool* truncated) {
  if (limit <= 0 || static_cast<int64_t>(logs.size()) <= limit) return logs;
  *truncated = true;
  size_t keep = static_cast<size_t>(limit) / 2;
  size_t cut = logs.size() - 2 * keep;
  std::string out = logs.substr(0, keep);
  StrAppend(&out, "\n[... ", cut, " bytes of output truncated ...]\n");
  out.append(logs, logs.size() - keep, keep);
  return out;
}

std::string Seconds(std::chrono::milliseconds d) {
  return StrCat(d.count() / 1000, ".", (d.count() % 1000) / 100, "s");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Create(st::Store& store,
                                                        WorkerGateway& gateway, Clock& clock,
                                                        ClusterOptions options) {
  absl::StatusOr<std::unique_ptr<scheduler::PlacementPolicy>> policy =
      scheduler::MakePolicy(options.scheduler);
  if (!policy.ok()) return policy.status();
  std::unique_ptr<Cluster> cluster(
      new Cluster(store, gateway, clock, std::move(options), std::move(*policy)));
  if (absl::Status s = cluster->Load(); !s.ok()) return s;
  return cluster;
}

Cluster::Cluster(st::Store& store, WorkerGateway& gateway, Clock& clock,
                 ClusterOptions options, std::unique_ptr<scheduler::PlacementPolicy> policy)
    : store_(store),
      gateway_(gateway),
      clock_(clock),
      options_(std::move(options)),
      policy_(std::move(policy)) {}

Cluster::~Cluster() {
  Shutdown();
  // Callbacks from the store and the gateway refer to this object: wait until every one
  // has run or been dropped.
  std::unique_lock<std::mutex> lock(tickets_mu_);
  tickets_done_.wait(lock, [this] { return tickets_ == 0; });
}

std::shared_ptr<void> Cluster::Ticket() {
  {
    std::lock_guard<std::mutex> lock(tickets_mu_);
    ++tickets_;
  }
  return std::shared_ptr<void>(nullptr, [this](void*) {
    std::lock_guard<std::mutex> lock(tickets_mu_);
    if (--tickets_ == 0) tickets_done_.notify_all();
  });
}

int64_t Cluster::NowMs() const { return ToUnixMillis(clock_.WallNow()); }

absl::Status Cluster::Load() {
  absl::StatusOr<st::Snapshot> snapshot = store_.LoadAll();
  if (!snapshot.ok()) return snapshot.status();
  std::unique_lock<std::mutex> lock(mu_);
  if (auto it = snapshot->counters.find(kTaskCounter); it != snapshot->counters.end()) {
    next_task_number_ = std::max<int64_t>(1, it->second);
  }
  const Clock::TimePoint now = clock_.Now();
  st::Batch batch;
  for (st::WorkerRecord& record : snapshot->workers) {
    auto worker = std::make_unique<WorkerEntry>();
    if (record.is_active) {
      // Not heard from by this master yet.
      record.is_active = false;
      batch.SetWorkerStatus(record.worker_id, false, record.last_heartbeat, NowMs());
    }
    worker->record = record;
    worker->joined = !record.driver.empty();
    joined_workers_ += worker->joined;
    worker->last_seen = now;
    worker->last_persisted = now;
    workers_.emplace(record.worker_id, std::move(worker));
  }

  // Placed tasks keep their allocations, even where they add up to more than a worker's
  // stored total (the view marks such a worker over capacity until releases catch up).
  std::map<std::string, Resources, std::less<>> allocated;
  if (absl::Status s = LoadAllocationsLocked(*snapshot, allocated, batch); !s.ok()) return s;
  std::vector<TaskEntry*> orphans;
  std::vector<TaskEntry*> allocation_ended;  // tasks of allocations that have ended
  for (st::TaskRecord& record : snapshot->tasks) {
    auto task = std::make_unique<TaskEntry>();
    task->record = std::move(record);
    task->queued_at_ms = task->record.created_at;
    TaskEntry& t = *task;
    tasks_.emplace(t.record.task_id, std::move(task));
    auto allocation = allocations_.find(t.record.allocation_id);
    if (!t.record.allocation_id.empty() && allocation == allocations_.end()) {
      allocation_ended.push_back(&t);
      continue;
    }
    if (t.record.status == TaskState::kPending) {
      if (absl::Status s = QueueLocked(t); !s.ok()) return s;
      continue;
    }
    auto worker = workers_.find(t.record.worker_id);
    if (allocation != allocations_.end() && worker != workers_.end()) {
      // A task placed in an allocation takes room in the slot on its worker.
      AllocationEntry& a = *allocation->second;
      a.task_ids.insert(t.record.task_id);
      for (size_t i = 0; i < a.record.slots.size() && t.slot < 0; ++i) {
        if (a.record.slots[i].worker_id != t.record.worker_id) continue;
        absl::StatusOr<Resources> sum = Add(a.used[i], t.record.request);
        if (sum.ok() && sum->FitsIn(a.record.slots[i].resources)) {
          a.used[i] = std::move(*sum);
          t.slot = static_cast<int>(i);
        }
      }
      if (t.slot < 0) {
        orphans.push_back(&t);
        continue;
      }
      t.holds_resources = true;
      worker->second->task_ids.insert(t.record.task_id);
      continue;
    }
    absl::StatusOr<Resources> sum =
        worker == workers_.end()
            ? absl::NotFoundError(StrCat("its worker \"", t.record.worker_id, "\" is gone"))
            : Add(allocated[t.record.worker_id], t.record.request);
    if (!sum.ok()) {
      Log(StrCat("task ", t.record.task_id, " cannot be restored: ", std::string(sum.status().message())));
      orphans.push_back(&t);
      continue;
    }
    allocated[t.record.worker_id] = *sum;
    t.holds_resources = true;
    worker->second->task_ids.insert(t.record.task_id);
  }
  std::vector<scheduler::WorkerSpec> specs;
  for (const auto& [id, worker] : workers_) {
    specs.push_back({id, worker->record.worker_ip, false, worker->record.total, allocated[id]});
  }
  if (absl::Status s = view_.UpsertWorkers(std::move(specs)); !s.ok()) return s;
  for (TaskEntry* task : orphans) {
    LoseLocked(batch, *task, "could not be restored after a master restart: its worker is gone");
  }
  for (TaskEntry* task : allocation_ended) {
    FinishLocked(batch, *task, TaskState::kCancelled,
                 StrCat("its allocation ", task->record.allocation_id, " has ended"), nullptr);
  }
  RestoreServicesLocked(batch);
  Log(StrCat("loaded ", workers_.size(), " workers and ", tasks_.size(),
             " unfinished tasks from the store"));
  if (batch.empty()) return absl::OkStatus();
  return CommitAndWait(lock, std::move(batch));
}

// ---------------------------------------------------------------------------------------
// Commits
// ---------------------------------------------------------------------------------------

void Cluster::CommitLocked(st::Batch batch, std::function<void(absl::Status)> done) {
  std::vector<std::string> finalized = std::move(finalized_in_batch_);
  finalized_in_batch_.clear();
  std::vector<std::string> ended = std::move(ended_allocations_in_batch_);
  ended_allocations_in_batch_.clear();
  std::vector<std::function<void(ClusterObserver&)>> notes = std::move(notes_in_batch_);
  notes_in_batch_.clear();
  std::vector<Delivery> deliveries = std::move(deliveries_in_batch_);
  deliveries_in_batch_.clear();
  store_.CommitAsync(std::move(batch), [this, ticket = Ticket(), done = std::move(done),
                                        finalized = std::move(finalized),
                                        ended = std::move(ended), notes = std::move(notes),
                                        deliveries = std::move(deliveries)](absl::Status s) {
    if (!s.ok()) StoreFailed(s);
    if (ClusterObserver* observer = observer_.load(); s.ok() && observer != nullptr) {
      for (const auto& note : notes) note(*observer);
    }
    if (!finalized.empty() || !ended.empty()) {
      std::lock_guard<std::mutex> lock(final_mu_);
      for (const std::string& id : finalized) finalizing_.erase(id);
      for (const std::string& id : ended) ending_allocations_.erase(id);
    }
    if (s.ok()) {
      for (const Delivery& d : deliveries) {
        const std::string task_id = d.task.task_id;
        const std::string worker_id = d.worker_id;
        gateway_.DeliverAssignment(
            d.worker_id, d.address, d.task,
            [this, ticket = Ticket(), task_id, worker_id](const WorkerReply& reply) {
              OnAssignReply(task_id, worker_id, reply);
            });
      }
    }
    if (done) done(s);
  });
}

absl::Status Cluster::CommitAndWait(std::unique_lock<std::mutex>& lock, st::Batch batch) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = promise->get_future();
  CommitLocked(std::move(batch), [promise](absl::Status s) { promise->set_value(s); });
  lock.unlock();
  absl::Status s = result.get();
  if (!s.ok()) {
    return absl::UnavailableError(
        StrCat("the store could not commit the change: ", std::string(s.message())));
  }
  return absl::OkStatus();
}

void Cluster::StoreFailed(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    // The store is closed: the master is shutting down.
    return;
  }
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(failure_mu_);
    first = !store_failed_;
    store_failed_ = true;
  }
  if (!first) return;
  Log(StrCat("STORE FAILURE: ", status.ToString(),
             "; memory is now ahead of the store, refusing further changes"));
  if (options_.on_store_failure) options_.on_store_failure(status);
}

absl::Status Cluster::CheckWritable() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  if (store_failed_) {
    return absl::UnavailableError(
        "the master's store failed a commit; restart the master to reload its state");
  }
  if (shutdown_) return absl::UnavailableError("the master is shutting down");
  return absl::OkStatus();
}

void Cluster::AppendEvent(st::Batch& batch, const st::TaskRecord& task,
                          std::optional<TaskState> from, std::string detail) {
  st::TaskEvent event;
  event.task_id = task.task_id;
  event.from_state = from;
  event.to_state = task.status;
  event.at = NowMs();
  event.detail = std::move(detail);
  if (observer_.load() != nullptr) {
    notes_in_batch_.push_back([task, event](ClusterObserver& o) { o.OnTaskEvent(task, event); });
  }
  batch.AppendTaskEvent(std::move(event));
}

void Cluster::NoteWorkerLocked(const WorkerEntry& worker, bool removed) {
  if (observer_.load() == nullptr) return;
  WorkerView view = ViewOfLocked(worker);
  notes_in_batch_.push_back(
      [view = std::move(view), removed](ClusterObserver& o) { o.OnWorkerChanged(view, removed); });
}

void Cluster::SetObserver(ClusterObserver* observer) { observer_.store(observer); }

std::string Cluster::NextTaskIdLocked(st::Batch& batch) {
  for (;;) {
    // The counter is stored in the same batch as each task it names, so it never goes
    // back, and users cannot choose ids with this prefix (task_input.h).
    std::string id = StrCat(kGeneratedTaskIdPrefix, next_task_number_++);
    if (tasks_.count(id) == 0) {
      batch.SetCounter(kTaskCounter, next_task_number_);
      return id;
    }
  }
}

void Cluster::MarkDirtyLocked() {
  dirty_ = true;
  changed_.notify_all();
}

bool Cluster::AllJoinedLocked() const {
  return !workers_.empty() && joined_workers_ == workers_.size();
}

absl::Status Cluster::QueueLocked(TaskEntry& task) {
  if (!task.record.allocation_id.empty()) {
    auto it = allocations_.find(task.record.allocation_id);
    if (it == allocations_.end()) {
      return absl::FailedPreconditionError(
          StrCat("allocation ", task.record.allocation_id, " has ended"));
    }
    it->second->queue.push_back(task.record.task_id);
    it->second->task_ids.insert(task.record.task_id);
    task.queued_at_ms = NowMs();
    MarkDirtyLocked();
    return absl::OkStatus();
  }
  scheduler::QueuedTask queued;
  queued.task_id = task.record.task_id;
  queued.request = task.record.request;
  queued.priority = task.record.priority;
  queued.queued_at = clock_.Now();
  task.queued_at_ms = NowMs();
  MarkDirtyLocked();
  return queue_.Push(std::move(queued));
}

void Cluster::UnqueueLocked(TaskEntry& task) {
  if (task.record.allocation_id.empty()) {
    (void)queue_.Remove(task.record.task_id);
    return;
  }
  auto it = allocations_.find(task.record.allocation_id);
  if (it == allocations_.end()) return;
  std::deque<std::string>& queue = it->second->queue;
  queue.erase(std::remove(queue.begin(), queue.end(), task.record.task_id), queue.end());
}

// ---------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------

WorkerView Cluster::ViewOfLocked(const WorkerEntry& worker) const {
  WorkerView view;
  view.record = worker.record;
  view.joined = worker.joined;
  view.cpu_usage = worker.cpu_usage;
  view.memory_usage = worker.memory_usage;
  view.storage_usage = worker.storage_usage;
  view.gpu_usage = worker.gpu_usage;
  view.task_ids.assign(worker.task_ids.begin(), worker.task_ids.end());
  if (const scheduler::WorkerSpec* spec = view_.Find(worker.record.worker_id)) {
    view.allocated = spec->allocated;
    view.available = view_.Available(*view_.IndexOf(worker.record.worker_id));
  }
  return view;
}

TaskView Cluster::ViewOfLocked(const TaskEntry& task) const {
  TaskView view;
  view.task = task.record;
  if (const scheduler::QueuedTask* queued = queue_.Find(task.record.task_id)) {
    view.waiting_reason = WaitingReasonLocked(*queued);
  } else if (task.record.status == TaskState::kPending && !task.record.allocation_id.empty()) {
    auto it = allocations_.find(task.record.allocation_id);
    if (it != allocations_.end() && it->second->record.state == st::AllocationState::kPending) {
      view.waiting_reason = StrCat("allocation ", task.record.allocation_id,
                                   " is pending: ", it->second->record.reason);
    } else {
      view.waiting_reason = StrCat("waiting for room in a slot of allocation ",
                                   task.record.allocation_id);
    }
  }
  return view;
}

std::string Cluster::WaitingReasonLocked(const scheduler::QueuedTask& queued) const {
  if (!queued.last_error.empty()) return queued.last_error;
  if (queued.retries == 0) return "waiting for the next scheduling pass";
  std::string why = view_.WhyNoFit(queued.request);
  return why.empty() ? "room has freed up; waiting for the next scheduling pass" : why;
}

std::vector<WorkerView> Cluster::ListWorkers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<WorkerView> out;
  out.reserve(workers_.size());
  for (const auto& [id, worker] : workers_) out.push_back(ViewOfLocked(*worker));
  return out;
}

absl::StatusOr<WorkerView> Cluster::GetWorker(std::string_view worker_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    return absl::NotFoundError(StrCat("worker \"", worker_id, "\" is not registered"));
  }
  return ViewOfLocked(*it->second);
}

absl::StatusOr<TaskView> Cluster::GetTask(std::string_view task_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(std::string(task_id));
    if (it != tasks_.end()) return ViewOfLocked(*it->second);
  }
  {
    std::lock_guard<std::mutex> lock(final_mu_);
    auto it = finalizing_.find(std::string(task_id));
    if (it != finalizing_.end()) return it->second;
  }
  absl::StatusOr<st::TaskRecord> record = store_.GetTask(task_id);
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) {
      return absl::NotFoundError(StrCat("task \"", task_id, "\" not found"));
    }
    return record.status();
  }
  TaskView view;
  view.task = std::move(*record);
  absl::StatusOr<st::ResultRecord> result = store_.GetResult(task_id);
  if (result.ok()) view.result = std::move(*result);
  return view;
}

absl::StatusOr<std::vector<TaskView>> Cluster::ListTasks(const st::TaskFilter& filter) const {
  absl::StatusOr<std::vector<st::TaskRecord>> records = store_.ListTasks(filter);
  if (!records.ok()) return records.status();
  std::vector<TaskView> out;
  out.reserve(records->size());
  std::lock_guard<std::mutex> lock(mu_);
  for (st::TaskRecord& record : *records) {
    auto it = tasks_.find(record.task_id);
    if (it != tasks_.end()) {
      out.push_back(ViewOfLocked(*it->second));  // memory is newer than the store
    } else if (std::lock_guard<std::mutex> final_lock(final_mu_);
               finalizing_.count(record.task_id) != 0) {
      out.push_back(finalizing_.at(record.task_id));
    } else {
      TaskView view;
      view.task = std::move(record);
      out.push_back(std::move(view));
    }
  }
  return out;
}

std::vector<QueueEntry> Cluster::Queue() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<QueueEntry> out;
  for (const scheduler::QueuedTask& queued : queue_.Snapshot()) {
    QueueEntry entry;
    entry.task_id = queued.task_id;
    entry.request = queued.request;
    entry.priority = queued.priority;
    entry.retries = queued.retries;
    entry.waiting_reason = WaitingReasonLocked(queued);
    auto it = tasks_.find(queued.task_id);
    if (it != tasks_.end()) entry.queued_at_ms = it->second->queued_at_ms;
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<LogLocation> Cluster::LocateLogs(std::string_view task_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(std::string(task_id));
    if (it != tasks_.end()) {
      LogLocation location;
      location.status = it->second->record.status;
      location.worker_id = it->second->record.worker_id;
      if (auto w = workers_.find(location.worker_id); w != workers_.end()) {
        location.worker_address = w->second->record.worker_ip;
      }
      return location;
    }
  }
  absl::StatusOr<TaskView> view = GetTask(task_id);
  if (!view.ok()) return view.status();
  LogLocation location;
  location.status = view->task.status;
  location.worker_id = view->task.worker_id;
  location.result = view->result;
  return location;
}

bool Cluster::WaitFinal(std::string_view task_id, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock::TimePoint deadline = clock_.Now() + timeout;
  const std::string id(task_id);
  while (tasks_.count(id) != 0) {
    if (shutdown_ || clock_.Now() >= deadline) return false;
    clock_.WaitUntil(changed_, lock, deadline);
  }
  return true;
}

ClusterCounts Cluster::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  ClusterCounts counts;
  counts.workers = workers_.size();
  for (const auto& [id, worker] : workers_) counts.active_workers += worker->record.is_active;
  for (const auto& [id, task] : tasks_) {
    switch (task->record.status) {
      case TaskState::kPending: ++counts.queued; break;
      case TaskState::kScheduled: ++counts.scheduled; break;
      case TaskState::kRunning: ++counts.running; break;
      default: break;
    }
  }
  return counts;
}

// ---------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------

absl::Status Cluster::RegisterWorker(const std::string& worker_id, const std::string& address) {
  if (absl::Status s = ValidateName(worker_id, kMaxWorkerIdLength, "worker_id"); !s.ok()) return s;
  if (absl::Status s = ValidateAddress(address, "worker_ip"); !s.ok()) return s;
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  if (auto it = workers_.find(worker_id); it != workers_.end()) {
    return absl::AlreadyExistsError(StrCat("worker \"", worker_id, "\" is already registered (at ",
                                           it->second->record.worker_ip, ")"));
  }
  auto worker = std::make_unique<WorkerEntry>();
  worker->record.worker_id = worker_id;
  worker->record.worker_ip = address;
  worker->record.registered_at = NowMs();
  worker->record.updated_at = worker->record.registered_at;
  worker->last_seen = clock_.Now();
  worker->last_persisted = worker->last_seen;
  if (absl::Status s = view_.UpsertWorker({worker_id, address, false, {}, {}}); !s.ok()) return s;
  st::Batch batch;
  batch.UpsertWorker(worker->record);
  NoteWorkerLocked(*worker, false);
  workers_.emplace(worker_id, std::move(worker));
  Log(StrCat("worker ", worker_id, " registered at ", address, "; notifying it"));
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  gateway_.AnnounceMaster(worker_id, address);
  return absl::OkStatus();
}

absl::Status Cluster::UnregisterWorker(const std::string& worker_id) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    return absl::NotFoundError(StrCat("worker \"", worker_id, "\" is not registered"));
  }
  const std::set<std::string>& placed = it->second->task_ids;
  if (!placed.empty()) {
    return absl::FailedPreconditionError(
        StrCat("worker \"", worker_id, "\" has ", placed.size(), " task(s) placed on it (first: ",
               *placed.begin(), "); cancel them or wait for them to end"));
  }
  if (!it->second->allocation_ids.empty()) {
    return absl::FailedPreconditionError(
        StrCat("worker \"", worker_id, "\" holds slots of ", it->second->allocation_ids.size(),
               " allocation(s) (first: ", *it->second->allocation_ids.begin(),
               "); release them first"));
  }
  NoteWorkerLocked(*it->second, true);
  (void)view_.RemoveWorker(worker_id);
  joined_workers_ -= it->second->joined;
  workers_.erase(it);
  st::Batch batch;
  batch.DeleteWorker(worker_id);
  gateway_.Forget(worker_id);
  MarkDirtyLocked();
  Log(StrCat("worker ", worker_id, " unregistered"));
  return CommitAndWait(lock, std::move(batch));
}

void Cluster::SetWorkerActiveLocked(WorkerEntry& worker, bool active, st::Batch& batch) {
  if (worker.record.is_active == active) return;
  worker.record.is_active = active;
  worker.record.updated_at = NowMs();
  (void)view_.SetActive(worker.record.worker_id, active);
  batch.SetWorkerStatus(worker.record.worker_id, active, worker.record.last_heartbeat,
                        worker.record.updated_at);
  worker.last_persisted = clock_.Now();
  NoteWorkerLocked(worker, false);
  if (active) MarkDirtyLocked();
}

absl::Status Cluster::WorkerJoined(const WorkerJoin& join) {
  if (absl::Status s = ValidateName(join.worker_id, kMaxWorkerIdLength, "worker_id"); !s.ok()) {
    return s;
  }
  if (!join.address.empty()) {
    if (absl::Status s = ValidateAddress(join.address, "worker_ip"); !s.ok()) return s;
  }
  if (absl::Status s = join.total.Validate("worker.total"); !s.ok()) return s;
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  auto it = workers_.find(join.worker_id);
  if (it == workers_.end()) {
    Log(StrCat("REJECTED registration from worker \"", join.worker_id, "\" at ", join.address,
               ": it was not pre-registered"));
    return absl::PermissionDeniedError(
        StrCat("worker \"", join.worker_id,
               "\" is not registered with this master; an admin must first run: cloudai register ",
               join.worker_id, " ", join.address.empty() ? "<ip:port>" : join.address));
  }
  WorkerEntry& worker = *it->second;
  const int64_t now_ms = NowMs();
  worker.record.total = join.total;
  if (!join.address.empty()) worker.record.worker_ip = join.address;
  worker.record.driver = join.driver.empty() ? "unknown" : join.driver;
  worker.record.hostname = join.hostname;
  worker.record.last_heartbeat = now_ms;
  worker.record.updated_at = now_ms;
  worker.record.is_active = true;
  joined_workers_ += !worker.joined;
  worker.joined = true;
  worker.last_seen = clock_.Now();
  worker.last_persisted = worker.last_seen;
  (void)view_.SetTotal(join.worker_id, join.total);
  (void)view_.SetAddress(join.worker_id, worker.record.worker_ip);
  (void)view_.SetActive(join.worker_id, true);
  st::Batch batch;
  batch.UpsertWorker(worker.record);
  NoteWorkerLocked(worker, false);

  // Reconcile what the worker runs with what this master placed there.
  std::set<std::string> reported(join.running_task_ids.begin(), join.running_task_ids.end());
  for (const std::string& id : worker.task_ids) {
    TaskEntry& task = *tasks_.at(id);
    if (reported.count(id) != 0) {
      task.missing_since.reset();
      if (task.record.status == TaskState::kScheduled) {
        task.record.status = TaskState::kRunning;
        task.record.started_at = now_ms;
        batch.UpdateTask(task.record);
        AppendEvent(batch, task.record, TaskState::kScheduled,
                    StrCat("running on ", join.worker_id, " (reported at registration)"));
      }
    } else if (task.record.status == TaskState::kScheduled) {
      DeliverAfterCommitLocked(task);  // the worker never got it
    } else if (!task.missing_since) {
      task.missing_since = clock_.Now();
    }
  }
  MarkDirtyLocked();
  Log(StrCat("worker ", join.worker_id, " joined: ", join.total.ToString(), ", driver ",
             worker.record.driver, ", ", join.running_task_ids.size(), " running task(s)"));
  return CommitAndWait(lock, std::move(batch));
}

absl::StatusOr<HeartbeatOutcome> Cluster::Heartbeat(const HeartbeatInput& beat) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = workers_.find(beat.worker_id);
  if (it == workers_.end()) {
    return absl::NotFoundError(StrCat("worker \"", beat.worker_id, "\" is not registered"));
  }
  WorkerEntry& worker = *it->second;
  if (!worker.joined) {
    return absl::FailedPreconditionError(
        StrCat("worker \"", beat.worker_id, "\" has not registered its capacity; register first"));
  }
  const Clock::TimePoint now = clock_.Now();
  worker.last_seen = now;
  worker.record.last_heartbeat = NowMs();
  worker.cpu_usage = beat.cpu_usage;
  worker.memory_usage = beat.memory_usage;
  worker.storage_usage = beat.storage_usage;
  worker.gpu_usage = beat.gpu_usage;
  st::Batch batch;
  if (!worker.record.is_active) {
    Log(StrCat("worker ", beat.worker_id, " is active again"));
    SetWorkerActiveLocked(worker, true, batch);
  }

  HeartbeatOutcome outcome;
  std::set<std::string> reported;
  for (const std::string& id : beat.running_task_ids) {
    reported.insert(id);
    auto t = tasks_.find(id);
    if (t == tasks_.end() || t->second->record.worker_id != beat.worker_id) {
      outcome.unknown_task_ids.push_back(id);
      continue;
    }
    TaskEntry& task = *t->second;
    task.missing_since.reset();
  }
  for (const std::string& id : worker.task_ids) {
    TaskEntry& task = *tasks_.at(id);
    if (task.record.status == TaskState::kRunning && reported.count(id) == 0 &&
        !task.missing_since) {
      task.missing_since = now;
    }
  }
  if (!batch.empty()) CommitLocked(std::move(batch), nullptr);
  if (ClusterObserver* observer = observer_.load()) {
    WorkerView view = ViewOfLocked(worker);
    lock.unlock();
    observer->OnHeartbeat(view);
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------

absl::StatusOr<TaskView> Cluster::Submit(st::TaskRecord input) {
  if (absl::Status s = ValidateTaskInput(input); !s.ok()) return s;
  if (!input.target_worker_id.empty() && input.allocation_id.empty()) {
    return absl::InvalidArgumentError(
        "task.target_worker_id: a queued task cannot name a worker; use AssignTask (cloudai "
        "task) to run it on a given worker");
  }
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  if (!input.allocation_id.empty()) {
    if (absl::Status s = CheckAllocationTaskLocked(input); !s.ok()) return s;
  }
  st::Batch batch;
  if (input.task_id.empty()) {
    input.task_id = NextTaskIdLocked(batch);
  } else if (tasks_.count(input.task_id) != 0 || store_.GetTask(input.task_id).ok()) {
    return absl::AlreadyExistsError(StrCat("task \"", input.task_id, "\" already exists"));
  }
  auto task = std::make_unique<TaskEntry>();
  st::TaskRecord& record = task->record;
  record = std::move(input);
  record.status = TaskState::kPending;
  record.worker_id.clear();
  record.created_at = NowMs();
  record.scheduled_at = record.started_at = record.completed_at = 0;
  record.retries = 0;
  record.exit_code.reset();
  record.error.clear();
  batch.InsertTask(record);
  AppendEvent(batch, record, std::nullopt,
              record.allocation_id.empty()
                  ? std::string("submitted to the queue")
                  : StrCat("submitted to allocation ", record.allocation_id));
  TaskEntry& t = *task;
  tasks_.emplace(record.task_id, std::move(task));
  if (absl::Status s = QueueLocked(t); !s.ok()) {
    tasks_.erase(t.record.task_id);
    return s;
  }
  TaskView view = ViewOfLocked(t);
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  return view;
}

absl::StatusOr<TaskView> Cluster::Assign(st::TaskRecord input) {
  if (absl::Status s = ValidateTaskInput(input); !s.ok()) return s;
  if (input.target_worker_id.empty()) {
    return absl::InvalidArgumentError(
        "task.target_worker_id: is empty; name the worker to run the task on");
  }
  if (!input.allocation_id.empty()) {
    return absl::InvalidArgumentError(
        "task.allocation_id: a task assigned directly to a worker cannot run in an "
        "allocation; submit it (with target_worker_id naming one of the allocation's workers)");
  }
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  auto w = workers_.find(input.target_worker_id);
  if (w == workers_.end()) {
    return absl::NotFoundError(
        StrCat("worker \"", input.target_worker_id, "\" is not registered"));
  }
  WorkerEntry& worker = *w->second;
  if (!worker.record.is_active) {
    return absl::FailedPreconditionError(StrCat(
        "worker \"", input.target_worker_id, "\" is not active",
        worker.joined ? " (no heartbeat within the inactivity timeout)" : " (it has not joined yet)"));
  }
  if (worker.record.worker_ip.empty()) {
    return absl::FailedPreconditionError(
        StrCat("worker \"", input.target_worker_id, "\" has no address"));
  }
  const Resources available = view_.Available(*view_.IndexOf(input.target_worker_id));
  if (std::optional<std::string> shortfall = Shortfall(available, input.request)) {
    return absl::ResourceExhaustedError(*shortfall);
  }
  st::Batch batch;
  if (input.task_id.empty()) {
    input.task_id = NextTaskIdLocked(batch);
  } else if (tasks_.count(input.task_id) != 0 || store_.GetTask(input.task_id).ok()) {
    return absl::AlreadyExistsError(StrCat("task \"", input.task_id, "\" already exists"));
  }
  if (absl::Status s = view_.Allocate(input.target_worker_id, input.request); !s.ok()) {
    return absl::ResourceExhaustedError(s.message());
  }
  auto task = std::make_unique<TaskEntry>();
  st::TaskRecord& record = task->record;
  record = std::move(input);
  const int64_t now_ms = NowMs();
  record.status = TaskState::kPending;
  record.created_at = now_ms;
  record.retries = 0;
  record.exit_code.reset();
  record.error.clear();
  record.started_at = record.completed_at = 0;
  batch.InsertTask(record);
  AppendEvent(batch, record, std::nullopt, StrCat("submitted for worker ", record.target_worker_id));
  record.status = TaskState::kScheduled;
  record.worker_id = record.target_worker_id;
  record.scheduled_at = now_ms;
  batch.UpdateTask(record);
  batch.InsertAssignment({StrCat("ass-", record.task_id), record.task_id, record.worker_id, now_ms});
  AppendEvent(batch, record, TaskState::kPending, StrCat("assigned to ", record.worker_id));
  task->holds_resources = true;
  task->queued_at_ms = now_ms;
  worker.task_ids.insert(record.task_id);
  const std::string id = record.task_id;
  DeliverAfterCommitLocked(*task);
  tasks_.emplace(id, std::move(task));
  absl::Status committed = CommitAndWait(lock, std::move(batch));
  if (!committed.ok()) return committed;
  lock.lock();
  // Wait for the worker's answer (running, or failed/requeued).
  const Clock::TimePoint deadline = clock_.Now() + options_.assign_wait;
  for (;;) {
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second->record.status != TaskState::kScheduled ||
        shutdown_ || clock_.Now() >= deadline) {
      break;
    }
    clock_.WaitUntil(changed_, lock, deadline);
  }
  lock.unlock();
  absl::StatusOr<TaskView> view = GetTask(id);
  if (view.ok() && view->task.status == TaskState::kFailed) {
    return absl::FailedPreconditionError(
        StrCat("task ", id, " failed to start on ", view->task.worker_id, ": ", view->task.error));
  }
  return view;
}

void Cluster::DeliverAfterCommitLocked(const TaskEntry& task) {
  auto w = workers_.find(task.record.worker_id);
  if (w == workers_.end()) return;
  deliveries_in_batch_.push_back({task.record.worker_id, w->second->record.worker_ip, task.record});
}

void Cluster::OnAssignReply(const std::string& task_id, const std::string& worker_id,
                            const WorkerReply& reply) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  TaskEntry& task = *it->second;
  if (task.record.worker_id != worker_id || task.record.status != TaskState::kScheduled) return;
  st::Batch batch;
  if (reply.delivered && reply.accepted) {
    task.record.status = TaskState::kRunning;
    task.record.started_at = NowMs();
    batch.UpdateTask(task.record);
    AppendEvent(batch, task.record, TaskState::kScheduled, StrCat("running on ", worker_id));
    changed_.notify_all();
  } else if (reply.delivered) {
    FinishLocked(batch, task, TaskState::kFailed,
                 StrCat("worker ", worker_id, " refused the task: ", reply.message), nullptr);
  } else if (!task.record.target_worker_id.empty()) {
    FinishLocked(batch, task, TaskState::kFailed,
                 StrCat("could not reach worker ", worker_id, ": ", reply.message), nullptr);
  } else {
    // The worker is unreachable: back to the queue, and keep the scheduler away from
    // the worker until it is heard from again.
    Log(StrCat("could not deliver task ", task_id, " to worker ", worker_id, ": ", reply.message,
               "; re-queueing it"));
    ReleaseLocked(task);
    batch.DeleteAssignment(task_id);
    task.record.status = TaskState::kPending;
    task.record.worker_id.clear();
    task.record.scheduled_at = 0;
    batch.UpdateTask(task.record);
    AppendEvent(batch, task.record, TaskState::kScheduled,
                StrCat("could not reach worker ", worker_id, ": ", reply.message, "; re-queued"));
    if (auto w = workers_.find(worker_id); w != workers_.end()) {
      SetWorkerActiveLocked(*w->second, false, batch);
    }
    (void)QueueLocked(task);
    changed_.notify_all();
  }
  CommitLocked(std::move(batch), nullptr);
}

void Cluster::ReleaseLocked(TaskEntry& task) {
  if (!task.holds_resources) return;
  task.holds_resources = false;
  const std::string& worker_id = task.record.worker_id;
  if (!task.record.allocation_id.empty()) {
    auto it = allocations_.find(task.record.allocation_id);
    if (it != allocations_.end() && task.slot >= 0 &&
        static_cast<size_t>(task.slot) < it->second->used.size()) {
      absl::StatusOr<Resources> left = Subtract(it->second->used[task.slot], task.record.request);
      if (left.ok()) it->second->used[task.slot] = std::move(*left);
    }
    task.slot = -1;
  } else if (absl::Status s = view_.Release(worker_id, task.record.request); !s.ok()) {
    Log(StrCat("BUG: releasing task ", task.record.task_id, " on ", worker_id, ": ",
               std::string(s.message())));
  }
  if (auto w = workers_.find(worker_id); w != workers_.end()) {
    w->second->task_ids.erase(task.record.task_id);
  }
  MarkDirtyLocked();
}

void Cluster::FinishLocked(st::Batch& batch, TaskEntry& task, TaskState final_state,
                           const std::string& detail, const TaskCompletion* completion) {
  const TaskState from = task.record.status;
  const std::string id = task.record.task_id;
  if (from == TaskState::kPending) UnqueueLocked(task);
  if (from == TaskState::kScheduled || from == TaskState::kRunning) {
    batch.DeleteAssignment(id);
  }
  ReleaseLocked(task);
  ServiceTaskEndedLocked(batch, task);
  st::TaskRecord& record = task.record;
  const int64_t now_ms = NowMs();
  record.status = final_state;
  record.completed_at = completion && completion->finished_at_ms > 0 ? completion->finished_at_ms
                                                                      : now_ms;
  if (completion && completion->started_at_ms > 0) record.started_at = completion->started_at_ms;
  if (completion) {
    record.exit_code = completion->exit_code;
    record.error = completion->error;
  } else if (final_state != TaskState::kCompleted) {
    record.error = detail;
  }
  batch.UpdateTask(record);
  st::ResultRecord result;
  result.task_id = id;
  result.worker_id = record.worker_id;
  result.status = final_state;
  result.completed_at = record.completed_at;
  if (completion) {
    result.logs_truncated = completion->logs_truncated;
    result.logs = BoundLogs(completion->logs, options_.max_log_bytes, &result.logs_truncated);
    result.result_location = completion->result_location;
    result.exit_code = completion->exit_code;
  }
  TaskView view;
  view.task = record;
  view.result = result;
  batch.InsertResult(std::move(result));
  AppendEvent(batch, record, from, detail);
  {
    std::lock_guard<std::mutex> lock(final_mu_);
    finalizing_[id] = std::move(view);
  }
  finalized_in_batch_.push_back(id);
  const std::string allocation_id = record.allocation_id;
  tasks_.erase(id);  // `task` is gone from here on
  changed_.notify_all();
  if (!allocation_id.empty()) {
    auto it = allocations_.find(allocation_id);
    if (it != allocations_.end()) {
      it->second->task_ids.erase(id);
      if (it->second->record.state == st::AllocationState::kReleasing &&
          it->second->task_ids.empty()) {
        CompleteReleaseLocked(batch, *it->second);
      }
    }
  }
}

void Cluster::LoseLocked(st::Batch& batch, TaskEntry& task, const std::string& why) {
  const TaskState from = task.record.status;
  if (task.record.retries < task.record.max_retries) {
    const std::string worker_id = task.record.worker_id;
    ReleaseLocked(task);
    if (from == TaskState::kScheduled || from == TaskState::kRunning) {
      batch.DeleteAssignment(task.record.task_id);
    }
    ++task.record.retries;
    task.record.status = TaskState::kPending;
    task.record.worker_id.clear();
    task.record.scheduled_at = task.record.started_at = 0;
    task.record.error = why;
    task.missing_since.reset();
    batch.UpdateTask(task.record);
    AppendEvent(batch, task.record, from,
                StrCat("lost on ", worker_id, ": ", why, "; re-queued (retry ",
                       task.record.retries, " of ", task.record.max_retries, ")"));
    Log(StrCat("task ", task.record.task_id, " lost on ", worker_id, " (", why, "); re-queued"));
    (void)QueueLocked(task);
    return;
  }
  Log(StrCat("task ", task.record.task_id, " lost on ", task.record.worker_id, ": ", why));
  FinishLocked(batch, task, TaskState::kLost, why, nullptr);
}

absl::Status Cluster::TaskEnded(const TaskCompletion& completion) {
  TaskState final_state;
  if (completion.status == "completed") {
    final_state = TaskState::kCompleted;
  } else if (completion.status == "failed") {
    final_state = TaskState::kFailed;
  } else if (completion.status == "cancelled") {
    final_state = TaskState::kCancelled;
  } else {
    return absl::InvalidArgumentError(StrCat("status: \"", completion.status.substr(0, 32),
                                             "\" is not completed, failed or cancelled"));
  }
  if (completion.error.size() > st::kMaxTextLength) {
    return absl::InvalidArgumentError("error: longer than 1 MiB");
  }
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  auto it = tasks_.find(completion.task_id);
  if (it == tasks_.end()) {
    lock.unlock();
    if (store_.GetTask(completion.task_id).ok()) return absl::OkStatus();  // already recorded
    return absl::NotFoundError(
        StrCat("unknown task \"", completion.task_id, "\": this master never had it"));
  }
  TaskEntry& task = *it->second;
  if (task.record.worker_id != completion.worker_id ||
      (task.record.status != TaskState::kScheduled && task.record.status != TaskState::kRunning)) {
    Log(StrCat("ignoring a stale report of task ", completion.task_id, " from ",
               completion.worker_id));
    return absl::OkStatus();
  }
  st::Batch batch;
  std::string detail = StrCat(completion.status, " on ", completion.worker_id);
  if (completion.exit_code) StrAppend(&detail, " (exit code ", *completion.exit_code, ")");
  if (!completion.error.empty()) StrAppend(&detail, ": ", completion.error);
  FinishLocked(batch, task, final_state, detail, &completion);
  return CommitAndWait(lock, std::move(batch));
}

absl::StatusOr<TaskView> Cluster::Cancel(std::string_view task_id_view) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const std::string task_id(task_id_view);
  std::unique_lock<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) {
    lock.unlock();
    absl::StatusOr<TaskView> view = GetTask(task_id);
    if (!view.ok()) return view.status();
    return absl::FailedPreconditionError(StrCat("task \"", task_id, "\" already ended (",
                                                st::TaskStateName(view->task.status), ")"));
  }
  TaskEntry& task = *it->second;
  if (task.record.status == TaskState::kPending) {
    st::Batch batch;
    FinishLocked(batch, task, TaskState::kCancelled, "cancelled while queued", nullptr);
    absl::Status committed = CommitAndWait(lock, std::move(batch));
    if (!committed.ok()) return committed;
    return GetTask(task_id);
  }
  st::Batch batch;
  RequestStopLocked(batch, task, "cancelled");
  if (!batch.empty()) CommitLocked(std::move(batch), nullptr);
  const Clock::TimePoint deadline = clock_.Now() + options_.cancel_wait;
  while (tasks_.count(task_id) != 0 && !shutdown_ && clock_.Now() < deadline) {
    clock_.WaitUntil(changed_, lock, deadline);
  }
  lock.unlock();
  // A final state read from the store must be committed: wait for the store to catch up
  // by reading through it.
  return GetTask(task_id);
}

void Cluster::RequestStopLocked(st::Batch& batch, TaskEntry& task, const std::string& why) {
  const std::string task_id = task.record.task_id;
  const std::string worker_id = task.record.worker_id;
  auto w = workers_.find(worker_id);
  if (w == workers_.end() || !w->second->record.is_active) {
    FinishLocked(batch, task, TaskState::kCancelled,
                 StrCat(why, "; worker ", worker_id, " was not reachable to stop it"), nullptr);
    return;
  }
  gateway_.DeliverCancel(
      worker_id, w->second->record.worker_ip, task_id,
      [this, ticket = Ticket(), task_id, worker_id, why](const WorkerReply& reply) {
        if (reply.delivered && reply.accepted) return;  // its report will follow
        std::unique_lock<std::mutex> lock(mu_);
        auto it = tasks_.find(task_id);
        if (it == tasks_.end() || it->second->record.worker_id != worker_id) return;
        st::Batch batch;
        FinishLocked(batch, *it->second, TaskState::kCancelled,
                     StrCat(why, "; worker ", worker_id, " ",
                            reply.delivered ? "no longer ran it: " : "could not be reached: ",
                            reply.message),
                     nullptr);
        CommitLocked(std::move(batch), nullptr);
      });
}

// ---------------------------------------------------------------------------------------
// Background work
// ---------------------------------------------------------------------------------------

void Cluster::AnnounceToAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, worker] : workers_) {
    if (!worker->record.worker_ip.empty()) gateway_.AnnounceMaster(id, worker->record.worker_ip);
  }
}

size_t Cluster::SchedulePass(bool force) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shutdown_ || (!dirty_ && !force) || !CheckWritable().ok()) return 0;
  dirty_ = false;
  st::Batch batch;
  // Allocations first: pending ones by priority, then the tasks waiting in their slots.
  SchedulePendingAllocationsLocked(batch);
  std::vector<std::string> placed_in_allocations;
  size_t placed = ScheduleAllocationTasksLocked(batch, placed_in_allocations);
  scheduler::PassResult pass;
  if (!queue_.empty()) pass = queue_.SchedulePass(view_, *policy_, AllJoinedLocked());
  for (const scheduler::PassResult::Placement& placement : pass.placements) {
    PlaceTaskLocked(batch, *tasks_.at(placement.task_id), *workers_.at(placement.worker_id),
                    StrCat("placed on ", placement.worker_id, " by ", policy_->Name()));
  }
  for (const scheduler::PassResult::Infeasible& infeasible : pass.infeasible) {
    TaskEntry& task = *tasks_.at(infeasible.task_id);
    FinishLocked(batch, task, TaskState::kFailed, infeasible.reason, nullptr);
  }
  if (batch.empty()) return 0;
  CommitLocked(std::move(batch), nullptr);
  return placed + pass.placements.size();
}

void Cluster::PlaceTaskLocked(st::Batch& batch, TaskEntry& task, WorkerEntry& worker,
                              const std::string& detail) {
  const int64_t now_ms = NowMs();
  const std::string& worker_id = worker.record.worker_id;
  task.holds_resources = true;
  task.record.status = TaskState::kScheduled;
  task.record.worker_id = worker_id;
  task.record.scheduled_at = now_ms;
  worker.task_ids.insert(task.record.task_id);
  batch.UpdateTask(task.record);
  batch.InsertAssignment(
      {StrCat("ass-", task.record.task_id), task.record.task_id, worker_id, now_ms});
  AppendEvent(batch, task.record, TaskState::kPending, detail);
  DeliverAfterCommitLocked(task);
}

bool Cluster::WaitForScheduling(Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!dirty_ && !shutdown_) {
    if (clock_.Now() >= deadline) return false;
    clock_.WaitUntil(changed_, lock, deadline);
  }
  return dirty_ && !shutdown_;
}

void Cluster::CheckLiveness() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  const Clock::TimePoint now = clock_.Now();
  st::Batch batch;
  for (auto& [id, worker_ptr] : workers_) {
    WorkerEntry& worker = *worker_ptr;
    const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - worker.last_seen);
    if (worker.record.is_active && silent > options_.inactivity_timeout) {
      Log(StrCat("worker ", id, " is inactive: no heartbeat for ", Seconds(silent)));
      SetWorkerActiveLocked(worker, false, batch);
    } else if (worker.record.is_active && now - worker.last_persisted >= kHeartbeatPersistEvery) {
      worker.last_persisted = now;
      batch.SetWorkerStatus(id, true, worker.record.last_heartbeat, NowMs());
    }
    std::vector<std::string> lose;
    for (const std::string& task_id : worker.task_ids) {
      TaskEntry& task = *tasks_.at(task_id);
      if (!worker.record.is_active && silent > options_.lost_grace) {
        lose.push_back(task_id);
      } else if (task.missing_since && now - *task.missing_since > options_.lost_grace) {
        lose.push_back(task_id);
      }
    }
    for (const std::string& task_id : lose) {
      TaskEntry& task = *tasks_.at(task_id);
      std::string why = task.missing_since && worker.record.is_active
                            ? StrCat("worker ", id, " no longer reports running it")
                            : StrCat("worker ", id, " silent for ", Seconds(silent));
      LoseLocked(batch, task, why);
    }
    if (!worker.record.is_active && silent > options_.lost_grace) {
      const std::set<std::string> held = worker.allocation_ids;
      for (const std::string& allocation_id : held) {
        auto a = allocations_.find(allocation_id);
        if (a == allocations_.end()) continue;
        EndAllocationLocked(batch, *a->second, st::AllocationState::kFailed,
                            StrCat("worker ", id, " holding one of its slots was lost (silent for ",
                                   Seconds(silent), ")"));
      }
    }
  }
  if (!batch.empty()) CommitLocked(std::move(batch), nullptr);
}

void Cluster::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  changed_.notify_all();
}

}  // namespace cloudai::master
