#include "client/client_options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/strings.h"

namespace cloudai::client {
namespace {

bool NonEmpty(const std::optional<std::string>& v) { return v.has_value() && !v->empty(); }

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(StrCat(path, ": no such file"));
    return absl::FailedPreconditionError(
        StrCat("cannot read token file ", path, ": ", std::strerror(err)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::FailedPreconditionError(StrCat("cannot read token file ", path));
  }
  const std::string token(StripWhitespace(contents.str()));
  if (token.empty()) {
    return absl::FailedPreconditionError(StrCat("token file ", path, " is empty"));
  }
  return token;
}

absl::StatusOr<ClientOptions> ResolveClientOptions(const ConnectionFlags& flags,
                                                   const EnvLookup& env) {
  ClientOptions options;

  if (flags.master.has_value()) {
    const std::string master(StripWhitespace(*flags.master));
    if (master.empty()) return absl::InvalidArgumentError("--master: empty address");
    options.master_address = master;
  } else if (std::optional<std::string> m = env("CLOUDAI_MASTER"); NonEmpty(m)) {
    options.master_address = std::string(StripWhitespace(*m));
  }

  if (flags.token.has_value()) {
    options.token = std::string(StripWhitespace(*flags.token));
    if (options.token.empty()) return absl::InvalidArgumentError("--token: empty token");
    options.token_source = "--token";
    return options;
  }
  if (flags.token_file.has_value()) {
    if (flags.token_file->empty()) {
      return absl::InvalidArgumentError("--token-file: empty path");
    }
    absl::StatusOr<std::string> token = ReadTokenFile(*flags.token_file);
    if (!token.ok()) {
      if (absl::IsNotFound(token.status())) {
        return absl::FailedPreconditionError(
            StrCat("--token-file: ", *flags.token_file, " does not exist"));
      }
      return absl::FailedPreconditionError(
          StrCat("--token-file: ", std::string(token.status().message())));
    }
    options.token = *std::move(token);
    options.token_source = StrCat("--token-file ", *flags.token_file);
    return options;
  }
  if (std::optional<std::string> t = env("CLOUDAI_TOKEN"); t.has_value()) {
    options.token = std::string(StripWhitespace(*t));
    if (!options.token.empty()) {
      options.token_source = "CLOUDAI_TOKEN";
      return options;
    }
  }

  std::vector<std::string> candidates;
  if (std::optional<std::string> dir = env("CLOUDAI_STATE_DIR"); NonEmpty(dir)) {
    std::string path = *dir;
    if (path.back() != '/') path.push_back('/');
    candidates.push_back(StrCat(path, "admin.token"));
  }
  candidates.push_back("./cloudai-state/admin.token");
  for (const std::string& path : candidates) {
    absl::StatusOr<std::string> token = ReadTokenFile(path);
    if (token.ok()) {
      options.token = *std::move(token);
      options.token_source = path;
      return options;
    }
    if (!absl::IsNotFound(token.status())) return token.status();
  }

  std::string looked = "--token, --token-file, CLOUDAI_TOKEN";
  for (const std::string& path : candidates) StrAppend(&looked, ", ", path);
  if (candidates.size() == 1) StrAppend(&looked, " (CLOUDAI_STATE_DIR is not set)");
  return absl::NotFoundError(
      StrCat("no admin token found; looked at ", looked,
             ". Pass --token or --token-file, or set CLOUDAI_TOKEN or CLOUDAI_STATE_DIR"));
}

}  // namespace cloudai::client
