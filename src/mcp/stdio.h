// The MCP stdio transport: newline-delimited JSON-RPC messages on a pair of streams
// (`cloudai mcp` runs it on its standard input and output).
//
// Each line of `in` is one message; its reply, if any, is written to `out` as one line
// and flushed. `out` carries nothing but protocol messages; what the server has to say
// (its start, lines it could not read, tools that failed) goes to `log`. Blank lines are
// skipped; a line that is not JSON is answered with a -32700 error (id null) and the loop
// goes on. Messages are handled one at a time, in order.
//
// Thread safety: one call per set of streams; the Backend is used from the calling
// thread.
#pragma once

#include <cstddef>
#include <istream>
#include <ostream>

#include "mcp/backend.h"
#include "mcp/server.h"

namespace cloudai::mcp {

struct StdioOptions {
  ServerOptions server;
  // A longer line is answered with a -32600 error and skipped.
  size_t max_line_bytes = size_t{16} << 20;
};

// Serves one MCP session until `in` reaches its end. Returns 0 then, or 1 when `out`
// fails (the client has gone away).
int RunStdio(Backend& backend, std::istream& in, std::ostream& out, std::ostream& log);
int RunStdio(Backend& backend, std::istream& in, std::ostream& out, std::ostream& log,
             const StdioOptions& options);

}  // namespace cloudai::mcp
