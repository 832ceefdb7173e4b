#include "scheduler/cluster_view.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <utility>

#include "common/quantity.h"
#include "common/strings.h"

namespace cloudai::scheduler {
namespace {

// How the fixed dimensions are named and printed in messages to operators, in the words
// of Shortfall().
struct DimText {
  std::string_view display;
  std::string (*format)(int64_t);
};
constexpr DimText kDimText[kFixedDims] = {
    {"CPU", &FormatMillis},
    {"Memory", &FormatGb},
    {"Storage", &FormatGb},
    {"GPU", &FormatMillis},
};

constexpr FixedQuantities kNothingFree = {-1, -1, -1, -1};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

absl::Status NoSuchWorker(std::string_view id) {
  return absl::NotFoundError(StrCat("no worker \"", id, "\""));
}

// Generations are drawn from one process-wide counter, so no two states of any two
// views share one.
uint64_t NextGeneration() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool AllAtMost(const FixedQuantities& a, const FixedQuantities& b) {
  return a[0] <= b[0] && a[1] <= b[1] && a[2] <= b[2] && a[3] <= b[3];
}

// Whether `a` exceeds `b` in some dimension, extras included.
bool ExceedsSomewhere(const Resources& a, const Resources& b) { return !a.FitsIn(b); }

}  // namespace

ClusterView::ClusterView() { Rebuild(); }

// ---- Changes ----

absl::Status ClusterView::ValidateSpec(const WorkerSpec& spec) {
  if (spec.id.empty()) return absl::InvalidArgumentError("worker.id: must not be empty");
  if (absl::Status s = spec.total.Validate("worker.total"); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("worker \"", spec.id, "\": ", Message(s)));
  }
  if (absl::Status s = spec.allocated.Validate("worker.allocated"); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("worker \"", spec.id, "\": ", Message(s)));
  }
  return absl::OkStatus();
}

absl::Status ClusterView::UpsertWorker(WorkerSpec spec) {
  std::vector<WorkerSpec> batch;
  batch.push_back(std::move(spec));
  return UpsertWorkers(std::move(batch));
}

absl::Status ClusterView::UpsertWorkers(std::vector<WorkerSpec> specs) {
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (absl::Status s = ValidateSpec(specs[i]); !s.ok()) return s;
    if (!seen.emplace(specs[i].id, i).second) {
      return absl::InvalidArgumentError(
          StrCat("worker \"", specs[i].id, "\" appears twice in one batch"));
    }
  }
  bool membership_changed = false;
  bool capacity_changed = false;
  for (WorkerSpec& spec : specs) {
    if (Entry* existing = FindEntry(spec.id)) {
      capacity_changed |= !(existing->spec.total == spec.total);
      existing->spec = std::move(spec);
      existing->shrunk = ExceedsSomewhere(existing->spec.allocated, existing->spec.total);
      Derive(*existing);
      if (!membership_changed) UpdateLeaf(index_of_.find(existing->spec.id)->second);
    } else {
      Entry entry;
      entry.spec = std::move(spec);
      entry.shrunk = ExceedsSomewhere(entry.spec.allocated, entry.spec.total);
      Derive(entry);
      workers_.push_back(std::move(entry));
      membership_changed = true;
    }
  }
  BumpRoomGeneration();
  if (membership_changed) {
    std::sort(workers_.begin(), workers_.end(),
              [](const Entry& a, const Entry& b) { return a.spec.id < b.spec.id; });
    Rebuild();
  } else if (capacity_changed) {
    BumpCapacityGeneration();
    RebuildRoomsIfNormsChanged();
  }
  return absl::OkStatus();
}

absl::Status ClusterView::RemoveWorker(std::string_view id) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  workers_.erase(workers_.begin() + static_cast<ptrdiff_t>(*index));
  Rebuild();
  return absl::OkStatus();
}

absl::Status ClusterView::SetActive(std::string_view id, bool active) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  Entry* entry = &workers_[*index];
  entry->spec.active = active;
  Derive(*entry);
  UpdateLeaf(*index);
  BumpRoomGeneration();
  return absl::OkStatus();
}

absl::Status ClusterView::SetAddress(std::string_view id, std::string address) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  Entry* entry = &workers_[*index];
  entry->spec.address = std::move(address);
  Derive(*entry);
  UpdateLeaf(*index);
  BumpRoomGeneration();
  return absl::OkStatus();
}

absl::Status ClusterView::SetTotal(std::string_view id, const Resources& total) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  Entry* entry = &workers_[*index];
  if (absl::Status s = total.Validate("worker.total"); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("worker \"", id, "\": ", Message(s)));
  }
  if (entry->spec.total == total) return absl::OkStatus();
  entry->spec.total = total;
  entry->shrunk = ExceedsSomewhere(entry->spec.allocated, total);
  Derive(*entry);
  UpdateLeaf(*index);
  BumpCapacityGeneration();
  BumpRoomGeneration();
  RebuildRoomsIfNormsChanged();
  return absl::OkStatus();
}

absl::Status ClusterView::Allocate(std::string_view id, const Resources& request) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  Entry* entry = &workers_[*index];
  if (absl::Status s = request.Validate("request"); !s.ok()) return s;
  const FixedQuantities want = FixedPart(request);
  if (!AllAtMost(want, entry->free) || !ExtrasFit(*entry, request)) {
    std::optional<std::string> why = Shortfall(Available(*index), request);
    assert(why.has_value());
    return absl::ResourceExhaustedError(why.value_or("does not fit"));
  }
  // It fits, so every sum stays within the total and therefore within the limits.
  Resources& a = entry->spec.allocated;
  a.cpu_millis += request.cpu_millis;
  a.memory_mib += request.memory_mib;
  a.storage_mib += request.storage_mib;
  a.gpu_millis += request.gpu_millis;
  for (const auto& [name, qty] : request.extras) a.SetExtra(name, a.Extra(name) + qty);
  Derive(*entry);
  UpdateLeaf(*index);
  return absl::OkStatus();
}

absl::Status ClusterView::Release(std::string_view id, const Resources& request) {
  const std::optional<size_t> index = IndexOf(id);
  if (!index.has_value()) return NoSuchWorker(id);
  Entry* entry = &workers_[*index];
  if (absl::Status s = request.Validate("request"); !s.ok()) return s;
  Resources& a = entry->spec.allocated;
  if (!request.FitsIn(a)) {
    return absl::FailedPreconditionError(
        StrCat("cannot release ", request.ToString(), " from worker \"", id,
               "\": only ", a.ToString(), " is allocated there"));
  }
  a.cpu_millis -= request.cpu_millis;
  a.memory_mib -= request.memory_mib;
  a.storage_mib -= request.storage_mib;
  a.gpu_millis -= request.gpu_millis;
  for (const auto& [name, qty] : request.extras) a.SetExtra(name, a.Extra(name) - qty);
  // A worker shrunk below its allocation stays marked until it is back under its total.
  entry->shrunk = entry->shrunk && ExceedsSomewhere(a, entry->spec.total);
  Derive(*entry);
  UpdateLeaf(*index);
  BumpRoomGeneration();
  return absl::OkStatus();
}

// ---- Queries ----

ClusterView::Entry* ClusterView::FindEntry(std::string_view id) {
  auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : &workers_[it->second];
}

const ClusterView::Entry* ClusterView::FindEntry(std::string_view id) const {
  auto it = index_of_.find(id);
  return it == index_of_.end() ? nullptr : &workers_[it->second];
}

const WorkerSpec* ClusterView::Find(std::string_view id) const {
  const Entry* entry = FindEntry(id);
  return entry == nullptr ? nullptr : &entry->spec;
}

std::optional<size_t> ClusterView::IndexOf(std::string_view id) const {
  auto it = index_of_.find(id);
  if (it == index_of_.end()) return std::nullopt;
  return it->second;
}

size_t ClusterView::IndexAfter(std::string_view id) const {
  auto it = std::upper_bound(
      workers_.begin(), workers_.end(), id,
      [](std::string_view key, const Entry& e) { return key < std::string_view(e.spec.id); });
  return static_cast<size_t>(it - workers_.begin());
}

Resources ClusterView::Available(size_t index) const {
  const Entry& entry = workers_[index];
  Resources out = Resources::Of(entry.free[0], entry.free[1], entry.free[2], entry.free[3]);
  for (const auto& [name, qty] : entry.spec.total.extras) {
    const int64_t left = qty - entry.spec.allocated.Extra(name);
    if (left > 0) out.SetExtra(name, left);
  }
  return out;
}

bool ClusterView::ExtrasFit(const Entry& entry, const Resources& request) {
  for (const auto& [name, qty] : request.extras) {
    if (qty > entry.spec.total.Extra(name) - entry.spec.allocated.Extra(name)) return false;
  }
  return true;
}

bool ClusterView::IsSuitable(size_t index, const Resources& request) const {
  if (index >= workers_.size()) return false;
  const Entry& entry = workers_[index];
  return entry.schedulable && AllAtMost(FixedPart(request), entry.free) &&
         ExtrasFit(entry, request);
}

bool ClusterView::FitsNow(std::string_view id, const Resources& request) const {
  std::optional<size_t> index = IndexOf(id);
  return index.has_value() && IsSuitable(*index, request);
}

std::optional<size_t> ClusterView::FindFirstSuitable(const Resources& request, size_t begin,
                                                     size_t end) const {
  end = std::min(end, workers_.size());
  const FixedQuantities fixed = FixedPart(request);
  if (begin >= end || !MayHold(kRootNode, fixed)) return std::nullopt;
  return FirstIn(kRootNode, 0, leaf_count_, begin, end, fixed, request);
}

std::optional<size_t> ClusterView::FirstIn(size_t node, size_t lo, size_t hi, size_t begin,
                                           size_t end, const FixedQuantities& fixed,
                                           const Resources& request) const {
  if (hi <= begin || lo >= end || !MayHold(node, fixed)) return std::nullopt;
  if (IsLeafNode(node)) {
    // MayHold() on a leaf is the exact check of the fixed dimensions and schedulability.
    if (request.extras.empty() || ExtrasFit(workers_[lo], request)) return lo;
    return std::nullopt;
  }
  const size_t mid = lo + (hi - lo) / 2;
  if (auto found = FirstIn(2 * node, lo, mid, begin, end, fixed, request)) return found;
  return FirstIn(2 * node + 1, mid, hi, begin, end, fixed, request);
}

int64_t ClusterView::ComputeRoom(const FixedQuantities& free) const {
  int64_t room = 0;
  for (size_t d = 0; d < kFixedDims; ++d) {
    // free <= kMax* <= 2^40, so the shift stays below 2^60.
    room += (std::max<int64_t>(0, free[d]) << kRoomScaleBits) / norms_[d];
  }
  return room;
}

std::optional<size_t> ClusterView::FindLeastRoomSuitable(const Resources& request) const {
  const FixedQuantities want = FixedPart(request);
  if (!MayHold(kRootNode, want)) return std::nullopt;
  const auto exact = [&](size_t index) {
    return request.extras.empty() || ExtrasFit(workers_[index], request);
  };
  // Whatever holds the request has at least its room, so the search starts there.
  return room_index_.FindLeast(want, exact, ComputeRoom(want));
}

std::optional<size_t> ClusterView::FindMostRoomSuitable(const Resources& request) const {
  const FixedQuantities want = FixedPart(request);
  if (!MayHold(kRootNode, want)) return std::nullopt;
  const auto exact = [&](size_t index) {
    return request.extras.empty() || ExtrasFit(workers_[index], request);
  };
  // The greatest (room, index) has the most room but the last id among equals; the
  // first id with that room is the least key with that room that fits.
  std::optional<size_t> last = room_index_.FindGreatest(want, exact);
  if (!last.has_value()) return std::nullopt;
  return room_index_.FindLeast(want, exact, room_index_.room(*last));
}

bool ClusterView::CouldEverFit(const Resources& request) const {
  return AnyTotalHolds(kRootNode, FixedPart(request), request);
}

bool ClusterView::AnyTotalHolds(size_t node, const FixedQuantities& fixed,
                                const Resources& request) const {
  if (!AllAtMost(fixed, tree_[node].max_total)) return false;
  if (IsLeafNode(node)) {
    const size_t index = node - leaf_count_;
    if (index >= workers_.size()) return false;
    for (const auto& [name, qty] : request.extras) {
      if (qty > workers_[index].spec.total.Extra(name)) return false;
    }
    return true;
  }
  return AnyTotalHolds(2 * node, fixed, request) ||
         AnyTotalHolds(2 * node + 1, fixed, request);
}

std::string ClusterView::WhyNoFit(const Resources& request) const {
  // Reasons are tried cheapest first, so that a request refused because the cluster is
  // full is explained in O(1) from the root of the index.
  const FixedQuantities fixed = FixedPart(request);
  if (workers_.empty()) return "no worker could ever hold it: no workers are registered";
  const FixedQuantities& largest = tree_[kRootNode].max_total;
  for (size_t d = 0; d < kFixedDims; ++d) {
    if (fixed[d] > largest[d]) {
      return StrCat("no worker could ever hold it: largest ", kDimText[d].display, " is ",
                    kDimText[d].format(largest[d]), ", task requires ",
                    kDimText[d].format(fixed[d]));
    }
  }
  const FixedQuantities& most_free = tree_[kRootNode].max_free;
  if (most_free[0] < 0) return "no active worker with an address is registered";
  for (size_t d = 0; d < kFixedDims; ++d) {
    if (fixed[d] > most_free[d]) {
      return StrCat("Insufficient ", kDimText[d].display, ": at most ",
                    kDimText[d].format(most_free[d]), " available on any active worker",
                    ", task requires ", kDimText[d].format(fixed[d]));
    }
  }
  if (!CouldEverFit(request)) {
    for (const auto& [name, qty] : request.extras) {
      int64_t most = 0;
      for (const Entry& entry : workers_) most = std::max(most, entry.spec.total.Extra(name));
      if (qty > most) {
        return StrCat("no worker could ever hold it: largest ", name, " is ", most,
                      ", task requires ", qty);
      }
    }
    return StrCat("no worker could ever hold it: no worker has ", request.ToString(),
                  " in total");
  }
  if (FindFirstSuitable(request, 0, workers_.size()).has_value()) return "";
  // Requests with extras may get here; they are rare enough that a scan is fine.
  for (const auto& [name, qty] : request.extras) {
    int64_t most = 0;
    for (const Entry& entry : workers_) {
      if (!entry.schedulable) continue;
      most = std::max(most, entry.spec.total.Extra(name) - entry.spec.allocated.Extra(name));
    }
    if (qty > most) {
      return StrCat("Insufficient ", name, ": at most ", most,
                    " available on any active worker, task requires ", qty);
    }
  }
  return StrCat("no active worker has ", request.ToString(), " free at once");
}

absl::Status ClusterView::CheckInvariants() const {
  if (index_of_.size() != workers_.size()) {
    return absl::InternalError("id map and worker list differ in size");
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    const Entry& entry = workers_[i];
    const WorkerSpec& spec = entry.spec;
    if (i > 0 && !(workers_[i - 1].spec.id < spec.id)) {
      return absl::InternalError(StrCat("workers out of id order at \"", spec.id, "\""));
    }
    auto it = index_of_.find(spec.id);
    if (it == index_of_.end() || it->second != i) {
      return absl::InternalError(StrCat("id map is wrong for \"", spec.id, "\""));
    }
    if (absl::Status s = ValidateSpec(spec); !s.ok()) {
      return absl::InternalError(StrCat("invalid worker: ", Message(s)));
    }
    if (ExceedsSomewhere(spec.allocated, spec.total) && !entry.shrunk) {
      return absl::InternalError(StrCat("worker \"", spec.id, "\" is over-committed: ",
                                        spec.allocated.ToString(), " allocated of ",
                                        spec.total.ToString()));
    }
    Entry fresh;
    fresh.spec = spec;
    Derive(fresh);
    if (fresh.free != entry.free || fresh.schedulable != entry.schedulable) {
      return absl::InternalError(StrCat("derived state of \"", spec.id, "\" is stale"));
    }
  }
  // The indexes against a rebuild from scratch.
  ClusterView copy = *this;
  copy.Rebuild();
  if (copy.leaf_count_ != leaf_count_ || copy.tree_ != tree_) {
    return absl::InternalError("id-order tree differs from a rebuild");
  }
  if (copy.norms_ != norms_) return absl::InternalError("room norms are stale");
  std::vector<int64_t> rooms;
  std::vector<FixedQuantities> free;
  for (size_t i = 0; i < workers_.size(); ++i) {
    free.push_back(IndexedFree(i));
    rooms.push_back(ComputeRoom(workers_[i].free));
  }
  return room_index_.Check(rooms, free);
}

// ---- Maintenance ----

void ClusterView::Derive(Entry& entry) {
  const WorkerSpec& spec = entry.spec;
  const FixedQuantities total = FixedPart(spec.total);
  const FixedQuantities allocated = FixedPart(spec.allocated);
  for (size_t d = 0; d < kFixedDims; ++d) {
    entry.free[d] = std::max<int64_t>(0, total[d] - allocated[d]);
  }
  entry.schedulable = spec.active && !spec.address.empty();
}

void ClusterView::BumpCapacityGeneration() { capacity_generation_ = NextGeneration(); }

void ClusterView::BumpRoomGeneration() { room_generation_ = NextGeneration(); }

void ClusterView::Rebuild() {
  BumpRoomGeneration();
  index_of_.clear();
  index_of_.reserve(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) index_of_.emplace(workers_[i].spec.id, i);
  leaf_count_ = std::bit_ceil(std::max<size_t>(1, workers_.size()));
  tree_.assign(2 * leaf_count_, TreeNode{kNothingFree, kNothingFree});
  for (size_t i = 0; i < workers_.size(); ++i) SetLeaf(leaf_count_ + i, i);
  for (size_t node = leaf_count_ - 1; node >= 1; --node) Pull(node);
  BumpCapacityGeneration();
  RebuildRooms();
}

void ClusterView::RebuildRooms() {
  const FixedQuantities& largest = tree_[kRootNode].max_total;
  for (size_t d = 0; d < kFixedDims; ++d) norms_[d] = std::max<int64_t>(1, largest[d]);
  std::vector<int64_t> rooms(workers_.size());
  std::vector<FixedQuantities> free(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    rooms[i] = ComputeRoom(workers_[i].free);
    free[i] = IndexedFree(i);
  }
  room_index_.Rebuild(rooms, free);
}

void ClusterView::RebuildRoomsIfNormsChanged() {
  const FixedQuantities& largest = tree_[kRootNode].max_total;
  for (size_t d = 0; d < kFixedDims; ++d) {
    if (norms_[d] != std::max<int64_t>(1, largest[d])) {
      RebuildRooms();
      return;
    }
  }
}

FixedQuantities ClusterView::IndexedFree(size_t index) const {
  const Entry& entry = workers_[index];
  return entry.schedulable ? entry.free : kNothingFree;
}

void ClusterView::SetLeaf(size_t node, size_t index) {
  tree_[node].max_free = IndexedFree(index);
  tree_[node].max_total = FixedPart(workers_[index].spec.total);
}

bool ClusterView::Pull(size_t node) {
  const TreeNode& l = tree_[2 * node];
  const TreeNode& r = tree_[2 * node + 1];
  TreeNode pulled;
  for (size_t d = 0; d < kFixedDims; ++d) {
    pulled.max_free[d] = std::max(l.max_free[d], r.max_free[d]);
    pulled.max_total[d] = std::max(l.max_total[d], r.max_total[d]);
  }
  if (pulled == tree_[node]) return false;
  tree_[node] = pulled;
  return true;
}

void ClusterView::UpdateLeaf(size_t index) {
  size_t node = leaf_count_ + index;
  SetLeaf(node, index);
  // Once a node comes out unchanged, so do all above it.
  for (node /= 2; node >= 1 && Pull(node); node /= 2) {
  }
  room_index_.Update(index, ComputeRoom(workers_[index].free), IndexedFree(index));
}

}  // namespace cloudai::scheduler
