#include "scheduler/room_index.h"

#include <algorithm>
#include <numeric>

#include "common/strings.h"

namespace cloudai::scheduler {
namespace {

// splitmix64: well-mixed priorities from worker indices, the same on every run.
uint32_t PriorityOf(size_t worker) {
  uint64_t z = static_cast<uint64_t>(worker) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

FixedQuantities Max(const FixedQuantities& a, const FixedQuantities& b) {
  return {std::max(a[0], b[0]), std::max(a[1], b[1]), std::max(a[2], b[2]),
          std::max(a[3], b[3])};
}

}  // namespace

void RoomIndex::Rebuild(const std::vector<int64_t>& rooms,
                        const std::vector<FixedQuantities>& free) {
  const size_t n = rooms.size();
  nodes_.assign(n, Node{});
  free_ = free;
  for (size_t i = 0; i < n; ++i) {
    nodes_[i].room = rooms[i];
    nodes_[i].priority = PriorityOf(i);
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [this](int a, int b) { return Less(a, b); });
  // Build the treap from the sorted keys with a stack (a Cartesian tree), O(n).
  std::vector<int> spine;  // the right spine, priorities decreasing from the root
  for (int node : order) {
    int last = -1;
    while (!spine.empty() && nodes_[spine.back()].priority < nodes_[node].priority) {
      last = spine.back();
      spine.pop_back();
    }
    nodes_[node].left = last;
    if (!spine.empty()) nodes_[spine.back()].right = node;
    spine.push_back(node);
  }
  root_ = spine.empty() ? -1 : spine.front();
  // Subtree maxima bottom-up: a node's priority is below its parent's, so visiting in
  // increasing priority handles children first.
  std::vector<int> by_priority(order);
  std::sort(by_priority.begin(), by_priority.end(),
            [this](int a, int b) { return nodes_[a].priority < nodes_[b].priority; });
  for (int node : by_priority) Pull(node);
}

void RoomIndex::Update(size_t worker, int64_t room, const FixedQuantities& free) {
  const int node = static_cast<int>(worker);
  Node& n = nodes_[worker];
  if (n.room == room) {
    if (free_[worker] == free) return;
    free_[worker] = free;
    Touch(root_, node);
    return;
  }
  root_ = Erase(root_, node);
  n.room = room;
  free_[worker] = free;
  n.left = n.right = -1;
  n.subtree_free = free;
  root_ = Insert(root_, node);
}

void RoomIndex::Pull(int t) {
  Node& n = nodes_[t];
  n.subtree_free = free_[t];
  if (n.left >= 0) n.subtree_free = Max(n.subtree_free, nodes_[n.left].subtree_free);
  if (n.right >= 0) n.subtree_free = Max(n.subtree_free, nodes_[n.right].subtree_free);
}

void RoomIndex::Split(int t, int key_node, int* before, int* rest) {
  if (t < 0) {
    *before = *rest = -1;
    return;
  }
  if (Less(t, key_node)) {
    Split(nodes_[t].right, key_node, &nodes_[t].right, rest);
    *before = t;
  } else {
    Split(nodes_[t].left, key_node, before, &nodes_[t].left);
    *rest = t;
  }
  Pull(t);
}

int RoomIndex::Merge(int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (nodes_[a].priority > nodes_[b].priority) {
    nodes_[a].right = Merge(nodes_[a].right, b);
    Pull(a);
    return a;
  }
  nodes_[b].left = Merge(a, nodes_[b].left);
  Pull(b);
  return b;
}

int RoomIndex::Insert(int t, int node) {
  if (t < 0) return node;
  if (nodes_[node].priority > nodes_[t].priority) {
    Split(t, node, &nodes_[node].left, &nodes_[node].right);
    Pull(node);
    return node;
  }
  if (Less(node, t)) {
    nodes_[t].left = Insert(nodes_[t].left, node);
  } else {
    nodes_[t].right = Insert(nodes_[t].right, node);
  }
  Pull(t);
  return t;
}

int RoomIndex::Erase(int t, int node) {
  if (t < 0) return -1;  // not reached for a node in the tree
  if (t == node) return Merge(nodes_[t].left, nodes_[t].right);
  if (Less(node, t)) {
    nodes_[t].left = Erase(nodes_[t].left, node);
  } else {
    nodes_[t].right = Erase(nodes_[t].right, node);
  }
  Pull(t);
  return t;
}

void RoomIndex::Touch(int t, int node) {
  if (t < 0) return;
  if (t != node) Touch(Less(node, t) ? nodes_[t].left : nodes_[t].right, node);
  Pull(t);
}

absl::Status RoomIndex::Check(const std::vector<int64_t>& rooms,
                              const std::vector<FixedQuantities>& free) const {
  if (rooms.size() != nodes_.size()) {
    return absl::InternalError(StrCat("room index holds ", nodes_.size(), " workers, not ",
                                      rooms.size()));
  }
  std::vector<int> in_order;
  std::vector<bool> seen(nodes_.size(), false);
  // Iterative in-order walk with checks on each node.
  std::vector<int> stack;
  int t = root_;
  while (t >= 0 || !stack.empty()) {
    while (t >= 0) {
      if (seen[t]) return absl::InternalError("room index has a cycle");
      seen[t] = true;
      stack.push_back(t);
      t = nodes_[t].left;
    }
    t = stack.back();
    stack.pop_back();
    const Node& n = nodes_[t];
    for (int child : {n.left, n.right}) {
      if (child >= 0 && nodes_[child].priority > n.priority) {
        return absl::InternalError("room index priorities out of heap order");
      }
    }
    FixedQuantities expected = free_[t];
    if (n.left >= 0) expected = Max(expected, nodes_[n.left].subtree_free);
    if (n.right >= 0) expected = Max(expected, nodes_[n.right].subtree_free);
    if (expected != n.subtree_free) {
      return absl::InternalError(StrCat("room index subtree maximum stale at worker ", t));
    }
    if (n.room != rooms[t] || free_[t] != free[t]) {
      return absl::InternalError(StrCat("room index entry stale for worker ", t));
    }
    if (!in_order.empty() && !Less(in_order.back(), t)) {
      return absl::InternalError("room index keys out of order");
    }
    in_order.push_back(t);
    t = n.right;
  }
  if (in_order.size() != nodes_.size()) {
    return absl::InternalError("room index does not reach every worker");
  }
  return absl::OkStatus();
}

}  // namespace cloudai::scheduler
