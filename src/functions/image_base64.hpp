// The image field of a JSON upload: base64 text, optionally a data URL
// ("data:image/png;base64,...") as browsers produce with FileReader.readAsDataURL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderflow::functions {

// Decodes standard or URL-safe base64; ASCII whitespace (line breaks of MIME encoders) is
// skipped and padding is optional, but padding inside the text, any other character or a
// dangling final character make it invalid (nullopt). A "data:...;base64," prefix is removed
// first; a data URL that is not base64 is invalid.
[[nodiscard]] std::optional<std::string> decode_base64_image(std::string_view text);

}  // namespace orderflow::functions
