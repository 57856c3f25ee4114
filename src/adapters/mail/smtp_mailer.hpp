#pragma once

#include <string>
#include <string_view>

#include "ports/clock.hpp"
#include "ports/mailer.hpp"

namespace orderflow::adapters {

// How the connection to the mail server is protected, as the mailer URL says.
enum class SmtpTls {
  implicit,       // smtps://: TLS from the first byte
  required,       // smtp:// to any other host: STARTTLS, or no mail (nothing goes in clear text,
                  // credentials least of all)
  opportunistic,  // smtp:// to a loopback host (localhost, 127.0.0.0/8, ::1): STARTTLS when the
                  // server offers it, clear text otherwise (a local relay never leaves the machine)
};
// Throws std::invalid_argument, showing the URL without its password, for a URL that is not
// smtp:// or smtps:// with a host.
SmtpTls smtp_tls_for(std::string_view url);

// Sends through an SMTP relay with libcurl: `smtp://[user:pass@]host:port` upgrades with
// STARTTLS (see SmtpTls; and authenticates when credentials are given); `smtps://` is TLS from
// the first byte.
class SmtpMailer final : public ports::Mailer {
 public:
  // Throws std::invalid_argument (naming the setting) for a URL it cannot use.
  SmtpMailer(const std::string& url, const ports::Clock& clock);
  void send(const ports::Mail& mail) override;

 private:
  std::string server_;  // scheme://host:port
  std::string user_;
  std::string password_;
  SmtpTls tls_;
  const ports::Clock& clock_;
};

}  // namespace orderflow::adapters
