// Cluster: the master's working copy of the cluster — workers, tasks, the queue — and
// every rule about how they change.
//
// This is where seed 001's registry, task lifecycle and queue processor live, without
// any network code: the gRPC services (master_service.h, cluster_service.h) translate
// messages and call in; a WorkerGateway carries decisions out to the workers.
//
// Durability: every change is applied to memory and handed to the store as one Batch
// (CommitAsync) under the same lock, so the store sees changes in the order memory made
// them. A caller is answered only after its batch is committed. If the store ever fails
// a commit, memory is ahead of the disk: the cluster stops accepting changes
// (UNAVAILABLE) and the process should restart, reloading the truth from the store
// (see `on_store_failure`).
//
// Task states: pending -> scheduled (placed; resources allocated; sent to the worker)
// -> running (the worker accepted it) -> completed | failed | cancelled | lost. Every
// transition is stored with an event. Resources are released exactly once, when the
// task leaves the in-memory table of unfinished tasks.
//
// Workers: pre-registered by an admin (RegisterWorker), joined when they register back
// with their capacity (WorkerJoined), active while heartbeats arrive, inactive after
// `inactivity_timeout` of silence; their tasks are lost after `lost_grace` of silence,
// and a task a live worker stops reporting is lost after `lost_grace` too. A lost task
// with retries left goes back to the queue.
//
// Time comes from the injected Clock; background work is driven from outside (the
// server's threads call SchedulePass() and CheckLiveness()), so tests step it by hand.
//
// Thread safety: every method may be called from any thread. One mutex guards the state;
// no method holds it while waiting for the store or a worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cloudai/common/clock.h"
#include "common/resources.h"
#include "master/allocation_input.h"
#include "master/worker_gateway.h"
#include "scheduler/cluster_view.h"
#include "scheduler/placement_policy.h"
#include "scheduler/task_queue.h"
#include "store/store.h"

namespace cloudai::master {

struct ClusterOptions {
  std::string master_id = "master";
  std::string advertise_address;  // given to workers in MasterRegister
  std::string scheduler = "round-robin";
  std::chrono::milliseconds inactivity_timeout{30'000};
  std::chrono::milliseconds lost_grace{60'000};
  int64_t max_log_bytes = 1 << 20;  // RESULTS.logs longer than this are cut, with a mark
  // How long Cancel() waits for a running task's worker to confirm that it stopped.
  std::chrono::milliseconds cancel_wait{10'000};
  // How long a direct assignment waits for the worker's answer.
  std::chrono::milliseconds assign_wait{15'000};
  // Allocations: TTLs, the service catalog and its ports (docs/allocations.md).
  AllocationSettings allocations;
  // Called once, from any thread, when a commit fails (memory is then ahead of disk).
  std::function<void(const absl::Status&)> on_store_failure;
};

// What the master knows of a worker, for listings.
struct WorkerView {
  store::WorkerRecord record;  // is_active and last_heartbeat are current
  Resources allocated;
  Resources available;
  double cpu_usage = 0, memory_usage = 0, storage_usage = 0, gpu_usage = 0;
  bool joined = false;  // registered back with its capacity at least once
  std::vector<std::string> task_ids;  // tasks placed on it (scheduled or running)
};

// A task and, once it has ended, its result.
struct TaskView {
  store::TaskRecord task;
  std::string waiting_reason;  // pending: why it is not placed yet
  std::optional<store::ResultRecord> result;
};

struct QueueEntry {
  std::string task_id;
  Resources request;
  int priority = 0;
  int64_t queued_at_ms = 0;
  int retries = 0;  // scheduling attempts that found no room
  std::string waiting_reason;
};

// A worker's registration (MasterService.RegisterWorker).
struct WorkerJoin {
  std::string worker_id;
  std::string address;  // empty: keep the pre-registered one
  Resources total;
  std::string driver;
  std::string hostname;
  std::vector<std::string> running_task_ids;
};

struct HeartbeatInput {
  std::string worker_id;
  double cpu_usage = 0, memory_usage = 0, storage_usage = 0, gpu_usage = 0;
  std::vector<std::string> running_task_ids;
};

struct HeartbeatOutcome {
  // Tasks the worker runs that the master does not place there: the worker stops them.
  std::vector<std::string> unknown_task_ids;
};

// A worker's report of a task's end (MasterService.ReportTaskCompletion).
struct TaskCompletion {
  std::string task_id;
  std::string worker_id;
  std::string status;  // completed, failed, cancelled
  std::optional<int32_t> exit_code;
  std::string error;
  std::string logs;
  bool logs_truncated = false;
  std::string result_location;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

// Where a task's logs can be read: the stored result once it has ended, else the
// worker running it (address empty while it waits in the queue).
struct LogLocation {
  store::TaskState status = store::TaskState::kPending;
  std::optional<store::ResultRecord> result;
  std::string worker_id;
  std::string worker_address;
};

// One reserved slot of an allocation.
struct AllocationSlotView {
  std::string worker_id;
  std::string host;  // the worker's host, from its address
  Resources resources;
  Resources used;  // by the allocation's placed tasks
};

// A running instance of a catalog service.
struct ServiceView {
  std::string service;
  std::string task_id;
  std::string worker_id;  // empty until its task is placed
  std::string host;
  int32_t port = 0;
  store::TaskState status = store::TaskState::kPending;
  int32_t references = 0;   // live allocations naming it
  int64_t idle_since = 0;   // 0 while referenced
};

struct AllocationView {
  store::AllocationRecord record;
  std::vector<AllocationSlotView> slots;
  std::vector<ServiceView> endpoints;  // of the services it names that run
  std::vector<std::string> task_ids;   // its unfinished tasks
  std::vector<store::AllocationEvent> events;  // GetAllocation() only
};

struct CapacityView {
  Resources total, allocated, reserved;  // over active workers; reserved: by allocations
  size_t workers = 0, active_workers = 0;
  std::vector<ServiceView> services;
  size_t active_allocations = 0, pending_allocations = 0;
};

struct SweepReport {
  std::vector<std::string> expired_allocation_ids;
  std::vector<std::string> stopped_services;
  size_t active_allocations = 0;
};

struct ClusterCounts {
  size_t workers = 0, active_workers = 0, queued = 0, scheduled = 0, running = 0;
};

// Receives what changes in the cluster, for telemetry, metrics and event streams.
// Task events and worker changes arrive once their change is committed, in commit order,
// on the store's thread; heartbeats arrive on the caller's thread as they are taken in.
// Every method must be quick and must not call back into the Cluster.
class ClusterObserver {
 public:
  virtual ~ClusterObserver() = default;
  // A heartbeat was taken in; the worker as it now stands.
  virtual void OnHeartbeat(const WorkerView& worker) = 0;
  // A worker was registered, joined, became active or inactive, or (`removed`) left.
  virtual void OnWorkerChanged(const WorkerView& worker, bool removed) = 0;
  // A task changed state (`event` says from what to what); `task` as it now stands.
  virtual void OnTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event) = 0;
  // An allocation changed state (or was extended); `allocation` as it now stands.
  virtual void OnAllocationChanged(const AllocationView& allocation) { (void)allocation; }
};

class Cluster {
 public:
  // Loads the store's snapshot: workers (inactive until they are heard from again),
  // unfinished tasks with their placements, the counters.
  static absl::StatusOr<std::unique_ptr<Cluster>> Create(store::Store& store,
                                                         WorkerGateway& gateway, Clock& clock,
                                                         ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // ---- Admin and clients ----

  // Pre-registers a worker (seed 001's ManualRegisterAndNotify) and announces the master
  // to it. ALREADY_EXISTS when the id is taken.
  absl::Status RegisterWorker(const std::string& worker_id, const std::string& address);
  // Removes a worker. FAILED_PRECONDITION while tasks are placed on it.
  absl::Status UnregisterWorker(const std::string& worker_id);
  std::vector<WorkerView> ListWorkers() const;
  absl::StatusOr<WorkerView> GetWorker(std::string_view worker_id) const;

  // Queues a task (the scheduler picks its worker). `task` holds what the user set;
  // an empty task_id gets a fresh one. Returns the stored task.
  absl::StatusOr<TaskView> Submit(store::TaskRecord task);
  // Places a task on task.target_worker_id now and waits for the worker's answer.
  // RESOURCE_EXHAUSTED with the seed's "Insufficient ..." text when it does not fit
  // (nothing is stored then); NOT_FOUND / FAILED_PRECONDITION for an unknown or
  // inactive worker.
  absl::StatusOr<TaskView> Assign(store::TaskRecord task);
  absl::StatusOr<TaskView> GetTask(std::string_view task_id) const;
  absl::StatusOr<std::vector<TaskView>> ListTasks(const store::TaskFilter& filter) const;
  // Cancels a queued task at once, or a placed one through its worker (waiting up to
  // cancel_wait for the worker to confirm). FAILED_PRECONDITION when already final.
  absl::StatusOr<TaskView> Cancel(std::string_view task_id);
  std::vector<QueueEntry> Queue() const;
  absl::StatusOr<LogLocation> LocateLogs(std::string_view task_id) const;
  // Waits up to `timeout` for the task to be final (or unknown); true when it is.
  bool WaitFinal(std::string_view task_id, std::chrono::milliseconds timeout) const;
  ClusterCounts Counts() const;

  // ---- Allocations (docs/allocations.md) ----

  // Reserves the slots (and starts the named services) now, or queues the allocation as
  // pending. INVALID_ARGUMENT for bad input; RESOURCE_EXHAUSTED, with the reason, when it
  // could never fit or (wait=false) does not fit now; nothing is stored then.
  absl::StatusOr<AllocationView> RequestAllocation(const AllocationAsk& ask);
  // Ends it: its tasks are cancelled, and once they have stopped (waiting up to
  // cancel_wait) its slots are freed. FAILED_PRECONDITION when it already ended.
  absl::StatusOr<AllocationView> ReleaseAllocation(std::string_view allocation_id);
  absl::StatusOr<AllocationView> GetAllocation(std::string_view allocation_id) const;
  absl::StatusOr<std::vector<AllocationView>> ListAllocations(
      const store::AllocationFilter& filter) const;
  // Moves a pending or active allocation's expiry `extend_seconds` later.
  absl::StatusOr<AllocationView> ExtendAllocation(std::string_view allocation_id,
                                                  int64_t extend_seconds);
  CapacityView Capacity() const;
  // Expires allocations past their TTL and stops services idle past the timeout.
  SweepReport SweepAllocations();
  // UNAVAILABLE when the store has failed or the master is shutting down.
  absl::Status CheckWritableForApi() const { return CheckWritable(); }

  // ---- Workers ----

  // A worker registering back with its capacity. PERMISSION_DENIED when it was not
  // pre-registered (the message says how to register it).
  absl::Status WorkerJoined(const WorkerJoin& join);
  absl::StatusOr<HeartbeatOutcome> Heartbeat(const HeartbeatInput& beat);
  // Records a task's end. OK also for a repeated or stale report (nothing changes then),
  // so the worker stops retrying; NOT_FOUND for a task the master never had.
  absl::Status TaskEnded(const TaskCompletion& completion);

  // ---- Background work ----

  // Announces the master to every registered worker (BroadcastMasterRegistration).
  void AnnounceToAll();
  // One scheduling pass, when something changed since the last one (or `force`).
  // Returns the number of tasks placed.
  size_t SchedulePass(bool force = false);
  // Blocks until a scheduling pass is wanted or `deadline`; true when one is wanted.
  bool WaitForScheduling(Clock::TimePoint deadline);
  // Marks silent workers inactive and loses the tasks of workers silent past the grace.
  void CheckLiveness();
  // Wakes every waiter (used at shutdown).
  void Shutdown();
  // Sets the observer (null: none). Set it before the cluster is used; it must outlive
  // the cluster.
  void SetObserver(ClusterObserver* observer);

 private:
  struct WorkerEntry;
  struct TaskEntry;
  struct AllocationEntry;

  Cluster(store::Store& store, WorkerGateway& gateway, Clock& clock, ClusterOptions options,
          std::unique_ptr<scheduler::PlacementPolicy> policy);
  absl::Status Load();

  int64_t NowMs() const;
  // Hands `batch` to the store in memory order; `done` (may be null) gets the outcome.
  void CommitLocked(store::Batch batch, std::function<void(absl::Status)> done);
  // CommitLocked() and wait for the outcome (after unlocking `lock`).
  absl::Status CommitAndWait(std::unique_lock<std::mutex>& lock, store::Batch batch);
  void StoreFailed(const absl::Status& status);
  // Held by every callback handed to the store or the gateway (released when the
  // callback has run or is dropped); the destructor waits for all of them.
  std::shared_ptr<void> Ticket();
  absl::Status CheckWritable() const;

  void AppendEvent(store::Batch& batch, const store::TaskRecord& task,
                   std::optional<store::TaskState> from, std::string detail);
  std::string NextTaskIdLocked(store::Batch& batch);
  // Ends a placed or queued task: releases its resources (exactly once), stores its
  // new state, result and event, and forgets it. `completion` may be null.
  void FinishLocked(store::Batch& batch, TaskEntry& task, store::TaskState final_state,
                    const std::string& detail, const TaskCompletion* completion);
  // A placed task whose worker vanished: lost, or back to the queue with a retry.
  void LoseLocked(store::Batch& batch, TaskEntry& task, const std::string& why);
  void ReleaseLocked(TaskEntry& task);
  // Sends the placed task to its worker once the batch being built is committed.
  void DeliverAfterCommitLocked(const TaskEntry& task);
  void OnAssignReply(const std::string& task_id, const std::string& worker_id,
                     const WorkerReply& reply);
  void MarkDirtyLocked();
  bool AllJoinedLocked() const;
  WorkerView ViewOfLocked(const WorkerEntry& worker) const;
  TaskView ViewOfLocked(const TaskEntry& task) const;
  std::string WaitingReasonLocked(const scheduler::QueuedTask& queued) const;
  void SetWorkerActiveLocked(WorkerEntry& worker, bool active, store::Batch& batch);
  // Tells the observer about the worker once the batch being built is committed.
  void NoteWorkerLocked(const WorkerEntry& worker, bool removed);
  absl::Status QueueLocked(TaskEntry& task);
  // Takes a pending task out of whichever queue holds it.
  void UnqueueLocked(TaskEntry& task);
  // Asks the worker running a placed task to stop it; the task ends as cancelled when
  // the worker reports, or at once when the worker cannot be reached.
  void RequestStopLocked(store::Batch& batch, TaskEntry& task, const std::string& why);

  // Allocations (cluster_allocations.cc).
  absl::Status LoadAllocationsLocked(store::Snapshot& snapshot,
                                     std::map<std::string, Resources, std::less<>>& allocated,
                                     store::Batch& batch);
  void RestoreServicesLocked(store::Batch& batch);
  std::string NewAllocationIdLocked() const;
  void AppendAllocationEvent(store::Batch& batch, const store::AllocationRecord& record,
                             std::optional<store::AllocationState> from, std::string detail);
  // Why `record` could never be placed, or empty when it could.
  std::string WhyNeverFitsLocked(const store::AllocationRecord& record) const;
  // Reserves the slots and starts the services of a pending allocation, all or nothing.
  // Empty on success; otherwise why it does not fit now (nothing changed).
  std::string TryActivateLocked(AllocationEntry& allocation, store::Batch& batch);
  // Ends an allocation: pending ones at once; active ones go through releasing.
  void EndAllocationLocked(store::Batch& batch, AllocationEntry& allocation,
                           store::AllocationState final_state, const std::string& why);
  // A releasing allocation whose tasks have all ended: frees its slots, final state.
  void CompleteReleaseLocked(store::Batch& batch, AllocationEntry& allocation);
  void SchedulePendingAllocationsLocked(store::Batch& batch);
  // Places the queued tasks of active allocations on their slots; returns how many.
  size_t ScheduleAllocationTasksLocked(store::Batch& batch, std::vector<std::string>& placed);
  void PlaceTaskLocked(store::Batch& batch, TaskEntry& task, WorkerEntry& worker,
                       const std::string& detail);
  // Starts a catalog service as a long-running task on `worker_id`, where its request
  // has already been allocated in the scheduler's view.
  void StartServiceLocked(const std::string& name, const std::string& worker_id, int32_t port,
                          store::Batch& batch);
  // Checks that a task submitted into an allocation may go there.
  absl::Status CheckAllocationTaskLocked(const store::TaskRecord& task) const;
  void ServiceTaskEndedLocked(store::Batch& batch, const TaskEntry& task);
  int32_t ServiceReferencesLocked(const std::string& service) const;
  ServiceView ServiceViewLocked(const store::ServiceInstanceRecord& instance) const;
  AllocationView AllocationViewLocked(const AllocationEntry& allocation) const;
  AllocationView AllocationViewOfRecord(const store::AllocationRecord& record) const;
  void NoteAllocationLocked(const AllocationEntry& allocation);
  // Waits until the allocation is final or `deadline`.
  void WaitAllocationFinalLocked(std::unique_lock<std::mutex>& lock, const std::string& id,
                                 Clock::TimePoint deadline);

  store::Store& store_;
  WorkerGateway& gateway_;
  Clock& clock_;
  const ClusterOptions options_;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // a task became final; scheduling wanted
  std::map<std::string, std::unique_ptr<WorkerEntry>, std::less<>> workers_;
  size_t joined_workers_ = 0;  // workers_ whose `joined` is set
  std::unordered_map<std::string, std::unique_ptr<TaskEntry>> tasks_;  // unfinished only
  scheduler::ClusterView view_;
  scheduler::TaskQueue queue_;
  std::unique_ptr<scheduler::PlacementPolicy> policy_;
  std::map<std::string, std::unique_ptr<AllocationEntry>, std::less<>> allocations_;  // live
  std::map<std::string, store::ServiceInstanceRecord, std::less<>> services_;
  int64_t next_task_number_ = 1;
  bool dirty_ = true;
  std::atomic<bool> shutdown_{false};
  // Tasks that became final in memory but whose final batch is not committed yet, so
  // that readers never see an older state from the store (guarded by final_mu_).
  mutable std::mutex final_mu_;
  std::unordered_map<std::string, TaskView> finalizing_;
  // The same for allocations that ended (guarded by final_mu_).
  std::unordered_map<std::string, store::AllocationRecord> ending_allocations_;
  std::vector<std::string> ended_allocations_in_batch_;  // guarded by mu_
  std::vector<std::string> finalized_in_batch_;  // guarded by mu_; moved by CommitLocked
  // Observer notes for the batch being built: delivered after its commit (guarded by mu_;
  // moved by CommitLocked).
  std::vector<std::function<void(ClusterObserver&)>> notes_in_batch_;
  // Placements of the batch being built, sent to their workers once it is committed
  // (guarded by mu_; moved by CommitLocked).
  struct Delivery {
    std::string worker_id, address;
    store::TaskRecord task;
  };
  std::vector<Delivery> deliveries_in_batch_;
  std::atomic<ClusterObserver*> observer_{nullptr};
  std::mutex tickets_mu_;
  std::condition_variable tickets_done_;
  int64_t tickets_ = 0;  // guarded by tickets_mu_
  mutable std::mutex failure_mu_;
  bool store_failed_ = false;  // guarded by failure_mu_
};

}  // namespace cloudai::master
