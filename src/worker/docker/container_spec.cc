#include "worker/docker/container_spec.h"

#include <cctype>

#include "common/resources.h"
#include "common/strings.h"

namespace cloudai::worker::docker {
namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxTaskIdBytes = 255;
constexpr size_t kMaxCommandBytes = size_t{1} << 20;

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

int64_t GpusForMillis(int64_t gpu_millis) {
  if (gpu_millis <= 0) return 0;
  return gpu_millis / 1000 + (gpu_millis % 1000 != 0 ? 1 : 0);
}

absl::Status ValidateImageRef(std::string_view ref) {
  if (ref.empty()) return absl::InvalidArgumentError("image: must not be empty");
  if (ref.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        StrCat("image: longer than ", kMaxNameBytes, " bytes (", ref.size(), ")"));
  }
  if (ref.front() == '-' || ref.front() == ':' || ref.front() == '/') {
    return absl::InvalidArgumentError(StrCat("image \"", ref, "\": malformed reference"));
  }
  for (char c : ref) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '_' && c != ':' && c != '/' && c != '@' && c != '-') {
      return absl::InvalidArgumentError(StrCat(
          "image \"", HasControl(ref) ? std::string("<control characters>") : std::string(ref),
          "\": character '", HasControl(std::string_view(&c, 1)) ? '?' : c,
          "' is not allowed in an image reference"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateContainerId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("container id: must not be empty");
  if (id.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        StrCat("container id: longer than ", kMaxNameBytes, " bytes"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const auto u = static_cast<unsigned char>(id[i]);
    const bool ok = std::isalnum(u) || (i > 0 && (id[i] == '_' || id[i] == '.' || id[i] == '-'));
    if (!ok) {
      return absl::InvalidArgumentError(StrCat(
          "container id \"", HasControl(id) ? std::string("<control characters>") : std::string(id),
          "\": only letters, digits, '_', '.' and '-' are allowed (not first)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateContainerSpec(const ContainerSpec& spec) {
  if (spec.task_id.empty()) return absl::InvalidArgumentError("task_id: must not be empty");
  if (spec.task_id.size() > kMaxTaskIdBytes || HasControl(spec.task_id)) {
    return absl::InvalidArgumentError(
        StrCat("task_id: at most ", kMaxTaskIdBytes, " bytes without control characters"));
  }
  if (!spec.name.empty()) {
    if (absl::Status s = ValidateContainerId(spec.name); !s.ok()) {
      return absl::InvalidArgumentError(StrCat("name: ", s.message()));
    }
  }
  if (absl::Status s = ValidateImageRef(spec.image); !s.ok()) return s;
  if (spec.command.size() > kMaxCommandBytes) {
    return absl::InvalidArgumentError(
        StrCat("command: longer than ", kMaxCommandBytes, " bytes (", spec.command.size(), ")"));
  }
  if (spec.command.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("command: contains a NUL byte");
  }
  for (int port : spec.published_ports) {
    if (port < 1 || port > 65535) {
      return absl::InvalidArgumentError(StrCat("published_ports: ", port, " is outside 1..65535"));
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          StrCat("env: variable name \"", key, "\" must be non-empty, without '=' or NUL"));
    }
    if (value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("env ", key, ": value contains a NUL byte"));
    }
  }
  for (const auto& [key, value] : spec.labels) {
    if (key.empty() || HasControl(key)) {
      return absl::InvalidArgumentError(
          StrCat("labels: key \"", key, "\" must be non-empty, without control characters"));
    }
    if (key == kTaskIdLabel && value != spec.task_id) {
      return absl::InvalidArgumentError(
          StrCat("labels: ", kTaskIdLabel, " is set from task_id and may not differ"));
    }
    if (key == kManagedLabel && value != "true") {
      return absl::InvalidArgumentError(
          StrCat("labels: ", kManagedLabel, " is always \"true\" on CloudAI containers"));
    }
  }
  if (spec.cpu_millis < 0 || spec.cpu_millis > kMaxCpuMillis) {
    return absl::InvalidArgumentError(
        StrCat("cpu_millis: ", spec.cpu_millis, " is outside [0, ", kMaxCpuMillis, "]"));
  }
  if (spec.memory_mib < 0 || spec.memory_mib > kMaxMemoryMiB) {
    return absl::InvalidArgumentError(
        StrCat("memory_mib: ", spec.memory_mib, " is outside [0, ", kMaxMemoryMiB, "]"));
  }
  if (spec.gpus.count < -1 || spec.gpus.count > kMaxGpuMillis / 1000) {
    return absl::InvalidArgumentError(
        StrCat("gpus.count: ", spec.gpus.count, " is outside [-1, ", kMaxGpuMillis / 1000, "]"));
  }
  for (const std::string& device : spec.gpus.device_ids) {
    if (device.empty() || HasControl(device) || device.find(',') != std::string::npos) {
      return absl::InvalidArgumentError(
          StrCat("gpus.device_ids: \"", device, "\" is not a device index or UUID"));
    }
  }
  if (!spec.gpus.empty() && spec.gpus.driver.empty()) {
    return absl::InvalidArgumentError("gpus.driver: must not be empty");
  }
  for (const auto* field : {&spec.network_mode, &spec.working_dir, &spec.user}) {
    if (HasControl(*field)) {
      return absl::InvalidArgumentError(StrCat(field == &spec.network_mode  ? "network_mode"
                                               : field == &spec.working_dir ? "working_dir"
                                                                            : "user",
                                               ": contains control characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> BuildCreateContainerBody(const ContainerSpec& spec) {
  if (absl::Status s = ValidateContainerSpec(spec); !s.ok()) return s;
  nlohmann::json body = nlohmann::json::object();
  body["Image"] = spec.image;
  if (!spec.command.empty()) {
    body["Cmd"] = nlohmann::json::array({"/bin/sh", "-c", spec.command});
  }
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [key, value] : spec.env) env.push_back(StrCat(key, "=", value));
  body["Env"] = std::move(env);
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [key, value] : spec.labels) labels[key] = value;
  labels[std::string(kTaskIdLabel)] = spec.task_id;
  labels[std::string(kManagedLabel)] = "true";
  body["Labels"] = std::move(labels);
  body["Tty"] = spec.tty;
  body["OpenStdin"] = false;
  body["AttachStdin"] = false;
  body["AttachStdout"] = false;
  body["AttachStderr"] = false;
  if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
  if (!spec.user.empty()) body["User"] = spec.user;

  nlohmann::json host = nlohmann::json::object();
  if (spec.cpu_millis > 0) host["NanoCpus"] = spec.cpu_millis * 1'000'000;
  if (spec.memory_mib > 0) {
    const int64_t bytes = spec.memory_mib * (int64_t{1} << 20);
    host["Memory"] = bytes;
    host["MemorySwap"] = bytes;  // the limit covers swap too: no swapping past it
  }
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  if (!spec.published_ports.empty() && spec.network_mode != "host" && spec.network_mode != "none") {
    nlohmann::json exposed = nlohmann::json::object();
    nlohmann::json bindings = nlohmann::json::object();
    for (int port : spec.published_ports) {
      const std::string key = StrCat(port, "/tcp");
      exposed[key] = nlohmann::json::object();
      bindings[key] = nlohmann::json::array({{{"HostPort", std::to_string(port)}}});
    }
    body["ExposedPorts"] = std::move(exposed);
    host["PortBindings"] = std::move(bindings);
  }
  if (!spec.gpus.empty()) {
    nlohmann::json request = nlohmann::json::object();
    request["Driver"] = spec.gpus.driver;
    if (spec.gpus.device_ids.empty()) {
      request["Count"] = spec.gpus.count;
    } else {
      request["DeviceIDs"] = spec.gpus.device_ids;
    }
    request["Capabilities"] = nlohmann::json::array({nlohmann::json::array({"gpu"})});
    host["DeviceRequests"] = nlohmann::json::array({std::move(request)});
  }
  body["HostConfig"] = std::move(host);
  return body;
}

}  // namespace cloudai::worker::docker
