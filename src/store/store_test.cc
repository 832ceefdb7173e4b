#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace cloudai::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(OpenStore, MemoryAndFile) {
  auto memory = OpenStore("sqlite::memory:");
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_TRUE((*memory)->Commit(Batch().SetCounter("c", 1)).ok());
  EXPECT_EQ((*memory)->LoadAll()->counters.at("c"), 1);

  std::string dir = ::testing::TempDir() + "/cloudai_open_store_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  auto file = OpenStore("sqlite:" + dir + "/state.db");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(std::filesystem::exists(dir + "/state.db"));
  file->reset();
  std::filesystem::remove_all(dir);
}

TEST(OpenStore, PostgresqlIsRefusedWithoutEchoingThePassword) {
  auto s = OpenStore("postgresql://cloudai:s3cret@db.example:5432/cloudai");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(Message(s.status()), HasSubstr("not implemented yet in this build"));
  EXPECT_THAT(Message(s.status()), Not(HasSubstr("s3cret")));
  EXPECT_EQ(OpenStore("postgres://x").status().code(), absl::StatusCode::kUnimplemented);
}

TEST(OpenStore, OtherFormsAreRefusedNamingTheAcceptedOnes) {
  for (const char* url : {"mysql://x", "", "cloudai.db", "SQLITE:x"}) {
    auto s = OpenStore(url);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(Message(s.status()), HasSubstr("sqlite:PATH")) << url;
    EXPECT_THAT(Message(s.status()), HasSubstr("sqlite::memory:")) << url;
  }
  EXPECT_THAT(Message(OpenStore("sqlite:").status()), HasSubstr("names no file"));
  EXPECT_THAT(Message(OpenStore("sqlite:///var/x.db").status()), HasSubstr("without \"//\""));
}

TEST(OpenStore, MissingDirectoryIsAClearError) {
  auto s = OpenStore("sqlite:/nonexistent-dir-for-cloudai/x.db");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(Message(s.status()), HasSubstr("/nonexistent-dir-for-cloudai/x.db"));
}

}  // namespace
}  // namespace cloudai::store
