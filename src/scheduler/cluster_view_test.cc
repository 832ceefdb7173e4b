#include "scheduler/cluster_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "scheduler/test_cluster.h"

namespace cloudai::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::BruteAvailable;
using testing::BruteExtreme;
using testing::BruteNorms;
using testing::BruteRoom;
using testing::BruteSuitable;
using testing::Chance;
using testing::RandomRequest;
using testing::RandomWorkers;
using testing::Uniform;
using testing::kGiB;

// The cluster-view tests give every worker 100 GiB of storage.
WorkerSpec Worker(std::string id, int64_t cpu_millis, int64_t memory_mib, int64_t gpu_millis = 0) {
  return testing::Worker(std::move(id), cpu_millis, memory_mib, gpu_millis, 100 * kGiB);
}

std::vector<std::string> Ids(const ClusterView& view) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < view.size(); ++i) ids.push_back(view.worker(i).id);
  return ids;
}

TEST(ClusterView, KeepsWorkersInIdOrder) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("charlie", 4000, 8 * kGiB)).ok());
  ASSERT_TRUE(view.UpsertWorkers({Worker("alpha", 2000, 4 * kGiB),
                                  Worker("bravo", 8000, 16 * kGiB)})
                  .ok());
  EXPECT_THAT(Ids(view), ElementsAre("alpha", "bravo", "charlie"));
  EXPECT_EQ(view.IndexOf("bravo"), 1u);
  EXPECT_EQ(view.IndexOf("delta"), std::nullopt);
  EXPECT_EQ(view.IndexAfter("alpha"), 1u);
  EXPECT_EQ(view.IndexAfter("b"), 1u);
  EXPECT_EQ(view.IndexAfter("charlie"), 3u);
  ASSERT_NE(view.Find("charlie"), nullptr);
  EXPECT_EQ(view.Find("charlie")->total.cpu_millis, 4000);
  EXPECT_EQ(view.Find("nobody"), nullptr);
  EXPECT_TRUE(view.CheckInvariants().ok());

  ASSERT_TRUE(view.RemoveWorker("bravo").ok());
  EXPECT_THAT(Ids(view), ElementsAre("alpha", "charlie"));
  EXPECT_EQ(view.RemoveWorker("bravo").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(view.CheckInvariants().ok());
}

TEST(ClusterView, UpsertReplacesEveryField) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("a", 4000, 8 * kGiB)).ok());
  WorkerSpec changed = Worker("a", 2000, 2 * kGiB);
  changed.address = "10.0.0.9:50060";
  changed.active = false;
  changed.allocated = Resources::Of(1000, kGiB);
  ASSERT_TRUE(view.UpsertWorker(changed).ok());
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(*view.Find("a"), changed);
  EXPECT_EQ(view.Available(0), Resources::Of(1000, kGiB, 100 * kGiB));
  EXPECT_TRUE(view.CheckInvariants().ok());
}

TEST(ClusterView, RefusesInvalidWorkersAndAppliesNothing) {
  ClusterView view;
  WorkerSpec no_id = Worker("", 1000, kGiB);
  EXPECT_THAT(view.UpsertWorker(no_id).message(), HasSubstr("worker.id"));

  WorkerSpec negative = Worker("b", 1000, kGiB);
  negative.total.memory_mib = -5;
  absl::Status s = view.UpsertWorkers({Worker("a", 1000, kGiB), negative});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("worker.total.memory"));
  EXPECT_EQ(view.size(), 0u) << "a batch with one bad spec applies nothing";

  s = view.UpsertWorkers({Worker("a", 1000, kGiB), Worker("a", 2000, kGiB)});
  EXPECT_THAT(s.message(), HasSubstr("appears twice"));
  EXPECT_EQ(view.size(), 0u);
}

TEST(ClusterView, AllocateAndReleaseMoveAvailable) {
  ClusterView view;
  WorkerSpec w = Worker("a", 4000, 8 * kGiB, 2000);
  w.total.SetExtra("fpga", 2);
  ASSERT_TRUE(view.UpsertWorker(w).ok());

  Resources task = Resources::Of(1500, 3 * kGiB, 10 * kGiB, 500);
  task.SetExtra("fpga", 1);
  ASSERT_TRUE(view.Allocate("a", task).ok());
  ASSERT_TRUE(view.Allocate("a", task).ok());
  Resources expected = Resources::Of(1000, 2 * kGiB, 80 * kGiB, 1000);
  EXPECT_EQ(view.Available(0), expected);
  EXPECT_EQ(view.Find("a")->allocated.Extra("fpga"), 2);
  EXPECT_TRUE(view.CheckInvariants().ok());

  ASSERT_TRUE(view.Release("a", task).ok());
  expected = Resources::Of(2500, 5 * kGiB, 90 * kGiB, 1500);
  expected.SetExtra("fpga", 1);
  EXPECT_EQ(view.Available(0), expected);
  ASSERT_TRUE(view.Release("a", task).ok());
  EXPECT_TRUE(view.Find("a")->allocated.IsZero());
  EXPECT_TRUE(view.CheckInvariants().ok());
}

TEST(ClusterView, AllocateRefusesWithTheShortfallMessageAndChangesNothing) {
  ClusterView view;
  WorkerSpec w = Worker("a", 8000, 8 * kGiB);
  w.allocated = Resources::Of(0, 4 * kGiB);
  ASSERT_TRUE(view.UpsertWorker(w).ok());

  absl::Status s = view.Allocate("a", Resources::Of(1000, 8 * kGiB));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "Insufficient Memory: worker has 4.00 GB available, task requires 8.00 GB");
  s = view.Allocate("a", Resources::Of(9000, 0));
  EXPECT_EQ(s.message(), "Insufficient CPU: worker has 8.00 available, task requires 9.00");
  Resources fpga;
  fpga.SetExtra("fpga", 1);
  s = view.Allocate("a", fpga);
  EXPECT_EQ(s.message(), "Insufficient fpga: worker has 0 available, task requires 1");
  EXPECT_EQ(*view.Find("a"), w);

  EXPECT_EQ(view.Allocate("nobody", Resources::Of(1, 1)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(view.Allocate("a", Resources::Of(-1, 0)).message(),
              HasSubstr("request.cpu"));
  // Exactly what is left fits.
  EXPECT_TRUE(view.Allocate("a", Resources::Of(8000, 4 * kGiB, 100 * kGiB)).ok());
  EXPECT_FALSE(view.Allocate("a", Resources::Of(1, 0)).ok());
  EXPECT_TRUE(view.CheckInvariants().ok());
}

TEST(ClusterView, ReleaseOfMoreThanAllocatedIsRefused) {
  ClusterView view;
  WorkerSpec w = Worker("a", 8000, 8 * kGiB);
  w.allocated = Resources::Of(2000, 2 * kGiB);
  ASSERT_TRUE(view.UpsertWorker(w).ok());
  absl::Status s = view.Release("a", Resources::Of(1000, 3 * kGiB));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("cannot release"));
  Resources fpga;
  fpga.SetExtra("fpga", 1);
  EXPECT_FALSE(view.Release("a", fpga).ok());
  EXPECT_EQ(*view.Find("a"), w);
  EXPECT_EQ(view.Release("b", Resources::Of(1, 1)).code(), absl::StatusCode::kNotFound);
}

TEST(ClusterView, SuitabilityFollowsTheSeed) {
  ClusterView view;
  WorkerSpec inactive = Worker("inactive", 8000, 8 * kGiB);
  inactive.active = false;
  WorkerSpec no_address = Worker("no-address", 8000, 8 * kGiB);
  no_address.address.clear();
  ASSERT_TRUE(view.UpsertWorkers({inactive, no_address, Worker("small", 1000, kGiB),
                                  Worker("big", 8000, 8 * kGiB)})
                  .ok());
  const Resources task = Resources::Of(2000, 2 * kGiB);
  EXPECT_FALSE(view.FitsNow("inactive", task));
  EXPECT_FALSE(view.FitsNow("no-address", task));
  EXPECT_FALSE(view.FitsNow("small", task));
  EXPECT_TRUE(view.FitsNow("big", task));
  EXPECT_FALSE(view.FitsNow("unknown", task));
  // Even an empty request does not go to a worker that cannot take tasks.
  EXPECT_FALSE(view.FitsNow("inactive", Resources()));
  EXPECT_TRUE(view.FitsNow("small", Resources()));

  ASSERT_TRUE(view.SetActive("inactive", true).ok());
  EXPECT_TRUE(view.FitsNow("inactive", task));
  ASSERT_TRUE(view.SetAddress("no-address", "10.0.0.2:50052").ok());
  EXPECT_TRUE(view.FitsNow("no-address", task));
  ASSERT_TRUE(view.SetAddress("big", "").ok());
  EXPECT_FALSE(view.FitsNow("big", task));
  EXPECT_EQ(view.SetActive("unknown", true).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(view.CheckInvariants().ok());
}

TEST(ClusterView, AShrunkWorkerHasNoRoomUntilReleasesCatchUp) {
  ClusterView view;
  ASSERT_TRUE(view.UpsertWorker(Worker("a", 8000, 8 * kGiB)).ok());
  ASSERT_TRUE(view.Allocate("a", Resources::Of(6000, 6 * kGiB)).ok());
  ASSERT_TRUE(view.SetTotal("a", Resources::Of(4000, 8 * kGiB, 100 * kGiB)).ok());
  EXPECT_EQ(view.Available(0).cpu_millis, 0);
  EXPECT_EQ(view.Available(0).memory_mib, 2 * kGiB);
  EXPECT_FALSE(view.FitsNow("a", Resources::Of(1, 0)));
  EXPECT_TRUE(view.FitsNow("a", Resources::Of(0, kGiB)));
  EXPECT_FALSE(view.Allocate("a", Resources::Of(1000, 0)).ok());
  EXPECT_TRUE(view.CheckInvariants().ok()) << view.CheckInvariants();

  ASSERT_TRUE(view.Release("a", Resources::Of(3000, 0)).ok());
  EXPECT_EQ(view.Available(0).cpu_millis, 1000);
  EXPECT_TRUE(view.FitsNow("a", Resources::Of(1000, 0)));
  EXPECT_TRUE(view.CheckInvariants().ok());

  EXPECT_THAT(view.SetTotal("a", Resources::Of(-1, 0)).message(),
              HasSubstr("worker.total.cpu"));
  EXPECT_EQ(view.Find("a")->total.cpu_millis, 4000);
}

TEST(ClusterView, CouldEverFitLooksAtTotalsOfEveryWorker) {
  ClusterView view;
  EXPECT_FALSE(view.CouldEverFit(Resources()));
  WorkerSpec cpu_heavy = Worker("cpu-heavy", 64000, 16 * kGiB);
  cpu_heavy.allocated = cpu_heavy.total;
  WorkerSpec mem_heavy = Worker("mem-heavy", 4000, 256 * kGiB);
  mem_heavy.active = false;
  ASSERT_TRUE(view.UpsertWorkers({cpu_heavy, mem_heavy}).ok());

  EXPECT_TRUE(view.CouldEverFit(Resources::Of(64000, 8 * kGiB)));  // full now, not forever
  EXPECT_TRUE(view.CouldEverFit(Resources::Of(2000, 200 * kGiB)));  // on an inactive one
  EXPECT_FALSE(view.CouldEverFit(Resources::Of(64000, 200 * kGiB)));  // no one has both
  EXPECT_FALSE(view.CouldEverFit(Resources::Of(0, 0, 0, 1000)));
  Resources fpga;
  fpga.SetExtra("fpga", 1);
  EXPECT_FALSE(view.CouldEverFit(fpga));
  WorkerSpec with_fpga = Worker("fpga", 1000, kGiB);
  with_fpga.total.SetExtra("fpga", 1);
  ASSERT_TRUE(view.UpsertWorker(with_fpga).ok());
  EXPECT_TRUE(view.CouldEverFit(fpga));
}

TEST(ClusterView, WhyNoFitExplainsInOperatorTerms) {
  ClusterView view;
  EXPECT_EQ(view.WhyNoFit(Resources::Of(1000, kGiB)),
            "no worker could ever hold it: no workers are registered");

  WorkerSpec a = Worker("a", 8000, 16 * kGiB);
  a.allocated = Resources::Of(0, 14 * kGiB);
  WorkerSpec b = Worker("b", 16000, 4 * kGiB);
  b.allocated = Resources::Of(12000, 0);
  ASSERT_TRUE(view.UpsertWorkers({a, b}).ok());

  EXPECT_EQ(view.WhyNoFit(Resources::Of(1000, 64 * kGiB)),
            "no worker could ever hold it: largest Memory is 16.00 GB, task requires "
            "64.00 GB");
  EXPECT_EQ(view.WhyNoFit(Resources::Of(1000, 8 * kGiB)),
            "Insufficient Memory: at most 4.00 GB available on any active worker, task "
            "requires 8.00 GB");
  EXPECT_EQ(view.WhyNoFit(Resources::Of(10000, kGiB)),
            "Insufficient CPU: at most 8.00 available on any active worker, task requires "
            "10.00");
  // a has the CPU free, b the memory, neither both.
  EXPECT_EQ(view.WhyNoFit(Resources::Of(6000, 3 * kGiB)),
            "no active worker has cpu=6.00 memory=3.00 GB storage=0.00 GB gpu=0.00 free at "
            "once");
  Resources fpga = Resources::Of(1000, kGiB);
  fpga.SetExtra("fpga", 2);
  EXPECT_EQ(view.WhyNoFit(fpga), "no worker could ever hold it: largest fpga is 0, task "
                                 "requires 2");
  EXPECT_EQ(view.WhyNoFit(Resources::Of(1000, kGiB)), "");

  ASSERT_TRUE(view.SetActive("a", false).ok());
  ASSERT_TRUE(view.SetActive("b", false).ok());
  EXPECT_EQ(view.WhyNoFit(Resources::Of(1000, kGiB)),
            "no active worker with an address is registered");
}

TEST(ClusterView, WhyNoFitTellsWhenNoSingleWorkerIsBigEnough) {
  // Each dimension alone is free somewhere, but no machine is big enough in both.
  ClusterView view;
  WorkerSpec wide = Worker("wide", 8000, 4 * kGiB);
  wide.allocated = Resources::Of(0, 4 * kGiB);
  WorkerSpec tall = Worker("tall", 4000, 8 * kGiB);
  tall.allocated = Resources::Of(4000, 0);
  ASSERT_TRUE(view.UpsertWorkers({wide, tall}).ok());
  EXPECT_EQ(view.WhyNoFit(Resources::Of(6000, 6 * kGiB)),
            "no worker could ever hold it: no worker has cpu=6.00 memory=6.00 GB "
            "storage=0.00 GB gpu=0.00 in total");
}

TEST(ClusterView, CapacityGenerationChangesOnlyWithMembershipOrTotals) {
  ClusterView view;
  const uint64_t empty = view.capacity_generation();
  ASSERT_TRUE(view.UpsertWorker(Worker("a", 8000, 8 * kGiB)).ok());
  const uint64_t one = view.capacity_generation();
  EXPECT_NE(one, empty);
  ASSERT_TRUE(view.Allocate("a", Resources::Of(1000, kGiB)).ok());
  ASSERT_TRUE(view.Release("a", Resources::Of(1000, kGiB)).ok());
  ASSERT_TRUE(view.SetActive("a", false).ok());
  ASSERT_TRUE(view.SetAddress("a", "x:1").ok());
  EXPECT_EQ(view.capacity_generation(), one);
  ASSERT_TRUE(view.SetTotal("a", Resources::Of(4000, 8 * kGiB)).ok());
  const uint64_t shrunk = view.capacity_generation();
  EXPECT_NE(shrunk, one);
  ASSERT_TRUE(view.RemoveWorker("a").ok());
  EXPECT_NE(view.capacity_generation(), shrunk);
  // Another view never shares a generation with this one.
  ClusterView other;
  EXPECT_NE(other.capacity_generation(), view.capacity_generation());
}

TEST(ClusterView, IndexAnswersMatchABruteForceScanThroughRandomChanges) {
  std::mt19937_64 rng(20240601);
  ClusterView view;
  std::map<std::string, Resources> initial;  // allocated before any Allocate() below
  std::vector<WorkerSpec> workers = RandomWorkers(rng, 300);
  for (const WorkerSpec& w : workers) initial[w.id] = w.allocated;
  ASSERT_TRUE(view.UpsertWorkers(workers).ok());
  std::vector<std::pair<std::string, Resources>> held;  // allocations made below
  for (int step = 0; step < 4000; ++step) {
    const size_t n = view.size();
    const std::string id = view.worker(Uniform(rng, 0, n - 1)).id;
    switch (Uniform(rng, 0, 9)) {
      case 0:
        ASSERT_TRUE(view.SetActive(id, Chance(rng, 0.8)).ok());
        break;
      case 1:
        ASSERT_TRUE(view.SetAddress(id, Chance(rng, 0.8) ? "h:1" : "").ok());
        break;
      case 2: {
        Resources total = view.Find(id)->total;
        total.cpu_millis = 1000 * Uniform(rng, 1, 20);
        if (Chance(rng, 0.3)) total.memory_mib = 1024 * Uniform(rng, 1, 80);
        ASSERT_TRUE(view.SetTotal(id, total).ok());
        break;
      }
      case 3:
        if (Chance(rng, 0.1)) {
          std::vector<WorkerSpec> more = RandomWorkers(rng, 3);
          for (size_t k = 0; k < more.size(); ++k) {
            more[k].id = "new-" + std::to_string(step) + "-" + std::to_string(k);
            initial[more[k].id] = more[k].allocated;
          }
          ASSERT_TRUE(view.UpsertWorkers(more).ok());
        } else if (Chance(rng, 0.1) && n > 50) {
          std::erase_if(held, [&](const auto& h) { return h.first == id; });
          ASSERT_TRUE(view.RemoveWorker(id).ok());
        }
        break;
      case 4:
      case 5:
        if (!held.empty()) {
          const size_t k = Uniform(rng, 0, held.size() - 1);
          ASSERT_TRUE(view.Release(held[k].first, held[k].second).ok());
          held.erase(held.begin() + k);
        }
        break;
      default: {
        const Resources request = RandomRequest(rng);
        const bool fits = request.FitsIn(BruteAvailable(*view.Find(id)));
        ASSERT_EQ(view.Allocate(id, request).ok(), fits) << id << " " << request.ToString();
        if (fits) held.emplace_back(id, request);
      }
    }
    if (step < 500 || step % 10 == 0) {
      ASSERT_TRUE(view.CheckInvariants().ok()) << view.CheckInvariants();
    }

    // Queries against a scan.
    const Resources request = RandomRequest(rng);
    const size_t begin = Uniform(rng, 0, view.size());
    const size_t end = Uniform(rng, begin, view.size());
    std::optional<size_t> expected;
    for (size_t i = begin; i < end && !expected; ++i) {
      if (BruteSuitable(view.worker(i), request)) expected = i;
    }
    ASSERT_EQ(view.FindFirstSuitable(request, begin, end), expected) << request.ToString();
    bool ever = false;
    for (size_t i = 0; i < view.size(); ++i) ever |= request.FitsIn(view.worker(i).total);
    ASSERT_EQ(view.CouldEverFit(request), ever) << request.ToString();
    const bool any_now = view.FindFirstSuitable(request, 0, view.size()).has_value();
    ASSERT_EQ(view.WhyNoFit(request).empty(), any_now);
    const auto id_of = [&](std::optional<size_t> index) -> std::optional<std::string> {
      if (!index) return std::nullopt;
      return view.worker(*index).id;
    };
    ASSERT_EQ(id_of(view.FindLeastRoomSuitable(request)),
              BruteExtreme(view, request, /*lowest=*/true));
    ASSERT_EQ(id_of(view.FindMostRoomSuitable(request)),
              BruteExtreme(view, request, /*lowest=*/false));
    if (step % 100 == 0) {
      const FixedQuantities norms = BruteNorms(view);
      for (size_t i = 0; i < view.size(); ++i) {
        ASSERT_EQ(view.Room(i), BruteRoom(view.worker(i), norms)) << view.worker(i).id;
      }
    }
  }
  // Nothing was lost or counted twice: releasing every allocation made above brings each
  // worker back to what it held at the start.
  for (const auto& [id, request] : held) ASSERT_TRUE(view.Release(id, request).ok());
  for (size_t i = 0; i < view.size(); ++i) {
    EXPECT_EQ(view.worker(i).allocated, initial.at(view.worker(i).id)) << view.worker(i).id;
  }
  EXPECT_TRUE(view.CheckInvariants().ok());
}

}  // namespace
}  // namespace cloudai::scheduler
