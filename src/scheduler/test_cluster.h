// Helpers for the scheduler's tests: random clusters and requests from a seeded
// generator, and brute-force reference answers computed straight from the worker specs,
// without the capacity index, to check the index and the policies against.
//
// Thread safety: free functions without shared state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/resources.h"
#include "scheduler/cluster_view.h"

namespace cloudai::scheduler::testing {

inline constexpr int64_t kGiB = 1024;

// An active worker with an address and these totals, nothing allocated.
inline WorkerSpec Worker(std::string id, int64_t cpu_millis = 4000, int64_t memory_mib = 8 * kGiB,
                         int64_t gpu_millis = 0, int64_t storage_mib = 0) {
  WorkerSpec w;
  w.id = std::move(id);
  w.address = "10.0.0.1:50052";
  w.total = Resources::Of(cpu_millis, memory_mib, storage_mib, gpu_millis);
  return w;
}

inline int64_t Uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

inline bool Chance(std::mt19937_64& rng, double p) {
  return std::bernoulli_distribution(p)(rng);
}

// A random cluster of `n` workers. Quantities are coarse (whole cores, GiB) so that ties
// between workers are common; some workers are inactive or have no address, some have
// GPUs or an "fpga" extra, and each has a random part of its total allocated.
inline std::vector<WorkerSpec> RandomWorkers(std::mt19937_64& rng, size_t n) {
  std::vector<WorkerSpec> out;
  for (size_t i = 0; i < n; ++i) {
    WorkerSpec w;
    w.id = "w-" + std::to_string(Uniform(rng, 0, 1'000'000)) + "-" + std::to_string(i);
    w.address = Chance(rng, 0.05) ? "" : "10.0.0." + std::to_string(i % 250) + ":50052";
    w.active = !Chance(rng, 0.05);
    w.total = Resources::Of(1000 * Uniform(rng, 1, 16), 1024 * Uniform(rng, 1, 64),
                            1024 * Uniform(rng, 0, 100),
                            Chance(rng, 0.2) ? 1000 * Uniform(rng, 1, 4) : 0);
    if (Chance(rng, 0.1)) w.total.SetExtra("fpga", Uniform(rng, 1, 4));
    const auto part = [&](int64_t total) {
      return (total / 4) * Uniform(rng, 0, 4);
    };
    w.allocated = Resources::Of(part(w.total.cpu_millis), part(w.total.memory_mib),
                                part(w.total.storage_mib), part(w.total.gpu_millis));
    if (w.total.Extra("fpga") > 0) {
      w.allocated.SetExtra("fpga", Uniform(rng, 0, w.total.Extra("fpga")));
    }
    out.push_back(std::move(w));
  }
  return out;
}

// A random request, mostly small enough to fit somewhere, sometimes with GPUs or an
// extra, now and then larger than any worker in RandomWorkers().
inline Resources RandomRequest(std::mt19937_64& rng) {
  Resources r = Resources::Of(500 * Uniform(rng, 0, 8), 512 * Uniform(rng, 0, 16),
                              1024 * Uniform(rng, 0, 10),
                              Chance(rng, 0.15) ? 500 * Uniform(rng, 1, 4) : 0);
  if (Chance(rng, 0.05)) r.SetExtra("fpga", Uniform(rng, 1, 2));
  if (Chance(rng, 0.03)) r.memory_mib = 1024 * Uniform(rng, 65, 128);  // never fits
  return r;
}

// What a worker has available, straight from its spec (0 where over capacity).
inline Resources BruteAvailable(const WorkerSpec& w) {
  const auto left = [](int64_t total, int64_t allocated) {
    return std::max<int64_t>(0, total - allocated);
  };
  Resources r = Resources::Of(left(w.total.cpu_millis, w.allocated.cpu_millis),
                              left(w.total.memory_mib, w.allocated.memory_mib),
                              left(w.total.storage_mib, w.allocated.storage_mib),
                              left(w.total.gpu_millis, w.allocated.gpu_millis));
  for (const auto& [name, qty] : w.total.extras) {
    r.SetExtra(name, left(qty, w.allocated.Extra(name)));
  }
  return r;
}

// Seed 001's isWorkerSuitable, on the spec.
inline bool BruteSuitable(const WorkerSpec& w, const Resources& request) {
  return w.active && !w.address.empty() && request.FitsIn(BruteAvailable(w));
}

inline std::vector<size_t> BruteSuitableIndices(const ClusterView& view,
                                                const Resources& request) {
  std::vector<size_t> out;
  for (size_t i = 0; i < view.size(); ++i) {
    if (BruteSuitable(view.worker(i), request)) out.push_back(i);
  }
  return out;
}

// The largest total of each fixed dimension among all workers (at least 1).
inline FixedQuantities BruteNorms(const ClusterView& view) {
  FixedQuantities norm = {1, 1, 1, 1};
  for (size_t i = 0; i < view.size(); ++i) {
    const FixedQuantities total = FixedPart(view.worker(i).total);
    for (size_t d = 0; d < kFixedDims; ++d) norm[d] = std::max(norm[d], total[d]);
  }
  return norm;
}

// ClusterView::Room(), from the specs: free resources summed, each dimension scaled by
// the largest total of that dimension among all workers.
inline int64_t BruteRoom(const WorkerSpec& w, const FixedQuantities& norm) {
  const FixedQuantities free = FixedPart(BruteAvailable(w));
  int64_t room = 0;
  for (size_t d = 0; d < kFixedDims; ++d) room += (free[d] << 20) / norm[d];
  return room;
}

// The suitable worker with the least (best-fit) or most (spread) room, ties to the
// first id; nullopt when none is suitable.
inline std::optional<std::string> BruteExtreme(const ClusterView& view,
                                               const Resources& request, bool lowest) {
  const FixedQuantities norm = BruteNorms(view);
  std::optional<size_t> best;
  int64_t best_room = 0;
  for (size_t i : BruteSuitableIndices(view, request)) {
    const int64_t room = BruteRoom(view.worker(i), norm);
    if (!best || (lowest ? room < best_room : room > best_room)) {
      best = i;
      best_room = room;
    }
  }
  if (!best) return std::nullopt;
  return view.worker(*best).id;
}

// Seed 001's round-robin: sorted ids, start after the last pick, first suitable.
inline std::optional<std::string> BruteRoundRobin(const ClusterView& view,
                                                  const Resources& request,
                                                  const std::optional<std::string>& last) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < view.size(); ++i) ids.push_back(view.worker(i).id);
  std::sort(ids.begin(), ids.end());
  if (ids.empty()) return std::nullopt;
  size_t start = 0;
  if (last) start = std::upper_bound(ids.begin(), ids.end(), *last) - ids.begin();
  for (size_t k = 0; k < ids.size(); ++k) {
    const std::string& id = ids[(start + k) % ids.size()];
    if (BruteSuitable(*view.Find(id), request)) return id;
  }
  return std::nullopt;
}

}  // namespace cloudai::scheduler::testing
