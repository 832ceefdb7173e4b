#include "cli/history.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace cloudai::cli {

void History::Add(const std::string& line) {
  if (line.empty() || line.find('\n') != std::string::npos) return;
  if (!entries_.empty() && entries_.back() == line) return;
  entries_.push_back(line);
  if (entries_.size() > max_entries_) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(entries_.size() - max_entries_));
  }
}

bool History::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  entries_.clear();
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Add(line);
  }
  return true;
}

bool History::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::string text;
  for (const std::string& entry : entries_) {
    text += entry;
    text += '\n';
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n <= 0) {
      close(fd);
      unlink(tmp.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace cloudai::cli
