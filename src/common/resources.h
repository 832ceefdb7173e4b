// Resources: a vector of integer resource quantities.
//
// CloudAI never does resource arithmetic in floating point. Every quantity is a 64-bit
// integer in a fixed unit:
//   cpu      millicores      (1 core  = 1000)
//   memory   MiB
//   storage  MiB
//   gpu      milli-GPUs      (1 GPU   = 1000; fractional GPUs are allowed)
// plus any number of named extra resources ("fpga", "license.matlab", ...), each a plain
// count, so a new kind of resource needs no code change.
//
// Every quantity lies in [0, its kMax*]; the limits are far above any real machine and
// chosen so that the sum over a million workers still fits in an int64. Arithmetic is
// checked: a result outside the limits is an error, never a wrap.
//
// Thread safety: a value type; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloudai {

// Upper limits of a single quantity (inclusive).
inline constexpr int64_t kMaxCpuMillis = int64_t{1} << 30;       // ~1M cores
inline constexpr int64_t kMaxMemoryMiB = int64_t{1} << 40;       // 1 EiB
inline constexpr int64_t kMaxStorageMiB = int64_t{1} << 40;      // 1 EiB
inline constexpr int64_t kMaxGpuMillis = int64_t{1} << 30;       // ~1M GPUs
inline constexpr int64_t kMaxExtraQuantity = int64_t{1} << 40;
inline constexpr size_t kMaxExtraNameLength = 63;
inline constexpr size_t kMaxExtraKinds = 32;

struct Resources {
  int64_t cpu_millis = 0;
  int64_t memory_mib = 0;
  int64_t storage_mib = 0;
  int64_t gpu_millis = 0;
  // Named extra resources, sorted by name, names unique, quantities > 0. Use SetExtra /
  // Extra rather than touching the vector directly.
  std::vector<std::pair<std::string, int64_t>> extras;

  // Shorthand for the four fixed dimensions, in their integer units.
  static Resources Of(int64_t cpu_millis, int64_t memory_mib, int64_t storage_mib = 0,
                      int64_t gpu_millis = 0);

  // Quantity of a named extra resource; 0 when absent.
  int64_t Extra(std::string_view name) const;
  // Sets a named extra resource (0 removes it). Does not validate; see Validate().
  void SetExtra(std::string_view name, int64_t quantity);

  bool IsZero() const;

  // OK when every quantity lies in [0, limit] and every extra name is well formed.
  // The error names the field as `<prefix>.<resource>` (e.g. "request.memory").
  absl::Status Validate(std::string_view prefix = "resources") const;

  // True when every quantity of *this is <= the same quantity of `available`
  // (an extra missing from `available` counts as 0).
  bool FitsIn(const Resources& available) const;

  // "cpu=1.50 memory=4.00 GB storage=10.00 GB gpu=0.00 fpga=2"
  std::string ToString() const;

  friend bool operator==(const Resources&, const Resources&) = default;
};

// a + b; an error when any sum leaves [0, limit].
absl::StatusOr<Resources> Add(const Resources& a, const Resources& b);
// a - b; an error when any difference leaves [0, limit] (you cannot take away what is
// not there).
absl::StatusOr<Resources> Subtract(const Resources& a, const Resources& b);

// When `request` does not fit in `available`, the message for the first dimension that
// falls short, in the order cpu, memory, storage, gpu, extras, worded as the operator
// sees it:
//   "Insufficient CPU: worker has 2.00 available, task requires 3.00"
//   "Insufficient Memory: worker has 4.00 GB available, task requires 8.00 GB"
//   "Insufficient Storage: worker has 50.00 GB available, task requires 100.00 GB"
//   "Insufficient GPU: worker has 0.00 available, task requires 1.00"
//   "Insufficient fpga: worker has 1 available, task requires 2"
// std::nullopt when it fits.
std::optional<std::string> Shortfall(const Resources& available, const Resources& request);

// Checked int64 helpers: false on overflow, leaving *out unspecified.
inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool CheckedSub(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_sub_overflow(a, b, out);
}
inline bool CheckedMul(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

}  // namespace cloudai
