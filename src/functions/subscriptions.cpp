// The subscription functions: subscribe, confirm, unsubscribe (and its one-click page).
#include <fmt/format.h>

#include <algorithm>

#include "domain/email.hpp"
#include "domain/json_writer.hpp"
#include "functions/json_body.hpp"
#include "functions/subscription_functions.hpp"
#include "functions/subscription_tokens.hpp"

namespace orderflow::functions {
namespace {

Response invalid(std::string_view message) { return error_response(400, "validation", message); }

Response success(std::string_view message) {
  domain::JsonWriter w;
  w.begin_object().field("status", "success").field("message", message).end_object();
  return json_response(200, w.take());
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Response page(int status, std::string_view title, std::string_view body_html) {
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      html_escape(title) +
      " · orderflow</title>"
      "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 "
      "1rem;"
      "line-height:1.5}h1{font-size:1.4rem}button{font-size:1rem;padding:.5rem 1rem}</style>"
      "</head><body><h1>" +
      html_escape(title) + "</h1>" + std::string(body_html) +
      "<p><a href=\"/\">Back to orderflow</a></p></body></html>";
  return Response{status, std::move(html), "text/html; charset=utf-8", {}};
}

// The email member of a JSON body, validated with the seed's messages.
domain::Result<std::string> read_email(const Request& req) {
  using domain::fail;
  const auto body = parse_json_object(req.body);
  if (!body) return fail(body.why());
  for (const auto& m : body->members)
    if (m.key != "email") return fail("unknown field: " + m.key);
  const JsonMember* email = body->find("email");
  if (email == nullptr || email->kind == JsonMember::Kind::null) return fail("Email is required");
  if (email->kind != JsonMember::Kind::string) return fail("Invalid email format");
  return domain::normalize_email(email->text);
}

std::string confirm_url(const SubscriptionContext& ctx, std::string_view token) {
  return ctx.mail.public_url + "/subscriptions/confirm?token=" + std::string(token);
}

ports::Mail link_mail(const SubscriptionContext& ctx, const std::string& email, std::string subject,
                      std::string text, const std::string& unsubscribe) {
  ports::Mail mail;
  mail.from = ctx.mail.from;
  mail.to = email;
  mail.subject = std::move(subject);
  mail.text = std::move(text);
  mail.headers.emplace_back("List-Unsubscribe", "<" + unsubscribe + ">");
  mail.headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  // Each link mail is its own message (a second request sends a new one).
  mail.message_id = "link." +
                    ctx.signer
                        .sign(domain::email_key(email) + "\n" +
                              domain::format_rfc3339(ctx.clock.now()) + "\n" + mail.subject)
                        .substr(0, 24) +
                    "@orderflow";
  return mail;
}

ports::Mail confirmation_mail(SubscriptionContext& ctx, const std::string& email) {
  const auto now = ctx.clock.now();
  const std::string token = ctx.new_token();
  ctx.subscriptions.keep_link(link_token_hash(ctx.signer, token), ports::LinkPurpose::confirm,
                              email, now + ctx.confirm_ttl, now);
  const std::string unsubscribe =
      unsubscribe_link(ctx.signer, ctx.subscriptions, ctx.mail.public_url, email, now);
  return link_mail(ctx, email, "Confirm your subscription to orderflow deletion notices",
                   "Someone (hopefully you) asked to receive an e-mail whenever an order is "
                   "deleted.\n\n"
                   "To confirm, open this link and press the button on its page:\n" +
                       confirm_url(ctx, token) +
                       "\n\n"
                       "If you did not ask for this, ignore this mail: nothing will be sent.\n"
                       "Unsubscribe: " +
                       unsubscribe + "\n",
                   unsubscribe);
}

ports::Mail unsubscribe_mail(SubscriptionContext& ctx, const std::string& email) {
  const std::string unsubscribe =
      unsubscribe_link(ctx.signer, ctx.subscriptions, ctx.mail.public_url, email, ctx.clock.now());
  return link_mail(ctx, email, "Unsubscribe from orderflow deletion notices",
                   "Someone (hopefully you) asked to stop the e-mails sent whenever an order is "
                   "deleted.\n\n"
                   "To unsubscribe, open this link and press the button on its page:\n" +
                       unsubscribe +
                       "\n\n"
                       "If you did not ask for this, ignore this mail: nothing changes.\n",
                   unsubscribe);
}

Response too_many(std::string_view what, std::chrono::seconds retry_after) {
  Response r = error_response(429, "rate_limited",
                              fmt::format("Too many {}; try again in {} s", what,
                                          std::max<long long>(retry_after.count(), 1)));
  r.headers.emplace_back("Retry-After",
                         std::to_string(std::max<long long>(retry_after.count(), 1)));
  return r;
}

// The client's subscription requests, then the mails to the address: a 429 when either is
// used up. The same whatever state the address is in, so it tells nothing about it.
std::optional<Response> limited(SubscriptionContext& ctx, const Request& req,
                                const std::string& email, ports::LinkPurpose mail) {
  if (ctx.limits == nullptr) return std::nullopt;
  auto& limits = *ctx.limits;
  const auto now = ctx.clock.now();
  const auto client = limits.requests_per_client.take(req.client, now);
  if (!client.allowed)
    return too_many("subscription requests from this address", client.retry_after);
  // Confirmation and unsubscribe mails count apart: unsubscribing right after subscribing
  // is no abuse.
  const std::string key = std::string(mail == ports::LinkPurpose::confirm ? "confirm " : "leave ") +
                          domain::email_key(email);
  const auto interval = limits.mail_interval.peek(key, now);
  const auto daily = limits.mails_per_day.peek(key, now);
  if (!interval.allowed || !daily.allowed)
    return too_many("requests for this e-mail address",
                    std::max(interval.allowed ? std::chrono::seconds(0) : interval.retry_after,
                             daily.allowed ? std::chrono::seconds(0) : daily.retry_after));
  (void)limits.mail_interval.take(key, now);
  (void)limits.mails_per_day.take(key, now);
  return std::nullopt;
}

Response invalid_confirmation() {
  return page(400, "This confirmation link is not valid",
              "<p>The link is broken, has expired or was used already. Subscribe again to get "
              "a new one.</p>");
}

Response invalid_unsubscribe() {
  return page(400, "This unsubscribe link is not valid",
              "<p>The link is broken. You can ask for a new one with your address on the "
              "orderflow page.</p>");
}

constexpr std::string_view kUnsubscribed =
    "If this address was subscribed, it has been unsubscribed. No further mail will be sent.";
constexpr std::string_view kUnsubscribeMailed =
    "If this address is subscribed, a mail with a link to unsubscribe has been sent to it.";

}  // namespace

Response subscribe_email(SubscriptionContext& ctx, const Request& req) {
  const auto email = read_email(req);
  if (!email) return invalid(email.why());
  if (auto refused = limited(ctx, req, *email, ports::LinkPurpose::confirm))
    return std::move(*refused);
  const auto result = ctx.subscriptions.subscribe(*email, ctx.clock.now());
  // A confirmed address gets no second confirmation; a pending one gets a new link.
  if (result.kind != ports::SubscribeResult::Kind::already_confirmed)
    ctx.mailer.send(confirmation_mail(ctx, *email));
  return success("Confirmation email sent. Please check your inbox.");
}

Response confirmation_page(SubscriptionContext& ctx, const Request& req) {
  const std::string* token = req.query_param("token");
  const auto email =
      token ? read_confirm_token(ctx.signer, ctx.subscriptions, *token, ctx.clock.now())
            : std::nullopt;
  if (!email) return invalid_confirmation();
  return page(200, "Confirm your subscription?",
              "<p>Send an e-mail to <strong>" + html_escape(*email) +
                  "</strong> whenever an order is deleted.</p>"
                  "<form method=\"post\" action=\"/subscriptions/confirm?token=" +
                  html_escape(*token) + "\"><button type=\"submit\">Confirm</button></form>");
}

Response confirm_subscription(SubscriptionContext& ctx, const Request& req) {
  // The page's form posts to the link itself, so the token is in the query.
  const std::string* token = req.query_param("token");
  const auto email =
      token ? read_confirm_token(ctx.signer, ctx.subscriptions, *token, ctx.clock.now())
            : std::nullopt;
  if (!email) return invalid_confirmation();
  const bool confirmed = ctx.subscriptions.confirm(*email, ctx.clock.now());
  ctx.subscriptions.drop_links(*email, ports::LinkPurpose::confirm);
  if (!confirmed)
    return page(404, "No subscription to confirm",
                "<p>This address has no pending subscription (it may have been unsubscribed). "
                "Subscribe again to get a new link.</p>");
  return page(200, "Subscription confirmed",
              "<p><strong>" + html_escape(*email) +
                  "</strong> will now get an e-mail whenever an order is deleted. Every mail has "
                  "a link to unsubscribe.</p>");
}

Response unsubscribe_email(SubscriptionContext& ctx, const Request& req) {
  if (const std::string* token = req.query_param("token")) {
    const auto email =
        read_unsubscribe_token(ctx.signer, ctx.subscriptions, *token, ctx.clock.now());
    if (!email) return invalid_unsubscribe();
    ctx.subscriptions.unsubscribe(*email);
    return page(200, "Unsubscribed", "<p>" + std::string(kUnsubscribed) + "</p>");
  }
  const auto email = read_email(req);
  if (!email) return invalid(email.why());
  if (auto refused = limited(ctx, req, *email, ports::LinkPurpose::unsubscribe))
    return std::move(*refused);
  // Anyone may ask; only the address's owner can act on the link.
  if (ctx.subscriptions.state(*email)) ctx.mailer.send(unsubscribe_mail(ctx, *email));
  return success(kUnsubscribeMailed);
}

Response unsubscribe_page(SubscriptionContext& ctx, const Request& req) {
  const std::string* token = req.query_param("token");
  if (token == nullptr ||
      !read_unsubscribe_token(ctx.signer, ctx.subscriptions, *token, ctx.clock.now()))
    return invalid_unsubscribe();
  return page(200, "Unsubscribe from deletion notices?",
              "<form method=\"post\" action=\"/subscriptions/unsubscribe?token=" +
                  html_escape(*token) + "\"><button type=\"submit\">Unsubscribe</button></form>");
}

}  // namespace orderflow::functions
