// The MCP protocol of CloudAI's server, independent of transport: JSON-RPC 2.0 messages
// in, replies out, over a Backend.
//
// A Session is one MCP connection's state (one stdio process, or one Streamable HTTP
// session). It answers:
//   initialize                 negotiates the protocol version (kProtocolVersions; a
//                              client asking for another gets the latest), returns
//                              serverInfo, capabilities {tools: {listChanged: false}} and
//                              instructions
//   ping                       {}
//   tools/list                 every tool (no pagination; a cursor is ignored)
//   tools/call                 tools.h; an unknown tool is JSON-RPC error -32602
//   notifications/*            accepted, no reply
// Errors: -32700 for text that is not JSON (id null), -32600 for a message that is not a
// JSON-RPC request (a batch array included: batching is not part of 2025-06-18 and
// later), -32601 for an unknown method, -32602 for malformed params, -32002 for a request
// other than initialize or ping before initialize. Responses from the client (we send no
// requests) are ignored. Nothing a client sends makes it throw.
//
// Thread safety: every method may be called concurrently (HTTP requests of one session
// may overlap); tool calls run concurrently.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/backend.h"
#include "mcp/schema.h"

namespace cloudai::mcp {

// Protocol versions this server speaks, latest first.
inline constexpr const char* kProtocolVersions[] = {"2025-11-25", "2025-06-18"};
inline constexpr const char* kLatestProtocolVersion = kProtocolVersions[0];
bool IsSupportedProtocolVersion(std::string_view version);

// JSON-RPC error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kNotInitialized = -32002;

// The most deeply nested JSON a message may be (objects and arrays).
inline constexpr int kMaxJsonDepth = 64;

struct ServerOptions {
  std::string name = "cloudai";
  std::string version;       // empty: CloudAI's version
  std::string instructions;  // empty: a short guide to the tools
};

// {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}.
Json ErrorResponse(const Json& id, int code, const std::string& message);

// The kind of a parsed message, for transports that answer them differently.
enum class MessageKind {
  kRequest,       // method and id: a reply is due
  kNotification,  // method, no id
  kResponse,      // result or error with an id: a client's answer
  kInvalid,       // none of these
};
MessageKind Classify(const Json& message);

// Parses one message's text. Not JSON, or nested deeper than kMaxJsonDepth: nullopt, with
// `error` set to the -32700 / -32600 reply to send.
std::optional<Json> ParseMessage(std::string_view text, Json* error);

class Session {
 public:
  explicit Session(Backend& backend, ServerOptions options = {});

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // One message as text (a stdio line, an HTTP body). nullopt: no reply is due.
  std::optional<Json> HandleText(std::string_view text);
  // One parsed message. nullopt: no reply is due.
  std::optional<Json> Handle(const Json& message);

  bool initialized() const;
  // The negotiated version; "" before initialize.
  std::string protocol_version() const;
  // clientInfo.name from initialize.
  std::string client_name() const;

 private:
  std::optional<Json> HandleRequest(const Json& id, const std::string& method,
                                    const Json& params);
  Json Initialize(const Json& id, const Json& params);
  Json CallTool(const Json& id, const Json& params);

  Backend& backend_;
  const ServerOptions options_;
  mutable std::mutex mu_;
  bool initialized_ = false;  // guarded by mu_
  std::string protocol_version_;  // guarded by mu_
  std::string client_name_;       // guarded by mu_
};

// CloudAI's version, as initialize reports it by default.
std::string ServerVersion();

}  // namespace cloudai::mcp
