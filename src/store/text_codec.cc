#include "store/text_codec.h"

#include <charconv>
#include <vector>

#include "common/strings.h"

namespace cloudai::store {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Separators of each form, escaped inside its items (besides '%', space, control bytes
// and bytes above 0x7e).
constexpr std::string_view kMapSeparators = "&=";
constexpr std::string_view kListSeparators = ",";
constexpr std::string_view kSlotSeparators = "|;";

bool NeedsEscape(unsigned char c, std::string_view separators) {
  return c <= 0x20 || c >= 0x7f || c == '%' ||
         separators.find(static_cast<char>(c)) != std::string_view::npos;
}

void AppendEscaped(std::string& out, std::string_view s,
                   std::string_view separators = kMapSeparators) {
  for (unsigned char c : s) {
    if (NeedsEscape(c, separators)) {
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

// The items of `text` between `separator`s; none for "".
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> items;
  if (text.empty()) return items;
  while (true) {
    const size_t at = text.find(separator);
    items.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return items;
}

// A whole decimal int64 ("-5" is accepted here and refused by the range checks).
bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
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

std::string EncodeStringList(const std::vector<std::string>& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendEscaped(out, list[i], kListSeparators);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeStringList(std::string_view text,
                                                          std::string_view field) {
  std::vector<std::string> list;
  const std::vector<std::string_view> items = Split(text, ',');
  list.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty()) {
      return absl::InvalidArgumentError(
          StrCat(field, ": item ", i + 1, " of \"", text.substr(0, 80), "\" is empty"));
    }
    absl::StatusOr<std::string> item = Unescape(items[i], field);
    if (!item.ok()) return item.status();
    list.push_back(*std::move(item));
  }
  return list;
}

std::string EncodeSlots(const std::vector<AllocationSlot>& slots) {
  std::string out;
  for (size_t i = 0; i < slots.size(); ++i) {
    const AllocationSlot& slot = slots[i];
    if (i > 0) out.push_back(';');
    AppendEscaped(out, slot.worker_id, kSlotSeparators);
    StrAppend(&out, "|", slot.resources.cpu_millis, "|", slot.resources.memory_mib, "|",
              slot.resources.storage_mib, "|", slot.resources.gpu_millis, "|",
              EncodeExtras(slot.resources));
  }
  return out;
}

absl::StatusOr<std::vector<AllocationSlot>> DecodeSlots(std::string_view text,
                                                        std::string_view field) {
  static constexpr std::string_view kQuantities[4] = {"cpu", "memory", "storage", "gpu"};
  std::vector<AllocationSlot> slots;
  const std::vector<std::string_view> items = Split(text, ';');
  if (items.size() > static_cast<size_t>(kMaxAllocationWorkers)) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", items.size(), " slots is above the limit of ", kMaxAllocationWorkers));
  }
  slots.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string slot_field = StrCat(field, "[", i, "]");
    const std::vector<std::string_view> parts = Split(items[i], '|');
    if (parts.size() != 6) {
      return absl::InvalidArgumentError(
          StrCat(slot_field, ": \"", items[i].substr(0, 80),
                 "\" is not worker_id|cpu|memory|storage|gpu|extras"));
    }
    AllocationSlot slot;
    absl::StatusOr<std::string> worker = Unescape(parts[0], slot_field);
    if (!worker.ok()) return worker.status();
    slot.worker_id = *std::move(worker);
    int64_t* quantities[4] = {&slot.resources.cpu_millis, &slot.resources.memory_mib,
                              &slot.resources.storage_mib, &slot.resources.gpu_millis};
    for (int q = 0; q < 4; ++q) {
      if (!ParseInt(parts[1 + q], quantities[q])) {
        return absl::InvalidArgumentError(StrCat(slot_field, ".", kQuantities[q], ": \"",
                                                 parts[1 + q].substr(0, 40),
                                                 "\" is not a whole number"));
      }
    }
    const std::string resources_field = StrCat(slot_field, ".resources");
    if (absl::Status s = DecodeExtras(parts[5], resources_field, &slot.resources); !s.ok()) {
      return s;
    }
    if (absl::Status s = slot.resources.Validate(resources_field); !s.ok()) return s;
    slots.push_back(std::move(slot));
  }
  return slots;
}

}  // namespace cloudai::store
