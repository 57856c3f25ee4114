#include "runtime/http_policy.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>

#include <fmt/format.h>

namespace orderflow::runtime {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
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
    if (o == "*") any_ = true;
    else origins_.push_back(std::move(o));
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& o) { return iequals(o, origin); });
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

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace orderflow::runtime
