// Subscriptions and notifications through the real binary and its default maildir
// (<data_dir>/mail/new): double opt-in, one notice per (event, confirmed address), unsubscribe by
// JSON and by the one-click link of a mail, and the contract's validation errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;
using testing::StartsWith;

class EventsSubscriptions : public EventsTest {
 protected:
  void SetUp() override { start(); }

  std::vector<MailMessage> mails() { return read_maildir(maildir()); }

  // Waits until both deliveries of the event are done, then returns every mail.
  std::vector<MailMessage> mails_after(const std::string& event_id) {
    EXPECT_TRUE(wait_until_delivered(client(), token(), {event_id}));
    return mails();
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string success_body(std::string_view message) {
  return R"({"status":"success","message":)" + json_quote(message) + "}";
}

testing::AssertionResult IsSuccessMessage(const Response& r, std::string_view message) {
  if (r.status != 200) return testing::AssertionFailure() << describe(r);
  boost::system::error_code ec;
  const auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) return testing::AssertionFailure() << "not JSON: " << describe(r);
  if (string_field(v, "status") != "success" || string_field(v, "message") != message)
    return testing::AssertionFailure() << "expected success \"" << message << "\": " << describe(r);
  return testing::AssertionSuccess();
}

testing::AssertionResult IsHtmlPage(const Response& r, int status, std::string_view contains) {
  if (r.status != status)
    return testing::AssertionFailure() << "expected " << status << ": " << describe(r);
  if (lower(r.header("Content-Type").value_or("")).rfind("text/html", 0) != 0)
    return testing::AssertionFailure() << "expected text/html: " << describe(r);
  if (!contains.empty() && r.body.find(contains) == std::string::npos)
    return testing::AssertionFailure() << "expected \"" << contains << "\" in " << describe(r);
  return testing::AssertionSuccess();
}

// The headers every mail of orderflow carries.
void expect_common_headers(const MailMessage& m, std::string_view to) {
  SCOPED_TRACE(m.file.string());
  EXPECT_TRUE(iequal(m.recipient(), to)) << m.header("To").value_or("<no To>");
  EXPECT_EQ(m.header_count("To"), 1u);
  EXPECT_EQ(m.header_count("Subject"), 1u);
  EXPECT_TRUE(std::regex_match(m.header("Message-ID").value_or(""), std::regex("<[^<>@\\s]+@[^<>@\\s]+>")))
      << m.header("Message-ID").value_or("<no Message-ID>");
  EXPECT_EQ(m.header("MIME-Version").value_or(""), "1.0");
  EXPECT_EQ(m.header("List-Unsubscribe-Post").value_or(""), "List-Unsubscribe=One-Click");
  EXPECT_THAT(list_unsubscribe_target(m), StartsWith("/subscriptions/unsubscribe?token="))
      << m.header("List-Unsubscribe").value_or("<no List-Unsubscribe>");
  EXPECT_THAT(lower(m.text_content_type), StartsWith("text/plain"));
  EXPECT_THAT(lower(m.text_content_type), HasSubstr("charset=utf-8"));
  EXPECT_TRUE(iequal(m.text_transfer_encoding, "base64")) << m.text_transfer_encoding;
}

// --- subscribe and confirm --------------------------------------------------------------------

TEST_F(EventsSubscriptions, SubscribeAnswersAndSendsAConfirmationMail) {
  const Response r = client().post("/subscriptions", subscribe_body("alice@example.com"));
  EXPECT_TRUE(IsSuccessMessage(r, kSubscribedMessage));
  EXPECT_EQ(r.body, success_body(kSubscribedMessage));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !m.empty(); }, kEventually);
  ASSERT_EQ(all.size(), 1u);
  const MailMessage& m = all[0];
  expect_common_headers(m, "alice@example.com");
  EXPECT_EQ(m.header_count("X-Orderflow-Event"), 0u);
  EXPECT_THAT(link_target(m, "/subscriptions/confirm"), StartsWith("/subscriptions/confirm?token="))
      << m.text;
  EXPECT_THAT(m.text, HasSubstr("/subscriptions/unsubscribe?token="));
  // In the server's own maildir the file is complete RFC 5322: CRLF line ends.
  EXPECT_THAT(m.raw, HasSubstr("\r\nSubject: "));
  EXPECT_EQ(m.file.parent_path().filename(), "new");
}

TEST_F(EventsSubscriptions, TheConfirmLinkShowsAPageAndOnlyItsButtonConfirmsOnce) {
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("bob@example.com")), 200));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !confirmations_to(m, "bob@example.com").empty(); },
      kEventually);
  const auto confirmations = confirmations_to(all, "bob@example.com");
  ASSERT_EQ(confirmations.size(), 1u);
  const std::string target = link_target(confirmations[0], "/subscriptions/confirm");

  // A mail scanner follows the link: the page has a button and nothing is confirmed.
  for (int i = 0; i < 2; ++i) {
    const Response page = client().get(target);
    EXPECT_TRUE(IsHtmlPage(page, 200, "bob@example.com"));
    EXPECT_THAT(lower(page.body), HasSubstr("method=\"post\""));
  }
  const auto [id1, event1] = delete_new_order("before the button", "1");
  ASSERT_FALSE(event1.empty());
  EXPECT_TRUE(mails_to(mails_after(event1), "bob@example.com", event1).empty())
      << "a GET of the link confirmed the subscription";

  const Response done =
      client().post(target, "", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_TRUE(IsHtmlPage(done, 200, "Subscription confirmed"));
  const auto [id2, event2] = delete_new_order("after the button", "1");
  ASSERT_FALSE(event2.empty());
  EXPECT_EQ(mails_to(mails_after(event2), "bob@example.com", event2).size(), 1u);

  EXPECT_TRUE(IsHtmlPage(client().post(target, ""), 400, "used already"))
      << "the link works once";
  EXPECT_TRUE(IsHtmlPage(client().get(target), 400, ""));
}

TEST_F(EventsSubscriptions, LinkTokensAreOpaqueAndTheStoreKeepsNoneOfThem) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "opaque.person@example.com"));
  const auto all = mails();
  const auto confirmations = confirmations_to(all, "opaque.person@example.com");
  ASSERT_EQ(confirmations.size(), 1u);
  const auto token_of = [](const std::string& target) {
    return target.substr(target.find("token=") + 6);
  };
  const std::string confirm = token_of(link_target(confirmations[0], "/subscriptions/confirm"));
  const std::string unsubscribe = token_of(list_unsubscribe_target(confirmations[0]));
  std::string hex_address;
  for (const unsigned char ch : std::string("opaque.person@example.com")) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    hex_address += kDigits[ch >> 4];
    hex_address += kDigits[ch & 15];
  }
  for (const std::string& token : {confirm, unsubscribe}) {
    EXPECT_GE(token.size(), 32u) << token;
    EXPECT_EQ(token.find(hex_address.substr(0, 12)), std::string::npos) << token;
    EXPECT_EQ(token.find("opaque"), std::string::npos) << token;
  }
  // Neither token is written anywhere in the data directory (the store keeps keyed hashes).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server().data_dir())) {
    if (!entry.is_regular_file() || entry.path().string().find("/mail/") != std::string::npos)
      continue;
    const std::string bytes = slurp_if_exists(entry.path()).value_or("");
    EXPECT_EQ(bytes.find(confirm), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(unsubscribe), std::string::npos) << entry.path();
  }
}

TEST_F(EventsSubscriptions, ConfirmedSubscriberGetsExactlyOneNoticeAndPendingOneGetsNone) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "carol@example.com"));
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("pending@example.com")), 200));

  const std::string id = create_order(client(), "Coffee beans", "12.5");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(delete_order(client(), id));
  const auto archive = wait_for_archive(server(), id);
  ASSERT_TRUE(archive);
  const auto object = boost::json::parse(*archive);
  const std::string event_id = string_field(object, "eventId");
  const std::string deleted_at = string_field(object, "deletedAt");

  const auto all = mails_after(event_id);
  const auto notices = mails_to(all, "carol@example.com", event_id);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_TRUE(mails_to(all, "pending@example.com", event_id).empty());
  EXPECT_EQ(mails_to(all, "pending@example.com").size(), 1u) << "only the confirmation";
  std::size_t notices_total = 0;
  for (const auto& m : all) notices_total += m.event_id() == event_id;
  EXPECT_EQ(notices_total, 1u);

  const MailMessage& m = notices[0];
  expect_common_headers(m, "carol@example.com");
  EXPECT_EQ(m.subject(), "Order \"Coffee beans\" deleted");
  EXPECT_EQ(m.header_count("X-Orderflow-Event"), 1u);
  EXPECT_THAT(m.text, HasSubstr(id));
  EXPECT_THAT(m.text, HasSubstr("Coffee beans"));
  EXPECT_THAT(m.text, HasSubstr("12.50"));
  EXPECT_THAT(m.text, HasSubstr(deleted_at));
  const std::string unsubscribe = list_unsubscribe_target(m);
  ASSERT_FALSE(unsubscribe.empty());
  EXPECT_THAT(m.text, HasSubstr(unsubscribe)) << "the text carries the unsubscribe link";
}

TEST_F(EventsSubscriptions, MailTextLinesEndInCrlf) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "crlf@example.com"));
  const auto [id, event_id] = delete_new_order("line ends", "1");
  ASSERT_FALSE(event_id.empty());
  const auto notices = mails_to(mails_after(event_id), "crlf@example.com", event_id);
  ASSERT_EQ(notices.size(), 1u);
  for (const auto& m : {notices[0], confirmations_to(mails(), "crlf@example.com").at(0)}) {
    const std::string& t = m.text;
    EXPECT_THAT(t, HasSubstr("\r\n")) << m.file;
    std::size_t bare = 0;
    for (std::size_t i = 0; i < t.size(); ++i) bare += t[i] == '\n' && (i == 0 || t[i - 1] != '\r');
    EXPECT_EQ(bare, 0u) << "decoded text/plain has bare LF line ends: " << m.file;
  }
}

TEST_F(EventsSubscriptions, NoticeSubjectCarriesAtMostSixtyCharactersOfTheDescription) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "long@example.com"));
  // 80 code points, some of them two or three bytes long.
  std::string description;
  for (int i = 0; i < 20; ++i) description += "ab\xC3\xA9\xE2\x82\xAC";
  const auto [id, event_id] = delete_new_order(description, "1");
  ASSERT_FALSE(event_id.empty());
  const auto notices = mails_to(mails_after(event_id), "long@example.com", event_id);
  ASSERT_EQ(notices.size(), 1u);
  const std::string subject = notices[0].subject();
  const std::regex shape(R"re(^Order "(.*)" deleted$)re");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(subject, match, shape)) << subject;
  std::string inner = match[1].str();
  std::size_t code_points = 0;
  for (const char c : inner) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  EXPECT_LE(code_points, 60u) << inner;
  const std::string ellipsis = "\xE2\x80\xA6";
  if (inner.size() >= ellipsis.size() && inner.compare(inner.size() - 3, 3, ellipsis) == 0)
    inner.resize(inner.size() - 3);
  EXPECT_EQ(description.rfind(inner, 0), 0u) << "a prefix of the description: " << inner;
  EXPECT_THAT(notices[0].text, HasSubstr(description)) << "the text has all of it";
}

TEST_F(EventsSubscriptions, TamperedConfirmTokenIsA400Page) {
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("tamper@example.com")), 200));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !confirmations_to(m, "tamper@example.com").empty(); },
      kEventually);
  std::string target = link_target(confirmations_to(all, "tamper@example.com").at(0),
                                   "/subscriptions/confirm");
  const std::size_t token_at = target.find("token=") + 6;
  ASSERT_LT(token_at, target.size());
  std::size_t i = token_at + (target.size() - token_at) / 2;
  while (i < target.size() && !std::isalnum(static_cast<unsigned char>(target[i]))) ++i;
  ASSERT_LT(i, target.size());
  target[i] = target[i] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(IsHtmlPage(client().get(target), 400, ""));
  EXPECT_TRUE(IsHtmlPage(client().post(target, ""), 400, ""));
  EXPECT_TRUE(IsHtmlPage(client().get("/subscriptions/confirm?token=garbage"), 400, ""));
  EXPECT_TRUE(IsHtmlPage(client().get("/subscriptions/confirm"), 400, ""));
  EXPECT_TRUE(IsHtmlPage(client().post("/subscriptions/confirm", ""), 400, ""));
}

TEST_F(EventsSubscriptions, ConfirmLinkOfAnUnsubscribedAddressIsA404Page) {
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("gone@example.com")), 200));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !confirmations_to(m, "gone@example.com").empty(); },
      kEventually);
  const MailMessage confirmation = confirmations_to(all, "gone@example.com").at(0);
  const std::string target = link_target(confirmation, "/subscriptions/confirm");
  // Unsubscribed with the one-click link of the same mail.
  EXPECT_TRUE(IsHtmlPage(client().post(list_unsubscribe_target(confirmation),
                                       "List-Unsubscribe=One-Click",
                                       {{"Content-Type", "application/x-www-form-urlencoded"}}),
                         200, "Unsubscribed"));
  EXPECT_TRUE(IsHtmlPage(confirm_by_link(client(), target), 404, ""));
}

// --- unsubscribe ------------------------------------------------------------------------------

// Anyone may ask to unsubscribe an address; only its owner can act on the link mailed to it.
TEST_F(EventsSubscriptions, UnsubscribeByAddressMailsALinkThatUnsubscribes) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "a@example.com"));
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "Mixed.Case@Example.COM"));
  // Both are subscribed: the first delete reaches both.
  const auto [id1, event1] = delete_new_order("before unsubscribe", "1");
  ASSERT_FALSE(event1.empty());
  const auto first = mails_after(event1);
  EXPECT_EQ(mails_to(first, "a@example.com", event1).size(), 1u);
  EXPECT_EQ(mails_to(first, "mixed.case@example.com", event1).size(), 1u);

  const Response r1 = client().post("/subscriptions/unsubscribe", subscribe_body("A@Example.com"));
  EXPECT_TRUE(IsSuccessMessage(r1, kUnsubscribeMailedMessage));
  EXPECT_EQ(r1.body, success_body(kUnsubscribeMailedMessage));
  const Response r2 =
      client().post("/subscriptions/unsubscribe", subscribe_body("mixed.case@example.com"));
  EXPECT_TRUE(IsSuccessMessage(r2, kUnsubscribeMailedMessage));

  const auto is_unsubscribe_mail = [](const MailMessage& m) {
    return m.subject() == "Unsubscribe from orderflow deletion notices";
  };
  const auto links = wait_for_mail(
      maildir(),
      [&](const auto& all) {
        int n = 0;
        for (const auto& m : all) n += is_unsubscribe_mail(m);
        return n >= 2;
      },
      kEventually);
  // Asking is not unsubscribing: the next notice still goes to both.
  const auto [id_mid, event_mid] = delete_new_order("asked, not yet unsubscribed", "1");
  ASSERT_FALSE(event_mid.empty());
  const auto mid = mails_after(event_mid);
  EXPECT_EQ(mails_to(mid, "a@example.com", event_mid).size(), 1u);
  EXPECT_EQ(mails_to(mid, "mixed.case@example.com", event_mid).size(), 1u);

  int opened = 0;
  for (const auto& m : links) {
    if (!is_unsubscribe_mail(m)) continue;
    const std::string target = link_target(m, "/subscriptions/unsubscribe");
    ASSERT_THAT(target, StartsWith("/subscriptions/unsubscribe?token=")) << m.text;
    EXPECT_EQ(list_unsubscribe_target(m), target);
    const Response page = client().get(target);
    ASSERT_TRUE(IsHtmlPage(page, 200, "<form"));
    EXPECT_TRUE(IsHtmlPage(client().post(target, ""), 200, "Unsubscribed"));
    ++opened;
  }
  EXPECT_EQ(opened, 2);

  const auto [id2, event2] = delete_new_order("after unsubscribe", "1");
  ASSERT_FALSE(event2.empty());
  for (const auto& m : mails_after(event2))
    EXPECT_NE(m.event_id(), event2) << "a notice after everyone unsubscribed: " << m.file;
}

TEST_F(EventsSubscriptions, UnsubscribeAnswersTheSameWhetherOrNotSubscribed) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "known@example.com"));
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("pending2@example.com")), 200));
  const Response known = client().post("/subscriptions/unsubscribe", subscribe_body("known@example.com"));
  const Response pending =
      client().post("/subscriptions/unsubscribe", subscribe_body("pending2@example.com"));
  const Response unknown =
      client().post("/subscriptions/unsubscribe", subscribe_body("nobody@example.com"));
  const Response again = client().post("/subscriptions/unsubscribe", subscribe_body("known@example.com"));
  EXPECT_TRUE(IsSuccessMessage(known, kUnsubscribeMailedMessage));
  for (const Response* r : {&pending, &unknown, &again}) {
    EXPECT_EQ(r->status, known.status) << describe(*r);
    EXPECT_EQ(r->body, known.body) << describe(*r);
    EXPECT_EQ(r->header("Content-Type"), known.header("Content-Type")) << describe(*r);
  }
}

TEST_F(EventsSubscriptions, OneClickUnsubscribeWithTheLinkOfAMail) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "f@example.com"));
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "g@example.com"));
  const auto [id1, event1] = delete_new_order("first", "1");
  ASSERT_FALSE(event1.empty());
  const auto notices = mails_to(mails_after(event1), "f@example.com", event1);
  ASSERT_EQ(notices.size(), 1u);
  const std::string target = list_unsubscribe_target(notices[0]);
  ASSERT_THAT(target, StartsWith("/subscriptions/unsubscribe?token="));

  // The link opened in a browser: a page with a POST form, which unsubscribes nothing yet.
  const Response form = client().get(target);
  EXPECT_TRUE(IsHtmlPage(form, 200, "<form"));
  EXPECT_THAT(lower(form.body), HasSubstr("method=\"post\""));
  // The mail client's one-click POST (RFC 8058).
  const Response done = client().post(target, "List-Unsubscribe=One-Click",
                                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_TRUE(IsHtmlPage(done, 200, "Unsubscribed"));

  const auto [id2, event2] = delete_new_order("second", "1");
  ASSERT_FALSE(event2.empty());
  const auto after = mails_after(event2);
  EXPECT_TRUE(mails_to(after, "f@example.com", event2).empty());
  EXPECT_EQ(mails_to(after, "g@example.com", event2).size(), 1u);
}

TEST_F(EventsSubscriptions, ResubscribingAConfirmedAddressSendsNoSecondConfirmation) {
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "h@example.com"));
  EXPECT_TRUE(IsSuccessMessage(client().post("/subscriptions", subscribe_body("h@example.com")),
                               kSubscribedMessage));
  EXPECT_TRUE(IsSuccessMessage(client().post("/subscriptions", subscribe_body("H@EXAMPLE.com")),
                               kSubscribedMessage));
  // Barrier: a later subscription's confirmation has arrived, so an extra one for h would have.
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("later@example.com")), 200));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !confirmations_to(m, "later@example.com").empty(); },
      kEventually);
  EXPECT_EQ(confirmations_to(all, "h@example.com").size(), 1u);
  // And h is still subscribed.
  const auto [id, event_id] = delete_new_order("still subscribed", "1");
  ASSERT_FALSE(event_id.empty());
  EXPECT_EQ(mails_to(mails_after(event_id), "h@example.com", event_id).size(), 1u);
}

TEST_F(EventsSubscriptions, ResubscribingAPendingAddressResendsTheConfirmation) {
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(IsSuccessMessage(client().post("/subscriptions", subscribe_body("j@example.com")),
                                 kSubscribedMessage));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return confirmations_to(m, "j@example.com").size() >= 2; },
      kEventually);
  const auto confirmations = confirmations_to(all, "j@example.com");
  ASSERT_EQ(confirmations.size(), 2u);
  EXPECT_TRUE(IsHtmlPage(confirm_by_link(client(), link_target(confirmations[1],
                                                                "/subscriptions/confirm")),
                         200, "Subscription confirmed"));
}

TEST_F(EventsSubscriptions, BadEmailsAre400sAndSendNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "Email is required"},
      {R"({"email":null})", "Email is required"},
      {R"({"email":""})", "Email is required"},
      {R"({"email":"not-an-email"})", "Invalid email format"},
      {R"({"email":"@example.com"})", "Invalid email format"},
      {R"({"email":"a@"})", "Invalid email format"},
      {R"({"email":"two@@example.com"})", "Invalid email format"},
      {R"({"email":"sp ace@example.com"})", "Invalid email format"},
      {R"({"email":42})", "Invalid email format"},
      {R"({"email":true})", "Invalid email format"},
      {R"({"email":["a@example.com"]})", "Invalid email format"},
      {R"({"email":{"address":"a@example.com"}})", "Invalid email format"},
      {R"({"email":"a@example.com","name":"A"})", "unknown field: name"},
      {"not json", "Invalid JSON body"},
      {R"({"email":"a@example.com")", "Invalid JSON body"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    EXPECT_TRUE(IsError(client().post("/subscriptions", body), 400, "validation", message));
  }
  // Barrier: a valid subscription's mail is the only one.
  ASSERT_TRUE(HasStatus(client().post("/subscriptions", subscribe_body("valid@example.com")), 200));
  const auto all = wait_for_mail(
      maildir(), [](const auto& m) { return !m.empty(); }, kEventually);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(iequal(all[0].recipient(), "valid@example.com"));
}

TEST_F(EventsSubscriptions, EveryDeleteNotifiesEveryConfirmedSubscriberOnce) {
  const std::vector<std::string> subscribers = {"s1@example.com", "s2@example.com", "s3@example.com"};
  for (const auto& s : subscribers) ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), s));
  std::vector<std::string> event_ids;
  for (int i = 0; i < 10; ++i) {
    const auto [id, event_id] = delete_new_order("order " + std::to_string(i), "3.30");
    ASSERT_FALSE(event_id.empty());
    event_ids.push_back(event_id);
  }
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids));
  const auto all = mails();
  std::size_t notices = 0;
  for (const auto& m : all) notices += m.is_notification();
  EXPECT_EQ(notices, event_ids.size() * subscribers.size());
  for (const auto& e : event_ids)
    for (const auto& s : subscribers)
      EXPECT_EQ(mails_to(all, s, e).size(), 1u) << e << " to " << s;
}

// --- limits (issue 13): requests per client address, mails per address ----------------------

TEST(SubscriptionLimits, MailsToOneAddressAreLimitedAndTheAnswerTellsNothingOfItsState) {
  TempDir dir;
  ServerOptions o;
  o.subscription_limits = true;  // the defaults: one link mail per 10 minutes, 5 a day
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"}};
  ServerProcess server(dir.path(), o);
  HttpClient c(server.port());
  const auto maildir = server.data_dir() / "mail";

  ASSERT_TRUE(subscribe_and_confirm(c, maildir, "known@example.com"));
  EXPECT_TRUE(HasStatus(c.post("/subscriptions", subscribe_body("new@example.com")), 200));
  // Confirmation and unsubscribe mails count apart: leaving right after joining is allowed.
  EXPECT_TRUE(HasStatus(c.post("/subscriptions/unsubscribe", subscribe_body("known@example.com")),
                        200));
  EXPECT_TRUE(HasStatus(c.post("/subscriptions/unsubscribe", subscribe_body("nobody@example.com")),
                        200));
  // A second request within the interval, for a confirmed, a pending and an unknown address:
  // the same 429 (the unknown one was mailed nothing, yet its request counted).
  std::vector<Response> refused;
  for (const char* email : {"known@example.com", "NEW@example.com"})
    refused.push_back(c.post("/subscriptions", subscribe_body(email)));
  for (const char* email : {"known@example.com", "nobody@example.com"})
    refused.push_back(c.post("/subscriptions/unsubscribe", subscribe_body(email)));
  for (const Response& r : refused) {
    EXPECT_TRUE(IsErrorCode(r, 429, "rate_limited")) << describe(r);
    ASSERT_TRUE(r.header("Retry-After").has_value());
    EXPECT_GT(std::stoi(*r.header("Retry-After")), 500) << "about ten minutes";
    EXPECT_EQ(r.body, refused[0].body) << "the answer must not tell one address from another";
  }
  // Refused requests mailed nothing: one confirmation each, and known's one unsubscribe link.
  const auto all = wait_for_mail(
      maildir, [](const auto& m) { return mails_to(m, "known@example.com").size() >= 2; },
      kEventually);
  EXPECT_EQ(confirmations_to(all, "known@example.com").size(), 1u);
  EXPECT_EQ(confirmations_to(all, "new@example.com").size(), 1u);
  EXPECT_EQ(mails_to(all, "nobody@example.com").size(), 0u);
  EXPECT_EQ(mails_to(all, "known@example.com").size(), 2u);
}

TEST(SubscriptionLimits, RequestsFromOneClientAreLimited) {
  TempDir dir;
  ServerOptions o;
  o.subscription_limits = true;
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"},
           {"ORDERFLOW_LIMITS_SUBSCRIPTION_REQUESTS_PER_HOUR", "3"}};
  ServerProcess server(dir.path(), o);
  HttpClient c(server.port());
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(HasStatus(
        c.post("/subscriptions", subscribe_body("person" + std::to_string(i) + "@example.com")),
        200));
  const Response r = c.post("/subscriptions", subscribe_body("person9@example.com"));
  EXPECT_TRUE(IsErrorCode(r, 429, "rate_limited")) << describe(r);
  EXPECT_NE(r.body.find("from this address"), std::string::npos) << r.body;
  EXPECT_TRUE(r.header("Retry-After").has_value());
  EXPECT_TRUE(IsErrorCode(c.post("/subscriptions/unsubscribe", subscribe_body("x@example.com")),
                          429, "rate_limited"));
  EXPECT_TRUE(HasStatus(c.get("/orders"), 200)) << "only the subscription routes are held back";
}

TEST(SubscriptionLimits, StartUpWarnsWhenLinksWouldTravelInClearText) {
  TempDir dir;
  ServerOptions o;
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"}, {"ORDERFLOW_PUBLIC_URL", "http://orders.example.com"}};
  ServerProcess server(dir.path(), o);
  EXPECT_TRUE(eventually(
      [&] { return server.log().find("is neither https nor on a loopback") != std::string::npos; }))
      << server.log();
  TempDir safe_dir;
  ServerOptions safe;
  safe.env = {{"ORDERFLOW_RECOGNIZER", "none"},
              {"ORDERFLOW_PUBLIC_URL", "https://orders.example.com"}};
  ServerProcess safe_server(safe_dir.path(), safe);
  HttpClient c(safe_server.port());
  EXPECT_TRUE(HasStatus(c.get("/healthz"), 200));
  EXPECT_EQ(safe_server.log().find("is neither https"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::e2e
