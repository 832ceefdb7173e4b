#include "cli/line_editor.h"

#include <algorithm>

#include "common/strings.h"

namespace cloudai::cli {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

Key K(KeyCode code) { return Key{code, 0}; }

// The key of a CSI sequence ESC [ <params> <final>.
Key CsiKey(const std::string& params, unsigned char final) {
  switch (final) {
    case 'A': return K(KeyCode::kUp);
    case 'B': return K(KeyCode::kDown);
    case 'C': return K(params.find(";3") != std::string::npos || params.find(";5") != std::string::npos
                           ? KeyCode::kWordRight
                           : KeyCode::kRight);
    case 'D': return K(params.find(";3") != std::string::npos || params.find(";5") != std::string::npos
                           ? KeyCode::kWordLeft
                           : KeyCode::kLeft);
    case 'H': return K(KeyCode::kHome);
    case 'F': return K(KeyCode::kEnd);
    case '~':
      if (params == "1" || params == "7") return K(KeyCode::kHome);
      if (params == "4" || params == "8") return K(KeyCode::kEnd);
      if (params == "3") return K(KeyCode::kDelete);
      return K(KeyCode::kIgnored);
    default: return K(KeyCode::kIgnored);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// KeyDecoder

std::optional<Key> KeyDecoder::Feed(unsigned char byte) {
  switch (state_) {
    case State::kGround:
      break;
    case State::kEscape:
      if (byte == '[') {
        state_ = State::kCsi;
        params_.clear();
        return std::nullopt;
      }
      if (byte == 'O') {
        state_ = State::kSs3;
        return std::nullopt;
      }
      state_ = State::kGround;
      if (byte == 'b' || byte == 'B') return K(KeyCode::kWordLeft);
      if (byte == 'f' || byte == 'F') return K(KeyCode::kWordRight);
      if (byte == 127 || byte == 8) return K(KeyCode::kKillWord);
      return K(KeyCode::kIgnored);
    case State::kCsi:
      if ((byte >= '0' && byte <= '9') || byte == ';') {
        if (params_.size() < 16) params_.push_back(static_cast<char>(byte));
        return std::nullopt;
      }
      state_ = State::kGround;
      return CsiKey(params_, byte);
    case State::kSs3:
      state_ = State::kGround;
      return CsiKey("", byte);
  }
  switch (byte) {
    case 27: state_ = State::kEscape; return std::nullopt;
    case '\r':
    case '\n': return K(KeyCode::kEnter);
    case 1: return K(KeyCode::kHome);         // Ctrl-A
    case 2: return K(KeyCode::kLeft);         // Ctrl-B
    case 3: return K(KeyCode::kCtrlC);        // Ctrl-C
    case 4: return K(KeyCode::kCtrlD);        // Ctrl-D
    case 5: return K(KeyCode::kEnd);          // Ctrl-E
    case 6: return K(KeyCode::kRight);        // Ctrl-F
    case 8:                                   // Ctrl-H
    case 127: return K(KeyCode::kBackspace);
    case 9: return K(KeyCode::kTab);
    case 11: return K(KeyCode::kKillToEnd);   // Ctrl-K
    case 12: return K(KeyCode::kClearScreen); // Ctrl-L
    case 14: return K(KeyCode::kDown);        // Ctrl-N
    case 16: return K(KeyCode::kUp);          // Ctrl-P
    case 21: return K(KeyCode::kKillToStart); // Ctrl-U
    case 23: return K(KeyCode::kKillWord);    // Ctrl-W
    default:
      if (byte < 32) return K(KeyCode::kIgnored);
      return Key{KeyCode::kChar, static_cast<char>(byte)};
  }
}

std::optional<Key> KeyDecoder::Flush() {
  if (state_ == State::kGround) return std::nullopt;
  state_ = State::kGround;
  return K(KeyCode::kIgnored);
}

std::vector<Key> DecodeKeys(const std::string& bytes) {
  KeyDecoder decoder;
  std::vector<Key> keys;
  for (char c : bytes) {
    if (std::optional<Key> key = decoder.Feed(static_cast<unsigned char>(c))) keys.push_back(*key);
  }
  if (std::optional<Key> key = decoder.Flush()) keys.push_back(*key);
  return keys;
}

// ---------------------------------------------------------------------------------------
// LineEditor

LineEditor::LineEditor(std::string prompt, History* history, std::vector<std::string> words)
    : prompt_(std::move(prompt)), history_(history), words_(std::move(words)) {
  std::sort(words_.begin(), words_.end());
  Reset();
}

void LineEditor::Reset() {
  buffer_.clear();
  cursor_ = 0;
  typed_.clear();
  history_index_ = history_ == nullptr ? 0 : history_->entries().size();
  last_was_tab_ = false;
}

void LineEditor::Insert(char c) {
  buffer_.insert(buffer_.begin() + static_cast<std::ptrdiff_t>(cursor_), c);
  ++cursor_;
}

void LineEditor::MoveLeft() {
  if (cursor_ == 0) return;
  do {
    --cursor_;
  } while (cursor_ > 0 && IsContinuation(static_cast<unsigned char>(buffer_[cursor_])));
}

void LineEditor::MoveRight() {
  if (cursor_ >= buffer_.size()) return;
  do {
    ++cursor_;
  } while (cursor_ < buffer_.size() && IsContinuation(static_cast<unsigned char>(buffer_[cursor_])));
}

void LineEditor::WordLeft() {
  while (cursor_ > 0 && IsSpace(buffer_[cursor_ - 1])) --cursor_;
  while (cursor_ > 0 && !IsSpace(buffer_[cursor_ - 1])) --cursor_;
}

void LineEditor::WordRight() {
  while (cursor_ < buffer_.size() && IsSpace(buffer_[cursor_])) ++cursor_;
  while (cursor_ < buffer_.size() && !IsSpace(buffer_[cursor_])) ++cursor_;
}

void LineEditor::Recall(int direction) {
  if (history_ == nullptr) return;
  const std::vector<std::string>& entries = history_->entries();
  if (history_index_ > entries.size()) history_index_ = entries.size();
  if (direction < 0) {
    if (history_index_ == 0) return;
    if (history_index_ == entries.size()) typed_ = buffer_;
    --history_index_;
    buffer_ = entries[history_index_];
  } else {
    if (history_index_ >= entries.size()) return;
    ++history_index_;
    buffer_ = history_index_ == entries.size() ? typed_ : entries[history_index_];
  }
  cursor_ = buffer_.size();
}

LineEditor::Outcome LineEditor::Complete() {
  Outcome outcome;
  // Only the first word is completed, and only with the cursor at its end.
  const size_t start = buffer_.find_first_not_of(" \t");
  if (start == std::string::npos || start > cursor_) return outcome;
  const std::string word = buffer_.substr(start, cursor_ - start);
  if (word.find_first_of(" \t") != std::string::npos) return outcome;
  if (cursor_ < buffer_.size() && !IsSpace(buffer_[cursor_])) return outcome;
  std::vector<std::string> matches;
  for (const std::string& w : words_) {
    if (w.compare(0, word.size(), word) == 0) matches.push_back(w);
  }
  if (matches.empty()) return outcome;
  std::string common = matches.front();
  for (const std::string& m : matches) {
    size_t n = 0;
    while (n < common.size() && n < m.size() && common[n] == m[n]) ++n;
    common.resize(n);
  }
  std::string insert = common.substr(word.size());
  if (matches.size() == 1) insert += ' ';
  if (!insert.empty()) {
    buffer_.insert(cursor_, insert);
    cursor_ += insert.size();
    return outcome;
  }
  if (last_was_tab_) {
    outcome.action = Action::kList;
    outcome.matches = std::move(matches);
  }
  return outcome;
}

LineEditor::Outcome LineEditor::Handle(const Key& key) {
  Outcome outcome;
  const bool tab = key.code == KeyCode::kTab;
  switch (key.code) {
    case KeyCode::kChar: Insert(key.ch); break;
    case KeyCode::kEnter:
      outcome.action = Action::kLine;
      outcome.line = buffer_;
      if (history_ != nullptr) history_->Add(buffer_);
      Reset();
      return outcome;
    case KeyCode::kLeft: MoveLeft(); break;
    case KeyCode::kRight: MoveRight(); break;
    case KeyCode::kWordLeft: WordLeft(); break;
    case KeyCode::kWordRight: WordRight(); break;
    case KeyCode::kUp: Recall(-1); break;
    case KeyCode::kDown: Recall(+1); break;
    case KeyCode::kHome: cursor_ = 0; break;
    case KeyCode::kEnd: cursor_ = buffer_.size(); break;
    case KeyCode::kBackspace: {
      const size_t end = cursor_;
      MoveLeft();
      buffer_.erase(cursor_, end - cursor_);
      break;
    }
    case KeyCode::kCtrlD:
      if (buffer_.empty()) {
        outcome.action = Action::kEof;
        return outcome;
      }
      [[fallthrough]];
    case KeyCode::kDelete: {
      const size_t start = cursor_;
      MoveRight();
      buffer_.erase(start, cursor_ - start);
      cursor_ = start;
      break;
    }
    case KeyCode::kCtrlC:
      outcome.action = Action::kCancel;
      Reset();
      return outcome;
    case KeyCode::kKillToStart:
      buffer_.erase(0, cursor_);
      cursor_ = 0;
      break;
    case KeyCode::kKillToEnd: buffer_.erase(cursor_); break;
    case KeyCode::kKillWord: {
      const size_t end = cursor_;
      WordLeft();
      buffer_.erase(cursor_, end - cursor_);
      break;
    }
    case KeyCode::kTab: outcome = Complete(); break;
    case KeyCode::kClearScreen: outcome.action = Action::kClearScreen; break;
    case KeyCode::kIgnored: break;
  }
  last_was_tab_ = tab;
  return outcome;
}

std::string LineEditor::Render(int columns) const {
  // Character boundaries (byte offsets) of the buffer, and the cursor's character index.
  std::vector<size_t> starts;
  size_t cursor_index = 0;
  for (size_t i = 0; i < buffer_.size(); ++i) {
    if (IsContinuation(static_cast<unsigned char>(buffer_[i]))) continue;
    if (i < cursor_) ++cursor_index;
    starts.push_back(i);
  }
  const size_t count = starts.size();
  starts.push_back(buffer_.size());
  size_t prompt_width = 0;
  for (char c : prompt_) prompt_width += IsContinuation(static_cast<unsigned char>(c)) ? 0 : 1;
  const size_t room = std::max<int>(columns - static_cast<int>(prompt_width) - 1, 8);
  // The window of characters shown: all of them when they fit, else one around the cursor.
  size_t first = 0;
  if (count > room && cursor_index >= room) first = cursor_index - room + 1;
  const size_t last = std::min(count, first + room);
  std::string out = StrCat("\r", prompt_, buffer_.substr(starts[first], starts[last] - starts[first]),
                           "\033[K\r");
  const size_t column = prompt_width + (cursor_index - first);
  if (column > 0) StrAppend(&out, "\033[", column, "C");
  return out;
}

}  // namespace cloudai::cli
