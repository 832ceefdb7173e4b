// The worker's drivers end to end: exec (the host's shell, in the work dir) and docker
// (the local image cloudai-test:busybox, and an image pulled from a registry on loopback).
//
// Docker tests need a running engine (scripts/start-docker.sh), the docker command, and
// for the pull test Debian's docker-registry. Without them they skip, saying why, except
// under CI=true, where that is a failure.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fstream>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using DriversTest = ClusterTest;

std::vector<std::string> Join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> Small() {
  return {"-cpu_cores", "0.2", "-mem", "0.0625", "-storage", "0.01"};
}

// The full path of `name` in $PATH (or the usual places), "" when absent.
std::string FindProgram(const std::string& name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;
    const std::string candidate = StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Availability {
  bool ok = false;
  std::string reason;
};

// Whether the docker command and engine answer and the test image is there (built once
// when missing).
const Availability& DockerAvailability() {
  static const Availability* const availability = [] {
    auto* a = new Availability;
    const std::string docker = FindProgram("docker");
    if (docker.empty()) {
      a->reason = "the docker command is not installed (Debian package docker.io)";
      return a;
    }
    char scratch[] = "/tmp/cloudai-it-docker-XXXXXX";
    if (::mkdtemp(scratch) == nullptr) {
      a->reason = "mkdtemp failed";
      return a;
    }
    CommandResult info =
        RunCommand({docker, "info", "--format", "{{.ServerVersion}}"}, scratch, seconds(20));
    if (info.exit_code != 0) {
      a->reason = StrCat("no docker engine answers (start one with scripts/start-docker.sh): ",
                         info.err.empty() ? info.out : info.err);
    } else {
      CommandResult inspect =
          RunCommand({docker, "image", "inspect", kTestImage}, scratch, seconds(20));
      if (inspect.exit_code != 0) {
        CommandResult build = RunCommand(
            {"/bin/sh", CLOUDAI_IT_DOCKER_TESTDATA_DIR "/build-test-image.sh", kTestImage},
            scratch, seconds(120));
        if (build.exit_code != 0) {
          a->reason = StrCat("test image ", kTestImage, " is missing and could not be built: ",
                             build.ToString());
        }
      }
      a->ok = a->reason.empty();
    }
    ::rmdir(scratch);
    return a;
  }();
  return *availability;
}

#define REQUIRE_DOCKER()                                                           \
  do {                                                                             \
    const Availability& docker_availability = DockerAvailability();                \
    if (!docker_availability.ok) {                                                 \
      if (UnderCi()) {                                                             \
        GTEST_FAIL() << "CI=true and no usable docker engine: "                    \
                     << docker_availability.reason;                                \
      }                                                                            \
      GTEST_SKIP() << "skipped: " << docker_availability.reason;                   \
    }                                                                              \
  } while (false)

TEST_F(DriversTest, ExecDriverRunsTheShellCommandInTheWorkDir) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("wexec", "exec");
  ASSERT_NE(w, nullptr);
  CommandResult r = Cli(Join(Join({"task", "wexec", "ignored/image:tag", "--id", "exec-1"},
                                  Small()),
                             {"--", "echo \"cwd=$(pwd)\"; echo out; echo err >&2; exit 0"}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  std::optional<Json> done = WaitForTaskState("exec-1", {"completed", "failed"}, seconds(15));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  CommandResult logs = Cli({"logs", "exec-1"});
  EXPECT_NE(logs.out.find(StrCat("cwd=", w->work_dir)), std::string::npos)
      << "the exec driver runs tasks in the work dir " << w->work_dir << "; " << logs.ToString();
  EXPECT_NE(logs.out.find("err"), std::string::npos) << logs.ToString();
  // The task's spool.
  const std::string spool = StrCat(w->work_dir, "/spool/exec-1.log");
  EXPECT_NE(ReadFile(spool).find("out"), std::string::npos) << "spool " << spool;
  // The master's address is kept for restarts.
  EXPECT_NE(ReadFile(StrCat(w->work_dir, "/master")).find(master_address()), std::string::npos);
}

TEST_F(DriversTest, DockerDriverRunsTheLocalTestImage) {
  REQUIRE_DOCKER();
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("wdocker", "docker");
  ASSERT_NE(w, nullptr);
  std::optional<Json> status = WorkerStatus("wdocker");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(JStr(JObj(*status, "info"), "driver"), "docker");

  CommandResult r = Cli(Join(Join({"task", "wdocker", kTestImage, "--id", "in-docker", "--env",
                                   "WHERE=container"},
                                  Small()),
                             {"--", "echo \"hello from the $WHERE\"; ls /bin/busybox"}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  std::optional<Json> done = WaitForTaskState("in-docker", {"completed", "failed"}, seconds(60));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  CommandResult logs = Cli({"logs", "in-docker"});
  EXPECT_NE(logs.out.find("hello from the container"), std::string::npos) << logs.ToString();
  EXPECT_NE(logs.out.find("/bin/busybox"), std::string::npos) << logs.ToString();

  CommandResult fails = Cli(Join(Join({"task", "wdocker", kTestImage, "--id", "docker-exit-5"},
                                      Small()),
                                 {"--", "exit 5"}));
  ASSERT_EQ(fails.exit_code, 0) << fails.ToString();
  std::optional<Json> failed =
      WaitForTaskState("docker-exit-5", {"completed", "failed"}, seconds(60));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(JStr(*failed, "status"), "failed") << failed->dump();
  EXPECT_EQ(JInt(*failed, "exit_code"), 5) << failed->dump();

  // Cancel stops the container.
  CommandResult slow = Cli(Join(Join({"task", "wdocker", kTestImage, "--id", "docker-cancel"},
                                     Small()),
                                {"--", "echo up; sleep 60"}));
  ASSERT_EQ(slow.exit_code, 0) << slow.ToString();
  ASSERT_TRUE(WaitForTaskState("docker-cancel", {"running"}, seconds(60)).has_value());
  CommandResult cancel = Cli({"cancel", "docker-cancel"});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.ToString();
  std::optional<Json> cancelled =
      WaitForTaskState("docker-cancel", {"cancelled", "completed", "failed"}, seconds(20));
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(JStr(*cancelled, "status"), "cancelled") << cancelled->dump();
  EXPECT_TRUE(WaitWorkerIdle("wdocker", seconds(10)));
}

// A docker-registry on 127.0.0.1 with its storage in the test's directory.
class LocalRegistry {
 public:
  // Starts it; `error` says why not when it returns false.
  bool Start(const TestDir& dir, std::string* error) {
    const std::string binary = FindProgram("docker-registry");
    if (binary.empty()) {
      *error = "docker-registry is not installed (Debian package docker-registry)";
      return false;
    }
    port_ = FreePort();
    const std::string config = dir.Sub("registry.yml");
    WriteFile(config, StrCat("version: 0.1\n"
                             "log:\n"
                             "  level: warn\n"
                             "storage:\n"
                             "  filesystem:\n"
                             "    rootdirectory: ", dir.Sub("registry-data", true), "\n"
                             "  delete:\n"
                             "    enabled: true\n"
                             "http:\n"
                             "  addr: 127.0.0.1:", port_, "\n"));
    ProcessOptions options;
    options.args = {binary, "serve", config};
    options.log_path = dir.Sub("registry.log");
    options.cwd = dir.path();
    process_ = Process::Start(options, error);
    if (process_ == nullptr) return false;
    if (!WaitUntil([&] { return PortAcceptsConnections(port_) || !process_->Running(); },
                   seconds(15)) ||
        !process_->Running()) {
      *error = StrCat("docker-registry did not listen on 127.0.0.1:", port_, ": ",
                      process_->LogTail(20));
      return false;
    }
    return true;
  }
  std::string host() const { return StrCat("127.0.0.1:", port_); }

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

TEST_F(DriversTest, DockerDriverPullsAnImageFromARegistry) {
  REQUIRE_DOCKER();
  LocalRegistry registry;
  std::string error;
  if (!registry.Start(dir(), &error)) {
    if (UnderCi()) GTEST_FAIL() << "CI=true and no registry: " << error;
    GTEST_SKIP() << "skipped: " << error;
  }
  const std::string docker = FindProgram("docker");
  const std::string remote = StrCat(registry.host(), "/cloudai-test:busybox");
  const std::string scratch = dir().Sub("cli");
  CommandResult tag = RunCommand({docker, "tag", kTestImage, remote}, scratch, seconds(30));
  ASSERT_EQ(tag.exit_code, 0) << tag.ToString();
  CommandResult push = RunCommand({docker, "push", remote}, scratch, seconds(120));
  ASSERT_EQ(push.exit_code, 0) << push.ToString();
  // Only the local tag goes; the engine no longer has an image by that name.
  CommandResult untag = RunCommand({docker, "rmi", remote}, scratch, seconds(30));
  ASSERT_EQ(untag.exit_code, 0) << untag.ToString();
  ASSERT_NE(RunCommand({docker, "image", "inspect", remote}, scratch, seconds(30)).exit_code, 0);

  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("wdocker", "docker"), nullptr);
  CommandResult r = Cli(Join(Join({"task", "wdocker", remote, "--id", "pulled"}, Small()),
                             {"--", "echo ran-the-pulled-image"}));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  std::optional<Json> done = WaitForTaskState("pulled", {"completed", "failed"}, seconds(90));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(JStr(*done, "status"), "completed") << done->dump();
  CommandResult logs = Cli({"logs", "pulled"});
  EXPECT_NE(logs.out.find("ran-the-pulled-image"), std::string::npos) << logs.ToString();
  EXPECT_EQ(RunCommand({docker, "image", "inspect", remote}, scratch, seconds(30)).exit_code, 0)
      << "the engine has the pulled image";

  // A name the registry does not have: the task fails, saying why.
  const std::string missing = StrCat(registry.host(), "/cloudai-test:no-such-tag");
  CommandResult r2 = Cli(Join(Join({"task", "wdocker", missing, "--id", "not-pullable"},
                                   Small()),
                              {"--", "true"}));
  ASSERT_EQ(r2.exit_code, 0) << r2.ToString();
  std::optional<Json> failed =
      WaitForTaskState("not-pullable", {"completed", "failed"}, seconds(60));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(JStr(*failed, "status"), "failed") << failed->dump();
  EXPECT_FALSE(JStr(*failed, "error").empty()) << failed->dump();
  EXPECT_TRUE(WaitWorkerIdle("wdocker", seconds(10)));

  RunCommand({docker, "rmi", remote}, scratch, seconds(30));
}

// A service started for an allocation under the Docker driver is reached on the worker's
// host at its port (the container's port is published there).
TEST_F(DriversTest, DockerServiceOfAnAllocationIsReachedAtItsEndpoint) {
  REQUIRE_DOCKER();
  const std::string catalog = dir().Sub("services.json");
  std::ofstream(catalog) << R"({"services": [{"name": "web", "docker_image": ")" << kTestImage
                         << R"(", "command": "httpd -f -p $PORT", "cpu": 100, "memory": 32}]})";
  ASSERT_TRUE(StartMaster({"--services-file", catalog, "--service-ports", "19300-19399",
                           "--service-idle-timeout", "0s"}));
  ASSERT_NE(StartRegisteredWorker("wdocker", "docker"), nullptr);
  std::optional<Json> a = CliJson(Join({"alloc", "request", "job-docker", "-service", "web"},
                                       Small()));
  ASSERT_TRUE(a.has_value());
  const std::string id = JStr(*a, "allocation_id");
  std::string endpoint;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<Json> got = CliJson({"alloc", "get", id});
        if (!got || (*got)["endpoints"].empty()) return false;
        endpoint = JStr((*got)["endpoints"][0], "endpoint");
        return endpoint.rfind("127.0.0.1:", 0) == 0 &&
               PortAcceptsConnections(std::atoi(endpoint.c_str() + 10));
      },
      seconds(60)))
      << "endpoint " << endpoint;
  EXPECT_EQ(endpoint, "127.0.0.1:19300");
  ASSERT_EQ(Cli({"alloc", "release", id}).exit_code, 0);
  std::optional<Json> cleanup = CliJson({"alloc", "cleanup"});
  ASSERT_TRUE(cleanup.has_value());
  EXPECT_EQ((*cleanup)["stopped_services"].size(), 1u) << cleanup->dump();
  EXPECT_TRUE(WaitUntil([&] { return !PortAcceptsConnections(19300); }, seconds(30)));
}

}  // namespace
}  // namespace cloudai::integration
