// The SQLite schema of the store, as a list of versioned migrations.
//
// Migration N holds the SQL that takes a database from version N-1 to N. Opening a
// store applies, in one transaction, every migration above the version the database
// records in SCHEMA_VERSION (one row per applied migration), so a database is always
// at exactly one known version; a failed step leaves it as it was. A database whose
// version is newer than the last migration this build knows is refused, untouched: an
// older master must not write to a schema it does not understand. A file holding other
// tables but no SCHEMA_VERSION is refused as not a CloudAI database.
//
// To change the schema, append a migration; never edit one that has shipped.
//
// Thread safety: free functions; the connection passed in must not be in use
// elsewhere.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/sqlite_connection.h"

namespace cloudai::store {

struct Migration {
  int version;  // 1, 2, 3, ... in order
  std::string_view description;
  std::vector<std::string_view> statements;
};

// The migrations of this build; the last one's version is the current schema version.
std::span<const Migration> SqliteMigrations();

// The version recorded in SCHEMA_VERSION; 0 for a database without that table.
absl::StatusOr<int> SqliteSchemaVersion(SqliteConnection& conn);

// Brings the schema of `conn`'s database up to the last of `migrations` (in one
// transaction), recording each applied step with `now_ms`. Returns the version found
// before. FAILED_PRECONDITION for a newer database or a foreign one.
absl::StatusOr<int> MigrateSqlite(SqliteConnection& conn, std::span<const Migration> migrations,
                                  int64_t now_ms);

}  // namespace cloudai::store
