// HttpServer over loopback: limits, errors, origins, and the WebSocket fan-out with a
// client too slow to keep up.
#include "master/http/http_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
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

// A WebSocket client whose every wait is bounded: each call runs the client's own
// io_context until its operation ends or the deadline passes (then the call fails with
// beast::error::timeout).
class BoundedWsClient {
 public:
  BoundedWsClient() : ws_(ioc_) {}

  beast::error_code Connect(int port, std::chrono::milliseconds timeout) {
    beast::error_code result;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    beast::get_lowest_layer(ws_).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
        [&](beast::error_code ec) {
          if (ec) {
            result = ec;
            return;
          }
          ws_.async_handshake(StrCat("127.0.0.1:", port), "/ws",
                              [&](beast::error_code ec) { result = ec; });
        });
    Run();
    return result;
  }

  beast::error_code Read(beast::flat_buffer& buffer, std::chrono::milliseconds timeout) {
    beast::error_code result;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.async_read(buffer, [&](beast::error_code ec, size_t) { result = ec; });
    Run();
    return result;
  }

  const websocket::close_reason& reason() const { return ws_.reason(); }

  // Pings; the pong is seen by the next Read() (pongs() counts them).
  beast::error_code Ping(std::chrono::milliseconds timeout) {
    beast::error_code result;
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) pongs_++;
    });
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.async_ping({}, [&](beast::error_code ec) { result = ec; });
    Run();
    return result;
  }
  int pongs() const { return pongs_; }

  // The closing handshake from this side: ends once the server has answered and closed.
  beast::error_code Close(std::chrono::milliseconds timeout) {
    beast::error_code result;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.async_close(websocket::close_code::normal, [&](beast::error_code ec) { result = ec; });
    Run();
    return result;
  }

 private:
  void Run() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  int pongs_ = 0;
};

// One client reads everything, the other nothing: the silent one's queue fills, it is
// dropped ("too slow", 1008) while the reader gets every message and the publisher never
// waits on either. Both clients keep the kernel's default socket buffers: a tiny receive
// buffer on loopback (64 KiB segments) makes the kernel drop segments and the sender fall
// back to backed-off retransmissions, which starves even a client that reads.
TEST_F(HttpServerTest, SlowWebSocketClientIsDroppedWithoutStallingOthers) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  using std::chrono::steady_clock;
  BoundedWsClient slow, fast;
  ASSERT_FALSE(slow.Connect(server_->port(), seconds(10)));
  ASSERT_FALSE(fast.Connect(server_->port(), seconds(10)));
  for (int i = 0; i < 100 && hub_.clients() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(hub_.clients(), 2u);

  // 3000 messages of 16 KiB: far more than the 8 MiB send queue plus what the kernel
  // buffers for a client that does not read.
  constexpr int kMessages = 3000;
  const std::string payload(16 * 1024, 'p');
  std::atomic<int> fast_received{0};
  beast::error_code fast_error;
  std::thread fast_reader([&] {
    beast::flat_buffer buffer;
    while (fast_received < kMessages + 1) {
      fast_error = fast.Read(buffer, seconds(10));
      if (fast_error) break;
      buffer.consume(buffer.size());
      fast_received++;
    }
  });
  // The slow client starts reading only once it has been dropped: it then finds its
  // backlog and the close frame (which the server sends when the write in flight ends,
  // within its grace period).
  int slow_received = 0;
  beast::error_code slow_error;
  std::thread slow_reader([&] {
    const auto deadline = steady_clock::now() + seconds(60);
    while (hub_.dropped_clients() == 0 && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    beast::flat_buffer buffer;
    for (int i = 0; i < kMessages + 2; ++i) {
      slow_error = slow.Read(buffer, seconds(10));
      if (slow_error) break;
      buffer.consume(buffer.size());
      slow_received++;
    }
  });

  const auto start = steady_clock::now();
  const auto pacing_deadline = start + seconds(30);
  steady_clock::duration longest_publish{};
  for (int i = 0; i < kMessages; ++i) {
    const auto before = steady_clock::now();
    hub_.PublishHeartbeat("w", std::make_shared<const std::string>(payload));
    longest_publish = std::max(longest_publish, steady_clock::now() - before);
    // Publish at the pace of a client that keeps up (its queue never fills), while the
    // slow one reads nothing.
    while (fast_received < i - 200 && !fast_error && steady_clock::now() < pacing_deadline) {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  const auto publish_time = steady_clock::now() - start;
  EXPECT_LT(publish_time, seconds(20));
  EXPECT_LT(longest_publish, seconds(1)) << "a publish waited on a client";
  fast_reader.join();
  EXPECT_FALSE(fast_error) << fast_error.message();
  EXPECT_EQ(fast_received.load(), kMessages + 1);  // "first" and every message
  EXPECT_EQ(hub_.dropped_clients(), 1u);
  EXPECT_EQ(hub_.clients(), 1u);

  slow_reader.join();
  EXPECT_GT(slow_received, 0);
  EXPECT_LT(slow_received, kMessages + 1);
  ASSERT_EQ(slow_error, websocket::error::closed) << slow_error.message();
  EXPECT_EQ(slow.reason().code, websocket::close_code::policy_error);
  EXPECT_EQ(std::string(slow.reason().reason.c_str()), "too slow");

  // The server still serves.
  EXPECT_EQ(Request(bhttp::verb::get, "/hello").result_int(), 200);
}

// Heartbeats published together arrive as separate messages, in order; a ping is
// answered; a close from the client is answered and the connection ends.
TEST_F(HttpServerTest, WebSocketMessagesPingAndClose) {
  using std::chrono::seconds;
  BoundedWsClient ws;
  ASSERT_FALSE(ws.Connect(server_->port(), seconds(10)));
  beast::flat_buffer buffer;
  ASSERT_FALSE(ws.Read(buffer, seconds(10)));
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "first");
  buffer.consume(buffer.size());
  for (int i = 0; i < 100 && hub_.clients() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string big(70000, 'b');  // a 64-bit length in the frame header
  hub_.PublishHeartbeats({{"w1", std::make_shared<const std::string>("one")},
                          {"w2", std::make_shared<const std::string>(big)},
                          {"w1", std::make_shared<const std::string>("three")}});
  for (const std::string& want : {std::string("one"), big, std::string("three")}) {
    ASSERT_FALSE(ws.Read(buffer, seconds(10)));
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), want);
    buffer.consume(buffer.size());
  }
  ASSERT_FALSE(ws.Ping(seconds(10)));
  // The pong is read along with the messages that follow it (messages published before
  // the server has read the ping may come first).
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (ws.pongs() == 0 && std::chrono::steady_clock::now() < deadline) {
    hub_.PublishHeartbeat("w1", std::make_shared<const std::string>("after the ping"));
    ASSERT_FALSE(ws.Read(buffer, seconds(10)));
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "after the ping");
    buffer.consume(buffer.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(ws.pongs(), 1);
  EXPECT_FALSE(ws.Close(seconds(10)));
  for (int i = 0; i < 100 && hub_.clients() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(hub_.clients(), 0u);
}

// Frames a client may not send: the server answers with a close frame and its code.
TEST_F(HttpServerTest, WebSocketProtocolErrorsClose) {
  // What the server sends after the handshake, up to and with its close frame (or
  // whatever it sent when the connection ended).
  auto exchange = [this](const std::string& frame) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    net::write(socket, net::buffer(std::string(
                           "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n")));
    std::string in;
    char buf[4096];
    beast::error_code ec;
    while (in.find("\r\n\r\n") == std::string::npos && !ec) {
      in.append(buf, socket.read_some(net::buffer(buf), ec));
    }
    EXPECT_EQ(in.substr(0, 12), "HTTP/1.1 101");
    in.erase(0, in.find("\r\n\r\n") + 4);
    net::write(socket, net::buffer(frame), ec);
    // The first message ("first", 7 bytes framed) then the close frame.
    while (!ec && (in.size() < 9 || in.size() < size_t{9} + static_cast<uint8_t>(in[8]))) {
      in.append(buf, socket.read_some(net::buffer(buf), ec));
    }
    return in;
  };
  const std::string first("\x81\x05" "first", 7);
  // Unmasked: protocol error, 1002.
  std::string got = exchange(std::string("\x81\x02hi", 4));
  ASSERT_GE(got.size(), 11u) << got;
  EXPECT_EQ(got.substr(0, 7), first);
  EXPECT_EQ(static_cast<uint8_t>(got[7]), 0x88);
  EXPECT_EQ((static_cast<uint8_t>(got[9]) << 8) | static_cast<uint8_t>(got[10]), 1002);
  // A message over 64 KiB (announced in its header): 1009, before its payload comes.
  std::string huge("\x81\xFF", 2);
  for (int shift = 56; shift >= 0; shift -= 8) {
    huge.push_back(static_cast<char>((uint64_t{70000} >> shift) & 0xFF));
  }
  huge.append("\x01\x02\x03\x04", 4);  // the mask
  got = exchange(huge);
  ASSERT_GE(got.size(), 11u) << got;
  EXPECT_EQ(static_cast<uint8_t>(got[7]), 0x88);
  EXPECT_EQ((static_cast<uint8_t>(got[9]) << 8) | static_cast<uint8_t>(got[10]), 1009);
  // The server still serves.
  EXPECT_EQ(Request(bhttp::verb::get, "/hello").result_int(), 200);
}

}  // namespace
}  // namespace cloudai::master::http
