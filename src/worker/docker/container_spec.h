// ContainerSpec: what CloudAI asks the Docker engine to create for one task, and the
// body of POST /containers/create built from it.
//
// The command runs as ["/bin/sh", "-c", command]; CPU and memory requests become hard
// limits (HostConfig.NanoCpus = millicores * 1e6, HostConfig.Memory = MiB * 2^20, with
// swap not counted on top); GPUs become an "nvidia" device request. Every CloudAI container
// carries the labels cloudai.task_id=<id> and cloudai.managed=true, so a restarted worker
// finds its containers by label.
//
// Thread safety: value types and free functions without shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloudai::worker::docker {

inline constexpr std::string_view kTaskIdLabel = "cloudai.task_id";
inline constexpr std::string_view kManagedLabel = "cloudai.managed";

struct GpuRequest {
  // Whole GPUs; 0: none; -1: all of the host's GPUs. Ignored when device_ids is set.
  int64_t count = 0;
  // Specific devices (indexes or UUIDs, as nvidia-container-toolkit takes them).
  std::vector<std::string> device_ids;
  std::string driver = "nvidia";

  bool empty() const { return count == 0 && device_ids.empty(); }
};

struct ContainerSpec {
  std::string task_id;  // required; the cloudai.task_id label
  std::string name;     // the container's name; empty: the engine picks one
  std::string image;    // required
  // Run as /bin/sh -c <command>; empty: the image's own command.
  std::string command;
  std::map<std::string, std::string> env;
  // More labels; the two CloudAI labels are added (and may not be set to other values).
  std::map<std::string, std::string> labels;
  int64_t cpu_millis = 0;  // 0: no CPU limit
  int64_t memory_mib = 0;  // 0: no memory limit
  GpuRequest gpus;
  std::string network_mode;  // "none", "host", ...; empty: the engine's default
  // TCP ports published on the host at the same number (a service's port); ignored with
  // network mode "host" or "none", where there is nothing to publish.
  std::vector<int> published_ports;
  std::string working_dir;   // empty: the image's
  std::string user;          // empty: the image's
  bool tty = false;          // with a TTY, logs come raw, not multiplexed
};

// Whole GPUs for a request in milli-GPUs: a partial GPU needs a whole device (1500 → 2).
int64_t GpusForMillis(int64_t gpu_millis);

// Checks an image reference: non-empty, at most 255 bytes of [A-Za-z0-9._:/@-], no
// leading '-' or ':'.
absl::Status ValidateImageRef(std::string_view ref);
// Checks a container id or name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 bytes.
absl::Status ValidateContainerId(std::string_view id);

// InvalidArgument naming the field when `spec` cannot be sent as it is.
absl::Status ValidateContainerSpec(const ContainerSpec& spec);

// The JSON body of POST /containers/create for `spec` (validated first).
absl::StatusOr<nlohmann::json> BuildCreateContainerBody(const ContainerSpec& spec);

}  // namespace cloudai::worker::docker
