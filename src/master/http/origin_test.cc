#include "master/http/origin.h"

#include <gtest/gtest.h>

namespace cloudai::master::http {
namespace {

TEST(OriginPolicyTest, NoOriginIsServed) {
  OriginPolicy policy;
  EXPECT_TRUE(policy.Allowed(std::nullopt, "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allowed(std::nullopt, std::nullopt));
}

TEST(OriginPolicyTest, OwnOriginIsServed) {
  OriginPolicy policy;
  EXPECT_TRUE(policy.Allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allowed("HTTP://Master.Local:8080/", "master.local:8080"));
  EXPECT_TRUE(policy.Allowed("http://master.local", "master.local:80"));
  EXPECT_FALSE(policy.Allowed("http://127.0.0.1:9999", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("https://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("null", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("http://evil.example", std::nullopt));
}

TEST(OriginPolicyTest, ListedOriginsAreServedAndNothingElse) {
  OriginPolicy policy(OriginPolicy::ParseList(" https://ops.example.com , http://dash:3000/,"));
  EXPECT_TRUE(policy.Allowed("https://ops.example.com", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allowed("https://ops.example.com:443", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allowed("http://dash:3000", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("http://ops.example.com", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("https://ops.example.com.evil", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allowed("*", "127.0.0.1:8080"));
}

}  // namespace
}  // namespace cloudai::master::http
