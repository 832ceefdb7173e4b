#include "master/task_input.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudai::master {
namespace {

using ::testing::HasSubstr;

store::TaskRecord Valid() {
  store::TaskRecord task;
  task.docker_image = "busybox:latest";
  task.command = "echo hi";
  task.request = Resources::Of(1000, 512);
  return task;
}

std::string Error(const store::TaskRecord& task) {
  return std::string(ValidateTaskInput(task).message());
}

TEST(TaskInput, AcceptsAnOrdinaryTask) { EXPECT_TRUE(ValidateTaskInput(Valid()).ok()); }

TEST(TaskInput, NamesTheFieldAndTheLimit) {
  auto t = Valid();
  t.docker_image = "";
  EXPECT_THAT(Error(t), HasSubstr("task.docker_image: is empty"));
  t = Valid();
  t.docker_image = "bad image";
  EXPECT_THAT(Error(t), HasSubstr("task.docker_image"));
  t = Valid();
  t.command = std::string(kMaxCommandLength + 1, 'x');
  EXPECT_THAT(Error(t), HasSubstr("task.command: is 65537 bytes long; the limit is 65536"));
  t = Valid();
  t.request.memory_mib = -5;
  EXPECT_THAT(Error(t), HasSubstr("task.request.memory"));
  t = Valid();
  t.request.cpu_millis = kMaxCpuMillis + 1;
  EXPECT_THAT(Error(t), HasSubstr("task.request.cpu"));
  t = Valid();
  t.task_id = std::string(129, 'a');
  EXPECT_THAT(Error(t), HasSubstr("task.task_id: is 129 bytes long; the limit is 128"));
  t = Valid();
  t.task_id = "a/b";
  EXPECT_THAT(Error(t), HasSubstr("task.task_id: may hold only"));
  t = Valid();
  t.task_id = "task-12";
  EXPECT_THAT(Error(t), HasSubstr("given by the master"));
  t = Valid();
  t.priority = 5000;
  EXPECT_THAT(Error(t), HasSubstr("task.priority"));
  t = Valid();
  t.max_retries = -1;
  EXPECT_THAT(Error(t), HasSubstr("task.max_retries"));
  t = Valid();
  t.timeout_ms = -1;
  EXPECT_THAT(Error(t), HasSubstr("task.timeout_ms"));
  t = Valid();
  t.env["A=B"] = "x";
  EXPECT_THAT(Error(t), HasSubstr("task.env"));
  t = Valid();
  t.env["A"] = std::string(kMaxEnvValueLength + 1, 'x');
  EXPECT_THAT(Error(t), HasSubstr("task.env[A]"));
}

TEST(TaskInput, Addresses) {
  EXPECT_TRUE(ValidateAddress("10.0.0.1:50052", "a").ok());
  EXPECT_TRUE(ValidateAddress("worker-1.example:1", "a").ok());
  EXPECT_FALSE(ValidateAddress("10.0.0.1", "a").ok());
  EXPECT_FALSE(ValidateAddress(":50052", "a").ok());
  EXPECT_FALSE(ValidateAddress("h:0", "a").ok());
  EXPECT_FALSE(ValidateAddress("h:65536", "a").ok());
  EXPECT_FALSE(ValidateAddress("h;rm:1", "a").ok());
}

}  // namespace
}  // namespace cloudai::master
