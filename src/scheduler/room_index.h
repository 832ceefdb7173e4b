// RoomIndex: workers ordered by how much room they have, for best-fit and spread.
//
// Each worker has a *room*: one integer summarising its free resources (ClusterView
// defines it). The index orders workers by (room, worker index) in a treap — a binary
// search tree kept balanced by pseudo-random priorities, here derived from the worker
// index so the shape is deterministic — whose nodes also carry, per fixed dimension,
// the largest free quantity in their subtree (-1 for a worker that cannot take tasks).
//
// The worker with the least room that can hold a request is then the leftmost node that
// fits: the search walks the tree in key order and skips every subtree whose largest
// free quantities cannot hold the request. Nearly full workers sit together at the low
// end of the order and are mostly skipped a subtree at a time: in a half-full cluster
// of 10,000 mixed workers a least-room search visits about 250 nodes, a most-room one
// about 50 (the pruning is per dimension, so a subtree where one worker has the CPU
// and another the memory must still be entered). Updating one worker (a new room or
// new free quantities) is O(log n) expected.
//
// Thread safety: none; a part of ClusterView, which serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "scheduler/fixed_quantities.h"

namespace cloudai::scheduler {

class RoomIndex {
 public:
  // Replaces the contents with workers 0 .. rooms.size() - 1; free[i] is worker i's free
  // quantity per fixed dimension, all -1 when it cannot take tasks. O(n log n).
  void Rebuild(const std::vector<int64_t>& rooms, const std::vector<FixedQuantities>& free);
  // Gives one worker a new room and new free quantities. O(log n).
  void Update(size_t worker, int64_t room, const FixedQuantities& free);

  size_t size() const { return nodes_.size(); }
  int64_t room(size_t worker) const { return nodes_[worker].room; }

  // The worker with the least (room, index) among those whose free quantities hold
  // `want` in every dimension and for which exact(worker) is true (the caller's check
  // of what the index does not track, such as extra resources); only workers with room
  // >= min_room are considered. nullopt when there is none.
  template <typename Exact>
  std::optional<size_t> FindLeast(const FixedQuantities& want, const Exact& exact,
                                  int64_t min_room = std::numeric_limits<int64_t>::min()) const {
    const int found = LeastFrom(root_, want, exact, min_room);
    return found < 0 ? std::nullopt : std::optional<size_t>(found);
  }
  // The same with the greatest (room, index).
  template <typename Exact>
  std::optional<size_t> FindGreatest(const FixedQuantities& want, const Exact& exact) const {
    const int found = GreatestFrom(root_, want, exact);
    return found < 0 ? std::nullopt : std::optional<size_t>(found);
  }

  // Checks the tree against the expected rooms and free quantities: every worker
  // present once, keys in order, priorities in heap order, subtree maxima right.
  absl::Status Check(const std::vector<int64_t>& rooms,
                     const std::vector<FixedQuantities>& free) const;

 private:
  // What a search reads, in one cache line.
  struct alignas(64) Node {
    FixedQuantities subtree_free{};  // largest of this worker's and its subtrees'
    int64_t room = 0;
    int left = -1;
    int right = -1;
    uint32_t priority = 0;
  };

  static bool Holds(const FixedQuantities& have, const FixedQuantities& want) {
    return have[0] >= want[0] && have[1] >= want[1] && have[2] >= want[2] &&
           have[3] >= want[3];
  }
  // Key order: (room, worker index).
  bool Less(int a, int b) const {
    return nodes_[a].room < nodes_[b].room || (nodes_[a].room == nodes_[b].room && a < b);
  }

  void Pull(int t);
  // Splits `t` into the nodes ordered before `key_node` and the rest.
  void Split(int t, int key_node, int* before, int* rest);
  int Merge(int a, int b);
  int Insert(int t, int node);
  int Erase(int t, int node);
  // Recomputes the subtree maxima on the path from `t` down to `node`.
  void Touch(int t, int node);

  template <typename Exact>
  int LeastFrom(int t, const FixedQuantities& want, const Exact& exact,
                int64_t min_room) const {
    while (t >= 0 && Holds(nodes_[t].subtree_free, want)) {
      const Node& n = nodes_[t];
      if (n.room < min_room) {  // this node and its left subtree are all below min_room
        t = n.right;
        continue;
      }
      const int found = LeastFrom(n.left, want, exact, min_room);
      if (found >= 0) return found;
      if (Holds(free_[t], want) && exact(static_cast<size_t>(t))) return t;
      t = n.right;
    }
    return -1;
  }

  template <typename Exact>
  int GreatestFrom(int t, const FixedQuantities& want, const Exact& exact) const {
    while (t >= 0 && Holds(nodes_[t].subtree_free, want)) {
      const Node& n = nodes_[t];
      const int found = GreatestFrom(n.right, want, exact);
      if (found >= 0) return found;
      if (Holds(free_[t], want) && exact(static_cast<size_t>(t))) return t;
      t = n.left;
    }
    return -1;
  }

  std::vector<Node> nodes_;             // node i is worker i
  std::vector<FixedQuantities> free_;  // free_[i] is worker i's free quantities
  int root_ = -1;
};

}  // namespace cloudai::scheduler
