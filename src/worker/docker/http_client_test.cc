#include "worker/docker/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "common/strings.h"
#include "worker/docker/fake_docker_engine.h"

namespace cloudai::worker::docker {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientOptions Options() {
    HttpClientOptions o;
    o.endpoint = engine_.endpoint();
    o.default_timeout = milliseconds(5000);
    return o;
  }

  FakeDockerEngine engine_;
};

TEST_F(HttpClientTest, SendsAndReadsAContentLengthResponse) {
  engine_.Route("POST", "/echo", [](const RecordedRequest& r, FakeResponder& out) {
    out.Respond(201, "got " + r.body, "text/plain");
  });
  HttpClient client(Options());
  HttpRequest request;
  request.method = "POST";
  request.target = "/echo?a=1";
  request.body = R"({"x":1})";
  absl::StatusOr<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"(got {"x":1})");
  EXPECT_EQ(response->Header("content-type"), "text/plain");
  EXPECT_EQ(response->Header("API-VERSION"), "1.41");

  RecordedRequest seen = engine_.LastRequest("POST", "/echo");
  EXPECT_EQ(seen.target, "/echo?a=1");
  EXPECT_EQ(seen.query["a"], "1");
  EXPECT_EQ(seen.headers["content-type"], "application/json");
  EXPECT_EQ(seen.headers["host"], "docker");
  EXPECT_EQ(seen.headers["user-agent"], "cloudai-worker");
}

TEST_F(HttpClientTest, ReadsAChunkedResponseSplitAnywhere) {
  engine_.Route("GET", "/chunked", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("{\"Id\":");
    out.Chunk("\"ab");
    out.Raw("1\r\nc\r");  // a chunk whose framing itself arrives in pieces
    std::this_thread::sleep_for(milliseconds(5));
    out.Raw("\n");
    out.Chunk("\"}");
    out.EndChunked();
  });
  HttpClient client(Options());
  absl::StatusOr<HttpResponse> response = client.Send(Get("/chunked"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, R"({"Id":"abc"})");
}

TEST_F(HttpClientTest, ReusesKeepAliveConnections) {
  HttpClient client(Options());
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> response = client.Send(Get("/_ping"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "OK");
  }
  EXPECT_EQ(engine_.connections_accepted(), 1);
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(HttpClientTest, RetriesOnceWhenTheEngineDroppedAnIdleConnection) {
  HttpClient client(Options());
  ASSERT_TRUE(client.Send(Get("/_ping")).ok());
  engine_.DropConnections();
  std::this_thread::sleep_for(milliseconds(20));
  absl::StatusOr<HttpResponse> response = client.Send(Get("/_ping"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "OK");
  EXPECT_EQ(engine_.connections_accepted(), 2);
}

TEST_F(HttpClientTest, ConnectionCloseIsHonoured) {
  engine_.Route("GET", "/once", [](const RecordedRequest&, FakeResponder& out) {
    out.CloseAfter();
    out.Respond(200, "bye", "text/plain");
  });
  HttpClient client(Options());
  ASSERT_TRUE(client.Send(Get("/once")).ok());
  EXPECT_EQ(client.idle_connections(), 0u);
  ASSERT_TRUE(client.Send(Get("/once")).ok());
  EXPECT_EQ(engine_.connections_accepted(), 2);
}

TEST_F(HttpClientTest, AHangingEngineTimesOut) {
  engine_.Route("GET", "/hang",
                [](const RecordedRequest&, FakeResponder& out) { out.Hang(milliseconds(10000)); });
  HttpClient client(Options());
  HttpRequest request = Get("/hang");
  request.timeout = milliseconds(200);
  const auto start = steady_clock::now();
  absl::StatusOr<HttpResponse> response = client.Send(request);
  const auto took = steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_NE(response.status().message().find("GET /hang"), absl::string_view::npos);
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(3000));
}

TEST_F(HttpClientTest, AStallInTheMiddleOfTheBodyTimesOut) {
  engine_.Route("GET", "/stall", [](const RecordedRequest&, FakeResponder& out) {
    out.Raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    out.Hang(milliseconds(10000));
  });
  HttpClient client(Options());
  HttpRequest request = Get("/stall");
  request.timeout = milliseconds(200);
  absl::StatusOr<HttpResponse> response = client.Send(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
}

TEST_F(HttpClientTest, AnEngineThatClosesMidResponseIsAnError) {
  engine_.Route("GET", "/short", [](const RecordedRequest&, FakeResponder& out) {
    out.Raw(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        "{\"Id\":");
    out.CloseAfter();
  });
  engine_.Route("GET", "/short-chunked", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("{\"Id\":");
    out.Raw("20\r\nnot all of it");
    out.CloseAfter();
  });
  engine_.Route("GET", "/nothing",
                [](const RecordedRequest&, FakeResponder& out) { out.CloseAfter(); });
  engine_.Route("GET", "/garbage", [](const RecordedRequest&, FakeResponder& out) {
    out.Raw("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    out.CloseAfter();
  });
  HttpClient client(Options());
  for (const char* target : {"/short", "/short-chunked", "/nothing", "/garbage"}) {
    const auto start = steady_clock::now();
    absl::StatusOr<HttpResponse> response = client.Send(Get(target));
    ASSERT_FALSE(response.ok()) << target;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
        << target << ": " << response.status();
    EXPECT_LT(steady_clock::now() - start, milliseconds(2000)) << target;
  }
  absl::StatusOr<HttpResponse> response = client.Send(Get("/short"));
  EXPECT_NE(response.status().message().find("closed the connection before the response was"),
            absl::string_view::npos)
      << response.status();
  // The client is still usable afterwards.
  EXPECT_TRUE(client.Send(Get("/_ping")).ok());
}

TEST_F(HttpClientTest, NoEngineIsUnavailable) {
  HttpClientOptions options = Options();
  options.endpoint = Endpoint::Unix(engine_.socket_path() + ".missing");
  HttpClient client(options);
  absl::StatusOr<HttpResponse> response = client.Send(Get("/_ping"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find(".missing"), absl::string_view::npos)
      << response.status();
}

TEST_F(HttpClientTest, TooLargeABodyIsRefused) {
  engine_.Route("GET", "/big", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, std::string(4096, 'x'), "text/plain");
  });
  HttpClientOptions options = Options();
  options.max_body_bytes = 1000;
  HttpClient client(options);
  absl::StatusOr<HttpResponse> response = client.Send(Get("/big"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted) << response.status();
}

TEST_F(HttpClientTest, StreamDeliversTheBodyAsItArrives) {
  std::promise<void> first_seen;
  std::shared_future<void> first_seen_future = first_seen.get_future().share();
  engine_.Route("GET", "/stream", [&](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200, "application/vnd.docker.raw-stream");
    out.Chunk("first;");
    // The rest only comes once the client has seen the first piece: no buffering.
    if (first_seen_future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      out.Chunk("TIMEOUT");
    }
    out.Chunk("second;");
    out.EndChunked();
  });
  HttpClient client(Options());
  std::string got;
  bool signalled = false;
  absl::StatusOr<HttpResponse> response = client.Stream(Get("/stream"), [&](std::string_view data) {
    got.append(data);
    if (!signalled && got.find("first;") != std::string::npos) {
      signalled = true;
      first_seen.set_value();
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(got, "first;second;");
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(HttpClientTest, StreamReturnsErrorBodiesWhole) {
  engine_.Route("GET", "/missing", [](const RecordedRequest&, FakeResponder& out) {
    out.RespondJson(404, {{"message", "No such container: x"}});
  });
  HttpClient client(Options());
  bool called = false;
  absl::StatusOr<HttpResponse> response = client.Stream(Get("/missing"), [&](std::string_view) {
    called = true;
    return absl::OkStatus();
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_NE(response->body.find("No such container: x"), std::string::npos);
  EXPECT_FALSE(called);
}

TEST_F(HttpClientTest, StreamCallbackErrorStopsTheRequest) {
  engine_.Route("GET", "/endless", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    for (int i = 0; i < 1000 && !out.write_failed(); ++i) {
      out.Chunk("tick\n");
      std::this_thread::sleep_for(milliseconds(2));
    }
    out.EndChunked();
  });
  HttpClient client(Options());
  absl::StatusOr<HttpResponse> response =
      client.Stream(Get("/endless"), [](std::string_view) { return absl::AbortedError("enough"); });
  EXPECT_EQ(response.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(HttpClientTest, StreamIdleTimeout) {
  engine_.Route("GET", "/quiet", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("one");
    out.Hang(milliseconds(10000));
  });
  HttpClient client(Options());
  HttpRequest request = Get("/quiet");
  request.idle_timeout = milliseconds(150);
  std::string got;
  absl::StatusOr<HttpResponse> response = client.Stream(request, [&](std::string_view data) {
    got.append(data);
    return absl::OkStatus();
  });
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_EQ(got, "one");
}

TEST_F(HttpClientTest, StopTokenCancelsAStreamFromAnotherThread) {
  engine_.Route("GET", "/follow", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("line\n");
    out.Hang(milliseconds(10000));
  });
  HttpClient client(Options());
  std::stop_source stop;
  std::promise<void> got_data;
  std::thread canceller([&] {
    got_data.get_future().wait();
    std::this_thread::sleep_for(milliseconds(50));
    stop.request_stop();
  });
  bool signalled = false;
  const auto start = steady_clock::now();
  absl::StatusOr<HttpResponse> response = client.Stream(
      Get("/follow"),
      [&](std::string_view) {
        if (!signalled) {
          signalled = true;
          got_data.set_value();
        }
        return absl::OkStatus();
      },
      stop.get_token());
  canceller.join();
  EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled) << response.status();
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
  EXPECT_EQ(client.idle_connections(), 0u);

  // Already cancelled: returns at once.
  response = client.Send(Get("/_ping"), stop.get_token());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(HttpClientTest, ConcurrentRequestsUseSeparateConnections) {
  engine_.Route("GET", "/slow", [](const RecordedRequest&, FakeResponder& out) {
    std::this_thread::sleep_for(milliseconds(50));
    out.Respond(200, "done", "text/plain");
  });
  HttpClient client(Options());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 3; ++j) {
        absl::StatusOr<HttpResponse> r = client.Send(Get("/slow"));
        if (r.ok() && r->body == "done") ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_LE(engine_.connections_accepted(), 4);
  EXPECT_GE(engine_.connections_accepted(), 2);
}

TEST(HttpClientTcpTest, TalksToAnEngineOnTcp) {
  FakeDockerEngine engine(FakeDockerEngine::Transport::kTcp);
  engine.Route("GET", "/hello", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, "over tcp", "text/plain");
  });
  HttpClientOptions options;
  options.endpoint = engine.endpoint();  // tcp://localhost:<port>: resolved, then connected
  options.default_timeout = milliseconds(5000);
  HttpClient client(options);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response = client.Send(Get("/hello"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "over tcp");
  }
  EXPECT_EQ(engine.connections_accepted(), 1);
  EXPECT_EQ(engine.LastRequest("GET", "/hello").headers["host"],
            StrCat("localhost:", engine.endpoint().port));
}

TEST(HttpClientTcpTest, UnknownHostIsUnavailable) {
  HttpClientOptions options;
  options.endpoint = Endpoint::Tcp("cloudai-no-such-host.invalid", 2375);
  options.default_timeout = milliseconds(20000);
  HttpClient client(options);
  absl::StatusOr<HttpResponse> response = client.Send(Get("/_ping"));
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().message().find("cloudai-no-such-host.invalid"),
            absl::string_view::npos)
      << response.status();
}

TEST(UrlEncodeTest, EncodesReservedCharacters) {
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(UrlEncode(R"({"label":["x=y"]})"), "%7B%22label%22%3A%5B%22x%3Dy%22%5D%7D");
  EXPECT_EQ(UrlEncode("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace cloudai::worker::docker
