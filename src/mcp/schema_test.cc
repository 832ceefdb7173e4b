#include "mcp/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mcp/schema_builder.h"

namespace cloudai::mcp {
namespace {

using ::testing::HasSubstr;
using namespace schema;  // NOLINT

Json Sample() {
  return Object({Req("job_id", String("who it is for", 1, 8)),
                 Opt("workers", Integer("slots", 1, 1000)),
                 Opt("cpu_cores", Number("cores", 0.001, 64)),
                 Opt("priority", Enum("order", {"low", "normal"})),
                 Opt("services", ArrayOf(String("", 1, 16), "names", 2)),
                 Opt("metadata", MapOf(String("", std::nullopt, 4), "pairs", 2)),
                 Opt("slot", Object({Req("cpu", Integer())}, true)),
                 Opt("wait", Boolean())},
                true);
}

TEST(SchemaTest, AcceptsConformingValues) {
  EXPECT_EQ(CheckValue(Sample(), Json::parse(R"({"job_id": "j"})")), "");
  EXPECT_EQ(CheckValue(Sample(), Json::parse(R"({"job_id": "j", "workers": 2.0, "cpu_cores": 1.5,
      "priority": "low", "services": ["a"], "metadata": {"k": "v"}, "slot": {"cpu": 1},
      "wait": false})")),
            "");
}

TEST(SchemaTest, NamesTheFieldAndTheLimit) {
  const Json s = Sample();
  EXPECT_EQ(CheckValue(s, Json::parse(R"({})")), "job_id: is required (who it is for)");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "workers": 0})")),
            "workers: 0 is below the minimum of 1");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "workers": 1001})")),
            "workers: 1001 is above the maximum of 1000");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "workers": 1.5})")),
            "workers: must be an integer, not a number (1.5)");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "workers": "2"})")),
            "workers: must be an integer, not a string (\"2\")");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "priority": "urgent"})")),
            "priority: \"urgent\" is not one of low, normal");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": ""})")), "job_id: is empty; give a value");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "123456789"})")),
            "job_id: is 9 characters long; the maximum is 8");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "services": ["a", "b", "c"]})")),
            "services: has 3 items; the maximum is 2");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "services": ["a", 3]})")),
            "services[1]: must be a string, not an integer (3)");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "metadata": {"k": "12345"}})")),
            "metadata.k: is 5 characters long; the maximum is 4");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "metadata": {"a": "", "b": "", "c": ""}})")),
            "metadata: has 3 entries; the maximum is 2");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "slot": {"cpu": 1, "x": 2}})")),
            "slot.x: unknown field; the fields are cpu");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "slot": {}})")), "slot.cpu: is required");
  EXPECT_THAT(CheckValue(s, Json::parse(R"({"job_id": "j", "foo": 1})")),
              HasSubstr("foo: unknown argument; the arguments are job_id, workers, cpu_cores"));
  EXPECT_EQ(CheckValue(s, Json::parse(R"([1])")), "arguments: must be an object, not an array");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"job_id": "j", "wait": "yes"})")),
            "wait: must be a boolean, not a string (\"yes\")");
}

TEST(SchemaTest, NoArgumentsSchema) {
  const Json s = Object({}, true);
  EXPECT_EQ(CheckValue(s, Json::object()), "");
  EXPECT_EQ(CheckValue(s, Json::parse(R"({"a": 1})")),
            "a: unknown argument; this tool takes no arguments");
}

TEST(SchemaTest, LengthsCountCharactersNotBytes) {
  const Json s = String("", std::nullopt, 2);
  EXPECT_EQ(CheckValue(s, Json("\xc3\xa9\xc3\xa9")), "");  // two characters, four bytes
}

TEST(SchemaTest, ClosedObjectsOption) {
  const Json s = Object({Req("a", Integer())});
  const Json v = Json::parse(R"({"a": 1, "b": 2})");
  EXPECT_EQ(CheckValue(s, v), "");
  SchemaCheckOptions closed;
  closed.closed_objects = true;
  EXPECT_EQ(CheckValue(s, v, "", closed), "b: unknown argument; the arguments are a");
}

TEST(SchemaTest, DumpReplacesInvalidUtf8) {
  EXPECT_EQ(DumpJson(Json("a\xff")), "\"a\xef\xbf\xbd\"");
  EXPECT_EQ(JsonTypeName(Json(1)), "integer");
  EXPECT_EQ(JsonTypeName(Json(1.5)), "number");
  EXPECT_EQ(JsonTypeName(Json(nullptr)), "null");
}

}  // namespace
}  // namespace cloudai::mcp
