// Matches a request's method and decoded path segments against the route table.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/routes.hpp"

namespace orderflow::runtime {

using PathParams = std::vector<std::pair<std::string, std::string>>;

class Router {
 public:
  static constexpr std::size_t kNoPattern = static_cast<std::size_t>(-1);

  enum class Outcome { found, method_not_allowed, not_found };
  struct Match {
    Outcome outcome = Outcome::not_found;
    const Route* route = nullptr;      // set when found
    std::size_t pattern = kNoPattern;  // index of the matching pattern unless not_found
  };

  // `routes` must outlive the router.
  explicit Router(std::span<const Route> routes);

  // `segments` are the decoded path segments ("/orders/a%20b" -> {"orders", "a b"}).
  // When a pattern matches, its parameters replace the contents of `params`.
  Match match(std::string_view method, std::span<const std::string_view> segments,
              PathParams& params) const;
  // The same for a decoded path, split at '/'.
  Match match_path(std::string_view method, std::string_view path, PathParams& params) const;

  std::size_t pattern_count() const { return patterns_.size(); }
  std::string_view pattern(std::size_t index) const { return patterns_[index].text; }
  // The methods a pattern answers, for the Allow header: "GET, POST, OPTIONS".
  const std::string& allow(std::size_t index) const { return patterns_[index].allow; }

 private:
  struct Segment {
    std::string_view text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct Pattern {
    std::string_view text;
    std::vector<Segment> segments;
    std::vector<const Route*> routes;
    std::string allow;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace orderflow::runtime
