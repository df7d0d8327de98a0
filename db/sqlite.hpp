// db/sqlite.hpp — thin RAII wrappers over the sqlite3 C API: a connection, a move-only prepared
// statement, and a transaction that rolls back unless committed. Every failure throws db::Error with
// SQLite's extended error code and the SQL (or operation) that failed.
//
// Values only ever reach SQL through bound parameters. Text and blobs are bound and read with an
// explicit length, so bytes round-trip exactly: embedded NUL, quotes and invalid UTF-8 included.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <sqlite3.h>

#include "util/status.hpp"

namespace db {

// A failed SQLite call. what() reads "<context>: <SQLite message>"; context is the SQL text or the
// operation (e.g. "open /path/to.db"). Inside db/ only: the store turns it into a util::Error
// (to_error) at its interface, so no other module sees SQLite's codes.
class Error : public std::runtime_error {
 public:
  Error(int code, std::string context, const std::string& message);
  // A failure this layer detects itself, with its class stated (e.g. a schema that is too new).
  Error(int code, std::string context, const std::string& message, util::ErrorCode kind);

  // SQLite's extended result code (SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE, ...). For failures this
  // layer detects itself (misuse, refused schema) it is the closest primary code.
  int code() const noexcept { return code_; }
  const std::string& context() const noexcept { return context_; }
  const std::string& message() const noexcept { return message_; }
  // What kind of failure it is, for callers outside db/: busy, locked, corrupt, read_only, ...
  util::ErrorCode kind() const noexcept;

 private:
  int code_;
  std::string context_;
  std::string message_;
  std::optional<util::ErrorCode> kind_;
};

// The util::Error a caller outside db/ sees for `error`: its kind, context and message, with the
// SQLite code kept as native_code (for logs and tests).
util::Error to_error(const Error& error);

// Runs `work` and returns its value, or the util::Error of the db::Error it threw. Other exceptions
// (bugs) pass through.
template <class Work>
auto guarded(Work&& work) -> util::Result<std::invoke_result_t<Work&>> {
  using Value = std::invoke_result_t<Work&>;
  try {
    if constexpr (std::is_void_v<Value>) {
      work();
      return util::Status{};
    } else {
      return work();
    }
  } catch (const Error& error) {
    return to_error(error);
  }
}

class Database;

// One prepared statement. Move-only; finalised by the destructor.
// Parameter indexes are 1-based (as in SQL's ?1), column indexes 0-based (as in sqlite3_column_*).
// Text and blob binds copy the bytes (SQLITE_TRANSIENT), so the argument need not outlive the call.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind_int64(int index, std::int64_t value);
  Statement& bind_double(int index, double value);
  // Binds as TEXT, verbatim: the bytes are not validated as UTF-8. An empty view binds '' (not NULL).
  Statement& bind_text(int index, std::string_view value);
  // Binds as BLOB. An empty view binds a zero-length blob (not NULL).
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // Runs one step. true: a row is ready for the column getters; false: the statement is done.
  // Throws db::Error on any other result.
  bool step();
  // Runs a statement expected to return no rows (INSERT/UPDATE/...); throws if it returns one.
  void run();

  // Rewinds for another run; bindings are kept. Never throws: sqlite3_reset only repeats the error
  // of the last step(), which step() has already thrown.
  void reset() noexcept;
  void clear_bindings() noexcept;

  int column_count() const noexcept;
  bool column_is_null(int column) const noexcept;
  std::int64_t column_int64(int column) const noexcept;
  double column_double(int column) const noexcept;
  // The column's bytes as text (exact length; NULL reads as ""). No UTF-8 conversion or validation.
  std::string column_text(int column) const;
  // The column's bytes as a blob (exact length; NULL reads as "").
  std::string column_blob(int column) const;

  const std::string& sql() const noexcept { return sql_; }
  sqlite3_stmt* handle() const noexcept { return statement_; }

 private:
  friend class Database;
  Statement(sqlite3* connection, sqlite3_stmt* statement, std::string sql) noexcept;
  // Throws db::Error for a non-OK bind result.
  void check_bind(int result, int index) const;

  sqlite3* connection_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  std::string sql_;
};

// One connection. Move-only; closed by the destructor. Statements that outlive their Database stay
// valid until finalised (sqlite3_close_v2 defers the close).
class Database {
 public:
  static constexpr int kDefaultOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

  // Opens `filename` (":memory:" for a private in-memory database). The name is taken literally;
  // URI filenames are only honoured if `flags` includes SQLITE_OPEN_URI. The file's parent directory
  // must exist. Throws db::Error naming the file.
  explicit Database(const std::string& filename, int flags = kDefaultOpenFlags);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that take no parameters (schema, PRAGMA, BEGIN/COMMIT). Rows are
  // discarded. Never pass values here: use prepare() and bind.
  void exec(std::string_view sql);
  // Prepares exactly one statement; trailing text other than whitespace and ';' is refused, so a
  // second statement can never be dropped silently.
  Statement prepare(std::string_view sql) const;
  // The same, prepared once per connection and kept: for the statements of every crawled site
  // (preparing was a tenth of a visit's commit, measured with perf). Returned reset, with no
  // bindings. For statements that run to completion (writes): a SELECT left mid-rows would keep its
  // read snapshot while it sits here.
  Statement& cached(std::string_view sql);

  // How long a statement waits for another connection's lock before failing with SQLITE_BUSY
  // (same as PRAGMA busy_timeout).
  void set_busy_timeout(int milliseconds);

  std::int64_t last_insert_rowid() const noexcept;
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  std::int64_t changes() const noexcept;
  // true unless a transaction is open (sqlite3_get_autocommit).
  bool autocommit() const noexcept;

  const std::string& filename() const noexcept { return filename_; }
  sqlite3* handle() const noexcept { return connection_; }

 private:
  sqlite3* connection_ = nullptr;
  std::string filename_;
  std::map<std::string, Statement, std::less<>> cached_;
};

// BEGIN IMMEDIATE on construction: takes the write lock up front, so a writer waits (busy timeout)
// at the start instead of failing halfway through with SQLITE_BUSY on a lock upgrade.
// Rolls back in its destructor unless commit() succeeded. The destructor never throws.
// Not nestable: SQLite has one transaction per connection.
class Transaction {
 public:
  explicit Transaction(Database& database);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Throws db::Error if COMMIT fails (e.g. SQLITE_BUSY); the transaction then stays open and the
  // destructor rolls it back.
  void commit();

 private:
  Database& database_;
  bool committed_ = false;
};

// BEGIN (deferred) on construction, for a consistent read of several statements: SQLite takes the
// read snapshot at the first SELECT and keeps it until commit() or destruction. Works on read-only
// connections. Keep it short: under WAL an open read transaction pins the WAL, so checkpoints cannot
// reset it while it lives (the feed server ends it before sending a byte).
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& database);
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction();

  // Ends the read (COMMIT). Throws db::Error if it fails.
  void end();

 private:
  Database& database_;
  bool ended_ = false;
};

}  // namespace db
