#include "client/task_builder.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "common/quantity.h"
#include "common/strings.h"

namespace cloudai::client {
namespace {

constexpr int64_t kMaxTimeoutMs = int64_t{365} * 24 * 3'600'000;  // a year

bool HasWhitespace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<int64_t> ParseInteger(std::string_view raw, std::string_view field, int64_t min,
                                     int64_t max) {
  const std::string_view text = StripWhitespace(raw);
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    return absl::InvalidArgumentError(StrCat(field, ": \"", text, "\" is not a whole number"));
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    return absl::InvalidArgumentError(StrCat(field, ": ", text, " is above the maximum of ", max));
  }
  if (value < min) {
    if (min == 0) {
      return absl::InvalidArgumentError(StrCat(field, ": ", text, " is negative"));
    }
    return absl::InvalidArgumentError(StrCat(field, ": ", text, " is below the minimum of ", min));
  }
  return value;
}

absl::StatusOr<std::chrono::milliseconds> ParseTaskDuration(std::string_view raw,
                                                            std::string_view field) {
  const std::string_view text = StripWhitespace(raw);
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", text,
               "\" is not a duration; use e.g. 500ms, 30s, 5m, 1h, 2d or 1h30m"));
  };
  if (text.empty()) return bad();
  if (text.front() == '-') {
    return absl::InvalidArgumentError(StrCat(field, ": ", text, " is negative"));
  }
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + pos, n);
    if (ec != std::errc()) return bad();
    const size_t unit_start = pos;
    while (pos < text.size() && (text[pos] < '0' || text[pos] > '9')) ++pos;
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    int64_t scale = 0;
    if (unit.empty()) {
      if (start != 0) return bad();  // "1h30" is ambiguous
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return bad();
    }
    int64_t ms = 0;
    if (__builtin_mul_overflow(n, scale, &ms) || __builtin_add_overflow(total, ms, &total) ||
        total > kMaxTimeoutMs) {
      return absl::InvalidArgumentError(
          StrCat(field, ": ", text, " is longer than the maximum of 365 days"));
    }
  }
  return std::chrono::milliseconds(total);
}

absl::StatusOr<int64_t> ParseDurationSeconds(std::string_view raw, std::string_view field,
                                             int64_t min_seconds) {
  absl::StatusOr<std::chrono::milliseconds> ms = ParseTaskDuration(raw, field);
  if (!ms.ok()) return ms.status();
  const std::string_view text = StripWhitespace(raw);
  if (ms->count() % 1000 != 0) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", text, " is not a whole number of seconds"));
  }
  const int64_t seconds = ms->count() / 1000;
  if (seconds < min_seconds) {
    return absl::InvalidArgumentError(StrCat(field, ": ", text, " is shorter than the minimum of ",
                                             min_seconds, min_seconds == 1 ? " second" : " seconds"));
  }
  return seconds;
}

std::string JoinCommand(const std::vector<std::string>& words) {
  // One word is a whole shell command as typed ("echo hi; sleep 1"). Several words are
  // an argument list, as a shell split it: quote each again so that /bin/sh -c sees
  // the same words ("sh -c 'exit 3'").
  if (words.size() == 1) return words[0];
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back(' ');
    const bool plain = !w.empty() && w.find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=/.,:@%") ==
        std::string::npos;
    if (plain) {
      out.append(w);
      continue;
    }
    out.push_back('\'');
    for (char c : w) {
      if (c == '\'') {
        out.append("'\\''");
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\'');
  }
  return out;
}

absl::StatusOr<cloudai::v1::Task> BuildTask(const TaskOptions& options) {
  cloudai::v1::Task task;
  const std::string image(StripWhitespace(options.image));
  if (image.empty()) return absl::InvalidArgumentError("image: missing; e.g. busybox:latest");
  if (HasWhitespace(image)) {
    return absl::InvalidArgumentError(StrCat("image: \"", image, "\" contains whitespace"));
  }
  task.set_docker_image(image);
  task.set_command(options.command);
  if (HasWhitespace(options.task_id)) {
    return absl::InvalidArgumentError(
        StrCat("--id: \"", options.task_id, "\" contains whitespace"));
  }
  task.set_task_id(options.task_id);
  task.set_target_worker_id(options.target_worker_id);
  task.set_user_id(options.user_id);

  absl::StatusOr<int64_t> cpu = ParseCpu(options.cpu_cores, "-cpu_cores");
  if (!cpu.ok()) return cpu.status();
  absl::StatusOr<int64_t> memory = ParseMemory(options.memory, "-mem");
  if (!memory.ok()) return memory.status();
  absl::StatusOr<int64_t> storage = ParseStorage(options.storage, "-storage");
  if (!storage.ok()) return storage.status();
  absl::StatusOr<int64_t> gpu = ParseGpu(options.gpu_cores, "-gpu_cores");
  if (!gpu.ok()) return gpu.status();
  task.set_req_cpu(*cpu);
  task.set_req_memory(*memory);
  task.set_req_storage(*storage);
  task.set_req_gpu(*gpu);

  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
  if (!options.priority.empty()) {
    absl::StatusOr<int64_t> p = ParseInteger(options.priority, "--priority", kInt32Min, kInt32Max);
    if (!p.ok()) return p.status();
    task.set_priority(static_cast<int32_t>(*p));
  }
  if (!options.max_retries.empty()) {
    absl::StatusOr<int64_t> r = ParseInteger(options.max_retries, "--max-retries", 0, kInt32Max);
    if (!r.ok()) return r.status();
    task.set_max_retries(static_cast<int32_t>(*r));
  }
  if (!options.timeout.empty()) {
    absl::StatusOr<std::chrono::milliseconds> t = ParseTaskDuration(options.timeout, "--timeout");
    if (!t.ok()) return t.status();
    task.set_timeout_ms(t->count());
  }
  const std::string allocation_id(StripWhitespace(options.allocation_id));
  if (HasWhitespace(allocation_id)) {
    return absl::InvalidArgumentError(
        StrCat("--alloc: \"", options.allocation_id, "\" contains whitespace"));
  }
  task.set_allocation_id(allocation_id);
  for (const std::string& kv : options.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(StrCat("--env: \"", kv, "\" is not KEY=VALUE"));
    }
    const std::string key = kv.substr(0, eq);
    if (key.empty()) {
      return absl::InvalidArgumentError(StrCat("--env: \"", kv, "\" has an empty name"));
    }
    if (HasWhitespace(key)) {
      return absl::InvalidArgumentError(StrCat("--env: name \"", key, "\" contains whitespace"));
    }
    (*task.mutable_env())[key] = kv.substr(eq + 1);
  }
  return task;
}

bool IsAllocationPriority(std::string_view priority) {
  return priority == "low" || priority == "normal" || priority == "high" ||
         priority == "critical";
}

absl::StatusOr<cloudai::v1::AllocationRequest> BuildAllocationRequest(
    const AllocationOptions& options) {
  cloudai::v1::AllocationRequest request;
  const std::string job_id(StripWhitespace(options.job_id));
  if (job_id.empty()) return absl::InvalidArgumentError("job_id: missing");
  const bool id_chars_ok =
      job_id.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
      std::string::npos;
  const char first = job_id.front();
  const bool first_ok = (first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') ||
                        (first >= '0' && first <= '9');
  if (!id_chars_ok || !first_ok || job_id.size() > 128) {
    return absl::InvalidArgumentError(
        StrCat("job_id: \"", job_id,
               "\" is not an id: 1 to 128 characters of A-Z a-z 0-9 . _ -, starting with a "
               "letter or a digit"));
  }
  request.set_job_id(job_id);

  if (!options.workers.empty()) {
    absl::StatusOr<int64_t> n =
        ParseInteger(options.workers, "--workers", 1, kMaxAllocationWorkers);
    if (!n.ok()) return n.status();
    request.set_workers(static_cast<int32_t>(*n));
  }

  const bool sized = !options.cpu_cores.empty() || !options.memory.empty() ||
                     !options.storage.empty() || !options.gpu_cores.empty();
  if (sized) {
    cloudai::v1::Resources* slot = request.mutable_per_worker();
    absl::StatusOr<int64_t> cpu = ParseCpu(
        options.cpu_cores.empty() ? kDefaultSlotCpuCores : options.cpu_cores, "-cpu_cores");
    if (!cpu.ok()) return cpu.status();
    absl::StatusOr<int64_t> memory =
        ParseMemory(options.memory.empty() ? kDefaultSlotMemoryGb : options.memory, "-mem");
    if (!memory.ok()) return memory.status();
    slot->set_cpu(*cpu);
    slot->set_memory(*memory);
    // As much storage as a task submitted with the default -storage asks for.
    absl::StatusOr<int64_t> storage = ParseStorage(
        options.storage.empty() ? kDefaultStorageGb : options.storage, "-storage");
    if (!storage.ok()) return storage.status();
    slot->set_storage(*storage);
    if (!options.gpu_cores.empty()) {
      absl::StatusOr<int64_t> gpu = ParseGpu(options.gpu_cores, "-gpu_cores");
      if (!gpu.ok()) return gpu.status();
      slot->set_gpu(*gpu);
    }
  }

  if (!options.priority.empty()) {
    const std::string priority = AsciiLower(StripWhitespace(options.priority));
    if (!IsAllocationPriority(priority)) {
      return absl::InvalidArgumentError(StrCat("--priority: \"", options.priority,
                                               "\" is not low, normal, high or critical"));
    }
    request.set_priority(priority);
  }
  if (!options.ttl.empty()) {
    absl::StatusOr<int64_t> ttl = ParseDurationSeconds(options.ttl, "--ttl");
    if (!ttl.ok()) return ttl.status();
    request.set_ttl_seconds(*ttl);
  }
  for (const std::string& raw : options.services) {
    const std::string name(StripWhitespace(raw));
    if (name.empty()) return absl::InvalidArgumentError("--service: empty name");
    if (HasWhitespace(name)) {
      return absl::InvalidArgumentError(StrCat("--service: \"", name, "\" contains whitespace"));
    }
    request.add_services(name);
  }
  for (const std::string& kv : options.metadata) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(StrCat("--meta: \"", kv, "\" is not KEY=VALUE"));
    }
    const std::string key = kv.substr(0, eq);
    if (key.empty()) {
      return absl::InvalidArgumentError(StrCat("--meta: \"", kv, "\" has an empty key"));
    }
    (*request.mutable_metadata())[key] = kv.substr(eq + 1);
  }
  if (!options.wait) request.set_wait(false);
  return request;
}

}  // namespace cloudai::client
