#include "master/admin_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace cloudai::master {
namespace {

constexpr size_t kTokenHexDigits = 64;

bool IsToken(std::string_view text) {
  if (text.size() != kTokenHexDigits) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status Errno(std::string_view what, std::string_view path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

std::string AdminTokenPath(std::string_view state_dir) {
  return StrCat(state_dir, "/admin.token");
}

absl::StatusOr<std::string> LoadOrCreateAdminToken(std::string_view state_dir) {
  const std::string dir(state_dir);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create", dir);
  const std::string path = AdminTokenPath(state_dir);
  std::ifstream in(path);
  if (in) {
    std::stringstream contents;
    contents << in.rdbuf();
    const std::string raw = contents.str();
    std::string token(StripWhitespace(raw));
    if (!IsToken(token)) {
      return absl::FailedPreconditionError(
          StrCat(path, " does not hold an admin token (64 hex digits); remove it to have a new "
                       "one created"));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) ::chmod(path.c_str(), 0600);
    return token;
  }
  unsigned char bytes[kTokenHexDigits / 2];
  std::ifstream random("/dev/urandom", std::ios::binary);
  if (!random.read(reinterpret_cast<char*>(bytes), sizeof(bytes))) {
    return absl::UnavailableError("cannot read /dev/urandom to create the admin token");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  const std::string tmp = StrCat(path, ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  const std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("cannot write", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  return token;
}

bool BearerMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view given = header.substr(kPrefix.size());
  if (given.size() != token.size() || token.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= given[i] ^ token[i];
  return diff == 0;
}

}  // namespace cloudai::master
