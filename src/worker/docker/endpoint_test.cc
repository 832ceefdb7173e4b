#include "worker/docker/endpoint.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace cloudai::worker::docker {
namespace {

TEST(EndpointTest, ParsesUnixAddresses) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("unix:///var/run/docker.sock");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, Endpoint::Unix("/var/run/docker.sock"));
  EXPECT_EQ(e->ToString(), "unix:///var/run/docker.sock");
  EXPECT_EQ(e->HostHeader(), "docker");

  e = ParseEndpoint("/run/user/1000/docker.sock");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->path, "/run/user/1000/docker.sock");
}

TEST(EndpointTest, ParsesTcpAddresses) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("tcp://127.0.0.1:2376");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, Endpoint::Tcp("127.0.0.1", 2376));
  EXPECT_EQ(e->HostHeader(), "127.0.0.1:2376");

  e = ParseEndpoint("tcp://docker.example");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->port, kDefaultDockerTcpPort);

  e = ParseEndpoint("tcp://[::1]:2375/");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->ToString(), "tcp://[::1]:2375");
}

TEST(EndpointTest, RejectsWhatItCannotUse) {
  for (const char* bad :
       {"", "unix://", "unix://relative.sock", "ssh://user@host", "npipe:////./pipe/docker_engine",
        "tcp://", "tcp://host:0", "tcp://host:99999", "tcp://host:12ab", "tcp://host:1/path",
        "tcp://[::1"}) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(bad);
    EXPECT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseEndpoint("ssh://user@host").status().message().find("\"ssh\""),
            absl::string_view::npos);
  EXPECT_FALSE(ParseEndpoint("unix:///" + std::string(200, 'x')).ok());
}

TEST(EndpointTest, HonoursDockerHost) {
  const char* saved = getenv("DOCKER_HOST");
  const std::string saved_value = saved != nullptr ? saved : "";

  unsetenv("DOCKER_HOST");
  absl::StatusOr<Endpoint> e = EndpointFromEnvironment();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->path, "/var/run/docker.sock");

  setenv("DOCKER_HOST", "unix:///tmp/other.sock", 1);
  e = EndpointFromEnvironment();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->path, "/tmp/other.sock");

  setenv("DOCKER_HOST", "tcp://10.0.0.5:2375", 1);
  e = EndpointFromEnvironment();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, Endpoint::Tcp("10.0.0.5", 2375));

  setenv("DOCKER_HOST", "ssh://somewhere", 1);
  e = EndpointFromEnvironment();
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("DOCKER_HOST"), absl::string_view::npos);

  if (saved != nullptr) {
    setenv("DOCKER_HOST", saved_value.c_str(), 1);
  } else {
    unsetenv("DOCKER_HOST");
  }
}

}  // namespace
}  // namespace cloudai::worker::docker
