#include "runtime/lane_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace orderflow::runtime {
namespace {

using namespace std::chrono_literals;

std::size_t threads_of_this_process() {
  const auto tasks = std::filesystem::directory_iterator("/proc/self/task");
  return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

TEST(LanePool, RunsEveryItemOfEveryBatchExactlyOnce) {
  LanePool pool(4);
  for (std::size_t n : {0u, 1u, 2u, 3u, 4u, 5u, 17u, 64u, 1u, 200u}) {
    std::vector<std::atomic<int>> calls(n);
    pool.run(n, [&](std::size_t i) { calls[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(calls[i].load(), 1) << "item " << i << " of " << n;
  }
}

TEST(LanePool, RunsUpToItsConcurrencyAtOnceAndNoMore) {
  constexpr int kConcurrency = 4;
  LanePool pool(kConcurrency);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int most = 0;
  bool all_met = true;
  // Each of the first kConcurrency items waits until kConcurrency items run at once, which
  // happens only if the pool really runs that many in parallel.
  pool.run(16, [&](std::size_t i) {
    std::unique_lock lock(mu);
    most = std::max(most, ++running);
    cv.notify_all();
    if (i < static_cast<std::size_t>(kConcurrency) &&
        !cv.wait_for(lock, 30s, [&] { return most >= kConcurrency; }))
      all_met = false;
    --running;
  });
  EXPECT_TRUE(all_met) << "never saw " << kConcurrency << " items at once";
  EXPECT_EQ(most, kConcurrency);
  EXPECT_EQ(running, 0);
}

TEST(LanePool, MakesItsThreadsOnceAndReusesThemForEveryBatch) {
  const std::size_t before = threads_of_this_process();
  {
    LanePool pool(8);
    EXPECT_EQ(pool.concurrency(), 8);
    EXPECT_EQ(threads_of_this_process(), before + 7) << "the caller is the eighth";
    std::mutex mu;
    std::set<std::thread::id> seen;
    for (int batch = 0; batch < 200; ++batch)
      pool.run(8, [&](std::size_t) {
        std::lock_guard lock(mu);
        seen.insert(std::this_thread::get_id());
      });
    EXPECT_LE(seen.size(), 8u) << "threads other than the pool's and the caller's ran items";
    EXPECT_EQ(threads_of_this_process(), before + 7);
  }
  EXPECT_EQ(threads_of_this_process(), before) << "the destructor joins the threads";
}

TEST(LanePool, ConcurrencyOneRunsInlineOnTheCaller) {
  const std::size_t before = threads_of_this_process();
  LanePool pool(1);
  EXPECT_EQ(threads_of_this_process(), before);
  std::vector<std::thread::id> ids;
  pool.run(5, [&](std::size_t) { ids.push_back(std::this_thread::get_id()); });
  ASSERT_EQ(ids.size(), 5u);
  for (const auto& id : ids) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(LanePool, ABatchReturnsOnlyOnceItsSlowestItemHas) {
  LanePool pool(3);
  std::atomic<int> finished{0};
  pool.run(6, [&](std::size_t i) {
    if (i == 0) std::this_thread::sleep_for(50ms);
    finished.fetch_add(1);
  });
  EXPECT_EQ(finished.load(), 6);
}

}  // namespace
}  // namespace orderflow::runtime
