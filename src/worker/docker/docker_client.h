// DockerClient: the part of the Docker Engine API that the CloudAI worker's docker driver
// uses: version negotiation, images (exists, pull with progress), and the container life
// cycle (create, start, wait, stop, kill, remove, inspect, list by label, logs).
//
// Requests go over HttpClient to the engine's socket (DOCKER_HOST or
// /var/run/docker.sock). Paths carry the API version agreed with the engine: on first use
// the client asks GET /version and speaks min(kMaxApiVersion, the engine's ApiVersion),
// refusing an engine whose MinAPIVersion is above what CloudAI speaks.
//
// Errors say what failed: the request, the HTTP status and the engine's own "message",
// e.g. "docker POST /v1.41/containers/create: HTTP 404 Not Found: No such image: x:1".
// HTTP statuses map to codes: 400 InvalidArgument, 401/403 PermissionDenied, 404 NotFound,
// 409 FailedPrecondition, 501 Unimplemented, 503 Unavailable, other 5xx Internal; an
// unreachable engine is Unavailable, a timeout DeadlineExceeded, a cancelled call
// Cancelled.
//
// Thread safety: every method may be called from any thread, concurrently (each call
// uses a connection of its own). Long calls (PullImage, WaitContainer, Logs with follow)
// take a std::stop_token; requesting stop ends them promptly with Cancelled. Callbacks run
// on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "worker/docker/container_spec.h"
#include "worker/docker/endpoint.h"
#include "worker/docker/http_client.h"
#include "worker/docker/log_demuxer.h"
#include "worker/docker/pull_progress.h"

namespace cloudai::worker::docker {

// The newest Engine API version CloudAI speaks (Docker 20.10), and the oldest it accepts
// (Docker 1.13, the first with NanoCpus). GPU device requests need 1.40 (Docker 19.03).
inline constexpr std::string_view kMaxApiVersion = "1.41";
inline constexpr std::string_view kMinApiVersion = "1.25";
inline constexpr std::string_view kDeviceRequestsApiVersion = "1.40";

struct DockerClientOptions {
  Endpoint endpoint = Endpoint::Unix(std::string(kDefaultDockerSocket));
  // The highest API version to use; lowered to the engine's when that is older.
  std::string api_version = std::string(kMaxApiVersion);
  // For short calls (everything but the streams, waits and stops).
  std::chrono::milliseconds request_timeout{30000};
  // Pulls: the longest silence between two progress lines (zero: no limit).
  std::chrono::milliseconds pull_idle_timeout{300000};
  size_t max_idle_connections = 8;
};

struct VersionInfo {
  std::string version;          // "20.10.24+dfsg1"
  std::string api_version;      // the newest the engine speaks, "1.41"
  std::string min_api_version;  // the oldest it speaks, "1.12"
  std::string os;
  std::string arch;
  std::string kernel_version;
};

struct ContainerState {
  std::string status;  // "created", "running", "paused", "restarting", "removing",
                       // "exited" or "dead"
  bool running = false;
  bool oom_killed = false;
  int64_t exit_code = 0;
  int64_t pid = 0;
  std::string error;       // the engine's error starting the container, if any
  std::string started_at;  // RFC 3339 as the engine gives it
  std::string finished_at;
  int64_t started_at_ms = 0;   // Unix ms; 0 when it never started
  int64_t finished_at_ms = 0;  // Unix ms; 0 when it has not finished
};

struct ContainerInfo {
  std::string id;
  std::string name;   // without the leading '/'
  std::string image;  // as the spec named it (Config.Image)
  ContainerState state;
  std::map<std::string, std::string> labels;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  bool tty = false;
  int64_t nano_cpus = 0;     // HostConfig.NanoCpus
  int64_t memory_bytes = 0;  // HostConfig.Memory
  std::string network_mode;
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // without the leading '/'
  std::string image;
  std::string state;   // "running", "exited", ...
  std::string status;  // "Up 2 minutes", "Exited (3) 5 seconds ago"
  std::map<std::string, std::string> labels;
  int64_t created_unix_s = 0;
};

struct ListContainersOptions {
  // "key" (the label is present) or "key=value"; every one must match.
  std::vector<std::string> labels;
  bool all = true;  // stopped containers too
};

struct LogsOptions {
  bool follow = false;        // keep streaming until the container stops
  int64_t since_unix_ms = 0;  // only lines after this time; 0: from the start
  bool include_stdout = true;
  bool include_stderr = true;
  bool timestamps = false;  // prefix each line with its RFC 3339 time
  bool tty = false;         // the container has a TTY: the stream is raw, all "stdout"
};

// Parses an RFC 3339 time ("2024-05-01T12:00:00.123456789Z", offsets allowed) to Unix
// milliseconds; 0 for Go's zero time ("0001-01-01T00:00:00Z") or an empty string.
absl::StatusOr<int64_t> ParseDockerTime(std::string_view text);

// Compares API versions numerically ("1.9" < "1.41"): <0, 0 or >0.
int CompareApiVersions(std::string_view a, std::string_view b);

class DockerClient {
 public:
  explicit DockerClient(DockerClientOptions options);
  ~DockerClient();

  // Options with the endpoint from the environment (DOCKER_HOST) and defaults otherwise.
  static absl::StatusOr<DockerClientOptions> OptionsFromEnvironment();

  // GET /_ping: OK when the engine answers.
  absl::Status Ping(std::stop_token stop = {});
  // GET /version.
  absl::StatusOr<VersionInfo> Version(std::stop_token stop = {});
  // Agrees on the API version (done on first use anyway; again after a failure) and
  // returns it.
  absl::StatusOr<std::string> NegotiateApiVersion(std::stop_token stop = {});
  // The agreed version; empty before negotiation.
  std::string api_version() const;

  // Whether the engine has image `ref` locally.
  absl::StatusOr<bool> ImageExists(std::string_view ref);
  // Pulls `ref` ("busybox", "busybox:1.36", "host:5000/team/app@sha256:...") and reports
  // each progress line. An error in the middle of the stream is an error, with the
  // engine's message.
  absl::Status PullImage(std::string_view ref, const PullProgressCallback& on_progress,
                         std::stop_token stop = {});

  // Creates a container from `spec` (see container_spec.h); returns its id.
  absl::StatusOr<std::string> CreateContainer(const ContainerSpec& spec);
  // Starts it; starting a running container is not an error.
  absl::Status StartContainer(std::string_view id);
  // Waits until the container is not running and returns its exit code. Call it after
  // StartContainer (a created, never-started container counts as not running). No time
  // limit: use `stop` to give up.
  absl::StatusOr<int64_t> WaitContainer(std::string_view id, std::stop_token stop = {});
  // Sends SIGTERM, then SIGKILL after `grace`; stopping a stopped container is not an
  // error.
  absl::Status StopContainer(std::string_view id, std::chrono::seconds grace);
  // Sends `signal` ("SIGKILL", "SIGTERM", "9"); FailedPrecondition when not running.
  absl::Status KillContainer(std::string_view id, std::string_view signal = "SIGKILL");
  // Removes the container and its anonymous volumes; `force` kills it first if running.
  absl::Status RemoveContainer(std::string_view id, bool force);
  absl::StatusOr<ContainerInfo> InspectContainer(std::string_view id);
  absl::StatusOr<std::vector<ContainerSummary>> ListContainers(
      const ListContainersOptions& options);
  // Streams the container's logs to `on_data`, stdout and stderr separated, until the
  // end of the logs (with follow: until the container stops, or `stop`).
  absl::Status Logs(std::string_view id, const LogsOptions& options, const LogCallback& on_data,
                    std::stop_token stop = {});

  HttpClient& http() { return http_; }
  const DockerClientOptions& options() const { return options_; }

 private:
  // "/v1.41" + path, negotiating first when needed.
  absl::StatusOr<std::string> VersionedTarget(std::string_view path_and_query,
                                              const std::stop_token& stop);
  // Sends a versioned request; a non-2xx answer other than those in `accept` is an error.
  absl::StatusOr<HttpResponse> Call(std::string_view method, std::string_view path_and_query,
                                    std::string body,
                                    std::optional<std::chrono::milliseconds> timeout,
                                    std::initializer_list<int> accept = {},
                                    std::stop_token stop = {});

  const DockerClientOptions options_;
  HttpClient http_;
  mutable std::mutex mu_;
  std::string api_version_;  // guarded by mu_; empty until negotiated
};

// The error for a non-2xx answer: "docker <request>: HTTP <status> <reason>: <message>".
absl::Status DockerError(const HttpRequest& request, const HttpResponse& response);

}  // namespace cloudai::worker::docker
