#include "master/task_input.h"

#include <cctype>
#include <string>

#include "common/strings.h"
#include "master/allocation_input.h"

namespace cloudai::master {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(field, ": ", what));
}

absl::Status ValidateLength(std::string_view value, size_t max, std::string_view field) {
  if (value.size() > max) {
    return Invalid(field, StrCat("is ", value.size(), " bytes long; the limit is ", max));
  }
  return absl::OkStatus();
}

absl::Status ValidateNoNul(std::string_view value, std::string_view field) {
  if (value.find('\0') != std::string_view::npos) {
    return Invalid(field, "contains a NUL byte");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateName(std::string_view value, size_t max_length, std::string_view field) {
  if (value.empty()) return Invalid(field, "is empty");
  if (absl::Status s = ValidateLength(value, max_length, field); !s.ok()) return s;
  if (!std::isalnum(static_cast<unsigned char>(value[0]))) {
    return Invalid(field, "must start with a letter or a digit");
  }
  for (char c : value) {
    if (!IsNameChar(c)) {
      return Invalid(field, "may hold only letters, digits and . _ -");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAddress(std::string_view value, std::string_view field) {
  if (value.empty()) return Invalid(field, "is empty; expected host:port");
  if (absl::Status s = ValidateLength(value, kMaxAddressLength, field); !s.ok()) return s;
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid(field, StrCat("\"", value, "\" is not host:port"));
  }
  for (char c : value.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '[' &&
        c != ']' && c != ':' && c != '_') {
      return Invalid(field, StrCat("\"", value, "\" has a malformed host"));
    }
  }
  std::string_view port = value.substr(colon + 1);
  int64_t n = 0;
  if (port.empty() || port.size() > 5) {
    return Invalid(field, StrCat("\"", value, "\" needs a port in 1..65535"));
  }
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Invalid(field, StrCat("\"", value, "\" needs a port in 1..65535"));
    }
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 65535) {
    return Invalid(field, StrCat("\"", value, "\" needs a port in 1..65535"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTaskInput(const store::TaskRecord& task) {
  if (!task.task_id.empty()) {
    if (absl::Status s = ValidateName(task.task_id, kMaxTaskIdLength, "task.task_id"); !s.ok()) {
      return s;
    }
    if (task.task_id.rfind(kGeneratedTaskIdPrefix, 0) == 0) {
      return Invalid("task.task_id", StrCat("ids starting with \"", kGeneratedTaskIdPrefix,
                                            "\" are given by the master; choose another"));
    }
  }
  if (!task.target_worker_id.empty()) {
    if (absl::Status s =
            ValidateName(task.target_worker_id, kMaxWorkerIdLength, "task.target_worker_id");
        !s.ok()) {
      return s;
    }
  }
  if (!task.allocation_id.empty()) {
    if (absl::Status s = ValidateAllocationId(task.allocation_id, "task.allocation_id"); !s.ok()) {
      return s;
    }
  }
  if (!task.user_id.empty()) {
    if (absl::Status s = ValidateName(task.user_id, kMaxWorkerIdLength, "task.user_id"); !s.ok()) {
      return s;
    }
  }
  if (task.docker_image.empty()) {
    return Invalid("task.docker_image", "is empty; name the image to run (e.g. busybox:latest)");
  }
  if (absl::Status s = ValidateLength(task.docker_image, kMaxImageLength, "task.docker_image");
      !s.ok()) {
    return s;
  }
  for (char c : task.docker_image) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return Invalid("task.docker_image", "contains whitespace or control characters");
    }
  }
  if (absl::Status s = ValidateLength(task.command, kMaxCommandLength, "task.command"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateNoNul(task.command, "task.command"); !s.ok()) return s;
  if (absl::Status s = task.request.Validate("task.request"); !s.ok()) return s;
  if (task.priority < -kMaxPriority || task.priority > kMaxPriority) {
    return Invalid("task.priority",
                   StrCat(task.priority, " is outside [-", kMaxPriority, ", ", kMaxPriority, "]"));
  }
  if (task.max_retries < 0 || task.max_retries > kMaxRetries) {
    return Invalid("task.max_retries",
                   StrCat(task.max_retries, " is outside [0, ", kMaxRetries, "]"));
  }
  if (task.timeout_ms < 0 || task.timeout_ms > kMaxTimeoutMs) {
    return Invalid("task.timeout_ms",
                   StrCat(task.timeout_ms, " is outside [0, ", kMaxTimeoutMs, "] (30 days)"));
  }
  if (task.env.size() > kMaxEnvEntries) {
    return Invalid("task.env", StrCat("has ", task.env.size(), " entries; the limit is ",
                                      kMaxEnvEntries));
  }
  for (const auto& [name, value] : task.env) {
    if (name.empty() || name.size() > kMaxEnvNameLength ||
        name.find_first_of("=\0", 0, 2) != std::string::npos) {
      return Invalid("task.env", StrCat("variable name \"", name.substr(0, 64),
                                        "\" must be 1 to ", kMaxEnvNameLength,
                                        " bytes without '=' or NUL"));
    }
    if (value.size() > kMaxEnvValueLength) {
      return Invalid(StrCat("task.env[", name, "]"),
                     StrCat("is ", value.size(), " bytes long; the limit is ", kMaxEnvValueLength));
    }
    if (absl::Status s = ValidateNoNul(value, StrCat("task.env[", name, "]")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace cloudai::master
