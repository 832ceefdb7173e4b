#include "cli/args.h"

#include "common/strings.h"

namespace cloudai::cli {
namespace {

const FlagSpec* FindFlag(const ParseSpec& spec, const std::string& name) {
  for (const FlagSpec* flag : spec.flags) {
    for (const std::string& n : flag->names) {
      if (n == name) return flag;
    }
  }
  return nullptr;
}

bool LooksLikeFlag(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && arg != "--";
}

}  // namespace

std::optional<std::string> ParsedArgs::Get(const std::string& name) const {
  auto it = flags.find(name);
  if (it == flags.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(const std::string& name) const {
  auto it = flags.find(name);
  if (it == flags.end()) return {};
  return it->second;
}

std::string FlagDisplayName(const FlagSpec& flag) {
  const std::string& name = flag.names.front();
  // Seed 001's resource flags are written with one dash; single letters too.
  const bool one_dash = name.size() == 1 || name == "cpu_cores" || name == "mem" ||
                        name == "storage" || name == "gpu_cores";
  return StrCat(one_dash ? "-" : "--", name);
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const ParseSpec& spec) {
  ParsedArgs parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool positionals_full = parsed.positional.size() >= spec.max_positional;
    if (!parsed.command.empty()) {
      parsed.command.push_back(arg);
      continue;
    }
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && LooksLikeFlag(arg)) {
      std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
      std::optional<std::string> value;
      if (size_t eq = body.find('='); eq != std::string::npos) {
        value = body.substr(eq + 1);
        body.resize(eq);
      }
      const FlagSpec* flag = FindFlag(spec, body);
      if (flag == nullptr) {
        return absl::InvalidArgumentError(StrCat("unknown flag ", arg));
      }
      const std::string display = FlagDisplayName(*flag);
      const std::string& canonical = flag->names.front();
      if (flag->value_name.empty()) {
        if (value.has_value()) {
          return absl::InvalidArgumentError(StrCat(display, " takes no value"));
        }
        value = "";
      } else if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              StrCat(display, " needs a value (", display, " ", flag->value_name, ")"));
        }
        value = args[++i];
      }
      std::vector<std::string>& values = parsed.flags[canonical];
      if (!values.empty() && !flag->repeatable && !flag->value_name.empty() &&
          values.back() != *value) {
        return absl::InvalidArgumentError(StrCat(display, " given twice"));
      }
      values.push_back(*value);
      continue;
    }
    if (!positionals_full) {
      parsed.positional.push_back(arg);
      continue;
    }
    if (spec.takes_command) {
      parsed.command.push_back(arg);
      continue;
    }
    return absl::InvalidArgumentError(StrCat("unexpected argument \"", arg, "\""));
  }
  if (parsed.positional.size() < spec.min_positional) {
    const size_t n = parsed.positional.size();
    return absl::InvalidArgumentError(n < spec.positional_names.size()
                                          ? StrCat("missing ", spec.positional_names[n])
                                          : std::string("missing arguments"));
  }
  return parsed;
}

absl::StatusOr<std::vector<std::string>> SplitCommandLine(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < line.size()) word.push_back(line[++i]);
      continue;
    }
    if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string::npos) return absl::InvalidArgumentError("unterminated ' quote");
      word.append(line, i + 1, end - i - 1);
      i = end;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == '$' ||
             line[j + 1] == '`')) {
          ++j;
        }
        word.push_back(line[j]);
      }
      if (j >= line.size()) return absl::InvalidArgumentError("unterminated \" quote");
      i = j;
      continue;
    }
    word.push_back(c);
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace cloudai::cli
