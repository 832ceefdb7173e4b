#include "worker/docker/log_demuxer.h"

#include <algorithm>

#include "common/strings.h"

namespace cloudai::worker::docker {
namespace {

// An engine error frame longer than this is cut (the message is all we need of it).
constexpr size_t kMaxErrorFrameBytes = 4096;

}  // namespace

std::string_view LogStreamName(LogStream stream) {
  switch (stream) {
    case LogStream::kStdin:
      return "stdin";
    case LogStream::kStdout:
      return "stdout";
    case LogStream::kStderr:
      return "stderr";
  }
  return "unknown";
}

absl::Status LogDemuxer::StartFrame() {
  const auto kind = static_cast<unsigned char>(header_[0]);
  if (kind > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
    return absl::DataLossError(
        StrCat("malformed docker log stream: frame header starts with byte ", int{kind},
               " (expected 0-3 followed by three zero bytes; does the container have a TTY?)"));
  }
  remaining_ = (uint32_t{static_cast<unsigned char>(header_[4])} << 24) |
               (uint32_t{static_cast<unsigned char>(header_[5])} << 16) |
               (uint32_t{static_cast<unsigned char>(header_[6])} << 8) |
               uint32_t{static_cast<unsigned char>(header_[7])};
  error_frame_ = kind == 3;
  if (!error_frame_) stream_ = static_cast<LogStream>(kind);
  error_text_.clear();
  header_len_ = 0;
  return absl::OkStatus();
}

absl::Status LogDemuxer::Feed(std::string_view data) {
  if (!status_.ok()) return status_;
  while (!data.empty()) {
    if (remaining_ == 0 && !error_frame_) {
      const size_t take = std::min(sizeof(header_) - header_len_, data.size());
      std::copy_n(data.data(), take, header_ + header_len_);
      header_len_ += take;
      data.remove_prefix(take);
      if (header_len_ < sizeof(header_)) break;
      status_ = StartFrame();
      if (!status_.ok()) return status_;
      if (!error_frame_) continue;
    }
    const size_t take = std::min<size_t>(remaining_, data.size());
    if (error_frame_) {
      const size_t room = kMaxErrorFrameBytes - std::min(kMaxErrorFrameBytes, error_text_.size());
      error_text_.append(data.data(), std::min(take, room));
      remaining_ -= static_cast<uint32_t>(take);
      data.remove_prefix(take);
      if (remaining_ == 0) {
        status_ =
            absl::InternalError(StrCat("the docker engine reported an error in the log stream: ",
                                       StripWhitespace(error_text_)));
        return status_;
      }
      continue;
    }
    if (take > 0) {
      payload_bytes_ += static_cast<int64_t>(take);
      if (on_data_) on_data_(stream_, data.substr(0, take));
      remaining_ -= static_cast<uint32_t>(take);
      data.remove_prefix(take);
    }
  }
  return absl::OkStatus();
}

absl::Status LogDemuxer::Finish() {
  if (!status_.ok()) return status_;
  if (header_len_ != 0) {
    status_ = absl::DataLossError(StrCat("docker log stream ended inside a frame header (",
                                         header_len_, " of 8 header bytes)"));
  } else if (remaining_ != 0 || error_frame_) {
    status_ = absl::DataLossError(StrCat("docker log stream ended inside a frame (", remaining_,
                                         " payload bytes missing)"));
  }
  return status_;
}

}  // namespace cloudai::worker::docker
