#include "worker/docker/http_client.h"

#include <cctype>
#include <limits>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/strings.h"

namespace cloudai::worker::docker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ErrorCode = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Deadline = std::optional<SteadyClock::time_point>;

// The largest error body Stream() keeps from a non-2xx response.
constexpr size_t kMaxErrorBodyBytes = size_t{1} << 20;
constexpr size_t kReadChunkBytes = 16 * 1024;

Deadline DeadlineAfter(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return std::nullopt;
  return SteadyClock::now() + timeout;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// What one asynchronous step came to: `done` is false when it was still pending at the
// deadline or when the request was cancelled.
struct Outcome {
  bool done = false;
  ErrorCode ec;
};

}  // namespace

// One connection to the engine, with the io_context that drives it. Only one thread uses
// a Connection at a time (the pool hands it over under its mutex).
class HttpClient::Connection {
 public:
  // Runs the asynchronous operation that `initiate` starts until it completes, `deadline`
  // passes or the request is cancelled (the stop callback stops the io_context). An
  // operation left pending makes the connection unusable; it is then destroyed with the
  // operation, whose handler never runs.
  template <typename Initiate>
  Outcome Run(const Deadline& deadline, const std::stop_token& stop, Initiate&& initiate) {
    Outcome outcome;
    ioc.restart();
    if (stop.stop_requested()) return outcome;
    initiate([&outcome](ErrorCode ec, auto&&...) {
      outcome.done = true;
      outcome.ec = ec;
    });
    if (deadline.has_value()) {
      ioc.run_until(*deadline);
    } else {
      ioc.run();
    }
    return outcome;
  }

  asio::io_context ioc{1};
  asio::generic::stream_protocol::socket socket{ioc};
  beast::flat_buffer buffer;
  bool reused = false;
};

// Per-attempt facts that Execute() needs to decide on retry and reuse.
struct HttpClient::Exchange {
  // Failed on a reused connection before any response byte: safe to try again.
  bool retryable = false;
  // The response ended cleanly and the server keeps the connection open.
  bool reusable = false;
};

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::string DescribeRequest(const HttpRequest& request) {
  std::string_view target = request.target;
  return StrCat(request.method, " ", target.substr(0, target.find('?')));
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

HttpClient::~HttpClient() = default;

size_t HttpClient::idle_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

std::unique_ptr<HttpClient::Connection> HttpClient::TakeIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.empty()) return nullptr;
  std::unique_ptr<Connection> conn = std::move(idle_.back());
  idle_.pop_back();
  return conn;
}

void HttpClient::ReturnIdle(std::unique_ptr<Connection> conn) {
  conn->reused = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request, std::stop_token stop) {
  return Execute(request, nullptr, stop);
}

absl::StatusOr<HttpResponse> HttpClient::Stream(const HttpRequest& request,
                                                const BodyCallback& on_body, std::stop_token stop) {
  return Execute(request, &on_body, stop);
}

absl::StatusOr<HttpResponse> HttpClient::Execute(const HttpRequest& request,
                                                 const BodyCallback* on_body,
                                                 const std::stop_token& stop) {
  if (request.target.empty() || request.target.front() != '/') {
    return absl::InvalidArgumentError(
        StrCat("HTTP request target \"", request.target, "\" must start with /"));
  }
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = attempt == 0 ? TakeIdle() : nullptr;
    if (conn == nullptr) conn = std::make_unique<Connection>();
    Exchange exchange;
    absl::StatusOr<HttpResponse> response = ExecuteOn(*conn, request, on_body, stop, exchange);
    if (!response.ok() && exchange.retryable && attempt == 0 && !stop.stop_requested()) {
      continue;  // the engine closed this idle connection; try once on a new one
    }
    if (response.ok() && exchange.reusable && !stop.stop_requested()) {
      ReturnIdle(std::move(conn));
    }
    return response;
  }
}

absl::StatusOr<HttpResponse> HttpClient::ExecuteOn(Connection& conn, const HttpRequest& request,
                                                   const BodyCallback* on_body,
                                                   const std::stop_token& stop,
                                                   Exchange& exchange) {
  const std::string what = DescribeRequest(request);
  const std::chrono::milliseconds timeout = request.timeout.value_or(options_.default_timeout);
  const Deadline deadline = DeadlineAfter(timeout);
  std::stop_callback on_stop(stop, [&conn] { conn.ioc.stop(); });

  // Turns a step that did not complete into DeadlineExceeded or Cancelled.
  auto unfinished = [&](std::string_view phase, std::chrono::milliseconds limit) {
    if (stop.stop_requested()) return absl::CancelledError(StrCat(what, ": cancelled"));
    return absl::DeadlineExceededError(StrCat(what, ": no answer from the docker engine at ",
                                              options_.endpoint.ToString(), " while ", phase,
                                              " within ", limit.count(), " ms"));
  };

  if (!conn.socket.is_open()) {
    const Endpoint& endpoint = options_.endpoint;
    Outcome connected;
    if (endpoint.kind == Endpoint::Kind::kUnix) {
      const asio::generic::stream_protocol::endpoint peer(
          asio::local::stream_protocol::endpoint(endpoint.path));
      connected = conn.Run(deadline, stop, [&](auto handler) {
        conn.socket.async_connect(peer, std::move(handler));
      });
    } else {
      asio::ip::tcp::resolver resolver(conn.ioc);
      asio::ip::tcp::resolver::results_type results;
      Outcome resolved = conn.Run(deadline, stop, [&](auto handler) {
        resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                               [&results, handler = std::move(handler)](
                                   ErrorCode ec, asio::ip::tcp::resolver::results_type r) {
                                 results = std::move(r);
                                 handler(ec);
                               });
      });
      if (!resolved.done) return unfinished("resolving its address", timeout);
      if (resolved.ec) {
        return absl::UnavailableError(
            StrCat("resolving ", endpoint.host, " for ", what, ": ", resolved.ec.message()));
      }
      connected.done = true;
      connected.ec = asio::error::host_not_found;
      for (const auto& entry : results) {
        ErrorCode ignored;
        conn.socket.close(ignored);
        const asio::generic::stream_protocol::endpoint peer(entry.endpoint());
        connected = conn.Run(deadline, stop, [&](auto handler) {
          conn.socket.async_connect(peer, std::move(handler));
        });
        if (!connected.done || !connected.ec) break;
      }
    }
    if (!connected.done) return unfinished("connecting", timeout);
    if (connected.ec) {
      return absl::UnavailableError(StrCat("connecting to the docker engine at ",
                                           endpoint.ToString(), " for ", what, ": ",
                                           connected.ec.message()));
    }
    connections_opened_.fetch_add(1);
  }

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(request.method);
  req.target(request.target);
  req.set(http::field::host, options_.endpoint.HostHeader());
  req.set(http::field::user_agent, options_.user_agent);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty()) req.set(http::field::content_type, request.content_type);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  Outcome written = conn.Run(deadline, stop, [&](auto handler) {
    http::async_write(conn.socket, req, std::move(handler));
  });
  if (!written.done) return unfinished("sending the request", timeout);
  if (written.ec) {
    exchange.retryable = conn.reused;
    return absl::UnavailableError(
        StrCat(what, ": sending the request to the docker engine failed: ", written.ec.message()));
  }

  http::response_parser<http::buffer_body> parser;
  // Bounded below, and not at all when streamed. (Beast 1.74 mishandles boost::none here.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  Outcome header = conn.Run(deadline, stop, [&](auto handler) {
    http::async_read_header(conn.socket, conn.buffer, parser, std::move(handler));
  });
  if (!header.done) return unfinished("waiting for the response", timeout);
  if (header.ec) {
    exchange.retryable = conn.reused && !parser.got_some();
    if (header.ec == http::error::end_of_stream || header.ec == http::error::partial_message) {
      return absl::UnavailableError(
          StrCat(what, ": the docker engine closed the connection before answering"));
    }
    return absl::UnavailableError(
        StrCat(what, ": reading the response header failed: ", header.ec.message()));
  }

  HttpResponse response;
  const auto& head = parser.get();
  response.status = static_cast<int>(head.result_int());
  response.reason = std::string(head.reason());
  for (const auto& field : head) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }

  const bool deliver = on_body != nullptr && response.ok();
  const size_t body_limit = on_body != nullptr ? kMaxErrorBodyBytes : options_.max_body_bytes;
  std::unique_ptr<char[]> chunk(new char[kReadChunkBytes]);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = kReadChunkBytes;
    const Deadline read_deadline =
        on_body != nullptr ? DeadlineAfter(request.idle_timeout) : deadline;
    Outcome read = conn.Run(read_deadline, stop, [&](auto handler) {
      http::async_read_some(conn.socket, conn.buffer, parser, std::move(handler));
    });
    if (!read.done) {
      return unfinished("reading the response body",
                        on_body != nullptr ? request.idle_timeout : timeout);
    }
    if (read.ec == http::error::need_buffer) read.ec = {};
    if (read.ec) {
      if (read.ec == http::error::end_of_stream || read.ec == http::error::partial_message ||
          read.ec == asio::error::eof) {
        return absl::UnavailableError(StrCat(
            what, ": the docker engine closed the connection before the response was complete"));
      }
      return absl::UnavailableError(
          StrCat(what, ": reading the response body failed: ", read.ec.message()));
    }
    const size_t n = kReadChunkBytes - parser.get().body().size;
    if (n == 0) continue;
    if (deliver) {
      absl::Status status = (*on_body)(std::string_view(chunk.get(), n));
      if (!status.ok()) return status;
    } else {
      if (response.body.size() + n > body_limit) {
        return absl::ResourceExhaustedError(
            StrCat(what, ": the response body is larger than ", body_limit, " bytes"));
      }
      response.body.append(chunk.get(), n);
    }
  }
  exchange.reusable = parser.keep_alive() && conn.buffer.size() == 0;
  return response;
}

}  // namespace cloudai::worker::docker
