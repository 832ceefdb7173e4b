// The JSON Schema subset the MCP tools' input and output schemas are written in, and a
// checker for it.
//
// Keywords understood: type (one of object, array, string, integer, number, boolean),
// properties, required, additionalProperties (false or a schema), enum (of strings),
// minimum, maximum, minLength, maxLength, items, maxItems, maxProperties. Others
// (description, title, default, ...) are ignored. "integer" accepts a number with no
// fractional part (2.0), as JSON Schema does.
//
// CheckValue answers "" for a value that conforms, else one sentence for a person or a
// model to act on, naming the value by its path ("workers", "metadata.owner",
// "services[2]") and the limit it broke.
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cloudai::mcp {

// Objects keep their keys in the order they were written (schemas read top-down).
using Json = nlohmann::ordered_json;

struct SchemaCheckOptions {
  // An object schema with `properties` and no `additionalProperties` refuses other keys
  // too (the unit tests hold structured results to their output schemas this way).
  bool closed_objects = false;
};

// "" when `value` conforms to `schema`; otherwise what is wrong. `path` names `value`
// in the message ("" for the top level, whose properties are then named bare).
std::string CheckValue(const Json& schema, const Json& value, const std::string& path = "",
                       const SchemaCheckOptions& options = {});

// The JSON type name of `value` as a schema would say it: "object", "array", "string",
// "integer", "number", "boolean" or "null".
std::string JsonTypeName(const Json& value);

// `value` as JSON text; invalid UTF-8 in strings is replaced by U+FFFD rather than
// failing. `indent` < 0: compact.
std::string DumpJson(const Json& value, int indent = -1);

}  // namespace cloudai::mcp
