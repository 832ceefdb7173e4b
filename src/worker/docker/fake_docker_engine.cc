#include "worker/docker/fake_docker_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

// Beast 1.74's request parser trips GCC 12's -Wmaybe-uninitialized (a boost::optional in
// basic_parser) in sanitizer builds; the warning is about Boost's code, not this file's.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop

#include "common/strings.h"

namespace cloudai::worker::docker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      out.push_back(static_cast<char>(std::strtol(hex.c_str(), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    out[PercentDecode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
  }
  return out;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

}  // namespace

nlohmann::json RecordedRequest::Json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

void FakeResponder::Raw(std::string_view bytes) {
  while (!bytes.empty() && !write_failed_) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_failed_ = true;
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void FakeResponder::Respond(int status, std::string_view body, std::string_view content_type) {
  std::string head = StrCat("HTTP/1.1 ", status, " ", Reason(status),
                            "\r\nApi-Version: 1.41\r\nServer: fake-docker\r\n");
  if (status != 204 && status != 304) {
    StrAppend(&head, "Content-Type: ", content_type, "\r\nContent-Length: ", body.size(), "\r\n");
  }
  if (close_after_) head += "Connection: close\r\n";
  head += "\r\n";
  Raw(head);
  if (status != 204 && status != 304) Raw(body);
}

void FakeResponder::RespondJson(int status, const nlohmann::json& body) {
  Respond(status, body.dump() + "\n");
}

void FakeResponder::StartChunked(int status, std::string_view content_type) {
  Raw(StrCat("HTTP/1.1 ", status, " ", Reason(status), "\r\nContent-Type: ", content_type,
             "\r\nTransfer-Encoding: chunked\r\n", close_after_ ? "Connection: close\r\n" : "",
             "\r\n"));
}

void FakeResponder::Chunk(std::string_view data) {
  if (data.empty()) return;  // an empty chunk would end the body
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  Raw(StrCat(size, data, "\r\n"));
}

void FakeResponder::EndChunked() { Raw("0\r\n\r\n"); }

void FakeResponder::Hang(std::chrono::milliseconds limit) { engine_.WaitForStop(limit); }

FakeDockerEngine::FakeDockerEngine(Transport transport) : transport_(transport) {
  fallback_ = [](const RecordedRequest& request, FakeResponder& out) {
    out.RespondJson(404, {{"message", StrCat("fake docker engine: no route for ", request.method,
                                             " ", request.path)}});
  };
  routes_["GET /_ping"] = [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, "OK", "text/plain; charset=utf-8");
  };
  routes_["GET /version"] = [this](const RecordedRequest&, FakeResponder& out) {
    nlohmann::json version = {{"Version", "20.10.24-fake"},
                              {"Os", "linux"},
                              {"Arch", "amd64"},
                              {"KernelVersion", "6.1.0"}};
    {
      std::lock_guard<std::mutex> lock(mu_);
      version["ApiVersion"] = api_version_;
      version["MinAPIVersion"] = min_api_version_;
    }
    out.RespondJson(200, version);
  };

  if (transport_ == Transport::kTcp) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "fake docker engine: cannot listen on loopback: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(addr.sin_port);
  } else {
    char dir_template[] = "/tmp/cloudai-fake-docker-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    dir_ = dir;
    socket_path_ = dir_ + "/docker.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path_.c_str());
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      ADD_FAILURE() << "fake docker engine: cannot listen on " << socket_path_ << ": "
                    << std::strerror(errno);
      return;
    }
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeDockerEngine::~FakeDockerEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  DropConnections();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connection_threads_);
  }
  for (std::thread& t : threads) t.join();
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

Endpoint FakeDockerEngine::endpoint() const {
  if (transport_ == Transport::kTcp) return Endpoint::Tcp("localhost", port_);
  return Endpoint::Unix(socket_path_);
}

void FakeDockerEngine::Route(std::string method, std::string path, FakeHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[StrCat(method, " ", path)] = std::move(handler);
}

void FakeDockerEngine::SetFallback(FakeHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  fallback_ = std::move(handler);
}

void FakeDockerEngine::SetApiVersion(std::string api_version, std::string min_api_version) {
  std::lock_guard<std::mutex> lock(mu_);
  api_version_ = std::move(api_version);
  min_api_version_ = std::move(min_api_version);
}

std::vector<RecordedRequest> FakeDockerEngine::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

RecordedRequest FakeDockerEngine::LastRequest(std::string_view method,
                                              std::string_view path) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
    if (it->method == method && it->path == path) return *it;
  }
  ADD_FAILURE() << "the fake docker engine saw no " << method << " " << path;
  return RecordedRequest{};
}

void FakeDockerEngine::DropConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
}

void FakeDockerEngine::WaitForStop(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_cv_.wait_for(lock, limit, [this] { return stopping_; });
}

void FakeDockerEngine::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    const int connection = ++connections_accepted_;
    open_fds_.insert(fd);
    connection_threads_.emplace_back([this, fd, connection] { Serve(fd, connection); });
  }
}

void FakeDockerEngine::Serve(int fd, int connection) {
  asio::io_context ioc;
  asio::generic::stream_protocol::socket socket(ioc);
  boost::system::error_code ec;
  socket.assign(transport_ == Transport::kTcp ? asio::generic::stream_protocol(AF_INET, IPPROTO_TCP)
                                              : asio::generic::stream_protocol(AF_UNIX, 0),
                fd, ec);
  beast::flat_buffer buffer;
  while (!ec) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    const auto& req = parser.get();
    RecordedRequest recorded;
    recorded.method = std::string(req.method_string());
    recorded.target = std::string(req.target());
    const size_t question = recorded.target.find('?');
    recorded.path = recorded.target.substr(0, question);
    if (question != std::string::npos)
      recorded.query = ParseQuery(recorded.target.substr(question + 1));
    for (const auto& field : req) {
      recorded.headers[AsciiLower(std::string(field.name_string()))] = std::string(field.value());
    }
    recorded.body = req.body();
    recorded.connection = connection;
    FakeHandler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(recorded);
      auto it = routes_.find(StrCat(recorded.method, " ", recorded.path));
      handler = it != routes_.end() ? it->second : fallback_;
    }
    FakeResponder out(*this, fd);
    if (handler) handler(recorded, out);
    if (out.close_after_ || out.write_failed_ || !req.keep_alive()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
  }
  socket.shutdown(asio::socket_base::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace cloudai::worker::docker
