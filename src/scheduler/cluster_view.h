// ClusterView: the scheduler's picture of the workers, with indexes of free capacity.
//
// For every worker the view holds its id, address, whether it is active, its total
// resources and what is allocated on it. What is available is derived
// (total - allocated), never stored on its own. Allocate() and Release() are the only
// ways `allocated` changes, and Allocate() never takes a worker past its total.
//
// A worker is *schedulable* when it is active and has an address, and *suitable* for a
// request when it is schedulable and the request fits in what it has available, extra
// resources included (seed 001's isWorkerSuitable).
//
// Two indexes answer placement queries without a sort or a scan of every worker:
//
//  - The id-order tree. Workers are kept in id order (the order round-robin walks), and
//    over that order a segment tree summarises, for every subtree and each fixed
//    dimension (cpu, memory, storage, gpu), the largest free quantity and the largest
//    total. A worker that is not schedulable counts as having free = -1, so it never
//    holds anything, not even an empty request. Queries descend the tree and skip every
//    subtree whose largest free quantities cannot hold the request (extra resources
//    are checked at the leaves only): the first suitable worker in an id range
//    (round-robin), and whether any worker's total could ever hold a request.
//
//  - The room index (room_index.h): workers ordered by their *room*, one integer that
//    sums their free resources, each dimension scaled by the largest total of that
//    dimension in the cluster:
//        Room(w) = sum over d of (free_d(w) << 20) / norm_d,  norm_d = max(1, max total_d)
//    The suitable worker with the least room (best-fit) or the most (spread) is the
//    first or last in that order that holds the request.
//
// A change to one worker updates both indexes in O(log n). A query stops at the root
// when no worker has enough of some resource, and otherwise visits the subtrees that
// might hold the request: a handful of nodes for the first fit in id order, a few
// hundred of 10,000 for the least room (see room_index.h). Adding or removing a worker,
// or a change of the largest total in some dimension (which rescales every room),
// rebuilds them in O(n log n); those are rare, and UpsertWorkers() takes a batch for
// one rebuild.
//
// Shrinking workers: SetTotal() and UpsertWorkers() accept a total below what is already
// allocated on a worker: a machine reports what it has, and the scheduler cannot refuse
// that. Such a worker is *over capacity*: it has nothing available in the dimensions
// concerned (never a negative amount) until releases bring it back under its total.
// Allocate() never creates that state, and CheckInvariants() tells the two apart.
//
// Thread safety: none. A plain data structure; its owner serialises every call, const
// ones included, against every mutation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "common/resources.h"
#include "scheduler/fixed_quantities.h"
#include "scheduler/room_index.h"

namespace cloudai::scheduler {

// A worker as the scheduler sees it.
struct WorkerSpec {
  std::string id;       // unique, non-empty
  std::string address;  // where tasks are sent; empty means not reachable yet
  bool active = true;
  Resources total;
  Resources allocated;  // sum of the requests holding resources on the worker

  friend bool operator==(const WorkerSpec&, const WorkerSpec&) = default;
};

class ClusterView {
 public:
  // Bits of precision of each dimension's share in Room().
  static constexpr int kRoomScaleBits = 20;

  ClusterView();
  ClusterView(const ClusterView&) = default;
  ClusterView& operator=(const ClusterView&) = default;
  ClusterView(ClusterView&&) = default;
  ClusterView& operator=(ClusterView&&) = default;

  // ---- Changes. Each either applies completely or, on error, changes nothing. ----

  // Adds a worker, or replaces every field of the worker with that id.
  absl::Status UpsertWorker(WorkerSpec spec);
  // The same for a batch, with one rebuild of the index. The batch is validated first:
  // one invalid spec (or the same id twice) refuses all of them.
  absl::Status UpsertWorkers(std::vector<WorkerSpec> specs);
  // Forgets a worker, with whatever was allocated on it.
  absl::Status RemoveWorker(std::string_view id);
  absl::Status SetActive(std::string_view id, bool active);
  absl::Status SetAddress(std::string_view id, std::string address);
  // Changes a worker's capacity; a total below what is allocated is accepted (see the
  // note on shrinking workers above).
  absl::Status SetTotal(std::string_view id, const Resources& total);
  // Takes `request` from a worker's available resources. Fails, with the message of
  // Shortfall() ("Insufficient Memory: worker has 4.00 GB available, task requires
  // 8.00 GB"), when it does not fit. Does not look at active or address: bookkeeping
  // (e.g. reconciling a worker that comes back) may allocate on any worker; placement
  // policies choose only suitable ones.
  absl::Status Allocate(std::string_view id, const Resources& request);
  // Gives `request` back. Fails, changing nothing, when it is more than is allocated in
  // any dimension.
  absl::Status Release(std::string_view id, const Resources& request);

  // ---- Queries. ----

  size_t size() const { return workers_.size(); }
  bool empty() const { return workers_.empty(); }
  // The worker with that id, or null.
  const WorkerSpec* Find(std::string_view id) const;
  // Position of the worker in id order, or nullopt.
  std::optional<size_t> IndexOf(std::string_view id) const;
  // The worker at `index` in id order; index < size().
  const WorkerSpec& worker(size_t index) const { return workers_[index].spec; }
  // The index of the first worker whose id sorts after `id` (size() when none).
  size_t IndexAfter(std::string_view id) const;
  // What the worker at `index` has available: total - allocated, 0 where over capacity.
  Resources Available(size_t index) const;
  // Whether the worker at `index` could take `request` now (active, has an address,
  // every resource fits).
  bool IsSuitable(size_t index, const Resources& request) const;
  // IsSuitable() by id; false for an unknown id.
  bool FitsNow(std::string_view id, const Resources& request) const;
  // The first suitable worker with begin <= index < end, or nullopt.
  std::optional<size_t> FindFirstSuitable(const Resources& request, size_t begin,
                                          size_t end) const;
  // The room of the worker at `index` (see above). A suitable worker that takes a
  // request is left with about Room(w) minus the request's own room on the same scale.
  int64_t Room(size_t index) const { return room_index_.room(index); }
  // The suitable worker with the least room, ties to the first id; nullopt when none.
  std::optional<size_t> FindLeastRoomSuitable(const Resources& request) const;
  // The suitable worker with the most room, ties to the first id; nullopt when none.
  std::optional<size_t> FindMostRoomSuitable(const Resources& request) const;
  // Whether some registered worker's *total* holds `request` in every dimension, active
  // or not: if false, waiting will not help until the cluster changes.
  bool CouldEverFit(const Resources& request) const;
  // Why no worker is suitable for `request` now, as the operator reads it, e.g.
  //   "no worker could ever hold it: largest Memory is 16.00 GB, task requires 64.00 GB"
  //   "Insufficient Memory: at most 4.00 GB available on any active worker, task
  //    requires 8.00 GB"
  //   "no active worker has cpu=2.00 memory=8.00 GB storage=0.00 GB gpu=0.00 free at once"
  // Reasons are tried cheapest first (most in O(1) from the root of the index); the one
  // given is always true. Meant for requests just refused; "" when some worker is
  // suitable.
  std::string WhyNoFit(const Resources& request) const;
  // Changes whenever a worker is added, removed or its total changes (the facts
  // CouldEverFit() depends on). Never the same value for two different states of any
  // two views in the process, so callers may remember it to skip repeated checks.
  uint64_t capacity_generation() const { return capacity_generation_; }
  // Changes whenever some worker may have gained room: a release, a worker added,
  // (re)activated, given an address or resized; never on Allocate(). While it stays the
  // same, a request that fitted nowhere still fits nowhere. Unique across views, as
  // capacity_generation() is.
  uint64_t room_generation() const { return room_generation_; }
  // Checks the view against a recount from scratch: ids sorted and unique, 0 <=
  // allocated, allocated <= total except on workers shrunk below their allocation,
  // derived free quantities and every node of the index. For tests and debug builds.
  absl::Status CheckInvariants() const;

 private:
  // The id-order tree: node kRootNode is the root; node n has children 2n and 2n + 1.
  // Leaves cover the workers in id order, padded to a power of two; a padding leaf
  // holds nothing. Per node and fixed dimension: max_free, the largest free quantity of
  // a schedulable worker below it (-1 when none); max_total, the largest total of any
  // registered worker below it (-1 when none). One node fills one cache line.
  struct alignas(64) TreeNode {
    FixedQuantities max_free;
    FixedQuantities max_total;
    friend bool operator==(const TreeNode&, const TreeNode&) = default;
  };
  static constexpr size_t kRootNode = 1;

  struct Entry {
    WorkerSpec spec;
    FixedQuantities free{};    // max(0, total - allocated), per fixed dimension
    bool schedulable = false;  // active and has an address
    bool shrunk = false;       // allocated exceeds total after a shrink (see above)
  };

  // Heterogeneous lookup of std::string keys by std::string_view.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Entry* FindEntry(std::string_view id);
  const Entry* FindEntry(std::string_view id) const;
  // Recomputes free and schedulable of an entry from its spec.
  static void Derive(Entry& entry);
  // Whether the extras of `request` fit in what `entry` has available.
  static bool ExtrasFit(const Entry& entry, const Resources& request);
  static absl::Status ValidateSpec(const WorkerSpec& spec);

  bool IsLeafNode(size_t node) const { return node >= leaf_count_; }
  // Whether some schedulable worker under `node` has at least `want` free in each
  // fixed dimension taken alone (necessary, not sufficient, for one of them to fit).
  bool MayHold(size_t node, const FixedQuantities& want) const {
    const FixedQuantities& m = tree_[node].max_free;
    return m[0] >= want[0] && m[1] >= want[1] && m[2] >= want[2] && m[3] >= want[3];
  }

  // Rebuilds the id map and both indexes after a membership change.
  void Rebuild();
  // Recomputes every room and rebuilds the room index (after the norms change).
  void RebuildRooms();
  // Rescales the rooms when the largest totals changed.
  void RebuildRoomsIfNormsChanged();
  // The room and the free quantities the indexes hold for a worker.
  int64_t ComputeRoom(const FixedQuantities& free) const;
  FixedQuantities IndexedFree(size_t index) const;
  // Updates both indexes after worker `index` changed.
  void UpdateLeaf(size_t index);
  void SetLeaf(size_t node, size_t index);
  // Recomputes a node from its children; false when it did not change.
  bool Pull(size_t node);
  void BumpCapacityGeneration();
  void BumpRoomGeneration();

  std::optional<size_t> FirstIn(size_t node, size_t lo, size_t hi, size_t begin, size_t end,
                                const FixedQuantities& fixed,
                                const Resources& request) const;
  bool AnyTotalHolds(size_t node, const FixedQuantities& fixed,
                     const Resources& request) const;

  std::vector<Entry> workers_;  // sorted by id
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> index_of_;
  size_t leaf_count_ = 1;  // a power of two >= max(1, size())
  std::vector<TreeNode> tree_;
  FixedQuantities norms_ = {1, 1, 1, 1};  // max(1, largest total) per dimension
  RoomIndex room_index_;
  uint64_t capacity_generation_ = 0;
  uint64_t room_generation_ = 0;
};

}  // namespace cloudai::scheduler
