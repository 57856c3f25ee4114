#include "runtime/lane_pool.hpp"

namespace orderflow::runtime {

LanePool::LanePool(int concurrency) {
  for (int i = 1; i < concurrency; ++i) threads_.emplace_back([this] { work(); });
}

LanePool::~LanePool() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void LanePool::drain(std::unique_lock<std::mutex>& lock) noexcept {
  while (task_ != nullptr && next_ < size_) {
    const std::size_t i = next_++;
    const auto* task = task_;
    ++running_;
    lock.unlock();
    (*task)(i);
    lock.lock();
    if (--running_ == 0 && next_ >= size_) done_cv_.notify_all();
  }
}

void LanePool::work() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return closing_ || (task_ != nullptr && next_ < size_); });
    if (closing_) return;
    drain(lock);
  }
}

void LanePool::run(std::size_t n, const std::function<void(std::size_t)>& task) {
  if (threads_.empty() || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::unique_lock lock(mu_);
  task_ = &task;
  size_ = n;
  next_ = 0;
  // Waking more threads than there are items beyond the caller's own only costs context switches.
  if (n - 1 >= threads_.size()) {
    work_cv_.notify_all();
  } else {
    for (std::size_t i = 0; i + 1 < n; ++i) work_cv_.notify_one();
  }
  drain(lock);
  done_cv_.wait(lock, [this] { return running_ == 0; });
  task_ = nullptr;
  size_ = 0;
  next_ = 0;
}

}  // namespace orderflow::runtime
