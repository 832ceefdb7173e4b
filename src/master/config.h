// MasterConfig: every setting of cloudai-master, from defaults, a .env file, the
// environment and command-line flags, later sources overriding earlier ones.
//
//   variable                      flag                      default
//   GRPC_PORT                     --grpc-port               :50051      ("[host]:port")
//   HTTP_PORT                     --http-port               127.0.0.1:8080
//   CLOUDAI_HTTP_ALLOWED_ORIGINS  --http-allowed-origins    none (comma-separated origins, e.g.
//                                                           https://ops.example.com, whose pages
//                                                           may call the HTTP API; docs/http.md)
//   CLOUDAI_STATE_DIR             --state-dir               ./cloudai-state
//   CLOUDAI_STORE                 --store                   sqlite:<state dir>/cloudai.db
//   CLOUDAI_MASTER_ID             --master-id               master-<hostname>
//   CLOUDAI_ADVERTISE_ADDRESS     --advertise-address       the gRPC listen host, or when that is
//                                                           0.0.0.0 the first non-loopback IPv4;
//                                                           with the gRPC port
//   CLOUDAI_SCHEDULER             --scheduler               round-robin
//   CLOUDAI_INACTIVITY_TIMEOUT    --inactivity-timeout      30s
//   CLOUDAI_LOST_GRACE            --lost-grace              60s
//   CLOUDAI_QUEUE_INTERVAL        --queue-interval          5s
//   CLOUDAI_MAX_LOG_BYTES         --max-log-bytes           1048576
//   CLOUDAI_SHELL                 --shell                   auto (auto|on|off)
//   CLOUDAI_SERVICES_FILE         --services-file           none (the service catalog, JSON;
//                                                           docs/allocations.md)
//   CLOUDAI_SERVICE_PORTS         --service-ports           9000-9099
//   CLOUDAI_SERVICE_IDLE_TIMEOUT  --service-idle-timeout    5m
//   CLOUDAI_ALLOCATION_DEFAULT_TTL --allocation-default-ttl 1h
//   CLOUDAI_ALLOCATION_MAX_TTL    --allocation-max-ttl      7d
//   CLOUDAI_ALLOCATION_SWEEP_INTERVAL --allocation-sweep-interval 5m
//
// The .env file is looked up as the seed's master does: ./.env, ../.env, ../../.env (the
// first found), or the path in --env-file. Lines are KEY=VALUE; '#' starts a comment;
// values may be quoted. Every value is validated; an error names the variable or flag
// and says what is accepted.
//
// Thread safety: a plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "master/allocation_input.h"

namespace cloudai::master {

struct MasterConfig {
  std::string grpc_listen = "0.0.0.0:50051";
  std::string http_listen = "127.0.0.1:8080";
  std::vector<std::string> http_allowed_origins;  // scheme://host[:port], lower case
  std::string state_dir = "./cloudai-state";
  std::string store_url;  // filled from state_dir when empty
  std::string master_id;
  std::string advertise_address;
  std::string scheduler = "round-robin";
  std::chrono::milliseconds inactivity_timeout{30'000};
  std::chrono::milliseconds lost_grace{60'000};
  std::chrono::milliseconds queue_interval{5'000};
  int64_t max_log_bytes = 1 << 20;
  // The `master> ` prompt on the master's own terminal: "auto" (when stdin and stdout are
  // terminals), "on" or "off".
  std::string shell = "auto";
  // Allocation TTLs and the service catalog (docs/allocations.md).
  AllocationSettings allocations;
  // Where each setting came from ("default", ".env file <path>", "environment", "flag").
  std::map<std::string, std::string> origin;
};

// Parses "1500ms", "30s", "5m", "1h", "2d" or a bare number of seconds. `field` names the input.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                        std::string_view field);
// "host:port", ":port" or "port" -> "host:port" (host defaults to `default_host`).
absl::StatusOr<std::string> ParseListenAddress(std::string_view text, std::string_view field,
                                               std::string_view default_host);
// KEY=VALUE lines; an error names the line number.
absl::StatusOr<std::map<std::string, std::string>> ParseDotEnv(std::string_view contents);

// Builds the configuration. `environ` is the process environment (a map, for tests);
// `args` the command line without the program name. Unknown flags are errors.
absl::StatusOr<MasterConfig> LoadMasterConfig(const std::map<std::string, std::string>& environ,
                                              const std::vector<std::string>& args);

// The flags' help text.
std::string MasterUsage();

}  // namespace cloudai::master
