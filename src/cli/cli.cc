#include "cli/cli.h"

#include <chrono>
#include <optional>

#include "cli/args.h"
#include "cli/render.h"
#include "cli/shell.h"
#include "cli/verbs.h"
#include "client/cluster_client.h"
#include "common/strings.h"

namespace cloudai::cli {
namespace {

constexpr char kSynopsis[] =
    "cloudai [--master HOST:PORT] [--token T | --token-file F] [-o table|json] VERB ...";

std::string FlagHelp(const std::vector<const FlagSpec*>& flags) {
  std::vector<std::pair<std::string, std::string>> lines;
  size_t width = 0;
  for (const FlagSpec* flag : flags) {
    std::string left = FlagDisplayName(*flag);
    if (flag->names.front().size() == 1 && flag->names.size() > 1) {
      StrAppend(&left, ", --", flag->names[1]);
    }
    if (!flag->value_name.empty()) StrAppend(&left, " ", flag->value_name);
    width = std::max(width, left.size());
    lines.emplace_back(std::move(left), flag->help);
  }
  std::string out;
  for (auto& [left, help] : lines) {
    left.resize(width, ' ');
    StrAppend(&out, "  ", left, "  ", help, "\n");
  }
  return out;
}

// Whether the messages are for `cloudai shell` (commands without the "cloudai " prefix).
struct Mode {
  bool shell = false;
  client::ClusterClient* client = nullptr;  // the shell's client
  std::string* created_task_id = nullptr;
};

std::string Program(const Mode& mode) { return mode.shell ? "" : "cloudai "; }

std::string VerbUsageLine(const Verb& verb, const Mode& mode) {
  std::string line = StrCat(Program(mode), verb.name);
  if (!verb.synopsis.empty()) StrAppend(&line, " ", verb.synopsis);
  return line;
}

// The rows `help` lists for a verb: the verb, or each member of a family.
std::vector<const Verb*> HelpRows(const Verb& verb) {
  std::vector<const Verb*> rows;
  if (verb.subverbs == nullptr) {
    rows.push_back(&verb);
  } else {
    for (const Verb& sub : *verb.subverbs) rows.push_back(&sub);
  }
  return rows;
}

std::string GeneralHelp() {
  std::string out = StrCat("usage: ", kSynopsis, "\n\nVerbs:\n");
  size_t width = 0;
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Verb& verb : Verbs()) {
    for (const Verb* v : HelpRows(verb)) {
      std::string left = HelpLeftColumn(*v);
      width = std::max(width, left.size());
      rows.emplace_back(std::move(left), v->summary);
    }
  }
  rows.emplace_back("shell", "the interactive shell: the master> prompt, live views");
  for (auto& [left, summary] : rows) {
    left.resize(width, ' ');
    StrAppend(&out, "  ", left, "  ", summary, "\n");
  }
  StrAppend(&out, "  help [VERB]", std::string(width > 11 ? width - 11 : 0, ' '),
            "  this text, or one verb's flags\n");
  StrAppend(&out, "\nGlobal flags (before or after the verb):\n", FlagHelp(GlobalFlags()));
  out +=
      "\nThe master is --master, else CLOUDAI_MASTER, else localhost:50051. The admin token is\n"
      "--token, else --token-file, else CLOUDAI_TOKEN, else $CLOUDAI_STATE_DIR/admin.token,\n"
      "else ./cloudai-state/admin.token.\n"
      "\nExit codes: 0 success; 1 the master refused (or a followed task did not complete);\n"
      "2 bad usage; 3 the master could not be reached.\n";
  return out;
}

std::string VerbHelp(const Verb& verb, const Mode& mode) {
  std::string out = StrCat("usage: ", VerbUsageLine(verb, mode), "\n\n", verb.summary, "\n");
  if (!verb.details.empty()) StrAppend(&out, "\n", verb.details, "\n");
  if (verb.subverbs != nullptr) {
    out += "\nCommands:\n";
    size_t width = 0;
    for (const Verb& sub : *verb.subverbs) width = std::max(width, HelpLeftColumn(sub).size());
    for (const Verb& sub : *verb.subverbs) {
      std::string left = HelpLeftColumn(sub);
      left.resize(width, ' ');
      StrAppend(&out, "  ", left, "  ", sub.summary, "\n");
    }
    StrAppend(&out, "\nRun '", Program(mode), "help ", verb.name,
              " COMMAND' for a command's flags.\n");
  }
  if (!verb.flags.empty()) StrAppend(&out, "\nFlags:\n", FlagHelp(verb.flags));
  if (mode.shell) {
    out += "\nFlag: -o table|json  output format (default: table)\n";
  } else {
    StrAppend(&out, "\nGlobal flags:\n", FlagHelp(GlobalFlags()));
  }
  return out;
}

std::string ShellHelp() {
  return StrCat(
      "usage: cloudai [--master HOST:PORT] [--token T | --token-file F] shell\n\n"
      "The interactive shell: a master> prompt with line editing and history\n"
      "(~/.cloudai_history), every verb of the cloudai command, and live views: status,\n"
      "stats <id>, monitor <task_id>. Type help at the prompt for its commands.\n"
      "When stdin is not a terminal it reads one command per line, without a prompt.\n"
      "\nGlobal flags:\n",
      FlagHelp(GlobalFlags()));
}

int UsageError(std::ostream& err, const std::string& message, const Verb* verb,
               const Mode& mode) {
  err << "error: " << message << "\n";
  if (verb != nullptr) {
    err << "usage: " << VerbUsageLine(*verb, mode) << "\n"
        << "Run '" << Program(mode) << "help " << verb->name << "' for its flags.\n";
  } else if (mode.shell) {
    err << "Type 'help' for the commands.\n";
  } else {
    err << "usage: " << kSynopsis << "\n"
        << "Run 'cloudai help' for the verbs.\n";
  }
  return kExitUsage;
}

// "request, release, get, ..." for the `alloc` family.
std::string SubverbWords(const Verb& family) {
  std::string out;
  for (const Verb& sub : *family.subverbs) {
    if (!out.empty()) out += ", ";
    out += sub.name.substr(family.name.size() + 1);
  }
  return out;
}

std::string UnknownSubverb(const Verb& family, const std::string& word) {
  return StrCat("unknown ", family.name, " command \"", word, "\"; one of ",
                SubverbWords(family));
}

bool IsHelpToken(const std::string& arg) {
  return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--h";
}

const FlagSpec* FindGlobal(const std::string& name) {
  for (const FlagSpec* flag : GlobalFlags()) {
    for (const std::string& n : flag->names) {
      if (n == name) return flag;
    }
  }
  return nullptr;
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


bool ColorWanted(const CliContext& context) {
  const std::optional<std::string> no_color = context.env("NO_COLOR");
  return context.stdout_is_tty && (!no_color.has_value() || no_color->empty());
}

// Connection flags a line gave.
client::ConnectionFlags ConnectionOf(const ParsedArgs& parsed) {
  client::ConnectionFlags connection;
  connection.master = parsed.Get("master");
  connection.token = parsed.Get("token");
  connection.token_file = parsed.Get("token-file");
  return connection;
}

int RunShellVerbWord(const std::vector<std::string>& rest, std::ostream& out, std::ostream& err,
                     const CliContext& context) {
  ParseSpec spec;
  spec.flags = GlobalFlags();
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, spec);
  if (!parsed.ok()) {
    err << "error: " << std::string(parsed.status().message()) << "\n"
        << "usage: cloudai [--master HOST:PORT] [--token T | --token-file F] shell\n";
    return kExitUsage;
  }
  if (parsed->Has("h")) {
    out << ShellHelp();
    return kExitOk;
  }
  absl::StatusOr<client::ClientOptions> options =
      client::ResolveClientOptions(ConnectionOf(*parsed), context.env);
  if (!options.ok()) {
    err << "error: " << std::string(options.status().message()) << "\n";
    return kExitUsage;
  }
  client::ClusterClient client(*options);
  return RunShell(client, context, out, err);
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const CliContext& context, const Mode& mode) {
  // Find the verb: the first word that is neither a global flag nor a global flag's value.
  size_t verb_index = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      verb_index = i;
      break;
    }
    if (IsHelpToken(arg) && !mode.shell) {
      out << GeneralHelp();
      return kExitOk;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    const bool has_value = name.find('=') != std::string::npos;
    if (has_value) name.resize(name.find('='));
    const FlagSpec* flag = FindGlobal(name);
    if (flag == nullptr) return UsageError(err, StrCat("unknown flag ", arg), nullptr, mode);
    if (!flag->value_name.empty() && !has_value) ++i;
  }
  if (verb_index == args.size()) return UsageError(err, "no verb given", nullptr, mode);

  const std::string& verb_name = args[verb_index];
  if (verb_name == "help" && !mode.shell) {
    if (verb_index + 1 >= args.size()) {
      out << GeneralHelp();
      return kExitOk;
    }
    if (args[verb_index + 1] == "shell") {
      out << ShellHelp();
      return kExitOk;
    }
    const Verb* verb = FindVerb(args[verb_index + 1]);
    if (verb == nullptr) {
      return UsageError(err, StrCat("unknown verb \"", args[verb_index + 1], "\""), nullptr,
                        mode);
    }
    if (verb->subverbs != nullptr && verb_index + 2 < args.size()) {
      const Verb* sub = FindSubverb(*verb, args[verb_index + 2]);
      if (sub == nullptr) {
        return UsageError(err, UnknownSubverb(*verb, args[verb_index + 2]), verb, mode);
      }
      verb = sub;
    }
    out << VerbHelp(*verb, mode);
    return kExitOk;
  }
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i != verb_index) rest.push_back(args[i]);
  }
  if (verb_name == "shell" && !mode.shell) return RunShellVerbWord(rest, out, err, context);
  const Verb* verb = FindVerb(verb_name);
  if (verb == nullptr) {
    return UsageError(
        err, StrCat(mode.shell ? "unknown command \"" : "unknown verb \"", verb_name, "\""),
        nullptr, mode);
  }
  if (verb->subverbs != nullptr) {
    // The member is the first word that is neither a global flag nor its value.
    size_t sub_index = rest.size();
    bool help = false;
    for (size_t i = 0; i < rest.size(); ++i) {
      const std::string& arg = rest[i];
      if (arg.size() < 2 || arg[0] != '-') {
        sub_index = i;
        break;
      }
      if (IsHelpToken(arg)) {
        help = true;
        continue;
      }
      std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
      const bool has_value = name.find('=') != std::string::npos;
      if (has_value) name.resize(name.find('='));
      const FlagSpec* flag = FindGlobal(name);
      if (flag == nullptr) break;  // a member's flag before the member
      if (!flag->value_name.empty() && !has_value) ++i;
    }
    if (sub_index == rest.size()) {
      if (help) {
        out << VerbHelp(*verb, mode);
        return kExitOk;
      }
      return UsageError(err, StrCat("missing command: ", SubverbWords(*verb)), verb, mode);
    }
    const Verb* sub = FindSubverb(*verb, rest[sub_index]);
    if (sub == nullptr) return UsageError(err, UnknownSubverb(*verb, rest[sub_index]), verb, mode);
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(sub_index));
    verb = sub;
  }

  ParseSpec spec;
  spec.flags = verb->flags;
  for (const FlagSpec* flag : GlobalFlags()) spec.flags.push_back(flag);
  spec.positional_names = verb->positional_names;
  spec.min_positional = verb->min_positional;
  spec.max_positional = verb->positional_names.size();
  spec.takes_command = verb->takes_command;
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, spec);
  if (!parsed.ok()) {
    // `cloudai task --help` is help, whatever else is missing.
    for (const std::string& arg : rest) {
      if (arg == "--") break;
      if (IsHelpToken(arg)) {
        out << VerbHelp(*verb, mode);
        return kExitOk;
      }
    }
    return UsageError(err, std::string(parsed.status().message()), verb, mode);
  }
  if (parsed->Has("h")) {
    out << VerbHelp(*verb, mode);
    return kExitOk;
  }

  bool json = false;
  if (std::optional<std::string> format = parsed->Get("o")) {
    if (*format == "json") {
      json = true;
    } else if (*format != "table") {
      return UsageError(err, StrCat("-o: \"", *format, "\" is not table or json"), verb, mode);
    }
  }

  const client::ConnectionFlags connection = ConnectionOf(*parsed);
  std::optional<client::ClusterClient> own_client;
  client::ClusterClient* client = mode.client;
  if (mode.shell) {
    if (connection.master || connection.token || connection.token_file) {
      return UsageError(err,
                        "--master, --token and --token-file are given when the shell starts",
                        verb, mode);
    }
  } else {
    absl::StatusOr<client::ClientOptions> options =
        client::ResolveClientOptions(connection, context.env);
    if (!options.ok()) {
      err << "error: " << std::string(options.status().message()) << "\n";
      return kExitUsage;
    }
    own_client.emplace(*options);
    client = &*own_client;
  }

  Invocation inv{*parsed, out, err, *client, false, RenderOptions()};
  inv.json = json;
  inv.render.color = ColorWanted(context);
  inv.render.now_ms = context.now_ms ? context.now_ms() : WallNowMs();
  inv.in_shell = mode.shell;
  inv.created_task_id = mode.created_task_id;
  inv.in = context.in;
  const VerbResult result = verb->run(inv);
  out.flush();
  if (!result.usage_error.empty()) return UsageError(err, result.usage_error, verb, mode);
  return result.exit_code;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliContext& context) {
  return Run(args, out, err, context, Mode());
}

int RunShellVerb(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 const CliContext& context, client::ClusterClient& client,
                 std::string* created_task_id) {
  Mode mode;
  mode.shell = true;
  mode.client = &client;
  mode.created_task_id = created_task_id;
  return Run(args, out, err, context, mode);
}

std::string ShellVerbHelp(const std::string& name) {
  // "alloc request": a member of a family.
  const size_t space = name.find(' ');
  const Verb* verb = FindVerb(name.substr(0, space));
  if (verb == nullptr) return "";
  if (space != std::string::npos) {
    verb = FindSubverb(*verb, name.substr(space + 1));
    if (verb == nullptr) return "";
  }
  Mode mode;
  mode.shell = true;
  return VerbHelp(*verb, mode);
}

}  // namespace cloudai::cli
