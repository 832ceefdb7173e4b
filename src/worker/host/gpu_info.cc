#include "worker/host/gpu_info.h"

#include <dlfcn.h>
#include <stdio.h>

#include <charconv>

#include "common/strings.h"

namespace cloudai::worker {
namespace {

// The subset of NVML's C API the worker uses (nvml.h, stable since CUDA 8).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};

std::string_view Trim(std::string_view s) { return StripWhitespace(s); }

bool ParseI64(std::string_view s, int64_t* out) {
  s = Trim(s);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

struct GpuProbe::Nvml {
  void* handle = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*count)(unsigned int*) = nullptr;
  nvmlReturn_t (*by_index)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;

  ~Nvml() {
    if (shutdown != nullptr) shutdown();
    if (handle != nullptr) dlclose(handle);
  }

  template <typename F>
  bool Bind(F* fn, const char* symbol) {
    *fn = reinterpret_cast<F>(dlsym(handle, symbol));
    return *fn != nullptr;
  }

  static std::unique_ptr<Nvml> Load() {
    auto nvml = std::make_unique<Nvml>();
    nvml->handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (nvml->handle == nullptr) return nullptr;
    const bool ok = nvml->Bind(&nvml->init, "nvmlInit_v2") &&
                    nvml->Bind(&nvml->count, "nvmlDeviceGetCount_v2") &&
                    nvml->Bind(&nvml->by_index, "nvmlDeviceGetHandleByIndex_v2") &&
                    nvml->Bind(&nvml->name, "nvmlDeviceGetName") &&
                    nvml->Bind(&nvml->uuid, "nvmlDeviceGetUUID") &&
                    nvml->Bind(&nvml->memory, "nvmlDeviceGetMemoryInfo") &&
                    nvml->Bind(&nvml->utilization, "nvmlDeviceGetUtilizationRates");
    if (!ok || nvml->init() != kNvmlSuccess) return nullptr;
    nvml->Bind(&nvml->shutdown, "nvmlShutdown");
    return nvml;
  }
};

absl::StatusOr<std::vector<GpuDevice>> ParseNvidiaSmiCsv(std::string_view csv) {
  std::vector<GpuDevice> out;
  while (!csv.empty()) {
    const size_t nl = csv.find('\n');
    const std::string_view line = Trim(csv.substr(0, nl));
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      f.push_back(Trim(line.substr(start, comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    GpuDevice d;
    int64_t index = 0;
    int64_t util = 0;
    if (f.size() != 6 || !ParseI64(f[0], &index) || !ParseI64(f[3], &d.memory_total_mib) ||
        !ParseI64(f[4], &d.memory_used_mib)) {
      return absl::DataLossError(StrCat("nvidia-smi: cannot parse line \"", line, "\""));
    }
    d.index = static_cast<int>(index);
    d.name = std::string(f[1]);
    d.uuid = std::string(f[2]);
    // "[N/A]" utilisation (some virtual GPUs) reads as 0.
    if (ParseI64(f[5], &util)) d.utilization_percent = static_cast<double>(util);
    out.push_back(std::move(d));
  }
  return out;
}

std::unique_ptr<GpuProbe> GpuProbe::Create() {
  std::unique_ptr<GpuProbe> probe(new GpuProbe());
  probe->nvml_ = Nvml::Load();
  if (probe->nvml_ != nullptr) {
    unsigned int n = 0;
    if (probe->nvml_->count(&n) == kNvmlSuccess) probe->device_count_ = static_cast<int>(n);
    return probe;
  }
  probe->smi_ = true;
  absl::StatusOr<std::vector<GpuDevice>> devices = probe->Devices();
  if (devices.ok()) {
    probe->device_count_ = static_cast<int>(devices->size());
  } else {
    probe->smi_ = false;
  }
  return probe;
}

GpuProbe::~GpuProbe() = default;

std::string_view GpuProbe::source() const {
  if (nvml_ != nullptr) return "nvml";
  return smi_ ? "nvidia-smi" : "none";
}

absl::StatusOr<std::vector<GpuDevice>> GpuProbe::Devices() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<GpuDevice> out;
  if (nvml_ != nullptr) {
    for (int i = 0; i < device_count_; ++i) {
      nvmlDevice_t dev = nullptr;
      if (nvml_->by_index(static_cast<unsigned>(i), &dev) != kNvmlSuccess) {
        return absl::UnavailableError(StrCat("NVML: cannot open GPU ", i));
      }
      GpuDevice d;
      d.index = i;
      char buf[128] = {};
      if (nvml_->name(dev, buf, sizeof(buf)) == kNvmlSuccess) d.name = buf;
      char uuid[96] = {};
      if (nvml_->uuid(dev, uuid, sizeof(uuid)) == kNvmlSuccess) d.uuid = uuid;
      nvmlMemory_t mem{};
      if (nvml_->memory(dev, &mem) == kNvmlSuccess) {
        d.memory_total_mib = static_cast<int64_t>(mem.total >> 20);
        d.memory_used_mib = static_cast<int64_t>(mem.used >> 20);
      }
      nvmlUtilization_t util{};
      if (nvml_->utilization(dev, &util) == kNvmlSuccess) d.utilization_percent = util.gpu;
      out.push_back(std::move(d));
    }
    return out;
  }
  if (!smi_) return out;
  FILE* pipe = popen(
      "nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu "
      "--format=csv,noheader,nounits 2>/dev/null",
      "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot run nvidia-smi");
  std::string csv;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) csv.append(buf, n);
  const int rc = pclose(pipe);
  if (rc != 0) return absl::UnavailableError(StrCat("nvidia-smi exited with status ", rc));
  return ParseNvidiaSmiCsv(csv);
}

int64_t GpuProbe::TotalMilliGpus() {
  std::lock_guard<std::mutex> lock(mu_);
  return int64_t{device_count_} * 1000;
}

double GpuProbe::UsagePercent() {
  absl::StatusOr<std::vector<GpuDevice>> devices = Devices();
  if (!devices.ok() || devices->empty()) return 0;
  double sum = 0;
  for (const GpuDevice& d : *devices) sum += d.utilization_percent;
  return sum / static_cast<double>(devices->size());
}

}  // namespace cloudai::worker
