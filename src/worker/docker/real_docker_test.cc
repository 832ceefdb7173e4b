// Tests against the host's real Docker engine (DOCKER_HOST or /var/run/docker.sock),
// running the local image cloudai-test:busybox (built by testdata/build-test-image.sh when
// missing). Without an engine they skip, saying why, except under CI=true, where a missing
// engine is a failure.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "worker/docker/docker_client.h"

namespace cloudai::worker::docker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr char kTestImage[] = "cloudai-test:busybox";

bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Whether the engine answers and the test image is there (building it once if needed);
// otherwise why not. Decided once per test binary.
struct Availability {
  bool ok = false;
  std::string reason;
};

const Availability& EngineAvailability() {
  static const Availability availability = [] {
    Availability a;
    absl::StatusOr<DockerClientOptions> options = DockerClient::OptionsFromEnvironment();
    if (!options.ok()) {
      a.reason = std::string(options.status().message());
      return a;
    }
    options->request_timeout = milliseconds(5000);
    if (options->endpoint.kind == Endpoint::Kind::kUnix &&
        ::access(options->endpoint.path.c_str(), F_OK) != 0) {
      a.reason = StrCat("no docker engine: ", options->endpoint.path, " does not exist");
      return a;
    }
    DockerClient client(*options);
    if (absl::Status ping = client.Ping(); !ping.ok()) {
      a.reason = StrCat("the docker engine at ", options->endpoint.ToString(),
                        " does not answer: ", ping.message());
      return a;
    }
    absl::StatusOr<bool> exists = client.ImageExists(kTestImage);
    if (exists.ok() && !*exists) {
      const std::string script = CLOUDAI_DOCKER_TESTDATA_DIR "/build-test-image.sh";
      const int rc = std::system(StrCat("'", script, "' ", kTestImage).c_str());
      if (rc != 0) {
        a.reason = StrCat(script, " failed (status ", rc, ")");
        return a;
      }
      exists = client.ImageExists(kTestImage);
    }
    if (!exists.ok() || !*exists) {
      a.reason = StrCat("test image ", kTestImage, " is missing and could not be built: ",
                        exists.ok() ? "still not there" : std::string(exists.status().message()));
      return a;
    }
    a.ok = true;
    return a;
  }();
  return availability;
}

class RealDockerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Availability& a = EngineAvailability();
    if (!a.ok) {
      if (UnderCi()) GTEST_FAIL() << "CI=true and no usable docker engine: " << a.reason;
      GTEST_SKIP() << "skipped: " << a.reason;
    }
    DockerClientOptions options = DockerClient::OptionsFromEnvironment().value();
    options.request_timeout = milliseconds(30000);
    client_ = std::make_unique<DockerClient>(options);
    task_id_ = StrCat("realdocker-", ::getpid(), "-",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  void TearDown() override {
    for (const std::string& id : containers_) {
      absl::Status s = client_->RemoveContainer(id, /*force=*/true);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) ADD_FAILURE() << s;
    }
  }

  ContainerSpec Spec(std::string command) {
    ContainerSpec spec;
    spec.task_id = task_id_;
    spec.image = kTestImage;
    spec.command = std::move(command);
    spec.network_mode = "none";  // runs on engines started without a bridge, too
    return spec;
  }

  std::string Create(const ContainerSpec& spec) {
    absl::StatusOr<std::string> id = client_->CreateContainer(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) return "";
    containers_.push_back(*id);
    return *id;
  }

  std::unique_ptr<DockerClient> client_;
  std::string task_id_;
  std::vector<std::string> containers_;
};

TEST_F(RealDockerTest, RunsACommandAndSeparatesItsOutput) {
  const std::string id = Create(Spec("echo hello; echo oops >&2; exit 3"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->StartContainer(id).ok());
  absl::StatusOr<int64_t> code = client_->WaitContainer(id);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 3);

  std::string out, err;
  absl::Status s = client_->Logs(id, LogsOptions(), [&](LogStream stream, std::string_view data) {
    (stream == LogStream::kStderr ? err : out).append(data);
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out, "hello\n");
  EXPECT_EQ(err, "oops\n");

  absl::StatusOr<ContainerInfo> info = client_->InspectContainer(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->state.status, "exited");
  EXPECT_FALSE(info->state.running);
  EXPECT_EQ(info->state.exit_code, 3);
  EXPECT_GT(info->state.started_at_ms, 0);
  EXPECT_GT(info->state.finished_at_ms, 0);
  EXPECT_EQ(info->cmd,
            (std::vector<std::string>{"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"}));
}

TEST_F(RealDockerTest, FollowsLogsWhileTheContainerRuns) {
  const std::string id =
      Create(Spec("for i in 1 2 3; do echo line $i; sleep 0.2; done; "
                  "echo done >&2"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->StartContainer(id).ok());
  LogsOptions options;
  options.follow = true;
  std::string out, err;
  const auto start = steady_clock::now();
  absl::Status s = client_->Logs(id, options, [&](LogStream stream, std::string_view data) {
    (stream == LogStream::kStderr ? err : out).append(data);
  });
  ASSERT_TRUE(s.ok()) << s;  // the stream ends when the container does
  EXPECT_EQ(out, "line 1\nline 2\nline 3\n");
  EXPECT_EQ(err, "done\n");
  EXPECT_LT(steady_clock::now() - start, seconds(20));
  absl::StatusOr<int64_t> code = client_->WaitContainer(id);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST_F(RealDockerTest, AppliesLimitsAndLabels) {
  ContainerSpec spec = Spec("true");
  spec.cpu_millis = 500;
  spec.memory_mib = 64;
  spec.labels = {{"cloudai.test", "limits"}};
  spec.env = {{"CLOUDAI_TASK_ID", task_id_}};
  const std::string id = Create(spec);
  ASSERT_FALSE(id.empty());
  absl::StatusOr<ContainerInfo> info = client_->InspectContainer(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->nano_cpus, 500'000'000);
  EXPECT_EQ(info->memory_bytes, 64 * 1024 * 1024);
  EXPECT_EQ(info->labels["cloudai.task_id"], task_id_);
  EXPECT_EQ(info->labels["cloudai.managed"], "true");
  EXPECT_EQ(info->labels["cloudai.test"], "limits");
  EXPECT_EQ(info->state.status, "created");
  bool has_env = false;
  for (const std::string& e : info->env) has_env |= e == "CLOUDAI_TASK_ID=" + task_id_;
  EXPECT_TRUE(has_env);
}

TEST_F(RealDockerTest, ListsContainersByLabel) {
  const std::string id = Create(Spec("true"));
  ASSERT_FALSE(id.empty());
  ListContainersOptions options;
  options.labels = {StrCat("cloudai.task_id=", task_id_), "cloudai.managed=true"};
  absl::StatusOr<std::vector<ContainerSummary>> list = client_->ListContainers(options);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, id);
  EXPECT_EQ((*list)[0].state, "created");
  EXPECT_EQ((*list)[0].labels.at("cloudai.task_id"), task_id_);

  options.labels = {StrCat("cloudai.task_id=", task_id_, "-other")};
  list = client_->ListContainers(options);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->empty());
}

TEST_F(RealDockerTest, StopsAndRemovesARunningContainerQuickly) {
  const std::string id = Create(Spec("sleep 60"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->StartContainer(id).ok());
  absl::StatusOr<ContainerInfo> info = client_->InspectContainer(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->state.running);

  const auto start = steady_clock::now();
  absl::Status s = client_->StopContainer(id, seconds(1));
  ASSERT_TRUE(s.ok()) << s;
  s = client_->RemoveContainer(id, /*force=*/false);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_LT(steady_clock::now() - start, seconds(10));
  EXPECT_EQ(client_->InspectContainer(id).status().code(), absl::StatusCode::kNotFound);
  // Stopping or removing what is gone says so.
  EXPECT_EQ(client_->RemoveContainer(id, true).code(), absl::StatusCode::kNotFound);
}

TEST_F(RealDockerTest, KillAndWait) {
  const std::string id = Create(Spec("sleep 60"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->StartContainer(id).ok());
  ASSERT_TRUE(client_->KillContainer(id).ok());
  absl::StatusOr<int64_t> code = client_->WaitContainer(id);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 137);  // 128 + SIGKILL
  absl::Status again = client_->KillContainer(id);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
}

TEST_F(RealDockerTest, ImagesAndMissingThings) {
  absl::StatusOr<bool> exists = client_->ImageExists(kTestImage);
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_TRUE(*exists);
  exists = client_->ImageExists("cloudai-test:no-such-tag");
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_FALSE(*exists);

  ContainerSpec spec = Spec("true");
  spec.image = "cloudai-test:no-such-tag";
  absl::StatusOr<std::string> id = client_->CreateContainer(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(id.status().message().find("No such image"), absl::string_view::npos) << id.status();

  absl::Status s = client_->StartContainer("cloudai-no-such-container");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("No such container"), absl::string_view::npos) << s;
}

TEST_F(RealDockerTest, PullFromANonexistentRegistryFailsClearly) {
  // Nothing listens on port 1: the registry does not exist, and no DNS is involved.
  const std::string ref = "127.0.0.1:1/cloudai/nothing:1";
  std::vector<std::string> progress;
  const auto start = steady_clock::now();
  absl::Status s =
      client_->PullImage(ref, [&](const PullProgress& p) { progress.push_back(p.ToString()); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pulling image 127.0.0.1:1/cloudai/nothing:1"),
            absl::string_view::npos)
      << s;
  EXPECT_NE(s.message().find("127.0.0.1:1"), absl::string_view::npos) << s;
  EXPECT_LT(steady_clock::now() - start, seconds(60));
  std::cerr << "pull error as reported: " << s << "\n";
}

TEST_F(RealDockerTest, NegotiatesTheApiVersion) {
  absl::StatusOr<VersionInfo> version = client_->Version();
  ASSERT_TRUE(version.ok()) << version.status();
  absl::StatusOr<std::string> agreed = client_->NegotiateApiVersion();
  ASSERT_TRUE(agreed.ok()) << agreed.status();
  EXPECT_LE(CompareApiVersions(*agreed, kMaxApiVersion), 0);
  EXPECT_LE(CompareApiVersions(*agreed, version->api_version), 0);
  std::cerr << "engine " << version->version << ", API " << version->api_version << ", agreed "
            << *agreed << "\n";
}

}  // namespace
}  // namespace cloudai::worker::docker
