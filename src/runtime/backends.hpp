// Wiring by port type: the one place where a backend URL from the configuration becomes an
// adapter. Each URL scheme maps to one adapter, validated once, here.
//
//   store    sqlite:<path> | postgresql://...   -> OrderStore, DeliveryQueue, DeliveryAdmin,
//                                                  SubscriptionStore, ApiKeyStore,
//                                                  ArchiveIndex over one database
//   objects  file:<dir>    | s3://bucket?...    -> ObjectStore
//   mailer   maildir:<dir> | smtp(s)://...      -> Mailer
//   bus      local         | nats://h:4222,...  -> the local dispatcher, or JetStream
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/nats/jetstream.hpp"
#include "ports/api_key_store.hpp"
#include "ports/archive_index.hpp"
#include "ports/bus_store.hpp"
#include "ports/clock.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"
#include "ports/mailer.hpp"
#include "ports/object_store.hpp"
#include "ports/order_store.hpp"
#include "ports/signer.hpp"
#include "ports/subscription_store.hpp"
#include "runtime/config.hpp"

namespace orderflow::adapters {
class FileObjectStore;
}

namespace orderflow::runtime {

// The stores named by `store`, over one database.
struct Stores {
  std::unique_ptr<ports::OrderStore> orders;
  std::unique_ptr<ports::DeliveryQueue> queue;
  std::unique_ptr<ports::DeliveryAdmin> deliveries;
  std::unique_ptr<ports::SubscriptionStore> subscriptions;
  std::unique_ptr<ports::BusStore> bus;  // null when the store cannot feed the NATS bus (SQLite)
  std::unique_ptr<ports::ApiKeyStore> keys;
  std::unique_ptr<ports::ArchiveIndex> archive;
};

// Opens (and migrates) the database `config.store` names. Throws ConfigError for a setting
// that cannot work and ports::InfraError when the database cannot be opened or reached.
Stores open_stores(const Config& config);
// Applies the schema to the database `config.store` names, and nothing else (orderflow migrate).
void migrate_store(const Config& config);

// The object store `config.objects` names. `files` is the same store when it is the file
// store (the runtime serves its presigned /objects/ links and fills in its public URL), else null.
struct Objects {
  std::unique_ptr<ports::ObjectStore> store;
  adapters::FileObjectStore* files = nullptr;
};
Objects open_objects(const Config& config, const ports::Signer& signer, const ports::Clock& clock);

// The NATS connection `config.bus` names (connecting in the background), or null for "local".
// ConfigError when the bus cannot work with this store (it needs a shared one, PostgreSQL) or a
// setting is malformed.
std::unique_ptr<adapters::nats::JetStream> open_bus(const Config& config, std::string_view name);

std::unique_ptr<ports::Mailer> open_mailer(const Config& config, const ports::Clock& clock);

// Creates `dir` (and its parents) when missing, with mode 0700; ConfigError naming `setting`
// when it cannot.
void ensure_directory(std::string_view setting, const std::filesystem::path& dir);

// True when `config.store` is a database other processes can share (PostgreSQL): commits of
// one process then wake the others, and process roles make sense.
bool store_is_shared(const Config& config);

}  // namespace orderflow::runtime
