// The SMTP mailer against a real SMTP server on loopback (aiosmtpd, whose Mailbox handler writes
// every message it receives into a maildir).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;

class EventsSmtp : public EventsTest {};

TEST_F(EventsSmtp, ConfirmationAndNoticeTravelOverSmtp) {
  sink().start();
  ServerOptions options;
  options.env = {{"ORDERFLOW_MAILER", sink().url()}};
  start(options);

  ASSERT_TRUE(subscribe_and_confirm(client(), sink().maildir(), "smtp.user@example.com"));
  const std::string description = "Gr\xC3\xBC\xC3\x9F" "e \xE2\x80\x94 caf\xC3\xA9 \xE2\x98\x95 "
                                  "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x93\xA6";
  const auto [id, event_id] = delete_new_order(description, "19.9");
  ASSERT_FALSE(event_id.empty());
  ASSERT_TRUE(wait_until_delivered(client(), token(), {event_id}));
  const auto all = wait_for_mail(
      sink().maildir(),
      [&](const auto& m) { return !mails_to(m, "smtp.user@example.com", event_id).empty(); },
      kEventually);
  const auto notices = mails_to(all, "smtp.user@example.com", event_id);
  ASSERT_EQ(notices.size(), 1u);
  const MailMessage& m = notices[0];
  // Non-ASCII subjects travel as RFC 2047 encoded words and decode to the exact text.
  EXPECT_THAT(m.header("Subject").value_or(""), HasSubstr("=?UTF-8?B?"));
  EXPECT_EQ(m.subject(), "Order \"" + description + "\" deleted");
  EXPECT_EQ(m.header("X-RcptTo").value_or(""), "smtp.user@example.com") << "the SMTP envelope";
  EXPECT_EQ(m.header("List-Unsubscribe-Post").value_or(""), "List-Unsubscribe=One-Click");
  EXPECT_THAT(m.text, HasSubstr(description));
  EXPECT_THAT(m.text, HasSubstr(id));
  EXPECT_THAT(m.text, HasSubstr("19.90"));
  // Nothing went to the local maildir.
  EXPECT_TRUE(read_maildir(maildir()).empty());
}

TEST_F(EventsSmtp, ManyNoticesArriveEachOnce) {
  sink().start();
  ServerOptions options;
  options.env = {{"ORDERFLOW_MAILER", sink().url()}};
  start(options);
  const std::vector<std::string> subscribers = {"one@example.com", "two@example.com"};
  for (const auto& s : subscribers)
    ASSERT_TRUE(subscribe_and_confirm(client(), sink().maildir(), s));
  std::vector<std::string> event_ids;
  for (int i = 0; i < 8; ++i) {
    const auto [id, event_id] = delete_new_order("smtp order " + std::to_string(i), "5");
    ASSERT_FALSE(event_id.empty());
    event_ids.push_back(event_id);
  }
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids));
  const auto all = read_maildir(sink().maildir());
  std::size_t notices = 0;
  for (const auto& m : all) notices += m.is_notification();
  EXPECT_EQ(notices, event_ids.size() * subscribers.size());
  for (const auto& e : event_ids)
    for (const auto& s : subscribers) EXPECT_EQ(mails_to(all, s, e).size(), 1u) << e << " " << s;
}

}  // namespace
}  // namespace orderflow::e2e
