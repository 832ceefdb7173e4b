// The MCP tools of CloudAI: their names, descriptions, input and output schemas, and what
// a call does over a Backend (docs/mcp.md lists them).
//
// A call's arguments are checked against the tool's inputSchema first; arguments that do
// not conform, and Backend errors, come back as a CallToolResult with isError true and a
// text that names the argument and the limit or repeats the master's reason. A result
// that succeeds carries `structuredContent` (conforming to the tool's outputSchema) and
// two text items: the same object as JSON, then a one-line summary.
//
// Thread safety: Tools() is built once and immutable; CallTool() may run concurrently
// (the Backend must allow it, which backend.h requires).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mcp/backend.h"
#include "mcp/schema.h"

namespace cloudai::mcp {

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;
  Json annotations;  // readOnlyHint, destructiveHint, idempotentHint, openWorldHint
  // Runs the call with arguments that conform to input_schema: the structured result,
  // or an error whose message is the isError text.
  std::function<absl::StatusOr<Json>(Backend&, const Json& arguments)> run;
  // A one-line summary of a structured result, for people.
  std::function<std::string(const Json& result)> summarize;
};

// Every tool, in the order tools/list gives them.
const std::vector<Tool>& Tools();
// nullptr when there is no tool of that name.
const Tool* FindTool(std::string_view name);

// The tools/list result: {"tools": [{name, title, description, inputSchema,
// outputSchema, annotations}, ...]}.
Json ToolListResult();

// Calls `tool` with `arguments` (any JSON value; a non-object is an isError result) and
// answers the CallToolResult. Never throws.
Json CallTool(Backend& backend, const Tool& tool, const Json& arguments);

// A CallToolResult with isError true and `text`.
Json ToolErrorResult(const std::string& text);

// Task priorities by name, as submit_task takes them (higher runs first).
int32_t TaskPriorityValue(std::string_view name);

}  // namespace cloudai::mcp
