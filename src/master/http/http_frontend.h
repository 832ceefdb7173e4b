// HttpFrontend: the master's whole HTTP side put together — the router with the REST
// API, /health, /metrics, the dashboard's files and the WebSocket streams; the hub, the
// metrics, the cluster feed (the cluster's observer) and the server.
//
// Use: construct, pass feed() to Cluster::SetObserver before the cluster is used,
// Start(), and Stop() before the cluster goes away.
//
// Thread safety: Start() and Stop() from one thread; the rest runs on the server's and
// the feed's threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "master/cluster_api.h"
#include "master/mcp_backend.h"
#include "master/http/cluster_feed.h"
#include "master/http/http_server.h"
#include "master/http/metrics.h"
#include "master/http/router.h"
#include "master/http/websocket_hub.h"
#include "mcp/http_endpoint.h"

namespace cloudai::master::http {

struct HttpFrontendOptions {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> allowed_origins;
};

class HttpFrontend {
 public:
  HttpFrontend(ClusterApi& api, HttpFrontendOptions options);
  ~HttpFrontend();

  ClusterObserver& feed() { return feed_; }
  absl::Status Start();
  int port() const { return server_ ? server_->port() : 0; }
  void Stop();

  // The /metrics text now.
  std::string MetricsText() const;

 private:
  HttpResponse ServeMcp(const HttpRequest& request);

  ClusterApi& api_;
  HttpFrontendOptions options_;
  Metrics metrics_;
  WebSocketHub hub_;
  ClusterFeed feed_;
  Router router_;
  // The MCP tools on /mcp (Streamable HTTP; docs/mcp.md), over the same ClusterApi.
  ClusterApiBackend mcp_backend_;
  std::unique_ptr<mcp::HttpEndpoint> mcp_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace cloudai::master::http
