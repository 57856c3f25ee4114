// Durability: what the server acknowledged is still there after a restart, whether the server
// stopped on SIGTERM or died of SIGKILL in the middle of concurrent writes.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using namespace std::chrono_literals;

using Durability = FreshServerTest;

// Everything a client can see of one order.
struct Snapshot {
  std::string body;
  std::string etag;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(HttpClient& c, const std::string& id) {
  const Response r = c.get("/orders/" + id);
  return {std::to_string(r.status) + " " + r.body, r.header("ETag").value_or("<absent>")};
}

TEST_F(Durability, EverythingSurvivesSigtermAndRestart) {
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    const std::string price =
        i % 3 == 0 ? "\"" + std::to_string(i + 1) + ".5\"" : std::to_string(i) + ".99";
    ids.push_back(create_order(
        client(), "durable #" + std::to_string(i) + " \xE2\x82\xAC \xF0\x9F\x93\xA6", price));
    ASSERT_FALSE(ids.back().empty());
  }
  for (int i = 0; i < 30; i += 5)
    ASSERT_TRUE(HasStatus(client().request("PATCH", "/orders/" + ids[i],
                                           R"({"price":"0.1","description":"changed"})"),
                          200));
  ASSERT_TRUE(HasStatus(client().request("PUT", "/orders/" + ids[1], R"({"price":3})"), 200));
  ASSERT_TRUE(HasStatus(client().request("PUT", "/orders/" + ids[1], R"({"price":4})"), 200));
  for (int i : {2, 17, 29})
    ASSERT_TRUE(HasStatus(client().request("DELETE", "/orders/" + ids[i]), 200));

  std::map<std::string, Snapshot> before;
  for (const auto& id : ids) before[id] = snapshot(client(), id);
  const std::vector<boost::json::object> listed_before = list_all_orders(client(), 7);
  EXPECT_EQ(listed_before.size(), 27u);

  client().close();
  ASSERT_EQ(server().stop(), 0) << server().log();
  server().restart();
  HttpClient c(server().port());

  for (const auto& id : ids) {
    SCOPED_TRACE(id);
    EXPECT_EQ(snapshot(c, id), before[id]);
  }
  EXPECT_EQ(list_all_orders(c, 7), listed_before);

  // New orders after the restart come after the old ones.
  const std::string later = create_order(c, "after restart", "1");
  const auto listed_after = list_all_orders(c, 1000);
  ASSERT_EQ(listed_after.size(), 28u);
  EXPECT_EQ(string_field(listed_after.back(), "orderId"), later);
}

TEST_F(Durability, IdempotencyKeySurvivesRestart) {
  const std::string body = order_body("idempotent across restarts", "5.00");
  const Response first = client().post("/orders", body, {{"Idempotency-Key", "restart-key-1"}});
  ASSERT_TRUE(HasStatus(first, 201));
  client().close();
  ASSERT_EQ(server().stop(), 0);
  server().restart();
  HttpClient c(server().port());
  const Response again = c.post("/orders", body, {{"Idempotency-Key", "restart-key-1"}});
  ASSERT_TRUE(HasStatus(again, 201));
  EXPECT_EQ(string_field(again.json(), "orderId"), string_field(first.json(), "orderId"));
  EXPECT_EQ(count_orders(c), 1u);
}

// Writer threads, each creating orders in a loop over its own keep-alive connection and
// recording every create the server acknowledged (201). A writer ends when its connection fails;
// that is a problem before expect_shutdown() and expected after it.
class ConcurrentWriters {
 public:
  ConcurrentWriters(std::uint16_t port, int writers) {
    for (int w = 0; w < writers; ++w) threads_.emplace_back([this, port, w] { run(port, w); });
  }
  ~ConcurrentWriters() { join(); }

  // Waits until `n` creates were acknowledged or a writer ran into a problem.
  bool wait_for_acks(std::size_t n, std::chrono::seconds bound) {
    std::unique_lock lock(mu_);
    return progress_.wait_for(lock, bound, [&] {
      return acked_.size() >= n || !problems_.empty();
    }) && acked_.size() >= n;
  }
  void expect_shutdown() { shutting_down_ = true; }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::map<std::string, std::string> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  std::vector<std::string> problems() {
    std::lock_guard lock(mu_);
    return problems_;
  }

 private:
  void run(std::uint16_t port, int w) {
    HttpClient c(port);
    for (int i = 0;; ++i) {
      const std::string description = "writer " + std::to_string(w) + " order " + std::to_string(i);
      try {
        const Response r =
            c.post("/orders", order_body(description, std::to_string(i + 1) + ".25"));
        std::lock_guard lock(mu_);
        if (r.status == 201) {
          acked_[string_field(r.json(), "orderId")] = description;
          progress_.notify_all();
        } else if (!shutting_down_ || r.status != 503) {
          // Before shutdown every create must succeed; during it, only 503 is acceptable.
          problems_.push_back(describe(r));
          progress_.notify_all();
        }
      } catch (const std::exception& e) {
        if (!shutting_down_) {
          std::lock_guard lock(mu_);
          problems_.push_back("writer " + std::to_string(w) + ": " + e.what());
          progress_.notify_all();
        }
        return;
      }
    }
  }

  std::mutex mu_;
  std::condition_variable progress_;
  std::map<std::string, std::string> acked_;  // orderId -> description sent
  std::vector<std::string> problems_;
  std::atomic<bool> shutting_down_{false};
  std::vector<std::thread> threads_;
};

// Every acknowledged order is there with the description its writer sent, and listed.
void expect_all_present(HttpClient& c, const std::map<std::string, std::string>& acked) {
  std::size_t missing = 0;
  for (const auto& [id, description] : acked) {
    const Response r = c.get("/orders/" + id);
    if (r.status != 200) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged order lost: " << describe(r);
      continue;
    }
    EXPECT_EQ(string_field(r.json().at("order"), "description"), description);
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged orders";

  const auto listed = list_all_orders(c, 1000);
  EXPECT_GE(listed.size(), acked.size());
  std::size_t listed_acked = 0;
  for (const auto& o : listed) listed_acked += acked.count(string_field(o, "orderId"));
  EXPECT_EQ(listed_acked, acked.size());
}

constexpr int kWriters = 8;
constexpr std::size_t kAcked = 300;

// SIGKILL once at least kAcked creates were acknowledged, with requests in flight.
TEST_F(Durability, AcknowledgedCreatesSurviveKillDuringConcurrentWrites) {
  ConcurrentWriters writers(port(), kWriters);
  EXPECT_TRUE(writers.wait_for_acks(kAcked, 120s))
      << "only " << writers.acked().size() << " acknowledged";
  writers.expect_shutdown();
  server().kill9();
  writers.join();
  for (const auto& p : writers.problems()) ADD_FAILURE() << "before the kill: " << p;
  const auto acked = writers.acked();
  ASSERT_GE(acked.size(), kAcked);

  server().restart();
  HttpClient c(server().port());
  expect_all_present(c, acked);
  EXPECT_FALSE(create_order(c, "after the crash", "1").empty());  // the store is usable
}

// SIGTERM in the middle of concurrent writes: the server drains and exits 0, and every create
// it acknowledged is there after a restart.
TEST_F(Durability, AcknowledgedCreatesSurviveSigtermDuringConcurrentWrites) {
  ConcurrentWriters writers(port(), kWriters);
  EXPECT_TRUE(writers.wait_for_acks(kAcked, 120s))
      << "only " << writers.acked().size() << " acknowledged";
  writers.expect_shutdown();
  EXPECT_EQ(server().stop(), 0);
  writers.join();
  for (const auto& p : writers.problems()) ADD_FAILURE() << "problem: " << p;
  const auto acked = writers.acked();
  ASSERT_GE(acked.size(), kAcked);

  server().restart();
  HttpClient c(server().port());
  expect_all_present(c, acked);
}

TEST_F(Durability, DataLivesInOrderflowDbInTheDataDir) {
  ASSERT_FALSE(create_order(client(), "where is it", "1").empty());
  EXPECT_TRUE(std::filesystem::exists(server().data_dir() / "orderflow.db"));
}

}  // namespace
}  // namespace orderflow::e2e
