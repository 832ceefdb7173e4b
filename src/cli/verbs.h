// The verbs of the `cloudai` command: their flags, help text, and one function each that
// makes the call and prints the reply.
//
// Thread safety: the verb table is immutable; each verb function uses only its Invocation.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/args.h"
#include "cli/render.h"
#include "client/cluster_client.h"

namespace cloudai::cli {

// Everything a verb needs for one run.
struct Invocation {
  const ParsedArgs& args;
  std::ostream& out;
  std::ostream& err;
  client::ClusterClient& client;
  bool json = false;
  RenderOptions render;
  // Run inside `cloudai shell`: hints name the shell's commands ("monitor <id>").
  bool in_shell = false;
  // When set, `task` and `submit` store the id of the task they created here.
  std::string* created_task_id = nullptr;
  // The command's standard input (`cloudai mcp` reads its protocol messages from it);
  // nullptr: none.
  std::istream* in = nullptr;
};

// What a verb returns: an exit code, or a usage error (its message) that the caller prints
// with the verb's usage line.
struct VerbResult {
  int exit_code = 0;
  std::string usage_error;
};

struct Verb {
  std::string name = {};
  std::vector<std::string> aliases = {};
  std::string synopsis = {};  // after "cloudai <name> "
  std::string summary = {};   // one line
  std::string details = {};   // paragraphs for `cloudai help <verb>`
  std::vector<const FlagSpec*> flags = {};
  std::vector<std::string> positional_names = {};
  size_t min_positional = 0;
  bool takes_command = false;
  VerbResult (*run)(Invocation& inv) = nullptr;
  // A verb family (`alloc`): the word after the verb picks one of these, whose `name` is
  // the whole command ("alloc request"); `run` is unused.
  const std::vector<Verb>* subverbs = nullptr;
};

// Every verb, in the order help lists them.
const std::vector<Verb>& Verbs();
// The verb named `name` (or one of its aliases), or nullptr.
const Verb* FindVerb(const std::string& name);
// The left column of a help listing: "name (alias) synopsis"; for a family member,
// "alloc request <job_id> [flags]".
std::string HelpLeftColumn(const Verb& verb);
// The member of `family` named by `word` ("request" in `alloc request`), or nullptr.
const Verb* FindSubverb(const Verb& family, const std::string& word);

// The `alloc` family (alloc_verbs.cc): request, release, get, list, extend, capacity,
// cleanup.
const std::vector<Verb>& AllocVerbs();
// `cloudai mcp` (mcp_backend.cc).
VerbResult RunMcp(Invocation& inv);

// Flags accepted by every verb, before or after it.
const std::vector<const FlagSpec*>& GlobalFlags();

// Prints `status` as the master's refusal or as unreachable; returns the exit code.
int ReportFailure(const absl::Status& status, const Invocation& inv);
// The same for a call made outside a verb (the shell's live views).
int ReportFailure(const absl::Status& status, const client::ClusterClient& client,
                  std::ostream& err);

}  // namespace cloudai::cli
