#include "functions/image_base64.hpp"

#include <array>
#include <cstdint>

namespace orderflow::functions {
namespace {

constexpr std::int8_t kSkip = -2;
constexpr std::int8_t kInvalid = -1;

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 26; ++i) {
    t[static_cast<unsigned char>('A' + i)] = static_cast<std::int8_t>(i);
    t[static_cast<unsigned char>('a' + i)] = static_cast<std::int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i)
    t[static_cast<unsigned char>('0' + i)] = static_cast<std::int8_t>(52 + i);
  t['+'] = t['-'] = 62;
  t['/'] = t['_'] = 63;
  t[' '] = t['\t'] = t['\r'] = t['\n'] = kSkip;
  return t;
}
constexpr auto kTable = make_table();

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> decode_base64_image(std::string_view text) {
  if (iequals_prefix(text, "data:")) {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    const auto meta = text.substr(0, comma);
    if (meta.size() < 7 || !iequals_prefix(meta.substr(meta.size() - 7), ";base64"))
      return std::nullopt;
    text.remove_prefix(comma + 1);
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t symbols = 0, padding = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::int8_t value = kTable[c];
    if (value == kSkip) continue;
    if (value == kInvalid || padding > 0) return std::nullopt;  // bad symbol, or data after '='
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  const std::size_t tail = symbols % 4;
  if (tail == 1) return std::nullopt;  // 6 bits cannot make a byte
  if (padding > 0 && (padding > 2 || (tail + padding) % 4 != 0)) return std::nullopt;
  return out;
}

}  // namespace orderflow::functions
