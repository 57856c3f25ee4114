// The ArchiveIndex contract (src/ports/archive_index.hpp), run against every adapter listed in
// store_factories.cpp.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_factories.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Money;
using domain::Timestamp;
using ports::ArchivedOrder;
using ports::ArchivePageQuery;

const Timestamp kT0{std::chrono::microseconds{1'795'606'034'123'456}};

ArchivedOrder entry(int n, std::string description = "", std::int64_t cents = 100) {
  char id[40];
  std::snprintf(id, sizeof id, "%08d-0000-4000-8000-%012d", n, n);
  return ArchivedOrder{id, description.empty() ? "order " + std::to_string(n) : description,
                       Money::from_cents(cents), kT0 + std::chrono::seconds(n)};
}

std::vector<std::string> ids_of(const std::vector<ArchivedOrder>& page) {
  std::vector<std::string> ids;
  for (const auto& e : page) ids.push_back(e.order_id);
  return ids;
}

class ArchiveIndexConformance : public ::testing::TestWithParam<ArchiveIndexFactory> {
 protected:
  void SetUp() override { index_ = GetParam().make(dir_.path()); }
  void TearDown() override { index_.reset(); }

  void reopen() {
    index_.reset();
    index_ = GetParam().make(dir_.path());
  }
  // Everything up to the current state, in one page.
  std::vector<ArchivedOrder> all(ArchivePageQuery q = {}) {
    q.newest = index_->state().newest;
    q.limit = 100000;
    return index_->page(q);
  }

  TempDir dir_;
  std::unique_ptr<ports::ArchiveIndex> index_;
};

TEST_P(ArchiveIndexConformance, ANewIndexIsEmptyAndNotBackfilled) {
  const auto s = index_->state();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.newest, 0);
  EXPECT_FALSE(s.backfilled.has_value());
  EXPECT_EQ(s.unreadable, 0u);
  EXPECT_TRUE(all().empty());
}

TEST_P(ArchiveIndexConformance, EntriesKeepEveryFieldExactlyAlsoAfterAReopen) {
  const ArchivedOrder big =
      entry(1, "Grüße — 店舗 \xF0\x9F\x98\x80 <b>&amp;</b> 'quoted'", Money::kMaxCents);
  index_->add({big, entry(2, "cheap", 1)});
  reopen();
  const auto found = all();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].order_id, big.order_id);
  EXPECT_EQ(found[0].description, big.description);
  EXPECT_EQ(found[0].price, big.price);
  EXPECT_EQ(found[0].deleted_at, big.deleted_at);  // to the microsecond
  EXPECT_EQ(found[1].price.to_string(), "0.01");
  EXPECT_EQ(index_->state().count, 2u);
}

TEST_P(ArchiveIndexConformance, AnOrderAddedAgainKeepsItsFirstEntryAndTheStateStaysTheSame) {
  index_->add({entry(1, "first")});
  const auto before = index_->state();
  index_->add({entry(1, "second", 999)});
  index_->add({entry(1, "third"), entry(1, "fourth")});  // twice in one batch too
  const auto after = index_->state();
  EXPECT_EQ(after.count, 1u);
  EXPECT_EQ(after.newest, before.newest);
  const auto found = all();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].description, "first");
  EXPECT_EQ(found[0].price.cents(), 100);
}

TEST_P(ArchiveIndexConformance, EveryAddRaisesTheNewestSequenceNumber) {
  index_->add({entry(5)});
  const auto one = index_->state();
  index_->add({entry(2)});  // a smaller order id still gets a greater number
  const auto two = index_->state();
  EXPECT_GT(one.newest, 0);
  EXPECT_GT(two.newest, one.newest);
  EXPECT_EQ(two.count, 2u);
}

TEST_P(ArchiveIndexConformance, PagesFollowOrderIdInByteOrderAfterTheGivenId) {
  std::vector<ArchivedOrder> batch;
  for (int n : {7, 3, 9, 1, 5}) batch.push_back(entry(n));
  index_->add(batch);
  // Ids that sort differently by byte and by a natural-language collation.
  index_->add({ArchivedOrder{"a-b", "x", Money::from_cents(1), kT0},
               ArchivedOrder{"ab", "y", Money::from_cents(1), kT0},
               ArchivedOrder{"B", "z", Money::from_cents(1), kT0}});
  const auto newest = index_->state().newest;
  std::vector<std::string> walked;
  ArchivePageQuery q{.after = {}, .newest = newest, .from = {}, .to = {}, .limit = 3};
  for (;;) {
    const auto page = index_->page(q);
    ASSERT_LE(page.size(), 3u);
    for (const auto& id : ids_of(page)) walked.push_back(id);
    if (page.size() < 3) break;
    q.after = page.back().order_id;
  }
  std::vector<std::string> expected{entry(1).order_id,
                                    entry(3).order_id,
                                    entry(5).order_id,
                                    entry(7).order_id,
                                    entry(9).order_id,
                                    "B",
                                    "a-b",
                                    "ab"};
  EXPECT_EQ(walked, expected);
}

TEST_P(ArchiveIndexConformance, APageShowsNothingNewerThanTheGivenSequenceNumber) {
  index_->add({entry(2)});
  const auto snapshot = index_->state();
  index_->add({entry(1), entry(3)});
  ArchivePageQuery q;
  q.newest = snapshot.newest;
  q.limit = 100;
  EXPECT_EQ(ids_of(index_->page(q)), std::vector<std::string>{entry(2).order_id});
  EXPECT_EQ(all().size(), 3u);
}

TEST_P(ArchiveIndexConformance, TheRangeIsFromInclusiveToExclusiveEitherEndOptional) {
  index_->add({entry(1), entry(2), entry(3), entry(4)});
  const auto at = [](int n) { return kT0 + std::chrono::seconds(n); };
  ArchivePageQuery q;
  q.from = at(2);
  q.to = at(4);
  EXPECT_EQ(ids_of(all(q)), (std::vector<std::string>{entry(2).order_id, entry(3).order_id}));
  q.to.reset();
  EXPECT_EQ(all(q).size(), 3u);
  q.from.reset();
  q.to = at(2);
  EXPECT_EQ(ids_of(all(q)), std::vector<std::string>{entry(1).order_id});
  q.to = at(2) + 1us;
  EXPECT_EQ(all(q).size(), 2u);
}

TEST_P(ArchiveIndexConformance, BackfillIsRecordedWithItsUnreadableCount) {
  index_->mark_backfilled(kT0, 3);
  reopen();
  auto s = index_->state();
  ASSERT_TRUE(s.backfilled.has_value());
  EXPECT_EQ(*s.backfilled, kT0);
  EXPECT_EQ(s.unreadable, 3u);
  index_->mark_backfilled(kT0 + 1h, 0);  // a later backfill replaces the record
  s = index_->state();
  EXPECT_EQ(*s.backfilled, kT0 + 1h);
  EXPECT_EQ(s.unreadable, 0u);
  EXPECT_EQ(s.count, 0u);
}

TEST_P(ArchiveIndexConformance, ConcurrentAddersOfOverlappingOrdersLeaveOneEntryEach) {
  constexpr int kThreads = 4;
  constexpr int kOrders = 50;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int n = 0; n < kOrders; ++n) index_->add({entry((n * 7 + t) % kOrders + 1)});
      });
  }
  const auto found = all();
  std::set<std::string> ids;
  for (const auto& e : found) ids.insert(e.order_id);
  EXPECT_EQ(found.size(), static_cast<std::size_t>(kOrders));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kOrders));
  EXPECT_EQ(index_->state().count, static_cast<std::uint64_t>(kOrders));
}

INSTANTIATE_TEST_SUITE_P(Stores, ArchiveIndexConformance,
                         ::testing::ValuesIn(archive_index_factories()),
                         [](const ::testing::TestParamInfo<ArchiveIndexFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace orderflow::testing
