#include "adapters/system/uuid_v7_generator.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

namespace orderflow::adapters {
namespace {

struct State {
  std::mutex mu;
  std::uint64_t last_ms = 0;
  std::uint32_t counter = 0;
  std::mt19937_64 rng{std::random_device{}()};
};

State& state() {
  static State s;
  return s;
}

}  // namespace

std::string UuidV7Generator::new_id() {
  const auto now = clock_.now();
  auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  std::uint64_t rand_b;
  std::uint32_t seq;
  {
    State& s = state();
    std::lock_guard lock(s.mu);
    if (ms <= s.last_ms) {
      ms = s.last_ms;
      if (++s.counter > 0xFFF) {  // counter exhausted: borrow the next millisecond
        ++ms;
        s.counter = 0;
      }
    } else {
      s.counter = static_cast<std::uint32_t>(s.rng() & 0x3FF);  // random start, room to grow
    }
    s.last_ms = ms;
    seq = s.counter;
    rand_b = s.rng();
  }
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((seq >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(seq & 0xFF);
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(rand_b >> (56 - 8 * i));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

}  // namespace orderflow::adapters
