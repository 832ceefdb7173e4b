#include "mcp/schema.h"

#include <cmath>
#include <string_view>

#include "common/strings.h"

namespace cloudai::mcp {
namespace {

// `name` for messages: the path, or "the arguments" for the top level.
std::string Named(const std::string& path) { return path.empty() ? "arguments" : path; }

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : StrCat(path, ".", key);
}

// A value for a message: its JSON text, cut short.
std::string Shown(const Json& value) {
  std::string text = DumpJson(value);
  if (text.size() > 60) {
    text.resize(57);
    text += "...";
  }
  return text;
}

std::string WithArticle(std::string_view type) {
  const bool vowel = !type.empty() && std::string_view("aeiou").find(type[0]) != std::string_view::npos;
  return StrCat(vowel ? "an " : "a ", type);
}

bool IsWholeNumber(const Json& value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  const double d = value.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool TypeMatches(std::string_view type, const Json& value) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return IsWholeNumber(value);
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return true;  // a type this checker does not know constrains nothing
}

// Characters (Unicode code points) of UTF-8 text: bytes that do not continue a sequence.
size_t CodePoints(const std::string& text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string CheckObject(const Json& schema, const Json& value, const std::string& path,
                        const SchemaCheckOptions& options) {
  const Json* properties = nullptr;
  if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) {
    properties = &*it;
  }
  if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
    for (const Json& name : *it) {
      if (!name.is_string()) continue;
      const std::string key = name.get<std::string>();
      if (value.contains(key)) continue;
      std::string message = StrCat(Child(path, key), ": is required");
      if (properties != nullptr) {
        if (auto p = properties->find(key); p != properties->end() && p->is_object()) {
          if (auto d = p->find("description"); d != p->end() && d->is_string()) {
            StrAppend(&message, " (", d->get<std::string>(), ")");
          }
        }
      }
      return message;
    }
  }
  if (auto it = schema.find("maxProperties"); it != schema.end() && it->is_number()) {
    if (static_cast<double>(value.size()) > it->get<double>()) {
      return StrCat(Named(path), ": has ", value.size(), " entries; the maximum is ",
                    DumpJson(*it));
    }
  }
  const Json* additional = nullptr;
  bool closed = options.closed_objects && properties != nullptr;
  if (auto it = schema.find("additionalProperties"); it != schema.end()) {
    if (it->is_boolean()) {
      closed = !it->get<bool>();
    } else if (it->is_object()) {
      additional = &*it;
      closed = false;
    }
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const std::string child = Child(path, key);
    if (properties != nullptr) {
      if (auto p = properties->find(key); p != properties->end()) {
        if (std::string error = CheckValue(*p, it.value(), child, options); !error.empty()) {
          return error;
        }
        continue;
      }
    }
    if (additional != nullptr) {
      if (std::string error = CheckValue(*additional, it.value(), child, options);
          !error.empty()) {
        return error;
      }
      continue;
    }
    if (closed) {
      std::string message = StrCat(child, ": unknown ", path.empty() ? "argument" : "field");
      if (properties == nullptr || properties->empty()) {
        StrAppend(&message, "; ", path.empty() ? "this tool takes no arguments" : "it takes no fields");
      } else {
        StrAppend(&message, path.empty() ? "; the arguments are " : "; the fields are ");
        bool first = true;
        for (auto p = properties->begin(); p != properties->end(); ++p) {
          StrAppend(&message, first ? "" : ", ", p.key());
          first = false;
        }
      }
      return message;
    }
  }
  return "";
}

}  // namespace

std::string JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "null";
  }
}

std::string DumpJson(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string CheckValue(const Json& schema, const Json& value, const std::string& path,
                       const SchemaCheckOptions& options) {
  if (!schema.is_object()) return "";
  if (auto it = schema.find("type"); it != schema.end() && it->is_string()) {
    const std::string type = it->get<std::string>();
    if (!TypeMatches(type, value)) {
      std::string message = StrCat(Named(path), ": must be ", WithArticle(type), ", not ",
                                   WithArticle(JsonTypeName(value)));
      if (!value.is_object() && !value.is_array()) StrAppend(&message, " (", Shown(value), ")");
      return message;
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    for (const Json& allowed : *it) found = found || allowed == value;
    if (!found) {
      std::string message = StrCat(Named(path), ": ", Shown(value), " is not one of ");
      bool first = true;
      for (const Json& allowed : *it) {
        StrAppend(&message, first ? "" : ", ",
                  allowed.is_string() ? allowed.get<std::string>() : DumpJson(allowed));
        first = false;
      }
      return message;
    }
  }
  if (value.is_number()) {
    const double v = value.get<double>();
    if (auto it = schema.find("minimum"); it != schema.end() && it->is_number() &&
                                          v < it->get<double>()) {
      return StrCat(Named(path), ": ", Shown(value), " is below the minimum of ", DumpJson(*it));
    }
    if (auto it = schema.find("maximum"); it != schema.end() && it->is_number() &&
                                          v > it->get<double>()) {
      return StrCat(Named(path), ": ", Shown(value), " is above the maximum of ", DumpJson(*it));
    }
  }
  if (value.is_string()) {
    const size_t length = CodePoints(value.get_ref<const std::string&>());
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number() &&
                                            static_cast<double>(length) < it->get<double>()) {
      if (length == 0) return StrCat(Named(path), ": is empty; give a value");
      return StrCat(Named(path), ": is ", length, " characters long; the minimum is ",
                    DumpJson(*it));
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number() &&
                                            static_cast<double>(length) > it->get<double>()) {
      return StrCat(Named(path), ": is ", length, " characters long; the maximum is ",
                    DumpJson(*it));
    }
  }
  if (value.is_array()) {
    if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number() &&
                                           static_cast<double>(value.size()) > it->get<double>()) {
      return StrCat(Named(path), ": has ", value.size(), " items; the maximum is ",
                    DumpJson(*it));
    }
    if (auto it = schema.find("items"); it != schema.end() && it->is_object()) {
      for (size_t i = 0; i < value.size(); ++i) {
        if (std::string error =
                CheckValue(*it, value[i], StrCat(Named(path), "[", i, "]"), options);
            !error.empty()) {
          return error;
        }
      }
    }
  }
  if (value.is_object()) return CheckObject(schema, value, path, options);
  return "";
}

}  // namespace cloudai::mcp
