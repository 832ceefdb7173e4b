// The conformance suite every registered placement policy passes: it runs over
// PolicyNames(), so a newly registered policy is held to it with no change here.
//
// Over long random streams of requests, releases and worker changes it checks that a
// policy never over-commits a worker in any dimension, never places what cannot fit,
// places only on suitable workers, answers nullopt only when no worker is suitable, and
// answers the same way given the same input.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "scheduler/cluster_view.h"
#include "scheduler/placement_policy.h"
#include "scheduler/policy_registry.h"
#include "scheduler/test_cluster.h"

namespace cloudai::scheduler {
namespace {

using testing::BruteSuitable;
using testing::BruteSuitableIndices;
using testing::Chance;
using testing::RandomRequest;
using testing::RandomWorkers;
using testing::Uniform;

struct Decision {
  Resources request;
  std::optional<std::string> worker;
  friend bool operator==(const Decision&, const Decision&) = default;
};

class PlacementPolicyConformance : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<PlacementPolicy> Make() {
    absl::StatusOr<std::unique_ptr<PlacementPolicy>> policy = MakePolicy(GetParam());
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.ok() ? std::move(*policy) : nullptr;
  }

  // Runs a stream of `steps` decisions from `seed` on a fresh cluster, checking every
  // decision and the view after it; returns the decisions.
  std::vector<Decision> RunStream(PlacementPolicy& policy, uint64_t seed, int steps) {
    std::mt19937_64 rng(seed);
    ClusterView view;
    std::vector<WorkerSpec> workers = RandomWorkers(rng, Uniform(rng, 1, 400));
    // What each worker holds that this stream did not place: its allocated at the start.
    std::map<std::string, Resources> baseline;
    for (const WorkerSpec& w : workers) baseline[w.id] = w.allocated;
    EXPECT_TRUE(view.UpsertWorkers(std::move(workers)).ok());

    std::vector<std::pair<std::string, Resources>> held;
    std::vector<Decision> decisions;
    for (int step = 0; step < steps && !HasFatalFailure(); ++step) {
      // Now and then the cluster changes under the policy.
      if (Chance(rng, 0.05)) {
        const std::string id = view.worker(Uniform(rng, 0, view.size() - 1)).id;
        if (Chance(rng, 0.5)) {
          EXPECT_TRUE(view.SetActive(id, Chance(rng, 0.7)).ok());
        } else {
          EXPECT_TRUE(view.SetAddress(id, Chance(rng, 0.8) ? "10.1.1.1:50052" : "").ok());
        }
      }
      // Release about as often as we place, so the cluster neither fills nor empties.
      while (!held.empty() && Chance(rng, 0.45)) {
        const size_t k = Uniform(rng, 0, held.size() - 1);
        EXPECT_TRUE(view.Release(held[k].first, held[k].second).ok());
        held[k] = held.back();
        held.pop_back();
      }

      const Resources request = RandomRequest(rng);
      const std::vector<size_t> suitable = BruteSuitableIndices(view, request);
      const std::optional<std::string> pick = policy.Select(view, request);
      decisions.push_back({request, pick});
      if (!pick.has_value()) {
        EXPECT_TRUE(suitable.empty())
            << GetParam() << " found no worker for " << request.ToString() << " but "
            << view.worker(suitable.front()).id << " is suitable (step " << step << ")";
        continue;
      }
      const WorkerSpec* chosen = view.Find(*pick);
      EXPECT_NE(chosen, nullptr) << "unknown worker " << *pick;
      if (chosen == nullptr) continue;
      EXPECT_TRUE(view.CouldEverFit(request)) << "placed what no worker could ever hold";
      EXPECT_TRUE(BruteSuitable(*chosen, request))
          << GetParam() << " chose " << *pick << ", not suitable for " << request.ToString();
      EXPECT_TRUE(view.Allocate(*pick, request).ok());
      held.emplace_back(*pick, request);
      EXPECT_TRUE(chosen->allocated.FitsIn(chosen->total))
          << *pick << " over-committed: " << chosen->allocated.ToString() << " of "
          << chosen->total.ToString();

      if (step % 25 == 0) {
        EXPECT_TRUE(view.CheckInvariants().ok()) << view.CheckInvariants();
        ExpectRecountMatches(view, baseline, held);
      }
    }
    EXPECT_TRUE(view.CheckInvariants().ok()) << view.CheckInvariants();
    ExpectRecountMatches(view, baseline, held);
    return decisions;
  }

  // allocated == what was there at the start + what this stream holds, and never more
  // than the total, in every dimension of every worker.
  void ExpectRecountMatches(const ClusterView& view,
                            const std::map<std::string, Resources>& baseline,
                            const std::vector<std::pair<std::string, Resources>>& held) {
    std::map<std::string, Resources> expected = baseline;
    for (const auto& [id, request] : held) expected[id] = Add(expected[id], request).value();
    for (size_t i = 0; i < view.size(); ++i) {
      const WorkerSpec& w = view.worker(i);
      EXPECT_EQ(w.allocated, expected[w.id]) << w.id;
      EXPECT_TRUE(w.allocated.FitsIn(w.total))
          << w.id << " over-committed: " << w.allocated.ToString() << " of "
          << w.total.ToString();
    }
  }
};

TEST_P(PlacementPolicyConformance, IsNamedAsRegistered) {
  std::unique_ptr<PlacementPolicy> policy = Make();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->Name(), GetParam());
}

TEST_P(PlacementPolicyConformance, NeverOverCommitsAndAnswersNulloptOnlyWhenNothingFits) {
  for (uint64_t seed = 1; seed <= 6 && !HasFatalFailure(); ++seed) {
    std::unique_ptr<PlacementPolicy> policy = Make();
    ASSERT_NE(policy, nullptr);
    RunStream(*policy, seed, 1500);
  }
}

TEST_P(PlacementPolicyConformance, NeverPlacesWhatNoWorkerCouldHold) {
  std::mt19937_64 rng(99);
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorkers(RandomWorkers(rng, 50)).ok());
  std::unique_ptr<PlacementPolicy> policy = Make();
  ASSERT_NE(policy, nullptr);
  int64_t most_memory = 0;
  for (size_t i = 0; i < view.size(); ++i) {
    most_memory = std::max(most_memory, view.worker(i).total.memory_mib);
  }
  Resources too_much_memory = Resources::Of(0, most_memory + 1);
  Resources unknown_extra = Resources::Of(1000, 1024);
  unknown_extra.SetExtra("quantum", 1);
  Resources everything = Resources::Of(kMaxCpuMillis, kMaxMemoryMiB, kMaxStorageMiB,
                                       kMaxGpuMillis);
  for (const Resources& request : {too_much_memory, unknown_extra, everything}) {
    EXPECT_FALSE(view.CouldEverFit(request));
    EXPECT_EQ(policy->Select(view, request), std::nullopt) << request.ToString();
  }
  // An empty cluster holds nothing, not even an empty request.
  EXPECT_EQ(policy->Select(ClusterView(), Resources()), std::nullopt);
}

TEST_P(PlacementPolicyConformance, TheSameInputGivesTheSamePlacements) {
  std::unique_ptr<PlacementPolicy> first = Make();
  std::unique_ptr<PlacementPolicy> second = Make();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const std::vector<Decision> a = RunStream(*first, 4242, 800);
  const std::vector<Decision> b = RunStream(*second, 4242, 800);
  EXPECT_EQ(a, b);
  // Reset() puts a used policy back in its initial state.
  first->Reset();
  EXPECT_EQ(RunStream(*first, 4242, 800), a);
  // And a different stream gives different placements, so the comparison means something.
  EXPECT_NE(RunStream(*second, 4243, 800), a);
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredPolicy, PlacementPolicyConformance,
                         ::testing::ValuesIn(PolicyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace cloudai::scheduler
