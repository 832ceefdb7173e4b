// LogSpool: one task's output, appended to a file as it is produced, readable from any
// offset by any number of readers while it grows.
//
// The worker writes a task's stdout and stderr here; StreamTaskLogs readers follow it from
// the first byte (late readers see everything), and the completion report carries a
// bounded copy (Collect) with a clear truncation mark when the output was larger.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cloudai::worker {

class LogSpool {
 public:
  // A new, empty spool at `path` (an older file there is removed). The file is created
  // by the first Append(), so a task that writes nothing leaves none.
  static absl::StatusOr<std::shared_ptr<LogSpool>> Create(const std::string& path);
  // Opens the file at `path` for appending, creating it when missing: what it holds
  // already stays and readers see it from offset 0 (a task recovered after a restart).
  static absl::StatusOr<std::shared_ptr<LogSpool>> OpenForAppend(const std::string& path);
  ~LogSpool();

  LogSpool(const LogSpool&) = delete;
  LogSpool& operator=(const LogSpool&) = delete;

  // Appends bytes. An error once the spool is closed or the disk refuses the write.
  absl::Status Append(std::string_view data);
  // No more output will come; wakes every follower.
  void Close();
  bool closed() const;
  // Bytes written so far.
  int64_t size() const;

  struct Chunk {
    std::string data;
    int64_t next_offset = 0;
    bool end = false;  // the spool is closed and everything up to next_offset was read
  };
  // Up to `max_bytes` from `offset`. With `follow`, waits up to `wait_ms` for data when
  // there is none yet (returns an empty chunk when the wait ends without data).
  absl::StatusOr<Chunk> Read(int64_t offset, int64_t max_bytes, bool follow, int wait_ms) const;

  // The whole output when it is at most `limit` bytes; otherwise its first and last
  // parts around a line "[... N bytes of output truncated ...]".
  struct Collected {
    std::string text;
    bool truncated = false;
  };
  absl::StatusOr<Collected> Collect(int64_t limit) const;

  const std::string& path() const { return path_; }

 private:
  LogSpool(std::string path, int fd, int64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  // Reads up to `len` bytes at `offset`; "" while nothing was written.
  absl::StatusOr<std::string> ReadAt(int64_t offset, int64_t len) const;

  const std::string path_;
  // The file, opened by the first Append() of a spool made by Create() (a task that
  // writes nothing costs no file); -1 until then. Set once, under mu_.
  int fd_;
  mutable std::mutex mu_;
  mutable std::condition_variable grew_;
  int64_t size_ = 0;
  bool closed_ = false;
};

}  // namespace cloudai::worker
