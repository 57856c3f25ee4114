// report_bench: the two halves of the report benchmark, each a separate process so that
// run.sh measures the rendering alone.
//   report_bench archive OBJECTS_DIR N   writes N archived orders (deterministic data)
//   report_bench render OBJECTS_DIR      runs GET /reports/deleted-orders once, prints the reply
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/pdf/cairo_report_renderer.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "functions/deleted_order.hpp"
#include "functions/report_functions.hpp"

namespace {

using namespace orderflow;

// Descriptions like people write them: a few words to a few lines, now and then markup-like
// text or non-Latin scripts, so the renderer does its real work (wrapping, shaping, bidi).
std::string description(std::mt19937_64& rng, std::size_t i) {
  static const std::vector<std::string> kWords = {
      "wireless",    "keyboard", "mouse", "monitor", "27-inch", "USB-C",  "cable",       "adapter",
      "ergonomic",   "chair",    "desk",  "lamp",    "office",  "bundle", "refurbished", "pack",
      "<b>bold</b>", "&",        "Grüße", "шнур",    "שלום",    "مرحبا",  "naïve",       "café"};
  std::uniform_int_distribution<std::size_t> word(0, kWords.size() - 1);
  std::uniform_int_distribution<int> length(2, 40);
  std::string out = "Item " + std::to_string(i);
  for (int n = length(rng); n > 0; --n) out += " " + kWords[word(rng)];
  return out;
}

// The archive index's database, beside the objects (not a key under deleted_orders/).
std::string index_path(const std::string& dir) { return dir + "/index.db"; }

std::string uuid(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    s.push_back(kHex[rng() & 0xF]);
  }
  s[14] = '4';
  return s;
}

// Writes the objects where the file store keeps them (<dir>/<key>) with plain writes: the
// store's put() fsyncs each object, which would make 100,000 of them take many minutes.
int archive(const std::string& dir, std::size_t n) {
  const std::filesystem::path root(dir);
  std::filesystem::create_directories(root / "deleted_orders");
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> cents(1, 999'999);
  const auto base = domain::Timestamp(std::chrono::seconds(1'790'000'000));
  std::vector<ports::ArchivedOrder> entries;
  for (std::size_t i = 0; i < n; ++i) {
    functions::DeletedOrder d;
    d.order.id = uuid(rng);
    d.order.description = description(rng, i);
    d.order.price = domain::Money::from_cents(cents(rng));
    d.order.created = base + std::chrono::seconds(i);
    d.order.last_modified = d.order.created;
    d.deleted_at = d.order.created + std::chrono::minutes(5);
    d.event_id = uuid(rng);
    std::ofstream(root / functions::archive_key(d.order.id), std::ios::binary)
        << functions::archive_json(d);
    entries.push_back(functions::index_entry(d));
  }
  // The index as the archive function keeps it, backfilled: render then reads the index only.
  auto stores = adapters::open_sqlite_stores({.path = index_path(dir)});
  for (std::size_t at = 0; at < entries.size(); at += 1000)
    stores.archive->add({entries.begin() + static_cast<std::ptrdiff_t>(at),
                         entries.begin() + static_cast<std::ptrdiff_t>(std::min(at + 1000, n))});
  stores.archive->mark_backfilled(base, 0);
  return 0;
}

int render(const std::string& dir) {
  adapters::HmacSigner signer("report-bench-secret-0123456789");
  adapters::SystemClock clock;
  adapters::UuidV7Generator ids(clock);
  adapters::FileObjectStore store(dir, "http://127.0.0.1:8080", signer, clock);
  adapters::CairoReportRenderer renderer;
  auto stores = adapters::open_sqlite_stores({.path = index_path(dir)});
  functions::ReportContext ctx{store, *stores.archive, renderer, clock, ids};
  const auto response = functions::generate_pdf_report(ctx, functions::Request{});
  std::cout << response.status << " " << response.body << "\n";
  return response.status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "archive") return archive(args[1], std::stoul(args[2]));
  if (args.size() == 2 && args[0] == "render") return render(args[1]);
  std::cerr << "usage: report_bench archive OBJECTS_DIR N | report_bench render OBJECTS_DIR\n";
  return 2;
}
