// Allocation input: the master's allocation settings and service catalog, and the
// checks a request for an allocation must pass before anything is reserved or stored
// (docs/allocations.md lists the bounds).
//
// Thread safety: value types and free functions without shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/resources.h"
#include "store/records.h"

namespace cloudai::master {

// The bounds are the store's (store/records.h).
using store::kMaxAllocationServices;
using store::kMaxAllocationWorkers;
using store::kMaxMetadataEntries;
using store::kMaxMetadataKeyLength;
using store::kMaxMetadataValueLength;
inline constexpr char kAllocationIdPrefix[] = "alloc-";

// A named long-running service of the catalog (seed 003's "MCP servers").
struct ServiceDefinition {
  std::string name;
  std::string docker_image;
  std::string command;  // may use $PORT, set in the task's environment
  Resources request = Resources::Of(250, 256);
  std::map<std::string, std::string> env;
};

struct AllocationSettings {
  std::chrono::milliseconds default_ttl{std::chrono::hours(1)};
  std::chrono::milliseconds max_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds sweep_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds service_idle_timeout{std::chrono::minutes(5)};
  int32_t service_port_min = 9000;
  int32_t service_port_max = 9099;
  // 1 core, 2 GiB (seed 003), and the 1 GiB of storage `cloudai submit` asks by default.
  Resources default_slot = Resources::Of(1000, 2048, 1024);
  std::map<std::string, ServiceDefinition, std::less<>> services;  // the catalog, by name
};

// What a client asks for (the fields of v1::AllocationRequest, in store units).
struct AllocationAsk {
  std::string job_id;
  std::vector<std::string> services;
  int32_t workers = 0;            // 0: 1
  std::string priority;           // empty: normal
  int64_t ttl_seconds = 0;        // 0: the default
  Resources per_worker;           // zero: the default slot
  std::map<std::string, std::string> metadata;
  bool wait = true;
};

// An allocation id as a client names one: "alloc-" and a name (ValidateName's rules, at
// most 64 characters). INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateAllocationId(std::string_view id, std::string_view field);

// Checks `ask` and fills in the defaults: a record in state pending with job_id,
// priority, workers, per_worker, services (duplicates dropped), metadata, wait and
// ttl_ms set; ids and times are left to the caller. INVALID_ARGUMENT naming the field
// and the limit otherwise.
absl::StatusOr<store::AllocationRecord> ValidateAllocationAsk(const AllocationAsk& ask,
                                                              const AllocationSettings& settings);

// Parses a service catalog in its JSON form:
//   {"services": [{"name": "echo", "docker_image": "...", "command": "...",
//                  "cpu": 250, "memory": 256, "env": {"K": "V"}}]}
// INVALID_ARGUMENT naming the entry and field otherwise.
absl::StatusOr<std::map<std::string, ServiceDefinition, std::less<>>> ParseServiceCatalog(
    std::string_view json);

}  // namespace cloudai::master
