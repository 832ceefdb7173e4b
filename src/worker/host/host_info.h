// Host measurements for the CloudAI worker: what the machine has (totals) and what it
// uses (percentages), read from the kernel rather than assumed.
//
//   CPUs      the CPUs this process may run on (sched_getaffinity), lowered to a cgroup
//             CPU limit when one is set (cgroup v2 cpu.max, or v1 cfs quota / period)
//   memory    /proc/meminfo MemTotal, lowered to a cgroup memory limit when one is set;
//             usage from MemTotal - MemAvailable
//   storage   statvfs on the worker's work directory
//   GPUs      NVML, loaded at run time (gpu_info.h); none when it is absent
//
// The parsers are separate functions over file contents so they can be tested with
// recorded inputs; the Read* functions do the I/O.
//
// Thread safety: free functions are thread-safe; a CpuUsageSampler is used from one
// thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cloudai::worker {

// --- Parsers (pure) ---

// cgroup v2 "cpu.max" ("max 100000" or "150000 100000") -> millicores; nullopt: no limit.
std::optional<int64_t> ParseCgroupV2CpuMax(std::string_view contents);
// cgroup v1 quota and period (quota -1 means no limit) -> millicores.
std::optional<int64_t> ParseCgroupV1CpuQuota(std::string_view quota, std::string_view period);
// cgroup "memory.max" / "memory.limit_in_bytes" -> MiB; nullopt for "max" or a value so
// large it means "no limit".
std::optional<int64_t> ParseCgroupMemoryLimit(std::string_view contents);

struct MemInfo {
  int64_t total_kib = 0;
  int64_t available_kib = 0;
};
// /proc/meminfo. An error when MemTotal is missing or malformed.
absl::StatusOr<MemInfo> ParseMemInfo(std::string_view contents);

// Aggregate "cpu" line of /proc/stat: busy and total jiffies.
struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};
absl::StatusOr<CpuTimes> ParseProcStatCpu(std::string_view contents);

// --- Measurements (I/O) ---

// Millicores this worker can use: affinity CPUs, capped by a cgroup limit.
int64_t ReadCpuMillis();
// MiB of memory: MemTotal capped by a cgroup limit.
absl::StatusOr<int64_t> ReadMemoryMiB();
// Memory in use, percent of MemTotal.
absl::StatusOr<double> ReadMemoryUsagePercent();

struct DiskInfo {
  int64_t total_mib = 0;
  int64_t available_mib = 0;
};
// The file system holding `path`.
absl::StatusOr<DiskInfo> ReadDisk(const std::string& path);

// CPU usage between successive calls, from /proc/stat.
class CpuUsageSampler {
 public:
  // Percent busy over all CPUs since the previous call (the first call measures since
  // boot).
  absl::StatusOr<double> Sample();

 private:
  CpuTimes last_;
};

}  // namespace cloudai::worker
