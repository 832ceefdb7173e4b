#include "master/http/http_frontend.h"

#include <iostream>

#include "common/strings.h"
#include "master/http/origin.h"
#include "master/http/json.h"
#include "master/http/rest_handlers.h"
#include "master/http/static_files.h"

namespace cloudai::master::http {

HttpFrontend::HttpFrontend(ClusterApi& api, HttpFrontendOptions options)
    : api_(api), options_(std::move(options)), feed_(metrics_, hub_), mcp_backend_(api) {
  mcp::HttpEndpointOptions mcp_options;
  mcp_options.origin_allowed = [policy = OriginPolicy(options_.allowed_origins)](
                                   std::string_view origin, const mcp::HttpRequest& request) {
    return policy.Allowed(origin, request.Header("host"));
  };
  mcp_options.log = [](const std::string& line) {
    std::cerr << "cloudai-master: mcp: " << line << std::endl;
  };
  mcp_ = std::make_unique<mcp::HttpEndpoint>(mcp_backend_, std::move(mcp_options));
  for (const char* method : {"POST", "GET", "DELETE"}) {
    router_.Add(method, "/mcp", [this](const HttpRequest& request) { return ServeMcp(request); });
  }
  AddRestRoutes(router_, api_);
  router_.Add("GET", "/health", [](const HttpRequest&) {
    return JsonResponse("{\"status\": \"ok\"}");
  });
  router_.Add("GET", "/metrics", [this](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = MetricsText();
    return response;
  });
  router_.Add("GET", "/", [](const HttpRequest&) { return ServeIndex(); });
  router_.Add("GET", "/static/{path...}", [](const HttpRequest& request) {
    if (std::optional<HttpResponse> file = ServeStatic(request.params.at("path"))) return *file;
    return ErrorResponse(404, "NOT_FOUND", StrCat("path: no such file: ", request.path));
  });
}

HttpFrontend::~HttpFrontend() { Stop(); }

HttpResponse HttpFrontend::ServeMcp(const HttpRequest& request) {
  if (absl::Status auth = AuthorizeRequest(api_, request); !auth.ok()) {
    HttpResponse refused = ErrorResponse(auth);
    refused.headers.emplace_back("WWW-Authenticate", "Bearer");
    return refused;
  }
  mcp::HttpRequest forward;
  forward.method = request.method;
  forward.path = request.path;
  for (const auto& [name, value] : request.headers) forward.headers[name] = value;
  forward.body = request.body;
  mcp::HttpResponse answer = mcp_->Handle(forward);
  HttpResponse response;
  response.status = answer.status;
  response.content_type = answer.content_type;
  response.body = std::move(answer.body);
  response.headers = std::move(answer.headers);
  return response;
}

std::string HttpFrontend::MetricsText() const {
  MetricsSnapshot snapshot;
  for (const WorkerView& worker : api_.cluster().ListWorkers()) {
    snapshot.workers.push_back(
        {worker.record.worker_id, worker.record.is_active, worker.record.total, worker.allocated});
  }
  ClusterCounts counts = api_.Counts();
  snapshot.queued = counts.queued;
  snapshot.scheduled = counts.scheduled;
  snapshot.running = counts.running;
  snapshot.queue_length = counts.queued;
  snapshot.websocket_clients = hub_.clients();
  const CapacityView capacity = api_.cluster().Capacity();
  snapshot.active_allocations = capacity.active_allocations;
  snapshot.pending_allocations = capacity.pending_allocations;
  snapshot.reserved = capacity.reserved;
  snapshot.services = capacity.services.size();
  return metrics_.Render(snapshot);
}

absl::Status HttpFrontend::Start() {
  feed_.Start();
  HttpServerOptions options;
  options.listen = options_.listen;
  options.origins = OriginPolicy(options_.allowed_origins);
  auto upgrade = [this](const HttpRequest& request) -> absl::StatusOr<WebSocketPlan> {
    if (absl::Status auth = AuthorizeRequest(api_, request); !auth.ok()) return auth;
    const std::vector<std::string> path = SplitPath(request.path);
    WebSocketPlan plan;
    if (path.size() == 2 && path[0] == "ws" && path[1] == "events") {
      plan.subscription.stream = Subscription::Stream::kEvents;
      return plan;
    }
    if (path.size() >= 2 && path.size() <= 3 && path[0] == "ws" && path[1] == "telemetry") {
      plan.subscription.stream = Subscription::Stream::kTelemetry;
      if (path.size() == 3) {
        if (path[2].empty()) return absl::InvalidArgumentError("worker_id: is empty");
        plan.subscription.worker_id = path[2];
      }
      std::string worker_id = plan.subscription.worker_id;
      plan.first = [this, worker_id] {
        std::vector<WorkerView> workers = api_.cluster().ListWorkers();
        if (!worker_id.empty()) {
          std::erase_if(workers, [&](const WorkerView& w) {
            return w.record.worker_id != worker_id;
          });
        }
        return ClusterFeed::SnapshotJson(workers);
      };
      return plan;
    }
    return absl::NotFoundError(StrCat("path: no WebSocket stream at ", request.path,
                                      "; use /ws/telemetry, /ws/telemetry/{worker_id} or "
                                      "/ws/events"));
  };
  server_ = std::make_unique<HttpServer>(std::move(options), router_, hub_, std::move(upgrade));
  return server_->Start();
}

void HttpFrontend::Stop() {
  if (server_) server_->Stop();
  feed_.Stop();
}

}  // namespace cloudai::master::http
