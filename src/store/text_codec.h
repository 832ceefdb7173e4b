// Text encodings of the two small maps the store keeps in a single column.
//
// Extra resources ("fpga=2,license.matlab=1") are written as the user would type them:
// resource names may only hold a-z, 0-9, '.', '_', '-' and '/', so ',' and '=' need no
// escaping. Environment variables are written as a form-encoded query
// ("PATH=%2Fbin&GREETING=hello%20world"): '%', '&', '=', space, control bytes and bytes
// above 0x7e are escaped as %XX, so any byte string survives the round trip and the
// column stays readable in the sqlite3 shell.
//
// Decoders never trust their input: a malformed text is an error, not a crash.
//
// Thread safety: free functions without shared state.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/resources.h"

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

}  // namespace cloudai::store
