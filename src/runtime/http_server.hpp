// The HTTP/1.1 gateway: Boost.Beast on one io_context per I/O thread, each with its own
// SO_REUSEPORT acceptor, plus a blocking worker pool for routes that wait on commits.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "runtime/router.hpp"
#include "runtime/routes.hpp"

namespace orderflow::runtime {

// The metric route labels for a router: its patterns, then "unmatched" for everything else.
// HttpServer records metrics with these indices into `Services::metrics`, which must have
// been built with these labels and one shard per I/O thread (config.io_threads).
std::vector<std::string> metric_route_labels(const Router& router);

class HttpServer {
 public:
  // Borrows everything; all of it must outlive the server.
  HttpServer(const Config& config, const Router& router, Services& services);
  ~HttpServer();  // stops (without grace) when still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every acceptor (connections queue in the backlog until start()). Throws
  // std::runtime_error naming `listen` when the address cannot be bound. Idempotent.
  void bind();
  // Binds when not bound yet, then starts the I/O threads and the worker pool.
  void start();

  // The bound port (the real one when `listen` asked for port 0), after bind().
  std::uint16_t port() const;
  // "http://host:port" of the bound address, after bind().
  std::string url() const;

  // Graceful stop: stops accepting, closes idle connections, lets requests in flight finish
  // (for at most `grace`), then stops the I/O threads and the worker pool.
  void stop(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::runtime
