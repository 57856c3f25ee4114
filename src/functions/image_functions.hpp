// The product-image check (the seed's Rekognition Lambda): classify an uploaded photo, tell
// the user whether it matches the description, and on confirmation create the order with
// the photo stored beside it.
#pragma once

#include "domain/wordnet_matcher.hpp"
#include "functions/api.hpp"
#include "functions/image_header.hpp"
#include "ports/clock.hpp"
#include "ports/id_generator.hpp"
#include "ports/image_recognizer.hpp"
#include "ports/object_store.hpp"
#include "ports/order_store.hpp"

namespace orderflow::functions {

struct ImageContext {
  ports::ImageRecognizer& recognizer;  // ports::UnavailableRecognizer when recognizer = none
  // Built over recognizer.classes(); null when recognition is off.
  const domain::DescriptionMatcher* matcher;
  ports::OrderStore& store;
  ports::ObjectStore& objects;
  ports::Clock& clock;
  ports::IdGenerator& ids;
  ImageLimits limits = {};
};

// POST /images/recognize
// Body: JSON {image (base64, data URL allowed), description, confirm, price} or
// multipart/form-data with the fields image (a file), description, confirm, price.
// 200 {"status":"validation_only","recognition":{...},"validation":{"status","message"}}
//   when confirm is false or absent;
// 201 {"status":"success","message":"Order created successfully","orderId",...} + Location
//   when confirm is true: the order (with the user's price) and its order.created event are
//   committed, and the photo is stored as images/{orderId}.{jpg|png|webp}.
// 400 bad body, base64, confirm, description or price, an undecodable or too small image;
// 413 over 5 MB, over 10,000 px a side, too many pixels or too much memory once decoded;
// 415 not JPEG/PNG/WebP (or a JPEG kind the decoder does not take); 422 image_too_complex:
// more progressive scans, or more decoding work, than the limits allow (image_header.hpp);
// 503 + Retry-After when the recognizer is busy.
Response recognize_uploaded_image(ImageContext& ctx, const Request& req);

}  // namespace orderflow::functions
