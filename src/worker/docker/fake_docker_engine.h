// FakeDockerEngine: a scripted stand-in for the Docker engine in CloudAI's tests.
//
// An HTTP/1.1 server (Boost.Beast) on a unix socket in a fresh temporary directory (or on a
// free loopback TCP port, to test the client's tcp:// path), run by
// its own threads (one accepting, one per connection, keep-alive honoured). Every request
// is recorded; handlers registered per "METHOD /path" script the answer, and may write it
// in pieces, chunked, slowly, cut short, or not at all. GET /_ping and GET /version answer
// by default (API version settable).
//
// Thread safety: every method may be called from any thread. Handlers run on the
// engine's connection threads, one request at a time per connection; the destructor wakes
// handlers blocked in Hang(), closes every connection and joins the threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "worker/docker/endpoint.h"

namespace cloudai::worker::docker {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query as sent
  std::string path;                            // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int connection = 0;  // 1 for the first connection accepted, 2 for the next, ...

  // The body as JSON (discarded when it is not JSON).
  nlohmann::json Json() const;
};

class FakeDockerEngine;

// How a handler answers. Writes go straight to the socket; errors (the client left) are
// remembered, not thrown.
class FakeResponder {
 public:
  void Respond(int status, std::string_view body,
               std::string_view content_type = "application/json");
  void RespondJson(int status, const nlohmann::json& body);
  // A response with Transfer-Encoding: chunked; then Chunk() any number of times and
  // EndChunked().
  void StartChunked(int status, std::string_view content_type = "application/json");
  void Chunk(std::string_view data);
  void EndChunked();
  // Bytes exactly as given.
  void Raw(std::string_view bytes);
  // Closes the connection once the handler returns (no keep-alive).
  void CloseAfter() { close_after_ = true; }
  // Blocks until the engine shuts down or `limit` passes: an engine that hangs.
  void Hang(std::chrono::milliseconds limit);
  bool write_failed() const { return write_failed_; }

 private:
  friend class FakeDockerEngine;
  FakeResponder(FakeDockerEngine& engine, int fd) : engine_(engine), fd_(fd) {}

  FakeDockerEngine& engine_;
  int fd_;
  bool close_after_ = false;
  bool write_failed_ = false;
};

using FakeHandler = std::function<void(const RecordedRequest& request, FakeResponder& out)>;

class FakeDockerEngine {
 public:
  enum class Transport { kUnix, kTcp };

  explicit FakeDockerEngine(Transport transport = Transport::kUnix);
  ~FakeDockerEngine();

  FakeDockerEngine(const FakeDockerEngine&) = delete;
  FakeDockerEngine& operator=(const FakeDockerEngine&) = delete;

  // kUnix: the socket's path; kTcp: empty.
  const std::string& socket_path() const { return socket_path_; }
  // unix://<socket_path>, or tcp://localhost:<port>.
  Endpoint endpoint() const;

  // Answers "METHOD /path" (the path without query) with `handler`, replacing any earlier
  // handler for it.
  void Route(std::string method, std::string path, FakeHandler handler);
  // Answers everything without a route (default: 404 with a message).
  void SetFallback(FakeHandler handler);
  // What GET /version reports.
  void SetApiVersion(std::string api_version, std::string min_api_version = "1.12");

  std::vector<RecordedRequest> requests() const;
  // The last request to "METHOD /path"; fails the test when there is none.
  RecordedRequest LastRequest(std::string_view method, std::string_view path) const;
  int connections_accepted() const { return connections_accepted_.load(); }
  // Closes every open connection now (as an engine that drops idle keep-alive ones).
  void DropConnections();

 private:
  friend class FakeResponder;
  void AcceptLoop();
  void Serve(int fd, int connection);
  void WaitForStop(std::chrono::milliseconds limit);

  const Transport transport_;
  std::string dir_;
  std::string socket_path_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::atomic<int> connections_accepted_{0};

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                        // guarded by mu_
  std::map<std::string, FakeHandler> routes_;    // guarded by mu_
  FakeHandler fallback_;                         // guarded by mu_
  std::string api_version_ = "1.41";             // guarded by mu_
  std::string min_api_version_ = "1.12";         // guarded by mu_
  std::vector<RecordedRequest> requests_;        // guarded by mu_
  std::set<int> open_fds_;                       // guarded by mu_
  std::vector<std::thread> connection_threads_;  // guarded by mu_
};

}  // namespace cloudai::worker::docker
