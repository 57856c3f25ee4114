#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace orderflow::domain {

// Validates an e-mail address the way a sign-up form should: trimmed, at most 254 bytes, one
// '@', a non-empty local part of printable ASCII without spaces or quotes, and a domain of at
// least two dot-separated labels of letters, digits and hyphens. Returns the trimmed address,
// or a failure with the seed's message ("Email is required", "Invalid email format").
Result<std::string> normalize_email(std::string_view raw);

// The lower-case form subscriptions are keyed by (addresses match case-insensitively).
std::string email_key(std::string_view email);

}  // namespace orderflow::domain
