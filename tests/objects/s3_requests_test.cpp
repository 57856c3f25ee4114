// What the S3 adapter sends and how it treats failures, against a scripted HTTP server on
// loopback: retries of 5xx/429/network errors, permanent 4xx, and the shape of each request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "adapters/s3/s3_object_store.hpp"
#include "adapters/s3/sigv4.hpp"
#include "objects/object_test_support.hpp"
#include "ports/errors.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using ports::InfraError;

struct Scripted {
  int status;
  std::string body;
  std::string extra_headers;  // "Name: value\r\n" lines
};

// Answers each connection with the next scripted response, then closes it; records the
// requests it saw (head and body).
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Scripted> script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (const auto& answer : script_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string request = read_request(fd);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      const bool head = requests_.back().starts_with("HEAD ");
      std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " Scripted\r\n" +
                             answer.extra_headers +
                             "Content-Length: " + std::to_string(answer.body.size()) +
                             "\r\nConnection: close\r\n\r\n" + (head ? "" : answer.body);
      std::string_view rest = response;
      while (!rest.empty()) {
        const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      ::close(fd);
    }
  }

  static std::string read_request(int fd) {
    std::string data;
    char buf[4096];
    std::size_t want = std::string::npos;
    while (want == std::string::npos || data.size() < want) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      const auto end = data.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        std::size_t length = 0;
        const auto cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 16));
        want = end + 4 + length;
      }
    }
    return data;
  }

  std::vector<Scripted> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;  // guarded by mutex_
};

// Recomputes, as S3 would, the SigV4 signature of a request the adapter sent (curl signed it)
// and checks that it matches. s3rver does not check signatures, so this does.
std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string to_hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string between(const std::string& s, const std::string& open, char close) {
  const auto start = s.find(open);
  if (start == std::string::npos) return {};
  const auto from = start + open.size();
  return s.substr(from, s.find(close, from) - from);
}

void expect_valid_sigv4(const std::string& request, const std::string& secret) {
  SCOPED_TRACE(request);
  const auto head_end = request.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = request.substr(head_end + 4);
  std::istringstream lines(request.substr(0, head_end));
  std::string method, target, line;
  lines >> method >> target;
  std::getline(lines, line);
  std::map<std::string, std::string> headers;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  const std::string auth = headers["authorization"];
  const std::string signed_headers = between(auth, "SignedHeaders=", ',');
  const std::string scope = between(auth, "Credential=", ',');
  const std::string date = headers["x-amz-date"];
  ASSERT_FALSE(signed_headers.empty());
  ASSERT_EQ(date.size(), 16u);

  // S3's canonical form: the path and every query name and value decoded and re-encoded,
  // the query sorted; the payload hash of the body actually sent.
  const auto q = target.find('?');
  const std::string path = adapters::sigv4::uri_encode(percent_decode(target.substr(0, q)), true);
  std::vector<std::string> pairs;
  if (q != std::string::npos) {
    std::istringstream query(target.substr(q + 1));
    std::string pair;
    while (std::getline(query, pair, '&')) {
      const auto eq = pair.find('=');
      pairs.push_back(adapters::sigv4::uri_encode(percent_decode(pair.substr(0, eq)), false) +
                      "=" +
                      (eq == std::string::npos
                           ? ""
                           : adapters::sigv4::uri_encode(percent_decode(pair.substr(eq + 1)),
                                                         false)));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::string canonical_query;
  for (const auto& p : pairs) canonical_query += (canonical_query.empty() ? "" : "&") + p;
  std::string canonical_headers;
  std::istringstream names(signed_headers);
  std::string name;
  while (std::getline(names, name, ';')) canonical_headers += name + ":" + headers[name] + "\n";
  const std::string payload_hash = adapters::sigv4::sha256_hex(body);
  EXPECT_EQ(headers["x-amz-content-sha256"], payload_hash);
  const std::string canonical_request = method + "\n" + path + "\n" + canonical_query + "\n" +
                                        canonical_headers + "\n" + signed_headers + "\n" +
                                        payload_hash;
  const std::string credential_scope = scope.substr(scope.find('/') + 1);
  const std::string string_to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + credential_scope +
                                     "\n" + adapters::sigv4::sha256_hex(canonical_request);
  std::string key = "AWS4" + secret;
  std::istringstream parts(credential_scope);
  std::string part;
  while (std::getline(parts, part, '/')) key = hmac_sha256(key, part);
  EXPECT_EQ(between(auth + "\n", "Signature=", '\n'), to_hex(hmac_sha256(key, string_to_sign)));
}

adapters::S3Config config_for(const std::string& endpoint) {
  adapters::S3Config c;
  c.bucket = "bkt";
  c.endpoint = endpoint;
  c.credentials = {"AKID", "SECRET", ""};
  c.max_attempts = 4;
  c.initial_backoff = 1ms;
  return c;
}

const char* const kNoSuchBucket =
    "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
    "</Error>";

class S3Requests : public ::testing::Test {
 protected:
  ManualClock clock_{wall_now()};
};

TEST_F(S3Requests, ServerErrorsAreRetriedUntilOneSucceeds) {
  ScriptedServer server({{503, "<Error><Code>SlowDown</Code></Error>", ""},
                         {500, "", ""},
                         {200, "the bytes", "Content-Type: text/plain\r\n"}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  const auto got = store.get("k.txt");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->bytes, "the bytes");
  EXPECT_EQ(got->content_type, "text/plain");
  EXPECT_EQ(server.requests().size(), 3u);
  expect_valid_sigv4(server.requests().at(2), "SECRET");
}

TEST_F(S3Requests, TooManyRequestsIsRetried) {
  ScriptedServer server({{429, "", ""}, {200, "", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  EXPECT_NO_THROW(store.put("k", "v", "text/plain"));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(S3Requests, PersistentServerErrorsEndAsTransientAfterEveryAttempt) {
  ScriptedServer server({{500, "", ""}, {502, "", ""}, {503, "", ""},
                         {503, "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  try {
    store.put("k", "v", "text/plain");
    ADD_FAILURE() << "put succeeded";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient);
    EXPECT_NE(std::string(e.what()).find("SlowDown"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST_F(S3Requests, ForbiddenIsPermanentAndNotRetried) {
  ScriptedServer server(
      {{403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  try {
    store.get("k");
    ADD_FAILURE() << "get succeeded";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
    EXPECT_NE(std::string(e.what()).find("AccessDenied"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(S3Requests, AMissingBucketIsAnErrorNotAMissingObject) {
  ScriptedServer server({{404, kNoSuchBucket, ""}, {404, kNoSuchBucket, ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  EXPECT_THROW(store.get("k"), InfraError);
  EXPECT_THROW(store.list("", "", 10), InfraError);
}

TEST_F(S3Requests, AnUnreadableListingIsPermanent) {
  ScriptedServer server({{200, "<html>proxy login</html>", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  try {
    store.list("", "", 10);
    ADD_FAILURE() << "list succeeded";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
  }
}

TEST_F(S3Requests, ConnectionRefusedIsTransient) {
  std::string endpoint;
  {
    ScriptedServer closed({});  // a port that was ours, now closed
    endpoint = closed.endpoint();
  }
  auto config = config_for(endpoint);
  config.max_attempts = 2;
  adapters::S3ObjectStore store(config, clock_);
  try {
    store.get("k");
    ADD_FAILURE() << "get succeeded";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient);
    EXPECT_NE(std::string(e.what()).find("2 attempts"), std::string::npos) << e.what();
  }
}

TEST_F(S3Requests, PutSendsTheBodyItsHashAndContentTypeSigned) {
  ScriptedServer server({{200, "", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  const std::string body("bin\0\xff", 5);
  store.put("dir/a b.png", body, "image/png");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string& r = requests[0];
  EXPECT_TRUE(r.starts_with("PUT /bkt/dir/a%20b.png HTTP/1.1\r\n")) << r;
  EXPECT_NE(r.find("\r\nx-amz-content-sha256: " + adapters::sigv4::sha256_hex(body) + "\r\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("\r\nContent-Type: image/png\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Credential=AKID/"), std::string::npos) << r;
  EXPECT_NE(r.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"),
            std::string::npos)
      << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\n" + body)) << r;
  expect_valid_sigv4(r, "SECRET");
}

TEST_F(S3Requests, SessionTokenIsSentAndSigned) {
  ScriptedServer server({{200, "", ""}});
  auto config = config_for(server.endpoint());
  config.credentials.session_token = "TOKEN";
  adapters::S3ObjectStore store(config, clock_);
  store.put("k", "v", "text/plain");
  const std::string r = server.requests().at(0);
  EXPECT_NE(r.find("\r\nx-amz-security-token: TOKEN\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find(";x-amz-date;x-amz-security-token,"), std::string::npos) << r;
  expect_valid_sigv4(r, "SECRET");
}

TEST_F(S3Requests, ListSendsACanonicalQuery) {
  ScriptedServer server({{200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  store.list("a b/", "tok+/=", 5000);
  const std::string r = server.requests().at(0);
  // Sorted by name and fully encoded: curl 7.88 signs the query as written.
  EXPECT_TRUE(r.starts_with("GET /bkt?continuation-token=tok%2B%2F%3D&list-type=2&max-keys=1000"
                            "&prefix=a%20b%2F HTTP/1.1\r\n"))
      << r;
  expect_valid_sigv4(r, "SECRET");
}

TEST_F(S3Requests, VirtualHostStyleNamesTheBucketInTheHost) {
  ScriptedServer server({{200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>", ""}});
  auto config = config_for(server.endpoint());
  config.virtual_host = true;
  // bkt.localhost reaches the scripted server: curl resolves *.localhost to loopback itself.
  config.endpoint = "http://localhost:" + server.endpoint().substr(server.endpoint().rfind(':') + 1);
  config.bucket = "bkt";
  adapters::S3ObjectStore store(config, clock_);
  store.list("", "", 1);
  const std::string r = server.requests().at(0);
  EXPECT_TRUE(r.starts_with("GET /?list-type=2&max-keys=1 HTTP/1.1\r\n")) << r;
  EXPECT_NE(r.find("\r\nHost: bkt.localhost:"), std::string::npos) << r;
  expect_valid_sigv4(r, "SECRET");
}

TEST_F(S3Requests, RemoveAsksFirstAndDeletesOnlyWhatExists) {
  ScriptedServer server({{404, "", ""}, {200, "", "Content-Type: text/plain\r\n"}, {204, "", ""}});
  adapters::S3ObjectStore store(config_for(server.endpoint()), clock_);
  EXPECT_FALSE(store.remove("gone"));
  EXPECT_TRUE(store.remove("here"));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(requests[0].starts_with("HEAD /bkt/gone ")) << requests[0];
  EXPECT_TRUE(requests[1].starts_with("HEAD /bkt/here ")) << requests[1];
  EXPECT_TRUE(requests[2].starts_with("DELETE /bkt/here ")) << requests[2];
  for (const auto& r : requests) expect_valid_sigv4(r, "SECRET");
}

}  // namespace
}  // namespace orderflow::testing
