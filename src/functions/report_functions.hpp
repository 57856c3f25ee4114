// The deleted-orders report (the seed's generatePdfReport): a PDF of every archived order,
// stored as an object and handed out through a presigned link.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "domain/result.hpp"
#include "domain/time.hpp"
#include "functions/api.hpp"
#include "ports/archive_index.hpp"
#include "ports/clock.hpp"
#include "ports/id_generator.hpp"
#include "ports/object_store.hpp"
#include "ports/report_renderer.hpp"

namespace orderflow::functions {

// The orders a report covers: deletedAt in [from, to); an unset end is open.
struct DeletedRange {
  std::optional<domain::Timestamp> from;
  std::optional<domain::Timestamp> to;

  bool contains(domain::Timestamp t) const { return (!from || t >= *from) && (!to || t < *to); }
  // Appended to the archive's fingerprint in the reuse record, so that a report is only reused
  // for the range it was made for. Empty for the whole archive: older records stay valid.
  std::string tag() const;
};

// The from/to query of a report request; a failure that says what is wrong.
domain::Result<DeletedRange> requested_range(const Request& req);

// Told how far a render has come: rows measured (of 0: the count is not known yet, pass 1) or
// rows drawn of `total` (pass 2). Called every hundred rows or so, from the rendering thread.
using ReportProgress = std::function<void(std::uint64_t rows, std::uint64_t total)>;

struct ReportContext {
  ports::ObjectStore& objects;
  // The rows come from here; the object store is listed only once per database, to add the
  // archive written before the index existed (see ports/archive_index.hpp).
  ports::ArchiveIndex& archive;
  ports::ReportRenderer& renderer;
  ports::Clock& clock;
  ports::IdGenerator& ids;
  // Reports older than this are removed when a new one is generated. Keep it above the
  // presigned link's lifetime (1 h), or a link handed out may stop working early.
  std::chrono::seconds max_age = std::chrono::hours(24);
  // One render at a time: requests that arrive while one runs wait for it and then hand out
  // its report (the archive unchanged), so N identical requests cost one render, not N.
  std::shared_ptr<std::mutex> rendering = std::make_shared<std::mutex>();
};

// GET /reports/deleted-orders[?from=RFC3339][&to=RFC3339]
// 200 {"status":"success","pdf_url","expiresAt","orders","skipped"}: the report of every
// archived order whose deletedAt is in [from, to) (either end optional; `orders` counts the
// orders in the range; `skipped` counts archive objects from before the index that were not
// readable archive JSON and were left out), stored as
// reports/deleted_orders_{yyyymmddThhmmssZ}_{id}.pdf. The rows are read from the archive index
// twice (measure, then draw), a page at a time, never held in memory; both passes read the
// same entries (those up to the index's newest sequence number when the render began). An
// unchanged index asked for the same range reuses the previous report (reports/latest.json
// keeps its state and range); concurrent requests share one render.
// 400 validation when from or to is not an RFC 3339 timestamp, or from >= to.
// 404 not_found "No deleted orders found" when there is no readable archived order, "No deleted
// orders found in the requested range" when there are some but none in the range.
Response generate_pdf_report(ReportContext& ctx, const Request& req);

// The same for a parsed range, reporting progress as it renders (a reused report has none).
Response produce_report(ReportContext& ctx, const DeletedRange& range,
                        const ReportProgress& progress);

}  // namespace orderflow::functions
