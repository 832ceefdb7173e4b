#include "master/http/http_server.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
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

// RFC 6455 frames. Beast answers the opening handshake; the frames after it are written
// and read here, so that a server frame (unmasked, the same bytes for every client) is
// built once per message and several queued messages go out in one write.
constexpr uint8_t kOpContinuation = 0x0, kOpText = 0x1, kOpBinary = 0x2, kOpClose = 0x8,
                  kOpPing = 0x9, kOpPong = 0xA;
constexpr size_t kMaxIncomingMessage = 64 * 1024;  // clients have nothing long to say
constexpr size_t kMaxBatchFrames = 64;             // per write (two buffers each)
constexpr size_t kMaxBatchBytes = 256 * 1024;

// The header of an unfragmented, unmasked frame of `length` payload bytes.
std::string FrameHeader(uint8_t opcode, size_t length) {
  std::string header(1, static_cast<char>(0x80 | opcode));
  if (length < 126) {
    header.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    header.push_back(static_cast<char>(126));
    header.push_back(static_cast<char>(length >> 8));
    header.push_back(static_cast<char>(length & 0xFF));
  } else {
    header.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      header.push_back(static_cast<char>((static_cast<uint64_t>(length) >> shift) & 0xFF));
    }
  }
  return header;
}

// A frame to send: `head` (the header, and a control frame's whole payload) then
// `payload` (a published message, shared by every client it goes to; null for control
// frames).
struct Frame {
  std::string head;
  Message payload;
  bool close = false;

  size_t size() const { return head.size() + (payload ? payload->size() : 0); }
};

Frame DataFrame(Message message) {
  Frame frame;
  frame.head = FrameHeader(kOpText, message->size());
  frame.payload = std::move(message);
  return frame;
}

Frame ControlFrame(uint8_t opcode, std::string_view payload) {
  Frame frame;
  payload = payload.substr(0, 125);
  frame.head = FrameHeader(opcode, payload.size());
  frame.head.append(payload);
  frame.close = opcode == kOpClose;
  return frame;
}

Frame CloseFrame(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  return ControlFrame(kOpClose, payload);
}

// One WebSocket client. Writes: a message offered while nothing is queued or being
// written is sent at once from the offering thread (a non-blocking send; the socket's
// buffer takes it), without waiting for an I/O thread; otherwise it is queued and the
// session's strand writes everything queued in one gathered write. Reads run on the
// strand: pings are answered, a close is echoed, data is read and discarded.
class WebSocketSession final : public Subscriber,
                               public Connection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, WebSocketHub& hub, WebSocketPlan plan)
      : socket_(stream.get_executor()), ping_timer_(stream.get_executor()),
        kill_timer_(stream.get_executor()), read_timer_(stream.get_executor()),
        handshake_(std::in_place, std::move(stream)), hub_(hub), plan_(std::move(plan)) {}

  void Start(bhttp::request<bhttp::string_body> request) {
    beast::get_lowest_layer(*handshake_).expires_after(kRequestTimeout);
    handshake_->set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(bhttp::field::server, "cloudai-master");
    }));
    auto request_ptr = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(request));
    handshake_->async_accept(*request_ptr,
                             [self = shared_from_this(), request_ptr](beast::error_code ec) {
                               self->OnAccept(ec);
                             });
  }

  bool Offer(Message message) override {
    std::lock_guard<std::mutex> lock(mu_);
    return OfferLocked(&message, 1);
  }

  bool OfferAll(const std::vector<Message>& messages) override {
    std::lock_guard<std::mutex> lock(mu_);
    return OfferLocked(messages.data(), messages.size());
  }

  void Drop(std::string_view reason) override {
    BeginClose(websocket::close_code::policy_error, reason);
  }

  void Abort() override {
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->Finish(); });
  }

 private:
  // With mu_ held: queues `count` messages, sending at once what the socket takes when
  // nothing is queued or being written.
  bool OfferLocked(const Message* messages, size_t count) {
    if (closing_ || !open_) return true;
    size_t bytes = 0;
    for (size_t i = 0; i < count; ++i) bytes += messages[i]->size();
    if (queue_.size() + count > kMaxQueuedMessages || queued_bytes_ + bytes > kMaxQueuedBytes) {
      return false;
    }
    offered_.clear();
    for (size_t i = 0; i < count; ++i) offered_.push_back(DataFrame(messages[i]));
    size_t sent = !writing_ && queue_.empty() ? SendNow(offered_) : 0;
    for (Frame& frame : offered_) {
      if (sent >= frame.size()) {  // all of it went out
        sent -= frame.size();
        continue;
      }
      if (sent > 0) front_sent_ = sent;  // the first frame queued; the rest of it goes first
      sent = 0;
      queued_bytes_ += frame.size();
      queue_.push_back(std::move(frame));
    }
    offered_.clear();
    if (!queue_.empty()) StartWriting();
    return true;
  }

  // With mu_ held: sends what the socket takes of `frames` now, without blocking, in one
  // call; the bytes sent (0 when it takes none, or on an error the next write reports).
  size_t SendNow(const std::vector<Frame>& frames) {
    std::array<iovec, 2 * kMaxBatchFrames> parts;
    size_t n = 0;
    for (const Frame& frame : frames) {
      if (n + 2 > parts.size()) break;
      parts[n++] = {const_cast<char*>(frame.head.data()), frame.head.size()};
      if (frame.payload) {
        parts[n++] = {const_cast<char*>(frame.payload->data()), frame.payload->size()};
      }
    }
    msghdr header{};
    header.msg_iov = parts.data();
    header.msg_iovlen = n;
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    return sent > 0 ? static_cast<size_t>(sent) : 0;
  }

  // With mu_ held: starts the strand's write loop unless it runs.
  void StartWriting() {
    if (writing_) return;
    writing_ = true;
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->WriteNext(); });
  }

  // Queues a ping or a pong (urgent: before queued data). Nothing follows a close frame.
  void QueueControl(Frame frame, bool urgent) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_ || closing_) return;
    queued_bytes_ += frame.size();
    if (urgent && !queue_.empty()) {
      // Not into the frame the socket has part of.
      auto at = front_sent_ > 0 ? std::next(queue_.begin()) : queue_.begin();
      queue_.insert(at, std::move(frame));
    } else {
      queue_.push_back(std::move(frame));
    }
    StartWriting();
  }

  // Any thread: closes with `code` and `reason`: queued data is dropped (a frame the
  // socket has part of is finished first), the close frame sent, then the client's close
  // awaited for kCloseGrace at most.
  void BeginClose(uint16_t code, std::string_view reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_ || !open_) return;
      closing_ = true;
      const size_t keep = front_sent_ > 0 && !queue_.empty() ? 1 : 0;
      while (queue_.size() > keep) {
        queue_.pop_back();
      }
      queued_bytes_ = keep ? queue_.front().size() : 0;
    }
    QueueControlClosing(CloseFrame(code, reason));
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->ArmKillTimer(); });
  }

  // The close frame, after whatever is queued.
  void QueueControlClosing(Frame frame) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) return;
    queue_.push_back(std::move(frame));
    StartWriting();
  }

  // ---- on the strand

  void OnAccept(beast::error_code ec) {
    if (ec || finished_) return;
    socket_ = beast::get_lowest_layer(*handshake_).release_socket();
    handshake_.reset();
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    uint64_t id = hub_.Add(shared_from_this(), plan_.subscription, plan_.first);
    id_ = id;
    ArmReadDeadline();
    Read();
    SchedulePing();
  }

  void WriteNext() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!open_ || queue_.empty()) {
        writing_ = false;
        return;
      }
      size_t bytes = 0;
      while (!queue_.empty() && inflight_.size() < kMaxBatchFrames && bytes < kMaxBatchBytes) {
        bytes += queue_.front().size();
        queued_bytes_ -= std::min(queued_bytes_, queue_.front().size());
        inflight_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // The buffers point into the frames: built once inflight_ no longer grows.
      buffers_.clear();
      size_t skip = front_sent_;  // of the first frame, sent already
      for (const Frame& frame : inflight_) {
        const std::string_view head = frame.head;
        if (skip < head.size()) {
          buffers_.emplace_back(head.data() + skip, head.size() - skip);
          skip = 0;
        } else {
          skip -= head.size();
        }
        if (frame.payload) {
          buffers_.emplace_back(frame.payload->data() + skip, frame.payload->size() - skip);
        }
        skip = 0;
      }
      front_sent_ = 0;
    }
    net::async_write(socket_, buffers_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnWritten(ec);
    });
  }

  void OnWritten(beast::error_code ec) {
    bool close_sent = false;
    for (const Frame& frame : inflight_) close_sent |= frame.close;
    inflight_.clear();
    if (ec) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        writing_ = false;
      }
      Finish();
      return;
    }
    if (close_sent) {
      close_sent_ = true;
      // The closing handshake ends when the client's close arrives (or the kill timer).
      if (close_received_) {
        Finish();
        return;
      }
    }
    WriteNext();
  }

  void Read() {
    socket_.async_read_some(net::buffer(read_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) {
      Finish();  // the client went away (or the socket was closed here)
      return;
    }
    ArmReadDeadline();
    in_.append(read_buffer_.data(), n);
    if (ParseFrames()) Read();
  }

  // Handles the complete frames in in_; false when reading should stop.
  bool ParseFrames() {
    size_t at = 0;
    const auto byte = [this](size_t i) { return static_cast<uint8_t>(in_[i]); };
    for (;;) {
      const size_t left = in_.size() - at;
      if (left < 2) break;
      const uint8_t b0 = byte(at), b1 = byte(at + 1);
      const bool fin = (b0 & 0x80) != 0;
      const uint8_t opcode = b0 & 0x0F;
      uint64_t length = b1 & 0x7F;
      size_t header = 2;
      if (length == 126) {
        if (left < 4) break;
        length = (uint64_t{byte(at + 2)} << 8) | byte(at + 3);
        header = 4;
      } else if (length == 127) {
        if (left < 10) break;
        length = 0;
        for (size_t i = 0; i < 8; ++i) length = (length << 8) | byte(at + 2 + i);
        header = 10;
      }
      const bool control = (opcode & 0x8) != 0;
      // Clients mask every frame; no extension was agreed, so no reserved bit is set.
      if ((b0 & 0x70) != 0 || (b1 & 0x80) == 0) {
        return Fail(websocket::close_code::protocol_error, "protocol error");
      }
      if (control ? (!fin || length > 125 ||
                     (opcode != kOpClose && opcode != kOpPing && opcode != kOpPong))
                  : (opcode > kOpBinary || (opcode == kOpContinuation) != in_message_)) {
        return Fail(websocket::close_code::protocol_error, "protocol error");
      }
      if (!control && message_bytes_ + length > kMaxIncomingMessage) {
        return Fail(websocket::close_code::too_big, "message too big");
      }
      header += 4;  // the mask
      if (left < header + length) break;
      const size_t payload_at = at + header;
      if (control) {
        std::string payload = in_.substr(payload_at, length);
        for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= in_[payload_at - 4 + i % 4];
        if (opcode == kOpPing) {
          QueueControl(ControlFrame(kOpPong, payload), /*urgent=*/true);
        } else if (opcode == kOpClose) {
          in_.clear();
          return OnClientClose(payload);
        }
      } else {
        // Clients have nothing to say; the data is counted and dropped.
        message_bytes_ = fin ? 0 : message_bytes_ + length;
        in_message_ = !fin;
      }
      at += header + length;
    }
    in_.erase(0, at);
    return true;
  }

  // The client's close frame: the reply to ours, or its own (echoed, then the socket
  // closed). Reading stops.
  bool OnClientClose(const std::string& payload) {
    close_received_ = true;
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    if (close_sent_) {
      Finish();
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return false;  // ours is on its way; its write ends the session
      closing_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      front_sent_ = 0;
    }
    ArmKillTimer();
    QueueControlClosing(ControlFrame(kOpClose, payload.substr(0, 2)));
    return false;
  }

  bool Fail(uint16_t code, std::string_view reason) {
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    BeginClose(code, reason);
    return false;
  }

  void ArmKillTimer() {
    if (kill_armed_ || finished_) return;
    kill_armed_ = true;
    kill_timer_.expires_after(kCloseGrace);
    kill_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Finish();
    });
  }

  // Closed when nothing arrives for kReadDeadline (clients answer the pings).
  void ArmReadDeadline() {
    read_timer_.expires_after(kReadDeadline);
    read_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Finish();
    });
  }

  void SchedulePing() {
    ping_timer_.expires_after(kPingPeriod);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_) return;
      self->QueueControl(ControlFrame(kOpPing, ""), /*urgent=*/false);
      self->SchedulePing();
    });
  }

  // Ends the session: out of the hub, the socket closed (under mu_'s flag, so that no
  // Offer() sends on a descriptor number reused after the close), timers cancelled.
  void Finish() {
    if (uint64_t id = id_.exchange(0); id != 0) hub_.Remove(id);
    if (finished_) return;
    finished_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = false;
      queue_.clear();
      queued_bytes_ = 0;
    }
    beast::error_code ignored;
    if (handshake_) beast::get_lowest_layer(*handshake_).socket().close(ignored);
    socket_.close(ignored);
    ping_timer_.cancel();
    kill_timer_.cancel();
    read_timer_.cancel();
  }

  tcp::socket socket_;  // after the handshake
  net::steady_timer ping_timer_, kill_timer_, read_timer_;
  std::optional<websocket::stream<beast::tcp_stream>> handshake_;  // until the 101 answer
  WebSocketHub& hub_;
  WebSocketPlan plan_;
  std::atomic<uint64_t> id_{0};
  // Strand only.
  std::array<char, 4096> read_buffer_{};
  std::string in_;              // received bytes not yet parsed
  size_t message_bytes_ = 0;    // of the (fragmented) message being received
  bool in_message_ = false;     // a fragmented message is being received
  std::vector<Frame> inflight_;  // being written
  std::vector<net::const_buffer> buffers_;
  bool finished_ = false, close_sent_ = false, close_received_ = false, kill_armed_ = false;
  std::mutex mu_;
  std::deque<Frame> queue_;    // guarded by mu_: not yet written
  std::vector<Frame> offered_;  // guarded by mu_: scratch for OfferLocked()
  size_t front_sent_ = 0;      // guarded by mu_: bytes of queue_.front() already sent
  size_t queued_bytes_ = 0;    // guarded by mu_
  bool open_ = false;          // guarded by mu_: the socket is open (after the handshake)
  bool writing_ = false;       // guarded by mu_: the strand's write loop runs
  bool closing_ = false;       // guarded by mu_: a close frame is queued or sent
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
