#include "runtime/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace orderflow::runtime {
namespace {

// "/a/b/" -> {"a", "b", ""}; "/" and "" -> {}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Router::Router(std::span<const Route> routes) {
  for (const auto& route : routes) {
    auto it = std::find_if(patterns_.begin(), patterns_.end(),
                           [&](const Pattern& p) { return p.text == route.pattern; });
    if (it == patterns_.end()) {
      Pattern p;
      p.text = route.pattern;
      for (auto seg : split_path(route.pattern)) {
        bool param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
        p.segments.push_back(param ? Segment{seg.substr(1, seg.size() - 2), true}
                                   : Segment{seg, false});
      }
      patterns_.push_back(std::move(p));
      it = patterns_.end() - 1;
    }
    for (const Route* existing : it->routes)
      if (existing->method == route.method)
        throw std::logic_error("route table: duplicate route " + std::string(route.method) + " " +
                               std::string(route.pattern));
    it->routes.push_back(&route);
    it->allow += std::string(route.method) + ", ";
    // HEAD is served wherever GET is (RFC 9110 §9.3.2), so Allow names it too.
    if (route.method == "GET") it->allow += "HEAD, ";
  }
  for (auto& p : patterns_) p.allow += "OPTIONS";
}

Router::Match Router::match(std::string_view method, std::span<const std::string_view> segments,
                            PathParams& params) const {
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    const Pattern& p = patterns_[i];
    // A last parameter written {name+} takes the rest of the path, '/' included.
    const bool greedy =
        !p.segments.empty() && p.segments.back().is_param && p.segments.back().text.ends_with('+');
    if (greedy ? segments.size() < p.segments.size() : p.segments.size() != segments.size())
      continue;
    bool ok = true;
    for (std::size_t s = 0; s < segments.size() && ok; ++s) {
      const Segment& seg = p.segments[std::min(s, p.segments.size() - 1)];
      ok = seg.is_param ? !segments[s].empty() : seg.text == segments[s];
    }
    if (!ok) continue;

    params.clear();
    for (std::size_t s = 0; s < p.segments.size(); ++s) {
      if (!p.segments[s].is_param) continue;
      if (greedy && s + 1 == p.segments.size()) {
        std::string rest(segments[s]);
        for (std::size_t r = s + 1; r < segments.size(); ++r) (rest += '/') += segments[r];
        std::string_view name = p.segments[s].text;
        name.remove_suffix(1);
        params.emplace_back(name, std::move(rest));
      } else {
        params.emplace_back(p.segments[s].text, segments[s]);
      }
    }
    for (const Route* route : p.routes)
      if (route->method == method) return Match{Outcome::found, route, i};
    return Match{Outcome::method_not_allowed, nullptr, i};
  }
  return Match{};
}

Router::Match Router::match_path(std::string_view method, std::string_view path,
                                 PathParams& params) const {
  auto segments = split_path(path);
  return match(method, segments, params);
}

}  // namespace orderflow::runtime
