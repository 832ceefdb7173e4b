// Building a Task, or an AllocationRequest, from what a user typed.
//
// TaskOptions holds the user-facing values as text, exactly as typed on a command line
// or sent by a tool (`-cpu_cores 1.5`, `-mem 2`, `--timeout 30s`, `--env K=V`); BuildTask
// parses and checks them and fills a v1::Task. Defaults are seed 001's: 1.0 CPU core,
// 0.5 GB memory, 1.0 GB storage, 0 GPUs. Resource values are read by common/quantity.h, so
// bare numbers are cores / GB and units are accepted ("500m", "512Mi", "4GiB").
//
// Every error is INVALID_ARGUMENT and starts with the flag's name, e.g.
// `-mem: "abc" is not a number ...` or `--max-retries: -1 is negative`.
//
// Thread safety: free functions without shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cloudai/v1/cluster.pb.h"

namespace cloudai::client {

inline constexpr char kDefaultCpuCores[] = "1.0";
inline constexpr char kDefaultMemoryGb[] = "0.5";
inline constexpr char kDefaultStorageGb[] = "1.0";
inline constexpr char kDefaultGpuCores[] = "0";

struct TaskOptions {
  std::string image;             // required
  std::string command;           // empty: the image's default command
  std::string target_worker_id;  // set for a direct assignment
  std::string task_id;           // --id; empty: the master assigns one
  std::string user_id;
  std::string cpu_cores = kDefaultCpuCores;  // -cpu_cores
  std::string memory = kDefaultMemoryGb;     // -mem
  std::string storage = kDefaultStorageGb;   // -storage
  std::string gpu_cores = kDefaultGpuCores;  // -gpu_cores
  std::string priority;                      // --priority; empty: 0
  std::string max_retries;                   // --max-retries; empty: 0
  std::string timeout;                       // --timeout; empty: no limit
  std::vector<std::string> env;              // --env K=V, in order; a later K wins
  std::string allocation_id;                 // --alloc; empty: the general pool
};

// An allocation request as typed (`cloudai alloc request`, docs/allocations.md). Empty
// strings leave the master's defaults: 1 slot, normal priority, its default TTL. When no
// size is given at all, per_worker stays zero and the master picks its default slot (1
// core, 2 GiB, 1 GiB storage); when some of it is given, the rest is 1 core, 2 GB, 1 GB
// storage (what a task submitted with the default -storage needs), no GPU.
struct AllocationOptions {
  std::string job_id;                 // required
  std::string workers;                // --workers: 1 to 1000
  std::string cpu_cores;              // -cpu_cores
  std::string memory;                 // -mem: GB, or with a unit
  std::string storage;                // -storage
  std::string gpu_cores;              // -gpu_cores
  std::string priority;               // --priority: low, normal, high, critical
  std::string ttl;                    // --ttl: a duration, e.g. 90s, 10m, 1h, 2d
  std::vector<std::string> services;  // --service NAME, repeatable
  std::vector<std::string> metadata;  // --meta K=V, repeatable; a later K wins
  bool wait = true;                   // false: --nowait
};

inline constexpr char kDefaultSlotCpuCores[] = "1";
inline constexpr char kDefaultSlotMemoryGb[] = "2";
inline constexpr int64_t kMaxAllocationWorkers = 1000;

// Parses and checks `options`. Errors are INVALID_ARGUMENT and start with the flag's name
// (`job_id:` for the job id).
absl::StatusOr<cloudai::v1::AllocationRequest> BuildAllocationRequest(
    const AllocationOptions& options);

// Allocation priorities, lowest first.
bool IsAllocationPriority(std::string_view priority);

// Parses and checks `options`. The image must be non-empty and contain no whitespace.
absl::StatusOr<cloudai::v1::Task> BuildTask(const TaskOptions& options);

// "1500ms", "30s", "5m", "1h", "2d", "2h30m" or a bare number of seconds; "0" is zero.
// At most 365 days. `field` names the input in errors.
absl::StatusOr<std::chrono::milliseconds> ParseTaskDuration(std::string_view text,
                                                            std::string_view field);

// A duration as ParseTaskDuration reads it, in whole seconds, at least `min_seconds`
// ("90s", "10m", "1h", "2d", "3600"); "1500ms" is refused as not whole seconds.
absl::StatusOr<int64_t> ParseDurationSeconds(std::string_view text, std::string_view field,
                                             int64_t min_seconds = 1);

// A whole number in [min, max]; `field` names the input in errors.
absl::StatusOr<int64_t> ParseInteger(std::string_view text, std::string_view field, int64_t min,
                                     int64_t max);

// The shell command for /bin/sh -c. A single word is taken as a whole command line
// ("echo hi; sleep 1"); several words are an argument list and each is quoted again when
// it needs it ("sh", "-c", "exit 3" -> "sh -c 'exit 3'").
std::string JoinCommand(const std::vector<std::string>& words);

}  // namespace cloudai::client
