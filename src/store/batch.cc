#include "store/batch.h"

#include <utility>

#include "common/strings.h"

namespace cloudai::store {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

std::string Quote(std::string_view s) { return StrCat("\"", s.substr(0, kMaxIdLength), "\""); }

absl::Status ValidateMutation(const Mutation& m) {
  return std::visit(
      Overloaded{
          [](const mutation::UpsertUser& u) { return ValidateRecord(u.user); },
          [](const mutation::DeleteUser& u) { return ValidateId(u.user_id, "user_id"); },
          [](const mutation::UpsertWorker& u) { return ValidateRecord(u.worker); },
          [](const mutation::SetWorkerStatus& u) {
            absl::Status s = ValidateId(u.worker_id, "worker_id");
            if (s.ok()) s = ValidateTime(u.last_heartbeat, "last_heartbeat");
            if (s.ok()) s = ValidateTime(u.updated_at, "updated_at");
            return s;
          },
          [](const mutation::DeleteWorker& u) { return ValidateId(u.worker_id, "worker_id"); },
          [](const mutation::InsertTask& u) { return ValidateRecord(u.task); },
          [](const mutation::UpdateTask& u) { return ValidateRecord(u.task); },
          [](const mutation::DeleteTask& u) { return ValidateId(u.task_id, "task_id"); },
          [](const mutation::InsertAssignment& u) { return ValidateRecord(u.assignment); },
          [](const mutation::DeleteAssignment& u) { return ValidateId(u.task_id, "task_id"); },
          [](const mutation::InsertResult& u) { return ValidateRecord(u.result); },
          [](const mutation::AppendTaskEvent& u) { return ValidateRecord(u.event); },
          [](const mutation::SetCounter& u) { return ValidateId(u.name, "counter.name"); },
          [](const mutation::UpsertAllocation& u) { return ValidateRecord(u.allocation); },
          [](const mutation::AppendAllocationEvent& u) { return ValidateRecord(u.event); },
          [](const mutation::UpsertServiceInstance& u) { return ValidateRecord(u.instance); },
          [](const mutation::DeleteServiceInstance& u) { return ValidateId(u.service, "service"); },
      },
      m);
}

}  // namespace

Batch& Batch::UpsertUser(UserRecord user) { return Add(mutation::UpsertUser{std::move(user)}); }
Batch& Batch::DeleteUser(std::string user_id) {
  return Add(mutation::DeleteUser{std::move(user_id)});
}
Batch& Batch::UpsertWorker(WorkerRecord worker) {
  return Add(mutation::UpsertWorker{std::move(worker)});
}
Batch& Batch::SetWorkerStatus(std::string worker_id, bool is_active, int64_t last_heartbeat,
                              int64_t updated_at) {
  return Add(
      mutation::SetWorkerStatus{std::move(worker_id), is_active, last_heartbeat, updated_at});
}
Batch& Batch::DeleteWorker(std::string worker_id) {
  return Add(mutation::DeleteWorker{std::move(worker_id)});
}
Batch& Batch::InsertTask(TaskRecord task) { return Add(mutation::InsertTask{std::move(task)}); }
Batch& Batch::UpdateTask(TaskRecord task) { return Add(mutation::UpdateTask{std::move(task)}); }
Batch& Batch::DeleteTask(std::string task_id) {
  return Add(mutation::DeleteTask{std::move(task_id)});
}
Batch& Batch::InsertAssignment(AssignmentRecord assignment) {
  return Add(mutation::InsertAssignment{std::move(assignment)});
}
Batch& Batch::DeleteAssignment(std::string task_id) {
  return Add(mutation::DeleteAssignment{std::move(task_id)});
}
Batch& Batch::InsertResult(ResultRecord result) {
  return Add(mutation::InsertResult{std::move(result)});
}
Batch& Batch::AppendTaskEvent(TaskEvent event) {
  return Add(mutation::AppendTaskEvent{std::move(event)});
}
Batch& Batch::SetCounter(std::string name, int64_t value) {
  return Add(mutation::SetCounter{std::move(name), value});
}
Batch& Batch::UpsertAllocation(AllocationRecord allocation) {
  return Add(mutation::UpsertAllocation{std::move(allocation)});
}
Batch& Batch::AppendAllocationEvent(AllocationEvent event) {
  return Add(mutation::AppendAllocationEvent{std::move(event)});
}
Batch& Batch::UpsertServiceInstance(ServiceInstanceRecord instance) {
  return Add(mutation::UpsertServiceInstance{std::move(instance)});
}
Batch& Batch::DeleteServiceInstance(std::string service) {
  return Add(mutation::DeleteServiceInstance{std::move(service)});
}
Batch& Batch::Add(Mutation m) {
  mutations_.push_back(std::move(m));
  return *this;
}

std::string Describe(const Mutation& m) {
  return std::visit(
      Overloaded{
          [](const mutation::UpsertUser& u) {
            return StrCat("upsert user ", Quote(u.user.user_id));
          },
          [](const mutation::DeleteUser& u) { return StrCat("delete user ", Quote(u.user_id)); },
          [](const mutation::UpsertWorker& u) {
            return StrCat("upsert worker ", Quote(u.worker.worker_id));
          },
          [](const mutation::SetWorkerStatus& u) {
            return StrCat("set status of worker ", Quote(u.worker_id));
          },
          [](const mutation::DeleteWorker& u) {
            return StrCat("delete worker ", Quote(u.worker_id));
          },
          [](const mutation::InsertTask& u) {
            return StrCat("insert task ", Quote(u.task.task_id));
          },
          [](const mutation::UpdateTask& u) {
            return StrCat("update task ", Quote(u.task.task_id));
          },
          [](const mutation::DeleteTask& u) { return StrCat("delete task ", Quote(u.task_id)); },
          [](const mutation::InsertAssignment& u) {
            return StrCat("insert assignment ", Quote(u.assignment.ass_id), " of task ",
                          Quote(u.assignment.task_id), " to worker ",
                          Quote(u.assignment.worker_id));
          },
          [](const mutation::DeleteAssignment& u) {
            return StrCat("delete assignment of task ", Quote(u.task_id));
          },
          [](const mutation::InsertResult& u) {
            return StrCat("insert result of task ", Quote(u.result.task_id));
          },
          [](const mutation::AppendTaskEvent& u) {
            return StrCat("append event of task ", Quote(u.event.task_id));
          },
          [](const mutation::SetCounter& u) { return StrCat("set counter ", Quote(u.name)); },
          [](const mutation::UpsertAllocation& u) {
            return StrCat("upsert allocation ", Quote(u.allocation.allocation_id));
          },
          [](const mutation::AppendAllocationEvent& u) {
            return StrCat("append event of allocation ", Quote(u.event.allocation_id));
          },
          [](const mutation::UpsertServiceInstance& u) {
            return StrCat("upsert instance of service ", Quote(u.instance.service), " (task ",
                          Quote(u.instance.task_id), ")");
          },
          [](const mutation::DeleteServiceInstance& u) {
            return StrCat("delete instance of service ", Quote(u.service));
          },
      },
      m);
}

absl::Status ValidateBatch(const Batch& batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const Mutation& m = batch.mutations()[i];
    if (absl::Status s = ValidateMutation(m); !s.ok()) {
      return absl::Status(s.code(),
                          StrCat("mutation ", i + 1, " (", Describe(m), "): ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace cloudai::store
