// The mail reading helpers of the event suites, checked on their own (so a failing pipeline test
// is never a misread mail): base64 and RFC 2047 decoding, MIME parsing, and the aiosmtpd sink.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;

TEST(EventsMailSupport, Base64DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode("YWJj"), "abc");
  EXPECT_EQ(base64_decode("SGVs\r\nbG8="), "Hello");
  EXPECT_THROW(base64_decode("YWJ"), std::invalid_argument);
}

TEST(EventsMailSupport, EncodedWordsDecode) {
  EXPECT_EQ(decode_header_words("plain text"), "plain text");
  // "Grüße" in two B words folded onto two lines; the white space between them is not text.
  EXPECT_EQ(decode_header_words("=?UTF-8?B?R3I=?= =?UTF-8?B?w7zDn2U=?="), "Gr\xC3\xBC\xC3\x9F" "e");
  EXPECT_EQ(decode_header_words("=?utf-8?q?caf=C3=A9_au_lait?= ok"), "caf\xC3\xA9 au lait ok");
}

TEST(EventsMailSupport, ParsesHeadersAndTheBase64TextPart) {
  const std::string raw =
      "To: <a@example.com>\r\n"
      "Subject: =?UTF-8?B?R3I=?=\r\n =?UTF-8?B?w7zDn2U=?=\r\n"
      "X-Orderflow-Event: 0190c1a2-0000-7000-8000-000000000000\r\n"
      "List-Unsubscribe: <http://127.0.0.1:0/subscriptions/unsubscribe?token=abc.def>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "TGluayBodHRwOi8vMTI3LjAuMC4xOjgwL3N1YnNjcmlwdGlvbnMvY29uZmlybT90b2tlbj14eXoK\r\n";
  const MailMessage m = parse_mail(raw);
  EXPECT_EQ(m.recipient(), "a@example.com");
  EXPECT_EQ(m.subject(), "Gr\xC3\xBC\xC3\x9F" "e");
  EXPECT_EQ(m.event_id(), "0190c1a2-0000-7000-8000-000000000000");
  EXPECT_EQ(m.text, "Link http://127.0.0.1:80/subscriptions/confirm?token=xyz\n");
  EXPECT_EQ(link_target(m, "/subscriptions/confirm"), "/subscriptions/confirm?token=xyz");
  EXPECT_EQ(link_target(m, "/subscriptions/unsubscribe"), "");
  EXPECT_EQ(list_unsubscribe_target(m), "/subscriptions/unsubscribe?token=abc.def");
}

TEST(EventsMailSupport, FindsTheTextPartOfMultipartAlternative) {
  const std::string raw =
      "To: b@example.com\n"
      "Content-Type: multipart/alternative; boundary=\"=_b\"\n"
      "\n"
      "--=_b\n"
      "Content-Type: text/plain; charset=UTF-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "aGk=\n"
      "--=_b\n"
      "Content-Type: text/html; charset=UTF-8\n"
      "\n"
      "<p>hi</p>\n"
      "--=_b--\n";
  const MailMessage m = parse_mail(raw);
  EXPECT_EQ(m.recipient(), "b@example.com");
  EXPECT_EQ(m.text, "hi");
}

TEST(EventsMailSupport, SmtpSinkWritesWhatItReceivesIntoItsMaildir) {
  TempDir dir;
  SmtpSink sink(dir.path() / "sink");
  sink.start();
  const auto message = dir.path() / "mail.txt";
  {
    std::ofstream out(message, std::ios::binary);
    out << "To: <sink@example.com>\r\nSubject: hello\r\nX-Orderflow-Event: e1\r\n\r\nbody\r\n";
  }
  const std::string cmd = "curl -s --max-time 20 " + sink.url() +
                          " --mail-from from@example.com --mail-rcpt sink@example.com -T " +
                          message.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto mails = wait_for_mail(sink.maildir(), [](const auto& m) { return !m.empty(); }, kEventually);
  ASSERT_EQ(mails.size(), 1u) << sink.log();
  EXPECT_EQ(mails[0].subject(), "hello");
  EXPECT_EQ(mails[0].event_id(), "e1");
  EXPECT_EQ(mails_to(mails, "SINK@example.com", "e1").size(), 1u);
  EXPECT_EQ(mails[0].header("X-RcptTo").value_or(""), "sink@example.com");
  EXPECT_THAT(mails[0].text, HasSubstr("body"));

  // Stopped, nobody listens; started again, the same port and maildir.
  sink.stop();
  EXPECT_NE(std::system((cmd + " 2>/dev/null").c_str()), 0);
  sink.start();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(wait_for_mail(sink.maildir(), [](const auto& m) { return m.size() >= 2; }, kEventually).size(), 2u);
}

TEST(EventsMailSupport, MetricValuesSumLabelledSamples) {
  const std::string text =
      "# TYPE a_total counter\na_total 3\nab_total 7\nb{x=\"1\"} 2\nb{x=\"2\"} 5.5\n";
  EXPECT_EQ(metric_value(text, "a_total"), 3.0);
  EXPECT_EQ(metric_value(text, "b"), 7.5);
  EXPECT_EQ(metric_value(text, "c"), std::nullopt);
}

}  // namespace
}  // namespace orderflow::e2e
