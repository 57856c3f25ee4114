// What a function sees of an HTTP request and returns as a response: plain values, like the
// API Gateway proxy event of the seed's Lambdas. The runtime maps Beast to and from these.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderflow::functions {

struct Request {
  std::string_view method;      // "GET", "POST", ...
  std::string_view path;        // decoded path, without the query
  std::string_view raw_target;  // the request target exactly as sent (still percent-encoded)
  std::vector<std::pair<std::string, std::string>> path_params;        // from the route pattern
  std::vector<std::pair<std::string, std::string>> query;              // decoded query parameters
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received
  std::string_view body;
  std::string_view request_id;
  std::string_view client;  // the peer's IP address, for per-client limits; may be empty

  // First value of a header (case-insensitive name), or empty.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // First value of a query parameter, or nullptr when absent.
  const std::string* query_param(std::string_view name) const;
  // A path parameter by name, or empty.
  std::string_view path_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// The seed's envelopes. `code` is a stable machine-readable reason (validation, not_found,
// conflict, precondition_failed, payload_too_large, ...).
Response error_response(int status, std::string_view code, std::string_view message);
Response json_response(int status, std::string body);

}  // namespace orderflow::functions
