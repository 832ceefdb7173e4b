#include "scheduler/best_fit_policy.h"

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

TEST(BestFitPolicy, PicksTheTightestWorker) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("roomy", 32000, 64 * kGiB),
                                  Worker("tight", 4000, 8 * kGiB),
                                  Worker("too-small", 2000, 4 * kGiB)})
                  .ok());
  BestFitPolicy policy;
  EXPECT_EQ(policy.Name(), "best-fit");
  EXPECT_EQ(policy.Select(view, Resources::Of(3000, 6 * kGiB)), "tight");
  ASSERT_TRUE(view.Allocate("tight", Resources::Of(3000, 6 * kGiB)).ok());
  // tight has 1 core left now: a 2-core task goes to too-small, a 3-core one to roomy.
  EXPECT_EQ(policy.Select(view, Resources::Of(2000, 2 * kGiB)), "too-small");
  EXPECT_EQ(policy.Select(view, Resources::Of(3000, 2 * kGiB)), "roomy");
  EXPECT_EQ(policy.Select(view, Resources::Of(64000, kGiB)), std::nullopt);
}

TEST(BestFitPolicy, KeepsGpuWorkersForGpuTasks) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("gpu", 8000, 16 * kGiB, 4000),
                                  Worker("plain", 12000, 24 * kGiB)})
                  .ok());
  BestFitPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources::Of(2000, 4 * kGiB)), "plain");
  EXPECT_EQ(policy.Select(view, Resources::Of(2000, 4 * kGiB, 0, 1000)), "gpu");
}

TEST(BestFitPolicy, TiesGoToTheFirstId) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers({Worker("c", 4000, 8 * kGiB), Worker("b", 4000, 8 * kGiB),
                                  Worker("a", 8000, 16 * kGiB)})
                  .ok());
  BestFitPolicy policy;
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "b");
}

TEST(BestFitPolicy, SkipsWorkersThatAreNotSuitable) {
  ClusterView view;
  WorkerSpec inactive = Worker("inactive", 2000, 2 * kGiB);
  inactive.active = false;
  WorkerSpec no_address = Worker("no-address", 2000, 2 * kGiB);
  no_address.address.clear();
  WorkerSpec fpga = Worker("fpga", 2000, 2 * kGiB);
  fpga.total.SetExtra("fpga", 1);
  ASSERT_TRUE(view.UpsertWorkers({inactive, no_address, fpga, Worker("big", 64000, 256 * kGiB)})
                  .ok());
  BestFitPolicy policy;
  Resources wants_fpga = Resources::Of(1000, kGiB);
  wants_fpga.SetExtra("fpga", 1);
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "fpga");
  EXPECT_EQ(policy.Select(view, wants_fpga), "fpga");
  ASSERT_TRUE(view.Allocate("fpga", wants_fpga).ok());
  EXPECT_EQ(policy.Select(view, wants_fpga), std::nullopt);
  EXPECT_EQ(policy.Select(view, Resources::Of(1000, kGiB)), "fpga");  // exactly what is left
  EXPECT_EQ(policy.Select(view, Resources::Of(2000, kGiB)), "big");
}

TEST(BestFitPolicy, IsExactAgainstAScanOnRandomClusters) {
  std::mt19937_64 rng(11);
  BestFitPolicy policy;
  for (int round = 0; round < 30; ++round) {
    ClusterView view;
    ASSERT_TRUE(view.UpsertWorkers(RandomWorkers(rng, Uniform(rng, 1, 500))).ok());
    for (int i = 0; i < 200; ++i) {
      const Resources request = RandomRequest(rng);
      const std::optional<std::string> got = policy.Select(view, request);
      ASSERT_EQ(got, BruteExtreme(view, request, /*lowest=*/true))
          << "round " << round << " step " << i << " " << request.ToString();
      if (got) {
        ASSERT_TRUE(view.Allocate(*got, request).ok());
      }
    }
  }
}

}  // namespace
}  // namespace cloudai::scheduler
