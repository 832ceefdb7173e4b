// HttpServer over loopback: limits, errors, origins, and the WebSocket fan-out with a
// client too slow to keep up.
#include "master/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "common/strings.h"
#include "master/http/json.h"

namespace cloudai::master::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hello", [](const HttpRequest&) { return JsonResponse("{\"hi\": 1}"); });
    router_.Add("POST", "/echo", [](const HttpRequest& r) {
      return JsonResponse(StrCat("{\"size\": ", r.body.size(), "}"));
    });
    router_.Add("GET", "/stream", [](const HttpRequest&) {
      HttpResponse response;
      response.content_type = "text/plain";
      response.stream = [](ChunkSink& sink) {
        for (int i = 0; i < 3; ++i) sink.Write(StrCat("line ", i, "\n"));
      };
      return response;
    });
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.origins = OriginPolicy({"https://ok.example"});
    server_ = std::make_unique<HttpServer>(
        options, router_, hub_, [](const HttpRequest&) -> absl::StatusOr<WebSocketPlan> {
          WebSocketPlan plan;
          plan.first = [] { return std::string("first"); };
          return plan;
        });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  // Sends raw bytes and returns everything the server answers until it closes.
  std::string Raw(const std::string& bytes) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    beast::error_code ec;
    net::write(socket, net::buffer(bytes), ec);
    std::string out;
    char buf[4096];
    for (;;) {
      size_t n = socket.read_some(net::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  bhttp::response<bhttp::string_body> Request(bhttp::verb verb, const std::string& target,
                                              std::string body = "",
                                              std::string origin = "") {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    bhttp::request<bhttp::string_body> req(verb, target, 11);
    req.set(bhttp::field::host, StrCat("127.0.0.1:", server_->port()));
    if (!origin.empty()) req.set(bhttp::field::origin, origin);
    req.body() = std::move(body);
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec;
    bhttp::read(stream, buffer, parser, ec);
    return parser.release();
  }

  Router router_;
  WebSocketHub hub_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRoutesAndStreams) {
  auto hello = Request(bhttp::verb::get, "/hello");
  EXPECT_EQ(hello.result_int(), 200);
  EXPECT_EQ(hello.body(), "{\"hi\": 1}\n");
  auto missing = Request(bhttp::verb::get, "/nope");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_NE(missing.body().find("NOT_FOUND"), std::string::npos);
  auto streamed = Request(bhttp::verb::get, "/stream");
  EXPECT_EQ(streamed.result_int(), 200);
  EXPECT_EQ(streamed.body(), "line 0\nline 1\nline 2\n");
}

TEST_F(HttpServerTest, BoundsAndMalformedInput) {
  EXPECT_EQ(Raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n")
                .substr(0, 12),
            "HTTP/1.1 413");
  auto ok = Request(bhttp::verb::post, "/echo", std::string(1000, 'x'));
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(Raw("GARBAGE\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(Raw("GET /hello%zz HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(Raw(StrCat("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(20000, 'a'),
                       "\r\n\r\n"))
                .substr(0, 12),
            "HTTP/1.1 431");
  // Still serving.
  EXPECT_EQ(Request(bhttp::verb::get, "/hello").result_int(), 200);
}

TEST_F(HttpServerTest, ChecksOrigins) {
  EXPECT_EQ(Request(bhttp::verb::get, "/hello", "", "http://evil.example").result_int(), 403);
  EXPECT_EQ(Request(bhttp::verb::get, "/hello", "", "https://ok.example").result_int(), 200);
  EXPECT_EQ(Request(bhttp::verb::get, "/hello", "", StrCat("http://127.0.0.1:", server_->port()))
                .result_int(),
            200);
}

// TODO: hangs (under investigation); the hub-level test covers the drop logic.
TEST_F(HttpServerTest, DISABLED_SlowWebSocketClientIsDroppedWithoutStallingOthers) {
  auto connect = [this](net::io_context& ioc) {
    auto ws = std::make_unique<websocket::stream<tcp::socket>>(ioc);
    ws->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    // A small receive buffer, so that the slow client's backlog reaches the server soon.
    ws->next_layer().set_option(net::socket_base::receive_buffer_size(4096));
    ws->handshake(StrCat("127.0.0.1:", server_->port()), "/ws");
    return ws;
  };
  net::io_context ioc;
  auto slow = connect(ioc);
  auto fast = connect(ioc);
  for (int i = 0; i < 100 && hub_.clients() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(hub_.clients(), 2u);

  constexpr int kMessages = 3000;
  const std::string payload(16 * 1024, 'p');
  std::atomic<int> fast_received{0};
  std::thread reader([&] {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (fast_received < kMessages + 1) {
      fast->read(buffer, ec);
      if (ec) break;
      buffer.consume(buffer.size());
      fast_received++;
    }
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    hub_.PublishHeartbeat("w", std::make_shared<const std::string>(payload));
    // Publish at the pace of a client that keeps up (its queue never fills), while the
    // slow one reads nothing.
    for (int wait = 0; wait < 5000 && fast_received < i - 200; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const auto publish_time = std::chrono::steady_clock::now() - start;
  EXPECT_LT(publish_time, std::chrono::seconds(20));
  reader.join();
  EXPECT_EQ(fast_received.load(), kMessages + 1);  // "first" and every message
  EXPECT_EQ(hub_.dropped_clients(), 1u);
  EXPECT_EQ(hub_.clients(), 1u);

  // The slow client reads its backlog, then finds the connection closed ("too slow").
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (int i = 0; i < kMessages + 1 && !ec; ++i) {
    slow->read(buffer, ec);
    buffer.consume(buffer.size());
  }
  EXPECT_TRUE(ec);
  if (ec == websocket::error::closed) {
    EXPECT_EQ(slow->reason().code, websocket::close_code::policy_error);
    EXPECT_EQ(std::string(slow->reason().reason.c_str()), "too slow");
  }
}

}  // namespace
}  // namespace cloudai::master::http
