#pragma once

#include <filesystem>

#include "ports/clock.hpp"
#include "ports/mailer.hpp"

namespace orderflow::adapters {

// Delivers into a maildir: one RFC 5322 file per mail, written into tmp/, fsynced, then renamed
// into new/. The file name is derived from the Message-ID, so sending the same mail twice
// leaves one file, not two.
class MaildirMailer final : public ports::Mailer {
 public:
  MaildirMailer(std::filesystem::path dir, const ports::Clock& clock);
  void send(const ports::Mail& mail) override;

 private:
  std::filesystem::path dir_;
  const ports::Clock& clock_;
};

}  // namespace orderflow::adapters
