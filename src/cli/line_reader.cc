#include "cli/line_reader.h"

#include <chrono>

#include "cli/terminal.h"

namespace cloudai::cli {

std::optional<std::string> StreamLineReader::ReadLine() {
  std::string line;
  if (!std::getline(in_, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

TerminalLineReader::TerminalLineReader(int in_fd, std::ostream& out, std::string prompt,
                                       std::vector<std::string> words, std::string history_path)
    : in_fd_(in_fd),
      out_(out),
      history_path_(std::move(history_path)),
      editor_(std::move(prompt), &history_, std::move(words)) {
  if (!history_path_.empty()) history_.Load(history_path_);
  editor_.Reset();
}

std::optional<std::string> TerminalLineReader::ReadLine() {
  RawMode raw(in_fd_);
  KeyDecoder decoder;
  editor_.Reset();
  const auto draw = [&] {
    out_ << editor_.Render(TerminalColumns(in_fd_));
    out_.flush();
  };
  draw();
  for (;;) {
    unsigned char byte = 0;
    const auto wait = decoder.pending() ? std::chrono::milliseconds(100)
                                        : std::chrono::milliseconds(-1);
    const ReadResult read = ReadByte(in_fd_, wait, &byte);
    std::optional<Key> key;
    if (read == ReadResult::kClosed) {
      out_ << "\n";
      out_.flush();
      return std::nullopt;
    }
    key = read == ReadResult::kTimeout ? decoder.Flush() : decoder.Feed(byte);
    if (!key) continue;
    LineEditor::Outcome outcome = editor_.Handle(*key);
    switch (outcome.action) {
      case LineEditor::Action::kNone: break;
      case LineEditor::Action::kLine:
        // The finished line stays on screen as typed.
        out_ << "\r" << editor_.prompt() << outcome.line << "\033[K\n";
        out_.flush();
        if (!history_path_.empty()) history_.Save(history_path_);
        return outcome.line;
      case LineEditor::Action::kEof:
        out_ << "\n";
        out_.flush();
        return std::nullopt;
      case LineEditor::Action::kCancel:
        out_ << "^C\n";
        break;
      case LineEditor::Action::kList: {
        out_ << "\n";
        for (size_t i = 0; i < outcome.matches.size(); ++i) {
          out_ << (i == 0 ? "" : "  ") << outcome.matches[i];
        }
        out_ << "\n";
        break;
      }
      case LineEditor::Action::kClearScreen: out_ << "\033[H\033[2J"; break;
    }
    draw();
  }
}

}  // namespace cloudai::cli
