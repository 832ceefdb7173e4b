// `cloudai shell` on a real terminal, as a person uses it: a real master and worker, the
// shell running inside tmux, keys sent with `tmux send-keys` and the screen read with
// `tmux capture-pane`. Checks the prompt, the worker table, editing with the arrow keys,
// the history, the live status box and leaving it with a key, a task's log shown live by
// monitor, and exit.
//
// Needs tmux (scripts/install-deps.sh installs it): skipped without it, except under
// CI=true where that is a failure. Every wait is bounded.
#include <unistd.h>

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "cluster.h"
#include "gmock/gmock.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

std::string FindTmux() {
  for (const char* path : {"/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The last line of the screen that is not blank.
std::string LastLine(const std::string& screen) {
  size_t end = screen.find_last_not_of(" \n");
  if (end == std::string::npos) return "";
  const size_t start = screen.rfind('\n', end);
  return screen.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// One tmux server on a private socket, with one session running the shell.
class Tmux {
 public:
  Tmux(std::string binary, std::string socket, std::string scratch)
      : binary_(std::move(binary)), socket_(std::move(socket)), scratch_(std::move(scratch)) {}
  ~Tmux() { Run({"kill-server"}); }

  CommandResult Run(const std::vector<std::string>& args) const {
    std::vector<std::string> full = {binary_, "-S", socket_, "-f", "/dev/null"};
    full.insert(full.end(), args.begin(), args.end());
    return RunCommand(full, scratch_, seconds(10));
  }

  bool Start(const std::vector<std::string>& command) {
    std::vector<std::string> args = {"new-session", "-d", "-s", "shell", "-x", "160", "-y", "50",
                                     "--"};
    args.insert(args.end(), command.begin(), command.end());
    const CommandResult r = Run(args);
    if (r.exit_code != 0) ADD_FAILURE() << "tmux new-session: " << r.ToString();
    return r.exit_code == 0;
  }
  // Types `text` literally.
  void Type(const std::string& text) { Run({"send-keys", "-t", "shell", "-l", text}); }
  // Named keys: "Enter", "Left", "Up", "C-u", ...
  void Keys(const std::vector<std::string>& keys) {
    std::vector<std::string> args = {"send-keys", "-t", "shell"};
    args.insert(args.end(), keys.begin(), keys.end());
    Run(args);
  }
  // The visible screen.
  std::string Screen() const { return Run({"capture-pane", "-p", "-t", "shell"}).out; }
  // Scrollback and screen, wrapped lines joined.
  std::string All() const { return Run({"capture-pane", "-p", "-J", "-S", "-", "-t", "shell"}).out; }
  bool Alive() const { return Run({"has-session", "-t", "shell"}).exit_code == 0; }

  // Waits until `predicate(screen with scrollback)` holds.
  bool WaitFor(const std::function<bool(const std::string&)>& predicate, milliseconds timeout,
               std::string* last = nullptr) const {
    std::string seen;
    const bool ok = WaitUntil(
        [&] {
          seen = All();
          return predicate(seen);
        },
        timeout, milliseconds(100));
    if (last != nullptr) *last = seen;
    return ok;
  }
  bool WaitForText(const std::string& text, milliseconds timeout, std::string* last = nullptr) const {
    return WaitFor([&](const std::string& s) { return s.find(text) != std::string::npos; },
                   timeout, last);
  }

 private:
  std::string binary_;
  std::string socket_;
  std::string scratch_;
};

using ShellTest = ClusterTest;

TEST_F(ShellTest, APersonAtTheTerminal) {
  const std::string tmux_binary = FindTmux();
  if (tmux_binary.empty()) {
    if (UnderCi()) FAIL() << "tmux is not installed (CI=true); run scripts/install-deps.sh";
    GTEST_SKIP() << "tmux is not installed; skipping the terminal test of cloudai shell "
                    "(scripts/install-deps.sh installs it)";
  }
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);

  const std::string home = dir().Sub("home", /*create=*/true);
  Tmux tmux(tmux_binary, dir().Sub("tmux.sock"), dir().Sub("tmux", /*create=*/true));
  ASSERT_TRUE(tmux.Start({"env", "-u", "NO_COLOR", "-u", "CLOUDAI_HISTORY", StrCat("HOME=", home),
                          CliBinary(), "--master", master_address(), "--token-file",
                          StrCat(state_dir(), "/admin.token"), "shell"}));
  std::string screen;

  // The banner and the prompt.
  ASSERT_TRUE(tmux.WaitFor(
      [](const std::string& s) {
        return s.find("1 worker, 1 active.") != std::string::npos && LastLine(s) == "master>";
      },
      seconds(15), &screen))
      << screen;

  // `workers` shows the worker table.
  tmux.Type("workers");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Resource  Total", seconds(10), &screen)) << screen;
  EXPECT_THAT(screen, ::testing::HasSubstr("w1  active"));
  EXPECT_THAT(screen, ::testing::HasSubstr("1 worker, 1 active\n"));

  // Editing with the left arrow: "wokers", four lefts, "r" -> "workers".
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << screen;
  tmux.Type("wokers");
  tmux.Keys({"Left", "Left", "Left", "Left"});
  tmux.Type("r");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master> workers"; },
                           seconds(10), &screen))
      << screen;
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return Count(s, "Resource  Total") == 2; },
                           seconds(10), &screen))
      << screen;

  // Up recalls the last line; Ctrl-U clears it again.
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << screen;
  tmux.Type("queue");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("The queue is empty.", seconds(10), &screen)) << screen;
  tmux.Keys({"Up"});
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master> queue"; },
                           seconds(10), &screen))
      << screen;
  tmux.Keys({"Up"});
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master> workers"; },
                           seconds(10), &screen))
      << screen;
  tmux.Keys({"C-u"});
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << screen;

  // `status`: a live box, redrawn in place every 2 s, left with any key.
  tmux.Type("status");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Press any key to leave", seconds(10), &screen)) << screen;
  EXPECT_THAT(screen, ::testing::HasSubstr("Cluster status"));
  EXPECT_THAT(screen, ::testing::HasSubstr("1 total, 1 active"));
  EXPECT_THAT(screen, ::testing::HasSubstr("0 running, 0 queued"));
  const std::regex updated_re("Updated +([0-9: -]+UTC)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(screen, match, updated_re)) << screen;
  const std::string first_update = match[1];
  ASSERT_TRUE(tmux.WaitFor(
      [&](const std::string& s) {
        std::smatch m;
        return std::regex_search(s, m, updated_re) && m[1] != first_update;
      },
      seconds(6), &screen))
      << "the status box did not refresh within 6 s:\n"
      << screen;
  EXPECT_EQ(Count(screen, "Cluster status"), 1) << "not redrawn in place:\n" << screen;
  tmux.Type("q");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << "the key did not leave the status view:\n"
      << screen;

  // A task that prints a line a second, then `monitor` shows its lines as they come.
  tmux.Type(
      "task w1 busybox --id shell-t1 -cpu_cores 0.1 -mem 0.05 -storage 0.01 -- "
      "sh -c 'for i in 1 2 3 4 5 6; do echo line-$i; sleep 1; done'");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Task shell-t1 assigned to worker w1", seconds(15), &screen))
      << screen;
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(15), &screen))
      << screen;
  tmux.Type("monitor shell-t1");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Monitoring task shell-t1", seconds(10), &screen)) << screen;
  // Live: some lines shown while the task still runs.
  ASSERT_TRUE(tmux.WaitFor(
      [](const std::string& s) {
        return s.find("line-") != std::string::npos && s.find("line-6") == std::string::npos;
      },
      seconds(10), &screen))
      << screen;
  EXPECT_EQ(screen.find("Task shell-t1 completed"), std::string::npos) << screen;
  ASSERT_TRUE(tmux.WaitForText("Task shell-t1 completed (exit code 0", seconds(30), &screen))
      << screen;
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(Count(screen, StrCat("line-", i, "\n")), 1) << i << "\n" << screen;
  }
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << screen;

  // A bad command prints an error and the shell goes on.
  tmux.Type("get no-such-task");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("error: ", seconds(10), &screen)) << screen;
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return LastLine(s) == "master>"; },
                           seconds(10), &screen))
      << screen;

  // `exit` ends the shell; the history was kept.
  tmux.Type("exit");
  tmux.Keys({"Enter"});
  EXPECT_TRUE(WaitUntil([&] { return !tmux.Alive(); }, seconds(10))) << tmux.All();
  const std::string history = ReadFile(StrCat(home, "/.cloudai_history"));
  EXPECT_THAT(history, ::testing::HasSubstr("workers\nqueue\nstatus\n"));
  EXPECT_THAT(history, ::testing::HasSubstr("monitor shell-t1\n"));
}

// Seed 001's master has its CLI built in: started on a terminal, cloudai-master itself
// gives the master> prompt, keeps its log lines out of it, and stops on exit.
TEST_F(ShellTest, TheMasterOnATerminalGivesThePromptAndStopsOnExit) {
  const std::string tmux_binary = FindTmux();
  if (tmux_binary.empty()) {
    if (UnderCi()) FAIL() << "tmux is not installed (CI=true); run scripts/install-deps.sh";
    GTEST_SKIP() << "tmux is not installed; skipping the terminal test of the master's prompt";
  }
  const std::string home = dir().Sub("home", /*create=*/true);
  const std::string state = dir().Sub("own-state", /*create=*/true);
  const int port = FreePort();
  Tmux tmux(tmux_binary, dir().Sub("tmux.sock"), dir().Sub("tmux", /*create=*/true));
  ASSERT_TRUE(tmux.Start({"env", StrCat("HOME=", home), "CLOUDAI_HISTORY=", "sh", "-c",
                          StrCat(MasterBinary(), " --grpc-port 127.0.0.1:", port,
                                 " --http-port 127.0.0.1:", FreePort(), " --state-dir ", state,
                                 "; echo master-exited-$?; sleep 60")}));
  std::string screen;
  ASSERT_TRUE(tmux.WaitFor(
      [](const std::string& s) {
        return s.find("CloudAI shell: master at 127.0.0.1:") != std::string::npos &&
               LastLine(s) == "master>";
      },
      seconds(20), &screen))
      << screen;
  EXPECT_NE(screen.find("log in " + state + "/master.log"), std::string::npos) << screen;
  tmux.Type("workers");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("No workers registered", seconds(10), &screen)) << screen;
  // The master logs a registration; that line goes to its log file, not over the prompt.
  tmux.Type("register w9 127.0.0.1:9");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(state + "/master.log").find("worker w9 registered") != std::string::npos; },
      seconds(10)));
  ASSERT_TRUE(tmux.WaitForText("w9 registered at 127.0.0.1:9", seconds(10), &screen)) << screen;
  EXPECT_EQ(screen.find("notifying it"), std::string::npos)
      << "the master's log lines stay out of the prompt: " << screen;
  tmux.Type("exit");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("master-exited-0", seconds(20), &screen)) << screen;
  EXPECT_FALSE(PortAcceptsConnections(port)) << "the master stopped";
}

}  // namespace
}  // namespace cloudai::integration
