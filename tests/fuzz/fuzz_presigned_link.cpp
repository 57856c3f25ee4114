// GET /objects/{key}?expires=&signature= (the file store's presigned links) with any key,
// expiry, signature and Range header, one per input line. A signature line of "*" stands for the
// right signature of that key and expiry, so the fuzzer also reaches the serving and Range code.
// Properties: only a correctly signed, unexpired link serves anything, and what it serves is
// (part of) a stored object; a link presign_get makes passes check_link until it expires, and
// fails with any other signature.
#include <array>
#include <charconv>
#include <chrono>
#include <string>
#include <tuple>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "domain/object_key.hpp"
#include "fuzz/fuzz_check.hpp"
#include "runtime/object_route.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using orderflow::adapters::FileObjectStore;
using orderflow::fuzz::require;
using Seconds = std::chrono::seconds;

constexpr std::int64_t kNow = 1'800'000'000;  // seconds since the epoch, as the clock stands

struct Object {
  std::string_view key;
  std::string_view bytes;
};
constexpr std::array<Object, 3> kObjects{{
    {"orders/0b0c7a52-3f1e-4c55-9a0e-8d5d0f1f2a3b/photo.jpg", "\xFF\xD8\xFF jpeg bytes \xFF\xD9"},
    {"reports/2026-12-01.pdf", "%PDF-1.7 a report"},
    {"empty.txt", ""},
}};

// One file store in a private temp dir for the whole run; libFuzzer runs inputs one at a time.
struct Fixture {
  orderflow::test_support::TempDir dir{"orderflow-fuzz-objects"};
  orderflow::adapters::HmacSigner signer{"fuzz-signing-secret-0123456789abcdef"};
  orderflow::test_support::ManualClock clock{orderflow::domain::Timestamp{Seconds{kNow}}};
  FileObjectStore store{dir.path(), "http://127.0.0.1:8080", signer, clock};

  Fixture() {
    for (const auto& object : kObjects) store.put(object.key, object.bytes, "");
  }
  std::string signature_of(std::string_view key, std::string_view expires) const {
    return signer.sign("GET\n" + std::string(key) + "\n" + std::string(expires));
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture;  // never destroyed: libFuzzer may exit from any input
  return *f;
}

bool from_stored_object(std::string_view body) {
  for (const auto& object : kObjects)
    if (object.bytes.find(body) != std::string_view::npos) return true;
  return false;
}

// The input's first three lines, and the rest.
std::array<std::string_view, 4> fields_of(std::string_view text) {
  std::array<std::string_view, 4> fields;
  for (std::size_t i = 0; i + 1 < fields.size(); ++i)
    std::tie(fields[i], text) = orderflow::fuzz::split_once(text, "\n");
  fields.back() = text;
  return fields;
}

// A link presign_get makes for `key` works until it expires, and only with its own signature.
void check_presigned(Fixture& f, std::string_view key, std::int64_t ttl) {
  std::string url;
  try {
    url = f.store.presign_get(key, Seconds{ttl});
  } catch (const std::invalid_argument&) {
    require(!orderflow::domain::is_valid_object_key(key) || key.starts_with(".tmp"),
            "presign_get refuses only invalid keys");
    return;
  }
  const auto expires_at = url.find("?expires=");
  const auto signature_at = url.find("&signature=");
  require(expires_at != std::string::npos && signature_at > expires_at, "a link is signed");
  const std::string expires = url.substr(expires_at + 9, signature_at - expires_at - 9);
  std::string signature = url.substr(signature_at + 11);
  require(expires == std::to_string(kNow + ttl), "a link expires after its ttl");
  require(f.store.check_link(key, expires, signature) == FileObjectStore::LinkCheck::ok,
          "a fresh link passes");
  f.clock.set(orderflow::domain::Timestamp{Seconds{kNow + ttl + 1}});
  const auto late = f.store.check_link(key, expires, signature);
  f.clock.set(orderflow::domain::Timestamp{Seconds{kNow}});
  require(late == FileObjectStore::LinkCheck::expired, "a link expires");
  signature[static_cast<std::size_t>(ttl) % signature.size()] ^= 0x01;
  require(f.store.check_link(key, expires, signature) == FileObjectStore::LinkCheck::bad_signature,
          "an altered signature fails");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  const auto fields = fields_of(orderflow::fuzz::as_text(data, size));
  const std::string key(fields[0]);
  const std::string expires(fields[1]);
  const std::string signature =
      fields[2] == "*" ? f.signature_of(key, expires) : std::string(fields[2]);
  const std::string_view range = fields[3];

  const std::string path = "/objects/" + key;
  const std::string target = path + "?expires=" + expires + "&signature=" + signature;
  orderflow::functions::Request req;
  req.method = "GET";
  req.path = path;
  req.raw_target = target;
  req.path_params = {{"key", key}};
  req.query = {{"expires", expires}, {"signature", signature}};
  if (!range.empty()) req.headers = {{"Range", range}};

  const auto response = orderflow::runtime::serve_object(&f.store, req);
  if (response.status >= 200 && response.status < 300) {
    require(signature == f.signature_of(key, expires), "only a signed link serves");
    std::int64_t exp = 0;
    const auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
    require(ec == std::errc{} && end == expires.data() + expires.size() && exp >= kNow,
            "only an unexpired link serves");
    require(from_stored_object(response.body), "what is served is a stored object's");
    if (response.status == 200)
      require(f.store.get(key).value().bytes == response.body, "200 serves the whole object");
  }

  const std::int64_t ttl = expires.empty() ? 60 : static_cast<unsigned char>(expires[0]) + 1;
  check_presigned(f, key, ttl);
  return 0;
}
