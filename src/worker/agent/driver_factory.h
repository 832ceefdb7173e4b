// Driver selection for cloudai-worker: --driver docker, exec, or auto (Docker when the
// engine answers a ping, exec otherwise), with a sentence saying which was chosen and why.
//
// The docker driver is made to leave its containers running when the worker stops, so a
// restarted worker with the same id takes them over (Driver::Recover); its containers are
// labelled with the worker id, so workers sharing an engine keep to their own.
//
// Thread safety: a free function without shared state.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "worker/agent/agent_options.h"
#include "worker/driver/driver.h"

namespace cloudai::worker {

struct DriverChoice {
  std::unique_ptr<Driver> driver;
  std::string reason;  // "driver docker: the Docker engine at unix:///... answered (20.10)"
};

// `work_dir` (absolute) is the exec driver's working directory.
absl::StatusOr<DriverChoice> MakeDriver(const AgentOptions& options, const std::string& work_dir);

}  // namespace cloudai::worker
