#include "worker/docker/pull_progress.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "worker/docker/json_util.h"

namespace cloudai::worker::docker {
namespace {

// A progress line longer than this is not something the engine sends.
constexpr size_t kMaxLineBytes = size_t{1} << 20;

}  // namespace

std::string HumanSize(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < std::size(kUnits)) {
    size /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g%s", size, kUnits[unit]);
  return buf;
}

std::string PullProgress::ToString() const {
  std::string out = id.empty() ? status : StrCat(id, ": ", status);
  if (total > 0) {
    StrAppend(&out, " ", HumanSize(current), "/", HumanSize(total));
  } else if (current > 0) {
    StrAppend(&out, " ", HumanSize(current));
  }
  return out;
}

absl::Status PullProgressParser::Feed(std::string_view data) {
  if (!status_.ok()) return status_;
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    const std::string_view piece = data.substr(0, newline);
    if (partial_.size() + piece.size() > kMaxLineBytes) {
      status_ = absl::DataLossError(
          StrCat("docker pull progress: a line longer than ", kMaxLineBytes, " bytes"));
      return status_;
    }
    if (newline == std::string_view::npos) {
      partial_.append(piece);
      break;
    }
    data.remove_prefix(newline + 1);
    if (partial_.empty()) {
      status_ = ParseLine(piece);
    } else {
      partial_.append(piece);
      status_ = ParseLine(partial_);
      partial_.clear();
    }
    if (!status_.ok()) return status_;
  }
  return absl::OkStatus();
}

absl::Status PullProgressParser::Finish() {
  if (!status_.ok()) return status_;
  if (!partial_.empty()) {
    status_ = ParseLine(partial_);
    partial_.clear();
  }
  return status_;
}

absl::Status PullProgressParser::ParseLine(std::string_view line) {
  line = StripWhitespace(line);
  if (line.empty()) return absl::OkStatus();
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::DataLossError(
        StrCat("docker pull progress: not a JSON object: ", line.substr(0, 200)));
  }
  ++lines_;
  std::string error = JsonString(j, "error");
  if (const nlohmann::json* detail = JsonField(j, "errorDetail");
      error.empty() && detail != nullptr) {
    error = JsonString(*detail, "message");
  }
  if (!error.empty() || j.contains("errorDetail")) {
    if (error.empty()) error = "unknown error";
    return absl::UnknownError(error);
  }
  PullProgress progress;
  progress.id = JsonString(j, "id");
  progress.status = JsonString(j, "status");
  if (const nlohmann::json* detail = JsonField(j, "progressDetail"); detail != nullptr) {
    progress.current = JsonInt(*detail, "current");
    progress.total = JsonInt(*detail, "total");
  }
  if (progress.status.empty()) return absl::OkStatus();
  last_status_ = progress.status;
  if (on_progress_) on_progress_(progress);
  return absl::OkStatus();
}

}  // namespace cloudai::worker::docker
