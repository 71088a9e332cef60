// Database: one SQLite connection (WAL journal) shared by the server's stores.
//
// Owned by the server; the stores hold a non-owning pointer. Thread-safe: every
// access runs inside Read() or Write(), which serialise on one mutex, so a
// statement never interleaves with another thread's transaction. Callbacks
// must not call back into the Database.
#ifndef PROXFLOW_SERVER_STORAGE_DATABASE_H_
#define PROXFLOW_SERVER_STORAGE_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;
struct sqlite3_stmt;

namespace proxflow::server {

// A prepared statement. Valid only inside the Read()/Write() callback that
// prepared it. Bind indices start at 1, column indices at 0.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);  // TEXT
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when done.
  // INTERNAL on a SQLite error (including an earlier failed Bind).
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring rows.
  absl::Status Run();

  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class Connection;
  Statement(sqlite3* db, sqlite3_stmt* stmt);
  absl::Status Error(absl::string_view what) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

// What Read()/Write() callbacks use to run SQL.
class Connection {
 public:
  // INTERNAL when the SQL does not compile (a programming error).
  absl::StatusOr<Statement> Prepare(absl::string_view sql);
  // Runs one or more statements without parameters.
  absl::Status Exec(absl::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;

 private:
  friend class Database;
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

class Database {
 public:
  // Opens (creating when missing) the database at `path` in WAL mode with
  // synchronous=NORMAL (a committed transaction survives a process crash;
  // kill -9 loses nothing) and runs `schema` (idempotent DDL). INTERNAL naming
  // the path on failure.
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& path, absl::string_view schema);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `fn` inside one transaction (BEGIN IMMEDIATE … COMMIT): all of its
  // writes land or none do. A non-OK status from `fn` rolls back and is
  // returned.
  absl::Status Write(const std::function<absl::Status(Connection&)>& fn)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `fn` under the connection lock without a write transaction.
  absl::Status Read(const std::function<absl::Status(Connection&)>& fn)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_DATABASE_H_
