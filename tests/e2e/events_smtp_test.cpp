// The SMTP mailer against a real SMTP server on loopback (aiosmtpd, whose Mailbox handler writes
// every message it receives into a maildir).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;
using testing::Not;

class EventsSmtp : public EventsTest {};

// An IPv4 address of this machine other than loopback, or "" when it has none.
std::string non_loopback_ipv4() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0) return {};
  std::string found;
  for (const ifaddrs* a = all; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP)) continue;
    const in_addr address = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
    if ((ntohl(address.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET, &address, text, sizeof text) != nullptr) found = text;
  }
  ::freeifaddrs(all);
  return found;
}

// smtp:// to a host other than loopback must not fall back to clear text: a server without
// STARTTLS (aiosmtpd offers none) gets nothing, and the mailer shows as failing in /readyz.
TEST_F(EventsSmtp, ToANonLoopbackHostWithoutStartTlsNothingIsSent) {
  const std::string address = non_loopback_ipv4();
  if (address.empty()) GTEST_SKIP() << "this machine has no IPv4 address other than loopback";
  TempDir sink_dir;
  SmtpSink open_sink(sink_dir.path(), "0.0.0.0");
  open_sink.start();
  ASSERT_TRUE(smtp_greets(address, open_sink.port())) << "the sink is reachable at " << address;
  ServerOptions options;
  options.env = {{"ORDERFLOW_MAILER", "smtp://" + address + ":" + std::to_string(open_sink.port())}};
  start(options);

  const Response r = client().post("/subscriptions", R"({"email":"clear.text@example.com"})");
  EXPECT_TRUE(IsErrorCode(r, 503, "unavailable")) << describe(r);
  const Response ready = client().get("/readyz");
  EXPECT_TRUE(HasStatus(ready, 200)) << "a failing mailer leaves the process ready";
  EXPECT_EQ(string_field(ready.json().as_object().at("checks"), "mailer"), "failing");
  EXPECT_TRUE(read_maildir(open_sink.maildir()).empty()) << "nothing went in clear text";

  // The same sink over loopback takes the mail, so it was the rule that stopped it.
  server().stop();
  options.env = {{"ORDERFLOW_MAILER", open_sink.url()}};
  server().restart(options);
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", R"({"email":"clear.text@example.com"})"), 200));
  EXPECT_EQ(read_maildir(open_sink.maildir()).size(), 1u);
  EXPECT_EQ(string_field(client().get("/readyz").json().as_object().at("checks"), "mailer"), "ok");
}

// A mailer URL with a password is never shown with it: not in the start-up log, not in the
// error a failed send answers (nothing listens on the port here).
TEST_F(EventsSmtp, ThePasswordOfTheMailerUrlIsNeverShown) {
  ServerOptions options;
  options.env = {{"ORDERFLOW_MAILER", "smtp://mailer:Hunter2-secret@127.0.0.1:" + std::to_string(free_loopback_port())}};
  start(options);
  const Response r = client().post("/subscriptions", R"({"email":"nobody.listens@example.com"})");
  EXPECT_TRUE(IsErrorCode(r, 503, "unavailable")) << describe(r);
  EXPECT_THAT(r.body, Not(HasSubstr("Hunter2")));
  server().stop();
  EXPECT_THAT(server().log(), Not(HasSubstr("Hunter2")));
}

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
