// The master's HTTP side against a real master and a real worker (exec driver),
// following docs/http.md: /health, the token and Origin checks, REST tasks (submit,
// state, logs, events, cancel, malformed bodies), the WebSocket streams /ws/telemetry and
// /ws/events, and /metrics (its text format, `promtool check metrics`, and a real
// Prometheus server scraping it).
//
// The HTTP and WebSocket clients here use Boost.Beast; every wait is bounded.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// ---- a small HTTP client ------------------------------------------------------------

struct HttpResult {
  int status = 0;      // 0: no answer (see error)
  std::string error;   // transport error
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string ToString() const {
    return StrCat("HTTP ", status, error.empty() ? "" : StrCat(" (", error, ")"), ": ", body);
  }
};

struct HttpOptions {
  std::string token;   // sent as "Authorization: Bearer <token>" when set
  std::string origin;  // sent as "Origin" when set
  milliseconds timeout = seconds(20);
};

// One request on a fresh connection; the whole exchange is bounded by `timeout`.
HttpResult Http(int port, bhttp::verb verb, const std::string& target,
                const std::string& body = "", const HttpOptions& options = {}) {
  HttpResult result;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  bhttp::request<bhttp::string_body> request(verb, target, 11);
  request.set(bhttp::field::host, StrCat("127.0.0.1:", port));
  request.set(bhttp::field::user_agent, "cloudai-integration-test");
  if (!options.token.empty()) {
    request.set(bhttp::field::authorization, StrCat("Bearer ", options.token));
  }
  if (!options.origin.empty()) request.set(bhttp::field::origin, options.origin);
  if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  auto fail = [&result](const char* what, beast::error_code ec) {
    result.error = StrCat(what, ": ", ec.message());
  };
  stream.expires_after(options.timeout);
  stream.async_connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
      [&](beast::error_code ec) {
        if (ec) return fail("connect", ec);
        bhttp::async_write(stream, request, [&](beast::error_code ec, size_t) {
          if (ec) return fail("write", ec);
          bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
            if (ec) return fail("read", ec);
            result.status = static_cast<int>(parser.get().result_int());
            result.body = parser.get().body();
            for (const auto& field : parser.get()) {
              result.headers[AsciiLower(std::string_view(field.name_string().data(),
                                                         field.name_string().size()))] =
                  std::string(field.value());
            }
          });
        });
      });
  ioc.run();
  return result;
}

// ---- a small WebSocket client -------------------------------------------------------

class WsClient {
 public:
  WsClient() : ws_(ioc_) {}

  // Connects and upgrades `target`; false (with error()) on failure, within `timeout`.
  bool Connect(int port, const std::string& target, milliseconds timeout = seconds(10)) {
    bool done = false;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    beast::get_lowest_layer(ws_).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
        [&](beast::error_code ec) {
          if (ec) {
            error_ = StrCat("connect: ", ec.message());
            done = true;
            return;
          }
          ws_.async_handshake(StrCat("127.0.0.1:", port), target, [&](beast::error_code ec) {
            if (ec) error_ = StrCat("handshake: ", ec.message());
            done = true;
          });
        });
    ioc_.restart();
    ioc_.run_for(timeout + seconds(1));
    if (!done) {
      error_ = "connect: timed out";
      return false;
    }
    beast::get_lowest_layer(ws_).expires_never();
    return error_.empty();
  }

  // The next message, or nullopt when none came within `timeout` or the connection
  // ended (then error() says why). A read still pending at the timeout carries on into
  // the next call.
  std::optional<std::string> Read(milliseconds timeout) {
    if (!pending_) {
      pending_ = true;
      done_ = false;
      ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
        ec_ = ec;
        done_ = true;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done_) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::nullopt;
      ioc_.restart();
      ioc_.run_one_for(deadline - now);
    }
    pending_ = false;
    if (ec_) {
      error_ = StrCat("read: ", ec_.message());
      return std::nullopt;
    }
    std::string message = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return message;
  }

  // Reads until a message parses as JSON and `match` accepts it, within `timeout`.
  std::optional<Json> ReadUntil(const std::function<bool(const Json&)>& match,
                                milliseconds timeout, std::vector<std::string>* seen = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= milliseconds(0)) return std::nullopt;
      std::optional<std::string> message = Read(left);
      if (!message.has_value()) return std::nullopt;
      if (seen != nullptr) seen->push_back(message->substr(0, 300));
      std::optional<Json> json = ParseJson(*message);
      if (json.has_value() && match(*json)) return json;
    }
  }

  const std::string& error() const { return error_; }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  bool pending_ = false;
  bool done_ = false;
  beast::error_code ec_;
  std::string error_;
};

std::string Str(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// ---- /metrics -----------------------------------------------------------------------

// The samples of a Prometheus text exposition: "name{labels}" -> value. Lines that are
// not comments and not `name{labels} value [timestamp]` are returned in `bad`.
std::map<std::string, double> ParseMetrics(const std::string& text,
                                           std::vector<std::string>* bad) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)( -?[0-9]+)?$)");
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, kSample)) {
      bad->push_back(line);
      continue;
    }
    const std::string value = m[3].str();
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') {
      bad->push_back(line);
      continue;
    }
    samples[m[1].str()] = v;
  }
  return samples;
}

// Whether a sample of metric `name` (any labels) is present.
bool HasMetric(const std::map<std::string, double>& samples, const std::string& name) {
  for (const auto& [key, value] : samples) {
    if (key == name || key.rfind(StrCat(name, "{"), 0) == 0) return true;
  }
  return false;
}

// A tool the test needs: its path, or empty (the caller skips, or fails under CI=true).
std::string Tool(const std::string& path) { return ::access(path.c_str(), X_OK) == 0 ? path : ""; }

#define REQUIRE_TOOL(var, path)                                                            \
  const std::string var = Tool(path);                                                       \
  do {                                                                                      \
    if (var.empty()) {                                                                      \
      if (UnderCi()) {                                                                      \
        GTEST_FAIL() << "CI=true and " << path                                              \
                     << " is missing; run scripts/install-deps.sh (package prometheus)";    \
      }                                                                                     \
      GTEST_SKIP() << "skipped: " << path                                                   \
                   << " is not installed (Debian package prometheus; scripts/install-deps.sh)"; \
    }                                                                                       \
  } while (0)

// ---- the fixture --------------------------------------------------------------------

class HttpTest : public ClusterTest {
 protected:
  // A master and one registered exec worker "w1".
  void StartCluster() {
    ASSERT_TRUE(StartMaster());
    ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
    token_ = Token();
    ASSERT_FALSE(token_.empty());
  }

  HttpResult Get(const std::string& target, bool with_token = true) {
    HttpOptions options;
    if (with_token) options.token = token_;
    return Http(http_port(), bhttp::verb::get, target, "", options);
  }
  HttpResult Post(const std::string& target, const std::string& body) {
    HttpOptions options;
    options.token = token_;
    return Http(http_port(), bhttp::verb::post, target, body, options);
  }

  // GET /api/v1/tasks/{id} until its status is one of `states`; the last TaskStatus.
  std::optional<Json> WaitTask(const std::string& id, const std::set<std::string>& states,
                               milliseconds timeout) {
    std::optional<Json> last;
    WaitUntil(
        [&] {
          HttpResult r = Get(StrCat("/api/v1/tasks/", id));
          if (r.status != 200) return false;
          last = ParseJson(r.body);
          return last.has_value() && states.count(Str(*last, "status")) > 0;
        },
        timeout, milliseconds(100));
    if (last.has_value() && states.count(Str(*last, "status")) == 0) {
      ADD_FAILURE() << "task " << id << " is " << Str(*last, "status") << ": " << last->dump();
      return std::nullopt;
    }
    if (!last.has_value()) ADD_FAILURE() << "task " << id << " could not be read";
    return last;
  }

  std::string token_;
};

// A task body for POST /api/v1/tasks: small resources, the exec driver runs `command`.
std::string TaskBody(const std::string& id, const std::string& command) {
  Json task = {{"task_id", id},     {"docker_image", kAnyImage}, {"command", command},
               {"req_cpu", "100"},  {"req_memory", "50"},        {"req_storage", "10"}};
  return task.dump();
}

TEST_F(HttpTest, HealthAuthAndOrigins) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  HttpResult health = Http(http_port(), bhttp::verb::get, "/health");
  EXPECT_EQ(health.status, 200) << health.ToString();

  HttpResult no_token = Get("/api/v1/workers", /*with_token=*/false);
  EXPECT_EQ(no_token.status, 401) << no_token.ToString();
  EXPECT_NE(no_token.body.find("UNAUTHENTICATED"), std::string::npos) << no_token.ToString();
  HttpOptions wrong;
  wrong.token = "not-the-token";
  HttpResult wrong_token = Http(http_port(), bhttp::verb::get, "/api/v1/workers", "", wrong);
  EXPECT_EQ(wrong_token.status, 401) << wrong_token.ToString();

  HttpOptions foreign;
  foreign.token = token_;
  foreign.origin = "http://evil.example";
  HttpResult refused = Http(http_port(), bhttp::verb::get, "/api/v1/workers", "", foreign);
  EXPECT_EQ(refused.status, 403) << refused.ToString();
  EXPECT_NE(refused.body.find("PERMISSION_DENIED"), std::string::npos) << refused.ToString();
  HttpOptions own = foreign;
  own.origin = StrCat("http://127.0.0.1:", http_port());
  HttpResult allowed = Http(http_port(), bhttp::verb::get, "/api/v1/workers", "", own);
  EXPECT_EQ(allowed.status, 200) << allowed.ToString();

  HttpResult workers = Get("/api/v1/workers");
  ASSERT_EQ(workers.status, 200) << workers.ToString();
  std::optional<Json> list = ParseJson(workers.body);
  ASSERT_TRUE(list.has_value()) << workers.body;
  ASSERT_EQ(JArr(*list, "workers").size(), 1u) << workers.body;
  EXPECT_NE(workers.body.find("\"w1\""), std::string::npos) << workers.body;

  // A WebSocket upgrade without the token, or from a foreign origin, is refused too.
  WsClient ws;
  EXPECT_FALSE(ws.Connect(http_port(), "/ws/telemetry"));
}

TEST_F(HttpTest, RestTaskLifecycleLogsAndEvents) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  HttpResult submitted =
      Post("/api/v1/tasks", TaskBody("rest-1", "echo rest-line-1; echo rest-line-2"));
  ASSERT_EQ(submitted.status, 201) << submitted.ToString();
  std::optional<Json> status = ParseJson(submitted.body);
  ASSERT_TRUE(status.has_value()) << submitted.body;
  EXPECT_EQ(Str(JObj(*status, "task"), "task_id"), "rest-1") << submitted.body;

  std::optional<Json> done = WaitTask("rest-1", {"completed", "failed", "cancelled"}, seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(Str(*done, "status"), "completed") << done->dump();
  EXPECT_EQ(Str(*done, "worker_id"), "w1") << done->dump();

  HttpResult logs = Get("/api/v1/tasks/rest-1/logs");
  EXPECT_EQ(logs.status, 200) << logs.ToString();
  EXPECT_NE(logs.body.find("rest-line-1\nrest-line-2\n"), std::string::npos) << logs.ToString();

  HttpResult events = Get("/api/v1/tasks/rest-1/events");
  ASSERT_EQ(events.status, 200) << events.ToString();
  std::optional<Json> list = ParseJson(events.body);
  ASSERT_TRUE(list.has_value()) << events.body;
  std::vector<std::string> to;
  for (const Json& event : JArr(*list, "events")) to.push_back(Str(event, "to"));
  EXPECT_EQ(to, (std::vector<std::string>{"pending", "scheduled", "running", "completed"}))
      << events.body;

  HttpResult missing = Get("/api/v1/tasks/no-such-task");
  EXPECT_EQ(missing.status, 404) << missing.ToString();
}

TEST_F(HttpTest, CancelRunningTaskAndBadBodies) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  HttpResult submitted = Post("/api/v1/tasks", TaskBody("long-1", "echo started; sleep 60"));
  ASSERT_EQ(submitted.status, 201) << submitted.ToString();
  ASSERT_TRUE(WaitTask("long-1", {"running"}, seconds(20)).has_value());
  HttpResult cancel = Post("/api/v1/tasks/long-1/cancel", "");
  EXPECT_EQ(cancel.status, 200) << cancel.ToString();
  std::optional<Json> after =
      WaitTask("long-1", {"cancelled", "completed", "failed"}, seconds(20));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(Str(*after, "status"), "cancelled") << after->dump();

  // Malformed bodies: 400, naming the field.
  HttpResult bad_type = Post("/api/v1/tasks", R"({"task_id": "bad-1", "req_cpu": "lots"})");
  EXPECT_EQ(bad_type.status, 400) << bad_type.ToString();
  EXPECT_NE(bad_type.body.find("INVALID_ARGUMENT"), std::string::npos) << bad_type.ToString();
  EXPECT_NE(bad_type.body.find("req_cpu"), std::string::npos) << bad_type.ToString();
  HttpResult unknown = Post("/api/v1/tasks", R"({"task_id": "bad-2", "no_such_field": 1})");
  EXPECT_EQ(unknown.status, 400) << unknown.ToString();
  EXPECT_NE(unknown.body.find("no_such_field"), std::string::npos) << unknown.ToString();
  HttpResult not_json = Post("/api/v1/tasks", "{not json");
  EXPECT_EQ(not_json.status, 400) << not_json.ToString();
  EXPECT_NE(not_json.body.find("body"), std::string::npos) << not_json.ToString();
  HttpResult empty = Post("/api/v1/tasks", "");
  EXPECT_EQ(empty.status, 400) << empty.ToString();
  // None of them reached the store.
  EXPECT_EQ(Get("/api/v1/tasks/bad-1").status, 404);
  EXPECT_EQ(Get("/api/v1/tasks/bad-2").status, 404);
}

TEST_F(HttpTest, RestAllocationsLifecycle) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  HttpResult capacity = Get("/api/v1/capacity");
  ASSERT_EQ(capacity.status, 200) << capacity.ToString();
  std::optional<Json> before = ParseJson(capacity.body);
  ASSERT_TRUE(before.has_value()) << capacity.body;
  EXPECT_EQ((*before)["workers_active"], 1) << capacity.body;

  Json ask = {{"job_id", "rest-job"},
              {"workers", 2},
              {"priority", "high"},
              {"ttl_seconds", "600"},
              {"per_worker", {{"cpu", "100"}, {"memory", "50"}, {"storage", "10"}}},
              {"metadata", {{"owner", "rest"}}}};
  HttpResult requested = Post("/api/v1/allocations", ask.dump());
  ASSERT_EQ(requested.status, 201) << requested.ToString();
  std::optional<Json> allocation = ParseJson(requested.body);
  ASSERT_TRUE(allocation.has_value()) << requested.body;
  const std::string id = Str(*allocation, "allocation_id");
  EXPECT_EQ(Str(*allocation, "state"), "active") << requested.body;
  EXPECT_EQ(JArr(*allocation, "slots").size(), 2u) << requested.body;

  HttpResult listed = Get("/api/v1/allocations?state=active&job_id=rest-job");
  ASSERT_EQ(listed.status, 200) << listed.ToString();
  EXPECT_NE(listed.body.find(id), std::string::npos) << listed.body;
  HttpResult reserved = Get("/api/v1/capacity");
  ASSERT_EQ(reserved.status, 200);
  EXPECT_EQ(Str(JObj(*ParseJson(reserved.body), "reserved"), "cpu"), "200") << reserved.body;

  // A task inside it, over REST.
  Json task = {{"task_id", "in-rest-alloc"}, {"docker_image", kAnyImage},
               {"command", "echo inside"},  {"req_cpu", "100"},
               {"req_memory", "50"},        {"req_storage", "10"},
               {"allocation_id", id}};
  HttpResult submitted = Post("/api/v1/tasks", task.dump());
  ASSERT_EQ(submitted.status, 201) << submitted.ToString();
  std::optional<Json> done = WaitTask("in-rest-alloc", {"completed", "failed"}, seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(Str(*done, "status"), "completed") << done->dump();

  HttpResult extended = Post(StrCat("/api/v1/allocations/", id, "/extend"),
                             R"({"extend_seconds": "60"})");
  ASSERT_EQ(extended.status, 200) << extended.ToString();
  EXPECT_EQ(Str(*ParseJson(extended.body), "ttl_seconds"), "660") << extended.body;

  HttpResult released = Post(StrCat("/api/v1/allocations/", id, "/release"), "");
  ASSERT_EQ(released.status, 200) << released.ToString();
  EXPECT_EQ(Str(*ParseJson(released.body), "state"), "released") << released.body;
  HttpResult again = Post(StrCat("/api/v1/allocations/", id, "/release"), "");
  EXPECT_EQ(again.status, 412) << again.ToString();
  EXPECT_NE(again.body.find("already released"), std::string::npos) << again.body;

  HttpResult got = Get(StrCat("/api/v1/allocations/", id));
  ASSERT_EQ(got.status, 200) << got.ToString();
  std::optional<Json> history = ParseJson(got.body);
  ASSERT_TRUE(history.has_value()) << got.body;
  std::vector<std::string> to;
  for (const Json& event : JArr(*history, "events")) to.push_back(Str(event, "to_state"));
  EXPECT_EQ(to, (std::vector<std::string>{"pending", "active", "active", "releasing", "released"}))
      << got.body;

  // Bad input names the field; nothing is created.
  HttpResult bad = Post("/api/v1/allocations", R"({"job_id": "x", "workers": 5000})");
  EXPECT_EQ(bad.status, 400) << bad.ToString();
  EXPECT_NE(bad.body.find("workers"), std::string::npos) << bad.body;
  HttpResult unknown = Get("/api/v1/allocations/alloc-000000000000");
  EXPECT_EQ(unknown.status, 404) << unknown.ToString();
  HttpResult cleanup = Post("/api/v1/allocations/cleanup", "");
  EXPECT_EQ(cleanup.status, 200) << cleanup.ToString();
}

TEST_F(HttpTest, TelemetryWebSocketGetsSnapshotThenHeartbeats) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  WsClient ws;
  ASSERT_TRUE(ws.Connect(http_port(), StrCat("/ws/telemetry?token=", token_))) << ws.error();
  std::vector<std::string> seen;
  std::optional<std::string> first = ws.Read(seconds(5));
  ASSERT_TRUE(first.has_value()) << ws.error();
  std::optional<Json> snapshot = ParseJson(*first);
  ASSERT_TRUE(snapshot.has_value()) << *first;
  EXPECT_EQ(Str(*snapshot, "type"), "snapshot") << *first;
  ASSERT_EQ(JArr(*snapshot, "workers").size(), 1u) << *first;

  // The worker beats every 200 ms: a heartbeat of w1 arrives well within 5 s.
  std::optional<Json> beat = ws.ReadUntil(
      [](const Json& j) {
        return Str(j, "type") == "heartbeat" && j.contains("worker") &&
               j["worker"].dump().find("\"w1\"") != std::string::npos;
      },
      seconds(5), &seen);
  ASSERT_TRUE(beat.has_value()) << "no heartbeat within 5 s; " << ws.error() << "; seen "
                                << seen.size() << " messages";
  EXPECT_FALSE(Str(*beat, "received_at_ms").empty()) << beat->dump();

  // One worker's stream.
  WsClient one;
  ASSERT_TRUE(one.Connect(http_port(), StrCat("/ws/telemetry/w1?token=", token_)))
      << one.error();
  ASSERT_TRUE(one.ReadUntil([](const Json& j) { return Str(j, "type") == "heartbeat"; },
                            seconds(5))
                  .has_value())
      << one.error();
}

TEST_F(HttpTest, EventsWebSocketSeesTaskEvents) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  WsClient ws;
  ASSERT_TRUE(ws.Connect(http_port(), StrCat("/ws/events?token=", token_))) << ws.error();
  // The connection has joined once the hub counts it (cloudai_websocket_clients).
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::vector<std::string> bad;
        auto samples = ParseMetrics(Get("/metrics", false).body, &bad);
        auto it = samples.find("cloudai_websocket_clients");
        return it != samples.end() && it->second >= 1;
      },
      seconds(5)));

  HttpResult submitted = Post("/api/v1/tasks", TaskBody("ws-1", "echo via-events"));
  ASSERT_EQ(submitted.status, 201) << submitted.ToString();
  std::vector<std::string> states;
  std::vector<std::string> seen;
  std::optional<Json> completed = ws.ReadUntil(
      [&](const Json& j) {
        if (Str(j, "type") != "task" || !j.contains("task") || !j.contains("event")) return false;
        if (Str(j["task"].value("task", Json::object()), "task_id") != "ws-1") return false;
        states.push_back(Str(j["event"], "to"));
        return states.back() == "completed";
      },
      seconds(20), &seen);
  ASSERT_TRUE(completed.has_value()) << ws.error() << "; states seen: " << states.size();
  EXPECT_EQ(states, (std::vector<std::string>{"pending", "scheduled", "running", "completed"}));

  // Allocations changing state are events too.
  Json ask = {{"job_id", "ws-job"},
              {"per_worker", {{"cpu", "100"}, {"memory", "50"}, {"storage", "10"}}}};
  HttpResult requested = Post("/api/v1/allocations", ask.dump());
  ASSERT_EQ(requested.status, 201) << requested.ToString();
  const std::string id = Str(*ParseJson(requested.body), "allocation_id");
  ASSERT_EQ(Post(StrCat("/api/v1/allocations/", id, "/release"), "").status, 200);
  std::vector<std::string> allocation_states;
  std::optional<Json> released = ws.ReadUntil(
      [&](const Json& j) {
        if (Str(j, "type") != "allocation" || !j.contains("allocation")) return false;
        if (Str(j["allocation"], "allocation_id") != id) return false;
        allocation_states.push_back(Str(j["allocation"], "state"));
        return allocation_states.back() == "released";
      },
      seconds(20), &seen);
  ASSERT_TRUE(released.has_value()) << ws.error();
  EXPECT_EQ(allocation_states, (std::vector<std::string>{"active", "releasing", "released"}));
}

TEST_F(HttpTest, MetricsParseAndPassPromtool) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  HttpResult first = Get("/metrics", false);
  ASSERT_EQ(first.status, 200) << first.ToString();
  EXPECT_NE(first.headers["content-type"].find("text/plain"), std::string::npos);
  std::vector<std::string> bad;
  std::map<std::string, double> samples = ParseMetrics(first.body, &bad);
  EXPECT_TRUE(bad.empty()) << "lines that are not `name{labels} value`:\n" << bad.front();
  EXPECT_TRUE(HasMetric(samples, "cloudai_workers")) << first.body;
  EXPECT_TRUE(HasMetric(samples, "cloudai_tasks")) << first.body;
  ASSERT_TRUE(HasMetric(samples, "cloudai_heartbeats_received_total")) << first.body;
  EXPECT_EQ(samples["cloudai_workers{state=\"active\"}"], 1) << first.body;
  const double beats = samples["cloudai_heartbeats_received_total"];

  // The counter grows with the worker's heartbeats (every 200 ms).
  double later = beats;
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<std::string> ignored;
        later = ParseMetrics(Get("/metrics", false).body, &ignored)
                    ["cloudai_heartbeats_received_total"];
        return later > beats;
      },
      seconds(5), milliseconds(200)))
      << "cloudai_heartbeats_received_total stayed at " << beats;

  REQUIRE_TOOL(promtool, "/usr/bin/promtool");
  const std::string file = dir().Sub("metrics.txt");
  ASSERT_TRUE(WriteFile(file, first.body));
  CommandResult check = RunCommand(
      {"/bin/sh", "-c", StrCat("exec '", promtool, "' check metrics < '", file, "'")},
      dir().path(), seconds(30));
  EXPECT_EQ(check.exit_code, 0) << check.ToString() << "\n" << first.body;
}

TEST_F(HttpTest, PrometheusScrapesTheMaster) {
  REQUIRE_TOOL(prometheus, "/usr/bin/prometheus");
  ASSERT_NO_FATAL_FAILURE(StartCluster());

  const int port = FreePort();
  const std::string config = dir().Sub("prometheus.yml");
  ASSERT_TRUE(WriteFile(config, StrCat("global:\n"
                                       "  scrape_interval: 1s\n"
                                       "  scrape_timeout: 1s\n"
                                       "scrape_configs:\n"
                                       "  - job_name: cloudai\n"
                                       "    static_configs:\n"
                                       "      - targets: ['127.0.0.1:",
                                       http_port(), "']\n")));
  ProcessOptions options;
  options.args = {prometheus,
                  StrCat("--config.file=", config),
                  StrCat("--storage.tsdb.path=", dir().Sub("prometheus-data", true)),
                  StrCat("--web.listen-address=127.0.0.1:", port)};
  options.log_path = dir().Sub("prometheus.log");
  options.cwd = dir().path();
  std::string error;
  std::unique_ptr<Process> server = Process::Start(options, &error);
  ASSERT_NE(server, nullptr) << error;

  // The value of the first sample of an instant query, or "".
  auto query = [&](const std::string& encoded) -> std::string {
    HttpResult r = Http(port, bhttp::verb::get, StrCat("/api/v1/query?query=", encoded), "",
                        HttpOptions{"", "", seconds(5)});
    if (r.status != 200) return "";
    std::optional<Json> j = ParseJson(r.body);
    if (!j.has_value() || Str(*j, "status") != "success") return "";
    const Json& result = (*j)["data"]["result"];
    if (!result.is_array() || result.empty()) return "";
    const Json& value = result[0]["value"];
    return value.is_array() && value.size() == 2 && value[1].is_string()
               ? value[1].get<std::string>()
               : "";
  };
  std::string up;
  const bool scraped = WaitUntil(
      [&] {
        up = query("up%7Bjob%3D%22cloudai%22%7D");  // up{job="cloudai"}
        return up == "1";
      },
      seconds(30), milliseconds(500));
  if (!scraped) {
    ADD_FAILURE() << "up{job=\"cloudai\"} is \"" << up << "\" after 30 s ("
                  << (server->Running() ? "prometheus running" : "prometheus exited")
                  << "); prometheus log:\n"
                  << server->LogTail(30);
    return;
  }
  std::string workers;
  EXPECT_TRUE(WaitUntil(
      [&] {
        workers = query("cloudai_workers%7Bstate%3D%22active%22%7D");
        return !workers.empty();
      },
      seconds(10), milliseconds(500)));
  EXPECT_EQ(workers, "1");
  server->Signal(SIGTERM);
  if (!server->Wait(seconds(10)).has_value()) server->Kill();
}

}  // namespace
}  // namespace cloudai::integration
