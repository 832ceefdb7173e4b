// Batch: an ordered list of changes to the store, applied all together or not at all.
//
// The master expresses every change it makes as a Batch and hands it to
// Store::Commit() / Store::CommitAsync(): a task's submission is a batch holding the
// task and its first event; a placement holds the task's update, its assignment and an
// event; and so on. The store applies the mutations in order inside one transaction;
// if any of them fails (a record that does not validate, a duplicate id, an update or
// delete of a row that does not exist, a reference to a task, worker or allocation that
// does not exist), none of the batch's changes is kept and the error names the mutation.
//
// Update and delete mutations must find their row: a missing one fails the batch with
// NOT_FOUND. Inserts of an existing id fail with ALREADY_EXISTS. Upserts insert or
// replace the whole row.
//
// Thread safety: a value type; build it on one thread, then hand it over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "store/records.h"

namespace cloudai::store {

namespace mutation {

struct UpsertUser {
  UserRecord user;
};
struct DeleteUser {
  std::string user_id;
};
struct UpsertWorker {
  WorkerRecord worker;
};
// The heartbeat path: only is_active, last_heartbeat and updated_at change.
struct SetWorkerStatus {
  std::string worker_id;
  bool is_active = false;
  int64_t last_heartbeat = 0;
  int64_t updated_at = 0;
};
// Fails while an assignment still names the worker: delete those first.
struct DeleteWorker {
  std::string worker_id;
};
struct InsertTask {
  TaskRecord task;
};
// Replaces every column of the task with that task_id.
struct UpdateTask {
  TaskRecord task;
};
// Also removes the task's assignment, result, events and any service instance it runs.
struct DeleteTask {
  std::string task_id;
};
// The task and the worker must exist; a task has at most one assignment.
struct InsertAssignment {
  AssignmentRecord assignment;
};
struct DeleteAssignment {
  std::string task_id;
};
// The task must exist; a task has at most one result.
struct InsertResult {
  ResultRecord result;
};
// The task must exist. A zero seq takes the next free number.
struct AppendTaskEvent {
  TaskEvent event;
};
// A named 64-bit counter the master keeps across restarts (e.g. the next task number).
struct SetCounter {
  std::string name;
  int64_t value = 0;
};

// Inserts the allocation or replaces its whole row.
struct UpsertAllocation {
  AllocationRecord allocation;
};
// The allocation must exist. A zero seq takes the next free number.
struct AppendAllocationEvent {
  AllocationEvent event;
};
// Inserts or replaces the instance of instance.service; its task must exist.
struct UpsertServiceInstance {
  ServiceInstanceRecord instance;
};
struct DeleteServiceInstance {
  std::string service;
};
}  // namespace mutation

using Mutation =
    std::variant<mutation::UpsertUser, mutation::DeleteUser, mutation::UpsertWorker,
                 mutation::SetWorkerStatus, mutation::DeleteWorker, mutation::InsertTask,
                 mutation::UpdateTask, mutation::DeleteTask, mutation::InsertAssignment,
                 mutation::DeleteAssignment, mutation::InsertResult, mutation::AppendTaskEvent,
                 mutation::SetCounter, mutation::UpsertAllocation,
                 mutation::AppendAllocationEvent, mutation::UpsertServiceInstance,
                 mutation::DeleteServiceInstance>;

class Batch {
 public:
  Batch() = default;

  Batch& UpsertUser(UserRecord user);
  Batch& DeleteUser(std::string user_id);
  Batch& UpsertWorker(WorkerRecord worker);
  Batch& SetWorkerStatus(std::string worker_id, bool is_active, int64_t last_heartbeat,
                         int64_t updated_at);
  Batch& DeleteWorker(std::string worker_id);
  Batch& InsertTask(TaskRecord task);
  Batch& UpdateTask(TaskRecord task);
  Batch& DeleteTask(std::string task_id);
  Batch& InsertAssignment(AssignmentRecord assignment);
  Batch& DeleteAssignment(std::string task_id);
  Batch& InsertResult(ResultRecord result);
  Batch& AppendTaskEvent(TaskEvent event);
  Batch& SetCounter(std::string name, int64_t value);
  Batch& UpsertAllocation(AllocationRecord allocation);
  Batch& AppendAllocationEvent(AllocationEvent event);
  Batch& UpsertServiceInstance(ServiceInstanceRecord instance);
  Batch& DeleteServiceInstance(std::string service);
  // Any mutation, e.g. one built elsewhere.
  Batch& Add(Mutation m);

  bool empty() const { return mutations_.empty(); }
  size_t size() const { return mutations_.size(); }
  const std::vector<Mutation>& mutations() const { return mutations_; }

 private:
  std::vector<Mutation> mutations_;
};

// "insert task \"t-1\"", "delete assignment of task \"t-1\"", ... for error messages.
std::string Describe(const Mutation& m);

// Checks every record of every mutation (ValidateRecord and the ids of deletes). The
// error names the mutation by position and kind:
//   "mutation 2 (insert task \"t-1\"): task.request.cpu: -1 is negative ..."
absl::Status ValidateBatch(const Batch& batch);

}  // namespace cloudai::store
