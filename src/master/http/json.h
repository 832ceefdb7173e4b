// JSON for the master's HTTP side: protobuf messages in their JSON form (proto field
// names, every field printed, as `cloudai -o json` prints them), quoted strings, and
// the error bodies and status codes of docs/http.md.
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "master/http/router.h"

namespace cloudai::master::http {

// `text` as a JSON string literal, quotes included. Bytes that are not valid UTF-8
// become U+FFFD.
std::string JsonQuote(std::string_view text);
// The message's JSON form (proto field names, defaults printed).
std::string ProtoToJson(const google::protobuf::Message& message);
// Parses `json` into `message`. INVALID_ARGUMENT naming `what` and the field on error.
absl::Status ProtoFromJson(std::string_view json, std::string_view what,
                           google::protobuf::Message* message);

// The HTTP status of a status code (docs/http.md).
int HttpStatusOf(absl::StatusCode code);
// {"error": {"code": ..., "message": ...}} with the given HTTP status.
HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message);
HttpResponse ErrorResponse(const absl::Status& status);
HttpResponse JsonResponse(std::string body, int http_status = 200);

}  // namespace cloudai::master::http
