#include "worker/driver/log_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/strings.h"

namespace cloudai::worker {

absl::StatusOr<std::shared_ptr<LogSpool>> LogSpool::Create(const std::string& path) {
  // The file itself is created by the first Append(): creating a file costs more than
  // running a no-op task here. Check now that it can be, and drop an older file of the
  // same name so that nobody reads it as this spool's.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::UnavailableError(
        StrCat("cannot create log file ", path, ": ", std::strerror(errno)));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(
        StrCat("cannot replace log file ", path, ": ", std::strerror(errno)));
  }
  return std::shared_ptr<LogSpool>(new LogSpool(path, -1, 0));
}

absl::StatusOr<std::shared_ptr<LogSpool>> LogSpool::OpenForAppend(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::UnavailableError(
        StrCat("cannot open log file ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(StrCat("cannot stat log file ", path, ": ", std::strerror(err)));
  }
  return std::shared_ptr<LogSpool>(new LogSpool(path, fd, static_cast<int64_t>(st.st_size)));
}

LogSpool::~LogSpool() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status LogSpool::Append(std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return absl::FailedPreconditionError(StrCat("log ", path_, " is closed"));
  if (data.empty()) return absl::OkStatus();
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      return absl::UnavailableError(
          StrCat("cannot create log file ", path_, ": ", std::strerror(errno)));
    }
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, size_ + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(StrCat("writing ", path_, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(data.size());
  grew_.notify_all();
  return absl::OkStatus();
}

void LogSpool::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  grew_.notify_all();
}

bool LogSpool::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

int64_t LogSpool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

absl::StatusOr<std::string> LogSpool::ReadAt(int64_t offset, int64_t len) const {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = fd_;
  }
  if (fd < 0 || len <= 0) return std::string();
  std::string out(static_cast<size_t>(len), '\0');
  int64_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, out.data() + done, static_cast<size_t>(len - done),
                              offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(StrCat("reading ", path_, ": ", std::strerror(errno)));
    if (n == 0) break;
    done += n;
  }
  out.resize(static_cast<size_t>(done));
  return out;
}

absl::StatusOr<LogSpool::Chunk> LogSpool::Read(int64_t offset, int64_t max_bytes, bool follow,
                                                int wait_ms) const {
  if (offset < 0 || max_bytes <= 0) {
    return absl::InvalidArgumentError("log offset must be >= 0 and the size > 0");
  }
  int64_t size = 0;
  bool closed = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (follow && offset >= size_ && !closed_) {
      grew_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                     [&] { return size_ > offset || closed_; });
    }
    size = size_;
    closed = closed_;
  }
  Chunk chunk;
  chunk.next_offset = offset;
  if (offset < size) {
    absl::StatusOr<std::string> data = ReadAt(offset, std::min(max_bytes, size - offset));
    if (!data.ok()) return data.status();
    chunk.data = std::move(*data);
    chunk.next_offset = offset + static_cast<int64_t>(chunk.data.size());
  }
  chunk.end = closed && chunk.next_offset >= size;
  return chunk;
}

absl::StatusOr<LogSpool::Collected> LogSpool::Collect(int64_t limit) const {
  const int64_t total = size();
  Collected out;
  if (total <= limit) {
    absl::StatusOr<std::string> all = ReadAt(0, total);
    if (!all.ok()) return all.status();
    out.text = std::move(*all);
    return out;
  }
  // Keep a quarter from the start (how it began) and the rest from the end (how it ended).
  const int64_t head_len = limit / 4;
  const int64_t tail_len = limit - head_len;
  absl::StatusOr<std::string> head = ReadAt(0, head_len);
  absl::StatusOr<std::string> tail = ReadAt(total - tail_len, tail_len);
  if (!head.ok()) return head.status();
  if (!tail.ok()) return tail.status();
  out.text = StrCat(*head, "\n[... ", total - head_len - tail_len,
                    " bytes of output truncated ...]\n", *tail);
  out.truncated = true;
  return out;
}

}  // namespace cloudai::worker
