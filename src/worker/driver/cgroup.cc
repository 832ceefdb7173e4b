#include "worker/driver/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace cloudai::worker {
namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

absl::Status Write(const std::string& path, std::string_view value) {
  std::ofstream out(path);
  if (out) {
    out << value;
    out.flush();
  }
  if (!out) {
    return absl::UnavailableError(
        StrCat("cannot write \"", value, "\" to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool MakeDir(const std::string& path) { return mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

}  // namespace

std::unique_ptr<CgroupHost> CgroupHost::Detect(const std::string& fs_root,
                                               const std::string& parent, std::string* why) {
  if (parent.empty()) {
    *why = "cgroups disabled by configuration";
    return nullptr;
  }
  if (Exists(fs_root + "/cgroup.controllers")) {
    const std::string dir = StrCat(fs_root, "/", parent);
    if (!MakeDir(dir)) {
      *why = StrCat("cannot create ", dir, ": ", std::strerror(errno));
      return nullptr;
    }
    (void)Write(fs_root + "/cgroup.subtree_control", "+cpu +memory");
    if (absl::Status s = Write(dir + "/cgroup.subtree_control", "+cpu +memory"); !s.ok()) {
      *why = std::string(s.message());
      return nullptr;
    }
    return std::unique_ptr<CgroupHost>(new CgroupHost({dir}, true));
  }
  const std::string cpu = StrCat(fs_root, "/cpu");
  const std::string memory = StrCat(fs_root, "/memory");
  if (Exists(cpu + "/cpu.cfs_quota_us") && Exists(memory + "/memory.limit_in_bytes")) {
    std::vector<std::string> parents = {StrCat(cpu, "/", parent), StrCat(memory, "/", parent)};
    for (const std::string& dir : parents) {
      if (!MakeDir(dir)) {
        *why = StrCat("cannot create ", dir, ": ", std::strerror(errno));
        return nullptr;
      }
    }
    return std::unique_ptr<CgroupHost>(new CgroupHost(std::move(parents), false));
  }
  *why = StrCat("no cgroup v2 or v1 cpu+memory hierarchy under ", fs_root);
  return nullptr;
}

absl::StatusOr<std::unique_ptr<TaskCgroup>> CgroupHost::Create(const std::string& task_id,
                                                               const Resources& request) const {
  std::vector<std::string> dirs;
  for (const std::string& parent : parents_) {
    // The worker's pid in the name: two workers on one machine (two clusters, or tests
    // running side by side) may run tasks with the same id, and a task's cgroup is killed
    // whole when it ends.
    const std::string dir = StrCat(parent, "/", task_id, ".", ::getpid());
    if (!MakeDir(dir)) {
      return absl::UnavailableError(StrCat("cannot create ", dir, ": ", std::strerror(errno)));
    }
    dirs.push_back(dir);
  }
  std::unique_ptr<TaskCgroup> cg(new TaskCgroup(dirs, v2_));
  const int64_t cpu = request.cpu_millis;
  const int64_t mem_bytes = request.memory_mib * 1024 * 1024;
  absl::Status s;
  if (v2_) {
    if (cpu > 0) s.Update(Write(dirs[0] + "/cpu.max", StrCat(cpu * 100, " 100000")));
    if (mem_bytes > 0) {
      s.Update(Write(dirs[0] + "/memory.max", StrCat(mem_bytes)));
      (void)Write(dirs[0] + "/memory.swap.max", "0");  // absent without swap accounting
    }
  } else {
    if (cpu > 0) {
      s.Update(Write(dirs[0] + "/cpu.cfs_period_us", "100000"));
      s.Update(Write(dirs[0] + "/cpu.cfs_quota_us", StrCat(cpu * 100)));
    }
    if (mem_bytes > 0) s.Update(Write(dirs[1] + "/memory.limit_in_bytes", StrCat(mem_bytes)));
  }
  if (!s.ok()) return s;
  return cg;
}

absl::Status TaskCgroup::AddProcess(pid_t pid) {
  for (const std::string& dir : dirs_) {
    if (absl::Status s = Write(dir + "/cgroup.procs", StrCat(pid)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void TaskCgroup::KillAll() {
  if (v2_ && Write(dirs_[0] + "/cgroup.kill", "1").ok()) return;
  for (const std::string& dir : dirs_) {
    std::ifstream in(dir + "/cgroup.procs");
    pid_t pid = 0;
    while (in >> pid) kill(pid, SIGKILL);
  }
}

TaskCgroup::~TaskCgroup() {
  // A cgroup can be removed once its processes are gone; they may take a moment to exit.
  for (const std::string& dir : dirs_) {
    for (int attempt = 0; attempt < 50 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++attempt) {
      usleep(2000);
    }
  }
}

}  // namespace cloudai::worker
