// FixedQuantities: the four fixed resource dimensions of a Resources as an array, the
// form the scheduler's capacity indexes work in.
//
// Thread safety: a value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/resources.h"

namespace cloudai::scheduler {

// The fixed dimensions, in this order: cpu_millis, memory_mib, storage_mib, gpu_millis.
inline constexpr size_t kFixedDims = 4;
using FixedQuantities = std::array<int64_t, kFixedDims>;

// The fixed part of `r`.
inline FixedQuantities FixedPart(const Resources& r) {
  return {r.cpu_millis, r.memory_mib, r.storage_mib, r.gpu_millis};
}

}  // namespace cloudai::scheduler
