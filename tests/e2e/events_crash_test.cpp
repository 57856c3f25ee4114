// Crash safety of the pipeline: SIGKILL right after deletes were acknowledged (or while they are
// in flight), then a restart on the same data dir. Every committed delete is archived and
// notified exactly once; an order that is still there was never archived.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using namespace std::chrono_literals;

class EventsCrash : public EventsTest {
 protected:
  // What the killed server had claimed is delivered after the restart once its lease has ended:
  // a short lease keeps that wait short.
  void SetUp() override {
    ServerOptions options;
    options.env = {{"ORDERFLOW_DELIVERY_LEASE_MS", "1000"}};
    start(std::move(options));
  }

  std::vector<std::string> create_orders(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(create_order(client(), "crash order " + std::to_string(i), std::to_string(i + 1) + ".05"));
      EXPECT_FALSE(ids.back().empty());
    }
    return ids;
  }

  // After the restart: the archive holds exactly `deleted`, and each of their events reached each
  // subscriber exactly once.
  void expect_archived_and_notified_once(const std::set<std::string>& deleted,
                                         const std::vector<std::string>& subscribers) {
    std::vector<std::string> files;
    EXPECT_TRUE(eventually(
        [&] {
          files = archive_files(server());
          return files.size() >= deleted.size();
        },
        kEventuallySlow))
        << files.size() << " of " << deleted.size() << " archive objects";
    std::set<std::string> expected_files;
    for (const auto& id : deleted) expected_files.insert(id + ".json");
    EXPECT_EQ(std::set<std::string>(files.begin(), files.end()), expected_files);

    std::vector<std::string> event_ids;
    for (const auto& id : deleted) {
      const auto text = read_archive(server(), id);
      ASSERT_TRUE(text) << id;
      const auto v = boost::json::parse(*text);
      EXPECT_EQ(string_field(v, "orderId"), id);
      event_ids.push_back(string_field(v, "eventId"));
    }
    EXPECT_EQ(std::set<std::string>(event_ids.begin(), event_ids.end()).size(), deleted.size());

    ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids, kEventuallySlow));
    EXPECT_TRUE(admin_deliveries(client(), token(), "pending").empty());
    EXPECT_TRUE(admin_deliveries(client(), token(), "dead").empty());

    const auto mails = read_maildir(maildir());
    std::map<std::pair<std::string, std::string>, int> per_event_and_address;
    std::size_t notices = 0;
    for (const auto& m : mails) {
      if (!m.is_notification()) continue;
      ++notices;
      std::string to = m.recipient();
      for (char& c : to) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++per_event_and_address[{m.event_id(), to}];
    }
    EXPECT_EQ(notices, deleted.size() * subscribers.size());
    for (const auto& e : event_ids)
      for (const auto& s : subscribers)
        EXPECT_EQ((per_event_and_address[{e, s}]), 1) << e << " to " << s;
    EXPECT_EQ(mails.size(), subscribers.size() + notices) << "confirmations plus notices";
  }
};

TEST_F(EventsCrash, AcknowledgedDeletesAreArchivedAndNotifiedOnceAfterKill) {
  const std::vector<std::string> subscribers = {"crash1@example.com", "crash2@example.com"};
  for (const auto& s : subscribers) ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), s));
  const auto ids = create_orders(50);

  // Four clients delete in parallel, so the outbox runs ahead of the dispatcher.
  std::atomic<int> acked{0};
  std::vector<std::string> problems;
  std::mutex mu;
  std::vector<std::thread> deleters;
  for (int t = 0; t < 4; ++t)
    deleters.emplace_back([&, t] {
      HttpClient c(server().port());
      for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += 4) {
        const Response r = c.request("DELETE", "/orders/" + ids[i]);
        std::lock_guard lock(mu);
        if (r.status == 200) ++acked;
        else problems.push_back(describe(r));
      }
    });
  for (auto& d : deleters) d.join();
  restart_server(/*crash=*/true);
  for (const auto& p : problems) ADD_FAILURE() << p;
  ASSERT_EQ(acked.load(), 50);

  for (const auto& id : ids) EXPECT_TRUE(IsErrorCode(client().get("/orders/" + id), 404, "not_found"));
  expect_archived_and_notified_once(std::set<std::string>(ids.begin(), ids.end()), subscribers);
}

// SIGKILL while deletes are in flight: a delete either happened with its event or not at all.
TEST_F(EventsCrash, DeleteAndItsEventCommitTogetherUnderKill) {
  const std::vector<std::string> subscribers = {"inflight@example.com"};
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), subscribers[0]));
  const auto ids = create_orders(200);

  std::atomic<int> acked{0};
  std::atomic<bool> killing{false};
  std::vector<std::string> problems;
  std::mutex mu;
  std::vector<std::thread> deleters;
  const std::uint16_t port = server().port();
  for (int t = 0; t < 4; ++t)
    deleters.emplace_back([&, t] {
      HttpClient c(port);
      for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += 4) {
        try {
          const Response r = c.request("DELETE", "/orders/" + ids[i]);
          if (r.status == 200) {
            ++acked;
          } else if (!killing) {
            std::lock_guard lock(mu);
            problems.push_back(describe(r));
          }
        } catch (const std::exception& e) {
          if (!killing) {
            std::lock_guard lock(mu);
            problems.push_back(e.what());
          }
          return;
        }
      }
    });
  EXPECT_TRUE(eventually([&] { return acked.load() >= 60; }, kEventuallySlow));
  killing = true;
  server().kill9();
  for (auto& d : deleters) d.join();
  for (const auto& p : problems) ADD_FAILURE() << "before the kill: " << p;
  restart_server(/*crash=*/true);
  std::set<std::string> deleted;
  for (const auto& id : ids) {
    const Response r = client().get("/orders/" + id);
    if (r.status == 404) deleted.insert(id);
    else EXPECT_EQ(r.status, 200) << describe(r);
  }
  EXPECT_GE(deleted.size(), static_cast<std::size_t>(acked.load()));
  expect_archived_and_notified_once(deleted, subscribers);
}

}  // namespace
}  // namespace orderflow::e2e
