// POST /images/recognize: read the upload (JSON or multipart), check the image's bytes and
// header, classify it once (the recognizer caches by content hash), judge the description,
// and either report (validation_only) or create the order with the photo (confirm).
#include <algorithm>

#include "domain/event.hpp"
#include "domain/json_writer.hpp"
#include "domain/order.hpp"
#include "functions/image_base64.hpp"
#include "functions/image_functions.hpp"
#include "functions/image_multipart.hpp"
#include "functions/image_validation.hpp"
#include "functions/json_body.hpp"

namespace orderflow::functions {
namespace {

constexpr int kTopK = 10;                // classes weighed by the matcher
constexpr std::size_t kLabelsShown = 5;  // classes shown to the user and kept with the order

Response invalid(std::string_view message) { return error_response(400, "validation", message); }

// The fields of an upload, whichever way it was sent. Text fields are as received.
struct Upload {
  std::optional<std::string> image;  // decoded bytes
  std::optional<std::string> description;
  bool confirm = false;
  std::optional<std::string> price;  // number text
};

std::optional<Response> read_json(std::string_view body, Upload& out) {
  const auto parsed = parse_json_object(body);
  if (!parsed) return invalid(parsed.why());
  using Kind = JsonMember::Kind;
  const auto present = [&](const char* key) -> const JsonMember* {
    const JsonMember* m = parsed->find(key);
    return m != nullptr && m->kind != Kind::null ? m : nullptr;
  };
  if (const auto* image = present("image")) {
    if (image->kind != Kind::string) return invalid("image must be a base64-encoded string");
    out.image = decode_base64_image(image->text);
    if (!out.image) return invalid("image is not valid base64");
  }
  if (const auto* description = present("description")) {
    if (description->kind != Kind::string) return invalid("description must be a string");
    out.description = description->text;
  }
  if (const auto* confirm = present("confirm")) {
    if (confirm->kind != Kind::boolean) return invalid("confirm must be a boolean (true or false)");
    out.confirm = confirm->text == "true";
  }
  if (const auto* price = present("price")) {
    if (price->kind != Kind::number && price->kind != Kind::string)
      return invalid("price must be a number");
    out.price = price->text;
  }
  return std::nullopt;
}

bool is_text_part(const FormPart& part) {
  return !part.has_filename &&
         (part.content_type.empty() || part.content_type.rfind("text/plain", 0) == 0);
}

std::optional<Response> read_multipart(std::string_view content_type, std::string_view body,
                                       Upload& out) {
  const auto boundary = multipart_boundary(content_type);
  if (!boundary) return invalid("multipart/form-data needs a valid boundary parameter");
  const auto parts = parse_multipart(body, *boundary);
  if (!parts) return invalid(parts.why());
  std::vector<std::string_view> seen;
  for (const auto& part : *parts) {
    if (std::find(seen.begin(), seen.end(), part.name) != seen.end())
      return invalid("duplicate field: " + part.name);
    seen.push_back(part.name);
    if (part.name == "image") {
      // A file part carries the raw bytes; a plain text field may carry base64 (a data URL),
      // or raw bytes too when the client left out the filename.
      if (is_text_part(part)) out.image = decode_base64_image(part.body);
      if (!out.image && (!is_text_part(part) || sniff_format(part.body)))
        out.image = std::string(part.body);
      if (!out.image) return invalid("image is not valid base64");
    } else if (part.name == "description") {
      out.description = std::string(part.body);
    } else if (part.name == "confirm") {
      if (part.body != "true" && part.body != "false")
        return invalid("confirm must be a boolean (true or false)");
      out.confirm = part.body == "true";
    } else if (part.name == "price") {
      out.price = std::string(part.body);
    }
  }
  return std::nullopt;
}

bool is_multipart(std::string_view content_type) {
  constexpr std::string_view kType = "multipart/";
  if (content_type.size() < kType.size()) return false;
  for (std::size_t i = 0; i < kType.size(); ++i) {
    char c = content_type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kType[i]) return false;
  }
  return true;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Response image_problem(const ImageCheck& check) {
  using Problem = ImageCheck::Problem;
  switch (check.problem) {
    case Problem::too_many_bytes:
    case Problem::too_large:
    case Problem::too_many_pixels:
    case Problem::too_much_memory:
      return error_response(413, "payload_too_large", check.message);
    case Problem::too_costly:
      return error_response(422, "image_too_complex", check.message);
    case Problem::unsupported:
      return error_response(415, "unsupported_media_type", check.message);
    case Problem::undecodable:
    case Problem::too_small:
    case Problem::none:
      break;
  }
  return error_response(400, "invalid_image", check.message);
}

void write_labels(domain::JsonWriter& w, const ports::Recognition& r,
                  const std::vector<ports::ImageClass>& classes, bool with_wnid) {
  w.begin_array();
  for (std::size_t i = 0; i < r.top.size() && i < kLabelsShown; ++i) {
    const auto& c = classes[static_cast<std::size_t>(r.top[i].index)];
    w.begin_object().field("name", c.name);
    if (with_wnid) w.field("wnid", c.wnid);
    w.key("confidence").raw_number(percent_text(r.top[i].probability)).end_object();
  }
  w.end_array();
}

// The seed's recognition object: topDetectedObject, confidence (percent), allDetectedLabels.
void write_recognition(domain::JsonWriter& w, const ports::Recognition& r,
                       const std::vector<ports::ImageClass>& classes) {
  const bool available = r.status == ports::Recognition::Status::ok && !r.top.empty();
  w.begin_object().field("available", available);
  if (available) {
    const auto& top = r.top.front();
    w.field("topDetectedObject", classes[static_cast<std::size_t>(top.index)].name)
        .key("confidence")
        .raw_number(percent_text(top.probability));
  } else {
    w.key("topDetectedObject").null().key("confidence").null();
  }
  w.key("allDetectedLabels");
  write_labels(w, r, classes, /*with_wnid=*/false);
  w.end_object();
}

void write_validation(domain::JsonWriter& w, const ImageValidation& v) {
  w.begin_object().field("status", v.status).field("message", v.message).end_object();
}

ImageValidation validate(const ImageContext& ctx, const ports::Recognition& r,
                         const std::string& description) {
  const auto& classes = ctx.recognizer.classes();
  const bool usable = r.status == ports::Recognition::Status::ok && ctx.matcher != nullptr &&
                      ctx.matcher->class_count() == classes.size();
  if (!usable) return unavailable_validation(!description.empty());
  std::vector<domain::ClassProbability> top;
  top.reserve(r.top.size());
  for (const auto& s : r.top) top.push_back({s.index, s.probability});
  const auto reading = ctx.matcher->read(description);
  return describe_verdict(ctx.matcher->judge(reading, top), reading, description, classes);
}

}  // namespace

Response recognize_uploaded_image(ImageContext& ctx, const Request& req) {
  Upload upload;
  const std::string_view content_type = req.header("Content-Type");
  if (auto bad = is_multipart(content_type) ? read_multipart(content_type, req.body, upload)
                                            : read_json(req.body, upload))
    return std::move(*bad);

  // The order's fields are validated exactly as POST /orders does, before any costly work.
  std::string description;
  std::optional<domain::Money> price;
  const bool has_description = upload.description && !is_blank(*upload.description);
  if (upload.confirm) {
    if (!has_description) return invalid("description is required");
    if (!upload.price) return invalid("price is required");
    const auto parsed_price = domain::parse_price(*upload.price);
    if (!parsed_price) return invalid(parsed_price.why());
    price = *parsed_price;
  }
  if (has_description) {
    auto normalized = domain::normalize_description(*upload.description);
    if (!normalized) return invalid(normalized.why());
    description = std::move(*normalized);
  }

  if (!upload.image) return invalid("image is required");
  const std::string& image = *upload.image;
  const ImageCheck check = check_image(image, ctx.limits);
  if (check.problem != ImageCheck::Problem::none) return image_problem(check);

  const auto recognition = ctx.recognizer.recognize(image, kTopK);
  switch (recognition.status) {
    case ports::Recognition::Status::busy: {
      auto r = error_response(503, "busy", "The image check is busy; please retry in a moment");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case ports::Recognition::Status::undecodable:
      return error_response(400, "invalid_image", "the image could not be decoded");
    case ports::Recognition::Status::ok:
    case ports::Recognition::Status::unavailable:
      break;
  }
  const auto& classes = ctx.recognizer.classes();
  const ImageValidation validation = validate(ctx, recognition, description);

  domain::JsonWriter w;
  if (!upload.confirm) {
    w.begin_object().field("status", "validation_only").key("recognition");
    write_recognition(w, recognition, classes);
    w.key("validation");
    write_validation(w, validation);
    w.end_object();
    return json_response(200, w.take());
  }

  const auto now = ctx.clock.now();
  domain::Order order{ctx.ids.new_id(), std::move(description), *price, now, now, 1, {}, {}, {}};
  order.image_key = "images/" + order.id + "." + std::string(file_extension(check.format));
  if (recognition.status == ports::Recognition::Status::ok) {
    domain::JsonWriter labels;
    write_labels(labels, recognition, classes, /*with_wnid=*/true);
    order.detected_labels = labels.take();
  }
  order.validation_status = validation.status;

  // The photo first: an order must never point at a missing object. If the commit fails, the
  // photo is removed again (best effort; a leftover object is harmless).
  ctx.objects.put(order.image_key, image, image_content_type(check.format));
  try {
    const auto event = domain::order_created_event(order, ctx.ids.new_id(), now);
    ctx.store.create(order, event, std::nullopt);
  } catch (...) {
    try {
      ctx.objects.remove(order.image_key);
    } catch (...) {
    }
    throw;
  }

  w.begin_object()
      .field("status", "success")
      .field("message", "Order created successfully")
      .field("orderId", order.id)
      .field("description", order.description)
      .key("price")
      .raw_number(order.price.to_string())
      .field("imageKey", order.image_key)
      .key("recognition");
  write_recognition(w, recognition, classes);
  w.key("validation");
  write_validation(w, validation);
  w.end_object();
  Response r = json_response(201, w.take());
  r.headers.emplace_back("Location", "/orders/" + order.id);
  r.headers.emplace_back("ETag", domain::etag_for(order.version));
  return r;
}

}  // namespace orderflow::functions
