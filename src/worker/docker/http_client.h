// HttpClient: a small blocking HTTP/1.1 client for the Docker Engine API, over a unix
// socket or TCP.
//
// Send() returns a whole response; Stream() hands the body of a successful (2xx) response
// to a callback as it arrives, for long answers (image pull progress, followed logs).
// Responses may use Content-Length or chunked transfer encoding. Every request has a
// deadline and can be cancelled through a std::stop_token; a cancelled or timed-out
// request closes its connection, so the server is never left half-read. Connections are
// kept alive and reused when the server allows it; a request that fails on a reused
// connection before any response byte arrives (the engine closed it while idle) is retried
// once on a fresh connection.
//
// Time: deadlines are real time (std::chrono::steady_clock), since they bound real I/O.
//
// Thread safety: every method may be called from any thread, concurrently; each request
// runs on a connection of its own, taken from the idle pool or opened for it. Callbacks
// run on the calling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "worker/docker/endpoint.h"

namespace cloudai::worker::docker {

struct HttpRequest {
  std::string method = "GET";
  // Origin-form target: path and query, e.g. "/v1.41/containers/json?all=1".
  std::string target;
  std::string body;
  // Sent with a non-empty body.
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Send(): the whole exchange; Stream(): until the response header has arrived.
  // Unset: the client's default; zero: no limit.
  std::optional<std::chrono::milliseconds> timeout;
  // Stream() only: the longest wait for more of the body (zero: no limit).
  std::chrono::milliseconds idle_timeout{0};
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  // Send(): the body. Stream(): the body of a non-2xx response only (its error text).
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
  // The value of a header (case-insensitive name); empty when absent.
  std::string Header(std::string_view name) const;
};

// Receives body bytes as they arrive. A non-OK status stops the request; Stream() then
// closes the connection and returns that status.
using BodyCallback = std::function<absl::Status(std::string_view data)>;

struct HttpClientOptions {
  Endpoint endpoint = Endpoint::Unix("/var/run/docker.sock");
  std::chrono::milliseconds default_timeout{30000};
  // Idle keep-alive connections kept for reuse.
  size_t max_idle_connections = 8;
  // The largest body Send() accepts (Stream() bodies are not buffered).
  size_t max_body_bytes = size_t{64} << 20;
  std::string user_agent = "cloudai-worker";
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads the whole response. Any HTTP status is a response (not an
  // error); errors are transport failures: Unavailable (cannot connect, connection lost,
  // malformed response), DeadlineExceeded, Cancelled, ResourceExhausted (body too big).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, std::stop_token stop = {});

  // Sends `request`; for a 2xx response, passes the body to `on_body` piece by piece as it
  // arrives and returns the response without body once the body has ended. A non-2xx
  // response is returned whole (its body is the engine's error), `on_body` not called.
  absl::StatusOr<HttpResponse> Stream(const HttpRequest& request, const BodyCallback& on_body,
                                      std::stop_token stop = {});

  const HttpClientOptions& options() const { return options_; }
  // Connections opened so far, and idle ones held now (for tests and metrics).
  int64_t connections_opened() const { return connections_opened_.load(); }
  size_t idle_connections() const;

 private:
  class Connection;
  struct Exchange;

  absl::StatusOr<HttpResponse> Execute(const HttpRequest& request, const BodyCallback* on_body,
                                       const std::stop_token& stop);
  absl::StatusOr<HttpResponse> ExecuteOn(Connection& conn, const HttpRequest& request,
                                         const BodyCallback* on_body, const std::stop_token& stop,
                                         Exchange& exchange);
  std::unique_ptr<Connection> TakeIdle();
  void ReturnIdle(std::unique_ptr<Connection> conn);

  const HttpClientOptions options_;
  std::atomic<int64_t> connections_opened_{0};
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// "GET /v1.41/containers/json": how errors name a request.
std::string DescribeRequest(const HttpRequest& request);

// Percent-encodes `value` for a query string (everything but unreserved characters).
std::string UrlEncode(std::string_view value);

}  // namespace cloudai::worker::docker
