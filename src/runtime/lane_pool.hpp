// A fixed set of threads that attempts the items of one batch at a time, so that a dispatcher
// lane pays for its threads once, at start(), instead of once per claimed batch.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace orderflow::runtime {

class LanePool {
 public:
  // Up to `concurrency` items run at once: the caller of run() and concurrency - 1 threads,
  // created here and joined by the destructor. concurrency <= 1 runs every item inline.
  explicit LanePool(int concurrency);
  ~LanePool();
  LanePool(const LanePool&) = delete;
  LanePool& operator=(const LanePool&) = delete;

  // Calls task(i) once for every i in [0, n), on the caller and the pool's threads, and returns
  // once every call has returned. The task must not throw (it is called from noexcept code) and
  // must be safe to call from several threads at once. One run() at a time per pool.
  void run(std::size_t n, const std::function<void(std::size_t)>& task);

  int concurrency() const { return static_cast<int>(threads_.size()) + 1; }

 private:
  void work();
  // Runs items of the current batch until none is left to take; `lock` is held on entry and exit.
  void drain(std::unique_lock<std::mutex>& lock) noexcept;

  std::mutex mu_;
  std::condition_variable work_cv_;  // a batch was posted, or the pool is closing
  std::condition_variable done_cv_;  // the last running item of a batch returned
  const std::function<void(std::size_t)>* task_ = nullptr;  // guarded by mu_
  std::size_t size_ = 0;                                    // guarded by mu_
  std::size_t next_ = 0;     // the first item nobody took yet; guarded by mu_
  std::size_t running_ = 0;  // items taken that have not returned; guarded by mu_
  bool closing_ = false;     // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace orderflow::runtime
