#include "worker/driver/log_spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace cloudai::worker {
namespace {

std::string TempPath(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(getpid());
}

TEST(LogSpool, ReadersFollowFromTheFirstByte) {
  auto spool = LogSpool::Create(TempPath("follow.log")).value();
  std::string seen;
  std::thread reader([&] {
    int64_t offset = 0;
    while (true) {
      auto chunk = spool->Read(offset, 4, /*follow=*/true, 1000);
      ASSERT_TRUE(chunk.ok());
      seen += chunk->data;
      offset = chunk->next_offset;
      if (chunk->end) break;
    }
  });
  ASSERT_TRUE(spool->Append("hello ").ok());
  ASSERT_TRUE(spool->Append("world\n").ok());
  spool->Close();
  reader.join();
  EXPECT_EQ(seen, "hello world\n");
  // A late reader sees everything too.
  auto all = spool->Read(0, 1 << 20, false, 0).value();
  EXPECT_EQ(all.data, "hello world\n");
  EXPECT_TRUE(all.end);
  EXPECT_FALSE(spool->Append("more").ok());
}

TEST(LogSpool, ReadWithoutFollowDoesNotWait) {
  auto spool = LogSpool::Create(TempPath("nowait.log")).value();
  auto chunk = spool->Read(0, 100, false, 10'000).value();
  EXPECT_TRUE(chunk.data.empty());
  EXPECT_FALSE(chunk.end);
  EXPECT_FALSE(spool->Read(-1, 10, false, 0).ok());
}

TEST(LogSpool, CollectKeepsHeadAndTailWithATruncationMark) {
  auto spool = LogSpool::Create(TempPath("collect.log")).value();
  std::string big;
  for (int i = 0; i < 1000; ++i) big += "line " + std::to_string(i) + "\n";
  ASSERT_TRUE(spool->Append(big).ok());
  auto whole = spool->Collect(1 << 20).value();
  EXPECT_EQ(whole.text, big);
  EXPECT_FALSE(whole.truncated);
  auto cut = spool->Collect(400).value();
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.text.substr(0, 7), "line 0\n");
  EXPECT_NE(cut.text.find("bytes of output truncated"), std::string::npos);
  EXPECT_EQ(cut.text.substr(cut.text.size() - 9), "line 999\n");
}

TEST(LogSpool, ASilentTaskLeavesNoFileAndAnOldFileIsNotReadAsItsOutput) {
  const std::string path = TempPath("silent.log");
  {
    auto old = LogSpool::Create(path).value();
    ASSERT_TRUE(old->Append("an earlier attempt\n").ok());
    old->Close();
  }
  ASSERT_EQ(::access(path.c_str(), F_OK), 0);
  auto spool = LogSpool::Create(path).value();
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the older file is gone";
  spool->Close();
  auto all = spool->Read(0, 1 << 20, false, 0).value();
  EXPECT_EQ(all.data, "");
  EXPECT_TRUE(all.end);
  EXPECT_EQ(spool->Collect(1024).value().text, "");
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "nothing written, no file";
  EXPECT_FALSE(LogSpool::Create("/nonexistent-dir/x.log").ok());
}

TEST(LogSpool, OpenForAppendKeepsWhatTheFileHolds) {
  const std::string path = TempPath("append.log");
  {
    auto first = LogSpool::Create(path).value();
    ASSERT_TRUE(first->Append("before restart\n").ok());
    first->Close();
  }
  auto spool = LogSpool::OpenForAppend(path).value();
  EXPECT_EQ(spool->size(), 15);
  EXPECT_FALSE(spool->closed());
  ASSERT_TRUE(spool->Append("after\n").ok());
  spool->Close();
  auto all = spool->Read(0, 1 << 20, false, 0).value();
  EXPECT_EQ(all.data, "before restart\nafter\n");
  EXPECT_TRUE(all.end);
  // A missing file is created empty.
  auto fresh = LogSpool::OpenForAppend(TempPath("append-new.log")).value();
  EXPECT_EQ(fresh->size(), 0);
  EXPECT_FALSE(LogSpool::OpenForAppend("/nonexistent-dir/x.log").ok());
}

}  // namespace
}  // namespace cloudai::worker
