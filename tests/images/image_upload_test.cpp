// Reading uploads: base64 (plain and data URLs) and multipart/form-data bodies, including
// malformed and truncated ones, which must fail cleanly.
#include <random>

#include "functions/image_base64.hpp"
#include "functions/image_multipart.hpp"
#include "image_test_support.hpp"

namespace orderflow::image_test {
namespace {

using functions::decode_base64_image;
using functions::multipart_boundary;
using functions::parse_multipart;

TEST(Base64, DecodesPaddedUnpaddedWrappedAndDataUrls) {
  EXPECT_EQ(decode_base64_image("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64_image("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64_image("aGVs\r\nbG8h"), "hello!");
  EXPECT_EQ(decode_base64_image("data:image/png;base64,aGk="), "hi");
  EXPECT_EQ(decode_base64_image("DATA:image/jpeg;BASE64,aGk="), "hi");
  EXPECT_EQ(decode_base64_image("_-8="), std::string("\xFF\xEF", 2));  // URL-safe alphabet
  EXPECT_EQ(decode_base64_image(""), "");
  const std::string binary("\x00\xFF\x10\x80\x7F", 5);
  EXPECT_EQ(decode_base64_image(base64(binary)), binary);
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(decode_base64_image("not base64!"));
  EXPECT_FALSE(decode_base64_image("aGVsbG8=aGVs"));  // data after padding
  EXPECT_FALSE(decode_base64_image("a"));             // a dangling 6 bits
  EXPECT_FALSE(decode_base64_image("aGVsbG8==="));    // too much padding
  EXPECT_FALSE(decode_base64_image("aGk=="));         // wrong padding for the length
  EXPECT_FALSE(decode_base64_image("data:image/png,aGk="));  // a data URL that is not base64
  EXPECT_FALSE(decode_base64_image("data:image/png;base64"));
  EXPECT_FALSE(decode_base64_image("aGVsbG8\xC3\xA9"));
}

TEST(Base64, RoundTripsRandomBytes) {
  std::mt19937 random(7);
  for (int n = 0; n < 300; ++n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) bytes += static_cast<char>(random() & 0xFF);
    EXPECT_EQ(decode_base64_image(base64(bytes)), bytes) << n;
  }
}

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ123";

std::string form_body() {
  return "preamble to ignore\r\n"
         "--XyZ123\r\n"
         "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
         "golden retriever\r\n"
         "--XyZ123\r\n"
         "Content-Disposition: form-data; name=\"image\"; filename=\"dog; \\\"1\\\".jpg\"\r\n"
         "Content-Type: image/jpeg\r\n\r\n" +
         std::string("\xFF\xD8\r\n--XyZ12 not the end\x00\xFF", 25) +
         "\r\n--XyZ123\r\n"
         "content-disposition: FORM-DATA; name=confirm\r\n\r\n"
         "true\r\n"
         "--XyZ123--\r\n"
         "epilogue";
}

TEST(Multipart, ReadsFieldsAndFilesWithoutCopyingThem) {
  EXPECT_EQ(multipart_boundary(kType), "XyZ123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\""), "a b:c");
  EXPECT_FALSE(multipart_boundary("application/json"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));

  const std::string body = form_body();
  const auto parts = parse_multipart(body, "XyZ123");
  ASSERT_TRUE(parts) << parts.why();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "description");
  EXPECT_EQ((*parts)[0].body, "golden retriever");
  EXPECT_FALSE((*parts)[0].has_filename);
  EXPECT_EQ((*parts)[1].name, "image");
  EXPECT_TRUE((*parts)[1].has_filename);
  EXPECT_EQ((*parts)[1].filename, "dog; \"1\".jpg");
  EXPECT_EQ((*parts)[1].content_type, "image/jpeg");
  EXPECT_EQ((*parts)[1].body, std::string_view("\xFF\xD8\r\n--XyZ12 not the end\x00\xFF", 25));
  EXPECT_GE((*parts)[1].body.data(), body.data());  // a view into the body
  EXPECT_EQ((*parts)[2].name, "confirm");
  EXPECT_EQ((*parts)[2].body, "true");
}

TEST(Multipart, RejectsMalformedBodies) {
  std::string why;  // of the last parse
  const auto parse_multipart = [&why](std::string_view body, std::string_view boundary) {
    auto parts = functions::parse_multipart(body, boundary);
    why = parts.why();
    return parts;
  };
  EXPECT_FALSE(parse_multipart("no delimiter here", "XyZ123"));
  EXPECT_FALSE(parse_multipart("--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
                               "XyZ123"));  // no closing delimiter
  EXPECT_NE(why.find("closing"), std::string::npos) << why;
  EXPECT_FALSE(parse_multipart("--XyZ123\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ123--",
                               "XyZ123"));  // no name
  EXPECT_FALSE(parse_multipart("--XyZ123\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ123--",
                               "XyZ123"));
  EXPECT_FALSE(parse_multipart("--XyZ123\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ123--",
                               "XyZ123"));  // unterminated quote
  EXPECT_FALSE(parse_multipart("--XyZ123garbage\r\n", "XyZ123"));
  std::string many;
  for (int i = 0; i < 20; ++i) many += "--B\r\nContent-Disposition: form-data; name=f" + std::to_string(i) + "\r\n\r\nx\r\n";
  EXPECT_FALSE(parse_multipart(many + "--B--", "B"));
  EXPECT_NE(why.find("too many"), std::string::npos) << why;
  const auto empty = parse_multipart("--B--\r\n", "B");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Multipart, EveryTruncationAndRandomDamageFailsCleanly) {
  const std::string body = form_body();
  const auto closing = body.find("--XyZ123--");
  for (std::size_t length = 0; length < body.size(); ++length) {
    domain::Result<std::vector<functions::FormPart>> parts = domain::fail("not parsed");
    ASSERT_NO_THROW(parts = parse_multipart(std::string_view(body.data(), length), "XyZ123"));
    // Cut before the closing delimiter is complete, the body must be rejected.
    if (length < closing + 10) {
      EXPECT_FALSE(parts) << "cut at " << length;
    }
  }
  std::mt19937 random(99);
  for (int round = 0; round < 5000; ++round) {
    std::string damaged = body;
    for (int i = 0; i < 3; ++i)
      damaged[std::uniform_int_distribution<std::size_t>(0, damaged.size() - 1)(random)] =
          static_cast<char>(random() & 0xFF);
    domain::Result<std::vector<functions::FormPart>> parts = domain::fail("not parsed");
    ASSERT_NO_THROW(parts = parse_multipart(damaged, "XyZ123")) << round;
    if (!parts) continue;
    for (const auto& p : *parts) {
      EXPECT_FALSE(p.name.empty());
      EXPECT_GE(p.body.data(), damaged.data());
      EXPECT_LE(p.body.data() + p.body.size(), damaged.data() + damaged.size());
    }
  }
}

}  // namespace
}  // namespace orderflow::image_test
