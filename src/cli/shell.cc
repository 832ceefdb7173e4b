#include "cli/shell.h"

#include <chrono>
#include <memory>
#include <optional>

#include "cli/args.h"
#include "cli/line_reader.h"
#include "cli/live_views.h"
#include "cli/terminal.h"
#include "cli/verbs.h"
#include "common/strings.h"

namespace cloudai::cli {
namespace {

constexpr char kPrompt[] = "master> ";

struct ShellCommand {
  std::string usage;
  std::string summary;
};

// The shell's own commands, in the order help lists them around the verbs.
const std::vector<ShellCommand>& OwnCommands() {
  static const std::vector<ShellCommand> commands = {
      {"status", "live cluster status: workers, tasks, capacity used (refreshed every 2 s)"},
      {"stats <id>", "live worker stats: usage, allocated vs total, last seen (every 2 s)"},
      {"monitor <task_id>", "a task's log as it is written, then its final state"},
      {"help [COMMAND]", "this list, or one command's flags"},
      {"exit (quit)", "leave the shell (Ctrl-D too)"},
  };
  return commands;
}

std::string HistoryPath(const CliContext& context) {
  if (std::optional<std::string> path = context.env("CLOUDAI_HISTORY")) return *path;
  std::optional<std::string> home = context.env("HOME");
  if (!home || home->empty()) return "";
  return StrCat(*home, "/.cloudai_history");
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool HasFlagWord(const std::vector<std::string>& words) {
  for (size_t i = 1; i < words.size(); ++i) {
    if (words[i].size() > 1 && words[i][0] == '-') return true;
  }
  return false;
}

class Shell {
 public:
  Shell(client::ClusterClient& client, const CliContext& context, std::ostream& out,
        std::ostream& err)
      : client_(client), context_(context), out_(out), err_(err) {
    const bool in_tty = IsTerminal(context.stdin_fd);
    interactive_ = in_tty;
    const std::optional<std::string> no_color = context.env("NO_COLOR");
    const bool color_allowed = !no_color.has_value() || no_color->empty();
    live_ = in_tty && context.stdout_is_tty;
    color_ = context.stdout_is_tty && color_allowed;
    if (in_tty) {
      reader_ = std::make_unique<TerminalLineReader>(context.stdin_fd, out, kPrompt,
                                                     ShellCommandNames(), HistoryPath(context));
    } else if (context.in != nullptr) {
      reader_ = std::make_unique<StreamLineReader>(*context.in);
    }
  }

  int Run() {
    if (reader_ == nullptr) return 0;
    if (interactive_) Banner();
    int last_failure = 0;
    for (;;) {
      std::optional<std::string> line = reader_->ReadLine();
      if (!line) break;
      absl::StatusOr<std::vector<std::string>> words = SplitCommandLine(*line);
      if (!words.ok()) {
        err_ << "error: " << std::string(words.status().message()) << "\n";
        err_.flush();
        last_failure = kExitUsage;
        continue;
      }
      if (words->empty() || words->front().starts_with('#')) continue;
      const std::string& command = words->front();
      if (command == "exit" || command == "quit") break;
      const int code = Execute(*words);
      if (code != 0) last_failure = code;
      out_.flush();
      err_.flush();
    }
    out_.flush();
    return interactive_ ? 0 : last_failure;
  }

 private:
  LiveIo Io() const {
    LiveIo io{.out = out_, .err = err_};
    io.key_fd = live_ ? context_.stdin_fd : -1;
    io.color = color_;
    io.now_ms = context_.now_ms ? context_.now_ms : std::function<int64_t()>(WallNowMs);
    return io;
  }

  void Banner() {
    out_ << "CloudAI shell: master at " << client_.options().master_address
         << ". Type help for the commands, exit to leave.\n";
    absl::StatusOr<v1::ListWorkersResponse> workers = client_.ListWorkers();
    if (workers.ok()) {
      int active = 0;
      for (const v1::WorkerStatus& w : workers->workers()) active += w.is_active() ? 1 : 0;
      out_ << workers->workers_size() << (workers->workers_size() == 1 ? " worker, " : " workers, ")
           << active << " active.\n";
    } else {
      ReportFailure(workers.status(), client_, err_);
    }
    out_.flush();
    err_.flush();
  }

  int Usage(const std::string& message, const std::string& usage) {
    err_ << "error: " << message << "\nusage: " << usage << "\n";
    return kExitUsage;
  }

  int Execute(const std::vector<std::string>& words) {
    const std::string& command = words.front();
    if (command == "help" || command == "?") return Help(words);
    if (command == "status") {
      if (words.size() > 1) return Usage("status takes no arguments", "status");
      return ShowStatus(client_, Io());
    }
    if (command == "monitor") {
      if (words.size() != 2 || HasFlagWord(words)) {
        return Usage(words.size() < 2 ? "missing <task_id>" : "monitor takes one task id",
                     "monitor <task_id>");
      }
      return MonitorTask(client_, words[1], Io());
    }
    if (command == "stats" && live_ && words.size() == 2 && !HasFlagWord(words)) {
      return ShowWorkerStats(client_, words[1], Io());
    }
    std::string task_id;
    const int code = RunShellVerb(words, out_, err_, context_, client_, &task_id);
    out_.flush();
    err_.flush();
    const bool json = [&] {
      for (size_t i = 1; i + 1 < words.size(); ++i) {
        if ((words[i] == "-o" || words[i] == "--output" || words[i] == "-output") &&
            words[i + 1] == "json") {
          return true;
        }
        if (words[i] == "--") break;
      }
      for (const std::string& w : words) {
        if (w == "-o=json" || w == "--output=json" || w == "--o=json") return true;
      }
      return false;
    }();
    if (code == 0 && !task_id.empty() && !json) WaitForStart(client_, task_id, Io());
    return code;
  }

  int Help(const std::vector<std::string>& words) {
    if (words.size() == 1) {
      out_ << ShellHelpText();
      return 0;
    }
    const std::string& name = words[1];
    for (const ShellCommand& c : OwnCommands()) {
      if (c.usage.compare(0, name.size(), name) == 0 &&
          (c.usage.size() == name.size() || c.usage[name.size()] == ' ')) {
        out_ << "usage: " << c.usage << "\n\n" << c.summary << "\n";
        if (name == "status" || name == "stats" || name == "monitor") {
          out_ << "On a terminal the view stays live until any key; otherwise it prints once.\n";
        }
        if (name != "stats") return 0;
        out_ << "\n";
      }
    }
    if (name == "quit") {
      out_ << "usage: quit\n\nleave the shell\n";
      return 0;
    }
    std::string help;
    if (words.size() > 2) help = ShellVerbHelp(StrCat(name, " ", words[2]));  // alloc request
    if (help.empty()) help = ShellVerbHelp(name);
    if (help.empty()) {
      err_ << "error: unknown command \"" << name << "\"\nType 'help' for the commands.\n";
      return kExitUsage;
    }
    out_ << help;
    return 0;
  }

  client::ClusterClient& client_;
  const CliContext& context_;
  std::ostream& out_;
  std::ostream& err_;
  bool interactive_ = false;
  bool live_ = false;
  bool color_ = false;
  std::unique_ptr<LineReader> reader_;
};

}  // namespace

std::vector<std::string> ShellCommandNames() {
  std::vector<std::string> names = {"help", "status", "monitor", "exit", "quit"};
  for (const Verb& verb : Verbs()) {
    if (verb.name == "mcp") continue;  // not in the shell
    names.push_back(verb.name);
    for (const std::string& alias : verb.aliases) names.push_back(alias);
  }
  return names;
}

std::string ShellHelpText() {
  std::vector<std::pair<std::string, std::string>> rows;
  const std::vector<ShellCommand>& own = OwnCommands();
  rows.emplace_back(own[0].usage, own[0].summary);
  for (const Verb& verb : Verbs()) {
    if (verb.name == "stats") {
      rows.emplace_back(own[1].usage, own[1].summary);
      continue;
    }
    if (verb.name == "mcp") continue;  // not in the shell
    if (verb.subverbs != nullptr) {
      for (const Verb& sub : *verb.subverbs) rows.emplace_back(HelpLeftColumn(sub), sub.summary);
      continue;
    }
    std::string left = verb.name;
    for (const std::string& alias : verb.aliases) StrAppend(&left, " (", alias, ")");
    if (!verb.synopsis.empty()) StrAppend(&left, " ", verb.synopsis);
    rows.emplace_back(std::move(left), verb.summary);
    if (verb.name == "logs") rows.emplace_back(own[2].usage, own[2].summary);
  }
  rows.emplace_back(own[3].usage, own[3].summary);
  rows.emplace_back(own[4].usage, own[4].summary);
  size_t width = 0;
  for (const auto& [left, summary] : rows) width = std::max(width, left.size());
  std::string out = "Commands:\n";
  for (auto& [left, summary] : rows) {
    std::string padded = left;
    padded.resize(width, ' ');
    StrAppend(&out, "  ", padded, "  ", summary, "\n");
  }
  out +=
      "\nEvery command takes -o json as well. Live views (status, stats, monitor) and the wait\n"
      "after task / submit end on any key.\n"
      "Editing: Left/Right, Home/End, Ctrl-A/E, Ctrl-U/K/W, Up/Down for the history, Tab\n"
      "completes a command, Ctrl-C clears the line, Ctrl-D on an empty line leaves.\n";
  return out;
}

int RunShell(client::ClusterClient& client, const CliContext& context, std::ostream& out,
             std::ostream& err) {
  Shell shell(client, context, out, err);
  return shell.Run();
}

}  // namespace cloudai::cli
