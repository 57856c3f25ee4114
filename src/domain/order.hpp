// The order: the one aggregate of orderflow, and the rules its fields obey.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/json_writer.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace orderflow::domain {

struct Order {
  std::string id;  // UUID (v7 for orders we create), lower-case canonical text
  std::string description;
  Money price;
  Timestamp created;
  Timestamp last_modified;
  std::int64_t version = 1;  // bumped by every update; the ETag
  // Set only for orders created from a product photo (POST /images/recognize).
  std::string image_key;          // object key of the photo, empty when none
  std::string detected_labels;    // JSON array text of the recognition labels, empty when none
  std::string validation_status;  // match | mismatch | uncertain | ..., empty when none

  friend bool operator==(const Order&, const Order&) = default;
};

inline constexpr std::size_t kMaxDescriptionChars = 1000;

// Validates and normalises a description: trimmed, 1–1000 characters (code points), valid
// UTF-8, no control characters other than tab and newline. A failure says why.
Result<std::string> normalize_description(std::string_view raw);

bool is_valid_utf8(std::string_view s);
// Canonical UUID text: 8-4-4-4-12 hex digits (either case accepted).
bool is_uuid(std::string_view s);
// Strong ETag for a version: "\"3\"".
std::string etag_for(std::int64_t version);
// An If-Match or If-None-Match field (RFC 9110 §13.1.1, §13.1.2): "*", or a list of entity
// tags, each weak (W/"x") or strong ("x"). nullopt when the field is not of that form.
struct EntityTags {
  bool any = false;
  std::vector<std::pair<bool, std::string>> tags;  // (weak, the text between the quotes)
};
std::optional<EntityTags> parse_entity_tags(std::string_view field);
// If-Match, compared strongly: the order versions its strong tags name, or {0} for "*" (any
// version). A weak tag, or one we never issued, names none. nullopt when malformed.
std::optional<std::vector<std::int64_t>> if_match_versions(std::string_view field);
// If-None-Match, compared weakly: true when it is "*" or one of its tags names `version`.
bool if_none_match_hits(std::string_view field, std::int64_t version);
// The same for any strong ETag we issued, quotes included ("\"12-345\""): the static files'
// and the file store's objects.
bool if_none_match_names(std::string_view field, std::string_view etag);

// Writes the order's fields as the seed names them (orderId, description, price,
// creationDate, lastModifiedDate) into an object the caller has opened.
void write_order_fields(JsonWriter& w, const Order& o);
// The order as a whole JSON object.
std::string order_json(const Order& o);

}  // namespace orderflow::domain
