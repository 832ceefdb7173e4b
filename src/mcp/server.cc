#include "mcp/server.h"

#include <exception>
#include <utility>

#include "common/strings.h"
#include "mcp/tools.h"

#ifndef CLOUDAI_MCP_VERSION
#define CLOUDAI_MCP_VERSION "0.0.0"
#endif

namespace cloudai::mcp {
namespace {

constexpr char kDefaultInstructions[] =
    "CloudAI runs commands on a cluster of workers. To run work: get_capacity shows what "
    "is free; request_resources reserves slots for a job and returns an allocation_id; "
    "submit_task with that allocation_id runs a command in them; poll get_task until the "
    "task is completed, failed or cancelled; get_task_logs returns its output; "
    "release_resources ends the allocation when you are done (allocations also expire "
    "after ttl_seconds). A tool that fails returns isError with a text saying what to "
    "change.";

Json Response(const Json& id, Json result) {
  Json out = Json::object();
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["result"] = std::move(result);
  return out;
}

bool ValidId(const Json& id) { return id.is_string() || id.is_number(); }

// Whether `text` nests objects and arrays deeper than `limit` (strings skipped).
bool TooDeep(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string ToolNames() {
  std::string out;
  for (const Tool& tool : Tools()) StrAppend(&out, out.empty() ? "" : ", ", tool.name);
  return out;
}

}  // namespace

bool IsSupportedProtocolVersion(std::string_view version) {
  for (const char* v : kProtocolVersions) {
    if (version == v) return true;
  }
  return false;
}

std::string ServerVersion() { return CLOUDAI_MCP_VERSION; }

Json ErrorResponse(const Json& id, int code, const std::string& message) {
  Json error = Json::object();
  error["code"] = code;
  error["message"] = message;
  Json out = Json::object();
  out["jsonrpc"] = "2.0";
  out["id"] = ValidId(id) ? id : Json(nullptr);
  out["error"] = std::move(error);
  return out;
}

MessageKind Classify(const Json& message) {
  if (!message.is_object()) return MessageKind::kInvalid;
  if (message.contains("method")) {
    return message.contains("id") ? MessageKind::kRequest : MessageKind::kNotification;
  }
  if (message.contains("id") && (message.contains("result") || message.contains("error"))) {
    return MessageKind::kResponse;
  }
  return MessageKind::kInvalid;
}

std::optional<Json> ParseMessage(std::string_view text, Json* error) {
  if (TooDeep(text, kMaxJsonDepth)) {
    *error = ErrorResponse(nullptr, kInvalidRequest,
                           StrCat("the message nests objects and arrays deeper than ",
                                  kMaxJsonDepth, " levels"));
    return std::nullopt;
  }
  Json message = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) {
    *error = ErrorResponse(nullptr, kParseError,
                           "parse error: the message is not valid JSON (one JSON-RPC message, "
                           "UTF-8, per line or request body)");
    return std::nullopt;
  }
  return message;
}

Session::Session(Backend& backend, ServerOptions options)
    : backend_(backend), options_(std::move(options)) {}

bool Session::initialized() const {
  std::lock_guard<std::mutex> lock(mu_);
  return initialized_;
}

std::string Session::protocol_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return protocol_version_;
}

std::string Session::client_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_name_;
}

std::optional<Json> Session::HandleText(std::string_view text) {
  Json error;
  std::optional<Json> message = ParseMessage(text, &error);
  if (!message) return error;
  return Handle(*message);
}

std::optional<Json> Session::Handle(const Json& message) {
  try {
    if (message.is_array()) {
      return ErrorResponse(nullptr, kInvalidRequest,
                           "batches (JSON arrays) are not supported since MCP 2025-06-18; "
                           "send one message at a time");
    }
    if (!message.is_object()) {
      return ErrorResponse(nullptr, kInvalidRequest,
                           "invalid request: a JSON-RPC message is a JSON object");
    }
    const MessageKind kind = Classify(message);
    if (kind == MessageKind::kResponse) return std::nullopt;  // we send no requests
    const Json id = message.contains("id") ? message["id"] : Json(nullptr);
    if (message.contains("id") && !ValidId(id)) {
      return ErrorResponse(nullptr, kInvalidRequest,
                           "invalid request: id must be a string or an integer");
    }
    auto jsonrpc = message.find("jsonrpc");
    if (jsonrpc == message.end() || *jsonrpc != "2.0") {
      return ErrorResponse(id, kInvalidRequest, "invalid request: jsonrpc must be \"2.0\"");
    }
    if (kind == MessageKind::kInvalid) {
      return ErrorResponse(id, kInvalidRequest,
                           "invalid request: not a request (method and id), a notification "
                           "(method) or a response (result or error)");
    }
    const Json& method = message["method"];
    if (!method.is_string()) {
      return ErrorResponse(id, kInvalidRequest, "invalid request: method must be a string");
    }
    const Json params = message.contains("params") ? message["params"] : Json::object();
    if (kind == MessageKind::kNotification) {
      if (method == "notifications/initialized") {
        std::lock_guard<std::mutex> lock(mu_);
        if (!protocol_version_.empty()) initialized_ = true;
      }
      return std::nullopt;  // others (cancelled, progress, roots/list_changed) need nothing
    }
    if (!params.is_object() && !params.is_null()) {
      return ErrorResponse(id, kInvalidParams, "invalid params: params must be an object");
    }
    return HandleRequest(id, method.get<std::string>(),
                         params.is_null() ? Json::object() : params);
  } catch (const std::exception& e) {
    return ErrorResponse(nullptr, kInternalError, StrCat("internal error: ", e.what()));
  } catch (...) {
    return ErrorResponse(nullptr, kInternalError, "internal error");
  }
}

std::optional<Json> Session::HandleRequest(const Json& id, const std::string& method,
                                           const Json& params) {
  if (method == "initialize") return Initialize(id, params);
  if (method == "ping") return Response(id, Json::object());
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A session whose initialize has been answered may be used before the client's
    // "initialized" notification arrives (over HTTP the two may overtake each other).
    if (protocol_version_.empty()) {
      return ErrorResponse(id, kNotInitialized,
                           StrCat("the session is not initialized: send initialize before ",
                                  method));
    }
  }
  if (method == "tools/list") return Response(id, ToolListResult());
  if (method == "tools/call") return CallTool(id, params);
  return ErrorResponse(id, kMethodNotFound,
                       StrCat("method not found: ", method,
                              " (this server offers initialize, ping, tools/list and "
                              "tools/call)"));
}

Json Session::Initialize(const Json& id, const Json& params) {
  std::string version = kLatestProtocolVersion;
  if (auto it = params.find("protocolVersion"); it != params.end() && it->is_string() &&
                                                IsSupportedProtocolVersion(it->get<std::string>())) {
    version = it->get<std::string>();
  }
  std::string client;
  if (auto info = params.find("clientInfo"); info != params.end() && info->is_object()) {
    client = info->value("name", "");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!protocol_version_.empty()) {
      return ErrorResponse(id, kInvalidRequest,
                           StrCat("the session is already initialized (protocol ",
                                  protocol_version_, "); start a new one to initialize again"));
    }
    protocol_version_ = version;
    client_name_ = client;
  }
  Json tools = Json::object();
  tools["listChanged"] = false;
  Json capabilities = Json::object();
  capabilities["tools"] = std::move(tools);
  Json server_info = Json::object();
  server_info["name"] = options_.name;
  server_info["title"] = "CloudAI";
  server_info["version"] = options_.version.empty() ? ServerVersion() : options_.version;
  Json result = Json::object();
  result["protocolVersion"] = version;
  result["capabilities"] = std::move(capabilities);
  result["serverInfo"] = std::move(server_info);
  result["instructions"] =
      options_.instructions.empty() ? std::string(kDefaultInstructions) : options_.instructions;
  return Response(id, std::move(result));
}

Json Session::CallTool(const Json& id, const Json& params) {
  auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return ErrorResponse(id, kInvalidParams, "invalid params: tools/call needs params.name, a string");
  }
  const Tool* tool = FindTool(name->get_ref<const std::string&>());
  if (tool == nullptr) {
    return ErrorResponse(id, kInvalidParams,
                         StrCat("Unknown tool: ", name->get_ref<const std::string&>(),
                                " (the tools are ", ToolNames(), ")"));
  }
  Json arguments = Json::object();
  if (auto it = params.find("arguments"); it != params.end() && !it->is_null()) {
    if (!it->is_object()) {
      return ErrorResponse(id, kInvalidParams,
                           StrCat("invalid params: arguments must be an object, not ",
                                  JsonTypeName(*it)));
    }
    arguments = *it;
  }
  return Response(id, mcp::CallTool(backend_, *tool, arguments));
}

}  // namespace cloudai::mcp
