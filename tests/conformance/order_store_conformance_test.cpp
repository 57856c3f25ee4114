// The OrderStore contract (src/ports/order_store.hpp), run against every adapter listed in
// store_factories.cpp. Each test gets its own temp dir and a fresh store.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "conformance/store_factories.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "ports/order_store.hpp"

namespace orderflow::domain {
// Readable failure messages for orders.
void PrintTo(const Order& o, std::ostream* os) { *os << order_json(o) << " version=" << o.version; }
}  // namespace orderflow::domain

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Money;
using domain::Order;
using domain::Timestamp;
using ports::ChangeResult;
using ports::CreateResult;
using ports::IdempotencyClaim;
using ports::OrderPatch;

constexpr int kAll = 1'000'000;  // a read limit above anything a test writes

OrderPatch set_description(std::string description) {
  OrderPatch p;
  p.description = std::move(description);
  return p;
}

OrderPatch set_price(std::int64_t cents) {
  OrderPatch p;
  p.price = Money::from_cents(cents);
  return p;
}

Timestamp at_us(std::int64_t us) { return Timestamp{std::chrono::microseconds{us}}; }

boost::json::object parse_data(const domain::Event& e) {
  return boost::json::parse(e.data).as_object();
}

std::string json_string(const boost::json::value& v) { return std::string(v.as_string()); }

void expect_same_event(const domain::Event& actual, const domain::Event& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.type, expected.type);
  EXPECT_EQ(actual.subject, expected.subject);
  EXPECT_EQ(actual.time, expected.time);
  EXPECT_EQ(actual.data, expected.data);
}

class OrderStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(dir_.path()); }
  void TearDown() override { store_.reset(); }

  void reopen() {
    store_.reset();
    store_ = GetParam().make(dir_.path());
  }

  Order new_order(std::string description = "a blue widget", std::int64_t cents = 1250) {
    const Timestamp now = clock_.now();
    Order o;
    o.id = ids_.new_id();
    o.description = std::move(description);
    o.price = Money::from_cents(cents);
    o.created = now;
    o.last_modified = now;
    o.version = 1;
    return o;
  }

  CreateResult create(const Order& o, const std::optional<IdempotencyClaim>& claim = std::nullopt) {
    return store_->create(o, domain::order_created_event(o, ids_.new_id(), o.created), claim);
  }

  Order create_new(std::string description = "a blue widget", std::int64_t cents = 1250) {
    Order o = new_order(std::move(description), cents);
    const CreateResult r = create(o);
    EXPECT_EQ(r.kind, CreateResult::Kind::created);
    return o;
  }

  ChangeResult update(const std::string& id, OrderPatch patch,
                      std::optional<std::int64_t> expected_version = std::nullopt) {
    return store_->update(id, patch, expected_version, clock_.now(), ids_.new_id());
  }

  ChangeResult remove(const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt) {
    return store_->remove(id, expected_version, clock_.now(), ids_.new_id());
  }

  std::vector<ports::OutboxRecord> all_events() { return store_->read_outbox(0, kAll); }

  std::vector<Order> list_all(int page_size) {
    std::vector<Order> all;
    std::string after;
    for (;;) {
      ports::OrderPage page = store_->list(after, page_size);
      all.insert(all.end(), page.orders.begin(), page.orders.end());
      if (!page.has_more) return all;
      EXPECT_FALSE(page.orders.empty());
      after = page.orders.back().id;
    }
  }

  TempDir dir_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
  std::unique_ptr<ports::OrderStore> store_;
};

// --- create and get ---

TEST_P(OrderStoreConformance, CreateThenGetReturnsEveryFieldAsCreated) {
  Order o = new_order("Espresso machine", 99'999'999'999);
  o.created = at_us(1'795'606'034'123'457);  // 2026-11-25T11:47:14.123457Z
  o.last_modified = at_us(1'795'606'035'000'001);
  o.version = 3;
  o.image_key = "uploads/2026/11/photo-1.jpg";
  o.detected_labels = R"(["espresso maker","coffee mug"])";
  o.validation_status = "match";

  const CreateResult r = create(o);
  ASSERT_EQ(r.kind, CreateResult::Kind::created);
  EXPECT_EQ(r.order, o);
  EXPECT_EQ(store_->get(o.id), o);
}

TEST_P(OrderStoreConformance, HostileStringsAreStoredByteExact) {
  const std::vector<std::string> descriptions = {
      R"(it's a "quoted" 'thing')",
      R"(back\slash \\ and \n written out, C:\temp\)",
      "emoji 🍕🎉 and a family 👩‍👩‍👧 with joiners",
      "עברית وعربي right-to-left \u202Eoverride\u202C mixed",
      "'; DROP TABLE orders; --",
      "Robert\"); DELETE FROM outbox; --",
      "tab\tand\nnewline and 100% _wildcards_ *",
      std::string(1000, 'x'),
  };
  std::vector<Order> created;
  for (const std::string& d : descriptions) {
    Order o = new_order(d, 1);
    o.image_key = "keys/it's \"odd\"/😀/\\";
    o.detected_labels = R"(["O'Reilly \"quoted\"","\\back","'; DROP TABLE orders; --"])";
    o.validation_status = "مطابق";
    ASSERT_EQ(create(o).kind, CreateResult::Kind::created);
    created.push_back(o);
  }
  for (const Order& o : created) EXPECT_EQ(store_->get(o.id), o);
  EXPECT_EQ(list_all(3), created);

  const auto events = all_events();
  ASSERT_EQ(events.size(), created.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto data = parse_data(events[i].event);
    EXPECT_EQ(json_string(data.at("order").at("description")), created[i].description);
  }
}

TEST_P(OrderStoreConformance, GetUnknownIdReturnsNothing) {
  create_new();
  EXPECT_EQ(store_->get(ids_.new_id()), std::nullopt);
  EXPECT_EQ(store_->get(""), std::nullopt);
  EXPECT_EQ(store_->get("'; DROP TABLE orders; --"), std::nullopt);
}

// --- list ---

TEST_P(OrderStoreConformance, ListOfEmptyStoreIsEmptyWithoutMore) {
  const ports::OrderPage page = store_->list("", 10);
  EXPECT_TRUE(page.orders.empty());
  EXPECT_FALSE(page.has_more);
}

TEST_P(OrderStoreConformance, ListPagesAscendingById) {
  std::vector<Order> created;
  for (int i = 0; i < 5; ++i) created.push_back(create_new("order " + std::to_string(i), 100 + i));
  std::sort(created.begin(), created.end(),
            [](const Order& a, const Order& b) { return a.id < b.id; });

  ports::OrderPage first = store_->list("", 2);
  ASSERT_EQ(first.orders.size(), 2u);
  EXPECT_EQ(first.orders[0], created[0]);
  EXPECT_EQ(first.orders[1], created[1]);
  EXPECT_TRUE(first.has_more);

  ports::OrderPage second = store_->list(created[1].id, 2);
  ASSERT_EQ(second.orders.size(), 2u);
  EXPECT_EQ(second.orders[0], created[2]);
  EXPECT_EQ(second.orders[1], created[3]);
  EXPECT_TRUE(second.has_more);

  ports::OrderPage last = store_->list(created[3].id, 2);
  ASSERT_EQ(last.orders.size(), 1u);
  EXPECT_EQ(last.orders[0], created[4]);
  EXPECT_FALSE(last.has_more);

  // A page that ends exactly at the last order has nothing more.
  ports::OrderPage exact = store_->list(created[2].id, 2);
  EXPECT_EQ(exact.orders.size(), 2u);
  EXPECT_FALSE(exact.has_more);

  EXPECT_TRUE(store_->list(created[4].id, 2).orders.empty());
  EXPECT_FALSE(store_->list(created[4].id, 2).has_more);
  EXPECT_EQ(store_->list("", 100).orders, created);
  EXPECT_EQ(list_all(1), created);
}

TEST_P(OrderStoreConformance, ListAfterAnIdThatIsNotStoredStartsAfterIt) {
  std::vector<Order> created;
  for (int i = 0; i < 3; ++i) created.push_back(create_new());
  std::sort(created.begin(), created.end(),
            [](const Order& a, const Order& b) { return a.id < b.id; });
  // Sorts after the first id and, as a prefix of it, before the second.
  const std::string between = created[0].id + "0";
  const ports::OrderPage page = store_->list(between, 10);
  ASSERT_EQ(page.orders.size(), 2u);
  EXPECT_EQ(page.orders[0], created[1]);
}

// --- update ---

TEST_P(OrderStoreConformance, UpdateDescriptionOnly) {
  const Order o = create_new("before", 500);
  const Timestamp at = o.created + 1500us;
  const ChangeResult r =
      store_->update(o.id, set_description("after"), std::nullopt, at, ids_.new_id());
  ASSERT_EQ(r.kind, ChangeResult::Kind::done);
  Order expected = o;
  expected.description = "after";
  expected.version = 2;
  expected.last_modified = at;
  EXPECT_EQ(r.order, expected);
  EXPECT_EQ(store_->get(o.id), expected);
}

TEST_P(OrderStoreConformance, UpdatePriceOnly) {
  const Order o = create_new("unchanged", 500);
  const Timestamp at = o.created + 7us;
  const ChangeResult r = store_->update(o.id, set_price(1), std::nullopt, at, ids_.new_id());
  ASSERT_EQ(r.kind, ChangeResult::Kind::done);
  Order expected = o;
  expected.price = Money::from_cents(1);
  expected.version = 2;
  expected.last_modified = at;
  EXPECT_EQ(r.order, expected);
  EXPECT_EQ(store_->get(o.id), expected);
}

TEST_P(OrderStoreConformance, UpdateBothFieldsAndBumpVersionEachTime) {
  const Order o = create_new("first", 500);
  Order expected = o;
  for (int i = 1; i <= 3; ++i) {
    const Timestamp at = o.created + std::chrono::microseconds(i);
    const std::string description = "change " + std::to_string(i);
    const ChangeResult r =
        store_->update(o.id, {.description = description, .price = Money::from_cents(1000 + i)},
                       std::nullopt, at, ids_.new_id());
    ASSERT_EQ(r.kind, ChangeResult::Kind::done);
    expected.description = description;
    expected.price = Money::from_cents(1000 + i);
    expected.version = 1 + i;
    expected.last_modified = at;
    EXPECT_EQ(r.order, expected);
  }
  EXPECT_EQ(store_->get(o.id), expected);
}

TEST_P(OrderStoreConformance, UpdateWithMatchingOrAnyVersionSucceeds) {
  const Order o = create_new();
  EXPECT_EQ(update(o.id, set_description("v2"), 1).kind, ChangeResult::Kind::done);
  EXPECT_EQ(update(o.id, set_description("v3"), 0).kind, ChangeResult::Kind::done);  // If-Match: *
  EXPECT_EQ(store_->get(o.id)->version, 3);
}

TEST_P(OrderStoreConformance, UpdateWithStaleVersionChangesNothing) {
  const Order o = create_new("original", 700);
  ASSERT_EQ(update(o.id, set_description("v2"), 1).kind, ChangeResult::Kind::done);
  const Order current = *store_->get(o.id);
  const auto events_before = all_events();

  const ChangeResult r = update(o.id, set_description("stale"), 1);
  EXPECT_EQ(r.kind, ChangeResult::Kind::version_mismatch);
  EXPECT_EQ(store_->get(o.id), current);
  EXPECT_EQ(all_events().size(), events_before.size());
}

TEST_P(OrderStoreConformance, UpdateOfUnknownOrderIsNotFound) {
  create_new();
  const auto events_before = all_events();
  EXPECT_EQ(update(ids_.new_id(), set_description("x")).kind, ChangeResult::Kind::not_found);
  EXPECT_EQ(update(ids_.new_id(), set_description("x"), 1).kind, ChangeResult::Kind::not_found);
  EXPECT_EQ(all_events().size(), events_before.size());
}

// --- remove ---

TEST_P(OrderStoreConformance, RemoveThenGetReturnsNothing) {
  const Order keep = create_new("keep");
  const Order gone = create_new("gone");
  const ChangeResult r = remove(gone.id);
  ASSERT_EQ(r.kind, ChangeResult::Kind::done);
  EXPECT_EQ(r.order, gone);
  EXPECT_EQ(store_->get(gone.id), std::nullopt);
  EXPECT_EQ(store_->get(keep.id), keep);
  EXPECT_EQ(list_all(10), std::vector<Order>{keep});
}

TEST_P(OrderStoreConformance, RemoveWithStaleVersionChangesNothing) {
  const Order o = create_new();
  ASSERT_EQ(update(o.id, set_price(2)).kind, ChangeResult::Kind::done);
  const auto events_before = all_events();
  EXPECT_EQ(remove(o.id, 1).kind, ChangeResult::Kind::version_mismatch);
  EXPECT_TRUE(store_->get(o.id).has_value());
  EXPECT_EQ(all_events().size(), events_before.size());

  EXPECT_EQ(remove(o.id, 2).kind, ChangeResult::Kind::done);
  EXPECT_EQ(store_->get(o.id), std::nullopt);
}

TEST_P(OrderStoreConformance, RemoveOfUnknownOrderIsNotFound) {
  const Order o = create_new();
  ASSERT_EQ(remove(o.id).kind, ChangeResult::Kind::done);
  const auto events_before = all_events();
  EXPECT_EQ(remove(o.id).kind, ChangeResult::Kind::not_found);  // already removed
  EXPECT_EQ(remove(ids_.new_id(), 0).kind, ChangeResult::Kind::not_found);
  EXPECT_EQ(all_events().size(), events_before.size());
}

// --- outbox ---

TEST_P(OrderStoreConformance, EachChangeAppendsOneEventInCommitOrder) {
  Order o = new_order("lamp", 1999);
  const domain::Event created = domain::order_created_event(o, ids_.new_id(), o.created);
  ASSERT_EQ(store_->create(o, created, std::nullopt).kind, CreateResult::Kind::created);

  const Timestamp updated_at = o.created + 10us;
  const std::string update_id = ids_.new_id();
  const ChangeResult updated =
      store_->update(o.id, set_price(2500), std::nullopt, updated_at, update_id);
  ASSERT_EQ(updated.kind, ChangeResult::Kind::done);

  const Timestamp deleted_at = o.created + 20us;
  const std::string delete_id = ids_.new_id();
  ASSERT_EQ(store_->remove(o.id, std::nullopt, deleted_at, delete_id).kind,
            ChangeResult::Kind::done);

  const auto events = all_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_LT(events[0].seq, events[1].seq);
  EXPECT_LT(events[1].seq, events[2].seq);

  expect_same_event(events[0].event, created);
  const auto created_data = parse_data(events[0].event);
  EXPECT_EQ(json_string(created_data.at("eventType")), "ORDER_CREATED");
  EXPECT_EQ(json_string(created_data.at("order").at("orderId")), o.id);
  EXPECT_EQ(json_string(created_data.at("order").at("description")), "lamp");

  Order after = o;
  after.price = Money::from_cents(2500);
  after.version = 2;
  after.last_modified = updated_at;
  expect_same_event(events[1].event, domain::order_updated_event(o, after, update_id, updated_at));
  EXPECT_EQ(events[1].event.type, domain::kOrderUpdated);
  EXPECT_EQ(events[1].event.subject, o.id);
  const auto updated_data = parse_data(events[1].event);
  EXPECT_EQ(json_string(updated_data.at("eventType")), "ORDER_UPDATED");
  EXPECT_EQ(json_string(updated_data.at("order").at("orderId")), o.id);
  // Prices are checked as text: the decimal must survive exactly, not through a double.
  EXPECT_NE(events[1].event.data.find(R"("price":25.00)"), std::string::npos);
  EXPECT_NE(events[1].event.data.find(R"("price":19.99)"), std::string::npos);

  expect_same_event(events[2].event, domain::order_deleted_event(after, delete_id, deleted_at));
  EXPECT_EQ(events[2].event.type, domain::kOrderDeleted);
  EXPECT_EQ(events[2].event.subject, o.id);
  EXPECT_EQ(events[2].event.time, deleted_at);
  const auto deleted_data = parse_data(events[2].event);
  EXPECT_EQ(json_string(deleted_data.at("eventType")), "ORDER_DELETED");
  EXPECT_EQ(json_string(deleted_data.at("orderId")), o.id);
  EXPECT_EQ(json_string(deleted_data.at("deletedAt")), domain::format_rfc3339(deleted_at));
  EXPECT_EQ(json_string(deleted_data.at("order").at("description")), "lamp");
}

TEST_P(OrderStoreConformance, ReadOutboxHonoursAfterSeqAndLimit) {
  for (int i = 0; i < 5; ++i) create_new();
  const auto all = all_events();
  ASSERT_EQ(all.size(), 5u);

  const auto first_two = store_->read_outbox(0, 2);
  ASSERT_EQ(first_two.size(), 2u);
  EXPECT_EQ(first_two[0].seq, all[0].seq);
  EXPECT_EQ(first_two[1].seq, all[1].seq);

  const auto rest = store_->read_outbox(all[1].seq, 10);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].seq, all[2].seq);
  EXPECT_EQ(rest[0].event.id, all[2].event.id);

  EXPECT_TRUE(store_->read_outbox(all[4].seq, 10).empty());
}

// --- idempotency ---

TEST_P(OrderStoreConformance, SameKeyAndFingerprintReplaysTheFirstOrder) {
  const IdempotencyClaim claim{"key-1", "fingerprint-a", clock_.now() - 24h};
  const Order first = new_order("first");
  ASSERT_EQ(create(first, claim).kind, CreateResult::Kind::created);
  const ports::StoreStats before = store_->stats();

  const Order second = new_order("first");
  const CreateResult r = create(second, claim);
  EXPECT_EQ(r.kind, CreateResult::Kind::replayed);
  EXPECT_EQ(r.order, first);
  EXPECT_EQ(store_->get(second.id), std::nullopt);
  EXPECT_EQ(store_->stats().orders, before.orders);
  EXPECT_EQ(store_->stats().outbox_events, before.outbox_events);
}

TEST_P(OrderStoreConformance, SameKeyWithOtherFingerprintIsAConflict) {
  const Order first = new_order();
  ASSERT_EQ(create(first, IdempotencyClaim{"key-1", "fingerprint-a", clock_.now() - 24h}).kind,
            CreateResult::Kind::created);
  const ports::StoreStats before = store_->stats();

  const Order second = new_order("another body");
  const CreateResult r =
      create(second, IdempotencyClaim{"key-1", "fingerprint-b", clock_.now() - 24h});
  EXPECT_EQ(r.kind, CreateResult::Kind::key_conflict);
  EXPECT_EQ(store_->get(second.id), std::nullopt);
  EXPECT_EQ(store_->stats().outbox_events, before.outbox_events);
  // Other keys are independent.
  EXPECT_EQ(create(second, IdempotencyClaim{"key-2", "fingerprint-b", clock_.now() - 24h}).kind,
            CreateResult::Kind::created);
}

TEST_P(OrderStoreConformance, ExpiredClaimIsTreatedAsAbsent) {
  const Order first = new_order();
  ASSERT_EQ(create(first, IdempotencyClaim{"key-1", "fingerprint-a", first.created - 24h}).kind,
            CreateResult::Kind::created);

  // The first claim is older than not_before: the key is free again, even for another body.
  const Order second = new_order("second body");
  const Timestamp not_before = first.created + 1us;
  const CreateResult r = create(second, IdempotencyClaim{"key-1", "fingerprint-b", not_before});
  ASSERT_EQ(r.kind, CreateResult::Kind::created);
  EXPECT_EQ(store_->get(second.id), second);
  EXPECT_EQ(store_->get(first.id), first);

  // The key now belongs to the second order.
  const CreateResult again =
      create(new_order("second body"), IdempotencyClaim{"key-1", "fingerprint-b", not_before});
  EXPECT_EQ(again.kind, CreateResult::Kind::replayed);
  EXPECT_EQ(again.order, second);
}

TEST_P(OrderStoreConformance, ReplayAfterTheOrderWasRemovedReturnsItsId) {
  const IdempotencyClaim claim{"key-1", "fingerprint-a", clock_.now() - 24h};
  const Order first = new_order();
  ASSERT_EQ(create(first, claim).kind, CreateResult::Kind::created);
  ASSERT_EQ(remove(first.id).kind, ChangeResult::Kind::done);

  const Order second = new_order();
  const CreateResult r = create(second, claim);
  EXPECT_EQ(r.kind, CreateResult::Kind::replayed);
  EXPECT_EQ(r.order.id, first.id);
  EXPECT_EQ(store_->get(second.id), std::nullopt);
}

// --- concurrency ---

TEST_P(OrderStoreConformance, ConcurrentCreatesAreAllCommittedWithOrderedEvents) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const Order o = new_order("thread " + std::to_string(t) + " order " + std::to_string(i));
          try {
            if (create(o).kind != CreateResult::Kind::created) ++failures;
            ids[t].push_back(o.id);
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
  }
  ASSERT_EQ(failures.load(), 0);

  std::set<std::string> expected;
  for (const auto& v : ids) expected.insert(v.begin(), v.end());
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kThreads * kPerThread));

  std::set<std::string> listed;
  for (const Order& o : list_all(250)) listed.insert(o.id);
  EXPECT_EQ(listed, expected);

  const auto events = all_events();
  ASSERT_EQ(events.size(), expected.size());
  std::map<std::string, std::int64_t> seq_of;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event.type, domain::kOrderCreated);
    if (i > 0) {
      EXPECT_LT(events[i - 1].seq, events[i].seq);
    }
    seq_of[events[i].event.subject] = events[i].seq;
  }
  std::set<std::string> subjects;
  for (const auto& [subject, seq] : seq_of) subjects.insert(subject);
  EXPECT_EQ(subjects, expected);
  // One thread's creates were committed one after another, so their events are in that order.
  for (const auto& v : ids)
    for (std::size_t i = 1; i < v.size(); ++i) EXPECT_LT(seq_of[v[i - 1]], seq_of[v[i]]);

  const ports::StoreStats s = store_->stats();
  EXPECT_EQ(s.orders, kThreads * kPerThread);
  EXPECT_EQ(s.outbox_events, kThreads * kPerThread);
  EXPECT_EQ(s.outbox_last_seq, events.back().seq);
}

TEST_P(OrderStoreConformance, ReadsSucceedWhileWritesAreInFlight) {
  const Order pinned = create_new("always here");
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 150;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> write_failures{0};
  std::vector<std::jthread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kPerWriter; ++i) {
        try {
          create(new_order());
          update(pinned.id, {}, std::nullopt);  // rewrites the pinned order, same content
        } catch (const std::exception&) {
          ++write_failures;
        }
      }
      --writers_left;
    });
  }
  int reads = 0;
  while (writers_left.load() > 0 || reads < 20) {
    const auto got = store_->get(pinned.id);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->description, pinned.description);
    const ports::OrderPage page = store_->list("", 50);
    ASSERT_FALSE(page.orders.empty());
    EXPECT_TRUE(std::is_sorted(page.orders.begin(), page.orders.end(),
                               [](const Order& a, const Order& b) { return a.id < b.id; }));
    const ports::StoreStats s = store_->stats();
    EXPECT_GE(s.orders, 1);
    EXPECT_TRUE(store_->ping());
    ++reads;
  }
  writers.clear();
  EXPECT_EQ(write_failures.load(), 0);
  EXPECT_EQ(store_->stats().orders, 1 + kWriters * kPerWriter);
  EXPECT_EQ(store_->get(pinned.id)->version, 1 + kWriters * kPerWriter);
}

// --- persistence, notification, health ---

TEST_P(OrderStoreConformance, ReopeningKeepsOrdersEventsAndClaims) {
  Order imaged = new_order("from a photo", 4200);
  imaged.image_key = "uploads/photo.jpg";
  imaged.detected_labels = R"(["lamp"])";
  imaged.validation_status = "match";
  const IdempotencyClaim claim{"key-1", "fp", clock_.now() - 1h};
  ASSERT_EQ(create(imaged, claim).kind, CreateResult::Kind::created);
  const Order changed = create_new("to change");
  const Order removed = create_new("to remove");
  ASSERT_EQ(update(changed.id, set_description("changed")).kind, ChangeResult::Kind::done);
  ASSERT_EQ(remove(removed.id).kind, ChangeResult::Kind::done);

  const std::vector<Order> orders_before = list_all(10);
  const auto events_before = all_events();
  const ports::StoreStats stats_before = store_->stats();

  reopen();

  EXPECT_EQ(list_all(10), orders_before);
  EXPECT_EQ(store_->get(imaged.id), imaged);
  EXPECT_EQ(store_->get(removed.id), std::nullopt);
  const auto events_after = all_events();
  ASSERT_EQ(events_after.size(), events_before.size());
  for (std::size_t i = 0; i < events_after.size(); ++i) {
    EXPECT_EQ(events_after[i].seq, events_before[i].seq);
    expect_same_event(events_after[i].event, events_before[i].event);
  }
  const ports::StoreStats stats_after = store_->stats();
  EXPECT_EQ(stats_after.orders, stats_before.orders);
  EXPECT_EQ(stats_after.outbox_events, stats_before.outbox_events);
  EXPECT_EQ(stats_after.outbox_last_seq, stats_before.outbox_last_seq);

  const CreateResult replay = create(new_order("from a photo"), claim);
  EXPECT_EQ(replay.kind, CreateResult::Kind::replayed);
  EXPECT_EQ(replay.order, imaged);

  // New events continue after the old ones.
  create_new();
  EXPECT_GT(all_events().back().seq, events_before.back().seq);
}

// Counts on_commit calls; waits for a count without sleeping (the callback may run on another
// thread, before or after the write returns).
class CommitCounter {
 public:
  std::function<void()> callback() {
    return [this] {
      std::lock_guard lock(mu_);
      ++calls_;
      changed_.notify_all();
    };
  }
  int wait_for_at_least(int n) {
    std::unique_lock lock(mu_);
    // The deadline only turns a missing call into a failure instead of a hang.
    changed_.wait_for(lock, 30s, [&] { return calls_ >= n; });
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int calls_ = 0;
};

TEST_P(OrderStoreConformance, OnCommitIsCalledAfterEachCommitThatAppendedEvents) {
  CommitCounter counter;
  store_->on_commit(counter.callback());

  const Order o = create_new();
  EXPECT_EQ(counter.wait_for_at_least(1), 1);
  // The event is visible to readers once on_commit has been called.
  EXPECT_EQ(all_events().size(), 1u);

  ASSERT_EQ(update(o.id, set_description("v2")).kind, ChangeResult::Kind::done);
  EXPECT_EQ(counter.wait_for_at_least(2), 2);

  // Outcomes that write nothing append no event and call nothing.
  EXPECT_EQ(update(ids_.new_id(), set_description("x")).kind, ChangeResult::Kind::not_found);
  EXPECT_EQ(remove(o.id, 1).kind, ChangeResult::Kind::version_mismatch);

  ASSERT_EQ(remove(o.id).kind, ChangeResult::Kind::done);
  EXPECT_EQ(counter.wait_for_at_least(3), 3);
  EXPECT_EQ(all_events().size(), 3u);
  store_.reset();  // the callback must not outlive the counter
}

TEST_P(OrderStoreConformance, StatsCountOrdersAndEvents) {
  ports::StoreStats s = store_->stats();
  EXPECT_EQ(s.orders, 0);
  EXPECT_EQ(s.outbox_events, 0);
  EXPECT_EQ(s.outbox_last_seq, 0);

  const Order a = create_new();
  create_new();
  ASSERT_EQ(update(a.id, set_description("x")).kind, ChangeResult::Kind::done);
  ASSERT_EQ(remove(a.id).kind, ChangeResult::Kind::done);

  s = store_->stats();
  EXPECT_EQ(s.orders, 1);
  EXPECT_EQ(s.outbox_events, 4);
  EXPECT_EQ(s.outbox_last_seq, all_events().back().seq);
}

TEST_P(OrderStoreConformance, PingAnswers) {
  EXPECT_TRUE(store_->ping());
  create_new();
  EXPECT_TRUE(store_->ping());
}

// Readiness: a healthy store is writable, before and after writes (and a rejected write, an
// expected outcome, does not make it less so).
TEST_P(OrderStoreConformance, AHealthyStoreIsWritable) {
  EXPECT_TRUE(store_->writable());
  const Order order = create_new();
  EXPECT_TRUE(store_->writable());
  EXPECT_EQ(store_->update(order.id, {}, order.version + 5, order.last_modified, "e-mismatch").kind,
            ports::ChangeResult::Kind::version_mismatch);
  EXPECT_TRUE(store_->writable());
}

INSTANTIATE_TEST_SUITE_P(Stores, OrderStoreConformance,
                         ::testing::ValuesIn(order_store_factories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace orderflow::testing
