#include "report_fixture.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "functions/deleted_order.hpp"

namespace orderflow::report_test {
namespace fs = std::filesystem;

std::string CountingIds::new_id() { return order_id(next_++); }

std::string order_id(int n) {
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x-0000-4000-8000-%012x", static_cast<unsigned>(n),
                static_cast<unsigned>(n));
  return buf.data();
}

namespace {

// Runs a shell command and returns its standard output; a failing command fails the test.
std::string run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string out;
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    ADD_FAILURE() << "command failed: " << command;
  return out;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

std::string run_pdf_tool(std::string_view command, std::string_view bytes, const fs::path& dir) {
  const fs::path file = dir / "report-under-tool.pdf";
  std::ofstream(file, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::string out = run(std::string(command) + " " + quoted(file));
  fs::remove(file);
  return out;
}

PdfText read_pdf(std::string_view bytes, const fs::path& dir) {
  const fs::path file = dir / "report-under-test.pdf";
  std::ofstream(file, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  PdfText out;
  out.text = run("pdftotext -layout -enc UTF-8 " + quoted(file) + " -");
  out.bbox = run("pdftotext -bbox -enc UTF-8 " + quoted(file) + " -");
  const std::string info = run("pdfinfo " + quoted(file));
  std::smatch m;
  if (std::regex_search(info, m, std::regex(R"(Pages:\s+(\d+))"))) out.pages = std::stoi(m[1]);
  fs::remove(file);
  return out;
}

std::vector<WordBox> word_boxes(const std::string& html) {
  static const std::regex word(
      R"re(<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>)re");
  std::vector<WordBox> out;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), word); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    out.push_back(
        WordBox{std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), m[5]});
  }
  return out;
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

domain::Timestamp ReportTest::t0() { return *domain::parse_rfc3339("2026-11-25T10:00:00Z"); }

std::string ReportTest::archive(int n, std::string_view description, std::string_view price,
                                std::optional<domain::Timestamp> deleted_at) {
  functions::DeletedOrder d;
  d.order.id = order_id(n);
  d.order.description = std::string(description);
  d.order.price = *domain::Money::parse(price);
  d.order.created = t0() - std::chrono::hours(48) + std::chrono::seconds(n);
  d.order.last_modified = d.order.created;
  d.deleted_at = deleted_at.value_or(t0() - std::chrono::hours(24) + std::chrono::seconds(n));
  d.event_id = order_id(1'000'000 + n);
  objects_.put(functions::archive_key(d.order.id), functions::archive_json(d), "application/json");
  index_.add({functions::index_entry(d)});
  return d.order.id;
}

functions::Response ReportTest::generate() {
  return functions::generate_pdf_report(ctx_, functions::Request{});
}

functions::Response ReportTest::generate(std::vector<std::pair<std::string, std::string>> query) {
  functions::Request req;
  req.query = std::move(query);
  return functions::generate_pdf_report(ctx_, req);
}

boost::json::object ReportTest::body_of(const functions::Response& r) {
  return boost::json::parse(r.body).as_object();
}

std::string ReportTest::report_key(const functions::Response& r) {
  const std::string url(body_of(r).at("pdf_url").as_string());
  const auto start = url.find("/objects/");
  const auto end = url.find('?');
  if (start == std::string::npos || end == std::string::npos) return {};
  return url.substr(start + 9, end - start - 9);
}

PdfText ReportTest::pdf_of(const std::string& key) {
  const std::string bytes = pdf_bytes(key);
  if (bytes.empty()) return {};
  return read_pdf(bytes, tmp_.path());
}

std::string ReportTest::pdf_bytes(const std::string& key) {
  auto stored = objects_.get(key);
  if (!stored) {
    ADD_FAILURE() << "no object " << key;
    return {};
  }
  EXPECT_EQ(stored->content_type, "application/pdf");
  return std::move(stored->bytes);
}

bool ReportTest::exists(const std::string& key) { return objects_.get(key).has_value(); }

}  // namespace orderflow::report_test
