// Process-level helpers for CloudAI's integration tests: free loopback ports, per-test
// temporary directories, child processes with their output in a log file, one-shot
// commands with captured stdout and stderr, bounded polling, and JSON field access for the
// `-o json` output of the cloudai command.
//
// Every wait here is bounded. Child processes run in their own process group and die with
// the test process (PR_SET_PDEATHSIG); a Process kills its group when destroyed.
//
// Thread safety: FreePort, RunCommand, WaitUntil and the JSON helpers may be called from
// any thread. A Process or TestDir is used by one thread at a time, except that
// Process::ReadLog and WaitForLine only read the log file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cloudai::integration {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
int FreePort();

// Whether something accepts TCP connections on 127.0.0.1:`port`.
bool PortAcceptsConnections(int port);

// Calls `predicate` every `interval` until it returns true or `timeout` passes; whether it
// did. The predicate is always called at least once, and once more at the deadline.
bool WaitUntil(const std::function<bool()>& predicate, milliseconds timeout,
               milliseconds interval = milliseconds(50));

// A fresh directory under $TMPDIR (or /tmp) named after the running test. Removed by the
// destructor unless Keep() was called.
class TestDir {
 public:
  // `label` is put in the directory's name; empty: the current GoogleTest test's name.
  explicit TestDir(std::string_view label = "");
  ~TestDir();
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }
  // `path()/name`, creating the directory `name` when `create` is set.
  std::string Sub(std::string_view name, bool create = false) const;
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// How a child process ended.
struct ExitStatus {
  bool exited = false;   // returned from main or called exit
  int code = -1;         // exit code when exited
  int signal = 0;        // the signal that killed it otherwise
  std::string ToString() const;
};

struct ProcessOptions {
  std::vector<std::string> args;  // args[0] is the program's path
  // Added to (or replacing in) the test's environment.
  std::map<std::string, std::string> env;
  // Variables removed from the child's environment.
  std::vector<std::string> unset_env;
  std::string cwd;       // empty: the test's working directory
  std::string log_path;  // stdout (and stderr), appended; required
  std::string stderr_path;  // empty: stderr goes to log_path too
};

class Process {
 public:
  // Starts the process; nullptr (with `error` set) when it could not be started.
  static std::unique_ptr<Process> Start(const ProcessOptions& options, std::string* error);
  ~Process();  // kills the process group when still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // The command line, for messages.
  const std::string& description() const { return description_; }

  // The whole log so far.
  std::string ReadLog() const;
  // The last `lines` lines of the log.
  std::string LogTail(int lines = 40) const;
  // Size of the log now: pass it as `from` to look only at output written after this.
  size_t LogSize() const;

  // Waits until a line of the log (from byte `from` on) contains `needle`; the line.
  // Gives up early when the process exits and no such line was written.
  std::optional<std::string> WaitForLine(std::string_view needle, milliseconds timeout,
                                         size_t from = 0);
  // Same with a regular expression searched in each line; the match's groups (0: whole).
  std::optional<std::vector<std::string>> WaitForRegex(const std::regex& re,
                                                       milliseconds timeout, size_t from = 0);

  // Sends `sig` to the process itself (not its group).
  bool Signal(int sig);
  // Sends `sig` to its process group.
  bool SignalGroup(int sig);
  // Waits up to `timeout` for it to end; its status, or nullopt when still running.
  std::optional<ExitStatus> Wait(milliseconds timeout);
  // Whether it is still running (reaps it when it has ended).
  bool Running();
  // SIGKILL to its group, then waits for it.
  void Kill();

 private:
  Process() = default;
  bool Poll();  // reaps when ended; whether it has
  // Waits until `match` accepts a line of the log from byte `from` on; whether one did.
  bool WaitForMatch(const std::function<bool(std::string_view line)>& match,
                    milliseconds timeout, size_t from);

  pid_t pid_ = -1;
  std::string log_path_;
  std::string description_;
  std::optional<ExitStatus> status_;
};

// The result of a one-shot command.
struct CommandResult {
  int exit_code = -1;   // -1: it did not exit normally (killed, timed out, not started)
  bool timed_out = false;
  std::string out;      // stdout
  std::string err;      // stderr
  std::string ToString() const;  // for assertion messages
};

// Runs `args` (args[0] a path) to completion with stdout and stderr captured in files
// under `scratch_dir`, killing it after `timeout`.
CommandResult RunCommand(const std::vector<std::string>& args, const std::string& scratch_dir,
                         milliseconds timeout = seconds(30),
                         const std::map<std::string, std::string>& env = {});
// The same with every option of ProcessOptions (its log paths are chosen here).
CommandResult RunCommand(ProcessOptions options, const std::string& scratch_dir,
                         milliseconds timeout = seconds(30));

// Reads a whole file ("" when missing).
std::string ReadFile(const std::string& path);
bool WriteFile(const std::string& path, std::string_view contents);
// Number of lines (newline-terminated or not) in a file.
int CountLines(const std::string& path);

// Kills (SIGKILL) every process other than this one whose working directory is `dir` or
// lies under it: what tests' tasks left running after their worker was killed. The
// number killed.
int KillProcessesUnder(const std::string& dir);

// JSON from the cloudai command's `-o json` output (the protobuf JSON mapping: 64-bit
// integers are strings, fields at their default value are left out).
using Json = nlohmann::json;
// Parses `text`; nullopt when it is not JSON.
std::optional<Json> ParseJson(std::string_view text);
// `j[key]` as an integer (missing or null: 0; strings are parsed).
int64_t JInt(const Json& j, std::string_view key);
// `j[key]` as a string (missing: "").
std::string JStr(const Json& j, std::string_view key);
// `j[key]` as a bool (missing: false).
bool JBool(const Json& j, std::string_view key);
// `j[key]` as a double (missing: 0).
double JDouble(const Json& j, std::string_view key);
// `j[key]` when it is an object, else an empty object.
const Json& JObj(const Json& j, std::string_view key);
// `j[key]` as an array (missing: an empty array).
const Json& JArr(const Json& j, std::string_view key);

}  // namespace cloudai::integration
