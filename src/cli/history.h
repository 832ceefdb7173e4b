// History: the shell's previous command lines, bounded, kept in a file between sessions
// (~/.cloudai_history by default).
//
// Add() skips empty lines and a repeat of the newest line, and drops the oldest lines
// beyond the bound. The file holds one line per entry, oldest first; Save() rewrites it
// (through a temporary file and a rename) with mode 0600.
//
// Thread safety: none; one History belongs to one line reader.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cloudai::cli {

inline constexpr size_t kDefaultHistorySize = 1000;

class History {
 public:
  explicit History(size_t max_entries = kDefaultHistorySize) : max_entries_(max_entries) {}

  void Add(const std::string& line);
  const std::vector<std::string>& entries() const { return entries_; }
  size_t max_entries() const { return max_entries_; }

  // Replaces the entries with the file's last max_entries lines; false when it cannot be
  // read (a missing file leaves the history empty and returns false).
  bool Load(const std::string& path);
  // Writes every entry to `path`; false when it cannot be written.
  bool Save(const std::string& path) const;

 private:
  size_t max_entries_;
  std::vector<std::string> entries_;
};

}  // namespace cloudai::cli
