#include "master/http/router.h"

#include <gtest/gtest.h>

namespace cloudai::master::http {
namespace {

HttpResponse Text(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

HttpRequest Request(std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  EXPECT_TRUE(ParseTarget(request.target, &request.path, &request.query).ok());
  return request;
}

TEST(RouterTest, MatchesPatternsAndCaptures) {
  Router router;
  router.Add("GET", "/api/v1/tasks", [](const HttpRequest&) { return Text("list"); });
  router.Add("GET", "/api/v1/tasks/{id}",
             [](const HttpRequest& r) { return Text("get " + r.params.at("id")); });
  router.Add("POST", "/api/v1/tasks/{id}/cancel",
             [](const HttpRequest& r) { return Text("cancel " + r.params.at("id")); });
  router.Add("GET", "/static/{path...}",
             [](const HttpRequest& r) { return Text("file " + r.params.at("path")); });

  HttpRequest list = Request("GET", "/api/v1/tasks?limit=5&status=running");
  EXPECT_EQ(router.Dispatch(list).body, "list");
  EXPECT_EQ(list.Query("limit"), "5");
  EXPECT_EQ(list.Query("status"), "running");
  HttpRequest get = Request("GET", "/api/v1/tasks/task%2D7");
  EXPECT_EQ(router.Dispatch(get).body, "get task-7");
  HttpRequest cancel = Request("POST", "/api/v1/tasks/t1/cancel");
  EXPECT_EQ(router.Dispatch(cancel).body, "cancel t1");
  HttpRequest file = Request("GET", "/static/js/app.js");
  EXPECT_EQ(router.Dispatch(file).body, "file js/app.js");
  HttpRequest head = Request("HEAD", "/api/v1/tasks");
  EXPECT_EQ(router.Dispatch(head).body, "list");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405) {
  Router router;
  router.Add("GET", "/api/v1/tasks/{id}", [](const HttpRequest&) { return Text("x"); });
  HttpRequest missing = Request("GET", "/api/v1/nothing");
  EXPECT_EQ(router.Dispatch(missing).status, 404);
  HttpRequest empty_id = Request("GET", "/api/v1/tasks/");
  EXPECT_EQ(router.Dispatch(empty_id).status, 404);
  HttpRequest too_long = Request("GET", "/api/v1/tasks/a/b");
  EXPECT_EQ(router.Dispatch(too_long).status, 404);
  HttpRequest wrong = Request("DELETE", "/api/v1/tasks/a");
  HttpResponse response = router.Dispatch(wrong);
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "GET");
  EXPECT_NE(response.body.find("\"error\""), std::string::npos);
}

TEST(RouterTest, ParseTargetRejectsBadInput) {
  std::string path;
  std::map<std::string, std::string> query;
  EXPECT_FALSE(ParseTarget("", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("http://x/", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("/a%zz", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("/a%2", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("/a?x=%", &path, &query).ok());
  ASSERT_TRUE(ParseTarget("/a?x=1+2&y&=z&&token=a%20b", &path, &query).ok());
  EXPECT_EQ(path, "/a");
  EXPECT_EQ(query["x"], "1 2");
  EXPECT_EQ(query["y"], "");
  EXPECT_EQ(query["token"], "a b");
}

}  // namespace
}  // namespace cloudai::master::http
