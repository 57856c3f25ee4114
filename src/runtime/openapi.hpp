#pragma once

#include <string_view>

namespace orderflow::runtime {

// The OpenAPI 3.1 description of the HTTP API (src/runtime/openapi.json, embedded at build time).
std::string_view openapi_document();

}  // namespace orderflow::runtime
