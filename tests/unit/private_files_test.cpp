// Directories and files of the data dir are owner-only (issue 12, item 8): 0700 and 0600
// exactly, whatever the umask; a directory that exists already keeps its mode.
#include "adapters/files/private_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/temp_dir.hpp"

namespace orderflow::adapters {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// The process umask for one test, restored after it.
class WithUmask : public testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override { saved_ = ::umask(GetParam()); }
  void TearDown() override { ::umask(saved_); }

 private:
  mode_t saved_ = 022;
};

TEST_P(WithUmask, NewDirectoriesAre0700AndFiles0600) {
  test_support::TempDir dir;
  const fs::path deep = dir.path() / "data" / "objects" / "deleted_orders";
  ASSERT_FALSE(create_private_directories(deep));
  for (const fs::path& d : {dir.path() / "data", dir.path() / "data" / "objects", deep})
    EXPECT_EQ(mode_of(d), 0700u) << d;
  ASSERT_FALSE(create_private_directories(deep)) << "existing directories are fine";

  const int fd = open_private_file(deep / "a.json", O_WRONLY | O_EXCL);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(mode_of(deep / "a.json"), 0600u);
}

TEST_P(WithUmask, AnExistingFileOpenedAgainBecomes0600) {
  test_support::TempDir dir;
  const fs::path file = dir.path() / "mail.tmp";
  const int first = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  ASSERT_GE(first, 0);
  ::close(first);
  const int fd = open_private_file(file, O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(mode_of(file), 0600u);
}

// 0022 and 0000 are the usual ones; 0277 takes the owner's write bit too.
INSTANTIATE_TEST_SUITE_P(PrivateFiles, WithUmask,
                         testing::Values(mode_t{0022}, mode_t{0000}, mode_t{0277}));

TEST(PrivateFiles, AnExistingDirectoryKeepsItsMode) {
  test_support::TempDir dir;
  const fs::path shared = dir.path() / "shared";
  ASSERT_EQ(::mkdir(shared.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0755), 0);
  ASSERT_FALSE(create_private_directories(shared / "data"));
  EXPECT_EQ(mode_of(shared), 0755u);
  EXPECT_EQ(mode_of(shared / "data"), 0700u);
}

}  // namespace
}  // namespace orderflow::adapters
