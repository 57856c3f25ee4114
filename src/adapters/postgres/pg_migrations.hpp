// The PostgreSQL schema, as numbered migrations recorded in schema_migrations.
#pragma once

#include "adapters/postgres/pg_connection.hpp"

namespace orderflow::adapters::pg {

// Applies every migration `db` lacks, under a session advisory lock, so that processes starting
// at once apply each exactly once. Throws InfraError: permanent when the database's schema is
// newer than this binary's, transient when the database fails meanwhile.
void migrate(Connection& db);

}  // namespace orderflow::adapters::pg
