#include "functions/api.hpp"

#include <algorithm>
#include <cctype>

#include "domain/json_writer.hpp"

namespace orderflow::functions {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool Request::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& kv) { return iequals(kv.first, name); });
}

const std::string* Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

std::string_view Request::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params)
    if (k == name) return v;
  return {};
}

Response error_response(int status, std::string_view code, std::string_view message) {
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "error")
      .field("message", message)
      .field("code", code)
      .end_object();
  return Response{status, w.take(), "application/json", {}};
}

Response json_response(int status, std::string body) {
  return Response{status, std::move(body), "application/json", {}};
}

}  // namespace orderflow::functions
