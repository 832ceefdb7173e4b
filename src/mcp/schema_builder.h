// Short forms for writing the tools' JSON Schemas in C++ (schema.h's subset).
//
//   Object({Req("job_id", String("who it is for", 1, 128)),
//           Opt("workers", Integer("slots", 1, 1000))}, /*closed=*/true)
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mcp/schema.h"

namespace cloudai::mcp::schema {

inline Json Typed(const char* type, const std::string& description) {
  Json s = Json::object();
  s["type"] = type;
  if (!description.empty()) s["description"] = description;
  return s;
}

inline Json String(const std::string& description = "",
                   std::optional<int64_t> min_length = std::nullopt,
                   std::optional<int64_t> max_length = std::nullopt) {
  Json s = Typed("string", description);
  if (min_length) s["minLength"] = *min_length;
  if (max_length) s["maxLength"] = *max_length;
  return s;
}

inline Json Enum(const std::string& description, const std::vector<std::string>& values) {
  Json s = Typed("string", description);
  s["enum"] = values;
  return s;
}

inline Json Integer(const std::string& description = "", std::optional<int64_t> minimum = std::nullopt,
                    std::optional<int64_t> maximum = std::nullopt) {
  Json s = Typed("integer", description);
  if (minimum) s["minimum"] = *minimum;
  if (maximum) s["maximum"] = *maximum;
  return s;
}

inline Json Number(const std::string& description = "", std::optional<double> minimum = std::nullopt,
                   std::optional<double> maximum = std::nullopt) {
  Json s = Typed("number", description);
  if (minimum) s["minimum"] = *minimum;
  if (maximum) s["maximum"] = *maximum;
  return s;
}

inline Json Boolean(const std::string& description = "") { return Typed("boolean", description); }

inline Json ArrayOf(Json items, const std::string& description = "",
                    std::optional<int64_t> max_items = std::nullopt) {
  Json s = Typed("array", description);
  s["items"] = std::move(items);
  if (max_items) s["maxItems"] = *max_items;
  return s;
}

// An object whose keys are free and whose values all follow `values`.
inline Json MapOf(Json values, const std::string& description = "",
                  std::optional<int64_t> max_properties = std::nullopt) {
  Json s = Typed("object", description);
  s["additionalProperties"] = std::move(values);
  if (max_properties) s["maxProperties"] = *max_properties;
  return s;
}

struct Field {
  std::string name;
  Json schema;
  bool required = false;
};

inline Field Req(std::string name, Json schema) { return {std::move(name), std::move(schema), true}; }
inline Field Opt(std::string name, Json schema) { return {std::move(name), std::move(schema), false}; }

// An object with these properties. `closed`: no other keys (additionalProperties false).
inline Json Object(const std::vector<Field>& fields, bool closed = false,
                   const std::string& description = "") {
  Json s = Typed("object", description);
  Json properties = Json::object();
  Json required = Json::array();
  for (const Field& f : fields) {
    properties[f.name] = f.schema;
    if (f.required) required.push_back(f.name);
  }
  s["properties"] = std::move(properties);
  if (!required.empty()) s["required"] = std::move(required);
  if (closed) s["additionalProperties"] = false;
  return s;
}

}  // namespace cloudai::mcp::schema
