// AgentOptions: every setting of cloudai-worker, and the parser of its command line
// (docs/cluster.md lists the flags).
//
//   --id ID                    worker id                        hostname
//   --port N                   first port tried (0: any)        50052, then the next 100
//   --listen-host H            address the server binds         0.0.0.0
//   --advertise-host H         host put in worker_ip            first non-loopback IPv4
//   --driver D                 auto | docker | exec             auto
//   --work-dir DIR             spools, exec cwd, master file    ./cloudai-worker-<id>
//   --master HOST:PORT         register with it at start        (<work-dir>/master)
//   --heartbeat-interval T     "200ms", "5s", "1m"; bare: s     5s
//   --docker-host URL          Docker endpoint                  $DOCKER_HOST or the socket
//   --max-log-bytes N          log bytes in a completion report 1048576
//
// Flags are written "--flag value" or "--flag=value". Errors name the flag.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudai::worker {

// The largest --max-log-bytes: a report must stay under gRPC's default 4 MiB message limit.
inline constexpr int64_t kMaxReportLogBytes = int64_t{3} << 20;

struct AgentOptions {
  std::string worker_id;
  int port = 50052;
  int port_attempts = 101;  // the first port and the next 100
  std::string listen_host = "0.0.0.0";
  std::string advertise_host;
  std::string driver = "auto";
  std::string work_dir;
  std::string master_address;
  std::chrono::milliseconds heartbeat_interval{5000};
  std::string docker_host;
  int64_t max_log_bytes = int64_t{1} << 20;

  // Tunables without flags (tests shorten them).
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds rpc_timeout{10000};
  // Finished tasks stay known (logs readable, duplicates recognised) this long, at most
  // this many of them.
  std::chrono::milliseconds finished_ttl{3600 * 1000};
  size_t max_finished = 10000;
};

struct ParsedFlags {
  AgentOptions options;
  bool help = false;
};

// Parses the arguments after the program name and fills the defaults that depend on the
// host (id, advertise host, work dir). An InvalidArgument error names the flag.
absl::StatusOr<ParsedFlags> ParseAgentFlags(const std::vector<std::string>& args);

// The --help text.
std::string AgentUsage();

// "1500ms", "30s", "5m", "1h" or a bare number of seconds; > 0. `flag` names the input.
absl::StatusOr<std::chrono::milliseconds> ParseAgentDuration(std::string_view text,
                                                             std::string_view flag);

// Worker and task ids: 1 to 128 characters of [A-Za-z0-9_.-], starting with a letter or
// digit (they become file and container names). An error names `field`.
absl::Status ValidateId(std::string_view id, std::string_view field);

}  // namespace cloudai::worker
