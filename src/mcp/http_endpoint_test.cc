#include "mcp/http_endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "mcp/fake_backend.h"

namespace cloudai::mcp {
namespace {

using ::testing::HasSubstr;

constexpr char kInitialize[] =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
        "capabilities":{},"clientInfo":{"name":"http-test","version":"1"}}})";

class HttpEndpointTest : public ::testing::Test {
 protected:
  HttpRequest Post(const std::string& body, const std::string& session = "") {
    HttpRequest r;
    r.method = "POST";
    r.path = "/mcp";
    r.headers["Content-Type"] = "application/json";
    r.headers["Accept"] = "application/json, text/event-stream";
    if (!session.empty()) {
      r.headers["mcp-session-id"] = session;
      r.headers["MCP-Protocol-Version"] = "2025-11-25";
    }
    r.body = body;
    return r;
  }

  std::string StartSession(HttpEndpoint& endpoint) {
    const HttpResponse init = endpoint.Handle(Post(kInitialize));
    EXPECT_EQ(init.status, 200) << init.body;
    const std::string id = init.Header("Mcp-Session-Id").value_or("");
    EXPECT_EQ(endpoint.Handle(Post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id))
                  .status,
              202);
    return id;
  }

  static int ErrorCode(const HttpResponse& r) {
    return Json::parse(r.body)["error"].value("code", 0);
  }

  FakeBackend backend_;
  int64_t now_ = 1000000;
  HttpEndpointOptions Options() {
    HttpEndpointOptions o;
    o.now_ms = [this] { return now_; };
    return o;
  }
};

TEST_F(HttpEndpointTest, SessionFlow) {
  HttpEndpoint endpoint(backend_, Options());
  const HttpResponse init = endpoint.Handle(Post(kInitialize));
  ASSERT_EQ(init.status, 200);
  EXPECT_EQ(init.content_type, "application/json");
  EXPECT_EQ(Json::parse(init.body)["result"]["protocolVersion"], "2025-11-25");
  const std::string id = init.Header("mcp-session-id").value_or("");
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(endpoint.session_count(), 1u);

  HttpResponse r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "");

  r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", id));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["result"]["tools"].size(), 12u);

  r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_task","arguments":{"task_id":"task-1"}}})", id));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["result"]["structuredContent"]["status"], "completed");

  // A response from the client is accepted like a notification.
  r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":"s1","result":{}})", id));
  EXPECT_EQ(r.status, 202);
  // A notification that is not valid JSON-RPC is refused.
  r = endpoint.Handle(Post(R"({"method":"notifications/initialized"})", id));
  EXPECT_EQ(r.status, 400);

  // Without the header: 400; unknown: 404.
  HttpRequest no_session = Post(R"({"jsonrpc":"2.0","id":4,"method":"tools/list"})");
  r = endpoint.Handle(no_session);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Mcp-Session-Id"));
  r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":5,"method":"tools/list"})", "feed"));
  EXPECT_EQ(r.status, 404);

  // DELETE ends it.
  HttpRequest del;
  del.method = "DELETE";
  del.headers["Mcp-Session-Id"] = id;
  EXPECT_EQ(endpoint.Handle(del).status, 204);
  EXPECT_EQ(endpoint.session_count(), 0u);
  EXPECT_EQ(endpoint.Handle(del).status, 404);
  r = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":6,"method":"tools/list"})", id));
  EXPECT_EQ(r.status, 404);
  HttpRequest del_missing;
  del_missing.method = "DELETE";
  EXPECT_EQ(endpoint.Handle(del_missing).status, 400);
}

TEST_F(HttpEndpointTest, ProtocolVersionHeader) {
  HttpEndpoint endpoint(backend_, Options());
  const std::string id = StartSession(endpoint);
  HttpRequest r = Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", id);
  r.headers["MCP-Protocol-Version"] = "2025-06-18";
  EXPECT_EQ(endpoint.Handle(r).status, 200);
  r.headers.erase("mcp-protocol-version");  // absent: the session's version
  EXPECT_EQ(endpoint.Handle(r).status, 200);
  r.headers["mcp-protocol-version"] = "1999-01-01";
  const HttpResponse bad = endpoint.Handle(r);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("2025-11-25, 2025-06-18"));
}

TEST_F(HttpEndpointTest, OriginCheck) {
  HttpEndpoint endpoint(backend_, Options());
  HttpRequest r = Post(kInitialize);
  r.headers["Host"] = "127.0.0.1:8080";
  r.headers["Origin"] = "http://evil.example";
  HttpResponse refused = endpoint.Handle(r);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.content_type, "application/json");
  const Json body = Json::parse(refused.body);
  EXPECT_EQ(body["jsonrpc"], "2.0");
  EXPECT_TRUE(body["id"].is_null());
  EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("http://evil.example"));
  EXPECT_EQ(endpoint.session_count(), 0u);

  r.headers["Origin"] = "http://127.0.0.1:8080";  // its own host: allowed by default
  EXPECT_EQ(endpoint.Handle(r).status, 200);

  HttpEndpointOptions options = Options();
  options.origin_allowed = [](std::string_view origin, const HttpRequest&) {
    return origin == "https://ops.example.com";
  };
  HttpEndpoint custom(backend_, options);
  r.headers["Origin"] = "http://127.0.0.1:8080";
  EXPECT_EQ(custom.Handle(r).status, 403);
  r.headers["Origin"] = "https://ops.example.com";
  EXPECT_EQ(custom.Handle(r).status, 200);
  HttpRequest get;
  get.method = "GET";
  get.headers["Origin"] = "http://evil.example";
  EXPECT_EQ(custom.Handle(get).status, 403);
}

TEST_F(HttpEndpointTest, HeaderAndBodyChecks) {
  HttpEndpointOptions options = Options();
  options.max_body_bytes = 1024;
  HttpEndpoint endpoint(backend_, options);

  HttpRequest r = Post(kInitialize);
  r.headers["Accept"] = "text/event-stream";
  HttpResponse response = endpoint.Handle(r);
  EXPECT_EQ(response.status, 406);
  EXPECT_THAT(response.body, HasSubstr("application/json"));
  r.headers["Accept"] = "*/*";
  EXPECT_EQ(endpoint.Handle(r).status, 200);
  r.headers.erase("Accept");
  EXPECT_EQ(endpoint.Handle(r).status, 200);
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  EXPECT_EQ(endpoint.Handle(r).status, 200);
  r.headers["Content-Type"] = "text/plain";
  EXPECT_EQ(endpoint.Handle(r).status, 415);

  response = endpoint.Handle(Post(std::string(2000, ' ')));
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, HasSubstr("the limit is 1024 bytes"));

  response = endpoint.Handle(Post("{oops"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(ErrorCode(response), kParseError);
  response = endpoint.Handle(Post(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(ErrorCode(response), kInvalidRequest);

  HttpRequest get;
  get.method = "GET";
  response = endpoint.Handle(get);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("allow").value_or(""), "POST, DELETE");
  get.method = "PUT";
  EXPECT_EQ(endpoint.Handle(get).status, 405);

  // An initialize that fails opens no session.
  const size_t before = endpoint.session_count();
  response = endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":[]})"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(ErrorCode(response), kInvalidParams);
  EXPECT_FALSE(response.Header("Mcp-Session-Id").has_value());
  EXPECT_EQ(endpoint.session_count(), before);
}

TEST_F(HttpEndpointTest, SessionsAreBoundedAndExpire) {
  HttpEndpointOptions options = Options();
  options.max_sessions = 2;
  options.session_idle_timeout = std::chrono::minutes(10);
  std::vector<std::string> log;
  options.log = [&log](const std::string& line) { log.push_back(line); };
  HttpEndpoint endpoint(backend_, options);
  const std::string a = StartSession(endpoint);
  now_ += 1000;
  const std::string b = StartSession(endpoint);
  now_ += 1000;
  // `a` used most recently: `b` is the one to go.
  EXPECT_EQ(endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", a)).status, 200);
  now_ += 1000;
  const std::string c = StartSession(endpoint);
  EXPECT_EQ(endpoint.session_count(), 2u);
  EXPECT_EQ(endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", b)).status, 404);
  EXPECT_EQ(endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", a)).status, 200);
  EXPECT_NE(a, c);

  now_ += 10 * 60 * 1000 + 1;  // `c` idle past the timeout; `a` too
  EXPECT_EQ(endpoint.Handle(Post(R"({"jsonrpc":"2.0","id":2,"method":"ping"})", c)).status, 404);
  EXPECT_EQ(endpoint.session_count(), 0u);
  EXPECT_FALSE(log.empty());
}

TEST_F(HttpEndpointTest, ConcurrentClients) {
  HttpEndpoint endpoint(backend_);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::mutex ids_mu;
  std::set<std::string> ids;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        const HttpResponse init = endpoint.Handle(Post(kInitialize));
        const std::string id = init.Header("Mcp-Session-Id").value_or("");
        if (init.status != 200 || id.empty()) ++failures;
        {
          std::lock_guard<std::mutex> lock(ids_mu);
          ids.insert(id);
        }
        const HttpResponse call = endpoint.Handle(Post(
            R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_workers"}})", id));
        if (call.status != 200 || !Json::parse(call.body)["result"].contains("structuredContent")) {
          ++failures;
        }
        HttpRequest del;
        del.method = "DELETE";
        del.headers["Mcp-Session-Id"] = id;
        if (endpoint.Handle(del).status != 204) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ids.size(), 160u);
  EXPECT_EQ(endpoint.session_count(), 0u);
}

TEST(CaseInsensitiveHeadersTest, Lookup) {
  HttpRequest r;
  r.headers["Mcp-Session-Id"] = "x";
  EXPECT_EQ(r.Header("MCP-SESSION-ID").value_or(""), "x");
  EXPECT_EQ(r.Header("mcp-session-id").value_or(""), "x");
  EXPECT_FALSE(r.Header("Accept").has_value());
  EXPECT_NE(NewSessionId(), NewSessionId());
}

}  // namespace
}  // namespace cloudai::mcp
