// Signed tokens in subscription links. A confirmation token names the address and expires; an
// unsubscribe token names the address only, so the link in an old mail keeps working.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "ports/signer.hpp"

namespace orderflow::functions {

std::string make_confirm_token(const ports::Signer& signer, std::string_view email,
                               domain::Timestamp expires);
// The address, when the token is genuine and not expired at `now`.
std::optional<std::string> read_confirm_token(const ports::Signer& signer, std::string_view token,
                                              domain::Timestamp now);

std::string make_unsubscribe_token(const ports::Signer& signer, std::string_view email);
std::optional<std::string> read_unsubscribe_token(const ports::Signer& signer,
                                                  std::string_view token);

// Absolute unsubscribe link for mails.
std::string unsubscribe_link(const ports::Signer& signer, std::string_view public_url,
                             std::string_view email);

}  // namespace orderflow::functions
