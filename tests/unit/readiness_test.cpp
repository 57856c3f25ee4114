// What /readyz reports of the object store and the mailer: the outcome of their latest write,
// recorded by the wrappers the App puts around the real adapters (here the file store and the
// maildir, broken and mended on disk).
#include "runtime/readiness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/mail/maildir_mailer.hpp"
#include "adapters/system/system_clock.hpp"
#include "ports/errors.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::runtime {
namespace {

namespace fs = std::filesystem;

TEST(ObservedObjectStore, FailingFromAFailedPutUntilOneSucceeds) {
  test_support::TempDir dir;
  adapters::SystemClock clock;
  adapters::HmacSigner signer("0123456789abcdef0123456789abcdef");
  adapters::FileObjectStore files(dir.path() / "objects", "http://127.0.0.1:1", signer, clock);
  ObservedObjectStore store(files);
  EXPECT_STREQ(store.outcome().state(), "ok") << "before the first write";

  // A file where the key's directory must go: the put cannot succeed.
  std::ofstream(dir.path() / "objects" / "deleted_orders") << "in the way";
  EXPECT_THROW(store.put("deleted_orders/a.json", "{}", "application/json"), ports::InfraError);
  EXPECT_STREQ(store.outcome().state(), "failing");
  // Reads and a caller's invalid key say nothing about whether writes succeed.
  EXPECT_FALSE(store.get("other.json").has_value());
  EXPECT_THROW(store.put("../escape", "x", "text/plain"), std::invalid_argument);
  EXPECT_STREQ(store.outcome().state(), "failing");

  fs::remove(dir.path() / "objects" / "deleted_orders");
  store.put("deleted_orders/a.json", "{}", "application/json");
  EXPECT_STREQ(store.outcome().state(), "ok");
  EXPECT_EQ(files.get("deleted_orders/a.json")->bytes, "{}");
}

TEST(ObservedMailer, FailingFromAFailedSendUntilOneSucceeds) {
  test_support::TempDir dir;
  adapters::SystemClock clock;
  adapters::MaildirMailer maildir(dir.path() / "mail", clock);
  ObservedMailer mailer(maildir);
  ports::Mail mail{"orderflow@localhost", "a@example.com", "Hello", "Text", "", "m1@orderflow", {}};

  fs::remove_all(dir.path() / "mail" / "new");  // where a sent mail goes
  EXPECT_THROW(mailer.send(mail), ports::InfraError);
  EXPECT_STREQ(mailer.outcome().state(), "failing");

  fs::create_directory(dir.path() / "mail" / "new");
  mailer.send(mail);
  EXPECT_STREQ(mailer.outcome().state(), "ok");
  EXPECT_TRUE(fs::exists(dir.path() / "mail" / "new" / "m1_orderflow.eml"));
}

}  // namespace
}  // namespace orderflow::runtime
