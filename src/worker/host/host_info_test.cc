#include "worker/host/host_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace cloudai::worker {
namespace {

TEST(CgroupCpu, V2Limits) {
  EXPECT_EQ(ParseCgroupV2CpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupV2CpuMax("150000 100000\n"), 1500);
  EXPECT_EQ(ParseCgroupV2CpuMax("50000 100000"), 500);
  EXPECT_EQ(ParseCgroupV2CpuMax("1 3"), 334);  // rounded up to a whole millicore
  EXPECT_EQ(ParseCgroupV2CpuMax("garbage"), std::nullopt);
  EXPECT_EQ(ParseCgroupV2CpuMax(""), std::nullopt);
}

TEST(CgroupCpu, V1Quota) {
  EXPECT_EQ(ParseCgroupV1CpuQuota("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupV1CpuQuota("200000\n", "100000\n"), 2000);
  EXPECT_EQ(ParseCgroupV1CpuQuota("x", "100000"), std::nullopt);
}

TEST(CgroupMemory, Limits) {
  EXPECT_EQ(ParseCgroupMemoryLimit("max\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupMemoryLimit("9223372036854771712\n"), std::nullopt);  // v1 "none"
  EXPECT_EQ(ParseCgroupMemoryLimit("4294967296\n"), 4096);
  EXPECT_EQ(ParseCgroupMemoryLimit("0"), std::nullopt);
}

TEST(MemInfo, ParsesTotalAndAvailable) {
  auto info = ParseMemInfo(
      "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   12288000 kB\n");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->total_kib, 24576000);
  EXPECT_EQ(info->available_kib, 12288000);
  EXPECT_FALSE(ParseMemInfo("MemFree: 10 kB\n").ok());
  EXPECT_FALSE(ParseMemInfo("MemTotal: lots kB\n").ok());
}

TEST(ProcStat, BusyExcludesIdleAndIowait) {
  // user nice system idle iowait irq softirq steal
  auto t = ParseProcStatCpu("cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->total, 1000u);
  EXPECT_EQ(t->busy, 160u);
  EXPECT_FALSE(ParseProcStatCpu("intr 1 2 3\n").ok());
  EXPECT_FALSE(ParseProcStatCpu("cpu 1 -2 3 4\n").ok());
}

// The real machine: figures a person could check with nproc, free and df.
TEST(HostMeasurements, AreWithinWhatTheMachineHas) {
  const int64_t cpu = ReadCpuMillis();
  EXPECT_GE(cpu, 1);
  EXPECT_LE(cpu, sysconf(_SC_NPROCESSORS_ONLN) * 1000);

  auto mem = ReadMemoryMiB();
  ASSERT_TRUE(mem.ok()) << mem.status();
  const int64_t physical_mib =
      static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
  EXPECT_GT(*mem, 0);
  EXPECT_LE(*mem, physical_mib);

  auto used = ReadMemoryUsagePercent();
  ASSERT_TRUE(used.ok());
  EXPECT_GT(*used, 0.0);
  EXPECT_LE(*used, 100.0);

  auto disk = ReadDisk("/tmp");
  ASSERT_TRUE(disk.ok()) << disk.status();
  EXPECT_GT(disk->total_mib, 0);
  EXPECT_LE(disk->available_mib, disk->total_mib);
  EXPECT_FALSE(ReadDisk("/no/such/dir/cloudai").ok());

  CpuUsageSampler sampler;
  ASSERT_TRUE(sampler.Sample().ok());
  volatile uint64_t spin = 0;
  for (int i = 0; i < 20'000'000; ++i) spin = spin + i;
  auto pct = sampler.Sample();
  ASSERT_TRUE(pct.ok());
  EXPECT_GE(*pct, 0.0);
  EXPECT_LE(*pct, 100.0);
}

}  // namespace
}  // namespace cloudai::worker
