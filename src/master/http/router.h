// Router: the master's HTTP requests and answers as plain values, and the table that
// sends each request to its handler by method and path pattern.
//
// Patterns are paths whose segments may be `{name}` (one non-empty segment) or, last,
// `{name...}` (the rest of the path, one or more segments); the matched values land in
// HttpRequest::params, percent-decoded. A path that matches no pattern is 404; one that
// matches only under other methods is 405 with an Allow header. Handlers answer an
// HttpResponse; one with `stream` set has its body produced by that function, sent
// chunked (for followed logs).
//
// Thread safety: Add() before the server starts; Dispatch() from any thread,
// concurrently.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cloudai::master::http {

struct HttpRequest {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded; the last value wins
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::map<std::string, std::string> params;  // filled by the router

  // The header's value, nullopt when absent (`name` in lower case).
  std::optional<std::string_view> Header(const std::string& name) const;
  // The query parameter's value, "" when absent.
  std::string Query(const std::string& name) const;
};

// Where a streamed body goes. Write() returns false once the client has gone away.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual bool Write(std::string_view data) = 0;
  // Whether the client has gone away (or the server is stopping).
  virtual bool Closed() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the body is whatever this writes, sent with chunked transfer encoding.
  std::function<void(ChunkSink&)> stream;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Splits a request target into its decoded path and query. INVALID_ARGUMENT for a bad
// percent escape or a target that is not origin-form ("/...").
absl::Status ParseTarget(std::string_view target, std::string* path,
                         std::map<std::string, std::string>* query);
// Percent-decodes `text` ('+' is a space when `plus_is_space`); false on a bad escape.
bool PercentDecode(std::string_view text, bool plus_is_space, std::string* out);

class Router {
 public:
  void Add(std::string method, std::string_view pattern, Handler handler);
  // Matches `request` (method and path), fills its params and runs the handler.
  HttpResponse Dispatch(HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" / "{name...}" are captures
    Handler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params);

  std::vector<Route> routes_;
};

// Splits a decoded path into its segments ("/a/b/" -> {"a", "b", ""}).
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace cloudai::master::http
