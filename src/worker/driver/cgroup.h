// Cgroups for tasks run by CloudAI's exec driver: one cgroup per task with its CPU and
// memory limits, on either cgroup v2 (the unified hierarchy) or cgroup v1 (separate cpu
// and memory hierarchies), whichever the host mounts.
//
//   v2  <root>/<parent>/<task>/{cpu.max, memory.max, memory.swap.max, cgroup.procs}
//   v1  <root>/cpu/<parent>/<task>/{cpu.cfs_period_us, cpu.cfs_quota_us, cgroup.procs}
//       <root>/memory/<parent>/<task>/{memory.limit_in_bytes, cgroup.procs}
//
// Thread safety: a CgroupHost may be shared; a TaskCgroup belongs to one task's thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/resources.h"

namespace cloudai::worker {

class TaskCgroup {
 public:
  ~TaskCgroup();  // removes the cgroup directories (after KillAll)

  // Moves a process into every hierarchy of the task's cgroup.
  absl::Status AddProcess(pid_t pid);
  // Kills every process still in the cgroup.
  void KillAll();
  // The directories made for the task (for tests and logs).
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  friend class CgroupHost;
  TaskCgroup(std::vector<std::string> dirs, bool v2) : dirs_(std::move(dirs)), v2_(v2) {}

  std::vector<std::string> dirs_;
  bool v2_;
};

class CgroupHost {
 public:
  // Finds a writable cgroup hierarchy under `fs_root` (normally /sys/fs/cgroup) and
  // prepares `<parent>` in it. nullptr when neither v2 nor v1 with cpu and memory is
  // usable; `why` then says why.
  static std::unique_ptr<CgroupHost> Detect(const std::string& fs_root,
                                            const std::string& parent, std::string* why);

  // "v2" or "v1".
  std::string_view version() const { return v2_ ? "v2" : "v1"; }
  // Creates the task's cgroup, `<parent>/<task_id>.<this process's pid>`, with limits from
  // `request` (cpu millicores, memory MiB; 0 = no limit).
  absl::StatusOr<std::unique_ptr<TaskCgroup>> Create(const std::string& task_id,
                                                     const Resources& request) const;

 private:
  CgroupHost(std::vector<std::string> parents, bool v2)
      : parents_(std::move(parents)), v2_(v2) {}

  std::vector<std::string> parents_;  // v2: one dir; v1: cpu dir, memory dir
  bool v2_;
};

}  // namespace cloudai::worker
