#include "master/http/origin.h"

#include <algorithm>

#include "common/strings.h"

namespace cloudai::master::http {

OriginPolicy::OriginPolicy(std::vector<std::string> allowed) {
  for (const std::string& origin : allowed) {
    std::string normalized = Normalize(origin);
    if (!normalized.empty()) allowed_.push_back(std::move(normalized));
  }
}

std::string OriginPolicy::Normalize(std::string_view origin) {
  std::string out = AsciiLower(StripWhitespace(origin));
  while (!out.empty() && out.back() == '/') out.pop_back();
  auto drop_suffix = [&out](std::string_view scheme, std::string_view port) {
    if (out.rfind(scheme, 0) == 0 && out.size() > port.size() &&
        out.compare(out.size() - port.size(), port.size(), port) == 0) {
      out.resize(out.size() - port.size());
    }
  };
  drop_suffix("http://", ":80");
  drop_suffix("https://", ":443");
  return out;
}

std::vector<std::string> OriginPolicy::ParseList(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string origin = Normalize(list.substr(0, comma));
    if (!origin.empty()) out.push_back(std::move(origin));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool OriginPolicy::Allowed(std::optional<std::string_view> origin,
                           std::optional<std::string_view> host) const {
  if (!origin.has_value()) return true;
  const std::string normalized = Normalize(*origin);
  // "null" (sandboxed frames, file: pages) and empty origins are never the master's.
  if (normalized.empty() || normalized == "null") return false;
  if (host.has_value() && !StripWhitespace(*host).empty() &&
      normalized == Normalize(StrCat("http://", StripWhitespace(*host)))) {
    return true;
  }
  return std::find(allowed_.begin(), allowed_.end(), normalized) != allowed_.end();
}

}  // namespace cloudai::master::http
