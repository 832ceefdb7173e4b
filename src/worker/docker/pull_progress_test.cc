#include "worker/docker/pull_progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cloudai::worker::docker {
namespace {

TEST(PullProgressTest, HumanSizeMatchesTheDockerCli) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(512), "512B");
  EXPECT_EQ(HumanSize(12345678), "12.35MB");
  EXPECT_EQ(HumanSize(40000000), "40MB");
  EXPECT_EQ(HumanSize(1500), "1.5kB");
  EXPECT_EQ(HumanSize(3'000'000'000), "3GB");
}

PullProgress Line(std::string id, std::string status, int64_t current = 0, int64_t total = 0) {
  PullProgress p;
  p.id = std::move(id);
  p.status = std::move(status);
  p.current = current;
  p.total = total;
  return p;
}

TEST(PullProgressTest, FormatsLines) {
  EXPECT_EQ(Line("3f4d90098f5b", "Downloading", 12345678, 40000000).ToString(),
            "3f4d90098f5b: Downloading 12.35MB/40MB");
  EXPECT_EQ(Line("3f4d90098f5b", "Extracting", 5000).ToString(), "3f4d90098f5b: Extracting 5kB");
  EXPECT_EQ(Line("abc", "Pulling fs layer").ToString(), "abc: Pulling fs layer");
  EXPECT_EQ(Line("", "Status: Downloaded newer image for busybox:latest").ToString(),
            "Status: Downloaded newer image for busybox:latest");
}

TEST(PullProgressTest, ParsesLinesSplitAcrossReads) {
  const std::string stream =
      "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n"
      "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"3f4d90098f5b\"}\r\n"
      "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":12345678,\"total\":40000000},"
      "\"progress\":\"[===>    ] 12.35MB/40MB\",\"id\":\"3f4d90098f5b\"}\r\n"
      "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"3f4d90098f5b\"}\r\n"
      "{\"status\":\"Digest: sha256:abc\"}\r\n"
      "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}";  // no newline
  for (size_t step : {size_t{1}, size_t{7}, size_t{64}, stream.size()}) {
    std::vector<std::string> lines;
    PullProgressParser parser([&](const PullProgress& p) { lines.push_back(p.ToString()); });
    for (size_t i = 0; i < stream.size(); i += step) {
      ASSERT_TRUE(parser.Feed(std::string_view(stream).substr(i, step)).ok()) << step;
    }
    ASSERT_TRUE(parser.Finish().ok());
    ASSERT_EQ(lines.size(), 6u) << step;
    EXPECT_EQ(lines[0], "latest: Pulling from library/busybox");
    EXPECT_EQ(lines[1], "3f4d90098f5b: Pulling fs layer");
    EXPECT_EQ(lines[2], "3f4d90098f5b: Downloading 12.35MB/40MB");
    EXPECT_EQ(lines[5], "Status: Downloaded newer image for busybox:latest");
    EXPECT_EQ(parser.last_status(), "Status: Downloaded newer image for busybox:latest");
  }
}

TEST(PullProgressTest, ErrorObjectIsAnError) {
  int progress = 0;
  PullProgressParser parser([&](const PullProgress&) { ++progress; });
  absl::Status s = parser.Feed(
      "{\"status\":\"Pulling from team/app\",\"id\":\"1.0\"}\n"
      "{\"errorDetail\":{\"message\":\"manifest for team/app:1.0 not found\"},"
      "\"error\":\"manifest for team/app:1.0 not found\"}\n");
  EXPECT_EQ(progress, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(s.message(), "manifest for team/app:1.0 not found");
  EXPECT_FALSE(parser.Finish().ok());

  PullProgressParser detail_only(nullptr);
  s = detail_only.Feed("{\"errorDetail\":{\"message\":\"unauthorized\"}}\n");
  EXPECT_EQ(s.message(), "unauthorized");
}

TEST(PullProgressTest, GarbageIsDataLoss) {
  PullProgressParser parser(nullptr);
  EXPECT_EQ(parser.Feed("<html>proxy error</html>\n").code(), absl::StatusCode::kDataLoss);
  PullProgressParser unterminated(nullptr);
  ASSERT_TRUE(unterminated.Feed("{\"status\":").ok());
  EXPECT_EQ(unterminated.Finish().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cloudai::worker::docker
