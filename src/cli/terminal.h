// Terminal helpers for `cloudai shell`: raw input mode, the window's width, and reading
// keys with a timeout. Everything works on plain file descriptors, so a pseudo-terminal
// (tmux, a test's pty) behaves like a real one.
//
// Thread safety: RawMode changes process-wide terminal state and is for one thread; the
// free functions keep no state.
#pragma once

#include <termios.h>

#include <chrono>

namespace cloudai::cli {

// While alive, puts the terminal behind `fd` in raw input mode: bytes arrive one by one,
// unechoed, with Ctrl-C / Ctrl-Z / Ctrl-S as plain bytes rather than signals. Output
// processing stays on, so "\n" still starts a new line. The destructor restores the
// settings. When `fd` is not a terminal it does nothing (active() is false).
class RawMode {
 public:
  explicit RawMode(int fd);
  ~RawMode();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

  bool active() const { return active_; }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Whether `fd` is a terminal.
bool IsTerminal(int fd);

// The terminal's width in columns (80 when unknown).
int TerminalColumns(int fd);

enum class ReadResult { kByte, kTimeout, kClosed };

// Reads one byte from `fd`, waiting at most `timeout` (negative: forever). EINTR is
// retried. kClosed on end of input or an error.
ReadResult ReadByte(int fd, std::chrono::milliseconds timeout, unsigned char* byte);

// Waits up to `timeout` for a key on `fd` and swallows everything typed (an arrow key's
// whole escape sequence too). kByte: a key was pressed.
ReadResult WaitForKey(int fd, std::chrono::milliseconds timeout);

}  // namespace cloudai::cli
