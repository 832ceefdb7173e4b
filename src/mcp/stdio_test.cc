#include "mcp/stdio.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "mcp/fake_backend.h"

namespace cloudai::mcp {
namespace {

using ::testing::HasSubstr;

std::vector<Json> Lines(const std::string& out) {
  std::vector<Json> replies;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    Json reply = Json::parse(line, nullptr, false);
    EXPECT_FALSE(reply.is_discarded()) << "stdout carries only JSON-RPC messages: " << line;
    replies.push_back(reply);
  }
  return replies;
}

TEST(StdioTest, SessionWithGarbageInterleaved) {
  FakeBackend backend;
  std::istringstream in(
      "hello there\n"
      "\n"
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})"
      "\r\n"
      "{\"broken\": \n"
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
      "\n"
      "   \t \n"
      R"([{"jsonrpc":"2.0","id":2,"method":"ping"}])"
      "\n"
      R"({"jsonrpc":"2.0","id":3,"method":"tools/list"})"
      "\n"
      "\x01\x02\xff\n"
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_capacity","arguments":{}}})"
      "\n"
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"release_resources","arguments":{}}})"
      "\n"
      R"({"jsonrpc":"2.0","id":6,"method":"ping"})");  // last line without a newline
  std::ostringstream out;
  std::ostringstream log;
  EXPECT_EQ(RunStdio(backend, in, out, log), 0);
  const std::vector<Json> replies = Lines(out.str());
  ASSERT_EQ(replies.size(), 9u) << out.str();
  EXPECT_EQ(replies[0]["error"]["code"], kParseError);
  EXPECT_TRUE(replies[0]["id"].is_null());
  EXPECT_EQ(replies[1]["id"], 1);
  EXPECT_EQ(replies[1]["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(replies[2]["error"]["code"], kParseError);
  EXPECT_EQ(replies[3]["error"]["code"], kInvalidRequest);  // batch
  EXPECT_EQ(replies[4]["id"], 3);
  EXPECT_EQ(replies[4]["result"]["tools"].size(), 12u);
  EXPECT_EQ(replies[5]["error"]["code"], kParseError);
  EXPECT_EQ(replies[6]["id"], 4);
  EXPECT_EQ(replies[6]["result"]["isError"], false);
  EXPECT_EQ(replies[7]["id"], 5);
  EXPECT_EQ(replies[7]["result"]["isError"], true);
  EXPECT_EQ(replies[8]["id"], 6);
  EXPECT_THAT(log.str(), HasSubstr("serving MCP on stdio"));
  EXPECT_THAT(log.str(), HasSubstr("line 1: error -32700"));
  EXPECT_THAT(log.str(), HasSubstr("tool error: Invalid arguments for release_resources"));
  EXPECT_THAT(log.str(), HasSubstr("end of input"));
}

TEST(StdioTest, OverlongLineIsAnsweredAndSkipped) {
  FakeBackend backend;
  StdioOptions options;
  options.max_line_bytes = 64;
  std::istringstream in(std::string(1000, 'x') + "\n" +
                        R"({"jsonrpc":"2.0","id":1,"method":"ping"})" + "\n");
  std::ostringstream out;
  std::ostringstream log;
  EXPECT_EQ(RunStdio(backend, in, out, log, options), 0);
  const std::vector<Json> replies = Lines(out.str());
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]["error"]["code"], kInvalidRequest);
  EXPECT_THAT(replies[0]["error"]["message"].get<std::string>(), HasSubstr("64 bytes"));
  EXPECT_EQ(replies[1]["id"], 1);
}

TEST(StdioTest, EmptyInputEndsAtOnce) {
  FakeBackend backend;
  std::istringstream in("");
  std::ostringstream out;
  std::ostringstream log;
  EXPECT_EQ(RunStdio(backend, in, out, log), 0);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace cloudai::mcp
