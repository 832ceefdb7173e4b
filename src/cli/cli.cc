#include "cli/cli.h"

#include <chrono>
#include <optional>

#include "cli/args.h"
#include "cli/render.h"
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

std::string VerbUsageLine(const Verb& verb) {
  std::string line = StrCat("cloudai ", verb.name);
  if (!verb.synopsis.empty()) StrAppend(&line, " ", verb.synopsis);
  return line;
}

std::string GeneralHelp() {
  std::string out = StrCat("usage: ", kSynopsis, "\n\nVerbs:\n");
  size_t width = 0;
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Verb& verb : Verbs()) {
    std::string left = verb.name;
    for (const std::string& alias : verb.aliases) StrAppend(&left, " (", alias, ")");
    if (!verb.synopsis.empty()) StrAppend(&left, " ", verb.synopsis);
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), verb.summary);
  }
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

std::string VerbHelp(const Verb& verb) {
  std::string out = StrCat("usage: ", VerbUsageLine(verb), "\n\n", verb.summary, "\n");
  if (!verb.details.empty()) StrAppend(&out, "\n", verb.details, "\n");
  if (!verb.flags.empty()) StrAppend(&out, "\nFlags:\n", FlagHelp(verb.flags));
  StrAppend(&out, "\nGlobal flags:\n", FlagHelp(GlobalFlags()));
  return out;
}

int UsageError(std::ostream& err, const std::string& message, const Verb* verb) {
  err << "error: " << message << "\n";
  if (verb != nullptr) {
    err << "usage: " << VerbUsageLine(*verb) << "\n"
        << "Run 'cloudai help " << verb->name << "' for its flags.\n";
  } else {
    err << "usage: " << kSynopsis << "\n"
        << "Run 'cloudai help' for the verbs.\n";
  }
  return kExitUsage;
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

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliContext& context) {
  // Find the verb: the first word that is neither a global flag nor a global flag's value.
  size_t verb_index = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      verb_index = i;
      break;
    }
    if (IsHelpToken(arg)) {
      out << GeneralHelp();
      return kExitOk;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    const bool has_value = name.find('=') != std::string::npos;
    if (has_value) name.resize(name.find('='));
    const FlagSpec* flag = FindGlobal(name);
    if (flag == nullptr) return UsageError(err, StrCat("unknown flag ", arg), nullptr);
    if (!flag->value_name.empty() && !has_value) ++i;
  }
  if (verb_index == args.size()) return UsageError(err, "no verb given", nullptr);

  const std::string& verb_name = args[verb_index];
  if (verb_name == "help") {
    if (verb_index + 1 >= args.size()) {
      out << GeneralHelp();
      return kExitOk;
    }
    const Verb* verb = FindVerb(args[verb_index + 1]);
    if (verb == nullptr) {
      return UsageError(err, StrCat("unknown verb \"", args[verb_index + 1], "\""), nullptr);
    }
    out << VerbHelp(*verb);
    return kExitOk;
  }
  const Verb* verb = FindVerb(verb_name);
  if (verb == nullptr) {
    return UsageError(err, StrCat("unknown verb \"", verb_name, "\""), nullptr);
  }

  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i != verb_index) rest.push_back(args[i]);
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
        out << VerbHelp(*verb);
        return kExitOk;
      }
    }
    return UsageError(err, std::string(parsed.status().message()), verb);
  }
  if (parsed->Has("h")) {
    out << VerbHelp(*verb);
    return kExitOk;
  }

  bool json = false;
  if (std::optional<std::string> format = parsed->Get("o")) {
    if (*format == "json") {
      json = true;
    } else if (*format != "table") {
      return UsageError(err, StrCat("-o: \"", *format, "\" is not table or json"), verb);
    }
  }

  client::ConnectionFlags connection;
  connection.master = parsed->Get("master");
  connection.token = parsed->Get("token");
  connection.token_file = parsed->Get("token-file");
  absl::StatusOr<client::ClientOptions> options =
      client::ResolveClientOptions(connection, context.env);
  if (!options.ok()) {
    err << "error: " << std::string(options.status().message()) << "\n";
    return kExitUsage;
  }

  client::ClusterClient client(*options);
  const std::optional<std::string> no_color = context.env("NO_COLOR");
  Invocation inv{*parsed, out, err, client, false, RenderOptions()};
  inv.json = json;
  inv.render.color = context.stdout_is_tty && (!no_color.has_value() || no_color->empty());
  inv.render.now_ms = context.now_ms ? context.now_ms() : WallNowMs();
  const VerbResult result = verb->run(inv);
  out.flush();
  if (!result.usage_error.empty()) return UsageError(err, result.usage_error, verb);
  return result.exit_code;
}

}  // namespace cloudai::cli
