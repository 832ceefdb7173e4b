// The `cloudai` command: one-shot verbs against the master's ClusterService.
//
// RunCli is the whole command behind main(): it parses the arguments, resolves the master
// and the token (client/client_options.h), makes the call and prints the result. Output
// goes to `out`, messages to `err`; nothing else of the process is touched, so tests run
// it in-process. See docs/cluster.md, "cloudai (one-shot verbs)", for the contract.
//
// `cloudai shell` (shell.h) is dispatched from here too; RunShellVerb runs one verb line
// typed in it.
//
// Exit codes: 0 success; 1 the master refused (`error: <message>` on stderr), or a
// followed task did not complete; 2 bad usage (unknown verb or flag, a malformed value, no
// token found); 3 the master could not be reached or did not answer in time.
//
// Thread safety: RunCli may run concurrently with itself when each call has its own
// streams; it keeps no global state.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "client/client_options.h"
#include "client/cluster_client.h"

namespace cloudai::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct CliContext {
  // The environment (CLOUDAI_MASTER, CLOUDAI_TOKEN, CLOUDAI_STATE_DIR, NO_COLOR).
  client::EnvLookup env = client::ProcessEnv();
  // Colour is used only when stdout is a terminal and NO_COLOR is unset or empty.
  bool stdout_is_tty = false;
  // Unix milliseconds now, for "4s ago"; unset: the system clock.
  std::function<int64_t()> now_ms;
  // `cloudai shell` only: where its lines come from. When `stdin_fd` is a terminal the
  // shell edits lines on it and reads keys from it for the live views; otherwise it reads
  // plain lines from `in` (nullptr: none, the shell ends at once).
  std::istream* in = nullptr;
  int stdin_fd = -1;
};

// `args` excludes the program name.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliContext& context = CliContext());

// Runs one verb line typed in `cloudai shell` ("workers", "task w1 busybox -- echo hi")
// with the shell's client: as RunCli, except that --master / --token / --token-file are
// refused (they are given when the shell starts), messages name the shell's commands
// ("help stats"), and the id of a task that `task` or `submit` created is stored in
// `created_task_id` when it is not null. Returns the exit code RunCli would.
int RunShellVerb(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 const CliContext& context, client::ClusterClient& client,
                 std::string* created_task_id = nullptr);

// `help <verb>` inside the shell ("alloc request" for a member of a family); "" for an
// unknown verb.
std::string ShellVerbHelp(const std::string& name);

}  // namespace cloudai::cli
