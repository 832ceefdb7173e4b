#include "worker/host/gpu_info.h"

#include <gtest/gtest.h>

namespace cloudai::worker {
namespace {

TEST(NvidiaSmiCsv, ParsesDevices) {
  auto devices = ParseNvidiaSmiCsv(
      "0, NVIDIA H100 80GB HBM3, GPU-1234, 81559, 1024, 37\n"
      "1, NVIDIA H100 80GB HBM3, GPU-5678, 81559, 0, [N/A]\n");
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ((*devices)[0].uuid, "GPU-1234");
  EXPECT_EQ((*devices)[0].memory_total_mib, 81559);
  EXPECT_EQ((*devices)[0].memory_used_mib, 1024);
  EXPECT_EQ((*devices)[0].utilization_percent, 37);
  EXPECT_EQ((*devices)[1].index, 1);
  EXPECT_EQ((*devices)[1].utilization_percent, 0);
}

TEST(NvidiaSmiCsv, RejectsMalformedLines) {
  auto devices = ParseNvidiaSmiCsv("0, name, uuid, lots, 0, 1\n");
  ASSERT_FALSE(devices.ok());
  EXPECT_NE(std::string(devices.status().message()).find("cannot parse line"),
            std::string::npos);
  EXPECT_TRUE(ParseNvidiaSmiCsv("\n\n").value().empty());
}

// Whatever this machine has (NVML, nvidia-smi or nothing), the probe's totals agree
// with the devices it lists.
TEST(GpuProbe, TotalsMatchTheDevicesListed) {
  auto probe = GpuProbe::Create();
  auto devices = probe->Devices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  EXPECT_EQ(probe->TotalMilliGpus(), static_cast<int64_t>(devices->size()) * 1000);
  const double usage = probe->UsagePercent();
  EXPECT_GE(usage, 0.0);
  EXPECT_LE(usage, 100.0);
  if (probe->source() == "none") {
    EXPECT_TRUE(devices->empty());
  }
  for (const GpuDevice& d : *devices) {
    EXPECT_GT(d.memory_total_mib, 0);
    EXPECT_LE(d.memory_used_mib, d.memory_total_mib);
  }
}

}  // namespace
}  // namespace cloudai::worker
