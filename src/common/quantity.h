// Parsing and printing of resource quantities as people type and read them.
//
// Parsing never goes through floating point: "1.5" is read as the decimal 1.5 and scaled
// exactly. Accepted forms:
//   CPU      "2", "1.5", "0.25" (cores)  |  "500m" (millicores)
//   GPU      "1", "0.5" (GPUs)           |  "500m" (milli-GPUs)
//   memory / storage
//            "512Mi", "512MiB", "512M", "512MB"       MiB
//            "4Gi", "4GiB", "4G", "4GB"               GiB
//            "1Ti", "1TiB", "1T", "1TB"               TiB
//            "64Ki", "64KiB", "64K", "64KB", "100B"   rounded up to whole MiB
//            "4" (no unit)                            GB, as the CLI's -mem / -storage flags
//   Suffixes are case-insensitive and, as in Docker, always powers of 1024.
// Errors name the field and say what is wrong: empty, malformed, negative, not a number,
// finer than the unit (cpu "0.0001"), or above the field's limit.
//
// Printing follows the seed's operator-facing style: two decimals, GB for memory and
// storage ("4.00 GB"), bare numbers for CPU cores and GPUs ("2.00").
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/resources.h"

namespace cloudai {

// Millicores. `field` names the input in error messages ("cpu", "--cpu", "request.cpu").
absl::StatusOr<int64_t> ParseCpu(std::string_view text, std::string_view field = "cpu");
// Milli-GPUs.
absl::StatusOr<int64_t> ParseGpu(std::string_view text, std::string_view field = "gpu");
// MiB; a bare number is GB.
absl::StatusOr<int64_t> ParseMemory(std::string_view text, std::string_view field = "memory");
absl::StatusOr<int64_t> ParseStorage(std::string_view text,
                                     std::string_view field = "storage");
// A named extra resource: "name=count", e.g. "fpga=2".
absl::StatusOr<std::pair<std::string, int64_t>> ParseExtra(std::string_view text,
                                                           std::string_view field = "extra");
// OK when `name` is a valid extra-resource name: 1..63 characters of [a-z0-9._/-],
// starting with a letter, and not one of the fixed names.
absl::Status ValidateExtraName(std::string_view name, std::string_view field = "extra");

// 1500 -> "1.50" (cores or GPUs from milli-units), rounded half up.
std::string FormatMillis(int64_t millis);
// 1536 -> "1.50 GB" (from MiB), rounded half up.
std::string FormatGb(int64_t mib);
// Human size from MiB with the largest fitting binary unit: 512 -> "512Mi",
// 1536 -> "1.5Gi", 4096 -> "4Gi". Round-trips through ParseMemory.
std::string FormatMiB(int64_t mib);
// Cores from millicores without trailing zeros: 1500 -> "1.5", 250 -> "0.25", 2000 -> "2".
std::string FormatCores(int64_t millis);

}  // namespace cloudai
