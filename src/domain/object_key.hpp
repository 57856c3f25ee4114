#pragma once

#include <string_view>

namespace orderflow::domain {

// An object key is a relative path of '/'-separated segments: 1–1024 bytes of valid UTF-8, no
// empty, "." or ".." segment, no leading or trailing '/', no NUL, control character or
// backslash. Such a key can never name anything outside the store's root.
bool is_valid_object_key(std::string_view key);

}  // namespace orderflow::domain
