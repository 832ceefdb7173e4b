#include "master/http/http_server.h"

#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <optional>

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
using namespace std::chrono_literals;

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;
constexpr auto kRequestTimeout = 30s;
constexpr auto kWriteTimeout = 60s;
// WebSocket: per-client send queue bounds, ping period, read deadline.
constexpr size_t kMaxQueuedMessages = 1024;
constexpr size_t kMaxQueuedBytes = 8 * 1024 * 1024;
constexpr auto kPingPeriod = 54s;
constexpr auto kReadDeadline = 60s;
constexpr auto kCloseGrace = 5s;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Abort() = 0;
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions o, const Router& r, WebSocketHub& h, UpgradeHandler u)
      : options(std::move(o)), router(r), hub(h), upgrade(std::move(u)),
        handlers(static_cast<size_t>(std::max(1, options.handler_threads))) {}

  void Track(const std::shared_ptr<Connection>& connection) {
    std::lock_guard<std::mutex> lock(connections_mu);
    if (connections.size() > 64 && connections.size() % 64 == 0) {
      std::erase_if(connections, [](const auto& w) { return w.expired(); });
    }
    connections.push_back(connection);
  }
  void Accept();

  HttpServerOptions options;
  const Router& router;
  WebSocketHub& hub;
  UpgradeHandler upgrade;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::thread_pool handlers;
  std::vector<std::thread> threads;
  std::atomic<int> streams{0};
  std::atomic<bool> stopping{false};
  std::mutex connections_mu;
  std::vector<std::weak_ptr<Connection>> connections;
};

namespace {

// ---- WebSocket -----------------------------------------------------------------------

class WebSocketSession final : public Subscriber,
                               public Connection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, WebSocketHub& hub, WebSocketPlan plan)
      : ws_(std::move(stream)), hub_(hub), plan_(std::move(plan)),
        ping_timer_(ws_.get_executor()), kill_timer_(ws_.get_executor()) {}

  void Start(bhttp::request<bhttp::string_body> request) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = kRequestTimeout;
    timeouts.idle_timeout = kReadDeadline;  // closed when nothing arrives this long
    timeouts.keep_alive_pings = false;      // our own pings, every kPingPeriod
    ws_.set_option(timeouts);
    ws_.read_message_max(64 * 1024);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(bhttp::field::server, "cloudai-master");
    }));
    auto request_ptr = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(request));
    ws_.async_accept(*request_ptr, [self = shared_from_this(), request_ptr](beast::error_code ec) {
      self->OnAccept(ec);
    });
  }

  bool Offer(Message message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return true;
    if (queue_.size() >= kMaxQueuedMessages || queued_bytes_ + message->size() > kMaxQueuedBytes) {
      return false;
    }
    queued_bytes_ += message->size();
    queue_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->WriteNext(); });
    }
    return true;
  }

  void Drop(std::string_view reason) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      closing_ = true;
      close_reason_ = std::string(reason);
      queue_.clear();
      queued_bytes_ = 0;
    }
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->BeginClose(); });
  }

  void Abort() override {
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
      self->ping_timer_.cancel();
      self->kill_timer_.cancel();
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    uint64_t id = hub_.Add(shared_from_this(), plan_.subscription, plan_.first);
    id_ = id;
    Read();
    SchedulePing();
  }

  void Read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->Finish();
        return;
      }
      self->in_.consume(self->in_.size());  // clients have nothing to say; reading keeps
      self->Read();                          // the connection alive and answers pings
    });
  }

  void SchedulePing() {
    ping_timer_.expires_after(kPingPeriod);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_) return;
      self->ws_.async_ping({}, [self](beast::error_code ec) {
        if (ec) self->Finish();
      });
      self->SchedulePing();
    });
  }

  // On the strand.
  void WriteNext() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_ || queue_.empty() || finished_) {
        writing_ = false;
        if (closing_) {
          net::post(ws_.get_executor(), [self = shared_from_this()] { self->BeginClose(); });
        }
        return;
      }
      current_ = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= current_->size();
    }
    ws_.text(true);
    ws_.async_write(net::buffer(*current_), [self = shared_from_this()](beast::error_code ec,
                                                                        size_t) {
      self->current_.reset();
      if (ec) {
        {
          std::lock_guard<std::mutex> lock(self->mu_);
          self->writing_ = false;
        }
        self->Finish();
        return;
      }
      self->WriteNext();
    });
  }

  // On the strand: closes with 1008 once no write is in flight; the socket is closed
  // outright if that takes longer than kCloseGrace.
  void BeginClose() {
    if (finished_ || close_started_) return;
    if (!kill_armed_) {
      kill_armed_ = true;
      kill_timer_.expires_after(kCloseGrace);
      kill_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_) return;  // WriteNext() calls again when the write ends
    }
    close_started_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, close_reason_),
                    [self = shared_from_this()](beast::error_code) { self->Finish(); });
  }

  void Finish() {
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    finished_ = true;
    ping_timer_.cancel();
  }

  websocket::stream<beast::tcp_stream> ws_;
  WebSocketHub& hub_;
  WebSocketPlan plan_;
  net::steady_timer ping_timer_, kill_timer_;
  beast::flat_buffer in_;
  std::atomic<uint64_t> id_{0};
  Message current_;  // the message being written (strand only)
  bool finished_ = false, close_started_ = false, kill_armed_ = false;  // strand only
  std::string close_reason_;  // set before closing_, read on the strand after
  std::mutex mu_;
  std::deque<Message> queue_;  // guarded by mu_
  size_t queued_bytes_ = 0;    // guarded by mu_
  bool writing_ = false;       // guarded by mu_: a WriteNext() chain is running
  bool closing_ = false;       // guarded by mu_
};

// ---- HTTP ----------------------------------------------------------------------------

class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  void Abort() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  class Sink final : public ChunkSink {
   public:
    explicit Sink(std::shared_ptr<HttpSession> session) : session_(std::move(session)) {}
    bool Write(std::string_view data) override {
      if (Closed()) return false;
      if (data.empty()) return true;
      auto copy = std::make_shared<std::string>(data);
      ok_ = session_->WriteAndWait([session = session_, copy](auto done) {
        net::async_write(session->stream_, bhttp::make_chunk(net::buffer(*copy)),
                         [copy, done](beast::error_code ec, size_t) { done(ec); });
      });
      return ok_;
    }
    bool Closed() const override { return !ok_ || session_->server_.stopping.load(); }

   private:
    std::shared_ptr<HttpSession> session_;
    bool ok_ = true;
  };

  // Runs `start(done)` on the strand and waits for `done`; false on error or at stop.
  template <typename Start>
  bool WriteAndWait(Start start) {
    auto promise = std::make_shared<std::promise<beast::error_code>>();
    std::future<beast::error_code> result = promise->get_future();
    net::post(stream_.get_executor(), [self = shared_from_this(), start, promise] {
      self->stream_.expires_after(kWriteTimeout);
      start([promise](beast::error_code ec) { promise->set_value(ec); });
    });
    while (result.wait_for(200ms) != std::future_status::ready) {
      if (server_.stopping) return false;
    }
    return !result.get();
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kRequestTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      Send(ErrorResponse(413, "INVALID_ARGUMENT",
                         StrCat("body: larger than ", kMaxBodyBytes, " bytes")),
           false);
      return;
    }
    if (ec == bhttp::error::header_limit) {
      Send(ErrorResponse(431, "INVALID_ARGUMENT",
                         StrCat("headers: larger than ", kMaxHeaderBytes, " bytes")),
           false);
      return;
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      Send(ErrorResponse(400, "INVALID_ARGUMENT", StrCat("request: ", ec.message())), false);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    bhttp::request<bhttp::string_body> raw = parser_->release();
    HttpRequest request;
    request.method = std::string(raw.method_string());
    request.target = std::string(raw.target());
    for (const auto& field : raw) {
      request.headers[AsciiLower(std::string_view(field.name_string().data(),
                                                  field.name_string().size()))] =
          std::string(field.value());
    }
    request.body = std::move(raw.body());
    const bool keep_alive = raw.keep_alive();
    if (absl::Status parsed = ParseTarget(request.target, &request.path, &request.query);
        !parsed.ok()) {
      Send(ErrorResponse(parsed), false);
      return;
    }
    if (!server_.options.origins.Allowed(request.Header("origin"), request.Header("host"))) {
      Send(ErrorResponse(403, "PERMISSION_DENIED",
                         StrCat("origin: ", request.Header("origin").value_or(""),
                                " is not allowed; add it to --http-allowed-origins")),
           keep_alive);
      return;
    }
    if (websocket::is_upgrade(raw)) {
      absl::StatusOr<WebSocketPlan> plan = server_.upgrade(request);
      if (!plan.ok()) {
        Send(ErrorResponse(plan.status()), false);
        return;
      }
      auto session = std::make_shared<WebSocketSession>(std::move(stream_), server_.hub,
                                                        std::move(*plan));
      server_.Track(session);
      raw.body().clear();
      session->Start(std::move(raw));
      return;
    }
    net::post(server_.handlers, [self = shared_from_this(), request = std::move(request),
                                 keep_alive]() mutable {
      self->Handle(std::move(request), keep_alive);
    });
  }

  // On a handler thread.
  void Handle(HttpRequest request, bool keep_alive) {
    HttpResponse response;
    try {
      response = server_.router.Dispatch(request);
    } catch (const std::exception& e) {
      response = ErrorResponse(500, "INTERNAL", StrCat("internal error: ", e.what()));
    }
    if (request.method == "HEAD") {
      response.stream = nullptr;
    }
    if (!response.stream) {
      net::post(stream_.get_executor(),
                [self = shared_from_this(), response = std::move(response), keep_alive,
                 head = request.method == "HEAD"]() mutable {
                  if (head) response.body.clear();
                  self->Send(std::move(response), keep_alive);
                });
      return;
    }
    if (server_.streams.fetch_add(1) >= HttpServer::kMaxStreams) {
      server_.streams--;
      net::post(stream_.get_executor(), [self = shared_from_this()] {
        self->Send(ErrorResponse(503, "UNAVAILABLE", "too many streamed responses; retry later"),
                   false);
      });
      return;
    }
    auto header = std::make_shared<bhttp::response<bhttp::empty_body>>(
        static_cast<bhttp::status>(response.status), 11);
    header->set(bhttp::field::server, "cloudai-master");
    header->set(bhttp::field::content_type, response.content_type);
    header->set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) header->set(name, value);
    header->keep_alive(false);
    header->chunked(true);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
    bool ok = WriteAndWait([self = shared_from_this(), header, serializer](auto done) {
      bhttp::async_write_header(self->stream_, *serializer,
                                [header, serializer, done](beast::error_code ec, size_t) {
                                  done(ec);
                                });
    });
    if (ok) {
      Sink sink(shared_from_this());
      try {
        response.stream(sink);
      } catch (const std::exception&) {
        // The body is cut short; the client sees no last chunk.
        ok = false;
      }
      if (ok && !sink.Closed()) {
        WriteAndWait([self = shared_from_this()](auto done) {
          net::async_write(self->stream_, bhttp::make_chunk_last(),
                           [self, done](beast::error_code ec, size_t) { done(ec); });
        });
      }
    }
    server_.streams--;
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

  // On the strand.
  void Send(HttpResponse response, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), 11);
    res->set(bhttp::field::server, "cloudai-master");
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) {
                           self->Close();
                           return;
                         }
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      // Small messages (a heartbeat to a dashboard) go out at once, not after the
      // kernel's delayed-acknowledgement wait for more to coalesce with.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<HttpSession>(std::move(socket), *this);
      Track(session);
      session->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, const Router& router, WebSocketHub& hub,
                       UpgradeHandler upgrade)
    : impl_(std::make_unique<Impl>(std::move(options), router, hub, std::move(upgrade))) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  const std::string& listen = impl_->options.listen;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(StrCat("http listen address: \"", listen,
                                             "\" must be host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(host.empty() ? "0.0.0.0" : host, port, ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(StrCat("cannot resolve ", listen, ": ", ec.message()));
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("cannot listen on ", listen, ": ", ec.message()));
  }
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->connections_mu);
    for (const auto& weak : impl_->connections) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
    impl_->connections.clear();
  }
  for (const auto& connection : live) connection->Abort();
  live.clear();
  impl_->handlers.join();
  // Whatever is left (closing handshakes) gets a moment, then the loop stops.
  auto deadline = std::chrono::steady_clock::now() + 1s;
  while (impl_->ioc.poll_one() > 0 && std::chrono::steady_clock::now() < deadline) {
  }
  impl_->ioc.stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace cloudai::master::http
