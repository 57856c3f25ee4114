// The tokens in subscription links (issue 13): opaque, so a link never shows the address, and
// kept in the store only as a keyed hash, so whoever reads the store cannot use them.
// - A confirmation token is 256 random bits, works for confirm_ttl and once.
// - An unsubscribe token is the address's keyed MAC: every mail to the address carries the same
//   one, so the link in an old notice keeps working (RFC 8058 one-click) until the signing
//   secret changes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "ports/signer.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::functions {

// What the store keeps of a link's token.
std::string link_token_hash(const ports::Signer& signer, std::string_view token);

// The absolute unsubscribe link for a mail to `email`; the token's hash is kept in the store.
std::string unsubscribe_link(const ports::Signer& signer, ports::SubscriptionStore& store,
                             std::string_view public_url, std::string_view email,
                             domain::Timestamp now);

// The address of the pending subscription a confirmation token is for, while it works (it
// ends at its expiry, and once used), or nullopt.
std::optional<std::string> read_confirm_token(const ports::Signer& signer,
                                              ports::SubscriptionStore& store,
                                              std::string_view token, domain::Timestamp now);

// The address an unsubscribe token stands for, or nullopt. Tokens of the form mails carried
// before link tokens (the address in hex and its signature) are still honoured.
std::optional<std::string> read_unsubscribe_token(const ports::Signer& signer,
                                                  ports::SubscriptionStore& store,
                                                  std::string_view token, domain::Timestamp now);

}  // namespace orderflow::functions
