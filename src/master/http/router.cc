#include "master/http/router.h"

#include "common/strings.h"
#include "master/http/json.h"

namespace cloudai::master::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsCapture(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRestCapture(const std::string& segment) {
  return IsCapture(segment) && segment.size() > 5 &&
         segment.compare(segment.size() - 4, 4, "...}") == 0;
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

bool PercentDecode(std::string_view text, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::Status ParseTarget(std::string_view target, std::string* path,
                         std::map<std::string, std::string>* query) {
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError("target: must be a path starting with '/'");
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  size_t hash = raw_path.find('#');
  if (hash != std::string_view::npos) raw_path = raw_path.substr(0, hash);
  if (!PercentDecode(raw_path, false, path)) {
    return absl::InvalidArgumentError("path: bad percent escape");
  }
  query->clear();
  if (q == std::string_view::npos) return absl::OkStatus();
  std::string_view rest = target.substr(q + 1);
  if (size_t h = rest.find('#'); h != std::string_view::npos) rest = rest.substr(0, h);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name) ||
        (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value))) {
      return absl::InvalidArgumentError(
          StrCat("query: bad percent escape in \"", std::string(pair.substr(0, 64)), "\""));
    }
    (*query)[name] = value;
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), SplitPath(pattern), std::move(handler)});
}

bool Router::Match(const Route& route, const std::vector<std::string>& path,
                   std::map<std::string, std::string>* params) {
  params->clear();
  for (size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (IsRestCapture(want)) {
      if (i >= path.size()) return false;
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) StrAppend(&rest, j > i ? "/" : "", path[j]);
      if (rest.empty()) return false;
      (*params)[want.substr(1, want.size() - 5)] = rest;
      return true;
    }
    if (i >= path.size()) return false;
    if (IsCapture(want)) {
      if (path[i].empty()) return false;
      (*params)[want.substr(1, want.size() - 2)] = path[i];
    } else if (want != path[i]) {
      return false;
    }
  }
  return route.segments.size() == path.size();
}

HttpResponse Router::Dispatch(HttpRequest& request) const {
  const std::vector<std::string> path = SplitPath(request.path);
  std::string allowed;
  std::map<std::string, std::string> params;
  for (const Route& route : routes_) {
    if (!Match(route, path, &params)) continue;
    if (route.method == request.method ||
        (request.method == "HEAD" && route.method == "GET")) {
      request.params = std::move(params);
      return route.handler(request);
    }
    if (allowed.find(route.method) == std::string::npos) {
      StrAppend(&allowed, allowed.empty() ? "" : ", ", route.method);
    }
  }
  if (!allowed.empty()) {
    HttpResponse response = ErrorResponse(
        405, "INVALID_ARGUMENT", StrCat("method: ", request.method, " is not allowed on ",
                                        request.path, "; use ", allowed));
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return ErrorResponse(404, "NOT_FOUND", StrCat("path: no such resource: ", request.path));
}

}  // namespace cloudai::master::http
