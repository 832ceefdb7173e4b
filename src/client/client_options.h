// ClientOptions: where a CloudAI client finds the master and the admin token.
//
// Every client of ClusterService (the `cloudai` command, the interactive shell, the MCP
// server) resolves the same way:
//   master   --master, else CLOUDAI_MASTER, else localhost:50051
//   token    --token, else --token-file, else CLOUDAI_TOKEN,
//            else $CLOUDAI_STATE_DIR/admin.token, else ./cloudai-state/admin.token
// A token read from a file or the environment has surrounding whitespace trimmed. When no
// token is found the error names every place that was looked at.
//
// Thread safety: free functions; ResolveClientOptions reads files and the environment
// through the lookup it is given and keeps no state.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace cloudai::client {

inline constexpr char kDefaultMasterAddress[] = "localhost:50051";
inline constexpr std::chrono::milliseconds kDefaultCallTimeout{10'000};

// What the user gave explicitly (flags); unset members fall back to the environment.
struct ConnectionFlags {
  std::optional<std::string> master;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
};

struct ClientOptions {
  std::string master_address = kDefaultMasterAddress;
  std::string token;
  // Where the token came from, for messages: "--token", "CLOUDAI_TOKEN",
  // "--token-file /path", "/state/admin.token", ...
  std::string token_source;
  // Deadline of each unary call and of a log stream that does not follow.
  std::chrono::milliseconds call_timeout = kDefaultCallTimeout;
};

// Reads one environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

// Resolves the master address and the token. Errors: INVALID_ARGUMENT for an empty
// --master or an empty token; NOT_FOUND when no token was found anywhere (the message
// lists where it looked); FAILED_PRECONDITION when a named token file cannot be read.
absl::StatusOr<ClientOptions> ResolveClientOptions(const ConnectionFlags& flags,
                                                   const EnvLookup& env = ProcessEnv());

// Reads a token file: its contents without surrounding whitespace. NOT_FOUND when the file
// does not exist, FAILED_PRECONDITION when it cannot be read or holds only whitespace.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace cloudai::client
