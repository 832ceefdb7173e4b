// Task input: the bounds a submitted task must respect, checked before anything is
// queued or stored.
//
// Every client front end (gRPC, and later REST and MCP) hands the master a TaskRecord
// built from what the user sent; ValidateTaskInput() refuses it with INVALID_ARGUMENT
// naming the field and the limit when any field is malformed or out of bounds.
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "store/records.h"

namespace cloudai::master {

// Ids name files and containers on workers: a letter or digit, then [A-Za-z0-9._-].
inline constexpr size_t kMaxTaskIdLength = 128;
// Ids the master gives tasks submitted without one; users cannot choose ids with it.
inline constexpr char kGeneratedTaskIdPrefix[] = "task-";
inline constexpr size_t kMaxWorkerIdLength = 128;
inline constexpr size_t kMaxImageLength = 512;
inline constexpr size_t kMaxCommandLength = 64 * 1024;
inline constexpr size_t kMaxEnvEntries = 256;
inline constexpr size_t kMaxEnvNameLength = 256;
inline constexpr size_t kMaxEnvValueLength = 8 * 1024;
inline constexpr size_t kMaxAddressLength = 261;  // host (253) ':' port
inline constexpr int32_t kMaxPriority = 1000;     // priorities lie in [-1000, 1000]
inline constexpr int32_t kMaxRetries = 100;
inline constexpr int64_t kMaxTimeoutMs = int64_t{30} * 24 * 3600 * 1000;  // 30 days

// An id chosen by a user: 1 to `max_length` characters of [A-Za-z0-9._-], the first a
// letter or a digit.
absl::Status ValidateName(std::string_view value, size_t max_length, std::string_view field);
// "host:port" with a port in 1..65535.
absl::Status ValidateAddress(std::string_view value, std::string_view field);
// The fields a user sets: task_id (when given), user_id, docker_image, command, request,
// priority, max_retries, env, timeout_ms, target_worker_id (when given).
absl::Status ValidateTaskInput(const store::TaskRecord& task);

}  // namespace cloudai::master
