#include "runtime/openapi.hpp"

// Generated from openapi.json by `xxd -i` (see CMakeLists.txt).
#include "openapi_json.h"

namespace orderflow::runtime {

std::string_view openapi_document() {
  return {reinterpret_cast<const char*>(orderflow_openapi_json), orderflow_openapi_json_len};
}

}  // namespace orderflow::runtime
