// Endpoint: where a CloudAI worker reaches its Docker engine.
//
// The engine listens on a unix-domain socket (/var/run/docker.sock by default) or, when
// DOCKER_HOST says so, on a TCP port. Endpoints are written the way DOCKER_HOST writes
// them: "unix:///var/run/docker.sock" or "tcp://host:2375".
//
// Thread safety: a value type; the free functions keep no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cloudai::worker::docker {

inline constexpr std::string_view kDefaultDockerSocket = "/var/run/docker.sock";
// Docker's port for plain-text TCP, used when a tcp:// endpoint names none.
inline constexpr uint16_t kDefaultDockerTcpPort = 2375;

struct Endpoint {
  enum class Kind { kUnix, kTcp };

  Kind kind = Kind::kUnix;
  std::string path;   // kUnix: absolute socket path
  std::string host;   // kTcp: host name or address (IPv6 without brackets)
  uint16_t port = 0;  // kTcp

  static Endpoint Unix(std::string path);
  static Endpoint Tcp(std::string host, uint16_t port);

  // "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "tcp://[::1]:2375".
  std::string ToString() const;
  // The Host header for requests: "docker" on a unix socket, "host:port" on TCP.
  std::string HostHeader() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses a DOCKER_HOST-style address: "unix:///path", "tcp://host[:port]" (an absolute
// path alone is taken as a unix socket). Other schemes (ssh://, npipe://, fd://) are
// refused with an error that names them.
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view address);

// The endpoint from $DOCKER_HOST when it is set and not empty, else the default socket.
absl::StatusOr<Endpoint> EndpointFromEnvironment();

}  // namespace cloudai::worker::docker
