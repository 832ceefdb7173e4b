// Bad input on every ClusterService RPC, sent with gRPC directly: malformed or
// out-of-bounds fields are INVALID_ARGUMENT naming the field, unknown ids NOT_FOUND, and
// nothing changes; calls without the admin token are UNAUTHENTICATED.
#include <cctype>
#include <functional>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

namespace v1 = cloudai::v1;

using ValidationTest = ClusterTest;

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    default: return StrCat("code ", static_cast<int>(code));
  }
}

// A task that would be accepted.
v1::Task GoodTask() {
  v1::Task t;
  t.set_docker_image(kAnyImage);
  t.set_command("true");
  t.set_req_cpu(100);
  t.set_req_memory(64);
  t.set_req_storage(10);
  return t;
}

struct Case {
  std::string name;
  std::function<grpc::Status(grpc::ClientContext*)> call;
  grpc::StatusCode code;
  std::string field;  // the message must mention it ("" for NOT_FOUND of an id: the id)
};

class ValidationFixture : public ValidationTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartMaster());
    stub_ = ClusterStub();
  }

  // Every case answers `code` with `field` in its message.
  void Expect(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      std::unique_ptr<grpc::ClientContext> context = Context();
      grpc::Status s = c.call(context.get());
      EXPECT_EQ(CodeName(s.error_code()), CodeName(c.code))
          << c.name << ": message \"" << s.error_message() << "\"";
      if (!c.field.empty()) {
        EXPECT_NE(s.error_message().find(c.field), std::string::npos)
            << c.name << ": the message should name \"" << c.field << "\"; got \""
            << s.error_message().substr(0, 300) << "\"";
      }
      EXPECT_LT(s.error_message().size(), 4096u)
          << c.name << ": the message echoes too much of the input";
    }
  }

  grpc::Status Submit(grpc::ClientContext* context, const v1::Task& task) {
    v1::SubmitTaskRequest request;
    *request.mutable_task() = task;
    v1::TaskStatus response;
    return stub_->SubmitTask(context, request, &response);
  }
  grpc::Status Assign(grpc::ClientContext* context, const v1::Task& task) {
    v1::SubmitTaskRequest request;
    *request.mutable_task() = task;
    v1::TaskStatus response;
    return stub_->AssignTask(context, request, &response);
  }

  // Counts that bad calls must not change.
  struct Snapshot {
    size_t tasks = 0;       // ListTasks, every page
    size_t cli_tasks = 0;   // `tasks -o json`
    size_t workers = 0;
    size_t queued = 0;
  };
  Snapshot Take() {
    Snapshot s;
    std::optional<std::vector<v1::TaskStatus>> all = ListAllTasks();
    if (all.has_value()) s.tasks = all->size();
    std::optional<Json> cli = CliJson({"tasks"});
    if (cli.has_value()) s.cli_tasks = JArr(*cli, "tasks").size();
    std::optional<Json> workers = Workers();
    if (workers.has_value()) s.workers = JArr(*workers, "workers").size();
    std::optional<Json> queue = CliJson({"queue"});
    if (queue.has_value()) s.queued = JArr(*queue, "tasks").size();
    return s;
  }
  void ExpectUnchanged(const Snapshot& before) {
    const Snapshot after = Take();
    EXPECT_EQ(after.tasks, before.tasks) << "ListTasks count changed";
    EXPECT_EQ(after.cli_tasks, before.cli_tasks) << "`tasks -o json` count changed";
    EXPECT_EQ(after.workers, before.workers) << "worker count changed";
    EXPECT_EQ(after.queued, before.queued) << "queue length changed";
  }

  std::unique_ptr<v1::ClusterService::Stub> stub_;
};

using ClusterServiceValidationTest = ValidationFixture;

TEST_F(ClusterServiceValidationTest, TaskFieldsOutOfBoundsAreRefusedAndNothingChanges) {
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  // One good task first, so that "nothing changed" has something to compare.
  {
    v1::Task t = GoodTask();
    t.set_task_id("the-good-one");
    std::unique_ptr<grpc::ClientContext> context = Context();
    grpc::Status s = Submit(context.get(), t);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(WaitForTaskState("the-good-one", {"completed"}, seconds(15)).has_value());
  const Snapshot before = Take();
  ASSERT_EQ(before.tasks, 1u);

  auto with = [](std::function<void(v1::Task&)> change) {
    v1::Task t = GoodTask();
    change(t);
    return t;
  };
  const std::string long_id(300, 'a');
  const std::string huge_command(2 << 20, 'x');
  std::vector<std::pair<std::string, v1::Task>> bad = {
      {"negative cpu", with([](v1::Task& t) { t.set_req_cpu(-1); })},
      {"huge cpu", with([](v1::Task& t) { t.set_req_cpu(int64_t{1} << 62); })},
      {"negative memory", with([](v1::Task& t) { t.set_req_memory(-512); })},
      {"huge memory", with([](v1::Task& t) { t.set_req_memory(INT64_MAX); })},
      {"negative storage", with([](v1::Task& t) { t.set_req_storage(-1); })},
      {"negative gpu", with([](v1::Task& t) { t.set_req_gpu(-1000); })},
      {"empty image", with([](v1::Task& t) { t.set_docker_image(""); })},
      {"image with spaces", with([](v1::Task& t) { t.set_docker_image("bad image"); })},
      {"2 MB command", with([&](v1::Task& t) { t.set_command(huge_command); })},
      {"300-char task id", with([&](v1::Task& t) { t.set_task_id(long_id); })},
      {"task id with a slash", with([](v1::Task& t) { t.set_task_id("a/b"); })},
      {"priority out of range", with([](v1::Task& t) { t.set_priority(1000000); })},
      {"negative retries", with([](v1::Task& t) { t.set_max_retries(-1); })},
      {"negative timeout", with([](v1::Task& t) { t.set_timeout_ms(-5); })},
      {"env name with =", with([](v1::Task& t) { (*t.mutable_env())["A=B"] = "c"; })},
  };
  const std::vector<std::string> fields = {
      "cpu", "cpu", "memory", "memory", "storage", "gpu", "docker_image", "docker_image",
      "command", "task_id", "task_id", "priority", "max_retries", "timeout", "env"};
  ASSERT_EQ(bad.size(), fields.size());

  std::vector<Case> cases;
  for (size_t i = 0; i < bad.size(); ++i) {
    const v1::Task task = bad[i].second;
    cases.push_back({StrCat("SubmitTask with ", bad[i].first),
                     [this, task](grpc::ClientContext* c) { return Submit(c, task); },
                     grpc::StatusCode::INVALID_ARGUMENT, fields[i]});
    v1::Task direct = task;
    direct.set_target_worker_id("w1");
    cases.push_back({StrCat("AssignTask with ", bad[i].first),
                     [this, direct](grpc::ClientContext* c) { return Assign(c, direct); },
                     grpc::StatusCode::INVALID_ARGUMENT, fields[i]});
  }
  // No task at all.
  cases.push_back({"SubmitTask without a task",
                   [this](grpc::ClientContext* c) {
                     v1::SubmitTaskRequest request;
                     v1::TaskStatus response;
                     return stub_->SubmitTask(c, request, &response);
                   },
                   grpc::StatusCode::INVALID_ARGUMENT, ""});
  // Direct assignments naming no worker, a malformed one, an unknown one.
  cases.push_back({"AssignTask without a target",
                   [this](grpc::ClientContext* c) { return Assign(c, GoodTask()); },
                   grpc::StatusCode::INVALID_ARGUMENT, "target_worker_id"});
  cases.push_back({"AssignTask to a 300-char worker id",
                   [this, long_id](grpc::ClientContext* c) {
                     v1::Task t = GoodTask();
                     t.set_target_worker_id(long_id);
                     return Assign(c, t);
                   },
                   grpc::StatusCode::INVALID_ARGUMENT, "target_worker_id"});
  cases.push_back({"AssignTask to an unknown worker",
                   [this](grpc::ClientContext* c) {
                     v1::Task t = GoodTask();
                     t.set_target_worker_id("nobody");
                     return Assign(c, t);
                   },
                   grpc::StatusCode::NOT_FOUND, "nobody"});
  // A task id that exists already.
  cases.push_back({"SubmitTask with an existing id",
                   [this](grpc::ClientContext* c) {
                     v1::Task t = GoodTask();
                     t.set_task_id("the-good-one");
                     return Submit(c, t);
                   },
                   grpc::StatusCode::ALREADY_EXISTS, "the-good-one"});
  Expect(cases);
  ExpectUnchanged(before);
  // The worker's allocation was never touched.
  std::optional<Json> w1 = WorkerStatus("w1");
  ASSERT_TRUE(w1.has_value());
  EXPECT_EQ(ResourcesOf(*w1).allocated.cpu, 0);
  EXPECT_EQ(ResourcesOf(*w1).allocated.memory, 0);
}

TEST_F(ClusterServiceValidationTest, UnknownAndMalformedIdsOnEveryLookup) {
  const Snapshot before = Take();
  const std::string long_id(300, 'b');
  auto get_worker = [this](const std::string& id) {
    return [this, id](grpc::ClientContext* c) {
      v1::WorkerIdRequest r;
      r.set_worker_id(id);
      v1::WorkerStatus out;
      return stub_->GetWorker(c, r, &out);
    };
  };
  auto unregister = [this](const std::string& id) {
    return [this, id](grpc::ClientContext* c) {
      v1::WorkerIdRequest r;
      r.set_worker_id(id);
      v1::Ack out;
      return stub_->UnregisterWorker(c, r, &out);
    };
  };
  auto register_worker = [this](const std::string& id, const std::string& ip) {
    return [this, id, ip](grpc::ClientContext* c) {
      v1::RegisterWorkerRequest r;
      r.set_worker_id(id);
      r.set_worker_ip(ip);
      v1::Ack out;
      return stub_->RegisterWorker(c, r, &out);
    };
  };
  auto get_task = [this](const std::string& id) {
    return [this, id](grpc::ClientContext* c) {
      v1::TaskId r;
      r.set_task_id(id);
      v1::TaskStatus out;
      return stub_->GetTask(c, r, &out);
    };
  };
  auto cancel = [this](const std::string& id) {
    return [this, id](grpc::ClientContext* c) {
      v1::TaskId r;
      r.set_task_id(id);
      v1::TaskStatus out;
      return stub_->CancelTask(c, r, &out);
    };
  };
  auto logs = [this](const std::string& id, int64_t offset) {
    return [this, id, offset](grpc::ClientContext* c) {
      v1::TaskLogRequest r;
      r.set_task_id(id);
      r.set_offset(offset);
      std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader = stub_->StreamTaskLogs(c, r);
      v1::LogChunk chunk;
      while (reader->Read(&chunk)) {
      }
      return reader->Finish();
    };
  };
  auto list_tasks = [this](std::function<void(v1::ListTasksRequest&)> change) {
    return [this, change](grpc::ClientContext* c) {
      v1::ListTasksRequest r;
      change(r);
      v1::ListTasksResponse out;
      return stub_->ListTasks(c, r, &out);
    };
  };
  using grpc::StatusCode;
  Expect({
      {"GetWorker unknown", get_worker("ghost"), StatusCode::NOT_FOUND, "ghost"},
      {"GetWorker empty", get_worker(""), StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"GetWorker 300 chars", get_worker(long_id), StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"UnregisterWorker unknown", unregister("ghost"), StatusCode::NOT_FOUND, "ghost"},
      {"UnregisterWorker empty", unregister(""), StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"UnregisterWorker 300 chars", unregister(long_id), StatusCode::INVALID_ARGUMENT,
       "worker_id"},
      {"RegisterWorker empty id", register_worker("", "127.0.0.1:5000"),
       StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"RegisterWorker 300-char id", register_worker(long_id, "127.0.0.1:5000"),
       StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"RegisterWorker id with spaces", register_worker("a b", "127.0.0.1:5000"),
       StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"RegisterWorker no address", register_worker("fine", ""), StatusCode::INVALID_ARGUMENT,
       "worker_ip"},
      {"RegisterWorker address without port", register_worker("fine", "127.0.0.1"),
       StatusCode::INVALID_ARGUMENT, "worker_ip"},
      {"RegisterWorker port 0", register_worker("fine", "127.0.0.1:0"),
       StatusCode::INVALID_ARGUMENT, "worker_ip"},
      {"RegisterWorker port 70000", register_worker("fine", "127.0.0.1:70000"),
       StatusCode::INVALID_ARGUMENT, "worker_ip"},
      {"RegisterWorker 300-char address",
       register_worker("fine", StrCat(std::string(300, 'h'), ":80")),
       StatusCode::INVALID_ARGUMENT, "worker_ip"},
      {"GetTask unknown", get_task("ghost-task"), StatusCode::NOT_FOUND, "ghost-task"},
      {"GetTask empty", get_task(""), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"GetTask 300 chars", get_task(long_id), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"CancelTask unknown", cancel("ghost-task"), StatusCode::NOT_FOUND, "ghost-task"},
      {"CancelTask empty", cancel(""), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"CancelTask 300 chars", cancel(long_id), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"StreamTaskLogs unknown", logs("ghost-task", 0), StatusCode::NOT_FOUND, "ghost-task"},
      {"StreamTaskLogs empty", logs("", 0), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"StreamTaskLogs 300 chars", logs(long_id, 0), StatusCode::INVALID_ARGUMENT, "task_id"},
      {"StreamTaskLogs negative offset", logs("ghost-task", -1), StatusCode::INVALID_ARGUMENT,
       "offset"},
      {"ListTasks unknown status",
       list_tasks([](v1::ListTasksRequest& r) { r.set_status("sleeping"); }),
       StatusCode::INVALID_ARGUMENT, "status"},
      {"ListTasks negative limit",
       list_tasks([](v1::ListTasksRequest& r) { r.set_limit(-1); }),
       StatusCode::INVALID_ARGUMENT, "limit"},
      {"ListTasks 300-char worker id",
       list_tasks([&](v1::ListTasksRequest& r) { r.set_worker_id(long_id); }),
       StatusCode::INVALID_ARGUMENT, "worker_id"},
      {"ListTasks 300-char cursor",
       list_tasks([&](v1::ListTasksRequest& r) { r.set_after_task_id(long_id); }),
       StatusCode::INVALID_ARGUMENT, "after_task_id"},
  });
  ExpectUnchanged(before);
  EXPECT_TRUE(master()->Running());
}

TEST_F(ClusterServiceValidationTest, CallsWithoutTheTokenAreUnauthenticated) {
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  const Snapshot before = Take();
  auto submit = [this](grpc::ClientContext* c) { return Submit(c, GoodTask()); };
  auto assign = [this](grpc::ClientContext* c) {
    v1::Task t = GoodTask();
    t.set_target_worker_id("w1");
    return Assign(c, t);
  };
  const std::vector<std::pair<std::string, std::function<grpc::Status(grpc::ClientContext*)>>>
      calls = {
          {"RegisterWorker",
           [this](grpc::ClientContext* c) {
             v1::RegisterWorkerRequest r;
             r.set_worker_id("sneaky");
             r.set_worker_ip("127.0.0.1:5000");
             v1::Ack out;
             return stub_->RegisterWorker(c, r, &out);
           }},
          {"UnregisterWorker",
           [this](grpc::ClientContext* c) {
             v1::WorkerIdRequest r;
             r.set_worker_id("w1");
             v1::Ack out;
             return stub_->UnregisterWorker(c, r, &out);
           }},
          {"ListWorkers",
           [this](grpc::ClientContext* c) {
             v1::ListWorkersResponse out;
             return stub_->ListWorkers(c, v1::ListWorkersRequest(), &out);
           }},
          {"GetWorker",
           [this](grpc::ClientContext* c) {
             v1::WorkerIdRequest r;
             r.set_worker_id("w1");
             v1::WorkerStatus out;
             return stub_->GetWorker(c, r, &out);
           }},
          {"SubmitTask", submit},
          {"AssignTask", assign},
          {"GetTask",
           [this](grpc::ClientContext* c) {
             v1::TaskId r;
             r.set_task_id("x");
             v1::TaskStatus out;
             return stub_->GetTask(c, r, &out);
           }},
          {"ListTasks",
           [this](grpc::ClientContext* c) {
             v1::ListTasksResponse out;
             return stub_->ListTasks(c, v1::ListTasksRequest(), &out);
           }},
          {"CancelTask",
           [this](grpc::ClientContext* c) {
             v1::TaskId r;
             r.set_task_id("x");
             v1::TaskStatus out;
             return stub_->CancelTask(c, r, &out);
           }},
          {"StreamTaskLogs",
           [this](grpc::ClientContext* c) {
             v1::TaskLogRequest r;
             r.set_task_id("x");
             std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader =
                 stub_->StreamTaskLogs(c, r);
             v1::LogChunk chunk;
             while (reader->Read(&chunk)) {
             }
             return reader->Finish();
           }},
          {"QueueStatus",
           [this](grpc::ClientContext* c) {
             v1::QueueStatusResponse out;
             return stub_->QueueStatus(c, v1::QueueStatusRequest(), &out);
           }},
      };
  const std::string wrong_token(64, 'f');
  for (const auto& [name, call] : calls) {
    {
      std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
      grpc::Status s = call(context.get());
      EXPECT_EQ(CodeName(s.error_code()), "UNAUTHENTICATED") << name << " without a token: "
                                                             << s.error_message();
    }
    {
      std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
      context->AddMetadata("authorization", StrCat("Bearer ", wrong_token));
      grpc::Status s = call(context.get());
      EXPECT_EQ(CodeName(s.error_code()), "UNAUTHENTICATED") << name << " with a wrong token: "
                                                             << s.error_message();
    }
    {
      std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
      context->AddMetadata("authorization", Token());  // without "Bearer "
      grpc::Status s = call(context.get());
      EXPECT_EQ(CodeName(s.error_code()), "UNAUTHENTICATED") << name << " without Bearer: "
                                                             << s.error_message();
    }
  }
  ExpectUnchanged(before);
  std::optional<Json> w1 = WorkerStatus("w1");
  EXPECT_TRUE(w1.has_value()) << "an unauthenticated UnregisterWorker removed w1";
}

TEST_F(ClusterServiceValidationTest, StateConflictsHaveTheirCodes) {
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  using grpc::StatusCode;
  // A finished task cannot be cancelled.
  {
    v1::Task t = GoodTask();
    t.set_task_id("finished");
    t.set_target_worker_id("w1");
    std::unique_ptr<grpc::ClientContext> context = Context();
    ASSERT_TRUE(Assign(context.get(), t).ok());
  }
  ASSERT_TRUE(WaitForTaskState("finished", {"completed"}, seconds(15)).has_value());
  // A registered worker whose process is not there: never active.
  {
    std::unique_ptr<grpc::ClientContext> context = Context();
    v1::RegisterWorkerRequest r;
    r.set_worker_id("absent");
    r.set_worker_ip(StrCat("127.0.0.1:", FreePort()));
    v1::Ack out;
    grpc::Status s = stub_->RegisterWorker(context.get(), r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::vector<Case> cases = {
      {"CancelTask of a completed task",
       [this](grpc::ClientContext* c) {
         v1::TaskId r;
         r.set_task_id("finished");
         v1::TaskStatus out;
         return stub_->CancelTask(c, r, &out);
       },
       StatusCode::FAILED_PRECONDITION, ""},
      {"AssignTask to a worker that never joined",
       [this](grpc::ClientContext* c) {
         v1::Task t = GoodTask();
         t.set_target_worker_id("absent");
         return Assign(c, t);
       },
       StatusCode::FAILED_PRECONDITION, ""},
      {"RegisterWorker twice",
       [this](grpc::ClientContext* c) {
         v1::RegisterWorkerRequest r;
         r.set_worker_id("w1");
         r.set_worker_ip("127.0.0.1:5000");
         v1::Ack out;
         return stub_->RegisterWorker(c, r, &out);
       },
       StatusCode::ALREADY_EXISTS, "w1"},
      {"AssignTask that does not fit",
       [this](grpc::ClientContext* c) {
         v1::Task t = GoodTask();
         t.set_target_worker_id("w1");
         t.set_req_cpu(int64_t{1} << 29);
         return Assign(c, t);
       },
       StatusCode::RESOURCE_EXHAUSTED, "Insufficient CPU: worker has "},
  };
  Expect(cases);
  EXPECT_TRUE(master()->Running());
}

}  // namespace
}  // namespace cloudai::integration
