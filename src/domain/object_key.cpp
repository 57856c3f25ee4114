#include "domain/object_key.hpp"

#include "domain/order.hpp"

namespace orderflow::domain {

bool is_valid_object_key(std::string_view key) {
  if (key.empty() || key.size() > 1024 || !is_valid_utf8(key)) return false;
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || c == '\\') return false;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = key.find('/', start);
    const std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace orderflow::domain
