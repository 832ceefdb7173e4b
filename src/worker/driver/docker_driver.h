// DockerDriver: runs each CloudAI task in a Docker container through the Engine API.
//
// For a task it pulls the image when the engine lacks it (progress lines go to the task's
// log, at most one per layer and status change), creates a container labelled with the
// task id (cloudai.task_id, cloudai.managed) running `/bin/sh -c <command>` with NanoCpus,
// Memory and, for GPU tasks, an nvidia device request; starts it, follows its stdout and
// stderr into the task's LogSpool, waits for its exit code (0 → completed, otherwise
// failed), and removes the container. Cancel and timeouts stop the container (SIGTERM,
// SIGKILL after the grace period). A failure before the container runs (pull, create,
// start) is reported as a failed exit whose error says what went wrong.
//
// Containers outlive the worker process: Recover, at start, finds the containers labelled
// cloudai.managed and owned by this worker (label cloudai.worker = options.owner), follows the running ones again (their output since the spool's last
// write goes on into the same spool) and reports the ones that ended meanwhile, removing
// them. A task's timeout travels in the label cloudai.timeout_ms, so it still applies
// after a restart.
//
// Thread safety: every method may be called from any thread, the exit callback included.
// One thread per task; the destructor cancels every task (or, with
// keep_containers_on_shutdown, leaves the containers running and reports nothing for
// them) and waits for their threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "worker/docker/docker_client.h"
#include "worker/driver/driver.h"

namespace cloudai::worker {

struct DockerDriverOptions {
  std::chrono::seconds stop_grace{5};
  // Docker network mode of task containers; empty: the engine's default bridge.
  std::string network_mode;
  // On destruction, leave running containers as they are (for Recover in the next worker
  // process) instead of stopping them; their tasks' exits are then not reported.
  bool keep_containers_on_shutdown = false;
  // Who owns the containers (the worker id), in the label cloudai.worker: Recover takes
  // over only its owner's containers, so workers sharing an engine keep to their own.
  // Empty: no label, and Recover takes the containers without one.
  std::string owner;
};

// The label holding a task's timeout in milliseconds (absent: no limit).
inline constexpr std::string_view kTimeoutLabel = "cloudai.timeout_ms";
// The label holding the owner of a container (DockerDriverOptions::owner).
inline constexpr std::string_view kOwnerLabel = "cloudai.worker";

class DockerDriver final : public Driver {
 public:
  DockerDriver(std::shared_ptr<docker::DockerClient> client, DockerDriverOptions options);
  ~DockerDriver() override;

  std::string_view Name() const override { return "docker"; }
  absl::Status Start(const TaskSpec& spec, std::shared_ptr<LogSpool> spool,
                     ExitCallback on_exit) override;
  absl::Status Cancel(const std::string& task_id) override;
  std::vector<std::string> Running() const override;
  absl::StatusOr<std::vector<RecoveredTask>> Recover(SpoolOpener open_spool,
                                                     ExitCallback on_exit) override;

 private:
  struct Task;
  void Supervise(std::shared_ptr<Task> task);
  // Pull when missing, create and start; the container id.
  absl::StatusOr<std::string> Launch(Task& task);

  const std::shared_ptr<docker::DockerClient> client_;
  const DockerDriverOptions options_;
  mutable std::mutex mu_;
  std::condition_variable all_done_;
  std::map<std::string, std::shared_ptr<Task>> tasks_;
  int live_threads_ = 0;
};

}  // namespace cloudai::worker
