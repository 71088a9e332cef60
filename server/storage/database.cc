#include "server/storage/database.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace proxflow::server {
namespace {

// SQLITE_FULL (disk full) is RESOURCE_EXHAUSTED; anything else INTERNAL.
absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  std::string message =
      absl::StrCat("database: ", what, ": ", sqlite3_errmsg(db));
  if (db != nullptr && (sqlite3_errcode(db) & 0xff) == SQLITE_FULL) {
    return absl::ResourceExhaustedError(std::move(message));
  }
  return absl::InternalError(std::move(message));
}

}  // namespace

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(other.bind_error_) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  // An empty view may have a null data(), which SQLite would bind as NULL.
  const int rc =
      sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(),
                        static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  const int rc =
      sqlite3_bind_blob(stmt_, index, bytes.data(),
                        static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

absl::Status Statement::Error(absl::string_view what) const {
  return SqliteError(db_,
                     absl::StrCat(what, " of \"", sqlite3_sql(stmt_), "\""));
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) return Error("binding parameters");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error("step");
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Statement::ColumnBlob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p), n);
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    return SqliteError(db_, absl::StrCat("preparing \"", sql, "\""));
  }
  return Statement(db_, stmt);
}

absl::Status Connection::Exec(absl::string_view sql) {
  const std::string copy(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text =
        absl::StrCat("database: ", message == nullptr ? "error" : message);
    absl::Status status = (rc & 0xff) == SQLITE_FULL
                              ? absl::ResourceExhaustedError(std::move(text))
                              : absl::InternalError(std::move(text));
    sqlite3_free(message);
    return status;
  }
  return absl::OkStatus();
}

int64_t Connection::Changes() const { return sqlite3_changes(db_); }

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path, absl::string_view schema) {
  sqlite3* db = nullptr;
  // NOMUTEX: the Database mutex already serialises every use.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::InternalError(
        absl::StrCat("cannot open database ", path, ": ",
                     db == nullptr ? "out of memory" : sqlite3_errmsg(db)));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<Database> database(new Database(db));
  // journal_mode cannot change inside a transaction: set it before the schema.
  absl::Status status = database->Read([](Connection& c) {
    return c.Exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
  });
  if (status.ok()) {
    status = database->Write([&](Connection& c) { return c.Exec(schema); });
  }
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot initialise database ", path,
                                            ": ", status.message()));
  }
  return database;
}

Database::~Database() { sqlite3_close(db_); }

absl::Status Database::Write(
    const std::function<absl::Status(Connection&)>& fn) {
  absl::MutexLock lock(&mu_);
  Connection connection(db_);
  if (absl::Status s = connection.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status = fn(connection);
  if (status.ok()) status = connection.Exec("COMMIT");
  if (!status.ok()) connection.Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::Status Database::Read(
    const std::function<absl::Status(Connection&)>& fn) {
  absl::MutexLock lock(&mu_);
  Connection connection(db_);
  return fn(connection);
}

}  // namespace proxflow::server
