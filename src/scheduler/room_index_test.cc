#include "scheduler/room_index.h"

#include <gtest/gtest.h>

#include <random>

namespace cloudai::scheduler {
namespace {

int64_t Uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

FixedQuantities RandomFree(std::mt19937_64& rng) {
  if (Uniform(rng, 0, 9) == 0) return {-1, -1, -1, -1};  // cannot take tasks
  return {Uniform(rng, 0, 8), Uniform(rng, 0, 8), Uniform(rng, 0, 2), Uniform(rng, 0, 1)};
}

bool Holds(const FixedQuantities& have, const FixedQuantities& want) {
  for (size_t d = 0; d < kFixedDims; ++d) {
    if (have[d] < want[d]) return false;
  }
  return true;
}

TEST(RoomIndex, EmptyIndexFindsNothing) {
  RoomIndex index;
  index.Rebuild({}, {});
  const auto any = [](size_t) { return true; };
  EXPECT_EQ(index.FindLeast({0, 0, 0, 0}, any), std::nullopt);
  EXPECT_EQ(index.FindGreatest({0, 0, 0, 0}, any), std::nullopt);
  EXPECT_TRUE(index.Check({}, {}).ok());
}

TEST(RoomIndex, FindsTheLeastAndGreatestFittingKeyThroughUpdates) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 20; ++round) {
    const size_t n = Uniform(rng, 1, 300);
    std::vector<int64_t> rooms(n);
    std::vector<FixedQuantities> free(n);
    for (size_t i = 0; i < n; ++i) {
      rooms[i] = Uniform(rng, 0, 20);  // few distinct rooms: many ties
      free[i] = RandomFree(rng);
    }
    RoomIndex index;
    index.Rebuild(rooms, free);
    ASSERT_TRUE(index.Check(rooms, free).ok()) << index.Check(rooms, free);
    for (int step = 0; step < 300; ++step) {
      const size_t w = Uniform(rng, 0, n - 1);
      if (Uniform(rng, 0, 1) == 0) rooms[w] = Uniform(rng, 0, 20);
      free[w] = RandomFree(rng);
      index.Update(w, rooms[w], free[w]);
      ASSERT_TRUE(index.Check(rooms, free).ok()) << index.Check(rooms, free);

      const FixedQuantities want = {Uniform(rng, 0, 6), Uniform(rng, 0, 6), Uniform(rng, 0, 1),
                                    Uniform(rng, 0, 1)};
      const size_t excluded = Uniform(rng, 0, n - 1);  // what `exact` turns down
      const auto exact = [&](size_t i) { return i != excluded; };
      const int64_t min_room = Uniform(rng, -1, 20);
      std::optional<size_t> least, least_from, greatest;
      for (size_t i = 0; i < n; ++i) {
        if (!Holds(free[i], want) || i == excluded) continue;
        const auto key = std::make_pair(rooms[i], i);
        if (!least || key < std::make_pair(rooms[*least], *least)) least = i;
        if (!greatest || key > std::make_pair(rooms[*greatest], *greatest)) greatest = i;
        if (rooms[i] >= min_room &&
            (!least_from || key < std::make_pair(rooms[*least_from], *least_from))) {
          least_from = i;
        }
      }
      ASSERT_EQ(index.FindLeast(want, exact), least);
      ASSERT_EQ(index.FindGreatest(want, exact), greatest);
      ASSERT_EQ(index.FindLeast(want, exact, min_room), least_from);
    }
  }
}

}  // namespace
}  // namespace cloudai::scheduler
