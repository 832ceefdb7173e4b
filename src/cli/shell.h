// `cloudai shell`: the interactive shell of a CloudAI cluster.
//
// It shows the `master> ` prompt with line editing and a history kept in
// ~/.cloudai_history (CLOUDAI_HISTORY names another file; set empty, none), and runs
// every verb of the one-shot command (verbs.h) with one client, plus help, the live views
// status, stats <id> and monitor <task_id> (live_views.h), and exit / quit. A failing
// command prints `error: ...` and the shell goes on. After `task` / `submit` on a
// terminal it shows the task's progress until it starts.
//
// When stdin is not a terminal the shell reads one command per line with no prompt and no
// escape codes (`echo workers | cloudai shell`), and the live views print one snapshot.
//
// Thread safety: RunShell runs on the calling thread; it changes the terminal's mode
// while it reads a line or shows a live view, and restores it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "client/cluster_client.h"

namespace cloudai::cli {

// Runs the shell until exit / quit, Ctrl-D or the end of input. Returns 0, or when stdin
// is not a terminal, the exit code of the last command that failed (0 when none did).
int RunShell(client::ClusterClient& client, const CliContext& context, std::ostream& out,
             std::ostream& err);

// The shell's commands, as Tab completes them.
std::vector<std::string> ShellCommandNames();

// The shell's `help` text.
std::string ShellHelpText();

}  // namespace cloudai::cli
