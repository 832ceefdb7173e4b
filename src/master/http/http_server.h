// HttpServer: the master's HTTP/1.1 and WebSocket server (Boost.Beast, asynchronous).
//
// A small fixed pool of I/O threads runs every connection; handlers, which may block
// (a cancel waits for the worker; followed logs stream for as long as the task runs),
// run on a separate fixed pool of handler threads, and at most kMaxStreams streamed
// responses run at once (503 beyond). Limits, so that no input can harm the master:
// headers up to 16 KiB, bodies up to 4 MiB (413), 30 s to send a request, 60 s for a
// client to take each part of a response; malformed requests get 400 and the connection
// is closed. Requests with an Origin header that the OriginPolicy refuses get 403
// (WebSocket upgrades included).
//
// WebSocket upgrades go to `upgrade`, which answers the subscription for the path (or an
// error status, sent as an HTTP error); the connection then joins the hub. Beast answers
// the opening handshake; the frames after it are the server's own (RFC 6455): a message
// is framed once for every client, sent at once from the publishing thread when the
// client's socket takes it (a non-blocking send), else queued, and the queue written in
// one gathered write; pings are answered, a client's close is echoed.
//
// Thread safety: Start() and Stop() from one thread; the router, the upgrade function and
// the hub are used from the server's threads until Stop() returns.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "master/http/origin.h"
#include "master/http/router.h"
#include "master/http/websocket_hub.h"

namespace cloudai::master::http {

// What a WebSocket connection subscribes to, and its first message (may be null).
struct WebSocketPlan {
  Subscription subscription;
  std::function<std::string()> first;
};
using UpgradeHandler = std::function<absl::StatusOr<WebSocketPlan>(const HttpRequest&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int io_threads = 2;
  int handler_threads = 16;
  OriginPolicy origins;
};

class HttpServer {
 public:
  static constexpr int kMaxStreams = 8;

  HttpServer(HttpServerOptions options, const Router& router, WebSocketHub& hub,
             UpgradeHandler upgrade);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. UNAVAILABLE when the address cannot be bound.
  absl::Status Start();
  // The bound port (after Start()).
  int port() const { return port_; }
  // Stops accepting, closes every connection and joins the threads.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace cloudai::master::http
