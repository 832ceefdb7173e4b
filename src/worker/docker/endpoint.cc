#include "worker/docker/endpoint.h"

#include <sys/un.h>

#include <charconv>
#include <cstdlib>

#include "common/strings.h"

namespace cloudai::worker::docker {

Endpoint Endpoint::Unix(std::string path) {
  Endpoint e;
  e.kind = Kind::kUnix;
  e.path = std::move(path);
  return e;
}

Endpoint Endpoint::Tcp(std::string host, uint16_t port) {
  Endpoint e;
  e.kind = Kind::kTcp;
  e.host = std::move(host);
  e.port = port;
  return e;
}

std::string Endpoint::ToString() const {
  if (kind == Kind::kUnix) return StrCat("unix://", path);
  return StrCat("tcp://", HostHeader());
}

std::string Endpoint::HostHeader() const {
  if (kind == Kind::kUnix) return "docker";
  if (host.find(':') != std::string::npos) return StrCat("[", host, "]:", int{port});
  return StrCat(host, ":", int{port});
}

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view address) {
  const std::string quoted = StrCat("\"", address, "\"");
  if (address.empty()) return absl::InvalidArgumentError("docker endpoint: empty address");
  std::string_view rest;
  if (address.front() == '/') {
    rest = address;
  } else if (address.starts_with("unix://")) {
    rest = address.substr(7);
  } else if (address.starts_with("tcp://")) {
    std::string_view hostport = address.substr(6);
    if (!hostport.empty() && hostport.back() == '/') hostport.remove_suffix(1);
    if (hostport.find('/') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("docker endpoint ", quoted, ": a tcp:// address takes no path"));
    }
    std::string_view host = hostport;
    std::string_view port_text;
    if (hostport.starts_with("[")) {
      const size_t close = hostport.find(']');
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            StrCat("docker endpoint ", quoted, ": unterminated [ in the host"));
      }
      host = hostport.substr(1, close - 1);
      std::string_view after = hostport.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') {
          return absl::InvalidArgumentError(
              StrCat("docker endpoint ", quoted, ": expected :port after ]"));
        }
        port_text = after.substr(1);
      }
    } else if (const size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port_text = hostport.substr(colon + 1);
    }
    if (host.empty()) {
      return absl::InvalidArgumentError(StrCat("docker endpoint ", quoted, ": no host"));
    }
    uint16_t port = kDefaultDockerTcpPort;
    if (!port_text.empty()) {
      unsigned value = 0;
      auto [end, ec] =
          std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
      if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
          value > 65535) {
        return absl::InvalidArgumentError(
            StrCat("docker endpoint ", quoted, ": port must be 1..65535"));
      }
      port = static_cast<uint16_t>(value);
    }
    return Endpoint::Tcp(std::string(host), port);
  } else {
    const size_t scheme_end = address.find("://");
    const std::string_view scheme =
        scheme_end == std::string_view::npos ? address : address.substr(0, scheme_end);
    return absl::InvalidArgumentError(StrCat("docker endpoint ", quoted, ": scheme \"", scheme,
                                             "\" is not supported (use unix:// or tcp://)"));
  }
  if (rest.empty() || rest.front() != '/') {
    return absl::InvalidArgumentError(
        StrCat("docker endpoint ", quoted, ": the socket path must be absolute"));
  }
  if (rest.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(StrCat("docker endpoint ", quoted,
                                             ": the socket path is longer than ",
                                             sizeof(sockaddr_un{}.sun_path) - 1, " bytes"));
  }
  return Endpoint::Unix(std::string(rest));
}

absl::StatusOr<Endpoint> EndpointFromEnvironment() {
  const char* docker_host = std::getenv("DOCKER_HOST");
  if (docker_host == nullptr || *docker_host == '\0') {
    return Endpoint::Unix(std::string(kDefaultDockerSocket));
  }
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(docker_host);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(StrCat("DOCKER_HOST: ", endpoint.status().message()));
  }
  return endpoint;
}

}  // namespace cloudai::worker::docker
