// The loop of shardable runs (analysis/run_record.h): which images a shard takes, and how often the
// record is saved when saving grows slow.
#include "analysis/run_record.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fa = fs::analysis;
using namespace std::chrono_literals;

TEST(RunRecord, AShardTakesEveryNthImageInOrder) {
  const std::vector<std::string> files{"a.png", "b.png", "c.png", "d.png", "e.png"};
  std::vector<size_t> seen;
  const int size = fa::forEachInShard(
      files, fa::parseShard("2/2"), "t", [&](size_t i, const std::string&) { return seen.push_back(i), "done"; },
      nullptr, [] {});
  EXPECT_EQ(size, 2);
  EXPECT_EQ(seen, (std::vector<size_t>{1, 3}));
}

// Runs `images` images of 5 ms each with a save of `saveCost` and a 0.02 s interval; returns the
// saves made and the run's seconds.
std::pair<int, double> timedRun(size_t images, std::chrono::milliseconds saveCost) {
  const std::vector<std::string> files(images, "x.png");
  int saves = 0;
  const auto t0 = std::chrono::steady_clock::now();
  fa::forEachInShard(
      files, {1, 1}, "t", [](size_t, const std::string&) { return std::this_thread::sleep_for(5ms), "done"; },
      nullptr, [&] { ++saves, std::this_thread::sleep_for(saveCost); }, 0.02);
  return {saves, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// A save that costs as much as 20 images' work: saved every 0.02 s of work it would take 83% of the
// run; the loop waits 19 times the save's cost, so saves take at most a twentieth.
TEST(RunRecord, SlowSavesWaitNineteenTimesTheirCost) {
  const auto [saves, seconds] = timedRun(120, 100ms);
  // 120 x 5 ms = 0.6 s of work: one save (each save sleeps at least 0.1 s, so the next waits 1.9 s),
  // not one per 0.02 s (some 25).
  EXPECT_GE(saves, 1);
  EXPECT_LE(saves, 1 + int(seconds / 1.9)) << saves << " saves in " << seconds << " s";
}

TEST(RunRecord, CheapSavesKeepTheInterval) {
  const auto [saves, seconds] = timedRun(40, 0ms);
  // 40 x 5 ms: a save every 0.02 s or so, about every fourth image.
  EXPECT_GE(saves, 3);
  EXPECT_LE(saves, int(seconds / 0.02)) << saves << " saves in " << seconds << " s";
}
