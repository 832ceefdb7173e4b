// The admin token: the shared secret every ClusterService call must carry.
//
// Created at the master's first start in `<state dir>/admin.token` (64 hex digits from
// the kernel's random source, mode 0600) and kept across restarts. The CLI on the same
// machine reads the file; elsewhere users pass it in CLOUDAI_TOKEN. Calls carry it as
// the gRPC metadata "authorization: Bearer <token>".
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cloudai::master {

// The file's path inside a state directory.
std::string AdminTokenPath(std::string_view state_dir);
// Reads the token from the state directory, creating the directory (0700) and the token
// (0600) when missing. A file that exists but does not hold a token is an error.
absl::StatusOr<std::string> LoadOrCreateAdminToken(std::string_view state_dir);
// Whether an "authorization" metadata value carries `token` ("Bearer <token>"),
// compared in constant time.
bool BearerMatches(std::string_view header, std::string_view token);

}  // namespace cloudai::master
