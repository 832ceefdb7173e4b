#include "scheduler/policy_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudai::scheduler {
namespace {

using ::testing::ElementsAre;

// A policy that always answers the same worker, to exercise registration.
class FixedPolicy final : public PlacementPolicy {
 public:
  std::optional<std::string> Select(const ClusterView&, const Resources&) override {
    return "w1";
  }
  std::string_view Name() const override { return "fixed"; }
  void Reset() override {}
};

TEST(PolicyRegistry, KnowsTheBuiltInPolicies) {
  EXPECT_THAT(PolicyNames(), ElementsAre("best-fit", "round-robin", "spread"));
  for (const std::string& name : PolicyNames()) {
    absl::StatusOr<std::unique_ptr<PlacementPolicy>> policy = MakePolicy(name);
    ASSERT_TRUE(policy.ok()) << policy.status();
    EXPECT_EQ((*policy)->Name(), name);
  }
}

TEST(PolicyRegistry, EachMakeIsAFreshPolicy) {
  ClusterView view;
  WorkerSpec a{"a", "h:1", true, Resources::Of(1000, 1024), {}};
  WorkerSpec b{"b", "h:2", true, Resources::Of(1000, 1024), {}};
  ASSERT_TRUE(view.UpsertWorkers({a, b}).ok());
  auto first = MakePolicy("round-robin");
  auto second = MakePolicy("round-robin");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*first)->Select(view, Resources()), "a");
  EXPECT_EQ((*first)->Select(view, Resources()), "b");
  EXPECT_EQ((*second)->Select(view, Resources()), "a");
}

TEST(PolicyRegistry, RefusesUnknownNamesListingTheKnownOnes) {
  absl::StatusOr<std::unique_ptr<PlacementPolicy>> policy = MakePolicy("foo");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(),
            "unknown placement policy \"foo\"; known: best-fit, round-robin, spread");
  EXPECT_FALSE(MakePolicy("Round-Robin").ok()) << "names are exact";
  EXPECT_FALSE(MakePolicy("").ok());

  PolicyRegistry empty;
  EXPECT_EQ(empty.Make("spread").status().message(),
            "unknown placement policy \"spread\"; known: none");
}

TEST(PolicyRegistry, RegistersNewPoliciesByName) {
  PolicyRegistry registry;
  ASSERT_TRUE(registry.Register("fixed", [] { return std::make_unique<FixedPolicy>(); }).ok());
  EXPECT_THAT(registry.Names(), ElementsAre("fixed"));
  auto policy = registry.Make("fixed");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->Select(ClusterView(), Resources()), "w1");

  EXPECT_EQ(registry.Register("fixed", [] { return std::make_unique<FixedPolicy>(); }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Register("Bad Name", [] { return std::make_unique<FixedPolicy>(); })
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register("", [] { return std::make_unique<FixedPolicy>(); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register("no-factory", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.Register("broken", [] { return std::unique_ptr<PlacementPolicy>(); })
                  .ok());
  EXPECT_EQ(registry.Make("broken").status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(registry.Names(), ElementsAre("broken", "fixed"));
}

TEST(PolicyRegistry, TheDefaultRegistryRefusesToReplaceABuiltIn) {
  EXPECT_EQ(RegisterPolicy("best-fit", [] { return std::make_unique<FixedPolicy>(); }).code(),
            absl::StatusCode::kAlreadyExists);
  auto policy = MakePolicy("best-fit");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->Name(), "best-fit");
}

}  // namespace
}  // namespace cloudai::scheduler
