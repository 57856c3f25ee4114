// The SubscriptionStore contract (src/ports/subscription_store.hpp), run against every adapter
// listed in store_factories.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "conformance/store_factories.hpp"
#include "domain/email.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;
using ports::NoticeClaim;
using ports::SubscribeResult;
using ports::SubscriberState;
using Kind = ports::SubscribeResult::Kind;

constexpr int kAll = 1'000'000;
const Timestamp kT0{std::chrono::microseconds{1'795'606'034'000'000}};
constexpr auto kLease = 30s;

class SubscriptionStoreConformance : public ::testing::TestWithParam<SubscriptionStoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(dir_.path()); }
  void TearDown() override { store_.reset(); }

  void reopen() {
    store_.reset();
    store_ = GetParam().make(dir_.path());
  }

  Kind subscribe(std::string_view email) { return store_->subscribe(email, kT0).kind; }

  // Claims the notice of `event` to `email` at `now`, for kLease.
  NoticeClaim claim(std::string_view event, std::string_view email, Timestamp now) {
    return store_->claim_notice(event, email, now, now + kLease);
  }

  // Subscribes and confirms.
  void add_confirmed(std::string_view email) {
    subscribe(email);
    ASSERT_TRUE(store_->confirm(email, kT0 + 1s)) << email;
  }

  std::vector<std::string> all_confirmed(int page_size) {
    std::vector<std::string> all;
    std::string after;
    for (;;) {
      const auto page = store_->confirmed(after, page_size);
      EXPECT_LE(page.size(), static_cast<std::size_t>(page_size));
      all.insert(all.end(), page.begin(), page.end());
      if (static_cast<int>(page.size()) < page_size) return all;
      after = domain::email_key(page.back());
    }
  }

  TempDir dir_;
  std::unique_ptr<ports::SubscriptionStore> store_;
};

// --- subscribe and confirm ---

TEST_P(SubscriptionStoreConformance, SubscribeCreatesAPendingSubscriptionOnce) {
  EXPECT_EQ(store_->state("ada@example.com"), std::nullopt);
  EXPECT_EQ(subscribe("ada@example.com"), Kind::created);
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::pending);
  EXPECT_EQ(subscribe("ada@example.com"), Kind::still_pending);
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::pending);
  EXPECT_EQ(store_->state("bob@example.com"), std::nullopt);
}

TEST_P(SubscriptionStoreConformance, ConfirmTurnsPendingIntoConfirmed) {
  subscribe("ada@example.com");
  EXPECT_TRUE(store_->confirm("ada@example.com", kT0 + 1min));
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::confirmed);
  EXPECT_EQ(subscribe("ada@example.com"), Kind::already_confirmed);
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::confirmed);
  EXPECT_TRUE(store_->confirm("ada@example.com", kT0 + 2min));  // twice is harmless
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::confirmed);
}

TEST_P(SubscriptionStoreConformance, ConfirmWithoutSubscriptionIsFalse) {
  EXPECT_FALSE(store_->confirm("ghost@example.com", kT0));
  EXPECT_EQ(store_->state("ghost@example.com"), std::nullopt);
}

TEST_P(SubscriptionStoreConformance, AddressesMatchCaseInsensitively) {
  EXPECT_EQ(subscribe("A@Example.COM"), Kind::created);
  EXPECT_EQ(subscribe("a@example.com"), Kind::still_pending);
  EXPECT_EQ(store_->state("a@EXAMPLE.com"), SubscriberState::pending);
  EXPECT_TRUE(store_->confirm("a@example.com", kT0));
  EXPECT_EQ(store_->state("A@Example.COM"), SubscriberState::confirmed);
  EXPECT_EQ(subscribe("A@EXAMPLE.COM"), Kind::already_confirmed);
  // One subscription, kept as first given.
  EXPECT_EQ(store_->confirmed("", kAll), std::vector<std::string>{"A@Example.COM"});
  EXPECT_TRUE(store_->unsubscribe("a@example.com"));
  EXPECT_EQ(store_->state("A@Example.COM"), std::nullopt);
}

// --- unsubscribe ---

TEST_P(SubscriptionStoreConformance, UnsubscribeRemovesTheSubscriptionOnce) {
  add_confirmed("ada@example.com");
  subscribe("bob@example.com");
  EXPECT_TRUE(store_->unsubscribe("ada@example.com"));
  EXPECT_FALSE(store_->unsubscribe("ada@example.com"));
  EXPECT_FALSE(store_->unsubscribe("ghost@example.com"));
  EXPECT_EQ(store_->state("ada@example.com"), std::nullopt);
  EXPECT_FALSE(store_->confirm("ada@example.com", kT0));  // an old link confirms nothing
  EXPECT_TRUE(store_->confirmed("", kAll).empty());
  EXPECT_TRUE(store_->unsubscribe("bob@example.com"));     // pending ones too
  EXPECT_EQ(subscribe("ada@example.com"), Kind::created);  // and one can come back
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::pending);
}

// --- confirmed ---

TEST_P(SubscriptionStoreConformance, ConfirmedListsConfirmedAddressesByKeyAsGiven) {
  add_confirmed("carol@example.com");
  add_confirmed("Bob@Example.com");
  subscribe("aaron@example.com");  // pending: not listed
  add_confirmed("ADA@example.com");
  add_confirmed("dave@example.org");
  const std::vector<std::string> expected = {"ADA@example.com", "Bob@Example.com",
                                             "carol@example.com", "dave@example.org"};
  EXPECT_EQ(store_->confirmed("", kAll), expected);
  EXPECT_EQ(all_confirmed(1), expected);
  EXPECT_EQ(all_confirmed(2), expected);
  EXPECT_EQ(all_confirmed(3), expected);
  EXPECT_EQ(store_->confirmed("bob@example.com", kAll),
            (std::vector<std::string>{"carol@example.com", "dave@example.org"}));
  EXPECT_EQ(store_->confirmed("", 2),
            (std::vector<std::string>{"ADA@example.com", "Bob@Example.com"}));
  EXPECT_TRUE(store_->confirmed("dave@example.org", kAll).empty());
  EXPECT_TRUE(store_->confirmed("", 0).empty());
}

TEST_P(SubscriptionStoreConformance, AddressesAreStoredByteExact) {
  const std::vector<std::string> odd = {"o'reilly@example.com", "x+tag%1@sub.example.co.uk",
                                        "'; DROP TABLE subscriptions; --@example.com"};
  for (const std::string& e : odd) add_confirmed(e);
  const auto listed = store_->confirmed("", kAll);
  for (const std::string& e : odd) {
    EXPECT_NE(std::find(listed.begin(), listed.end(), e), listed.end()) << e;
    EXPECT_EQ(store_->state(e), SubscriberState::confirmed) << e;
  }
}

// --- notice claims ---

const std::string kEvent1 = "01890a5d-ac96-774b-bcce-b302099a8057";
const std::string kEvent2 = "01890a5d-ac96-774b-bcce-b302099a8058";

TEST_P(SubscriptionStoreConformance, FirstClaimOfANoticeIsClaimedThenBusyUntilSent) {
  EXPECT_FALSE(store_->notice_sent(kEvent1, "ada@example.com"));
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0), NoticeClaim::claimed);
  EXPECT_FALSE(store_->notice_sent(kEvent1, "ada@example.com"));  // claimed is not sent
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 1s), NoticeClaim::busy);
  EXPECT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease - 1us, kT0 + 2 * kLease),
            NoticeClaim::busy);

  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + 2s);
  EXPECT_TRUE(store_->notice_sent(kEvent1, "ada@example.com"));
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 3s), NoticeClaim::sent);
  // Sent stays sent, long after any lease.
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 24h), NoticeClaim::sent);
}

TEST_P(SubscriptionStoreConformance, NoticesAreClaimedPerEventAndAddress) {
  ASSERT_EQ(claim(kEvent1, "ada@example.com", kT0), NoticeClaim::claimed);
  EXPECT_EQ(claim(kEvent2, "ada@example.com", kT0), NoticeClaim::claimed);
  EXPECT_EQ(claim(kEvent1, "bob@example.com", kT0), NoticeClaim::claimed);
  store_->mark_notice_sent(kEvent1, "bob@example.com", kT0);
  EXPECT_TRUE(store_->notice_sent(kEvent1, "bob@example.com"));
  EXPECT_FALSE(store_->notice_sent(kEvent2, "bob@example.com"));
  EXPECT_FALSE(store_->notice_sent(kEvent1, "ada@example.com"));
}

TEST_P(SubscriptionStoreConformance, NoticeClaimsMatchAddressesCaseInsensitively) {
  ASSERT_EQ(claim(kEvent1, "Ada@Example.com", kT0), NoticeClaim::claimed);
  EXPECT_EQ(claim(kEvent1, "ADA@EXAMPLE.COM", kT0), NoticeClaim::busy);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + 1s);
  EXPECT_TRUE(store_->notice_sent(kEvent1, "ADA@example.COM"));
  EXPECT_EQ(claim(kEvent1, "aDa@eXample.com", kT0 + 2s), NoticeClaim::sent);
}

TEST_P(SubscriptionStoreConformance, ClaimWhoseLeaseEndedIsTakenOver) {
  // The first sender died after its claim, never marking it.
  ASSERT_EQ(claim(kEvent1, "ada@example.com", kT0), NoticeClaim::claimed);
  EXPECT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease, kT0 + kLease + 10s),
            NoticeClaim::claimed);
  // The new claim holds with its own lease.
  EXPECT_EQ(
      store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease + 10s - 1us, kT0 + 2 * kLease),
      NoticeClaim::busy);
  EXPECT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease + 10s, kT0 + 2 * kLease),
            NoticeClaim::claimed);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + kLease + 11s);
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 1h), NoticeClaim::sent);
}

TEST_P(SubscriptionStoreConformance, ReleasedClaimCanBeClaimedAgainAtOnce) {
  ASSERT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0, kT0 + kLease), NoticeClaim::claimed);
  store_->release_notice(kEvent1, "ADA@example.com", kT0 + kLease);
  EXPECT_FALSE(store_->notice_sent(kEvent1, "ada@example.com"));
  EXPECT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + 1s, kT0 + 1s + kLease),
            NoticeClaim::claimed);
}

TEST_P(SubscriptionStoreConformance, ReleaseLeavesAClaimTakenOverByAnotherSender) {
  ASSERT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0, kT0 + kLease), NoticeClaim::claimed);
  // The first sender's lease ended; a second sender took the notice over.
  ASSERT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease, kT0 + 2 * kLease),
            NoticeClaim::claimed);
  store_->release_notice(kEvent1, "ada@example.com", kT0 + kLease);  // the first one, late
  EXPECT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0 + kLease + 1s, kT0 + 3 * kLease),
            NoticeClaim::busy);
}

TEST_P(SubscriptionStoreConformance, ReleaseNeverUndoesASentNotice) {
  ASSERT_EQ(store_->claim_notice(kEvent1, "ada@example.com", kT0, kT0 + kLease), NoticeClaim::claimed);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + 1s);
  store_->release_notice(kEvent1, "ada@example.com", kT0 + kLease);
  EXPECT_TRUE(store_->notice_sent(kEvent1, "ada@example.com"));
}

TEST_P(SubscriptionStoreConformance, MarkingTwiceKeepsTheNoticeSent) {
  ASSERT_EQ(claim(kEvent1, "ada@example.com", kT0), NoticeClaim::claimed);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + 1s);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0 + 2s);
  EXPECT_TRUE(store_->notice_sent(kEvent1, "ada@example.com"));
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 1h), NoticeClaim::sent);
}

TEST_P(SubscriptionStoreConformance, NoticesOutliveTheSubscription) {
  add_confirmed("ada@example.com");
  ASSERT_EQ(claim(kEvent1, "ada@example.com", kT0), NoticeClaim::claimed);
  store_->mark_notice_sent(kEvent1, "ada@example.com", kT0);
  store_->unsubscribe("ada@example.com");
  add_confirmed("ada@example.com");
  // A redelivery of the same event must not mail a returning subscriber again.
  EXPECT_TRUE(store_->notice_sent(kEvent1, "ada@example.com"));
  EXPECT_EQ(claim(kEvent1, "ada@example.com", kT0 + 1h), NoticeClaim::sent);
}

TEST_P(SubscriptionStoreConformance, ConcurrentClaimsOfOneNoticeSucceedExactlyOnce) {
  std::atomic<int> claimed{0};
  std::atomic<int> busy{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 10; ++i) {
          const auto outcome = claim(kEvent1, "ada@example.com", kT0);
          if (outcome == NoticeClaim::claimed) ++claimed;
          if (outcome == NoticeClaim::busy) ++busy;
        }
      });
  }
  EXPECT_EQ(claimed.load(), 1);
  EXPECT_EQ(busy.load(), 39);
}

// --- durability ---

TEST_P(SubscriptionStoreConformance, EverythingSurvivesReopening) {
  add_confirmed("Ada@example.com");
  subscribe("bob@example.com");
  ASSERT_EQ(claim("event-1", "ada@example.com", kT0), NoticeClaim::claimed);
  store_->mark_notice_sent("event-1", "ada@example.com", kT0);
  ASSERT_EQ(claim("event-2", "ada@example.com", kT0), NoticeClaim::claimed);
  reopen();
  EXPECT_EQ(store_->state("ada@example.com"), SubscriberState::confirmed);
  EXPECT_EQ(store_->state("bob@example.com"), SubscriberState::pending);
  EXPECT_EQ(store_->confirmed("", kAll), std::vector<std::string>{"Ada@example.com"});
  EXPECT_TRUE(store_->notice_sent("event-1", "ADA@example.com"));
  // A claim held when the process died still holds until its lease ends.
  EXPECT_EQ(claim("event-2", "ada@example.com", kT0 + 1s), NoticeClaim::busy);
  EXPECT_EQ(claim("event-2", "ada@example.com", kT0 + kLease), NoticeClaim::claimed);
  EXPECT_EQ(subscribe("bob@example.com"), Kind::still_pending);
}

TEST_P(SubscriptionStoreConformance, ALinkIsFoundByItsHashAndPurposeUntilItEnds) {
  using ports::LinkPurpose;
  store_->keep_link("hash-1", LinkPurpose::confirm, "Ann@Example.com", kT0 + 1h, kT0);
  EXPECT_EQ(store_->find_link("hash-1", LinkPurpose::confirm, kT0), "Ann@Example.com");
  EXPECT_EQ(store_->find_link("hash-1", LinkPurpose::unsubscribe, kT0), std::nullopt)
      << "a confirmation link does not unsubscribe";
  EXPECT_EQ(store_->find_link("hash-2", LinkPurpose::confirm, kT0), std::nullopt);
  EXPECT_EQ(store_->find_link("hash-1", LinkPurpose::confirm, kT0 + 1h), std::nullopt)
      << "it ends at its expiry";

  store_->keep_link("hash-3", LinkPurpose::unsubscribe, "ann@example.com", std::nullopt, kT0);
  EXPECT_EQ(store_->find_link("hash-3", LinkPurpose::unsubscribe, kT0 + 24h * 3650),
            "ann@example.com")
      << "a link without an end works for good";
  store_->keep_link("hash-3", LinkPurpose::unsubscribe, "other@example.com", std::nullopt, kT0);
  EXPECT_EQ(store_->find_link("hash-3", LinkPurpose::unsubscribe, kT0), "ann@example.com")
      << "keeping a kept hash changes nothing";
}

TEST_P(SubscriptionStoreConformance, DroppingLinksEndsOnlyThatAddressesLinksOfThatPurpose) {
  using ports::LinkPurpose;
  store_->keep_link("c-1", LinkPurpose::confirm, "Ann@Example.com", kT0 + 1h, kT0);
  store_->keep_link("c-2", LinkPurpose::confirm, "ann@example.com", kT0 + 2h, kT0);
  store_->keep_link("c-3", LinkPurpose::confirm, "bob@example.com", kT0 + 1h, kT0);
  store_->keep_link("u-1", LinkPurpose::unsubscribe, "ann@example.com", std::nullopt, kT0);
  store_->drop_links("ANN@example.com", LinkPurpose::confirm);
  EXPECT_EQ(store_->find_link("c-1", LinkPurpose::confirm, kT0), std::nullopt);
  EXPECT_EQ(store_->find_link("c-2", LinkPurpose::confirm, kT0), std::nullopt);
  EXPECT_EQ(store_->find_link("c-3", LinkPurpose::confirm, kT0), "bob@example.com");
  EXPECT_EQ(store_->find_link("u-1", LinkPurpose::unsubscribe, kT0), "ann@example.com");
  reopen();
  EXPECT_EQ(store_->find_link("u-1", LinkPurpose::unsubscribe, kT0), "ann@example.com")
      << "links survive reopening";
}

INSTANTIATE_TEST_SUITE_P(Stores, SubscriptionStoreConformance,
                         ::testing::ValuesIn(subscription_store_factories()),
                         [](const ::testing::TestParamInfo<SubscriptionStoreFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace orderflow::testing
