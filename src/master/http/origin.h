// The master's Origin check (docs/http.md, "Access"): a request that carries an Origin
// header is served only when that origin is the master's own (http://<Host header>) or
// one of the configured allowed origins. There is no wildcard.
//
// Thread safety: an immutable value after construction; Allowed() may be called from any
// thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cloudai::master::http {

class OriginPolicy {
 public:
  // `allowed`: origins such as "https://ops.example.com:8443" (scheme://host[:port]);
  // compared without case and without a trailing '/'.
  explicit OriginPolicy(std::vector<std::string> allowed = {});

  // Whether a request with these headers may be served: true without an Origin header.
  bool Allowed(std::optional<std::string_view> origin, std::optional<std::string_view> host) const;

  // Splits a comma-separated list ("a, b") into normalized origins, skipping empties.
  static std::vector<std::string> ParseList(std::string_view list);
  // Lower case, without surrounding spaces and a trailing '/'; default ports dropped
  // (":80" for http, ":443" for https).
  static std::string Normalize(std::string_view origin);

 private:
  std::vector<std::string> allowed_;  // normalized
};

}  // namespace cloudai::master::http
