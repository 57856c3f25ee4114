// What a crash left in the temp directories of the file object store and the maildir mailer is
// swept when they start; what another process sharing the directory is writing now stays.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/files/stale_files.hpp"
#include "adapters/mail/maildir_mailer.hpp"
#include "adapters/system/system_clock.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::testing {

using test_support::TempDir;
namespace {

namespace fs = std::filesystem;

void write_aged(const fs::path& path, std::chrono::hours age) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "partial";
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

TEST(StaleTempFiles, OnlyFilesOlderThanTheAgeGoAndSubdirectoriesStay) {
  TempDir dir;
  write_aged(dir.path() / "old", std::chrono::hours(3));
  write_aged(dir.path() / "new", std::chrono::hours(0));
  fs::create_directories(dir.path() / "sub");
  fs::last_write_time(dir.path() / "sub", fs::file_time_type::clock::now() - std::chrono::hours(9));
  EXPECT_EQ(adapters::remove_stale_files(dir.path(), std::chrono::hours(1)), 1u);
  EXPECT_FALSE(fs::exists(dir.path() / "old"));
  EXPECT_TRUE(fs::exists(dir.path() / "new"));
  EXPECT_TRUE(fs::exists(dir.path() / "sub"));
  EXPECT_EQ(adapters::remove_stale_files(dir.path() / "absent", std::chrono::hours(1)), 0u);
}

TEST(StaleTempFiles, TheObjectStoreSweepsItsTempDirAtStart) {
  TempDir dir;
  const fs::path tmp = dir.path() / "objects" / ".tmp";
  write_aged(tmp / "crashed", std::chrono::hours(2));
  write_aged(tmp / "in-flight", std::chrono::hours(0));
  write_aged(dir.path() / "objects" / "kept.json", std::chrono::hours(48));  // an object, not a temp
  adapters::HmacSigner signer("stale-temp-files-test-secret-0123");
  adapters::SystemClock clock;
  adapters::FileObjectStore store(dir.path() / "objects", "http://127.0.0.1:1/", signer, clock);
  EXPECT_FALSE(fs::exists(tmp / "crashed"));
  EXPECT_TRUE(fs::exists(tmp / "in-flight"));
  EXPECT_TRUE(fs::exists(dir.path() / "objects" / "kept.json"));
}

TEST(StaleTempFiles, TheMaildirMailerSweepsTmpAfter36Hours) {
  TempDir dir;
  write_aged(dir.path() / "mail" / "tmp" / "crashed", std::chrono::hours(40));
  write_aged(dir.path() / "mail" / "tmp" / "recent", std::chrono::hours(30));
  write_aged(dir.path() / "mail" / "new" / "delivered", std::chrono::hours(400));
  adapters::SystemClock clock;
  adapters::MaildirMailer mailer(dir.path() / "mail", clock);
  EXPECT_FALSE(fs::exists(dir.path() / "mail" / "tmp" / "crashed"));
  EXPECT_TRUE(fs::exists(dir.path() / "mail" / "tmp" / "recent"));
  EXPECT_TRUE(fs::exists(dir.path() / "mail" / "new" / "delivered"));
}

}  // namespace
}  // namespace orderflow::testing
