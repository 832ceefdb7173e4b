// Exception-free reading of the Docker engine's JSON answers.
//
// The engine's objects have optional and sometimes null fields; these helpers return a
// default for a field that is absent, null or of another type, so a surprising answer
// never throws. Serialising replaces invalid UTF-8 instead of throwing.
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace cloudai::worker::docker {

// The field `key` of object `j`; null when `j` is not an object or has no such field.
const nlohmann::json* JsonField(const nlohmann::json& j, std::string_view key);
std::string JsonString(const nlohmann::json& j, std::string_view key);
int64_t JsonInt(const nlohmann::json& j, std::string_view key);
bool JsonBool(const nlohmann::json& j, std::string_view key);
// An object of strings ({"a":"b"}); fields with other types are skipped.
std::map<std::string, std::string> JsonStringMap(const nlohmann::json& j, std::string_view key);

// Parses `body`; Internal, naming `what`, when it is not JSON.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view body, std::string_view what);

// Compact JSON text; invalid UTF-8 in strings becomes U+FFFD.
std::string DumpJson(const nlohmann::json& j);

}  // namespace cloudai::worker::docker
