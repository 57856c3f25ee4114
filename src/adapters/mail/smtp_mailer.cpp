#include "adapters/mail/smtp_mailer.hpp"

#include <curl/curl.h>

#include <boost/url/parse.hpp>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "adapters/mail/mime_message.hpp"
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

SmtpMailer::SmtpMailer(const std::string& url, const ports::Clock& clock) : clock_(clock) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) throw std::runtime_error("mailer: libcurl failed to initialise");
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "smtp" && parsed->scheme() != "smtps") ||
      parsed->host().empty())
    throw std::invalid_argument("mailer: expected smtp://[user:pass@]host:port, got \"" + url +
                                "\"");
  server_ = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host()) +
            (parsed->has_port() ? ":" + std::string(parsed->port()) : "");
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
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
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
    throw ports::InfraError(ports::InfraError::Kind::transient,
                            std::string("smtp: ") + (error[0] ? error : curl_easy_strerror(rc)));
  }
}

}  // namespace orderflow::adapters
