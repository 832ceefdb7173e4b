// Building a Task from what a user typed.
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
};

// Parses and checks `options`. The image must be non-empty and contain no whitespace.
absl::StatusOr<cloudai::v1::Task> BuildTask(const TaskOptions& options);

// "1500ms", "30s", "5m", "1h", "2h30m" or a bare number of seconds; "0" is zero.
// `field` names the input in errors.
absl::StatusOr<std::chrono::milliseconds> ParseTaskDuration(std::string_view text,
                                                            std::string_view field);

// A whole number in [min, max]; `field` names the input in errors.
absl::StatusOr<int64_t> ParseInteger(std::string_view text, std::string_view field, int64_t min,
                                     int64_t max);

// The shell command for /bin/sh -c. A single word is taken as a whole command line
// ("echo hi; sleep 1"); several words are an argument list and each is quoted again when
// it needs it ("sh", "-c", "exit 3" -> "sh -c 'exit 3'").
std::string JoinCommand(const std::vector<std::string>& words);

}  // namespace cloudai::client
