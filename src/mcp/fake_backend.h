// FakeBackend: an mcp::Backend for tests that records each call's input and answers
// what the test set (by default, plausible messages for every call).
//
// Thread safety: every method locks; tests read the recorded fields after the calls.
#pragma once

#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "mcp/backend.h"

namespace cloudai::mcp {

class FakeBackend : public Backend {
 public:
  FakeBackend() {
    v1::Allocation& a = allocation_answer;
    a.set_allocation_id("alloc-0123456789ab");
    a.set_job_id("job-1");
    a.set_state("active");
    a.set_priority("normal");
    a.set_workers(1);
    a.mutable_per_worker()->set_cpu(1500);
    a.mutable_per_worker()->set_memory(2048);
    v1::AllocationSlot* slot = a.add_slots();
    slot->set_worker_id("w1");
    slot->set_host("127.0.0.1");
    slot->mutable_resources()->set_cpu(1500);
    slot->mutable_resources()->set_memory(2048);
    slot->mutable_used()->set_cpu(500);
    a.add_services("echo");
    v1::ServiceEndpoint* e = a.add_endpoints();
    e->set_service("echo");
    e->set_endpoint("127.0.0.1:9000");
    e->set_task_id("task-svc");
    e->set_worker_id("w1");
    e->set_port(9000);
    e->set_status("running");
    e->set_references(1);
    (*a.mutable_metadata())["owner"] = "agent";
    a.set_ttl_seconds(3600);
    a.set_created_at_ms(1750000000000);
    a.set_activated_at_ms(1750000000100);
    a.set_expires_at_ms(1750003600000);
    a.add_task_ids("task-1");
    v1::AllocationEvent* ev = a.add_events();
    ev->set_seq(1);
    ev->set_to_state("pending");
    ev->set_at_ms(1750000000000);
    ev->set_detail("requested");

    v1::Capacity& c = capacity_answer;
    c.mutable_total()->set_cpu(8000);
    c.mutable_total()->set_memory(16384);
    c.mutable_allocated()->set_cpu(1500);
    c.mutable_available()->set_cpu(6500);
    c.mutable_available()->set_memory(14336);
    c.mutable_reserved()->set_cpu(1500);
    c.set_workers_total(2);
    c.set_workers_active(1);
    c.set_active_allocations(1);
    *c.add_services() = *e;

    cleanup_answer.add_expired_allocation_ids("alloc-aaaaaaaaaaaa");
    cleanup_answer.add_stopped_services("echo");
    cleanup_answer.set_active_allocations(3);

    v1::Task* t = task_answer.mutable_task();
    t->set_task_id("task-1");
    t->set_docker_image("busybox");
    t->set_command("echo hi");
    t->set_req_cpu(250);
    t->set_req_memory(32);
    t->set_allocation_id("alloc-0123456789ab");
    (*t->mutable_env())["A"] = "1";
    t->set_timeout_ms(30000);
    task_answer.set_status("completed");
    task_answer.set_worker_id("w1");
    task_answer.set_created_at_ms(1750000000000);
    task_answer.set_completed_at_ms(1750000001000);
    task_answer.set_exit_code(0);

    logs_answer.content = "hello\n";
    logs_answer.next_offset = 6;
    logs_answer.status = "completed";
    logs_answer.final = true;

    v1::WorkerStatus* w = workers_answer.add_workers();
    w->mutable_info()->set_worker_id("w1");
    w->mutable_info()->set_worker_ip("127.0.0.1:50052");
    w->mutable_info()->set_total_cpu(8000);
    w->mutable_info()->set_total_memory(16384);
    w->mutable_info()->set_driver("exec");
    w->set_is_active(true);
    w->set_cpu_usage(12.5);
    w->set_last_heartbeat_ms(1750000000000);
    w->add_running_task_ids("task-1");

    list_answer.add_allocations()->CopyFrom(allocation_answer);
  }

  absl::StatusOr<v1::Allocation> RequestAllocation(const v1::AllocationRequest& r) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_allocation_request = r;
    if (!status.ok()) return status;
    return allocation_answer;
  }
  absl::StatusOr<v1::Allocation> ReleaseAllocation(const v1::AllocationId& r) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_allocation_id = r.allocation_id();
    if (!status.ok()) return status;
    return allocation_answer;
  }
  absl::StatusOr<v1::Allocation> GetAllocation(const v1::AllocationId& r) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_allocation_id = r.allocation_id();
    if (!status.ok()) return status;
    return allocation_answer;
  }
  absl::StatusOr<v1::ListAllocationsResponse> ListAllocations(
      const v1::ListAllocationsRequest& r) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_list_request = r;
    if (!status.ok()) return status;
    return list_answer;
  }
  absl::StatusOr<v1::Allocation> ExtendAllocation(const v1::ExtendAllocationRequest& r) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_extend_request = r;
    if (!status.ok()) return status;
    return allocation_answer;
  }
  absl::StatusOr<v1::Capacity> GetCapacity() override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    if (!status.ok()) return status;
    return capacity_answer;
  }
  absl::StatusOr<v1::CleanupResponse> CleanupExpiredAllocations() override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    if (!status.ok()) return status;
    return cleanup_answer;
  }
  absl::StatusOr<v1::TaskStatus> SubmitTask(const v1::Task& task) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_task = task;
    if (!status.ok()) return status;
    return task_answer;
  }
  absl::StatusOr<v1::TaskStatus> GetTask(const std::string& task_id) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_task_id = task_id;
    if (!status.ok()) return status;
    return task_answer;
  }
  absl::StatusOr<v1::TaskStatus> CancelTask(const std::string& task_id) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_task_id = task_id;
    if (!status.ok()) return status;
    return task_answer;
  }
  absl::StatusOr<LogSlice> GetTaskLogs(const std::string& task_id, int64_t offset,
                                       int64_t max_bytes) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    last_task_id = task_id;
    last_offset = offset;
    last_max_bytes = max_bytes;
    if (!status.ok()) return status;
    return logs_answer;
  }
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers() override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    if (!status.ok()) return status;
    return workers_answer;
  }

  std::mutex mu;
  int calls = 0;
  absl::Status status;  // not OK: every call fails with it

  v1::AllocationRequest last_allocation_request;
  std::string last_allocation_id;
  v1::ListAllocationsRequest last_list_request;
  v1::ExtendAllocationRequest last_extend_request;
  v1::Task last_task;
  std::string last_task_id;
  int64_t last_offset = -1;
  int64_t last_max_bytes = -1;

  v1::Allocation allocation_answer;
  v1::ListAllocationsResponse list_answer;
  v1::Capacity capacity_answer;
  v1::CleanupResponse cleanup_answer;
  v1::TaskStatus task_answer;
  LogSlice logs_answer;
  v1::ListWorkersResponse workers_answer;
};

}  // namespace cloudai::mcp
