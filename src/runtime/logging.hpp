// Logging: spdlog async loggers on stdout, so a slow terminal or pipe never stalls I/O threads.
#pragma once

#include "runtime/config.hpp"

namespace orderflow::runtime {

// Installs the default logger (level from config.log_level) and the "access" logger used by
// the HTTP server for one line per request.
void setup_logging(const Config& config);
// Writes out everything queued and stops the logging thread.
void shutdown_logging();

}  // namespace orderflow::runtime
