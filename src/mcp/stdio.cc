#include "mcp/stdio.h"

#include <string>

#include "common/strings.h"
#include "mcp/schema.h"

namespace cloudai::mcp {
namespace {

// Reads one line (without its '\n') into `line`; false at the end of `in` with nothing
// read. A line longer than `max` is consumed to its end, `line` keeps its first `max`
// bytes and `too_long` is set.
bool ReadLine(std::istream& in, size_t max, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return false;
  bool any = false;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (line->size() < max) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
}

// A short form of a reply for the log.
std::string Brief(const Json& reply) {
  if (auto error = reply.find("error"); error != reply.end() && error->is_object()) {
    return StrCat("error ", DumpJson(error->value("code", Json(0))), ": ",
                  error->value("message", ""));
  }
  return "";
}

}  // namespace

int RunStdio(Backend& backend, std::istream& in, std::ostream& out, std::ostream& log) {
  return RunStdio(backend, in, out, log, StdioOptions{});
}

int RunStdio(Backend& backend, std::istream& in, std::ostream& out, std::ostream& log,
             const StdioOptions& options) {
  Session session(backend, options.server);
  log << "cloudai mcp: serving MCP on stdio (protocol " << kProtocolVersions[0] << ", "
      << kProtocolVersions[1] << ")" << std::endl;
  std::string line;
  bool too_long = false;
  int64_t line_number = 0;
  while (ReadLine(in, options.max_line_bytes, &line, &too_long)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::optional<Json> reply;
    if (too_long) {
      reply = ErrorResponse(nullptr, kInvalidRequest,
                            StrCat("the message is longer than ", options.max_line_bytes,
                                   " bytes"));
    } else if (StripWhitespace(line).empty()) {
      continue;
    } else {
      reply = session.HandleText(line);
    }
    if (!reply) continue;
    if (std::string brief = Brief(*reply); !brief.empty()) {
      log << "cloudai mcp: line " << line_number << ": " << brief << std::endl;
    } else if (auto result = reply->find("result");
               result != reply->end() && result->is_object() && result->value("isError", false)) {
      std::string text;
      if (auto content = result->find("content");
          content != result->end() && content->is_array() && !content->empty()) {
        text = (*content)[0].value("text", "");
      }
      log << "cloudai mcp: tool error: " << text << std::endl;
    }
    out << DumpJson(*reply) << '\n';
    out.flush();
    if (!out) {
      log << "cloudai mcp: the output is closed; stopping" << std::endl;
      return 1;
    }
  }
  log << "cloudai mcp: end of input; stopping" << std::endl;
  return 0;
}

}  // namespace cloudai::mcp
