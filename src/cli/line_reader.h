// Where `cloudai shell` gets its command lines: StreamLineReader reads plain lines from a
// stream (stdin not a terminal: no prompt, no escape codes), TerminalLineReader edits them
// on a terminal with LineEditor (line_editor.h), the prompt, and a history kept in a file.
//
// Thread safety: none; a reader belongs to the shell's thread.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/history.h"
#include "cli/line_editor.h"

namespace cloudai::cli {

class LineReader {
 public:
  virtual ~LineReader() = default;
  // The next line without its newline; nullopt at end of input.
  virtual std::optional<std::string> ReadLine() = 0;
};

class StreamLineReader final : public LineReader {
 public:
  explicit StreamLineReader(std::istream& in) : in_(in) {}
  std::optional<std::string> ReadLine() override;

 private:
  std::istream& in_;
};

class TerminalLineReader final : public LineReader {
 public:
  // Reads keys from `in_fd` (a terminal) and draws on `out`. `history_path` empty: no
  // history file. `words`: what Tab completes.
  TerminalLineReader(int in_fd, std::ostream& out, std::string prompt,
                     std::vector<std::string> words, std::string history_path);
  // The line typed; nullopt on Ctrl-D at an empty prompt or when input closes. Ctrl-C
  // prints "^C" and starts a fresh prompt. Each line read is saved to the history file.
  std::optional<std::string> ReadLine() override;

 private:
  int in_fd_;
  std::ostream& out_;
  History history_;
  std::string history_path_;
  LineEditor editor_;
};

}  // namespace cloudai::cli
