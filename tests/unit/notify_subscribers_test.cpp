// notify_subscribers over a real SQLite subscription store and a recording mailer, with a manual
// clock: which notices a run sends, skips or leaves to another sender, and what a resend is.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "functions/event_functions.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::functions {
namespace {

using namespace std::chrono_literals;
using ports::NoticeClaim;

const domain::Timestamp kStart{std::chrono::microseconds{1'795'606'034'000'000}};
constexpr std::chrono::milliseconds kLease = 30s;

// Records every mail; while `fail_after_accepting` is set, it keeps the mail and then throws, as
// a transport does when the connection breaks after the server took the message.
class RecordingMailer final : public ports::Mailer {
 public:
  void send(const ports::Mail& mail) override {
    std::lock_guard lock(mu_);
    sent_.push_back(mail);
    if (fail_after_accepting) throw std::runtime_error("connection reset after DATA");
  }
  std::vector<ports::Mail> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  bool fail_after_accepting = false;

 private:
  mutable std::mutex mu_;
  std::vector<ports::Mail> sent_;
};

class NotifySubscribersTest : public ::testing::Test {
 protected:
  NotifySubscribersTest() {
    for (const char* to : {"ada@example.com", "bob@example.com", "cy@example.com"}) {
      subscriptions_->subscribe(to, kStart);
      subscriptions_->confirm(to, kStart);
    }
    domain::Order order;
    order.id = "0191d6c2-aaaa-7bbb-8ccc-123456789abc";
    order.description = "a widget";
    order.price = domain::Money::from_cents(1250);
    order.created = order.last_modified = kStart - 1h;
    order.version = 1;
    event_ = domain::order_deleted_event(order, "0191d6c2-bbbb-7bbb-8ccc-123456789abc", kStart);
  }

  std::vector<std::string> recipients() const {
    std::vector<std::string> to;
    for (const auto& m : mailer_.sent()) to.push_back(m.to);
    return to;
  }

  test_support::TempDir dir_;
  std::unique_ptr<ports::SubscriptionStore> subscriptions_ =
      adapters::open_sqlite_stores({(dir_.path() / "orderflow.db").string()}).subscriptions;
  test_support::ManualClock clock_{kStart};
  RecordingMailer mailer_;
  adapters::HmacSigner signer_{"a test signing secret"};
  NotifyContext ctx_{*subscriptions_, mailer_,
                     signer_,         {"http://127.0.0.1:8080", "orderflow@localhost"},
                     clock_,          kLease};
  domain::Event event_;
};

using Strings = std::vector<std::string>;

TEST_F(NotifySubscribersTest, SendsEachNoticeOnceAndMarksItSent) {
  notify_subscribers(ctx_, event_);
  EXPECT_EQ(recipients(), (Strings{"ada@example.com", "bob@example.com", "cy@example.com"}));
  for (const char* to : {"ada@example.com", "bob@example.com", "cy@example.com"})
    EXPECT_TRUE(subscriptions_->notice_sent(event_.id, to)) << to;
  clock_.advance(24h);
  notify_subscribers(ctx_, event_);  // a redelivery sends nothing
  EXPECT_EQ(mailer_.sent().size(), 3u);
}

TEST_F(NotifySubscribersTest, NoticeHeldByAnotherSenderIsLeftToItAndTheDeliveryRetried) {
  ASSERT_EQ(subscriptions_->claim_notice(event_.id, "bob@example.com", kStart, kStart + kLease),
            NoticeClaim::claimed);  // another worker is sending this one right now
  EXPECT_THROW(notify_subscribers(ctx_, event_), RetryLater);
  EXPECT_EQ(recipients(), (Strings{"ada@example.com", "cy@example.com"}));

  // It finished: the retry finds everything sent and sends nothing.
  subscriptions_->mark_notice_sent(event_.id, "bob@example.com", kStart + 1s);
  clock_.advance(2s);
  notify_subscribers(ctx_, event_);
  EXPECT_EQ(mailer_.sent().size(), 2u);
}

TEST_F(NotifySubscribersTest, ClaimOfASenderThatDiedIsTakenOverOnceItsLeaseEnds) {
  ASSERT_EQ(subscriptions_->claim_notice(event_.id, "bob@example.com", kStart, kStart + kLease),
            NoticeClaim::claimed);  // and that sender never comes back
  EXPECT_THROW(notify_subscribers(ctx_, event_), RetryLater);
  clock_.advance(kLease - 1us);
  EXPECT_THROW(notify_subscribers(ctx_, event_), RetryLater);
  EXPECT_EQ(mailer_.sent().size(), 2u);

  clock_.advance(1us);
  notify_subscribers(ctx_, event_);
  EXPECT_EQ(recipients(), (Strings{"ada@example.com", "cy@example.com", "bob@example.com"}));
  EXPECT_TRUE(subscriptions_->notice_sent(event_.id, "bob@example.com"));
}

// The one window of a repeat: the server took the mail, the sender never marked it. The resend
// after the lease carries the same Message-ID.
TEST_F(NotifySubscribersTest, NoticeAcceptedButNeverMarkedIsResentWithTheSameMessageId) {
  mailer_.fail_after_accepting = true;
  EXPECT_THROW(notify_subscribers(ctx_, event_), std::runtime_error);
  ASSERT_EQ(recipients(), Strings{"ada@example.com"});
  EXPECT_FALSE(subscriptions_->notice_sent(event_.id, "ada@example.com"));

  mailer_.fail_after_accepting = false;
  clock_.advance(kLease);
  notify_subscribers(ctx_, event_);
  const auto sent = mailer_.sent();
  ASSERT_EQ(recipients(),
            (Strings{"ada@example.com", "ada@example.com", "bob@example.com", "cy@example.com"}));
  EXPECT_EQ(sent[1].message_id, sent[0].message_id);
  EXPECT_NE(sent[2].message_id, sent[0].message_id);
}

// A send that failed gives its claim back, so the retry need not wait for the lease to end.
TEST_F(NotifySubscribersTest, FailedSendGivesItsClaimBackSoTheRetrySendsAtOnce) {
  mailer_.fail_after_accepting = true;
  EXPECT_THROW(notify_subscribers(ctx_, event_), std::runtime_error);
  mailer_.fail_after_accepting = false;
  clock_.advance(1s);  // far less than the lease
  notify_subscribers(ctx_, event_);
  EXPECT_EQ(recipients(),
            (Strings{"ada@example.com", "ada@example.com", "bob@example.com", "cy@example.com"}));
  for (const char* to : {"ada@example.com", "bob@example.com", "cy@example.com"})
    EXPECT_TRUE(subscriptions_->notice_sent(event_.id, to)) << to;
}

}  // namespace
}  // namespace orderflow::functions
