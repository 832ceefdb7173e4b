#include "common/quantity.h"

#include <array>
#include <cctype>

#include "common/strings.h"


namespace cloudai {
namespace {

__extension__ using int128 = __int128;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A unit suffix and its size in the target unit, as the fraction num/den.
struct Unit {
  std::string_view suffix;  // lower case
  int64_t num;
  int64_t den;
};

// Millicores / milli-GPUs: "" is whole units, "m" is milli-units.
constexpr std::array<Unit, 2> kMilliUnits = {{{"", 1000, 1}, {"m", 1, 1}}};

// MiB. A bare number is GB, as the seed's -mem and -storage flags.
constexpr std::array<Unit, 18> kSizeUnits = {{
    {"", 1024, 1},
    {"b", 1, 1024 * 1024},
    {"k", 1, 1024},         {"kb", 1, 1024},         {"ki", 1, 1024},   {"kib", 1, 1024},
    {"m", 1, 1},            {"mb", 1, 1},            {"mi", 1, 1},      {"mib", 1, 1},
    {"g", 1024, 1},         {"gb", 1024, 1},         {"gi", 1024, 1},   {"gib", 1024, 1},
    {"t", 1024 * 1024, 1},  {"tb", 1024 * 1024, 1},  {"ti", 1024 * 1024, 1},
    {"tib", 1024 * 1024, 1},
}};

struct ParseSpec {
  const Unit* units;
  size_t unit_count;
  int64_t limit;
  bool round_up;            // true: round up to whole units; false: finer input is an error
  std::string_view expect;  // what a valid value looks like, for error messages
  std::string (*format)(int64_t);
};

absl::StatusOr<int64_t> ParseScaled(std::string_view raw, std::string_view field,
                                    const ParseSpec& spec) {
  const std::string_view text = StripWhitespace(raw);
  if (text.empty()) {
    return absl::InvalidArgumentError(
        StrCat(field, ": empty value; expected ", spec.expect));
  }
  const std::string lower = AsciiLower(text);
  if (lower == "nan" || lower == "+nan" || lower == "-nan" || lower == "inf" ||
      lower == "+inf" || lower == "-inf" || lower == "infinity") {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", text, "\" is not a number; expected ", spec.expect));
  }
  size_t pos = 0;
  if (lower[0] == '-') {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", text, " is negative; resources must be 0 or more"));
  }
  if (lower[0] == '+') pos = 1;

  // Digits, optional fraction. Kept exact in a 128-bit mantissa.
  int128 mantissa = 0;
  int fraction_digits = 0;
  bool any_digit = false;
  bool in_fraction = false;
  const int128 kMantissaCap = static_cast<int128>(1) << 100;
  for (; pos < lower.size(); ++pos) {
    const char c = lower[pos];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!IsDigit(c)) break;
    any_digit = true;
    if (mantissa > kMantissaCap || fraction_digits > 18) {
      return absl::InvalidArgumentError(StrCat(
          field, ": ", text, " is above the limit of ", spec.format(spec.limit)));
    }
    mantissa = mantissa * 10 + (c - '0');
    if (in_fraction) ++fraction_digits;
  }
  const std::string_view suffix = std::string_view(lower).substr(pos);
  const Unit* unit = nullptr;
  for (size_t i = 0; i < spec.unit_count; ++i) {
    if (spec.units[i].suffix == suffix) unit = &spec.units[i];
  }
  if (!any_digit || unit == nullptr) {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", text, "\" is not valid; expected ", spec.expect));
  }

  int128 den = unit->den;
  for (int i = 0; i < fraction_digits; ++i) den *= 10;
  const int128 scaled = mantissa * unit->num;  // mantissa < 2^101, num < 2^21: no overflow
  int128 value = scaled / den;
  if (scaled % den != 0) {
    if (!spec.round_up) {
      return absl::InvalidArgumentError(StrCat(
          field, ": ", text, " is finer than the resolution of 1m (one thousandth)"));
    }
    ++value;
  }
  if (value > spec.limit) {
    return absl::InvalidArgumentError(StrCat(field, ": ", text,
                                                   " is above the limit of ",
                                                   spec.format(spec.limit)));
  }
  return static_cast<int64_t>(value);
}

std::string FormatGpuLimit(int64_t millis) { return FormatCores(millis) + " GPUs"; }
std::string FormatCpuLimit(int64_t millis) { return FormatCores(millis) + " cores"; }

constexpr std::string_view kFixedNames[] = {"cpu", "memory", "storage", "gpu"};

// Two decimals of value/den, rounded half up. value >= 0, den > 0.
std::string FormatTwoDecimals(int64_t value, int64_t den) {
  const int128 hundredths = (static_cast<int128>(value) * 100 + den / 2) / den;
  const int64_t cents = static_cast<int64_t>(hundredths % 100);
  return StrCat(static_cast<int64_t>(hundredths / 100), cents < 10 ? ".0" : ".", cents);
}

// value/den with up to `max_digits` decimals, no trailing zeros. value >= 0.
std::string FormatTrimmed(int64_t value, int64_t den, int max_digits) {
  int64_t scale = 1;
  for (int i = 0; i < max_digits; ++i) scale *= 10;
  const int128 scaled = (static_cast<int128>(value) * scale + den / 2) / den;
  std::string out = StrCat(static_cast<int64_t>(scaled / scale));
  int64_t frac = static_cast<int64_t>(scaled % scale);
  if (frac == 0) return out;
  std::string digits = StrCat(frac);
  digits.insert(0, max_digits - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return StrCat(out, ".", digits);
}

}  // namespace

absl::StatusOr<int64_t> ParseCpu(std::string_view text, std::string_view field) {
  static constexpr ParseSpec kSpec = {kMilliUnits.data(), kMilliUnits.size(), kMaxCpuMillis,
                                      false, "cores such as 2 or 1.5, or millicores such as 500m",
                                      &FormatCpuLimit};
  return ParseScaled(text, field, kSpec);
}

absl::StatusOr<int64_t> ParseGpu(std::string_view text, std::string_view field) {
  static constexpr ParseSpec kSpec = {kMilliUnits.data(), kMilliUnits.size(), kMaxGpuMillis,
                                      false, "GPUs such as 1 or 0.5, or milli-GPUs such as 500m",
                                      &FormatGpuLimit};
  return ParseScaled(text, field, kSpec);
}

absl::StatusOr<int64_t> ParseMemory(std::string_view text, std::string_view field) {
  static constexpr ParseSpec kSpec = {kSizeUnits.data(), kSizeUnits.size(), kMaxMemoryMiB, true,
                                      "a size such as 512Mi, 4Gi or 4 (GB)", &FormatMiB};
  return ParseScaled(text, field, kSpec);
}

absl::StatusOr<int64_t> ParseStorage(std::string_view text, std::string_view field) {
  static constexpr ParseSpec kSpec = {kSizeUnits.data(), kSizeUnits.size(), kMaxStorageMiB,
                                      true, "a size such as 512Mi, 10Gi or 10 (GB)", &FormatMiB};
  return ParseScaled(text, field, kSpec);
}

absl::Status ValidateExtraName(std::string_view name, std::string_view field) {
  if (name.empty() || name.size() > kMaxExtraNameLength) {
    return absl::InvalidArgumentError(StrCat(
        field, ": resource name \"", name, "\" must be 1 to ", kMaxExtraNameLength,
        " characters long"));
  }
  if (!IsLower(name[0])) {
    return absl::InvalidArgumentError(StrCat(
        field, ": resource name \"", name, "\" must start with a lower-case letter"));
  }
  for (char c : name) {
    if (!IsLower(c) && !IsDigit(c) && c != '.' && c != '_' &&
        c != '-' && c != '/') {
      return absl::InvalidArgumentError(StrCat(
          field, ": resource name \"", name,
          "\" may contain only a-z, 0-9, '.', '_', '-' and '/'"));
    }
  }
  for (std::string_view fixed : kFixedNames) {
    if (name == fixed) {
      return absl::InvalidArgumentError(StrCat(
          field, ": \"", name, "\" is a built-in resource, not an extra one"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, int64_t>> ParseExtra(std::string_view text,
                                                           std::string_view field) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(
        field, ": \"", text, "\" is not valid; expected name=count, such as fpga=2"));
  }
  const std::string name(StripWhitespace(text.substr(0, eq)));
  if (absl::Status s = ValidateExtraName(name, field); !s.ok()) return s;
  static constexpr Unit kCount[] = {{"", 1, 1}};
  static constexpr ParseSpec kSpec = {kCount, 1, kMaxExtraQuantity, false,
                                      "a whole count such as 2",
                                      [](int64_t v) { return StrCat(v); }};
  absl::StatusOr<int64_t> count =
      ParseScaled(text.substr(eq + 1), StrCat(field, ".", name), kSpec);
  if (!count.ok()) return count.status();
  return std::make_pair(name, *count);
}

std::string FormatMillis(int64_t millis) { return FormatTwoDecimals(millis, 1000); }

std::string FormatGb(int64_t mib) { return FormatTwoDecimals(mib, 1024) + " GB"; }

std::string FormatCores(int64_t millis) { return FormatTrimmed(millis, 1000, 3); }

std::string FormatMiB(int64_t mib) {
  // The largest binary unit in which the value is exact to three decimals.
  constexpr int64_t kTi = 1024 * 1024;
  if (mib >= kTi && (static_cast<int128>(mib) * 1000) % kTi == 0) {
    return FormatTrimmed(mib, kTi, 3) + "Ti";
  }
  if (mib >= 1024 && (static_cast<int128>(mib) * 1000) % 1024 == 0) {
    return FormatTrimmed(mib, 1024, 3) + "Gi";
  }
  return StrCat(mib, "Mi");
}

}  // namespace cloudai
