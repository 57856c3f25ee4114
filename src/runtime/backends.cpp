#include "runtime/backends.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "adapters/files/file_object_store.hpp"
#include "adapters/files/private_files.hpp"
#include "adapters/mail/maildir_mailer.hpp"
#include "adapters/mail/smtp_mailer.hpp"
#include "adapters/postgres/postgres_stores.hpp"
#include "adapters/s3/s3_object_store.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "domain/encoding.hpp"

namespace orderflow::runtime {
namespace {

bool is_postgres(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

adapters::PostgresStoreOptions postgres_options(const Config& config) {
  return adapters::PostgresStoreOptions{config.store, config.store_pool_size};
}

}  // namespace

void ensure_directory(std::string_view setting, const std::filesystem::path& dir) {
  if (const std::error_code ec = adapters::create_private_directories(dir))
    throw ConfigError(
        fmt::format("{}: cannot create directory \"{}\": {}", setting, dir.string(), ec.message()));
}

bool store_is_shared(const Config& config) { return is_postgres(config.store); }

Stores open_stores(const Config& config) {
  const std::string_view url = config.store;
  if (url.starts_with("sqlite:")) {
    const std::filesystem::path path(std::string(url.substr(7)));
    if (path.has_parent_path()) ensure_directory("store", path.parent_path());
    auto s = adapters::open_sqlite_stores(adapters::SqliteStoreOptions{path.string()});
    return Stores{std::move(s.orders),
                  std::move(s.queue),
                  std::move(s.deliveries),
                  std::move(s.subscriptions),
                  nullptr,
                  std::move(s.keys),
                  std::move(s.archive)};
  }
  if (is_postgres(url)) {
    auto s = adapters::open_postgres_stores(postgres_options(config));
    return Stores{std::move(s.orders),        std::move(s.queue), std::move(s.deliveries),
                  std::move(s.subscriptions), std::move(s.bus),   std::move(s.keys),
                  std::move(s.archive)};
  }
  throw ConfigError(
      fmt::format("store: expected sqlite:<path> or postgresql://..., got \"{}\"", config.store));
}

void migrate_store(const Config& config) {
  if (is_postgres(config.store)) return adapters::migrate_postgres(postgres_options(config));
  open_stores(config);  // SQLite migrates when it opens
}

std::unique_ptr<adapters::nats::JetStream> open_bus(const Config& config, std::string_view name) {
  if (config.bus == "local") return nullptr;
  if (!is_postgres(config.store))
    throw ConfigError(fmt::format(
        "bus: nats:// needs a store every process shares (store = postgresql://...), got \"{}\"",
        domain::redacted_url(config.store)));
  adapters::nats::ConnectOptions options;
  options.servers = config.bus;
  options.credentials_file = config.nats.credentials;
  options.ca_file = config.nats.tls_ca;
  options.cert_file = config.nats.tls_cert;
  options.key_file = config.nats.tls_key;
  options.tls = !options.ca_file.empty() || !options.cert_file.empty();
  options.name = std::string(name);
  try {
    return std::make_unique<adapters::nats::JetStream>(options);
  } catch (const ports::InfraError& e) {
    throw ConfigError(e.what());
  }
}

Objects open_objects(const Config& config, const ports::Signer& signer, const ports::Clock& clock) {
  const std::string_view url = config.objects;
  if (url.starts_with("file:")) {
    const std::filesystem::path dir(std::string(url.substr(5)));
    ensure_directory("objects", dir);
    auto files = std::make_unique<adapters::FileObjectStore>(dir, config.public_url, signer, clock);
    adapters::FileObjectStore* borrowed = files.get();
    return Objects{std::move(files), borrowed};
  }
  try {
    return Objects{adapters::make_s3_object_store(url, clock), nullptr};
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

std::unique_ptr<ports::Mailer> open_mailer(const Config& config, const ports::Clock& clock) {
  const std::string_view url = config.mailer;
  if (url.starts_with("maildir:")) {
    const std::filesystem::path dir(std::string(url.substr(8)));
    ensure_directory("mailer", dir);
    return std::make_unique<adapters::MaildirMailer>(dir, clock);
  }
  try {
    return std::make_unique<adapters::SmtpMailer>(config.mailer, clock);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

}  // namespace orderflow::runtime
