// The secret files of the data dir (signing-secret, admin-token; issue 12, item 5): created
// once with mode 0600, written atomically so that a failed write leaves no file behind, and an
// empty file left by an older, non-atomic failed write is treated as absent.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "adapters/crypto/hmac_signer.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::adapters {
namespace {

namespace fs = std::filesystem;

std::string content(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st;
}

bool is_hex_secret(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Makes every write of this process past `bytes` of a file fail with EFBIG, as a full disk
// fails a write; restored at the end of the scope.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // an error, not a signal that kills
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit failed");
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = SIG_DFL;
};

TEST(SecretFile, IsCreatedOncePrivateAndThenRead) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "signing-secret";
  const auto first = HmacSigner::load_or_create_secret(path);
  EXPECT_TRUE(first.created);
  EXPECT_TRUE(is_hex_secret(first.value)) << first.value;
  EXPECT_EQ(content(path), first.value);
  EXPECT_EQ(stat_of(path).st_mode & 07777, 0600u);

  const auto second = HmacSigner::load_or_create_secret(path);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.value, first.value);
  // Nothing else is left in the directory (no temp file).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(SecretFile, AnEmptyFileIsReplacedByANewSecretThroughRename) {
  for (const std::string left_behind : {"", "\n", "\r\n", "  \n"}) {
    test_support::TempDir dir;
    const fs::path path = dir.path() / "admin-token";
    std::ofstream(path) << left_behind;
    const ino_t empty_inode = stat_of(path).st_ino;

    const auto secret = HmacSigner::load_or_create_secret(path);
    EXPECT_TRUE(secret.created);
    EXPECT_TRUE(is_hex_secret(secret.value));
    EXPECT_EQ(content(path), secret.value);
    EXPECT_NE(stat_of(path).st_ino, empty_inode) << "written in place, not renamed over";
    EXPECT_EQ(stat_of(path).st_mode & 07777, 0600u);
    EXPECT_EQ(HmacSigner::load_or_create_secret(path).value, secret.value);
  }
}

// The failure the issue describes: the write fails half-way (disk full). Before, a 0-byte (or
// partial) secret stayed behind and every later start failed on it.
TEST(SecretFile, AFailedWriteLeavesNoFileAndTheNextStartSucceeds) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "signing-secret";
  {
    const FileSizeLimit full_disk(10);
    EXPECT_THROW(static_cast<void>(HmacSigner::load_or_create_secret(path)), std::runtime_error);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.path())) << "a temp file was left behind";

  const auto secret = HmacSigner::load_or_create_secret(path);
  EXPECT_TRUE(secret.created);
  EXPECT_TRUE(is_hex_secret(secret.value));
}

// A crash between creating the temp file and the rename leaves the temp file: harmless.
TEST(SecretFile, ATempFileLeftByACrashIsReplaced) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "admin-token";
  std::ofstream(dir.path() / ".admin-token.tmp") << "half a sec";
  const auto secret = HmacSigner::load_or_create_secret(path);
  EXPECT_TRUE(is_hex_secret(secret.value));
  EXPECT_FALSE(fs::exists(dir.path() / ".admin-token.tmp"));
}

TEST(SecretFile, AConfiguredButShortSecretIsAnErrorThatNamesTheFile) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "signing-secret";
  std::ofstream(path) << "short\n";
  try {
    static_cast<void>(HmacSigner::load_or_create_secret(path));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(content(path), "short\n");  // left as it was
  EXPECT_EQ(HmacSigner::load_or_create_secret(dir.path() / "other").value.size(), 64u);
}

TEST(SecretFile, AnExistingSecretKeepsItsValueWithoutItsLineEnding) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "admin-token";
  std::ofstream(path) << "0123456789abcdef0123456789abcdef\n";
  const auto secret = HmacSigner::load_or_create_secret(path);
  EXPECT_FALSE(secret.created);
  EXPECT_EQ(secret.value, "0123456789abcdef0123456789abcdef");
}

}  // namespace
}  // namespace orderflow::adapters
