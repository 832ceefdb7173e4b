// Applying a Batch's mutations to an SQLite database, one SQL statement each.
//
// ApplyBatch() runs inside a transaction (or savepoint) its caller opened and does not
// commit: it stops at the first mutation that fails and returns the error, naming the
// mutation ("mutation 2 (insert task \"t-1\"): UNIQUE constraint failed: TASKS.task_id"),
// and the caller rolls the batch back. It does not validate the records: callers run
// ValidateBatch() first.
//
// Thread safety: none; the connection belongs to the caller.
#pragma once

#include "absl/status/status.h"
#include "store/batch.h"
#include "store/sqlite_connection.h"

namespace cloudai::store {

absl::Status ApplyBatch(SqliteConnection& conn, const Batch& batch);

}  // namespace cloudai::store
