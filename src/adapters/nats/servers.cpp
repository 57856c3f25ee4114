// The `bus` setting: a comma-separated list of nats://[user:pass@|token@]host[:port] (or tls://).
// Credentials come out of the URLs and go to nats.c as options, so messages never carry them.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "adapters/nats/jetstream.hpp"

namespace orderflow::adapters::nats {
namespace {

constexpr std::string_view kExpected =
    "expected nats://host[:port] or tls://host[:port], comma-separated";

[[noreturn]] void bad(const std::string& why) {
  throw ports::InfraError(ports::InfraError::Kind::permanent, "bus: " + why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// `url` as messages may show it: whatever precedes an '@' in the authority becomes "***" (the
// user name stays when there is a password).
std::string redacted(std::string_view url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto end = std::min(url.size(), url.find_first_of("/?#", start));
  const auto at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const auto userinfo = url.substr(start, at - start);
  const auto colon = userinfo.find(':');
  const std::string shown =
      colon == std::string_view::npos ? "***" : std::string(userinfo.substr(0, colon)) + ":***";
  return std::string(url.substr(0, start)) + shown + std::string(url.substr(at));
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool valid_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

struct Credentials {
  std::string user, password, token;
  bool operator==(const Credentials&) const = default;
  bool empty() const { return user.empty() && token.empty(); }
};

// One server: returns scheme://host:port and fills `creds` from its user info.
std::string parse_one(std::string_view url, Credentials& creds, bool& tls) {
  const auto fail = [&] {
    bad("\"" + redacted(url) + "\" is not a NATS URL (" + std::string(kExpected) + ")");
  };
  std::string_view scheme;
  if (url.starts_with("nats://")) {
    scheme = "nats";
  } else if (url.starts_with("tls://")) {
    scheme = "tls";
    tls = true;
  } else {
    fail();
  }
  std::string_view rest = url.substr(scheme.size() + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) fail();

  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (userinfo.empty()) fail();
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      creds.user = percent_decoded(userinfo.substr(0, colon));
      creds.password = percent_decoded(userinfo.substr(colon + 1));
    } else {
      creds.token = percent_decoded(userinfo);  // nats://token@host
    }
  }

  std::string_view host = rest, port = "4222";
  if (const auto colon = rest.rfind(':');
      colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    const bool digits =
        !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
    if (!digits || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) fail();
  }
  if (!valid_host(host)) fail();
  return std::string(scheme) + "://" + std::string(host) + ":" + std::string(port);
}

void require_readable(const std::string& path, const char* what) {
  if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
    bad(std::string(what) + " \"" + path + "\" cannot be read");
}

}  // namespace

ServerList parse_servers(const ConnectOptions& options) {
  ServerList list;
  Credentials from_urls;
  bool first_with_creds = true;
  std::string_view all = options.servers;
  if (trim(all).empty()) bad("no NATS server given (" + std::string(kExpected) + ")");
  while (true) {
    const auto comma = all.find(',');
    const auto item = trim(all.substr(0, comma));
    if (item.empty()) bad("an empty entry in the server list (" + std::string(kExpected) + ")");
    Credentials creds;
    list.urls.push_back(parse_one(item, creds, list.tls));
    if (!creds.empty()) {
      if (!first_with_creds && !(creds == from_urls))
        bad("the servers carry different credentials; give them once (user/password or token)");
      from_urls = creds;
      first_with_creds = false;
    }
    if (comma == std::string_view::npos) break;
    all.remove_prefix(comma + 1);
  }

  // Explicit options win over the URLs' user info.
  if (!options.user.empty() || !options.token.empty()) {
    list.user = options.user;
    list.password = options.password;
    list.token = options.token;
  } else {
    list.user = from_urls.user;
    list.password = from_urls.password;
    list.token = from_urls.token;
  }

  require_readable(options.credentials_file, "credentials file");
  require_readable(options.ca_file, "CA file");
  require_readable(options.cert_file, "certificate file");
  require_readable(options.key_file, "key file");
  if (options.cert_file.empty() != options.key_file.empty())
    bad("a client certificate needs both cert_file and key_file");
  list.tls = list.tls || options.tls || !options.ca_file.empty() || !options.cert_file.empty();
  return list;
}

}  // namespace orderflow::adapters::nats
