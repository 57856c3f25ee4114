// Reads the noun part of WordNet 3.0 from its database files (Debian's wordnet-base installs
// them in /usr/share/wordnet): data.noun for the hypernym graph, index.noun for lemmas and
// their senses, noun.exc for irregular plurals. Done once at start-up (about 0.3 s).
#pragma once

#include <filesystem>
#include <string_view>

#include "domain/wordnet.hpp"

namespace orderflow::adapters {

inline constexpr std::string_view kDefaultWordNetDir = "/usr/share/wordnet";

// Throws std::runtime_error naming the file when a file is missing or not WordNet's format.
domain::WordNet load_wordnet(const std::filesystem::path& dir);

}  // namespace orderflow::adapters
