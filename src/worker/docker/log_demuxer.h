// LogDemuxer: splits the Docker engine's multiplexed log stream into stdout and stderr.
//
// For a container without a TTY, the engine sends logs (and attach output) as frames: an
// 8-byte header {stream, 0, 0, 0, size as big-endian uint32} followed by `size` bytes of
// payload, where stream is 0 (stdin), 1 (stdout), 2 (stderr) or 3 (an error from the
// engine itself). Frames arrive split across reads at arbitrary offsets; the demuxer
// keeps what it needs of an unfinished header and hands payload bytes on as soon as they
// arrive, so a long frame is not held back until it is complete.
//
// Thread safety: none; one demuxer belongs to one stream and one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cloudai::worker::docker {

enum class LogStream { kStdin = 0, kStdout = 1, kStderr = 2 };

// "stdin", "stdout", "stderr".
std::string_view LogStreamName(LogStream stream);

using LogCallback = std::function<void(LogStream stream, std::string_view data)>;

class LogDemuxer {
 public:
  explicit LogDemuxer(LogCallback on_data) : on_data_(std::move(on_data)) {}

  // Consumes the next bytes of the stream. An error (DataLoss for a malformed header,
  // Internal for an engine error frame) is final: later calls return it again.
  absl::Status Feed(std::string_view data);
  // The stream has ended: DataLoss when it stopped inside a frame.
  absl::Status Finish();

  // Payload bytes delivered so far.
  int64_t payload_bytes() const { return payload_bytes_; }

 private:
  absl::Status StartFrame();

  LogCallback on_data_;
  char header_[8] = {};
  size_t header_len_ = 0;   // header bytes of the current frame seen so far
  uint32_t remaining_ = 0;  // payload bytes of the current frame still to come
  LogStream stream_ = LogStream::kStdout;
  bool error_frame_ = false;  // the current frame is an engine error (stream 3)
  std::string error_text_;
  absl::Status status_;
  int64_t payload_bytes_ = 0;
};

}  // namespace cloudai::worker::docker
