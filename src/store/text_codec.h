// Text encodings of the small maps and lists the store keeps in a single column.
//
// Extra resources ("fpga=2,license.matlab=1") are written as the user would type them:
// resource names may only hold a-z, 0-9, '.', '_', '-' and '/', so ',' and '=' need no
// escaping. Environment variables (and allocation metadata) are written as a
// form-encoded query ("PATH=%2Fbin&GREETING=hello%20world"): '%', '&', '=', space,
// control bytes and bytes above 0x7e are escaped as %XX, so any byte string survives the
// round trip and the column stays readable in the sqlite3 shell.
//
// Lists of names (an allocation's services) are written "echo,redis" with '%', ',',
// space, control bytes and bytes above 0x7e escaped the same way; items are non-empty.
//
// An allocation's slots are written one slot after another, separated by ';', each as
// six '|'-separated fields:
//   worker_id|cpu|memory|storage|gpu|extras
//   "w-1|1500|512|0|0|fpga=1;w-1|1500|512|0|0|;w-2|1500|512|0|0|"
// worker_id escaped as above ('%', '|', ';', ...), the four quantities as decimal integers
// in the units of common/resources.h, extras in the form of EncodeExtras() (which holds
// neither '|' nor ';'). No slots is "".
//
// Decoders never trust their input: a malformed text is an error, not a crash.
//
// Thread safety: free functions without shared state.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/resources.h"
#include "store/records.h"

namespace cloudai::store {

// "name=count,name=count" in the order of `extras` (sorted by name); "" when empty.
std::string EncodeExtras(const Resources& resources);
// Parses EncodeExtras()'s form into `resources->extras` and checks names and counts the
// way Resources::Validate does. `field` names the value in the error.
absl::Status DecodeExtras(std::string_view text, std::string_view field, Resources* resources);

// "key=value&key=value" with keys in map order; "" when empty.
std::string EncodeStringMap(const std::map<std::string, std::string>& map);
absl::StatusOr<std::map<std::string, std::string>> DecodeStringMap(std::string_view text,
                                                                   std::string_view field);

// "a,b,c"; "" when empty. Items must be non-empty (an empty item has no encoding).
std::string EncodeStringList(const std::vector<std::string>& list);
// Refuses empty items ("a,,b", a trailing ',') and malformed escapes.
absl::StatusOr<std::vector<std::string>> DecodeStringList(std::string_view text,
                                                          std::string_view field);

// The form above; "" when there are none.
std::string EncodeSlots(const std::vector<AllocationSlot>& slots);
// Parses EncodeSlots()'s form; checks the structure, the integers and each slot's
// resources (Resources::Validate), not the worker ids (see ValidateSlots()).
absl::StatusOr<std::vector<AllocationSlot>> DecodeSlots(std::string_view text,
                                                        std::string_view field);

}  // namespace cloudai::store
