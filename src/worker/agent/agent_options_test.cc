#include "worker/agent/agent_options.h"

#include <gtest/gtest.h>

namespace cloudai::worker {
namespace {

using namespace std::chrono_literals;

TEST(AgentOptions, DefaultsComeFromTheHost) {
  auto parsed = ParseAgentFlags({});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const AgentOptions& o = parsed->options;
  EXPECT_FALSE(o.worker_id.empty());
  EXPECT_EQ(o.port, 50052);
  EXPECT_EQ(o.port_attempts, 101);
  EXPECT_EQ(o.listen_host, "0.0.0.0");
  EXPECT_FALSE(o.advertise_host.empty());
  EXPECT_EQ(o.driver, "auto");
  EXPECT_EQ(o.work_dir, "./cloudai-worker-" + o.worker_id);
  EXPECT_EQ(o.heartbeat_interval, 5s);
  EXPECT_EQ(o.max_log_bytes, 1 << 20);
  EXPECT_FALSE(parsed->help);
}

TEST(AgentOptions, ParsesEveryFlagInBothForms) {
  auto parsed = ParseAgentFlags({"--id", "w-1", "--port=6000", "--listen-host", "127.0.0.1",
                                 "--advertise-host=10.0.0.5", "--driver", "exec", "--work-dir",
                                 "/tmp/w", "--master=10.0.0.1:50051", "--heartbeat-interval",
                                 "200ms", "--docker-host", "tcp://127.0.0.1:2375",
                                 "--max-log-bytes", "4096"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const AgentOptions& o = parsed->options;
  EXPECT_EQ(o.worker_id, "w-1");
  EXPECT_EQ(o.port, 6000);
  EXPECT_EQ(o.listen_host, "127.0.0.1");
  EXPECT_EQ(o.advertise_host, "10.0.0.5");
  EXPECT_EQ(o.driver, "exec");
  EXPECT_EQ(o.work_dir, "/tmp/w");
  EXPECT_EQ(o.master_address, "10.0.0.1:50051");
  EXPECT_EQ(o.heartbeat_interval, 200ms);
  EXPECT_EQ(o.docker_host, "tcp://127.0.0.1:2375");
  EXPECT_EQ(o.max_log_bytes, 4096);
}

TEST(AgentOptions, HelpIsRecognised) {
  EXPECT_TRUE(ParseAgentFlags({"--help"})->help);
  EXPECT_NE(AgentUsage().find("--heartbeat-interval"), std::string::npos);
}

TEST(AgentOptions, ErrorsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  for (const Case& c : std::vector<Case>{
           {{"--bogus", "1"}, "--bogus"},
           {{"--port", "70000"}, "--port"},
           {{"--port", "x"}, "--port"},
           {{"--port"}, "--port"},
           {{"--driver", "podman"}, "--driver"},
           {{"--heartbeat-interval", "0s"}, "--heartbeat-interval"},
           {{"--heartbeat-interval", "fast"}, "--heartbeat-interval"},
           {{"--master", "nohost"}, "--master"},
           {{"--max-log-bytes", "10"}, "--max-log-bytes"},
           {{"--id", "../x"}, "--id"},
           {{"stray"}, "stray"},
       }) {
    auto parsed = ParseAgentFlags(c.args);
    ASSERT_FALSE(parsed.ok()) << c.args[0];
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(parsed.status().message()).find(c.flag), std::string::npos)
        << parsed.status();
  }
}

TEST(AgentOptions, Durations) {
  EXPECT_EQ(*ParseAgentDuration("1500ms", "f"), 1500ms);
  EXPECT_EQ(*ParseAgentDuration("5s", "f"), 5s);
  EXPECT_EQ(*ParseAgentDuration("2m", "f"), 120s);
  EXPECT_EQ(*ParseAgentDuration("1h", "f"), 3600s);
  EXPECT_EQ(*ParseAgentDuration("7", "f"), 7s);
  EXPECT_FALSE(ParseAgentDuration("", "f").ok());
  EXPECT_FALSE(ParseAgentDuration("-1s", "f").ok());
  EXPECT_FALSE(ParseAgentDuration("1.5s", "f").ok());
  EXPECT_FALSE(ParseAgentDuration("5d", "f").ok());
}

TEST(AgentOptions, Ids) {
  EXPECT_TRUE(ValidateId("task-1_a.b", "task_id").ok());
  EXPECT_FALSE(ValidateId("", "task_id").ok());
  EXPECT_FALSE(ValidateId(".hidden", "task_id").ok());
  EXPECT_FALSE(ValidateId("a/b", "task_id").ok());
  EXPECT_FALSE(ValidateId(std::string(129, 'a'), "task_id").ok());
}

}  // namespace
}  // namespace cloudai::worker
