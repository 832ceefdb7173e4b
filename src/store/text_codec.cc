#include "store/text_codec.h"

#include <charconv>

#include "common/strings.h"

namespace cloudai::store {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool NeedsEscape(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || c == '%' || c == '&' || c == '=';
}

void AppendEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (NeedsEscape(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::StatusOr<std::string> Unescape(std::string_view s, std::string_view field) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (s.size() - i < 3 || HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) {
      return absl::InvalidArgumentError(
          StrCat(field, ": malformed escape at byte ", i, " of \"", s.substr(0, 64), "\""));
    }
    out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace

std::string EncodeExtras(const Resources& resources) {
  std::string out;
  for (const auto& [name, count] : resources.extras) {
    if (!out.empty()) out.push_back(',');
    StrAppend(&out, name, "=", count);
  }
  return out;
}

absl::Status DecodeExtras(std::string_view text, std::string_view field, Resources* resources) {
  resources->extras.clear();
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(
          StrCat(field, ": \"", item.substr(0, 80), "\" is not name=count"));
    }
    const std::string_view count_text = item.substr(eq + 1);
    int64_t count = 0;
    const auto [end, ec] =
        std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (ec != std::errc() || end != count_text.data() + count_text.size() || count_text.empty()) {
      return absl::InvalidArgumentError(
          StrCat(field, ": \"", item.substr(0, 80), "\" does not end in a whole count"));
    }
    resources->extras.emplace_back(std::string(item.substr(0, eq)), count);
  }
  // Names, order, uniqueness and range, worded for the column.
  Resources only_extras;
  only_extras.extras = resources->extras;
  return only_extras.Validate(field);
}

std::string EncodeStringMap(const std::map<std::string, std::string>& map) {
  std::string out;
  for (const auto& [key, value] : map) {
    if (!out.empty()) out.push_back('&');
    AppendEscaped(out, key);
    out.push_back('=');
    AppendEscaped(out, value);
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> DecodeStringMap(std::string_view text,
                                                                   std::string_view field) {
  std::map<std::string, std::string> map;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view item = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat(field, ": \"", item.substr(0, 80), "\" is not key=value"));
    }
    absl::StatusOr<std::string> key = Unescape(item.substr(0, eq), field);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value = Unescape(item.substr(eq + 1), field);
    if (!value.ok()) return value.status();
    if (!map.emplace(*std::move(key), *std::move(value)).second) {
      return absl::InvalidArgumentError(
          StrCat(field, ": variable \"", item.substr(0, eq).substr(0, 64), "\" appears twice"));
    }
  }
  return map;
}

}  // namespace cloudai::store
