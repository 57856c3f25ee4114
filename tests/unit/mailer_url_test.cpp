// The mailer URL (issue 12, item 8): smtp:// to a host other than loopback must use STARTTLS,
// and a URL is never shown with its password, in messages or logs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "adapters/mail/smtp_mailer.hpp"
#include "adapters/system/system_clock.hpp"
#include "domain/encoding.hpp"
#include "runtime/backends.hpp"
#include "runtime/config.hpp"

namespace orderflow {
namespace {

using adapters::smtp_tls_for;
using adapters::SmtpTls;
using testing::HasSubstr;
using testing::Not;

TEST(SmtpTls, SmtpsIsTlsFromTheFirstByte) {
  EXPECT_EQ(smtp_tls_for("smtps://mail.example.com:465"), SmtpTls::implicit);
  EXPECT_EQ(smtp_tls_for("smtps://u:p@127.0.0.1:465"), SmtpTls::implicit);
}

TEST(SmtpTls, SmtpToAnotherHostRequiresStartTls) {
  for (const char* url :
       {"smtp://mail.example.com:587", "smtp://u:p@mail.example.com:587", "smtp://192.0.2.2:25",
        "smtp://10.0.0.1", "smtp://[2001:db8::1]:25", "smtp://localhost.example.com:25",
        "smtp://128.0.0.1:25", "smtp://[::ffff:192.0.2.2]:25"}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(smtp_tls_for(url), SmtpTls::required);
  }
}

TEST(SmtpTls, SmtpToLoopbackMayStayInClearText) {
  for (const char* url :
       {"smtp://127.0.0.1:2525", "smtp://127.10.20.30:25", "smtp://[::1]:25", "smtp://localhost:25",
        "smtp://LocalHost:25", "smtp://relay.localhost", "smtp://u:p@127.0.0.1:2525"}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(smtp_tls_for(url), SmtpTls::opportunistic);
  }
}

TEST(SmtpTls, ABadUrlIsRejectedWithoutItsPassword) {
  for (const char* url : {"smtp://mailer:Hunter2-secret@", "smtpx://mailer:Hunter2-secret@host:25",
                          "smtp://mailer:Hunter2/secret@mail.example.com:587",
                          "smtp://mailer:Hunter2-secret@mail.example.com:port"}) {
    SCOPED_TRACE(url);
    try {
      smtp_tls_for(url);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("mailer"));
      EXPECT_THAT(e.what(), Not(HasSubstr("Hunter2")));
      EXPECT_THAT(e.what(), HasSubstr("mailer:***@"));
    }
  }
}

TEST(SmtpTls, TheMailerSettingFailsStartUpWithoutThePassword) {
  adapters::SystemClock clock;
  runtime::Config config;
  config.mailer = "smtp://mailer:Hunter2-secret@";
  try {
    runtime::open_mailer(config, clock);
    ADD_FAILURE() << "accepted";
  } catch (const runtime::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("mailer"));
    EXPECT_THAT(e.what(), Not(HasSubstr("Hunter2")));
  }
}

TEST(RedactedUrl, HidesThePasswordAndKeepsTheRest) {
  using domain::redacted_url;
  EXPECT_EQ(redacted_url("smtp://u:secret@mail.example.com:587"),
            "smtp://u:***@mail.example.com:587");
  EXPECT_EQ(redacted_url("postgresql://app:pw@db:5432/orders?sslmode=require"),
            "postgresql://app:***@db:5432/orders?sslmode=require");
  EXPECT_EQ(redacted_url("smtp://mail.example.com:587"), "smtp://mail.example.com:587");
  EXPECT_EQ(redacted_url("smtp://apikey@mail.example.com"), "smtp://apikey@mail.example.com")
      << "a user name alone is no password";
  EXPECT_EQ(redacted_url("maildir:./data/mail"), "maildir:./data/mail");
}

TEST(RedactedUrl, MalformedUrlsNeverShowThePassword) {
  using domain::redacted_url;
  // Characters a password should have had percent-encoded: '@', '/', '?', '#'.
  EXPECT_EQ(redacted_url("smtp://u:p@ss/w?r#d@mail.example.com:25"),
            "smtp://u:***@mail.example.com:25");
  EXPECT_EQ(redacted_url("smtp://u:secret@"), "smtp://u:***@");
  EXPECT_EQ(redacted_url("smtp:u:secret@mail.example.com"), "smtp:***@mail.example.com");
  EXPECT_EQ(redacted_url("u:secret@mail.example.com"), "u:***@mail.example.com");
  EXPECT_THAT(redacted_url("nats://h1:4222,nats://u:secret@h2:4222"), Not(HasSubstr("secret")));
}

}  // namespace
}  // namespace orderflow
