#include "mcp/http_endpoint.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <fstream>
#include <random>

#include "common/strings.h"
#include "mcp/schema.h"

namespace cloudai::mcp {
namespace {

constexpr char kSessionHeader[] = "Mcp-Session-Id";
constexpr char kVersionHeader[] = "MCP-Protocol-Version";

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

HttpResponse JsonAnswer(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = DumpJson(body);
  return response;
}

// An HTTP error with a JSON-RPC error body (id null).
HttpResponse ErrorAnswer(int status, int code, const std::string& message) {
  return JsonAnswer(status, ErrorResponse(nullptr, code, message));
}

// The media type of a Content-Type or Accept element: lower case, no parameters.
std::string MediaType(std::string_view value) {
  const size_t semicolon = value.find(';');
  if (semicolon != std::string_view::npos) value = value.substr(0, semicolon);
  return AsciiLower(StripWhitespace(value));
}

// Whether an Accept header allows a JSON answer.
bool AcceptsJson(std::string_view accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    const std::string type = MediaType(accept.substr(start, comma - start));
    if (type == "application/json" || type == "application/*" || type == "*/*" || type.empty()) {
      return true;
    }
    start = comma + 1;
  }
  return false;
}

std::string SupportedVersions() {
  std::string out;
  for (const char* v : kProtocolVersions) StrAppend(&out, out.empty() ? "" : ", ", v);
  return out;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int ca = std::tolower(static_cast<unsigned char>(a[i]));
    const int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::optional<std::string> HttpRequest::Header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::string NewSessionId() {
  unsigned char bytes[32] = {};
  bool filled = false;
  {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    if (urandom.read(reinterpret_cast<char*>(bytes), sizeof(bytes))) filled = true;
  }
  if (!filled) {
    std::random_device device;
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(device() & 0xFF);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(sizeof(bytes) * 2);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xF]);
  }
  return id;
}

HttpEndpoint::HttpEndpoint(Backend& backend, HttpEndpointOptions options)
    : backend_(backend), options_(std::move(options)) {}

HttpEndpoint::~HttpEndpoint() = default;

size_t HttpEndpoint::session_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

int64_t HttpEndpoint::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void HttpEndpoint::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

bool HttpEndpoint::OriginAllowed(std::string_view origin, const HttpRequest& request) const {
  if (options_.origin_allowed) return options_.origin_allowed(origin, request);
  std::optional<std::string> host = request.Header("Host");
  if (!host || host->empty()) return false;
  std::string_view o = origin;
  while (!o.empty() && o.back() == '/') o.remove_suffix(1);
  return EqualsIgnoreCase(o, StrCat("http://", *host)) ||
         EqualsIgnoreCase(o, StrCat("https://", *host));
}

void HttpEndpoint::SweepLocked(int64_t now) {
  const int64_t timeout = options_.session_idle_timeout.count();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_used_ms > timeout) {
      Log(StrCat("mcp: session ", it->first.substr(0, 8), "... expired after ", timeout / 1000,
                 " s idle"));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  last_sweep_ms_ = now;
}

std::shared_ptr<Session> HttpEndpoint::Find(const std::string& id) {
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_used_ms > options_.session_idle_timeout.count()) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_used_ms = now;
  return it->second.session;
}

std::string HttpEndpoint::Add(std::shared_ptr<Session> session) {
  const std::string id = NewSessionId();
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked(now);
  while (!sessions_.empty() && sessions_.size() >= std::max<size_t>(options_.max_sessions, 1)) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    Log(StrCat("mcp: session ", oldest->first.substr(0, 8), "... ended to make room (",
               options_.max_sessions, " sessions at most)"));
    sessions_.erase(oldest);
  }
  sessions_[id] = Entry{std::move(session), now};
  return id;
}

HttpResponse HttpEndpoint::Handle(const HttpRequest& request) {
  try {
    {
      const int64_t now = NowMs();
      std::lock_guard<std::mutex> lock(mu_);
      if (now - last_sweep_ms_ >= 1000) SweepLocked(now);
    }
    if (std::optional<std::string> origin = request.Header("Origin")) {
      if (!OriginAllowed(*origin, request)) {
        return ErrorAnswer(403, kInvalidRequest,
                           StrCat("forbidden: requests from origin ", *origin,
                                  " are not allowed at this MCP endpoint"));
      }
    }
    if (EqualsIgnoreCase(request.method, "POST")) return Post(request);
    if (EqualsIgnoreCase(request.method, "DELETE")) return Delete(request);
    HttpResponse response =
        ErrorAnswer(405, kInvalidRequest,
                    StrCat("method ", request.method,
                           " is not allowed: send JSON-RPC messages with POST and end a "
                           "session with DELETE (this server opens no event stream)"));
    response.headers.emplace_back("Allow", "POST, DELETE");
    return response;
  } catch (const std::exception& e) {
    return ErrorAnswer(500, kInternalError, StrCat("internal error: ", e.what()));
  } catch (...) {
    return ErrorAnswer(500, kInternalError, "internal error");
  }
}

HttpResponse HttpEndpoint::Post(const HttpRequest& request) {
  if (std::optional<std::string> accept = request.Header("Accept")) {
    if (!AcceptsJson(*accept)) {
      return ErrorAnswer(406, kInvalidRequest,
                         StrCat("not acceptable: this server answers application/json, which "
                                "the Accept header \"",
                                *accept,
                                "\" does not allow; send \"Accept: application/json, "
                                "text/event-stream\""));
    }
  }
  if (std::optional<std::string> type = request.Header("Content-Type")) {
    if (MediaType(*type) != "application/json") {
      return ErrorAnswer(415, kInvalidRequest,
                         StrCat("unsupported media type \"", *type,
                                "\": send one JSON-RPC message as application/json"));
    }
  }
  if (request.body.size() > options_.max_body_bytes) {
    return ErrorAnswer(413, kInvalidRequest,
                       StrCat("the body is ", request.body.size(), " bytes; the limit is ",
                              options_.max_body_bytes, " bytes"));
  }
  Json parse_error;
  std::optional<Json> message = ParseMessage(request.body, &parse_error);
  if (!message) return JsonAnswer(400, parse_error);
  if (message->is_array()) {
    return ErrorAnswer(400, kInvalidRequest,
                       "batches (JSON arrays) are not supported since MCP 2025-06-18; send "
                       "one message per POST");
  }
  const MessageKind kind = Classify(*message);
  const std::optional<std::string> session_id = request.Header(kSessionHeader);
  const bool initialize = kind == MessageKind::kRequest && (*message)["method"] == "initialize";

  if (initialize && !session_id) {
    auto session = std::make_shared<Session>(backend_, options_.server);
    std::optional<Json> reply = session->Handle(*message);
    if (!reply) return ErrorAnswer(400, kInvalidRequest, "invalid initialize request");
    if (!reply->contains("result")) return JsonAnswer(200, *reply);
    const std::string id = Add(session);
    Log(StrCat("mcp: session ", id.substr(0, 8), "... started by ",
               session->client_name().empty() ? "a client" : session->client_name(),
               " (protocol ", session->protocol_version(), ")"));
    HttpResponse response = JsonAnswer(200, *reply);
    response.headers.emplace_back(kSessionHeader, id);
    return response;
  }
  if (!session_id || session_id->empty()) {
    return ErrorAnswer(400, kInvalidRequest,
                       "bad request: the Mcp-Session-Id header is missing; send initialize "
                       "(without it) first and send the id its answer gives with every "
                       "later request");
  }
  std::shared_ptr<Session> session = Find(*session_id);
  if (session == nullptr) {
    return ErrorAnswer(404, kInvalidRequest,
                       "session not found: it has ended or expired; send initialize (without "
                       "Mcp-Session-Id) to start a new one");
  }
  if (std::optional<std::string> version = request.Header(kVersionHeader)) {
    if (!IsSupportedProtocolVersion(StripWhitespace(*version))) {
      return ErrorAnswer(400, kInvalidRequest,
                         StrCat("bad request: MCP-Protocol-Version \"", *version,
                                "\" is not supported; this server speaks ", SupportedVersions()));
    }
  }
  std::optional<Json> reply = session->Handle(*message);
  if (kind == MessageKind::kRequest) {
    if (!reply) return ErrorAnswer(500, kInternalError, "internal error: no reply");
    return JsonAnswer(200, *reply);
  }
  if (reply) return JsonAnswer(400, *reply);  // a notification or response it cannot accept
  HttpResponse accepted;
  accepted.status = 202;
  return accepted;
}

HttpResponse HttpEndpoint::Delete(const HttpRequest& request) {
  const std::optional<std::string> session_id = request.Header(kSessionHeader);
  if (!session_id || session_id->empty()) {
    return ErrorAnswer(400, kInvalidRequest,
                       "bad request: DELETE ends the session named by the Mcp-Session-Id "
                       "header, which is missing");
  }
  if (std::optional<std::string> version = request.Header(kVersionHeader)) {
    if (!IsSupportedProtocolVersion(StripWhitespace(*version))) {
      return ErrorAnswer(400, kInvalidRequest,
                         StrCat("bad request: MCP-Protocol-Version \"", *version,
                                "\" is not supported; this server speaks ", SupportedVersions()));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(*session_id);
    if (it == sessions_.end()) {
      return ErrorAnswer(404, kInvalidRequest, "session not found: it has ended or expired");
    }
    sessions_.erase(it);
  }
  Log(StrCat("mcp: session ", session_id->substr(0, 8), "... ended by the client"));
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace cloudai::mcp
