#include "worker/host/host_info.h"

#include <sched.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/strings.h"

namespace cloudai::worker {
namespace {

// Above this a cgroup memory limit means "unlimited" (the kernel reports the page-
// aligned maximum of a 64-bit counter).
constexpr int64_t kUnlimitedMemoryBytes = int64_t{1} << 60;

std::optional<int64_t> ParseInt(std::string_view s) {
  s = StripWhitespace(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Millicores from quota / period, rounded up to a whole millicore.
std::optional<int64_t> QuotaMillis(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return (quota * 1000 + period - 1) / period;
}

}  // namespace

std::optional<int64_t> ParseCgroupV2CpuMax(std::string_view contents) {
  const auto f = Fields(StripWhitespace(contents));
  if (f.empty() || f[0] == "max") return std::nullopt;
  const auto quota = ParseInt(f[0]);
  const auto period = f.size() > 1 ? ParseInt(f[1]) : std::optional<int64_t>(100000);
  if (!quota || !period) return std::nullopt;
  return QuotaMillis(*quota, *period);
}

std::optional<int64_t> ParseCgroupV1CpuQuota(std::string_view quota, std::string_view period) {
  const auto q = ParseInt(quota);
  const auto p = ParseInt(period);
  if (!q || !p) return std::nullopt;
  return QuotaMillis(*q, *p);
}

std::optional<int64_t> ParseCgroupMemoryLimit(std::string_view contents) {
  const auto bytes = ParseInt(contents);
  if (!bytes || *bytes <= 0 || *bytes >= kUnlimitedMemoryBytes) return std::nullopt;
  return *bytes / (1024 * 1024);
}

absl::StatusOr<MemInfo> ParseMemInfo(std::string_view contents) {
  MemInfo info;
  bool have_total = false;
  bool have_available = false;
  while (!contents.empty()) {
    const size_t nl = contents.find('\n');
    const std::string_view line = contents.substr(0, nl);
    contents = nl == std::string_view::npos ? std::string_view() : contents.substr(nl + 1);
    const auto f = Fields(line);
    if (f.size() < 2) continue;
    const auto v = ParseInt(f[1]);
    if (f[0] == "MemTotal:" && v) {
      info.total_kib = *v;
      have_total = true;
    } else if (f[0] == "MemAvailable:" && v) {
      info.available_kib = *v;
      have_available = true;
    }
  }
  if (!have_total || info.total_kib <= 0) {
    return absl::DataLossError("/proc/meminfo: no valid MemTotal line");
  }
  if (!have_available) info.available_kib = info.total_kib;
  info.available_kib = std::clamp<int64_t>(info.available_kib, 0, info.total_kib);
  return info;
}

absl::StatusOr<CpuTimes> ParseProcStatCpu(std::string_view contents) {
  const std::string_view line = contents.substr(0, contents.find('\n'));
  const auto f = Fields(line);
  if (f.size() < 5 || f[0] != "cpu") {
    return absl::DataLossError("/proc/stat: the first line is not the aggregate cpu line");
  }
  // user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
  CpuTimes t;
  for (size_t i = 1; i < f.size() && i <= 8; ++i) {
    const auto v = ParseInt(f[i]);
    if (!v || *v < 0) return absl::DataLossError("/proc/stat: malformed cpu line");
    t.total += static_cast<uint64_t>(*v);
    if (i != 4 && i != 5) t.busy += static_cast<uint64_t>(*v);  // idle, iowait
  }
  return t;
}

int64_t ReadCpuMillis() {
  cpu_set_t set;
  int64_t cpus = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = std::max<long>(1, sysconf(_SC_NPROCESSORS_ONLN));
  int64_t millis = cpus * 1000;
  std::optional<int64_t> limit;
  if (auto v2 = ReadFile("/sys/fs/cgroup/cpu.max")) {
    limit = ParseCgroupV2CpuMax(*v2);
  } else {
    auto quota = ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    auto period = ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (quota && period) limit = ParseCgroupV1CpuQuota(*quota, *period);
  }
  if (limit) millis = std::min(millis, *limit);
  return millis;
}

absl::StatusOr<int64_t> ReadMemoryMiB() {
  auto contents = ReadFile("/proc/meminfo");
  if (!contents) return absl::UnavailableError("cannot read /proc/meminfo");
  absl::StatusOr<MemInfo> info = ParseMemInfo(*contents);
  if (!info.ok()) return info.status();
  int64_t mib = info->total_kib / 1024;
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (auto limit = ReadFile(path)) {
      if (auto v = ParseCgroupMemoryLimit(*limit)) mib = std::min(mib, *v);
      break;
    }
  }
  return mib;
}

absl::StatusOr<double> ReadMemoryUsagePercent() {
  auto contents = ReadFile("/proc/meminfo");
  if (!contents) return absl::UnavailableError("cannot read /proc/meminfo");
  absl::StatusOr<MemInfo> info = ParseMemInfo(*contents);
  if (!info.ok()) return info.status();
  return 100.0 * static_cast<double>(info->total_kib - info->available_kib) /
         static_cast<double>(info->total_kib);
}

absl::StatusOr<DiskInfo> ReadDisk(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) {
    return absl::UnavailableError(StrCat("statvfs(", path, ") failed"));
  }
  const auto to_mib = [&](uint64_t blocks) {
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(st.f_frsize), &bytes)) {
      bytes = UINT64_MAX;
    }
    return static_cast<int64_t>(bytes >> 20);
  };
  return DiskInfo{to_mib(st.f_blocks), to_mib(st.f_bavail)};
}

absl::StatusOr<double> CpuUsageSampler::Sample() {
  auto contents = ReadFile("/proc/stat");
  if (!contents) return absl::UnavailableError("cannot read /proc/stat");
  absl::StatusOr<CpuTimes> now = ParseProcStatCpu(*contents);
  if (!now.ok()) return now.status();
  const uint64_t total = now->total - std::min(last_.total, now->total);
  const uint64_t busy = now->busy - std::min(last_.busy, now->busy);
  last_ = *now;
  if (total == 0) return 0.0;
  return std::clamp(100.0 * static_cast<double>(busy) / static_cast<double>(total), 0.0, 100.0);
}

}  // namespace cloudai::worker
