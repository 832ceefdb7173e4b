#include "mcp/tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "mcp/convert.h"
#include "mcp/fake_backend.h"

namespace cloudai::mcp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ToolsTest : public ::testing::Test {
 protected:
  Json Call(const std::string& name, const std::string& arguments) {
    const Tool* tool = FindTool(name);
    EXPECT_NE(tool, nullptr) << name;
    if (tool == nullptr) return Json();
    return CallTool(backend_, *tool, Json::parse(arguments));
  }

  // The structured result, after checking it against the tool's output schema (no
  // undeclared fields either) and its text item.
  Json Ok(const std::string& name, const std::string& arguments) {
    const Json result = Call(name, arguments);
    EXPECT_EQ(result.value("isError", true), false) << DumpJson(result);
    EXPECT_TRUE(result.contains("structuredContent")) << DumpJson(result);
    if (!result.contains("structuredContent")) return Json();
    const Json& structured = result["structuredContent"];
    SchemaCheckOptions closed;
    closed.closed_objects = true;
    EXPECT_EQ(CheckValue(FindTool(name)->output_schema, structured, "", closed), "")
        << name << ": " << DumpJson(structured);
    EXPECT_EQ(Json::parse(result["content"][0]["text"].get<std::string>()), structured);
    EXPECT_EQ(result["content"][1]["type"], "text");
    EXPECT_FALSE(result["content"][1]["text"].get<std::string>().empty());
    return structured;
  }

  // The isError text.
  std::string Error(const std::string& name, const std::string& arguments) {
    const Json result = Call(name, arguments);
    EXPECT_EQ(result.value("isError", false), true) << DumpJson(result);
    EXPECT_FALSE(result.contains("structuredContent"));
    return result["content"][0]["text"].get<std::string>();
  }

  FakeBackend backend_;
};

TEST_F(ToolsTest, EveryToolIsDescribed) {
  const std::set<std::string> expected = {
      "request_resources", "release_resources", "extend_allocation", "get_capacity",
      "get_allocation",    "list_allocations",  "cleanup_expired_allocations",
      "submit_task",       "get_task",          "get_task_logs",
      "cancel_task",       "list_workers"};
  std::set<std::string> names;
  const std::regex valid_name("[A-Za-z0-9_.-]{1,128}");
  for (const Tool& tool : Tools()) {
    SCOPED_TRACE(tool.name);
    EXPECT_TRUE(names.insert(tool.name).second) << "duplicate";
    EXPECT_TRUE(std::regex_match(tool.name, valid_name));
    EXPECT_GT(tool.description.size(), 40u);
    const Json& in = tool.input_schema;
    EXPECT_EQ(in["type"], "object");
    EXPECT_EQ(in["additionalProperties"], false);
    ASSERT_TRUE(in["properties"].is_object());
    for (auto p = in["properties"].begin(); p != in["properties"].end(); ++p) {
      EXPECT_TRUE(p.value().contains("type")) << p.key();
      EXPECT_TRUE(p.value().contains("description")) << p.key();
    }
    if (in.contains("required")) {
      for (const Json& r : in["required"]) EXPECT_TRUE(in["properties"].contains(r)) << r;
    }
    EXPECT_EQ(tool.output_schema["type"], "object");
    EXPECT_TRUE(tool.output_schema["required"].is_array());
    EXPECT_TRUE(tool.run);
    EXPECT_TRUE(tool.summarize);
  }
  EXPECT_EQ(names, expected);

  const Json list = ToolListResult();
  ASSERT_EQ(list["tools"].size(), expected.size());
  const Json& first = list["tools"][0];
  for (const char* key : {"name", "title", "description", "inputSchema", "outputSchema",
                          "annotations"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  const Json& request = FindTool("request_resources")->input_schema;
  EXPECT_EQ(request["required"], Json::array({"job_id"}));
  EXPECT_EQ(request["properties"]["workers"]["minimum"], 1);
  EXPECT_EQ(request["properties"]["workers"]["maximum"], 1000);
  EXPECT_EQ(request["properties"]["ttl_seconds"]["maximum"], 604800);
  EXPECT_EQ(request["properties"]["priority"]["enum"],
            Json::array({"low", "normal", "high", "critical"}));
  EXPECT_EQ(FindTool("list_allocations")->input_schema["properties"]["state"]["enum"].size(), 6u);
  EXPECT_EQ(FindTool("submit_task")->input_schema["required"], Json::array({"docker_image"}));
}

TEST_F(ToolsTest, RequestResourcesMapsFriendlyArguments) {
  const Json a = Ok("request_resources", R"({"job_id": "train-1", "workers": 2,
      "cpu_cores": 1.5, "memory_gb": 2, "storage_gb": 1, "gpu": 0.5, "priority": "high",
      "ttl_seconds": 600,
      "services": ["echo", "db"], "metadata": {"owner": "agent"}, "wait": false})");
  const v1::AllocationRequest& r = backend_.last_allocation_request;
  EXPECT_EQ(r.job_id(), "train-1");
  EXPECT_EQ(r.workers(), 2);
  EXPECT_EQ(r.per_worker().cpu(), 1500);
  EXPECT_EQ(r.per_worker().memory(), 2048);
  EXPECT_EQ(r.per_worker().gpu(), 500);
  EXPECT_EQ(r.per_worker().storage(), 1024);
  EXPECT_EQ(r.priority(), "high");
  EXPECT_EQ(r.ttl_seconds(), 600);
  ASSERT_EQ(r.services_size(), 2);
  EXPECT_EQ(r.services(1), "db");
  EXPECT_EQ(r.metadata().at("owner"), "agent");
  ASSERT_TRUE(r.has_wait());
  EXPECT_FALSE(r.wait());

  // Back: numbers as numbers, in the tools' units.
  EXPECT_EQ(a["allocation_id"], "alloc-0123456789ab");
  EXPECT_EQ(a["per_worker"]["cpu_cores"], 1.5);
  EXPECT_EQ(a["per_worker"]["memory_gb"], 2.0);
  EXPECT_TRUE(a["created_at_ms"].is_number_integer());
  EXPECT_EQ(a["created_at_ms"], 1750000000000);
  EXPECT_EQ(a["created_at"], "2025-06-15T15:06:40.000Z");
  EXPECT_EQ(a["ended_at_ms"], 0);
  EXPECT_FALSE(a.contains("ended_at"));
  EXPECT_EQ(a["slots"][0]["worker_id"], "w1");
  EXPECT_EQ(a["endpoints"][0]["endpoint"], "127.0.0.1:9000");
  EXPECT_EQ(a["metadata"]["owner"], "agent");
  EXPECT_EQ(a["events"][0]["to_state"], "pending");
}

TEST_F(ToolsTest, RequestResourcesDefaults) {
  Ok("request_resources", R"({"job_id": "j"})");
  const v1::AllocationRequest& r = backend_.last_allocation_request;
  EXPECT_EQ(r.workers(), 1);
  EXPECT_EQ(r.per_worker().cpu(), 1000);
  EXPECT_EQ(r.per_worker().memory(), 2048);
  EXPECT_EQ(r.priority(), "normal");
  EXPECT_EQ(r.ttl_seconds(), 0);
  EXPECT_FALSE(r.has_wait());
}

TEST_F(ToolsTest, BadArgumentsNameTheFieldAndLimit) {
  EXPECT_EQ(Error("request_resources", R"({"job_id": "j", "workers": 0})"),
            "Invalid arguments for request_resources: workers: 0 is below the minimum of 1.");
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "ttl_seconds": 604801})"),
              HasSubstr("ttl_seconds: 604801 is above the maximum of 604800"));
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "priority": "urgent"})"),
              HasSubstr("priority: \"urgent\" is not one of low, normal, high, critical"));
  EXPECT_THAT(Error("request_resources", R"({})"), HasSubstr("job_id: is required"));
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "color": "red"})"),
              HasSubstr("color: unknown argument; the arguments are job_id, workers"));
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "workers": "2"})"),
              HasSubstr("workers: must be an integer, not a string"));
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "cpu_cores": 0})"),
              HasSubstr("cpu_cores: 0 is below the minimum of 0.001"));
  EXPECT_THAT(Error("request_resources", R"({"job_id": "j", "metadata": {"k": 1}})"),
              HasSubstr("metadata.k: must be a string"));
  EXPECT_THAT(Error("submit_task", R"({"command": "echo"})"), HasSubstr("docker_image: is required"));
  EXPECT_THAT(Error("submit_task", R"({"docker_image": "x", "timeout_seconds": -1})"),
              HasSubstr("timeout_seconds: -1 is below the minimum of 0"));
  EXPECT_THAT(Error("submit_task", R"({"docker_image": "x", "env": {"A=B": "1"}})"),
              HasSubstr("env: variable name \"A=B\""));
  EXPECT_THAT(Error("get_task_logs", R"({"task_id": "t", "max_bytes": 0})"),
              HasSubstr("max_bytes: 0 is below the minimum of 1"));
  EXPECT_THAT(Error("get_capacity", R"({"verbose": true})"),
              HasSubstr("verbose: unknown argument; this tool takes no arguments"));
  EXPECT_THAT(Error("list_allocations", R"({"state": "done"})"),
              HasSubstr("state: \"done\" is not one of pending, active"));
  EXPECT_EQ(backend_.calls, 0) << "bad arguments never reach the backend";
}

TEST_F(ToolsTest, BackendErrorsAreToolErrors) {
  backend_.status = absl::FailedPreconditionError("allocation alloc-0123456789ab is already released");
  EXPECT_EQ(Error("release_resources", R"({"allocation_id": "alloc-0123456789ab"})"),
            "release_resources failed: allocation alloc-0123456789ab is already released "
            "[FAILED_PRECONDITION]");
  backend_.status = absl::NotFoundError("unknown allocation alloc-x");
  EXPECT_THAT(Error("get_allocation", R"({"allocation_id": "alloc-x"})"),
              HasSubstr("unknown allocation alloc-x [NOT_FOUND]. Check the id"));
  backend_.status = absl::InvalidArgumentError("job_id: may hold only letters");
  EXPECT_THAT(Error("request_resources", R"({"job_id": "a b"})"),
              HasSubstr("request_resources failed: job_id: may hold only letters [INVALID_ARGUMENT]"));
  backend_.status = absl::UnavailableError("connection refused");
  EXPECT_THAT(Error("list_workers", R"({})"), HasSubstr("try again shortly"));
}

TEST_F(ToolsTest, EveryToolAnswersItsOutputSchema) {
  Ok("release_resources", R"({"allocation_id": "alloc-1"})");
  EXPECT_EQ(backend_.last_allocation_id, "alloc-1");
  Ok("get_allocation", R"({"allocation_id": "alloc-2"})");
  EXPECT_EQ(backend_.last_allocation_id, "alloc-2");
  Ok("extend_allocation", R"({"allocation_id": "alloc-3", "extend_seconds": 120})");
  EXPECT_EQ(backend_.last_extend_request.allocation_id(), "alloc-3");
  EXPECT_EQ(backend_.last_extend_request.extend_seconds(), 120);

  const Json list = Ok("list_allocations", R"({"state": "active", "job_id": "j", "limit": 5})");
  EXPECT_EQ(backend_.last_list_request.state(), "active");
  EXPECT_EQ(backend_.last_list_request.job_id(), "j");
  EXPECT_EQ(backend_.last_list_request.limit(), 5);
  EXPECT_EQ(list["count"], 1);

  const Json capacity = Ok("get_capacity", R"({})");
  EXPECT_EQ(capacity["available"]["cpu_cores"], 6.5);
  EXPECT_EQ(capacity["available"]["memory_gb"], 14.0);
  EXPECT_EQ(capacity["workers_total"], 2);
  EXPECT_EQ(capacity["services"][0]["service"], "echo");

  const Json cleanup = Ok("cleanup_expired_allocations", R"({})");
  EXPECT_EQ(cleanup["expired_allocation_ids"], Json::array({"alloc-aaaaaaaaaaaa"}));
  EXPECT_EQ(cleanup["active_allocations"], 3);

  const Json task = Ok("get_task", R"({"task_id": "task-1"})");
  EXPECT_EQ(backend_.last_task_id, "task-1");
  EXPECT_EQ(task["status"], "completed");
  EXPECT_EQ(task["exit_code"], 0);
  EXPECT_EQ(task["timeout_seconds"], 30.0);
  EXPECT_EQ(task["resources"]["cpu_cores"], 0.25);
  EXPECT_EQ(task["env"]["A"], "1");

  backend_.task_answer.clear_exit_code();
  backend_.task_answer.set_status("running");
  const Json running = Ok("cancel_task", R"({"task_id": "task-9"})");
  EXPECT_EQ(backend_.last_task_id, "task-9");
  EXPECT_FALSE(running.contains("exit_code"));

  const Json workers = Ok("list_workers", R"({})");
  EXPECT_EQ(workers["count"], 1);
  EXPECT_EQ(workers["workers"][0]["usage"]["cpu_percent"], 12.5);
  EXPECT_EQ(workers["workers"][0]["total"]["cpu_cores"], 8.0);
  EXPECT_EQ(workers["workers"][0]["active"], true);

  // Empty answers conform too.
  backend_.allocation_answer = v1::Allocation();
  Ok("get_allocation", R"({"allocation_id": "alloc-2"})");
  backend_.capacity_answer = v1::Capacity();
  Ok("get_capacity", R"({})");
  backend_.workers_answer = v1::ListWorkersResponse();
  Ok("list_workers", R"({})");
  backend_.list_answer = v1::ListAllocationsResponse();
  Ok("list_allocations", R"({})");
}

TEST_F(ToolsTest, SubmitTaskMapsArguments) {
  const Json t = Ok("submit_task", R"({"docker_image": "busybox", "command": "echo hi",
      "cpu_cores": 0.25, "memory_gb": 0.5, "storage_gb": 2, "gpu": 1,
      "allocation_id": "alloc-0123456789ab", "priority": "high", "env": {"A": "1"},
      "timeout_seconds": 30, "target_worker_id": "w1"})");
  const v1::Task& task = backend_.last_task;
  EXPECT_EQ(task.docker_image(), "busybox");
  EXPECT_EQ(task.command(), "echo hi");
  EXPECT_EQ(task.req_cpu(), 250);
  EXPECT_EQ(task.req_memory(), 512);
  EXPECT_EQ(task.req_storage(), 2048);
  EXPECT_EQ(task.req_gpu(), 1000);
  EXPECT_EQ(task.allocation_id(), "alloc-0123456789ab");
  EXPECT_EQ(task.priority(), 100);
  EXPECT_EQ(task.env().at("A"), "1");
  EXPECT_EQ(task.timeout_ms(), 30000);
  EXPECT_EQ(task.target_worker_id(), "w1");
  EXPECT_EQ(t["task_id"], "task-1");

  Ok("submit_task", R"({"docker_image": "busybox"})");
  EXPECT_EQ(backend_.last_task.req_cpu(), 1000);
  EXPECT_EQ(backend_.last_task.req_memory(), 512);
  EXPECT_EQ(backend_.last_task.req_storage(), 1024);
  EXPECT_EQ(backend_.last_task.priority(), 0);
  EXPECT_EQ(backend_.last_task.timeout_ms(), 0);
  EXPECT_EQ(backend_.last_allocation_id, "") << "no allocation: no lookup";

  // In an allocation, resources not given are one whole slot's.
  Ok("submit_task", R"({"docker_image": "busybox", "allocation_id": "alloc-0123456789ab",
      "memory_gb": 1})");
  EXPECT_EQ(backend_.last_allocation_id, "alloc-0123456789ab");
  EXPECT_EQ(backend_.last_task.req_cpu(), 1500);
  EXPECT_EQ(backend_.last_task.req_memory(), 1024);
  EXPECT_EQ(backend_.last_task.req_storage(), 0);
  backend_.status = absl::NotFoundError("allocation \"alloc-x\" not found");
  EXPECT_THAT(Error("submit_task", R"({"docker_image": "b", "allocation_id": "alloc-x"})"),
              HasSubstr("submit_task failed: allocation \"alloc-x\" not found [NOT_FOUND]"));
  EXPECT_EQ(TaskPriorityValue("critical"), 1000);
  EXPECT_EQ(TaskPriorityValue("low"), -100);
}

TEST_F(ToolsTest, TaskLogs) {
  const Json logs = Ok("get_task_logs", R"({"task_id": "task-1"})");
  EXPECT_EQ(backend_.last_offset, 0);
  EXPECT_EQ(backend_.last_max_bytes, 65536);
  EXPECT_EQ(logs["content"], "hello\n");
  EXPECT_EQ(logs["next_offset"], 6);
  EXPECT_EQ(logs["final"], true);

  // A slice cut inside a UTF-8 character stops before it.
  backend_.logs_answer.content = "ab\xc3";
  backend_.logs_answer.next_offset = 13;
  backend_.logs_answer.final = false;
  const Json cut = Ok("get_task_logs", R"({"task_id": "task-1", "offset": 10, "max_bytes": 3})");
  EXPECT_EQ(backend_.last_offset, 10);
  EXPECT_EQ(backend_.last_max_bytes, 3);
  EXPECT_EQ(cut["content"], "ab");
  EXPECT_EQ(cut["next_offset"], 12);
  EXPECT_EQ(cut["offset"], 10);

  // Bytes that are not UTF-8 at all are replaced, not refused.
  backend_.logs_answer.content = "x\xff";
  backend_.logs_answer.final = true;
  const Json result = Call("get_task_logs", R"({"task_id": "task-1"})");
  EXPECT_THAT(DumpJson(result), HasSubstr("x\xef\xbf\xbd"));
}

TEST_F(ToolsTest, Summaries) {
  const Json result = Call("request_resources", R"({"job_id": "j"})");
  EXPECT_EQ(result["content"][1]["text"],
            "Allocation alloc-0123456789ab for job job-1 is active: 1 slot of 1.5 CPU cores, "
            "2 GB memory on w1; expires 2025-06-15T16:06:40.000Z; service echo at "
            "127.0.0.1:9000.");
  const Json cleanup = Call("cleanup_expired_allocations", R"({})");
  EXPECT_EQ(cleanup["content"][1]["text"],
            "Expired 1 allocation: alloc-aaaaaaaaaaaa; stopped services: echo; 3 still active.");
  const Json task = Call("get_task", R"({"task_id": "task-1"})");
  EXPECT_EQ(task["content"][1]["text"],
            "Task task-1 is completed (exit code 0) on w1 in alloc-0123456789ab.");
}

TEST(ConvertTest, Utf8PrefixAndTimes) {
  EXPECT_EQ(WholeUtf8Prefix("abc"), 3u);
  EXPECT_EQ(WholeUtf8Prefix("ab\xc3"), 2u);
  EXPECT_EQ(WholeUtf8Prefix("ab\xc3\xa9"), 4u);
  EXPECT_EQ(WholeUtf8Prefix("a\xe2\x82"), 1u);
  EXPECT_EQ(WholeUtf8Prefix("a\xe2\x82\xac"), 4u);
  EXPECT_EQ(WholeUtf8Prefix("\xf0\x9f\x98"), 0u);
  EXPECT_EQ(WholeUtf8Prefix(""), 0u);
  EXPECT_EQ(FormatTimeMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimeMs(1750000000123), "2025-06-15T15:06:40.123Z");
}

}  // namespace
}  // namespace cloudai::mcp
