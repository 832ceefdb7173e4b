#include "cloudai/rm/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cloudai::rm {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), Code::kOk);
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status status(Code::kQuotaExceeded, "raise the quota");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kQuotaExceeded);
  EXPECT_EQ(status.message(), "raise the quota");
  EXPECT_EQ(status.ToString(), "QuotaExceeded: raise the quota");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  const Code codes[] = {Code::kOk,
                        Code::kExhausted,
                        Code::kQuotaExceeded,
                        Code::kDeadlockDetected,
                        Code::kInvalidCapacity,
                        Code::kInvalidRate,
                        Code::kNotAcquired,
                        Code::kCancelled,
                        Code::kDeadlineExceeded,
                        Code::kUnknownResource,
                        Code::kInvalidArgument,
                        Code::kStopped};
  std::set<std::string> names;
  for (Code code : codes) names.insert(CodeName(code));
  EXPECT_EQ(names.size(), std::size(codes));
  EXPECT_STREQ(CodeName(Code::kDeadlockDetected), "DeadlockDetected");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  EXPECT_TRUE(value.status().ok());

  Result<int> error = Status(Code::kUnknownResource, "no such type");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), Code::kUnknownResource);
}

TEST(ResultTest, OkStatusWithoutValueIsAnError) {
  Result<int> result = Status::Ok();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cloudai::rm
