#include "store/sqlite_connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace cloudai::store {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_TOOBIG:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

// Creates `path` with mode 0600 when it does not exist, so that the database (and the
// -wal and -shm files SQLite derives from it) are private to the master's user. An
// existing file is not opened here: closing another descriptor of a file SQLite has
// open would drop SQLite's POSIX locks on it.
absl::Status CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return absl::UnavailableError(
        StrCat("cannot open database ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string message = StrCat(context, ": ");
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    StrAppend(&message, sqlite3_errmsg(db));
  } else {
    StrAppend(&message, sqlite3_errstr(rc));
  }
  return absl::Status(CodeFor(rc), message);
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::BindText(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty text must stay an empty text.
  sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_STATIC,
                      SQLITE_UTF8);
}

void Statement::BindBlob(int index, std::string_view value) {
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(),
                      SQLITE_STATIC);
}

void Statement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                         const Options& options) {
  const bool memory = path == ":memory:";
  if (!memory) {
    if (absl::Status s = CreatePrivateFile(path); !s.ok()) return s;
  }
  // A reader is opened read-write and made query_only: a read-only open of a WAL
  // database cannot create the shared-memory file it needs.
  const int flags =
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, StrCat("cannot open database ", path));
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db, path));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);

  // journal_mode answers with the mode in force: "wal", or "memory" for :memory:. It is
  // also the first statement to read the file, so a file that is not a database fails
  // here.
  {
    absl::StatusOr<Statement> wal = conn->Prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) {
      return SqliteError(db, sqlite3_extended_errcode(db), StrCat("cannot open database ", path));
    }
    const int step = wal->Step();
    if (step != SQLITE_ROW) return conn->Error(step, StrCat("cannot open database ", path));
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(wal->get(), 0));
    const std::string mode = text != nullptr ? text : "";
    if (mode != "wal" && !(memory && mode == "memory")) {
      return absl::UnavailableError(
          StrCat("cannot switch ", path, " to WAL mode: journal mode is still ", mode));
    }
  }
  std::string setup =
      StrCat("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; ",
             "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-", options.cache_size_kib, ";");
  if (options.read_only) setup += " PRAGMA query_only=ON;";
  if (absl::Status s = conn->ExecUncached(setup); !s.ok()) return s;
  return conn;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
  sqlite3_close_v2(db_);
}

absl::StatusOr<Statement> SqliteConnection::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return Error(rc, StrCat("cannot prepare \"", std::string_view(sql).substr(0, 120), "\""));
    }
    it = statements_.emplace(sql, stmt).first;
  }
  return Statement(it->second);
}

absl::Status SqliteConnection::Exec(const std::string& sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return Error(rc, sql);
  return absl::OkStatus();
}

absl::Status SqliteConnection::ExecUncached(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, std::string_view(sql).substr(0, 120));
  return absl::OkStatus();
}

}  // namespace cloudai::store
