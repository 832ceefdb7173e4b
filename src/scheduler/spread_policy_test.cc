#include "scheduler/spread_policy.h"

#include <gtest/gtest.h>

#include <random>

#include "scheduler/test_cluster.h"

namespace cloudai::scheduler {
namespace {

using testing::kGiB;
using testing::Worker;
using testing::BruteExtreme;
using testing::RandomRequest;
using testing::RandomWorkers;
using testing::Uniform;

TEST(SpreadPolicy, PicksTheLeastLoadedWorker) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("a", 8000, 16 * kGiB), Worker("b", 8000, 16 * kGiB),
                                  Worker("c", 8000, 16 * kGiB)})
                  .ok());
  SpreadPolicy policy;
  EXPECT_EQ(policy.Name(), "spread");
  // Equal workers: the first id, then the others as they stay emptier.
  std::vector<std::string> picks;
  for (int i = 0; i < 6; ++i) {
    std::optional<std::string> id = policy.Select(view, Resources::Of(1000, 2 * kGiB));
    ASSERT_TRUE(id.has_value());
    ASSERT_TRUE(view.Allocate(*id, Resources::Of(1000, 2 * kGiB)).ok());
    picks.push_back(*id);
  }
  EXPECT_EQ(picks, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST(SpreadPolicy, PrefersTheWorkerWithMostRoomLeft) {
  ClusterView view;
  WorkerSpec busy_big = Worker("busy-big", 32000, 64 * kGiB);
  busy_big.allocated = Resources::Of(30000, 60 * kGiB);
  ASSERT_TRUE(view.UpsertWorkers({busy_big, Worker("idle-small", 8000, 16 * kGiB)}).ok());
  SpreadPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "idle-small");
  EXPECT_EQ(policy.Select(view, Resources::Of(9000, kGiB)), std::nullopt);
}

TEST(SpreadPolicy, SkipsWorkersThatAreNotSuitable) {
  ClusterView view;
  WorkerSpec inactive = Worker("inactive", 64000, 256 * kGiB);
  inactive.active = false;
  WorkerSpec no_address = Worker("no-address", 64000, 256 * kGiB);
  no_address.address.clear();
  ASSERT_TRUE(view.UpsertWorkers({inactive, no_address, Worker("small", 2000, 2 * kGiB)}).ok());
  SpreadPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "small");
  EXPECT_EQ(policy.Select(view, Resources::Of(4000, kGiB)), std::nullopt);
}

TEST(SpreadPolicy, IsExactAgainstAScanOnRandomClusters) {
  std::mt19937_64 rng(13);
  SpreadPolicy policy;
  for (int round = 0; round < 30; ++round) {
    ClusterView view;
    ASSERT_TRUE(view.UpsertWorkers(RandomWorkers(rng, Uniform(rng, 1, 500))).ok());
    for (int i = 0; i < 200; ++i) {
      const Resources request = RandomRequest(rng);
      const std::optional<std::string> got = policy.Select(view, request);
      ASSERT_EQ(got, BruteExtreme(view, request, /*lowest=*/false))
          << "round " << round << " step " << i << " " << request.ToString();
      if (got) {
        ASSERT_TRUE(view.Allocate(*got, request).ok());
      }
    }
  }
}

}  // namespace
}  // namespace cloudai::scheduler
