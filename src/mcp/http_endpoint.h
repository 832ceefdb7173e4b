// The MCP Streamable HTTP transport (protocol 2025-06-18 and 2025-11-25), independent of
// any HTTP library: the master's HTTP server hands each request of its MCP endpoint
// (`/mcp`) to HttpEndpoint::Handle() as a plain value and sends back the answer.
//
// What it answers:
//   POST  one JSON-RPC message in the body (application/json).
//         initialize without Mcp-Session-Id: a new session; 200 with the result and the
//           session's id in the `Mcp-Session-Id` header (64 hex digits from the system's
//           random source).
//         any other message needs that header: 400 when it is missing, 404 when the
//           session is unknown, ended or expired (the client then initializes again).
//         a request: 200 application/json with the JSON-RPC response (no SSE streams).
//         a notification or response: 202 with no body (400 with an error if invalid).
//         body not JSON: 400 with -32700; a batch array: 400 with -32600; a body over
//           max_body_bytes: 413; a Content-Type other than application/json: 415; an
//           Accept header that allows neither application/json nor */*: 406.
//         `MCP-Protocol-Version` (optional; the session's negotiated version otherwise):
//           400 when it names a version this server does not speak.
//   DELETE  ends the session named by Mcp-Session-Id: 204 (400 / 404 as above).
//   GET, other methods  405 with `Allow: POST, DELETE` (no server-initiated stream).
// A request with an `Origin` header the origin check refuses gets 403 whatever its method
// (DNS rebinding protection). Error answers carry a JSON-RPC error body with id null.
// Authentication (the admin token) is the caller's job, before Handle().
//
// Sessions: at most max_sessions (the least recently used is ended to make room); one
// unused for session_idle_timeout ends.
//
// Thread safety: Handle() may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/backend.h"
#include "mcp/server.h"

namespace cloudai::mcp {

// Orders header names without regard to ASCII case.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

using HttpHeaders = std::map<std::string, std::string, CaseInsensitiveLess>;

struct HttpRequest {
  std::string method;   // "POST", "GET", "DELETE", ... (compared without case)
  std::string path;     // informational; the caller routes
  HttpHeaders headers;  // looked up without case
  std::string body;

  // The header's value; nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // "application/json", or empty with an empty body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type

  // The header's value (name compared without case); nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpEndpointOptions {
  ServerOptions server;
  size_t max_sessions = 1000;
  std::chrono::milliseconds session_idle_timeout = std::chrono::hours(1);
  size_t max_body_bytes = size_t{4} << 20;
  // Asked for each request that carries an Origin header: true to serve it. Unset: only
  // an origin that is the request's own host, "http://" or "https://" + its Host header.
  std::function<bool(std::string_view origin, const HttpRequest& request)> origin_allowed;
  // Monotonic milliseconds for session idleness; unset: std::chrono::steady_clock.
  std::function<int64_t()> now_ms;
  // Receives one line per session started or ended; unset: nowhere.
  std::function<void(const std::string&)> log;
};

class HttpEndpoint {
 public:
  using Request = HttpRequest;
  using Response = HttpResponse;

  explicit HttpEndpoint(Backend& backend, HttpEndpointOptions options = {});
  ~HttpEndpoint();

  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Answers one HTTP request to the MCP endpoint. Never throws.
  HttpResponse Handle(const HttpRequest& request);

  // Live sessions.
  size_t session_count() const;

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    int64_t last_used_ms = 0;
  };

  HttpResponse Post(const HttpRequest& request);
  HttpResponse Delete(const HttpRequest& request);
  bool OriginAllowed(std::string_view origin, const HttpRequest& request) const;
  int64_t NowMs() const;
  // The live session `id`, marked used now; nullptr when there is none.
  std::shared_ptr<Session> Find(const std::string& id);
  std::string Add(std::shared_ptr<Session> session);
  // Ends sessions idle for longer than the timeout. Caller holds mu_.
  void SweepLocked(int64_t now);
  void Log(const std::string& line) const;

  Backend& backend_;
  const HttpEndpointOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;  // guarded by mu_
  int64_t last_sweep_ms_ = 0;              // guarded by mu_
};

// A new session id: 32 bytes from /dev/urandom as 64 lower-case hex digits.
std::string NewSessionId();

}  // namespace cloudai::mcp
