// SqliteConnection: one SQLite database connection with its cache of prepared
// statements, and the mapping of SQLite result codes to absl::Status.
//
// Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT) and kept until
// the connection closes; a Statement handle resets and unbinds its statement when it
// goes out of scope, so a cached statement is always clean when taken again.
//
// Thread safety: none. A connection (and every statement it hands out) is used by one
// thread at a time; its owner serialises access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloudai::store {

// The status for SQLite result code `rc` on `db` (which may be null), as
// "<context>: <sqlite's message>". Codes: UNIQUE/PRIMARY KEY -> ALREADY_EXISTS;
// FOREIGN KEY and other constraints -> FAILED_PRECONDITION; BUSY/LOCKED -> UNAVAILABLE;
// FULL/IOERR/CANTOPEN -> UNAVAILABLE; CORRUPT/NOTADB -> DATA_LOSS; TOOBIG ->
// RESOURCE_EXHAUSTED; the rest INTERNAL.
absl::Status SqliteError(sqlite3* db, int rc, std::string_view context);

// A cached prepared statement, borrowed for one use.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  sqlite3_stmt* get() const { return stmt_; }

  // Parameters are numbered from 1, as in SQLite.
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  void BindInt(int index, int64_t value);
  void BindNull(int index);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConnection {
 public:
  struct Options {
    bool read_only = false;  // query_only: refuses writes
    int busy_timeout_ms = 5000;
    int cache_size_kib = 16 * 1024;
  };

  // Opens (creating when missing) the database at `path` (":memory:"
  // for a private in-memory one) and sets it up: WAL journal, synchronous=FULL,
  // foreign keys on, busy timeout, extended result codes. A file created here gets
  // mode 0600.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                                const Options& options);
  ~SqliteConnection();

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // The cached statement for `sql` (one statement), preparing it the first time.
  absl::StatusOr<Statement> Prepare(const std::string& sql);
  // Runs `sql` (one or more statements, no results wanted), through the cache when it
  // is a single statement used often (BEGIN, COMMIT, SAVEPOINT, ...).
  absl::Status Exec(const std::string& sql);
  // Runs `sql` with sqlite3_exec, uncached (schema changes, PRAGMAs).
  absl::Status ExecUncached(const std::string& sql);

  // True when no transaction is open (SQLite rolled it back, or none was begun).
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

  absl::Status Error(int rc, std::string_view context) const {
    return SqliteError(db_, rc, context);
  }

 private:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  const std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace cloudai::store
