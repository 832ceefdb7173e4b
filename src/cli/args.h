// Command-line parsing for the `cloudai` command.
//
// Flags are written `-name value`, `--name value`, `-name=value` or `--name=value` (one or
// two dashes alike, as seed 001's `-cpu_cores 1.0`); boolean flags take no value. Flags may
// appear anywhere before the command words: a verb that takes a command (`task`, `submit`)
// starts its command at the first word after its required arguments, or after `--`, and
// everything from there on belongs to the command, dashes included. Verbs without a
// command treat every word after `--` as an argument.
//
// Thread safety: free functions and plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudai::cli {

struct FlagSpec {
  std::vector<std::string> names;  // without dashes; the first is the canonical name
  std::string value_name;          // empty: a boolean flag
  std::string help;
  bool repeatable = false;
};

struct ParsedArgs {
  // Canonical flag name -> values in order (boolean flags hold "").
  std::map<std::string, std::vector<std::string>> flags;
  std::vector<std::string> positional;
  std::vector<std::string> command;  // command words, for verbs that take one

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  // The last value of a flag.
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
};

struct ParseSpec {
  std::vector<const FlagSpec*> flags;
  size_t min_positional = 0;
  size_t max_positional = 0;
  // Names of the positional arguments, for "missing <id>" errors.
  std::vector<std::string> positional_names;
  bool takes_command = false;  // words after the positionals form a command
};

// Parses `args`. Errors (INVALID_ARGUMENT) name the flag or argument at fault: unknown
// flag, missing value, value given to a boolean flag, a non-repeatable flag given twice,
// too few or too many arguments.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const ParseSpec& spec);

// Splits a command line typed in `cloudai shell` into words as a POSIX shell would, without
// expansions: blanks separate words; '...' keeps everything literally; "..." keeps
// everything but a backslash before " \ $ or `; a backslash outside quotes keeps the next
// character. INVALID_ARGUMENT for an unterminated quote.
absl::StatusOr<std::vector<std::string>> SplitCommandLine(const std::string& line);

// `name` written as the user would type it: "-o", "--master", "-cpu_cores".
std::string FlagDisplayName(const FlagSpec& flag);

}  // namespace cloudai::cli
