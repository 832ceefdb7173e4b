#include "mcp/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "mcp/fake_backend.h"
#include "mcp/tools.h"

namespace cloudai::mcp {
namespace {

using ::testing::HasSubstr;

class ServerTest : public ::testing::Test {
 protected:
  Json Send(const std::string& text) {
    std::optional<Json> reply = session_.HandleText(text);
    EXPECT_TRUE(reply.has_value()) << text;
    return reply.value_or(Json());
  }

  void Initialize(const std::string& version = "2025-11-25") {
    const Json reply = Send(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":")" + version + R"(","capabilities":{},
        "clientInfo":{"name":"test","version":"1"}}})");
    ASSERT_TRUE(reply.contains("result")) << DumpJson(reply);
    EXPECT_FALSE(session_.HandleText(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  }

  int ErrorCode(const Json& reply) { return reply["error"].value("code", 0); }

  FakeBackend backend_;
  Session session_{backend_};
};

TEST_F(ServerTest, InitializeNegotiatesTheVersion) {
  Json reply = Send(R"({"jsonrpc":"2.0","id":"a","method":"initialize","params":{
      "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
  EXPECT_EQ(reply["id"], "a");
  const Json& result = reply["result"];
  EXPECT_EQ(result["protocolVersion"], "2025-06-18");
  EXPECT_EQ(result["serverInfo"]["name"], "cloudai");
  EXPECT_FALSE(result["serverInfo"]["version"].get<std::string>().empty());
  EXPECT_EQ(result["capabilities"]["tools"]["listChanged"], false);
  EXPECT_THAT(result["instructions"].get<std::string>(), HasSubstr("request_resources"));
  EXPECT_EQ(session_.protocol_version(), "2025-06-18");
  EXPECT_EQ(session_.client_name(), "c");

  // Once is enough.
  reply = Send(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
}

TEST_F(ServerTest, UnsupportedVersionGetsTheLatest) {
  Session other(backend_);
  const Json reply = *other.HandleText(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}})");
  EXPECT_EQ(reply["result"]["protocolVersion"], "2025-11-25");
  Session third(backend_);
  EXPECT_EQ((*third.HandleText(R"({"jsonrpc":"2.0","id":1,"method":"initialize"})"))["result"]
                ["protocolVersion"],
            "2025-11-25");
}

TEST_F(ServerTest, RequestsBeforeInitializeAreRefusedExceptPing) {
  Json reply = Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(ErrorCode(reply), kNotInitialized);
  EXPECT_THAT(reply["error"]["message"].get<std::string>(), HasSubstr("initialize"));
  reply = Send(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  EXPECT_EQ(reply["result"], Json::object());
  EXPECT_FALSE(session_.initialized());
}

TEST_F(ServerTest, ToolsListAndCall) {
  Initialize();
  EXPECT_TRUE(session_.initialized());
  Json reply = Send(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"x"}})");
  EXPECT_EQ(reply["result"]["tools"].size(), 12u);
  EXPECT_FALSE(reply["result"].contains("nextCursor"));
  reply = Send(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_capacity"}})");
  EXPECT_EQ(reply["id"], 3);
  EXPECT_EQ(reply["result"]["isError"], false);
  EXPECT_EQ(reply["result"]["structuredContent"]["workers_total"], 2);
  reply = Send(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"request_resources",
      "arguments":{"job_id":"j","workers":5000}}})");
  EXPECT_EQ(reply["result"]["isError"], true);
  EXPECT_THAT(reply["result"]["content"][0]["text"].get<std::string>(),
              HasSubstr("workers: 5000 is above the maximum of 1000"));
}

TEST_F(ServerTest, ProtocolErrors) {
  Initialize();
  Json reply = Send("{not json");
  EXPECT_EQ(ErrorCode(reply), kParseError);
  EXPECT_TRUE(reply["id"].is_null());
  reply = Send(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  EXPECT_TRUE(reply["id"].is_null());
  reply = Send(R"("just a string")");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  reply = Send(R"({"id":5,"method":"ping"})");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  EXPECT_EQ(reply["id"], 5);
  reply = Send(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  EXPECT_TRUE(reply["id"].is_null());
  reply = Send(R"({"jsonrpc":"2.0","id":6,"method":7})");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  reply = Send(R"({"jsonrpc":"2.0","id":7})");
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  reply = Send(R"({"jsonrpc":"2.0","id":8,"method":"resources/list"})");
  EXPECT_EQ(ErrorCode(reply), kMethodNotFound);
  EXPECT_THAT(reply["error"]["message"].get<std::string>(), HasSubstr("resources/list"));
  reply = Send(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"launch_rockets"}})");
  EXPECT_EQ(ErrorCode(reply), kInvalidParams);
  EXPECT_THAT(reply["error"]["message"].get<std::string>(),
              HasSubstr("Unknown tool: launch_rockets (the tools are request_resources"));
  reply = Send(R"({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{}})");
  EXPECT_EQ(ErrorCode(reply), kInvalidParams);
  reply = Send(R"({"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"get_task","arguments":[1]}})");
  EXPECT_EQ(ErrorCode(reply), kInvalidParams);
  reply = Send(R"({"jsonrpc":"2.0","id":12,"method":"tools/list","params":[1]})");
  EXPECT_EQ(ErrorCode(reply), kInvalidParams);
  reply = Send(std::string(200, '[') + std::string(200, ']'));
  EXPECT_EQ(ErrorCode(reply), kInvalidRequest);
  reply = Send("\"\xff\"");
  EXPECT_EQ(ErrorCode(reply), kParseError);
  // Still serving.
  reply = Send(R"({"jsonrpc":"2.0","id":13,"method":"ping"})");
  EXPECT_EQ(reply["result"], Json::object());
}

TEST_F(ServerTest, NotificationsAndResponsesGetNoReply) {
  Initialize();
  EXPECT_FALSE(session_.HandleText(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})"));
  EXPECT_FALSE(session_.HandleText(R"({"jsonrpc":"2.0","method":"some/unknown"})"));
  EXPECT_FALSE(session_.HandleText(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
  EXPECT_FALSE(session_.HandleText(R"({"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"x"}})"));
}

TEST_F(ServerTest, ClassifyAndErrorResponse) {
  EXPECT_EQ(Classify(Json::parse(R"({"method":"a","id":1})")), MessageKind::kRequest);
  EXPECT_EQ(Classify(Json::parse(R"({"method":"a"})")), MessageKind::kNotification);
  EXPECT_EQ(Classify(Json::parse(R"({"id":1,"result":{}})")), MessageKind::kResponse);
  EXPECT_EQ(Classify(Json::parse(R"([1])")), MessageKind::kInvalid);
  const Json e = ErrorResponse(Json(true), kInternalError, "x");
  EXPECT_TRUE(e["id"].is_null());
  EXPECT_EQ(e["jsonrpc"], "2.0");
  EXPECT_TRUE(IsSupportedProtocolVersion("2025-06-18"));
  EXPECT_FALSE(IsSupportedProtocolVersion("2025-03-26"));
}

// Mutated messages and arguments of every type: always a reply or none, never a throw.
TEST_F(ServerTest, GarbageNeverThrows) {
  Initialize();
  const std::vector<std::string> seeds = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"request_resources","arguments":{"job_id":"j","workers":2,"metadata":{"a":"b"},"services":["x"]}}})",
      R"({"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"cursor":"c"}})",
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_task_logs","arguments":{"task_id":"t","offset":5}}})",
  };
  std::mt19937 rng(12345);
  std::string alphabet = "{}[]\":,0123456789.-eE truefalsn\\abc";
  alphabet += std::string("\0\xff\xc3", 3);
  for (int i = 0; i < 5000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: text.resize(at); break;
      }
    }
    std::optional<Json> reply;
    ASSERT_NO_THROW(reply = session_.HandleText(text)) << text;
    if (reply) {
      EXPECT_EQ((*reply)["jsonrpc"], "2.0") << text;
      EXPECT_NO_THROW(DumpJson(*reply));
    }
  }
  // Every argument of every tool with values of every type.
  const std::vector<Json> values = {Json(nullptr), Json(true), Json(-1), Json(0), Json(1e300),
                                    Json(-1e300), Json(0.5), Json("x"), Json(""),
                                    Json::array({1, "a"}), Json::parse(R"({"k":{"n":1}})")};
  for (const Tool& tool : Tools()) {
    for (auto p = tool.input_schema["properties"].begin();
         p != tool.input_schema["properties"].end(); ++p) {
      for (const Json& v : values) {
        Json args = Json::object();
        args[p.key()] = v;
        Json result;
        ASSERT_NO_THROW(result = CallTool(backend_, tool, args)) << tool.name << " " << p.key();
        EXPECT_TRUE(result.contains("content"));
      }
    }
  }
}

}  // namespace
}  // namespace cloudai::mcp
