// The shell's line editor, as a pure state machine: KeyDecoder turns terminal bytes into
// keys, LineEditor applies keys to a line (text, cursor, history position) and renders
// the line for the terminal. Nothing here touches a file descriptor, so tests drive it
// with byte strings; line_reader.h connects it to the terminal.
//
// Keys: printable text (UTF-8 included) is inserted at the cursor; Left / Right (Ctrl-B /
// Ctrl-F), Home / End (Ctrl-A / Ctrl-E), Alt-B / Alt-F by word; Backspace (Ctrl-H), Delete
// (Ctrl-D when the line is not empty); Ctrl-U kills to the start, Ctrl-K to the end,
// Ctrl-W the word before the cursor; Up / Down (Ctrl-P / Ctrl-N) walk the history, the
// line being typed kept below the newest entry; Tab completes the first word from a
// list (several matches: the common prefix, then the list); Enter ends the line; Ctrl-C
// abandons it; Ctrl-D on an empty line is end of input; Ctrl-L clears the screen.
//
// Thread safety: none; one editor belongs to one reader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cli/history.h"

namespace cloudai::cli {

enum class KeyCode {
  kChar,  // Key::ch is one byte of text
  kEnter,
  kLeft,
  kRight,
  kWordLeft,
  kWordRight,
  kUp,
  kDown,
  kHome,
  kEnd,
  kBackspace,
  kDelete,
  kCtrlD,
  kCtrlC,
  kKillToStart,
  kKillToEnd,
  kKillWord,
  kTab,
  kClearScreen,
  kIgnored,  // an unknown control key or escape sequence
};

struct Key {
  KeyCode code = KeyCode::kIgnored;
  char ch = 0;
  bool operator==(const Key&) const = default;
};

// Decodes bytes (VT100 / xterm sequences: ESC [ A, ESC O H, ESC [ 3 ~, ...) into keys.
class KeyDecoder {
 public:
  // One byte in; a key when it completes one.
  std::optional<Key> Feed(unsigned char byte);
  // Whether an escape sequence is incomplete (the caller waits briefly for more, then
  // calls Flush()).
  bool pending() const { return state_ != State::kGround; }
  // Gives up on an incomplete sequence: a lone ESC is ignored.
  std::optional<Key> Flush();

 private:
  enum class State { kGround, kEscape, kCsi, kSs3 };
  State state_ = State::kGround;
  std::string params_;
};

// Decodes a whole byte string (tests).
std::vector<Key> DecodeKeys(const std::string& bytes);

class LineEditor {
 public:
  enum class Action {
    kNone,         // keep reading
    kLine,         // Enter: `line` is complete
    kEof,          // Ctrl-D on an empty line
    kCancel,       // Ctrl-C: the line was abandoned
    kList,         // Tab found several matches: show `matches`, then redraw
    kClearScreen,  // Ctrl-L
  };
  struct Outcome {
    Action action = Action::kNone;
    std::string line;
    std::vector<std::string> matches;
  };

  // `history` may be null; `words` are what Tab completes as the first word.
  LineEditor(std::string prompt, History* history, std::vector<std::string> words = {});

  // Starts a new, empty line at the bottom of the history.
  void Reset();
  Outcome Handle(const Key& key);

  const std::string& buffer() const { return buffer_; }
  // A byte offset into buffer(), always at the start of a UTF-8 character.
  size_t cursor() const { return cursor_; }
  const std::string& prompt() const { return prompt_; }

  // What redraws the line in a terminal `columns` wide: back to column 0, the prompt and
  // the part of the line that fits around the cursor, erase to the end of the line, the
  // cursor put in place.
  std::string Render(int columns) const;

 private:
  void Insert(char c);
  void MoveLeft();
  void MoveRight();
  void WordLeft();
  void WordRight();
  void Recall(int direction);
  Outcome Complete();

  std::string prompt_;
  History* history_;
  std::vector<std::string> words_;
  std::string buffer_;
  size_t cursor_ = 0;
  size_t history_index_ = 0;  // == entries().size(): the line being typed
  std::string typed_;         // the line being typed, while walking the history
  bool last_was_tab_ = false;
};

}  // namespace cloudai::cli
