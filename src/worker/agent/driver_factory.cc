#include "worker/agent/driver_factory.h"

#include "common/strings.h"
#include "worker/docker/docker_client.h"
#include "worker/driver/docker_driver.h"
#include "worker/driver/exec_driver.h"

namespace cloudai::worker {
namespace {

std::unique_ptr<ExecDriver> NewExecDriver(const std::string& work_dir, std::string* note) {
  ExecDriverOptions o;
  o.work_dir = work_dir;
  auto driver = std::make_unique<ExecDriver>(o);
  if (!driver->cgroups_enabled()) {
    *note = StrCat("; tasks run without cgroup limits: ", driver->cgroups_unavailable_reason());
  }
  return driver;
}

}  // namespace

absl::StatusOr<DriverChoice> MakeDriver(const AgentOptions& options, const std::string& work_dir) {
  DriverChoice choice;
  std::string note;
  if (options.driver == "exec") {
    choice.driver = NewExecDriver(work_dir, &note);
    choice.reason = StrCat("driver exec: requested with --driver exec", note);
    return choice;
  }
  absl::StatusOr<docker::DockerClientOptions> client_options;
  if (!options.docker_host.empty()) {
    absl::StatusOr<docker::Endpoint> endpoint = docker::ParseEndpoint(options.docker_host);
    if (!endpoint.ok()) {
      return absl::InvalidArgumentError(
          StrCat("--docker-host: ", std::string(endpoint.status().message())));
    }
    client_options = docker::DockerClientOptions{};
    client_options->endpoint = *endpoint;
  } else {
    client_options = docker::DockerClient::OptionsFromEnvironment();
    if (!client_options.ok()) {
      if (options.driver == "docker") {
        return absl::InvalidArgumentError(
            StrCat("DOCKER_HOST: ", std::string(client_options.status().message())));
      }
      choice.driver = NewExecDriver(work_dir, &note);
      choice.reason = StrCat("driver exec: DOCKER_HOST is unusable (",
                             std::string(client_options.status().message()), ")", note);
      return choice;
    }
  }
  const std::string where = client_options->endpoint.ToString();
  // A short ping, so that an engine that does not answer does not hold up the start.
  docker::DockerClientOptions ping_options = *client_options;
  ping_options.request_timeout = std::chrono::milliseconds(3000);
  docker::DockerClient pinger(ping_options);
  absl::Status ping = pinger.Ping();
  std::string version;
  if (ping.ok()) {
    absl::StatusOr<docker::VersionInfo> v = pinger.Version();
    if (v.ok()) version = StrCat(" (Docker ", v->version, ")");
  }
  if (!ping.ok()) {
    if (options.driver == "docker") {
      return absl::UnavailableError(StrCat("--driver docker: no Docker engine answers at ",
                                           where, ": ", std::string(ping.message())));
    }
    choice.driver = NewExecDriver(work_dir, &note);
    choice.reason = StrCat("driver exec: no Docker engine answers at ", where, " (",
                           std::string(ping.message()), ")", note);
    return choice;
  }
  DockerDriverOptions docker_options;
  docker_options.keep_containers_on_shutdown = true;
  docker_options.owner = options.worker_id;
  choice.driver = std::make_unique<DockerDriver>(
      std::make_shared<docker::DockerClient>(*client_options), docker_options);
  choice.reason = StrCat("driver docker: the Docker engine at ", where, " answered", version,
                         options.driver == "docker" ? " (requested with --driver docker)" : "");
  return choice;
}

}  // namespace cloudai::worker
