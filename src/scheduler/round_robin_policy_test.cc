#include "scheduler/round_robin_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "scheduler/test_cluster.h"

namespace cloudai::scheduler {
namespace {

using testing::kGiB;
using testing::Worker;
using ::testing::ElementsAre;
using testing::BruteRoundRobin;
using testing::RandomRequest;
using testing::RandomWorkers;
using testing::Uniform;

std::vector<std::string> Picks(RoundRobinPolicy& policy, const ClusterView& view,
                               const Resources& request, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(policy.Select(view, request).value_or("-"));
  return out;
}

TEST(RoundRobinPolicy, DealsInSortedIdOrderAndWraps) {
  ClusterView view;
  // Registered out of order; the turn follows the sorted ids.
  ASSERT_TRUE(view.UpsertWorkers({Worker("w3"), Worker("w1"), Worker("w2")}).ok());
  RoundRobinPolicy policy;
  EXPECT_EQ(policy.Name(), "round-robin");
  EXPECT_THAT(Picks(policy, view, Resources::Of(1000, kGiB), 7),
              ElementsAre("w1", "w2", "w3", "w1", "w2", "w3", "w1"));
}

TEST(RoundRobinPolicy, SkipsWorkersThatAreNotSuitable) {
  ClusterView view;
  WorkerSpec inactive = Worker("b");
  inactive.active = false;
  WorkerSpec no_address = Worker("c");
  no_address.address = "";
  WorkerSpec full = Worker("d");
  full.allocated = Resources::Of(3500, 0);
  ASSERT_TRUE(
      view.UpsertWorkers({Worker("a"), inactive, no_address, full, Worker("e", 500)}).ok());
  RoundRobinPolicy policy;
  EXPECT_THAT(Picks(policy, view, Resources::Of(1000, kGiB), 3), ElementsAre("a", "a", "a"));
  EXPECT_THAT(Picks(policy, view, Resources::Of(500, kGiB), 3), ElementsAre("d", "e", "a"));
}

TEST(RoundRobinPolicy, NoSuitableWorkerKeepsTheTurn) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("a"), Worker("b"), Worker("c")}).ok());
  RoundRobinPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "a");
  EXPECT_EQ(policy.Select(view, Resources::Of(64000, kGiB)), std::nullopt);
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "b");
  EXPECT_EQ(policy.Select(ClusterView(), Resources::Of(1000, kGiB)), std::nullopt);
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "c");
}

TEST(RoundRobinPolicy, ResetStartsOver) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("a"), Worker("b"), Worker("c")}).ok());
  RoundRobinPolicy policy;
  EXPECT_THAT(Picks(policy, view, Resources(), 2), ElementsAre("a", "b"));
  policy.Reset();
  EXPECT_THAT(Picks(policy, view, Resources(), 2), ElementsAre("a", "b"));
}

TEST(RoundRobinPolicy, MembershipChangesDoNotSkewTheTurn) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("b"), Worker("d"), Worker("f")}).ok());
  RoundRobinPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources()), "b");
  // A worker joining before the last pick does not move the turn back to it...
  ASSERT_TRUE(view.UpsertWorker(Worker("a")).ok());
  EXPECT_EQ(policy.Select(view, Resources()), "d");
  // ...and the last pick leaving moves it on to the next id after it.
  ASSERT_TRUE(view.RemoveWorker("d").ok());
  ASSERT_TRUE(view.UpsertWorker(Worker("e")).ok());
  EXPECT_EQ(policy.Select(view, Resources()), "e");
  EXPECT_THAT(Picks(policy, view, Resources(), 4), ElementsAre("f", "a", "b", "e"));
}

TEST(RoundRobinPolicy, MatchesTheSeedAlgorithmOnRandomClusters) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    ClusterView view;
    ASSERT_TRUE(view.UpsertWorkers(RandomWorkers(rng, Uniform(rng, 1, 200))).ok());
    RoundRobinPolicy policy;
    std::optional<std::string> last;
    for (int i = 0; i < 300; ++i) {
      const Resources request = RandomRequest(rng);
      const std::optional<std::string> expected = BruteRoundRobin(view, request, last);
      const std::optional<std::string> got = policy.Select(view, request);
      ASSERT_EQ(got, expected) << "round " << round << " step " << i;
      if (got) {
        ASSERT_TRUE(view.Allocate(*got, request).ok());
        last = got;
      }
    }
  }
}

}  // namespace
}  // namespace cloudai::scheduler
