// The data dir is the owner's alone (issue 12, item 8): after a run that stored an order, an
// archive object, a report and a mail, every directory in it is 0700 and every file 0600 — the
// SQLite database with its -wal and -shm, the objects, the mail and the two secret files —
// whether the server started with umask 0022 or 0000.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class PrivateDataDir : public testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override { saved_umask_ = ::umask(GetParam()); }  // the server inherits it
  void TearDown() override { ::umask(saved_umask_); }

 private:
  mode_t saved_umask_ = 022;
};

TEST_P(PrivateDataDir, EveryDirectoryIs0700AndEveryFile0600) {
  TempDir dir;
  ServerProcess server(dir.path());
  HttpClient c(server.port());
  const fs::path data = server.data_dir();

  const std::string id = create_order(c, "kept private", "4.20");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(delete_order(c, id));
  ASSERT_TRUE(wait_for_archive(server, id).has_value()) << "the archive object";
  ASSERT_TRUE(HasStatus(c.get("/reports/deleted-orders"), 200)) << "a report object";
  ASSERT_TRUE(HasStatus(c.post("/subscriptions", R"({"email":"private@example.com"})"), 200));
  ASSERT_EQ(wait_for_mail(
                server_maildir(server), [](const auto& m) { return !m.empty(); }, kEventually)
                .size(),
            1u);

  // What the run must have made, so that the walk below cannot pass on an empty dir.
  for (const char* file :
       {"orderflow.db", "orderflow.db-wal", "orderflow.db-shm", "admin-token", "signing-secret"})
    EXPECT_TRUE(fs::is_regular_file(data / file)) << file;
  EXPECT_TRUE(fs::is_regular_file(data / "objects" / "deleted_orders" / (id + ".json")));
  EXPECT_FALSE(fs::is_empty(data / "objects" / "reports"));
  EXPECT_FALSE(fs::is_empty(data / "mail" / "new"));

  EXPECT_EQ(mode_of(data), 0700u) << data;
  std::vector<std::string> checked;
  for (const auto& entry : fs::recursive_directory_iterator(data)) {
    const fs::path& p = entry.path();
    checked.push_back(fs::relative(p, data).string());
    if (entry.is_directory())
      EXPECT_EQ(mode_of(p), 0700u) << std::oct << p << " is " << mode_of(p);
    else
      EXPECT_EQ(mode_of(p), 0600u) << std::oct << p << " is " << mode_of(p);
  }
  EXPECT_THAT(checked,
              testing::IsSupersetOf({"objects", "objects/.tmp", "mail", "mail/tmp", "mail/cur"}));
}

INSTANTIATE_TEST_SUITE_P(Umask, PrivateDataDir, testing::Values(mode_t{0022}, mode_t{0000}),
                         [](const testing::TestParamInfo<mode_t>& param) {
                           return param.param == 0 ? std::string("Umask0000")
                                                   : std::string("Umask0022");
                         });

}  // namespace
}  // namespace orderflow::e2e
