// Tests of the shell's line editor, key decoder, history and command-line splitting,
// driven by byte strings as a terminal would send them.
#include "cli/line_editor.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/history.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudai::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kLeft[] = "\033[D";
constexpr char kRight[] = "\033[C";
constexpr char kUp[] = "\033[A";
constexpr char kDown[] = "\033[B";
constexpr char kHome[] = "\033[H";
constexpr char kEnd[] = "\033[F";
constexpr char kDelete[] = "\033[3~";

// Feeds every key of `bytes`; the outcomes that were not kNone.
std::vector<LineEditor::Outcome> Feed(LineEditor& editor, const std::string& bytes) {
  std::vector<LineEditor::Outcome> outcomes;
  for (const Key& key : DecodeKeys(bytes)) {
    LineEditor::Outcome o = editor.Handle(key);
    if (o.action != LineEditor::Action::kNone) outcomes.push_back(o);
  }
  return outcomes;
}

std::string Str(std::initializer_list<std::string> parts) {
  std::string s;
  for (const std::string& p : parts) s += p;
  return s;
}

TEST(KeyDecoderTest, DecodesArrowsHomeEndDeleteAndControls) {
  EXPECT_THAT(DecodeKeys(Str({kLeft, kRight, kUp, kDown})),
              ElementsAre(Key{KeyCode::kLeft}, Key{KeyCode::kRight}, Key{KeyCode::kUp},
                          Key{KeyCode::kDown}));
  EXPECT_THAT(DecodeKeys("\033OH\033OF\033[1~\033[4~\033[7~\033[8~"),
              ElementsAre(Key{KeyCode::kHome}, Key{KeyCode::kEnd}, Key{KeyCode::kHome},
                          Key{KeyCode::kEnd}, Key{KeyCode::kHome}, Key{KeyCode::kEnd}));
  EXPECT_THAT(DecodeKeys(kDelete), ElementsAre(Key{KeyCode::kDelete}));
  EXPECT_THAT(DecodeKeys("\x01\x05\x15\x0b\x17\x03\x04\x7f\x08\t\r\n"),
              ElementsAre(Key{KeyCode::kHome}, Key{KeyCode::kEnd}, Key{KeyCode::kKillToStart},
                          Key{KeyCode::kKillToEnd}, Key{KeyCode::kKillWord},
                          Key{KeyCode::kCtrlC}, Key{KeyCode::kCtrlD}, Key{KeyCode::kBackspace},
                          Key{KeyCode::kBackspace}, Key{KeyCode::kTab}, Key{KeyCode::kEnter},
                          Key{KeyCode::kEnter}));
  EXPECT_THAT(DecodeKeys("\033[1;5D\033b"),
              ElementsAre(Key{KeyCode::kWordLeft}, Key{KeyCode::kWordLeft}));
  EXPECT_THAT(DecodeKeys("a"), ElementsAre(Key{KeyCode::kChar, 'a'}));
  // A lone ESC, flushed after the timeout, is ignored; an unknown sequence too.
  EXPECT_THAT(DecodeKeys("\033"), ElementsAre(Key{KeyCode::kIgnored}));
  EXPECT_THAT(DecodeKeys("\033[15~x"), ElementsAre(Key{KeyCode::kIgnored}, Key{KeyCode::kChar, 'x'}));
}

TEST(LineEditorTest, TypesAndSubmits) {
  LineEditor editor("master> ", nullptr);
  EXPECT_TRUE(Feed(editor, "workers").empty());
  EXPECT_EQ(editor.buffer(), "workers");
  EXPECT_EQ(editor.cursor(), 7u);
  std::vector<LineEditor::Outcome> out = Feed(editor, "\r");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, LineEditor::Action::kLine);
  EXPECT_EQ(out[0].line, "workers");
  EXPECT_EQ(editor.buffer(), "");
}

TEST(LineEditorTest, LeftArrowInsertsInTheMiddle) {
  LineEditor editor("master> ", nullptr);
  Feed(editor, Str({"wokers", kLeft, kLeft, kLeft, kLeft, "r"}));
  EXPECT_EQ(editor.buffer(), "workers");
  EXPECT_EQ(editor.cursor(), 3u);
  Feed(editor, Str({kRight, kRight, "X"}));
  EXPECT_EQ(editor.buffer(), "workeXrs");
}

TEST(LineEditorTest, HomeEndBackspaceDelete) {
  LineEditor editor("> ", nullptr);
  Feed(editor, Str({"abcd", kHome}));
  EXPECT_EQ(editor.cursor(), 0u);
  Feed(editor, Str({kDelete}));
  EXPECT_EQ(editor.buffer(), "bcd");
  Feed(editor, Str({kEnd, "\x7f"}));
  EXPECT_EQ(editor.buffer(), "bc");
  Feed(editor, "\x01X\x05Y");  // Ctrl-A, Ctrl-E
  EXPECT_EQ(editor.buffer(), "XbcY");
  // Backspace at the start and Delete at the end do nothing.
  Feed(editor, Str({kHome, "\x7f", kEnd, kDelete}));
  EXPECT_EQ(editor.buffer(), "XbcY");
  // Ctrl-D on a non-empty line deletes under the cursor.
  Feed(editor, Str({kHome, "\x04"}));
  EXPECT_EQ(editor.buffer(), "bcY");
}

TEST(LineEditorTest, KillKeys) {
  LineEditor editor("> ", nullptr);
  Feed(editor, Str({"task w1 busybox", kLeft, kLeft, kLeft, kLeft}));
  Feed(editor, "\x0b");  // Ctrl-K
  EXPECT_EQ(editor.buffer(), "task w1 bus");
  Feed(editor, "\x17");  // Ctrl-W
  EXPECT_EQ(editor.buffer(), "task w1 ");
  Feed(editor, "\x17");
  EXPECT_EQ(editor.buffer(), "task ");
  Feed(editor, Str({"x", kLeft, "\x15"}));  // Ctrl-U kills before the cursor
  EXPECT_EQ(editor.buffer(), "x");
  EXPECT_EQ(editor.cursor(), 0u);
}

TEST(LineEditorTest, CtrlCAbandonsAndCtrlDOnEmptyIsEof) {
  LineEditor editor("> ", nullptr);
  std::vector<LineEditor::Outcome> out = Feed(editor, "half typed\x03");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, LineEditor::Action::kCancel);
  EXPECT_EQ(editor.buffer(), "");
  out = Feed(editor, "\x04");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, LineEditor::Action::kEof);
}

TEST(LineEditorTest, HistoryUpDownKeepsTheTypedLine) {
  History history;
  LineEditor editor("> ", &history);
  Feed(editor, "workers\rqueue\r");
  EXPECT_THAT(history.entries(), ElementsAre("workers", "queue"));
  Feed(editor, Str({"tas", kUp}));
  EXPECT_EQ(editor.buffer(), "queue");
  Feed(editor, kUp);
  EXPECT_EQ(editor.buffer(), "workers");
  EXPECT_EQ(editor.cursor(), 7u);
  Feed(editor, kUp);  // at the oldest: stays
  EXPECT_EQ(editor.buffer(), "workers");
  Feed(editor, Str({kDown, kDown}));
  EXPECT_EQ(editor.buffer(), "tas");
  // A recalled line can be edited and submitted; the edit is a new entry.
  Feed(editor, Str({"\x15", kUp, kUp, " -o json\r"}));
  EXPECT_THAT(history.entries(), ElementsAre("workers", "queue", "workers -o json"));
  // An empty line and a repeat of the newest are not added.
  Feed(editor, "\rworkers -o json\r");
  EXPECT_EQ(history.entries().size(), 3u);
}

TEST(LineEditorTest, TabCompletesTheFirstWord) {
  LineEditor editor("> ", nullptr, {"workers", "status", "stats", "submit", "exit"});
  Feed(editor, "wo\t");
  EXPECT_EQ(editor.buffer(), "workers ");
  Feed(editor, "\x15st\t");
  EXPECT_EQ(editor.buffer(), "stat");  // common prefix of status and stats
  // The next Tab lists the matches.
  std::vector<LineEditor::Outcome> out = Feed(editor, "\t");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, LineEditor::Action::kList);
  EXPECT_THAT(out[0].matches, ElementsAre("stats", "status"));
  // A first Tab that cannot extend lists nothing; the second does.
  Feed(editor, "\x15s");
  EXPECT_TRUE(Feed(editor, "\t").empty());
  out = Feed(editor, "\t");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0].matches, ElementsAre("stats", "status", "submit"));
  // Not the later words.
  Feed(editor, "\x15logs wo\t");
  EXPECT_EQ(editor.buffer(), "logs wo");
}

TEST(LineEditorTest, Utf8MovesByCharacter) {
  LineEditor editor("> ", nullptr);
  Feed(editor, "a\xc3\xa9" "b");  // aéb
  Feed(editor, Str({kLeft, kLeft}));
  EXPECT_EQ(editor.cursor(), 1u);
  Feed(editor, Str({kRight, "\x7f"}));
  EXPECT_EQ(editor.buffer(), "ab");
}

TEST(LineEditorTest, RenderDrawsPromptLineAndCursor) {
  LineEditor editor("master> ", nullptr);
  Feed(editor, Str({"workers", kLeft, kLeft}));
  EXPECT_EQ(editor.Render(80), "\rmaster> workers\033[K\r\033[13C");
  // A line wider than the terminal scrolls to keep the cursor visible.
  LineEditor wide("> ", nullptr);
  Feed(wide, std::string(100, 'x') + "END");
  const std::string shown = wide.Render(40);
  EXPECT_THAT(shown, HasSubstr("xEND\033[K"));
  EXPECT_THAT(shown, ::testing::EndsWith("\r\033[38C"));
}

TEST(HistoryTest, BoundedAndPersisted) {
  History history(3);
  for (const char* line : {"a", "b", "c", "d"}) history.Add(line);
  EXPECT_THAT(history.entries(), ElementsAre("b", "c", "d"));
  char dir_template[] = "/tmp/cloudai_history_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/history";
  ASSERT_TRUE(history.Save(path));
  History loaded(2);
  ASSERT_TRUE(loaded.Load(path));
  EXPECT_THAT(loaded.entries(), ElementsAre("c", "d"));
  History missing;
  EXPECT_FALSE(missing.Load(path + ".none"));
  std::remove(path.c_str());
  rmdir(dir_template);
}

TEST(SplitCommandLineTest, QuotesAndEscapes) {
  EXPECT_THAT(*SplitCommandLine("  task  w1 busybox -- echo hi "),
              ElementsAre("task", "w1", "busybox", "--", "echo", "hi"));
  EXPECT_THAT(*SplitCommandLine("submit img -- sh -c 'echo a; echo \"b\"'"),
              ElementsAre("submit", "img", "--", "sh", "-c", "echo a; echo \"b\""));
  EXPECT_THAT(*SplitCommandLine(R"(a "b \"c\" \n" d\ e '')"),
              ElementsAre("a", "b \"c\" \\n", "d e", ""));
  EXPECT_TRUE(SplitCommandLine("").value().empty());
  EXPECT_FALSE(SplitCommandLine("echo 'oops").ok());
  EXPECT_FALSE(SplitCommandLine("echo \"oops").ok());
}

}  // namespace
}  // namespace cloudai::cli
