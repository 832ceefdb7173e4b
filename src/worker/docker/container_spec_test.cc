#include "worker/docker/container_spec.h"

#include <gtest/gtest.h>

namespace cloudai::worker::docker {
namespace {

ContainerSpec Basic() {
  ContainerSpec spec;
  spec.task_id = "task-42";
  spec.image = "cloudai-test:busybox";
  spec.command = "echo hello; exit 3";
  return spec;
}

TEST(ContainerSpecTest, BuildsTheCreateBody) {
  ContainerSpec spec = Basic();
  spec.env = {{"A", "1"}, {"B", "x=y"}};
  spec.labels = {{"team", "ml"}};
  spec.cpu_millis = 1500;
  spec.memory_mib = 512;
  absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok()) << body.status();
  const nlohmann::json& j = *body;
  EXPECT_EQ(j["Image"], "cloudai-test:busybox");
  EXPECT_EQ(j["Cmd"], nlohmann::json::array({"/bin/sh", "-c", "echo hello; exit 3"}));
  EXPECT_EQ(j["Env"], nlohmann::json::array({"A=1", "B=x=y"}));
  EXPECT_EQ(j["Labels"],
            nlohmann::json(
                {{"team", "ml"}, {"cloudai.task_id", "task-42"}, {"cloudai.managed", "true"}}));
  EXPECT_EQ(j["Tty"], false);
  EXPECT_EQ(j["HostConfig"]["NanoCpus"], 1'500'000'000);
  EXPECT_EQ(j["HostConfig"]["Memory"], int64_t{512} << 20);
  EXPECT_EQ(j["HostConfig"]["MemorySwap"], int64_t{512} << 20);
  EXPECT_FALSE(j["HostConfig"].contains("DeviceRequests"));
}

TEST(ContainerSpecTest, NoLimitsAndNoCommand) {
  ContainerSpec spec = Basic();
  spec.command.clear();
  absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_FALSE(body->contains("Cmd"));
  EXPECT_FALSE((*body)["HostConfig"].contains("NanoCpus"));
  EXPECT_FALSE((*body)["HostConfig"].contains("Memory"));
}

TEST(ContainerSpecTest, GpuDeviceRequests) {
  ContainerSpec spec = Basic();
  spec.gpus.count = GpusForMillis(1500);
  absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["HostConfig"]["DeviceRequests"],
            nlohmann::json::parse(R"([{"Driver":"nvidia","Count":2,"Capabilities":[["gpu"]]}])"));

  spec.gpus.device_ids = {"0", "GPU-3a1b"};
  body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["HostConfig"]["DeviceRequests"],
            nlohmann::json::parse(
                R"([{"Driver":"nvidia","DeviceIDs":["0","GPU-3a1b"],"Capabilities":[["gpu"]]}])"));
}

TEST(ContainerSpecTest, GpusForMillisRoundsUp) {
  EXPECT_EQ(GpusForMillis(0), 0);
  EXPECT_EQ(GpusForMillis(1), 1);
  EXPECT_EQ(GpusForMillis(1000), 1);
  EXPECT_EQ(GpusForMillis(1001), 2);
  EXPECT_EQ(GpusForMillis(-5), 0);
}

TEST(ContainerSpecTest, RejectsBadSpecsNamingTheField) {
  struct Case {
    const char* field;
    void (*mutate)(ContainerSpec&);
  };
  const Case cases[] = {
      {"task_id", [](ContainerSpec& s) { s.task_id.clear(); }},
      {"task_id", [](ContainerSpec& s) { s.task_id = "a\nb"; }},
      {"image", [](ContainerSpec& s) { s.image.clear(); }},
      {"image", [](ContainerSpec& s) { s.image = "busy box"; }},
      {"image", [](ContainerSpec& s) { s.image = "-rm"; }},
      {"name", [](ContainerSpec& s) { s.name = "../etc"; }},
      {"command", [](ContainerSpec& s) { s.command = std::string("a\0b", 3); }},
      {"env",
       [](ContainerSpec& s) {
         s.env = {{"A=B", "c"}};
       }},
      {"env",
       [](ContainerSpec& s) {
         s.env = {{"", "c"}};
       }},
      {"labels",
       [](ContainerSpec& s) {
         s.labels = {{"cloudai.task_id", "other"}};
       }},
      {"labels",
       [](ContainerSpec& s) {
         s.labels = {{"cloudai.managed", "false"}};
       }},
      {"cpu_millis", [](ContainerSpec& s) { s.cpu_millis = -1; }},
      {"cpu_millis", [](ContainerSpec& s) { s.cpu_millis = int64_t{1} << 40; }},
      {"memory_mib", [](ContainerSpec& s) { s.memory_mib = -1; }},
      {"memory_mib", [](ContainerSpec& s) { s.memory_mib = int64_t{1} << 50; }},
      {"gpus.count", [](ContainerSpec& s) { s.gpus.count = -2; }},
      {"gpus.device_ids", [](ContainerSpec& s) { s.gpus.device_ids = {"0,1"}; }},
  };
  for (const Case& c : cases) {
    ContainerSpec spec = Basic();
    c.mutate(spec);
    absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
    ASSERT_FALSE(body.ok()) << c.field;
    EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(body.status().message().find(c.field), absl::string_view::npos)
        << c.field << ": " << body.status();
  }
}

TEST(ContainerSpecTest, ImageRefsAndIds) {
  for (const char* ok : {"busybox", "busybox:1.36", "localhost:5000/team/app:v1",
                         "app@sha256:0123abcd", "cloudai-test:busybox"}) {
    EXPECT_TRUE(ValidateImageRef(ok).ok()) << ok;
  }
  for (const char* bad : {"", "a b", "app?x=1", "app#1", "/abs", "app%20"}) {
    EXPECT_FALSE(ValidateImageRef(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateContainerId("3f4d90098f5b").ok());
  EXPECT_TRUE(ValidateContainerId("cloudai-task_1.a").ok());
  for (const char* bad : {"", "_x", "a/b", "a?b", "../x", "a b"}) {
    EXPECT_FALSE(ValidateContainerId(bad).ok()) << bad;
  }
}

TEST(ContainerSpecTest, PublishedPortsAreBoundOnTheHostAtTheSameNumber) {
  ContainerSpec spec;
  spec.task_id = "svc-1";
  spec.image = "busybox:latest";
  spec.published_ports = {9000};
  absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["ExposedPorts"], nlohmann::json::parse(R"({"9000/tcp": {}})"));
  EXPECT_EQ((*body)["HostConfig"]["PortBindings"],
            nlohmann::json::parse(R"({"9000/tcp": [{"HostPort": "9000"}]})"));
  spec.network_mode = "host";  // nothing to publish: the container is on the host already
  body = BuildCreateContainerBody(spec);
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(body->contains("ExposedPorts"));
  spec.published_ports = {70000};
  EXPECT_TRUE(absl::IsInvalidArgument(BuildCreateContainerBody(spec).status()));
}

}  // namespace
}  // namespace cloudai::worker::docker
