#include "adapters/mail/smtp_mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "adapters/mail/mime_message.hpp"
#include "domain/encoding.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {
namespace {

struct Reader {
  std::string_view rest;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* r = static_cast<Reader*>(user);
  const std::size_t n = std::min(size * count, r->rest.size());
  std::memcpy(buffer, r->rest.data(), n);
  r->rest.remove_prefix(n);
  return n;
}

}  // namespace

SmtpTls smtp_tls_for(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  // A password with an unencoded '/' or '?' can parse as the host, an empty port and a path.
  const bool well_formed =
      parsed && (parsed->scheme() == "smtp" || parsed->scheme() == "smtps") &&
      !parsed->host().empty() && (!parsed->has_port() || parsed->port_number() != 0) &&
      (parsed->encoded_path().empty() || parsed->encoded_path().starts_with('/'));
  if (!well_formed)
    throw std::invalid_argument("mailer: expected smtp://[user:pass@]host:port, got \"" +
                                domain::redacted_url(url) + "\"");
  if (parsed->scheme() == "smtps") return SmtpTls::implicit;
  bool loopback = false;
  switch (parsed->host_type()) {
    case boost::urls::host_type::ipv4:
      loopback = parsed->host_ipv4_address().to_bytes()[0] == 127;
      break;
    case boost::urls::host_type::ipv6:
      loopback = parsed->host_ipv6_address().is_loopback();
      break;
    case boost::urls::host_type::name: {
      std::string host = parsed->host();
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      loopback = host == "localhost" || host.ends_with(".localhost");  // RFC 6761
      break;
    }
    default:
      break;
  }
  return loopback ? SmtpTls::opportunistic : SmtpTls::required;
}

SmtpMailer::SmtpMailer(const std::string& url, const ports::Clock& clock)
    : tls_(smtp_tls_for(url)), clock_(clock) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) throw std::runtime_error("mailer: libcurl failed to initialise");
  const auto parsed = boost::urls::parse_uri(url);
  server_ = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host_and_port());
  if (parsed->has_userinfo()) {
    user_ = parsed->user();
    password_ = parsed->password();
  }
}

void SmtpMailer::send(const ports::Mail& mail) {
  const std::string message = render_mime_message(mail, clock_.now());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw ports::InfraError(ports::InfraError::Kind::transient, "smtp: no curl handle");
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + mail.to + ">").c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_guard(rcpt,
                                                                         &curl_slist_free_all);
  Reader reader{message};
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, server_.c_str());
  if (!user_.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, user_.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password_.c_str());
  }
  curl_easy_setopt(
      h, CURLOPT_USE_SSL,
      static_cast<long>(tls_ == SmtpTls::opportunistic ? CURLUSESSL_TRY : CURLUSESSL_ALL));
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, ("<" + mail.from + ">").c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_message);
  curl_easy_setopt(h, CURLOPT_READDATA, &reader);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    // Refused recipients and bad credentials will not fix themselves, but an operator can fix
    // them and redrive; so every failure is retried and ends as a dead letter, never dropped.
    if (rc == CURLE_USE_SSL_FAILED && tls_ == SmtpTls::required)
      throw ports::InfraError(ports::InfraError::Kind::transient,
                              "smtp: " + server_ +
                                  " does not offer STARTTLS, which smtp:// to a host other than "
                                  "loopback requires (nothing was sent); use smtps:// or a "
                                  "server with STARTTLS");
    throw ports::InfraError(ports::InfraError::Kind::transient,
                            std::string("smtp: ") + (error[0] ? error : curl_easy_strerror(rc)));
  }
}

}  // namespace orderflow::adapters
