// DockerDriver against the host's real Docker engine (started by scripts/start-docker.sh).
// Without an engine these tests skip, except under CI=true, where they fail.
#include "worker/driver/docker_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <future>

namespace cloudai::worker {
namespace {

constexpr char kImage[] = "cloudai-test:busybox";

class DockerDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto options = docker::DockerClient::OptionsFromEnvironment();
    ASSERT_TRUE(options.ok()) << options.status();
    client_ = std::make_shared<docker::DockerClient>(*options);
    if (absl::Status s = client_->Ping(); !s.ok()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "CI=true but no Docker engine answers: " << s;
      }
      GTEST_SKIP() << "no Docker engine: " << s;
    }
    auto exists = client_->ImageExists(kImage);
    ASSERT_TRUE(exists.ok()) << exists.status();
    if (!*exists) {
      const std::string cmd =
          std::string(CLOUDAI_DOCKER_TESTDATA_DIR) + "/build-test-image.sh " + kImage;
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    DockerDriverOptions o;
    o.stop_grace = std::chrono::seconds(1);
    o.network_mode = "none";
    driver_ = std::make_unique<DockerDriver>(client_, o);
  }

  std::future<TaskExit> Start(TaskSpec spec, std::shared_ptr<LogSpool>* spool_out) {
    auto spool = LogSpool::Create(std::string(::testing::TempDir()) + "/docker-" + spec.task_id +
                                  "-" + std::to_string(getpid()) + ".log")
                     .value();
    auto promise = std::make_shared<std::promise<TaskExit>>();
    auto future = promise->get_future();
    absl::Status s = driver_->Start(spec, spool, [promise](const std::string&, const TaskExit& e) {
      promise->set_value(e);
    });
    EXPECT_TRUE(s.ok()) << s;
    *spool_out = spool;
    return future;
  }

  static TaskSpec Spec(std::string id, std::string command, std::string image = kImage) {
    TaskSpec s;
    s.task_id = std::move(id) + "-" + std::to_string(getpid());
    s.image = std::move(image);
    s.command = std::move(command);
    s.request = Resources::Of(500, 64);
    return s;
  }

  static std::string Log(const std::shared_ptr<LogSpool>& spool) {
    return spool->Read(0, 1 << 20, false, 0).value().data;
  }

  std::shared_ptr<docker::DockerClient> client_;
  std::unique_ptr<DockerDriver> driver_;
};

TEST_F(DockerDriverTest, RunsTheCommandAndReportsItsExitAndOutput) {
  std::shared_ptr<LogSpool> spool;
  TaskSpec spec = Spec("exit3", "echo hello; echo oops >&2; echo $CLOUDAI_TASK_ID; exit 3");
  TaskExit exit = Start(spec, &spool).get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_EQ(exit.exit_code, 3);
  const std::string log = Log(spool);
  EXPECT_NE(log.find("hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find("oops\n"), std::string::npos) << log;
  EXPECT_NE(log.find(spec.task_id), std::string::npos) << log;
  EXPECT_TRUE(spool->closed());
  // The container is gone afterwards.
  auto left = client_->ListContainers({.labels = {"cloudai.task_id=" + spec.task_id}});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(DockerDriverTest, CompletedOnExitZero) {
  std::shared_ptr<LogSpool> spool;
  TaskExit exit = Start(Spec("ok", "echo done"), &spool).get();
  EXPECT_EQ(exit.status, "completed");
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_TRUE(exit.error.empty()) << exit.error;
}

TEST_F(DockerDriverTest, CancelStopsTheContainer) {
  std::shared_ptr<LogSpool> spool;
  TaskSpec spec = Spec("cancel", "echo started; sleep 60");
  auto future = Start(spec, &spool);
  // Wait until it runs, then cancel.
  for (int i = 0; i < 200 && Log(spool).find("started") == std::string::npos; ++i) {
    usleep(20'000);
  }
  ASSERT_TRUE(driver_->Cancel(spec.task_id).ok());
  ASSERT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(future.get().status, "cancelled");
  EXPECT_TRUE(driver_->Running().empty());
}

TEST_F(DockerDriverTest, TimeoutFailsTheTask) {
  std::shared_ptr<LogSpool> spool;
  TaskSpec spec = Spec("timeout", "sleep 60");
  spec.timeout_ms = 500;
  TaskExit exit = Start(spec, &spool).get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_NE(exit.error.find("timed out after 500 ms"), std::string::npos) << exit.error;
}

TEST_F(DockerDriverTest, AnImageThatCannotBePulledFailsWithTheReason) {
  std::shared_ptr<LogSpool> spool;
  TaskExit exit = Start(Spec("nopull", "true", "127.0.0.1:1/cloudai/missing:1"), &spool).get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_NE(exit.error.find("could not start the container"), std::string::npos) << exit.error;
  EXPECT_NE(Log(spool).find("pulling 127.0.0.1:1/cloudai/missing:1"), std::string::npos);
}

TEST_F(DockerDriverTest, RefusesAMalformedImage) {
  auto spool = LogSpool::Create(std::string(::testing::TempDir()) + "/docker-bad.log").value();
  EXPECT_EQ(driver_->Start(Spec("bad", "true", ""), spool, [](auto&, auto&) {}).code(),
            absl::StatusCode::kInvalidArgument);
}

// A driver that leaves its containers behind (as a stopping worker does), then a new driver
// that recovers them from the same spools.
class DockerDriverRecoverTest : public DockerDriverTest {
 protected:
  std::unique_ptr<DockerDriver> NewDriver(bool keep) {
    DockerDriverOptions o;
    o.stop_grace = std::chrono::seconds(1);
    o.network_mode = "none";
    o.keep_containers_on_shutdown = keep;
    o.owner = "recover-test-" + std::to_string(getpid());
    return std::make_unique<DockerDriver>(client_, o);
  }

  // Starts `spec` on a driver that keeps its containers, waits for `marker` in the log and
  // destroys the driver. Returns the spool's path.
  std::string StartAndAbandon(const TaskSpec& spec, const std::string& marker) {
    const std::string path = std::string(::testing::TempDir()) + "/recover-" + spec.task_id + ".log";
    auto spool = LogSpool::Create(path).value();
    auto reported = std::make_shared<std::atomic<bool>>(false);
    auto keeper = NewDriver(/*keep=*/true);
    EXPECT_TRUE(keeper->Start(spec, spool, [reported](auto&, auto&) { *reported = true; }).ok());
    for (int i = 0; i < 400 && Log(spool).find(marker) == std::string::npos; ++i) usleep(20'000);
    EXPECT_NE(Log(spool).find(marker), std::string::npos) << Log(spool);
    keeper.reset();
    EXPECT_FALSE(*reported) << "a kept container's task must not be reported";
    return path;
  }

  std::vector<docker::ContainerSummary> Containers(const std::string& task_id) {
    return client_->ListContainers({.labels = {"cloudai.task_id=" + task_id}}).value();
  }
};

TEST_F(DockerDriverRecoverTest, ARunningContainerIsFollowedAgainAndReported) {
  TaskSpec spec = Spec("recover-run", "echo first; sleep 2; echo second; exit 4");
  const std::string path = StartAndAbandon(spec, "first");
  ASSERT_EQ(Containers(spec.task_id).size(), 1u) << "the container must outlive its driver";

  auto driver = NewDriver(/*keep=*/false);
  std::shared_ptr<LogSpool> spool;
  auto promise = std::make_shared<std::promise<TaskExit>>();
  auto future = promise->get_future();
  auto recovered = driver->Recover(
      [&](const std::string& id) -> std::shared_ptr<LogSpool> {
        if (id != spec.task_id) return nullptr;  // another test's container
        spool = LogSpool::OpenForAppend(path).value();
        return spool;
      },
      [promise](const std::string&, const TaskExit& e) { promise->set_value(e); });
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ((*recovered)[0].task_id, spec.task_id);
  // Another owner's driver does not see it.
  DockerDriverOptions stranger_options;
  stranger_options.owner = "someone-else";
  DockerDriver stranger(client_, stranger_options);
  auto none = stranger.Recover([](const std::string&) -> std::shared_ptr<LogSpool> {
    ADD_FAILURE() << "a container of another owner was taken over";
    return nullptr;
  }, [](auto&, auto&) {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_GT((*recovered)[0].started_at_ms, 0);
  EXPECT_EQ(driver->Running(), std::vector<std::string>{spec.task_id});

  ASSERT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  TaskExit exit = future.get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_EQ(exit.exit_code, 4);
  const std::string log = Log(spool);
  EXPECT_EQ(log.rfind("first\n", 0), 0u) << "earlier output is kept: " << log;
  EXPECT_NE(log.find("took this task over again"), std::string::npos) << log;
  EXPECT_NE(log.find("second\n"), std::string::npos) << log;
  EXPECT_TRUE(Containers(spec.task_id).empty());
}

TEST_F(DockerDriverRecoverTest, AContainerThatEndedMeanwhileIsReportedAndRemoved) {
  TaskSpec spec = Spec("recover-exited", "echo x; sleep 1; echo y; exit 3");
  const std::string path = StartAndAbandon(spec, "x");
  for (int i = 0; i < 200; ++i) {  // until it has exited
    auto c = Containers(spec.task_id);
    if (c.size() == 1 && c[0].state == "exited") break;
    usleep(50'000);
  }

  auto driver = NewDriver(/*keep=*/false);
  std::shared_ptr<LogSpool> spool;
  auto promise = std::make_shared<std::promise<TaskExit>>();
  auto future = promise->get_future();
  auto recovered = driver->Recover(
      [&](const std::string& id) -> std::shared_ptr<LogSpool> {
        if (id != spec.task_id) return nullptr;
        spool = LogSpool::OpenForAppend(path).value();
        return spool;
      },
      [promise](const std::string&, const TaskExit& e) { promise->set_value(e); });
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->empty()) << "an exited container is not running";
  ASSERT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  TaskExit exit = future.get();
  EXPECT_EQ(exit.status, "failed");
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_NE(Log(spool).find("y\n"), std::string::npos) << Log(spool);
  EXPECT_TRUE(Containers(spec.task_id).empty());
}

}  // namespace
}  // namespace cloudai::worker
