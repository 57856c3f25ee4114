// /readyz says whether writes succeed (issue 12, item 7): on a full disk every write answers 503,
// and so does readiness, with the store "failing"; once there is room again it is ready at the
// next check, without waiting for a write. The disk is a small tmpfs the test mounts (as root).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

namespace fs = std::filesystem;

// A tmpfs of `size` mounted on `dir` (created) for the object's lifetime; detached at the end.
class Tmpfs {
 public:
  Tmpfs(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0)
      mounted_ = true;
    else
      error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system has no room left; true when it ended on ENOSPC.
bool fill_up(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const std::string chunk(64 * 1024, 'x');
  while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) {
  }
  const bool full = errno == ENOSPC;
  std::fclose(f);  // may fail for the buffered rest, which is what we want
  return full;
}

std::string check(const Response& r, std::string_view name) {
  const boost::json::value body = r.json();
  return string_field(body.as_object().at("checks"), name);
}

TEST(Readiness, AFullDiskMakesItUnavailableUntilWritesSucceedAgain) {
  TempDir dir;
  // Declared before the server, so the server stops before the disk goes.
  Tmpfs disk(dir.path() / "disk", "4m");
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): " << disk.error();
  ServerOptions options;
  options.env = {{"ORDERFLOW_STORE", "sqlite:" + (dir.path() / "disk" / "orderflow.db").string()}};
  auto server = std::make_unique<ServerProcess>(dir.path() / "work", options);
  HttpClient c(server->port());

  Response ready = c.get("/readyz");
  ASSERT_TRUE(HasStatus(ready, 200));
  EXPECT_EQ(check(ready, "store"), "ok");
  EXPECT_EQ(check(ready, "objects"), "ok");
  EXPECT_EQ(check(ready, "mailer"), "ok");
  std::size_t acknowledged = 0;
  ASSERT_FALSE(create_order(c, "before the disk filled", "1").empty());
  ++acknowledged;

  ASSERT_TRUE(fill_up(dir.path() / "disk" / "filler")) << "the tmpfs did not fill";
  // The file system may still have had room in pages SQLite holds, and once SQLite checkpoints
  // its write-ahead log it writes into the log's old space again: writes can succeed for a while
  // after the first refusal, and then readiness rightly says ok. So write until a write is
  // refused and readiness, which then tries a write of its own, says unavailable twice running.
  Response refused;
  Response full;
  Response again;
  for (int round = 0; round < 50 && again.status != 503; ++round) {
    refused = Response{};
    for (int i = 0; i < 200 && refused.status != 503; ++i) {
      refused = c.post("/orders", order_body("on a full disk", "2"));
      if (refused.status == 201) ++acknowledged;
    }
    ASSERT_TRUE(IsErrorCode(refused, 503, "unavailable")) << describe(refused);
    full = c.get("/readyz");
    if (full.status == 503) again = c.get("/readyz");
  }

  EXPECT_TRUE(HasStatus(full, 503));
  EXPECT_EQ(string_field(full.json(), "status"), "unavailable");
  EXPECT_EQ(check(full, "store"), "failing");
  EXPECT_EQ(check(full, "objects"), "ok") << "the object store is elsewhere";
  EXPECT_EQ(check(full, "mailer"), "ok");
  EXPECT_EQ(again.status, 503) << "still failing: the probe write fails too";

  // Room again: the next check's own write succeeds, with no other write needed.
  fs::remove(dir.path() / "disk" / "filler");
  ready = c.get("/readyz");
  EXPECT_TRUE(HasStatus(ready, 200));
  EXPECT_EQ(check(ready, "store"), "ok");
  ASSERT_FALSE(create_order(c, "after the disk was freed", "3").empty());
  ++acknowledged;
  // Nothing acknowledged was lost, also across a restart.
  EXPECT_EQ(count_orders(c), acknowledged);
  c.close();
  EXPECT_EQ(server->stop(), 0);
  server->restart();
  HttpClient after(server->port());
  EXPECT_EQ(count_orders(after), acknowledged);
}

}  // namespace
}  // namespace orderflow::e2e
