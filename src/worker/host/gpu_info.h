// GPU discovery and telemetry for the CloudAI worker.
//
// NVML (libnvidia-ml.so.1) is loaded with dlopen at run time, so the worker builds and runs
// on machines without NVIDIA's driver; there it simply reports no GPUs. When NVML cannot be
// loaded but `nvidia-smi` is on the PATH, its CSV output is used instead.
//
// Thread safety: a GpuProbe may be shared; its methods serialise NVML calls internally.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudai::worker {

struct GpuDevice {
  int index = 0;
  std::string name;
  std::string uuid;
  int64_t memory_total_mib = 0;
  int64_t memory_used_mib = 0;
  double utilization_percent = 0;  // GPU core busy time over the driver's last window
};

// Parses `nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu
// --format=csv,noheader,nounits`. Lines that do not parse are an error naming the line.
absl::StatusOr<std::vector<GpuDevice>> ParseNvidiaSmiCsv(std::string_view csv);

class GpuProbe {
 public:
  // Tries NVML, then nvidia-smi. Never fails: a probe without a source reports no GPUs.
  static std::unique_ptr<GpuProbe> Create();
  ~GpuProbe();

  // "nvml", "nvidia-smi" or "none".
  std::string_view source() const;
  // The devices and their current usage.
  absl::StatusOr<std::vector<GpuDevice>> Devices();
  // Number of GPUs, in milli-GPUs (1000 per device).
  int64_t TotalMilliGpus();
  // Mean utilization over all devices (0 when there are none).
  double UsagePercent();

 private:
  struct Nvml;
  GpuProbe() = default;

  std::mutex mu_;
  std::unique_ptr<Nvml> nvml_;
  bool smi_ = false;
  int device_count_ = 0;
};

}  // namespace cloudai::worker
