// The subscription functions: subscribe, confirm, unsubscribe (and its one-click page).
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

ports::Mail confirmation_mail(const SubscriptionContext& ctx, const std::string& email) {
  const std::string link = ctx.mail.public_url + "/subscriptions/confirm?token=" +
                           make_confirm_token(ctx.signer, email, ctx.clock.now() + ctx.confirm_ttl);
  const std::string unsubscribe = unsubscribe_link(ctx.signer, ctx.mail.public_url, email);
  ports::Mail mail;
  mail.from = ctx.mail.from;
  mail.to = email;
  mail.subject = "Confirm your subscription to orderflow deletion notices";
  mail.text =
      "Someone (hopefully you) asked to receive an e-mail whenever an order is deleted.\n\n"
      "To confirm, open this link:\n" +
      link +
      "\n\n"
      "If you did not ask for this, ignore this mail: nothing will be sent.\n"
      "Unsubscribe: " +
      unsubscribe + "\n";
  mail.headers.emplace_back("List-Unsubscribe", "<" + unsubscribe + ">");
  mail.headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  // Each confirmation request is its own message (a re-subscribe sends a new one).
  mail.message_id =
      "confirm." +
      ctx.signer.sign(domain::email_key(email) + "\n" + domain::format_rfc3339(ctx.clock.now()))
          .substr(0, 24) +
      "@orderflow";
  return mail;
}

constexpr std::string_view kUnsubscribed =
    "If this address was subscribed, it has been unsubscribed. No further mail will be sent.";

}  // namespace

Response subscribe_email(SubscriptionContext& ctx, const Request& req) {
  const auto email = read_email(req);
  if (!email) return invalid(email.why());
  const auto result = ctx.subscriptions.subscribe(*email, ctx.clock.now());
  // A confirmed address gets no second confirmation; a pending one gets the link again.
  if (result.kind != ports::SubscribeResult::Kind::already_confirmed)
    ctx.mailer.send(confirmation_mail(ctx, *email));
  return success("Confirmation email sent. Please check your inbox.");
}

Response confirm_subscription(SubscriptionContext& ctx, const Request& req) {
  const std::string* token = req.query_param("token");
  const auto email = token ? read_confirm_token(ctx.signer, *token, ctx.clock.now()) : std::nullopt;
  if (!email)
    return page(400, "This confirmation link is not valid",
                "<p>The link is broken or has expired. Subscribe again to get a new one.</p>");
  if (!ctx.subscriptions.confirm(*email, ctx.clock.now()))
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
    const auto email = read_unsubscribe_token(ctx.signer, *token);
    if (!email)
      return page(400, "This unsubscribe link is not valid",
                  "<p>The link is broken. You can unsubscribe with your address on the orderflow "
                  "page.</p>");
    ctx.subscriptions.unsubscribe(*email);
    return page(200, "Unsubscribed", "<p>" + std::string(kUnsubscribed) + "</p>");
  }
  const auto email = read_email(req);
  if (!email) return invalid(email.why());
  ctx.subscriptions.unsubscribe(*email);
  return success(kUnsubscribed);
}

Response unsubscribe_page(SubscriptionContext& ctx, const Request& req) {
  const std::string* token = req.query_param("token");
  if (token == nullptr || !read_unsubscribe_token(ctx.signer, *token))
    return page(400, "This unsubscribe link is not valid",
                "<p>The link is broken. You can unsubscribe with your address on the orderflow "
                "page.</p>");
  return page(200, "Unsubscribe from deletion notices?",
              "<form method=\"post\" action=\"/subscriptions/unsubscribe?token=" +
                  html_escape(*token) + "\"><button type=\"submit\">Unsubscribe</button></form>");
}

}  // namespace orderflow::functions
