#include "cli/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace cloudai::cli {

RawMode::RawMode(int fd) : fd_(fd) {
  if (fd_ < 0 || !IsTerminal(fd_) || tcgetattr(fd_, &saved_) != 0) return;
  termios raw = saved_;
  raw.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
  raw.c_cflag |= CS8;
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = tcsetattr(fd_, TCSAFLUSH, &raw) == 0;
}

RawMode::~RawMode() {
  if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
}

bool IsTerminal(int fd) { return fd >= 0 && isatty(fd) == 1; }

int TerminalColumns(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

ReadResult ReadByte(int fd, std::chrono::milliseconds timeout, unsigned char* byte) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ReadResult::kClosed;
    if (ready == 0) return ReadResult::kTimeout;
    const ssize_t n = read(fd, byte, 1);
    if (n == 1) return ReadResult::kByte;
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    return ReadResult::kClosed;
  }
}

ReadResult WaitForKey(int fd, std::chrono::milliseconds timeout) {
  unsigned char byte = 0;
  const ReadResult first = ReadByte(fd, timeout, &byte);
  if (first != ReadResult::kByte) return first;
  // The rest of an escape sequence, or keys typed together.
  while (ReadByte(fd, std::chrono::milliseconds(30), &byte) == ReadResult::kByte) {
  }
  return ReadResult::kByte;
}

}  // namespace cloudai::cli
