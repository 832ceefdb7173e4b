#include "master/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace cloudai::master {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(Duration, Forms) {
  EXPECT_EQ(ParseDuration("30s", "x").value(), milliseconds(30'000));
  EXPECT_EQ(ParseDuration("500ms", "x").value(), milliseconds(500));
  EXPECT_EQ(ParseDuration("5m", "x").value(), milliseconds(300'000));
  EXPECT_EQ(ParseDuration("1h", "x").value(), milliseconds(3'600'000));
  EXPECT_EQ(ParseDuration("45", "x").value(), milliseconds(45'000));
  EXPECT_THAT(Message(ParseDuration("-1s", "--lost-grace").status()),
              HasSubstr("--lost-grace: \"-1s\" is not a duration"));
  EXPECT_FALSE(ParseDuration("1.5s", "x").ok());
  EXPECT_FALSE(ParseDuration("s", "x").ok());
  EXPECT_THAT(Message(ParseDuration("99999999999h", "x").status()), HasSubstr("longer than a year"));
}

TEST(ListenAddress, Forms) {
  EXPECT_EQ(ParseListenAddress(":50051", "f", "0.0.0.0").value(), "0.0.0.0:50051");
  EXPECT_EQ(ParseListenAddress("8080", "f", "127.0.0.1").value(), "127.0.0.1:8080");
  EXPECT_EQ(ParseListenAddress("10.0.0.1:9", "f", "x").value(), "10.0.0.1:9");
  EXPECT_THAT(Message(ParseListenAddress(":0", "GRPC_PORT", "x").status()),
              HasSubstr("GRPC_PORT: \":0\" is not a listen address"));
  EXPECT_FALSE(ParseListenAddress("host:99999", "f", "x").ok());
  EXPECT_FALSE(ParseListenAddress("", "f", "x").ok());
}

TEST(DotEnv, ParsesCommentsQuotesAndExport) {
  auto env = ParseDotEnv("# comment\nA=1\nexport B = two \nC=\"quoted # not comment\"\nD=x # c\n\n");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->at("A"), "1");
  EXPECT_EQ(env->at("B"), "two");
  EXPECT_EQ(env->at("C"), "quoted # not comment");
  EXPECT_EQ(env->at("D"), "x");
  EXPECT_THAT(Message(ParseDotEnv("A=1\njunk\n").status()), HasSubstr(".env line 2"));
}

TEST(LoadMasterConfig, DefaultsAreTheSeeds) {
  auto c = LoadMasterConfig({}, {"--env-file=/dev/null"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_listen, "0.0.0.0:50051");
  EXPECT_EQ(c->http_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->inactivity_timeout, milliseconds(30'000));
  EXPECT_EQ(c->queue_interval, milliseconds(5'000));
  EXPECT_EQ(c->scheduler, "round-robin");
  EXPECT_EQ(c->store_url, "sqlite:./cloudai-state/cloudai.db");
  EXPECT_EQ(c->master_id.rfind("master-", 0), 0u);
  EXPECT_THAT(c->advertise_address, HasSubstr(":50051"));
  EXPECT_EQ(c->origin.at("grpc-port"), "default");
}

TEST(LoadMasterConfig, FlagsBeatEnvironmentWhichBeatsDotEnv) {
  const std::string path = std::string(::testing::TempDir()) + "/cfg-" + std::to_string(getpid());
  std::ofstream(path) << "GRPC_PORT=:6000\nCLOUDAI_SCHEDULER=spread\nCLOUDAI_LOST_GRACE=2m\n";
  auto c = LoadMasterConfig({{"GRPC_PORT", ":7000"}, {"CLOUDAI_LOST_GRACE", "90s"}},
                            {"--env-file", path, "--lost-grace=10s"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_listen, "0.0.0.0:7000");      // environment over .env
  EXPECT_EQ(c->scheduler, "spread");              // .env over default
  EXPECT_EQ(c->lost_grace, milliseconds(10'000));  // flag over environment
  EXPECT_EQ(c->origin.at("grpc-port"), "environment");
  EXPECT_EQ(c->origin.at("lost-grace"), "flag");
  EXPECT_THAT(c->origin.at("scheduler"), HasSubstr(".env file"));
}

TEST(LoadMasterConfig, ErrorsNameTheSetting) {
  EXPECT_THAT(Message(LoadMasterConfig({{"CLOUDAI_SCHEDULER", "fastest"}}, {"--env-file=/dev/null"})
                          .status()),
              HasSubstr("CLOUDAI_SCHEDULER: unknown placement policy \"fastest\""));
  EXPECT_THAT(Message(LoadMasterConfig({}, {"--env-file=/dev/null", "--nope=1"}).status()),
              HasSubstr("unknown flag --nope"));
  EXPECT_THAT(Message(LoadMasterConfig({}, {"--env-file=/dev/null", "--store=mongodb://x"}).status()),
              HasSubstr("--store: \"mongodb://x\" is not a store URL"));
  EXPECT_THAT(Message(LoadMasterConfig({}, {"--env-file=/dev/null", "--inactivity-timeout=1ms"})
                          .status()),
              HasSubstr("below the minimum"));
  EXPECT_THAT(Message(LoadMasterConfig({}, {"--env-file=/no/such/file"}).status()),
              HasSubstr("cannot read /no/such/file"));
  EXPECT_THAT(Message(LoadMasterConfig({}, {"--env-file=/dev/null", "--grpc-port"}).status()),
              HasSubstr("--grpc-port: missing value"));
}

}  // namespace
}  // namespace cloudai::master
