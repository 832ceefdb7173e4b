// Small string helpers used across CloudAI.
//
// StrCat joins strings, string_views, C strings, characters and integers without the
// cost of streams. (Debian's abseil keeps its own string_view type, so absl::StrCat does
// not accept std::string_view; these helpers work with the standard types.)
//
// Thread safety: free functions without shared state.
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace cloudai {

namespace strings_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s); }
#if !defined(ABSL_USES_STD_STRING_VIEW)
// absl::Status::message() and friends.
inline void Append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
#endif
inline void Append(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void Append(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

}  // namespace strings_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (strings_internal::Append(out, args), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (strings_internal::Append(*out, args), ...);
}

// ASCII lower-case copy.
std::string AsciiLower(std::string_view s);
// `s` without leading and trailing ASCII whitespace.
std::string_view StripWhitespace(std::string_view s);

}  // namespace cloudai
