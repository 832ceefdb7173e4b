// PullProgress: the Docker engine's account of an image pull, line by line.
//
// POST /images/create answers with a stream of JSON objects, one a line, such as
//   {"status":"Pulling fs layer","progressDetail":{},"id":"3f4d90098f5b"}
//   {"status":"Downloading","progressDetail":{"current":12345678,"total":40000000},...}
//   {"status":"Status: Downloaded newer image for busybox:latest"}
// and, when the pull fails after it has started, an error object
//   {"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}
// with the HTTP status still 200. PullProgressParser reassembles lines split across reads,
// reports each progress line and turns an error object into an error status.
//
// Thread safety: PullProgress is a value type; a parser belongs to one stream and thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cloudai::worker::docker {

struct PullProgress {
  std::string id;       // the layer (or tag) the line is about; may be empty
  std::string status;   // "Pulling fs layer", "Downloading", "Download complete", ...
  int64_t current = 0;  // bytes done, when the engine says (0 otherwise)
  int64_t total = 0;    // bytes in all, when the engine says (0 otherwise)

  // As a person reads it: "3f4d90098f5b: Downloading 12.35MB/40MB".
  std::string ToString() const;
};

// Sizes the way the Docker CLI prints them: decimal units, four significant digits
// ("12.35MB", "40MB", "512B").
std::string HumanSize(int64_t bytes);

using PullProgressCallback = std::function<void(const PullProgress& progress)>;

class PullProgressParser {
 public:
  explicit PullProgressParser(PullProgressCallback on_progress)
      : on_progress_(std::move(on_progress)) {}

  // Consumes more of the stream. An error object from the engine gives Unknown with the
  // engine's message; a line that is not JSON gives DataLoss. Errors are final.
  absl::Status Feed(std::string_view data);
  // The stream has ended; handles a last line without a newline.
  absl::Status Finish();

  // The last status line, e.g. "Status: Image is up to date for busybox:latest".
  const std::string& last_status() const { return last_status_; }
  int64_t lines() const { return lines_; }

 private:
  absl::Status ParseLine(std::string_view line);

  PullProgressCallback on_progress_;
  std::string partial_;
  std::string last_status_;
  absl::Status status_;
  int64_t lines_ = 0;
};

}  // namespace cloudai::worker::docker
