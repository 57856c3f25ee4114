// What the object store tests share: temp dirs, a clock the test sets, plain HTTP GETs, and an
// s3rver (npm) process on loopback for the S3 adapter.
#pragma once

#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace orderflow::testing {

using TempDir = test_support::TempDir;

using test_support::ManualClock;

// The wall-clock time, rounded to whole seconds (what S3 timestamps carry).
domain::Timestamp wall_now();

struct HttpAnswer {
  long status = 0;
  std::string body;
};

// An unauthenticated GET, as a browser following a link would make it.
HttpAnswer http_get(const std::string& url);

// An s3rver on 127.0.0.1 (port chosen by the server), storing under its own temp dir.
class S3rver {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  // Starts <repo>/node_modules/s3rver. Throws std::runtime_error saying what is missing or why
  // it did not start (run scripts/install-deps.sh to install it).
  S3rver();
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:<port>
  void create_bucket(const std::string& name) const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string endpoint_;
};

// The s3rver of this test process: started on first use and stopped when the tests end. A
// failure to start is remembered and rethrown to every caller, so each S3 test fails with it.
const S3rver& shared_s3rver();

}  // namespace orderflow::testing
