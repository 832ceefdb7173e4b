#include "master/admin_token.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace cloudai::master {
namespace {

TEST(AdminToken, IsCreatedOnceWithMode0600AndKept) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cloudai-token-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto first = LoadOrCreateAdminToken(dir.string());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  struct stat st;
  ASSERT_EQ(::stat(AdminTokenPath(dir.string()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto second = LoadOrCreateAdminToken(dir.string());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);

  std::ofstream(AdminTokenPath(dir.string())) << "not a token\n";
  EXPECT_FALSE(LoadOrCreateAdminToken(dir.string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(AdminToken, BearerMatchesOnlyTheExactToken) {
  const std::string token(64, 'a');
  EXPECT_TRUE(BearerMatches("Bearer " + token, token));
  EXPECT_FALSE(BearerMatches(token, token));
  EXPECT_FALSE(BearerMatches("Bearer " + std::string(64, 'b'), token));
  EXPECT_FALSE(BearerMatches("Bearer " + token + "a", token));
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
}

}  // namespace
}  // namespace cloudai::master
