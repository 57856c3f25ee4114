#pragma once

#include <string>

#include "ports/clock.hpp"
#include "ports/mailer.hpp"

namespace orderflow::adapters {

// Sends through an SMTP relay with libcurl: `smtp://[user:pass@]host:port` upgrades with
// STARTTLS whenever the server offers it (and authenticates when credentials are given);
// `smtps://` is TLS from the first byte.
class SmtpMailer final : public ports::Mailer {
 public:
  // Throws std::invalid_argument (naming the setting) for a URL it cannot use.
  SmtpMailer(const std::string& url, const ports::Clock& clock);
  void send(const ports::Mail& mail) override;

 private:
  std::string server_;  // scheme://host:port
  std::string user_;
  std::string password_;
  const ports::Clock& clock_;
};

}  // namespace orderflow::adapters
