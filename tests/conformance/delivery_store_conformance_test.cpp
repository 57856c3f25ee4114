// The contracts of the two delivery ports (src/ports/delivery_queue.hpp and delivery_admin.hpp),
// run against every adapter listed in store_factories.cpp: DeliveryQueueConformance for what
// workers do (fan-out, claims under a lease, marking, release), DeliveryAdminConformance for
// what operators see (get, list, redrive, stats). Events come from the OrderStore of the same
// backend; every time is explicit, so the tests never depend on the wall clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "conformance/store_factories.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;
using ports::Delivery;
using ports::DeliveryState;

constexpr int kAll = 1'000'000;  // a limit above anything a test writes
const Timestamp kT0{std::chrono::microseconds{1'795'606'034'000'000}};  // 2026-11-25T11:47:14Z
constexpr auto kLease = 1min;  // what claim() below holds a claim for
constexpr const char* kWorker = "worker-1";

const std::string kDeleted(domain::kOrderDeleted);
const std::string kCreated(domain::kOrderCreated);

class DeliveryPortsTest : public ::testing::TestWithParam<DeliveryStoreFactory> {
 protected:
  void SetUp() override { stores_ = GetParam().make(dir_.path()); }
  void TearDown() override { stores_ = {}; }

  void reopen() {
    stores_ = {};
    stores_ = GetParam().make(dir_.path());
  }

  ports::OrderStore& orders() { return *stores_.orders; }
  ports::DeliveryQueue& queue() { return *stores_.queue; }
  ports::DeliveryAdmin& admin() { return *stores_.deliveries; }

  // Creates an order at `at` (one order.created event) and returns its id.
  std::string create_order(Timestamp at) {
    domain::Order o;
    o.id = ids_.new_id();
    o.description = "a widget";
    o.price = domain::Money::from_cents(1250);
    o.created = o.last_modified = at;
    o.version = 1;
    EXPECT_EQ(
        orders().create(o, domain::order_created_event(o, ids_.new_id(), at), std::nullopt).kind,
        ports::CreateResult::Kind::created);
    return o.id;
  }

  // Creates and deletes an order: an order.created event at `at` - 1s, an order.deleted at `at`.
  // Returns the deletion event.
  domain::Event delete_new_order(Timestamp at) {
    const std::string id = create_order(at - 1s);
    EXPECT_EQ(orders().remove(id, std::nullopt, at, ids_.new_id()).kind,
              ports::ChangeResult::Kind::done);
    return orders().read_outbox(0, kAll).back().event;
  }

  int fan_out(Timestamp now = kT0, int limit = kAll) {
    return queue().fan_out(
        [this](std::string_view type) {
          const auto it = subscribers_.find(type);
          return it == subscribers_.end() ? std::vector<std::string>{} : it->second;
        },
        now, limit);
  }

  // Claims for `owner` what is due at `now`, until now + kLease.
  std::vector<Delivery> claim(std::string_view subscription, Timestamp now, int limit = kAll,
                              std::string_view owner = kWorker) {
    return queue().claim(subscription, owner, now, now + kLease, limit);
  }

  std::vector<Delivery> all(DeliveryState state) { return admin().list(state, 0, kAll).deliveries; }

  Delivery fetch(std::int64_t id) {
    const auto d = admin().get(id);
    EXPECT_TRUE(d.has_value()) << id;
    return d.value_or(Delivery{});
  }

  static std::vector<std::int64_t> ids_of(const std::vector<Delivery>& ds) {
    std::vector<std::int64_t> ids;
    for (const Delivery& d : ds) ids.push_back(d.id);
    return ids;
  }

  // One delivery to "archive" for each of `n` deletion events, fanned out and claimed at kT0
  // (so they are claimable again from kT0 + kLease on).
  std::vector<Delivery> archive_deliveries(int n) {
    subscribers_ = {{kDeleted, {"archive"}}};
    for (int i = 0; i < n; ++i) delete_new_order(kT0 - std::chrono::seconds(100 - i));
    fan_out();
    auto claimed = claim("archive", kT0);
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(n));
    return claimed;
  }

  TempDir dir_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
  EventStores stores_;
  std::map<std::string, std::vector<std::string>, std::less<>> subscribers_;
};

class DeliveryQueueConformance : public DeliveryPortsTest {};
class DeliveryAdminConformance : public DeliveryPortsTest {};
class RetentionConformance : public DeliveryPortsTest {
 protected:
  ports::PruneCounts prune(Timestamp records_before, Timestamp keys_before = kT0, int batch = 1000) {
    return admin().prune({keys_before, records_before, batch});
  }
  std::vector<std::string> outbox_ids() {
    std::vector<std::string> ids;
    for (const auto& r : orders().read_outbox(0, kAll)) ids.push_back(r.event.id);
    return ids;
  }
};

void expect_same_event(const domain::Event& actual, const domain::Event& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.type, expected.type);
  EXPECT_EQ(actual.subject, expected.subject);
  EXPECT_EQ(actual.time, expected.time);
  EXPECT_EQ(actual.data, expected.data);
}

// --- fan-out ---

TEST_P(DeliveryQueueConformance, FanOutCreatesOnePendingDeliveryPerEventAndSubscriber) {
  subscribers_ = {{kDeleted, {"archive", "notify"}}};
  const domain::Event first = delete_new_order(kT0 - 20s);
  const domain::Event second = delete_new_order(kT0 - 10s);

  EXPECT_EQ(fan_out(kT0), 4);  // two created and two deleted events

  const auto pending = all(DeliveryState::pending);
  ASSERT_EQ(pending.size(), 4u);
  std::map<std::pair<std::string, std::string>, int> seen;  // (event id, subscription) -> count
  for (const Delivery& d : pending) {
    ++seen[{d.event.id, d.subscription}];
    EXPECT_EQ(d.state, DeliveryState::pending);
    EXPECT_EQ(d.attempts, 0);
    EXPECT_EQ(d.next_attempt, kT0);
    EXPECT_EQ(d.last_error, "");
    EXPECT_EQ(d.event.type, kDeleted);
  }
  for (const auto& e : {first, second})
    for (const char* sub : {"archive", "notify"}) EXPECT_EQ((seen[{e.id, sub}]), 1) << e.id << sub;

  // The full event travels with the claimed delivery, with the outbox's sequence number.
  const auto records = orders().read_outbox(0, kAll);
  const auto archive = claim("archive", kT0);
  ASSERT_EQ(archive.size(), 2u);
  expect_same_event(archive[0].event, first);
  expect_same_event(archive[1].event, second);
  EXPECT_EQ(archive[0].event_seq, records[1].seq);
  EXPECT_EQ(archive[1].event_seq, records[3].seq);
}

TEST_P(DeliveryQueueConformance, RepeatedFanOutCreatesNothingMore) {
  subscribers_ = {{kDeleted, {"archive", "notify"}}};
  delete_new_order(kT0);
  EXPECT_EQ(fan_out(), 2);
  EXPECT_EQ(fan_out(), 0);
  EXPECT_EQ(fan_out(kT0 + 1h), 0);
  EXPECT_EQ(all(DeliveryState::pending).size(), 2u);

  // Only the new event is fanned out later.
  const domain::Event later = delete_new_order(kT0 + 1s);
  EXPECT_EQ(fan_out(kT0 + 2s), 2);
  const auto pending = all(DeliveryState::pending);
  ASSERT_EQ(pending.size(), 4u);
  EXPECT_EQ(pending[2].event.id, later.id);
  EXPECT_EQ(pending[2].next_attempt, kT0 + 2s);
  EXPECT_EQ(pending[3].event.id, later.id);
}

TEST_P(DeliveryQueueConformance, EventsNobodySubscribesToCreateNoDeliveryButAdvanceTheCursor) {
  subscribers_ = {{kDeleted, {"archive"}}};
  create_order(kT0);
  create_order(kT0);
  EXPECT_EQ(fan_out(), 2);
  EXPECT_TRUE(all(DeliveryState::pending).empty());
  const ports::DeliveryStats s = admin().delivery_stats();
  EXPECT_EQ(s.fanned_out_seq, orders().read_outbox(0, kAll).back().seq);
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(fan_out(), 0);
}

TEST_P(DeliveryQueueConformance, FanOutTakesAtMostLimitEventsInOrder) {
  subscribers_ = {{kCreated, {"audit"}}};
  for (int i = 0; i < 5; ++i) create_order(kT0 + std::chrono::seconds(i));
  const auto records = orders().read_outbox(0, kAll);
  EXPECT_EQ(fan_out(kT0, 2), 2);
  EXPECT_EQ(admin().delivery_stats().fanned_out_seq, records[1].seq);
  EXPECT_EQ(fan_out(kT0, 2), 2);
  EXPECT_EQ(fan_out(kT0, 2), 1);
  EXPECT_EQ(fan_out(kT0, 2), 0);
  const auto pending = all(DeliveryState::pending);
  ASSERT_EQ(pending.size(), 5u);
  for (std::size_t i = 0; i < pending.size(); ++i) EXPECT_EQ(pending[i].event_seq, records[i].seq);
}

TEST_P(DeliveryQueueConformance, ConcurrentFanOutsCreateEachDeliveryOnce) {
  subscribers_ = {{kCreated, {"audit", "search"}}};
  constexpr int kEvents = 60;
  for (int i = 0; i < kEvents; ++i) create_order(kT0);
  std::atomic<int> fanned_out{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        while (const int n = fan_out(kT0, 7)) fanned_out += n;
      });
  }
  EXPECT_EQ(fanned_out.load(), kEvents);
  EXPECT_EQ(all(DeliveryState::pending).size(), 2u * kEvents);
  EXPECT_EQ(claim("audit", kT0).size(), static_cast<std::size_t>(kEvents));
}

// --- claim and next_due ---

TEST_P(DeliveryQueueConformance, ClaimTakesOnlyDueDeliveriesOldestEventFirstUpToTheLimit) {
  subscribers_ = {{kDeleted, {"archive", "notify"}}};
  std::vector<domain::Event> events;
  for (int i = 0; i < 3; ++i) events.push_back(delete_new_order(kT0 - 1min));
  fan_out(kT0);

  EXPECT_TRUE(claim("archive", kT0 - 1us).empty());
  EXPECT_TRUE(claim("nobody", kT0).empty());
  EXPECT_TRUE(claim("archive", kT0, 0).empty());
  EXPECT_EQ(queue().next_due("archive"), kT0);

  const auto first = claim("archive", kT0, 2);
  ASSERT_EQ(first.size(), 2u);
  const auto rest = claim("archive", kT0 + 1s);
  ASSERT_EQ(rest.size(), 1u);
  const std::vector<Delivery> claimed = {first[0], first[1], rest[0]};
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    const Delivery& d = claimed[i];
    EXPECT_EQ(d.event.id, events[i].id);
    EXPECT_EQ(d.subscription, "archive");
    EXPECT_EQ(d.state, DeliveryState::pending);
    EXPECT_EQ(d.attempts, 0);
    EXPECT_EQ(d.next_attempt, (i < 2 ? kT0 : kT0 + 1s) + kLease) << "the lease's end";
    // The admin view agrees: a claimed delivery is pending until its lease ends.
    const Delivery stored = fetch(d.id);
    EXPECT_EQ(stored.state, DeliveryState::pending);
    EXPECT_EQ(stored.next_attempt, d.next_attempt);
  }
  EXPECT_TRUE(claim("archive", kT0 + 2s).empty());
  // next_due counts leases too: the earliest one ends first.
  EXPECT_EQ(queue().next_due("archive"), kT0 + kLease);
  // The other subscription's deliveries are untouched.
  EXPECT_EQ(queue().next_due("notify"), kT0);
  EXPECT_EQ(claim("notify", kT0).size(), 3u);
}

TEST_P(DeliveryQueueConformance, ClaimedDeliveriesAreNotClaimedAgainBeforeTheLeaseEnds) {
  ASSERT_EQ(archive_deliveries(2).size(), 2u);
  for (const auto& owner : {"worker-1", "worker-2"}) {
    EXPECT_TRUE(claim("archive", kT0, kAll, owner).empty()) << owner;
    EXPECT_TRUE(claim("archive", kT0 + kLease - 1us, kAll, owner).empty()) << owner;
  }
}

TEST_P(DeliveryQueueConformance, ClaimsWhoseLeaseEndedAreClaimedAgainByAnyone) {
  const auto claimed = archive_deliveries(2);
  // worker-1 "died" holding both: from the end of its lease they are anybody's.
  const auto taken = queue().claim("archive", "worker-2", kT0 + kLease, kT0 + kLease + 10s, kAll);
  ASSERT_EQ(ids_of(taken), ids_of(claimed));
  for (std::size_t i = 0; i < taken.size(); ++i) {
    EXPECT_EQ(taken[i].next_attempt, kT0 + kLease + 10s);
    expect_same_event(taken[i].event, claimed[i].event);
  }
  EXPECT_TRUE(claim("archive", kT0 + kLease + 10s - 1us).empty());
  EXPECT_EQ(ids_of(claim("archive", kT0 + kLease + 10s)), ids_of(claimed));
}

TEST_P(DeliveryQueueConformance, ReleaseFreesOnlyThatOwnersClaims) {
  subscribers_ = {{kDeleted, {"archive", "notify"}}};
  for (int i = 0; i < 4; ++i) delete_new_order(kT0 - 1min);
  fan_out(kT0);
  const auto mine = claim("archive", kT0, 2, "worker-1");
  const auto theirs = claim("archive", kT0, 2, "worker-2");
  const auto my_notify = claim("notify", kT0, 1, "worker-1");
  ASSERT_EQ(mine.size(), 2u);
  ASSERT_EQ(theirs.size(), 2u);
  ASSERT_EQ(my_notify.size(), 1u);

  EXPECT_EQ(queue().release("worker-1", kT0 + 5s), 3);
  for (const Delivery& d : mine) EXPECT_EQ(fetch(d.id).next_attempt, kT0 + 5s);
  EXPECT_EQ(fetch(my_notify[0].id).next_attempt, kT0 + 5s);
  for (const Delivery& d : theirs) EXPECT_EQ(fetch(d.id).next_attempt, kT0 + kLease);

  // Due again at once, for anyone; worker-2's stay its own until their lease ends.
  EXPECT_TRUE(claim("archive", kT0 + 5s - 1us, kAll, "worker-3").empty());
  EXPECT_EQ(ids_of(claim("archive", kT0 + 5s, kAll, "worker-3")), ids_of(mine));
  EXPECT_EQ(claim("notify", kT0 + 5s, kAll, "worker-3").size(), 4u);
  EXPECT_EQ(queue().release("worker-1", kT0 + 6s), 0);  // nothing left to release
  EXPECT_EQ(queue().release("nobody", kT0 + 6s), 0);
}

TEST_P(DeliveryQueueConformance, MarkingEndsTheClaim) {
  const auto claimed = archive_deliveries(3);
  queue().mark_failed(claimed[0].id, "timed out", kT0 + 1s, kT0);  // retried before the lease ends
  queue().mark_failed(claimed[1].id, "malformed", std::nullopt, kT0);
  queue().mark_done({claimed[2].id}, kT0);
  EXPECT_EQ(queue().release(kWorker, kT0 + 2s), 0);  // nothing is held any more
  EXPECT_EQ(fetch(claimed[0].id).next_attempt, kT0 + 1s);
  EXPECT_EQ(queue().next_due("archive"), kT0 + 1s);
  EXPECT_TRUE(claim("archive", kT0 + 1s - 1us, kAll, "worker-2").empty());
  EXPECT_EQ(ids_of(claim("archive", kT0 + 1s, kAll, "worker-2")),
            std::vector<std::int64_t>{claimed[0].id});
}

TEST_P(DeliveryQueueConformance, ConcurrentClaimsNeverReturnOneDeliveryTwice) {
  subscribers_ = {{kCreated, {"audit"}}};
  constexpr int kEvents = 80;
  for (int i = 0; i < kEvents; ++i) create_order(kT0);
  fan_out(kT0);
  std::mutex mu;
  std::multiset<std::int64_t> claimed;  // guarded by mu
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        const std::string owner = "worker-" + std::to_string(t);
        while (true) {
          const auto batch = claim("audit", kT0, 3, owner);
          if (batch.empty()) return;
          std::lock_guard lock(mu);
          for (const Delivery& d : batch) claimed.insert(d.id);
        }
      });
  }
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kEvents));
  for (const std::int64_t id : claimed) EXPECT_EQ(claimed.count(id), 1u) << id;
}

TEST_P(DeliveryQueueConformance, NextDueOfUnknownSubscriptionIsNothing) {
  EXPECT_EQ(queue().next_due("archive"), std::nullopt);
}

// --- mark_done and mark_failed ---

TEST_P(DeliveryQueueConformance, MarkDoneMarksEveryGivenDelivery) {
  const auto due = archive_deliveries(3);
  queue().mark_done({}, kT0);  // nothing to do
  queue().mark_done({due[0].id, due[2].id}, kT0 + 5s);
  for (const std::int64_t id : {due[0].id, due[2].id}) {
    const Delivery d = fetch(id);
    EXPECT_EQ(d.state, DeliveryState::done);
    EXPECT_EQ(d.updated, kT0 + 5s);
    EXPECT_EQ(d.attempts, 0);
  }
  EXPECT_EQ(fetch(due[1].id).state, DeliveryState::pending);
  EXPECT_EQ(ids_of(all(DeliveryState::done)), (std::vector<std::int64_t>{due[0].id, due[2].id}));
  EXPECT_EQ(ids_of(claim("archive", kT0 + 1h)), std::vector<std::int64_t>{due[1].id});
}

TEST_P(DeliveryQueueConformance, FailureWithRetryTimeStaysPendingAndRecordsTheAttempt) {
  const auto due = archive_deliveries(1);
  queue().mark_failed(due[0].id, "connection refused", kT0 + 1s, kT0);
  Delivery d = fetch(due[0].id);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "connection refused");
  EXPECT_EQ(d.next_attempt, kT0 + 1s);
  EXPECT_EQ(d.updated, kT0);

  ASSERT_EQ(claim("archive", kT0 + 1s).size(), 1u);
  queue().mark_failed(due[0].id, "timed out", kT0 + 5s, kT0 + 1s);
  d = fetch(due[0].id);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.last_error, "timed out");
  EXPECT_EQ(d.next_attempt, kT0 + 5s);
  EXPECT_EQ(d.updated, kT0 + 1s);
}

TEST_P(DeliveryQueueConformance, FailureWithoutRetryTimeIsDead) {
  const auto due = archive_deliveries(2);
  queue().mark_failed(due[0].id, "first", kT0 + 1s, kT0);
  ASSERT_EQ(claim("archive", kT0 + 1s).size(), 1u);
  queue().mark_failed(due[0].id, "malformed event", std::nullopt, kT0 + 1s);
  const Delivery d = fetch(due[0].id);
  EXPECT_EQ(d.state, DeliveryState::dead);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.last_error, "malformed event");
  EXPECT_EQ(d.updated, kT0 + 1s);
  EXPECT_EQ(ids_of(all(DeliveryState::dead)), std::vector<std::int64_t>{due[0].id});
  EXPECT_EQ(ids_of(claim("archive", kT0 + 24h)), std::vector<std::int64_t>{due[1].id});
  queue().mark_done({due[1].id}, kT0);
  EXPECT_EQ(queue().next_due("archive"), std::nullopt);  // the dead one is never due
}

TEST_P(DeliveryQueueConformance, ErrorTextIsStoredByteExact) {
  const auto due = archive_deliveries(1);
  const std::string error = "it's \"quoted\" \\ 😀\nSMTP 550 '; DROP TABLE deliveries; --";
  queue().mark_failed(due[0].id, error, std::nullopt, kT0);
  EXPECT_EQ(fetch(due[0].id).last_error, error);
}

// --- durability ---

TEST_P(DeliveryQueueConformance, ClaimsSurviveReopening) {
  const auto claimed = archive_deliveries(2);
  reopen();  // as after a crash of the worker that held them
  EXPECT_TRUE(claim("archive", kT0 + kLease - 1us, kAll, "worker-2").empty());
  EXPECT_EQ(ids_of(claim("archive", kT0 + kLease, kAll, "worker-2")), ids_of(claimed));
}

// --- get and list ---

TEST_P(DeliveryAdminConformance, GetReturnsTheDeliveryWithItsEvent) {
  subscribers_ = {{kDeleted, {"archive"}}};
  const domain::Event e = delete_new_order(kT0 - 1s);
  fan_out(kT0);
  const auto pending = all(DeliveryState::pending);
  ASSERT_EQ(pending.size(), 1u);
  const Delivery d = fetch(pending[0].id);
  EXPECT_EQ(d.id, pending[0].id);
  EXPECT_EQ(d.subscription, "archive");
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.next_attempt, kT0);
  EXPECT_EQ(d.event_seq, orders().read_outbox(0, kAll).back().seq);
  EXPECT_EQ(d.updated, kT0);
  expect_same_event(d.event, e);
  EXPECT_EQ(admin().get(d.id + 1000), std::nullopt);
  EXPECT_EQ(admin().get(0), std::nullopt);
}

TEST_P(DeliveryAdminConformance, ListPagesOneStateAscendingById) {
  const auto due = archive_deliveries(6);
  for (std::size_t i = 0; i < 5; ++i) queue().mark_failed(due[i].id, "x", std::nullopt, kT0);

  std::vector<std::int64_t> paged;
  std::int64_t after = 0;
  int pages = 0;
  for (;;) {
    const ports::DeliveryPage page = admin().list(DeliveryState::dead, after, 2);
    ++pages;
    EXPECT_LE(page.deliveries.size(), 2u);
    for (const Delivery& d : page.deliveries) {
      EXPECT_EQ(d.state, DeliveryState::dead);
      paged.push_back(d.id);
    }
    if (!page.has_more) break;
    ASSERT_FALSE(page.deliveries.empty());
    after = page.deliveries.back().id;
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::int64_t> expected;
  for (std::size_t i = 0; i < 5; ++i) expected.push_back(due[i].id);
  EXPECT_EQ(paged, expected);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));

  EXPECT_EQ(ids_of(all(DeliveryState::pending)), std::vector<std::int64_t>{due[5].id});
  EXPECT_TRUE(all(DeliveryState::done).empty());
  const auto exact = admin().list(DeliveryState::dead, 0, 5);
  EXPECT_EQ(exact.deliveries.size(), 5u);
  EXPECT_FALSE(exact.has_more);
  EXPECT_TRUE(admin().list(DeliveryState::dead, due[4].id, 10).deliveries.empty());
}

// --- redrive ---

TEST_P(DeliveryAdminConformance, RedriveMakesOneDeadDeliveryPendingAgain) {
  const auto due = archive_deliveries(3);
  queue().mark_failed(due[0].id, "a", kT0 + 1s, kT0);
  ASSERT_EQ(claim("archive", kT0 + 1s).size(), 1u);
  queue().mark_failed(due[0].id, "b", std::nullopt, kT0 + 1s);
  queue().mark_done({due[1].id}, kT0);

  EXPECT_FALSE(admin().redrive(due[1].id, kT0 + 1h));         // done
  EXPECT_FALSE(admin().redrive(due[2].id, kT0 + 1h));         // pending (claimed, even)
  EXPECT_FALSE(admin().redrive(due[2].id + 1000, kT0 + 1h));  // unknown
  EXPECT_EQ(fetch(due[1].id).state, DeliveryState::done);

  EXPECT_TRUE(admin().redrive(due[0].id, kT0 + 1h));
  const Delivery d = fetch(due[0].id);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(d.next_attempt, kT0 + 1h);
  EXPECT_EQ(d.updated, kT0 + 1h);
  EXPECT_FALSE(admin().redrive(due[0].id, kT0 + 1h));  // no longer dead
  // due[2]'s lease ended long ago; the redriven one is due from kT0 + 1h on.
  EXPECT_EQ(ids_of(claim("archive", kT0 + 1h - 1us)), std::vector<std::int64_t>{due[2].id});
  EXPECT_EQ(ids_of(claim("archive", kT0 + 1h)), std::vector<std::int64_t>{due[0].id});
}

TEST_P(DeliveryAdminConformance, RedriveAllDeadTouchesOnlyDeadDeliveries) {
  const auto due = archive_deliveries(5);
  for (std::size_t i = 0; i < 3; ++i) queue().mark_failed(due[i].id, "x", std::nullopt, kT0);
  queue().mark_done({due[3].id}, kT0);

  EXPECT_EQ(admin().redrive_all_dead(kT0 + 1min), 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const Delivery d = fetch(due[i].id);
    EXPECT_EQ(d.state, DeliveryState::pending);
    EXPECT_EQ(d.attempts, 0);
    EXPECT_EQ(d.next_attempt, kT0 + 1min);
  }
  EXPECT_EQ(fetch(due[3].id).state, DeliveryState::done);
  EXPECT_EQ(fetch(due[4].id).next_attempt, kT0 + kLease);  // still claimed: untouched
  EXPECT_EQ(admin().redrive_all_dead(kT0 + 2min), 0);
  EXPECT_TRUE(all(DeliveryState::dead).empty());
}

// --- stats ---

TEST_P(DeliveryAdminConformance, StatsOfAnEmptyStoreAreZero) {
  const ports::DeliveryStats s = admin().delivery_stats();
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(s.dead, 0);
  EXPECT_EQ(s.done, 0);
  EXPECT_EQ(s.oldest_pending_event, std::nullopt);
  EXPECT_EQ(s.fanned_out_seq, 0);
}

TEST_P(DeliveryAdminConformance, StatsCountStatesAndTellTheOldestPendingEvent) {
  subscribers_ = {{kDeleted, {"archive", "notify"}}};
  const domain::Event e1 = delete_new_order(kT0 - 30s);
  const domain::Event e2 = delete_new_order(kT0 - 20s);
  delete_new_order(kT0 - 10s);
  fan_out(kT0);

  ports::DeliveryStats s = admin().delivery_stats();
  EXPECT_EQ(s.pending, 6);
  EXPECT_EQ(s.oldest_pending_event, e1.time);
  EXPECT_EQ(s.fanned_out_seq, orders().read_outbox(0, kAll).back().seq);

  // Claimed deliveries still count as pending.
  const auto archive = claim("archive", kT0);
  const auto notify = claim("notify", kT0);
  EXPECT_EQ(admin().delivery_stats().pending, 6);
  // Both deliveries of e1 leave pending (done and dead): e2 is now the oldest pending event.
  queue().mark_done({archive[0].id, archive[1].id}, kT0);
  queue().mark_failed(notify[0].id, "x", std::nullopt, kT0);
  s = admin().delivery_stats();
  EXPECT_EQ(s.pending, 3);
  EXPECT_EQ(s.done, 2);
  EXPECT_EQ(s.dead, 1);
  EXPECT_EQ(s.oldest_pending_event, e2.time);

  queue().mark_done({archive[2].id, notify[1].id, notify[2].id}, kT0);
  s = admin().delivery_stats();
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(s.done, 5);
  EXPECT_EQ(s.oldest_pending_event, std::nullopt);
}

// --- durability ---

TEST_P(DeliveryAdminConformance, StateSurvivesReopening) {
  const auto due = archive_deliveries(4);
  queue().mark_done({due[0].id}, kT0 + 1s);
  queue().mark_failed(due[1].id, "retry me", kT0 + 1h, kT0 + 2s);
  queue().mark_failed(due[2].id, "dead", std::nullopt, kT0 + 3s);
  std::vector<Delivery> before;
  for (const Delivery& d : due) before.push_back(fetch(d.id));
  const ports::DeliveryStats stats_before = admin().delivery_stats();

  reopen();

  for (const Delivery& b : before) {
    const Delivery a = fetch(b.id);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.next_attempt, b.next_attempt);
    EXPECT_EQ(a.last_error, b.last_error);
    EXPECT_EQ(a.updated, b.updated);
    EXPECT_EQ(a.event_seq, b.event_seq);
    EXPECT_EQ(a.subscription, b.subscription);
    expect_same_event(a.event, b.event);
  }
  const ports::DeliveryStats s = admin().delivery_stats();
  EXPECT_EQ(s.pending, stats_before.pending);
  EXPECT_EQ(s.done, stats_before.done);
  EXPECT_EQ(s.dead, stats_before.dead);
  EXPECT_EQ(s.fanned_out_seq, stats_before.fanned_out_seq);
  EXPECT_EQ(fan_out(), 0);  // the cursor survived too
  EXPECT_EQ(ids_of(claim("archive", kT0 + 1h)), (std::vector<std::int64_t>{due[1].id, due[3].id}));
}

// --- retention ---

TEST_P(RetentionConformance, DoneDeliveriesAndTheEventsNothingNeedsGoPastTheCutoff) {
  const auto due = archive_deliveries(3);  // 3 created + 3 deleted events, 3 deliveries
  queue().mark_done({due[0].id, due[1].id}, kT0 + 1s);
  queue().mark_failed(due[2].id, "dead", std::nullopt, kT0 + 1s);

  const ports::PruneCounts n = prune(kT0 + 1h);

  EXPECT_EQ(n.deliveries, 2);
  EXPECT_EQ(n.outbox, 5);  // every event but the dead delivery's
  EXPECT_TRUE(all(DeliveryState::done).empty());
  ASSERT_EQ(all(DeliveryState::dead).size(), 1u);
  expect_same_event(fetch(due[2].id).event, due[2].event);  // a dead letter keeps its event
  EXPECT_EQ(outbox_ids(), std::vector<std::string>{due[2].event.id});
  EXPECT_EQ(prune(kT0 + 1h).total(), 0);  // nothing left to do
}

TEST_P(RetentionConformance, NothingNewerThanTheCutoffGoes) {
  const auto due = archive_deliveries(2);
  queue().mark_done({due[0].id, due[1].id}, kT0 + 1s);

  const ports::PruneCounts n = prune(kT0);  // the deliveries finished after the cutoff

  EXPECT_EQ(n.deliveries, 0);
  EXPECT_EQ(n.outbox, 2);  // the order.created events before it, which no lane needs
  EXPECT_EQ(all(DeliveryState::done).size(), 2u);
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{due[0].event.id, due[1].event.id}));
}

TEST_P(RetentionConformance, PendingDeliveriesAndTheirEventsStay) {
  const auto due = archive_deliveries(2);
  queue().mark_failed(due[0].id, "retry", kT0 + 1h, kT0 + 1s);

  const ports::PruneCounts n = prune(kT0 + 24h);

  EXPECT_EQ(n.deliveries, 0);
  EXPECT_EQ(n.outbox, 2);  // only the two order.created events, which no lane needs
  EXPECT_EQ(all(DeliveryState::pending).size(), 2u);
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{due[0].event.id, due[1].event.id}));
}

TEST_P(RetentionConformance, EventsTheFanOutHasNotPassedStay) {
  subscribers_ = {{kDeleted, {"archive"}}};
  const auto deleted = delete_new_order(kT0 - 1h);
  const auto events_before = outbox_ids();

  EXPECT_EQ(prune(kT0 + 24h).outbox, 0);
  EXPECT_EQ(outbox_ids(), events_before);

  fan_out();  // the deletion is still delivered
  ASSERT_EQ(all(DeliveryState::pending).size(), 1u);
  EXPECT_EQ(all(DeliveryState::pending)[0].event.id, deleted.id);
}

TEST_P(RetentionConformance, BatchesRunUntilEverythingDueIsGone) {
  const auto due = archive_deliveries(5);
  queue().mark_done(ids_of(due), kT0 + 1s);

  const ports::PruneCounts n = prune(kT0 + 1h, kT0, /*batch=*/2);

  EXPECT_EQ(n.deliveries, 5);
  EXPECT_EQ(n.outbox, 10);
  EXPECT_TRUE(outbox_ids().empty());
}

TEST_P(RetentionConformance, IdempotencyKeysGoAfterTheirOwnCutoff) {
  auto order_with_key = [&](std::string description, std::string fingerprint) {
    domain::Order o;
    o.id = ids_.new_id();
    o.description = std::move(description);
    o.price = domain::Money::from_cents(100);
    o.created = o.last_modified = kT0;
    o.version = 1;
    // not_before far back: the store itself would still honour the key.
    return orders()
        .create(o, domain::order_created_event(o, ids_.new_id(), kT0),
                ports::IdempotencyClaim{"key-1", std::move(fingerprint), kT0 - 24h * 365})
        .kind;
  };
  ASSERT_EQ(order_with_key("first", "a"), ports::CreateResult::Kind::created);
  ASSERT_EQ(order_with_key("other", "b"), ports::CreateResult::Kind::key_conflict);

  EXPECT_EQ(prune(kT0 - 1h, /*keys_before=*/kT0).idempotency_keys, 0);
  EXPECT_EQ(prune(kT0 - 1h, /*keys_before=*/kT0 + 1s).idempotency_keys, 1);

  EXPECT_EQ(order_with_key("other", "b"), ports::CreateResult::Kind::created);
}

TEST_P(RetentionConformance, NoticesGoOnlyOnceTheirEventIsDoneEverywhere) {
  auto& subs = *stores_.subscriptions;
  const auto due = archive_deliveries(1);
  const std::string event_id = due[0].event.id;
  ASSERT_EQ(subs.claim_notice(event_id, "a@example.com", kT0, kT0 + 1min),
            ports::NoticeClaim::claimed);
  subs.mark_notice_sent(event_id, "a@example.com", kT0 + 1s);

  // Its delivery is still pending (a retry could come): the notice record must stay.
  EXPECT_EQ(prune(kT0 + 24h).notifications, 0);
  EXPECT_TRUE(subs.notice_sent(event_id, "a@example.com"));

  queue().mark_done({due[0].id}, kT0 + 2s);
  EXPECT_EQ(prune(kT0 + 1s).notifications, 0);  // sent at the cutoff, not before it
  EXPECT_EQ(prune(kT0 + 24h).notifications, 1);
  EXPECT_FALSE(subs.notice_sent(event_id, "a@example.com"));
}

TEST_P(RetentionConformance, AbandonedNoticeClaimsGoToo) {
  auto& subs = *stores_.subscriptions;
  const auto due = archive_deliveries(1);
  queue().mark_done({due[0].id}, kT0 + 1s);
  ASSERT_EQ(subs.claim_notice(due[0].event.id, "b@example.com", kT0, kT0 + 1min),
            ports::NoticeClaim::claimed);  // its sender died before marking it

  EXPECT_EQ(prune(kT0 + 30s).notifications, 0);  // the lease had not ended by then
  EXPECT_EQ(prune(kT0 + 24h).notifications, 1);
}

const auto kNamed = [](const ::testing::TestParamInfo<DeliveryStoreFactory>& param_info) {
  return param_info.param.name;
};
INSTANTIATE_TEST_SUITE_P(Stores, DeliveryQueueConformance,
                         ::testing::ValuesIn(delivery_store_factories()), kNamed);
INSTANTIATE_TEST_SUITE_P(Stores, DeliveryAdminConformance,
                         ::testing::ValuesIn(delivery_store_factories()), kNamed);
INSTANTIATE_TEST_SUITE_P(Stores, RetentionConformance,
                         ::testing::ValuesIn(delivery_store_factories()), kNamed);

}  // namespace
}  // namespace orderflow::testing
