#include "runtime/http_policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>

namespace orderflow::runtime {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
  });
}

CorsPolicy::CorsPolicy(std::vector<std::string> origins) {
  for (auto& o : origins) {
    if (o == "*")
      any_ = true;
    else
      origins_.push_back(std::move(o));
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  return std::any_of(origins_.begin(), origins_.end(),
                     [&](const std::string& o) { return iequals(o, origin); });
}

namespace {

// The media type of a Content-Type value, without parameters or surrounding blanks.
std::string_view media_type_of(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return type;
}

}  // namespace

std::optional<std::string> media_type_problem(BodyMedia accepted, std::string_view content_type) {
  if (accepted == BodyMedia::any) return std::nullopt;
  std::vector<std::string_view> types = {"application/json"};
  if (accepted == BodyMedia::json_or_multipart) types.emplace_back("multipart/form-data");
  if (accepted == BodyMedia::json_or_form) types.emplace_back("application/x-www-form-urlencoded");
  const auto type = media_type_of(content_type);
  if (std::any_of(types.begin(), types.end(), [&](std::string_view t) { return iequals(type, t); }))
    return std::nullopt;
  const std::string expected = fmt::format("{}", fmt::join(types, " or "));
  if (type.empty()) return "Request body has no Content-Type; expected " + expected;
  // The type is the client's: shown only when it is short and printable.
  const bool showable = type.size() <= 100 && std::all_of(type.begin(), type.end(), [](char c) {
                          return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
                        });
  return "Unsupported Content-Type" +
         (showable ? " \"" + std::string(type) + "\"" : std::string()) + "; expected " + expected;
}

bool is_foreign_origin(std::string_view origin, std::string_view host, const CorsPolicy& cors) {
  if (origin.empty()) return false;
  if (!host.empty()) {
    for (std::string_view scheme : {"http://", "https://"}) {
      if (origin.size() == scheme.size() + host.size() &&
          iequals(origin.substr(0, scheme.size()), scheme) &&
          iequals(origin.substr(scheme.size()), host))
        return false;
    }
  }
  return !cors.allows(origin);
}

RequestIdGenerator::RequestIdGenerator() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device entropy;
  std::uint64_t bits = (std::uint64_t{entropy()} << 32) ^ entropy();
  for (auto& ch : prefix_) {
    ch = kHex[bits & 0xf];
    bits >>= 4;
  }
}

void RequestIdGenerator::next(std::string& out) {
  out.assign(prefix_, sizeof prefix_);
  out += '-';
  fmt::format_to(std::back_inserter(out), "{:x}", ++counter_);
}

std::optional<std::string> framing_problem(std::span<const std::string_view> transfer_encodings,
                                           bool has_content_length, unsigned version) {
  if (transfer_encodings.empty()) return std::nullopt;
  if (version < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request";
  if (has_content_length) return std::string(kBothFramingsMessage);
  // The codings of every field in order, empty list elements skipped (RFC 9110 §5.6.1).
  std::size_t codings = 0;
  bool chunked = false;
  for (std::string_view value : transfer_encodings) {
    while (!value.empty()) {
      const auto comma = value.find(',');
      std::string_view coding = value.substr(0, comma);
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
        coding.remove_prefix(1);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
        coding.remove_suffix(1);
      if (!coding.empty()) {
        ++codings;
        chunked = iequals(coding, "chunked");
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  // Only chunked is decoded here, so anything more than chunked alone is refused: a list that
  // does not end in chunked has no reliable length (RFC 9112 §6.3), and one that does would
  // hand the function bytes still encoded.
  if (codings != 1 || !chunked) return std::string(kUnsupportedCodingMessage);
  return std::nullopt;
}

bool BodyBudget::try_reserve(std::uint64_t bytes) {
  std::uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > capacity_ - std::min(used, capacity_)) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

boost::asio::ip::address ClientConnections::key(const boost::asio::ip::address& client) {
  if (client.is_v6() && client.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, client.to_v6());
  return client;
}

bool ClientConnections::try_add(const boost::asio::ip::address& client) {
  if (per_client_ <= 0) return true;
  std::lock_guard lock(mutex_);
  int& open = open_[key(client)];
  if (open >= per_client_) {
    if (open == 0) open_.erase(key(client));
    return false;
  }
  ++open;
  return true;
}

void ClientConnections::remove(const boost::asio::ip::address& client) {
  if (per_client_ <= 0) return;
  std::lock_guard lock(mutex_);
  const auto it = open_.find(key(client));
  if (it != open_.end() && --it->second <= 0) open_.erase(it);
}

int ClientConnections::count(const boost::asio::ip::address& client) const {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(key(client));
  return it == open_.end() ? 0 : it->second;
}

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace orderflow::runtime
