// Reads the noun part of WordNet 3.0 from its database files (Debian's wordnet-base installs
// them in /usr/share/wordnet): data.noun for the hypernym graph, index.noun for lemmas and
// their senses, noun.exc for irregular plurals. Done once at start-up (0.1-0.3 s).
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "domain/wordnet.hpp"
#include "domain/wordnet_matcher.hpp"
#include "ports/image_recognizer.hpp"

namespace orderflow::adapters {

inline constexpr std::string_view kDefaultWordNetDir = "/usr/share/wordnet";

// Throws std::runtime_error naming the file when a file is missing or not WordNet's format.
domain::WordNet load_wordnet(const std::filesystem::path& dir);

// The description matcher for a recognizer's classes, over the WordNet in `dir`. Throws
// std::runtime_error naming the file, or std::invalid_argument naming a class WordNet lacks.
std::unique_ptr<domain::DescriptionMatcher> load_description_matcher(
    const std::filesystem::path& dir, const std::vector<ports::ImageClass>& classes,
    domain::MatchPolicy policy = {});

}  // namespace orderflow::adapters
