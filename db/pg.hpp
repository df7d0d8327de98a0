// db/pg.hpp — thin RAII wrappers over libpq, PostgreSQL's own client library: a connection, a result,
// parameters and a transaction that rolls back unless committed. The SQLite wrappers' twin
// (db/sqlite.hpp): every failure throws db::Error, with its class decided here from the SQLSTATE (or,
// for a connection that never opened, from libpq's status), so db::guarded turns it into a
// util::Error at the store's interface.
//
// Values only ever reach SQL as parameters ($1, $2, ...). Text goes as text (valid UTF-8, no NUL:
// JSON and names); raw page bytes go in binary format to BYTEA columns, so they round-trip exactly
// (NUL and invalid UTF-8 included). Results come back in text format; bytes() decodes BYTEA's hex.
//
// A connection string is never shown: display_location() rebuilds a URI from the parsed options with
// the password left out, and every message names the store by it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/sqlite.hpp"  // db::Error and db::guarded, shared by both backends

struct pg_conn;
struct pg_result;

namespace db::pg {

// Whether `location` names a PostgreSQL database rather than a SQLite file: a postgresql:// or
// postgres:// URI, or a libpq key=value string (its first word is `key=`). A SQLite file whose name
// looks like `key=...` is written `./key=...`.
bool is_postgres_location(std::string_view location);

// `location` for messages and listings: postgresql://user@host:port/dbname from the parsed options,
// never the password (nor any other option). A string libpq cannot parse reads "postgresql://(unparsable
// connection string)": its text may hold a password.
std::string display_location(const std::string& location);

// The parameters of one statement: $1 is the first added.
class Params {
 public:
  Params& int64(std::int64_t value);
  // Text: must be valid UTF-8 without NUL (the server refuses anything else).
  Params& text(std::string_view value);
  // Bytes for a BYTEA parameter, sent in binary format: any bytes.
  Params& bytes(std::string_view value);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const;
  std::vector<int> lengths() const;
  std::vector<int> formats() const;

 private:
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
};

// The rows of one statement. Move-only; freed by the destructor.
class Rows {
 public:
  explicit Rows(pg_result* result) noexcept : result_(result) {}
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const noexcept;
  bool is_null(int row, int column) const noexcept;
  std::int64_t int64(int row, int column) const;  // NULL reads as 0
  std::string text(int row, int column) const;    // NULL reads as ""
  std::string bytes(int row, int column) const;   // a BYTEA column, decoded; NULL reads as ""
  bool boolean(int row, int column) const;        // 't' / 'f'
  // Rows an INSERT/UPDATE/DELETE changed.
  std::int64_t affected() const;

 private:
  pg_result* result_ = nullptr;
};

// One connection. Move-only; closed by the destructor.
class Connection {
 public:
  // Connects (PQconnectdb: URI or key=value; PGPASSWORD, ~/.pgpass and PGSERVICE honoured). Throws
  // db::Error naming display_location(location): cannot_open (unreachable), permission (password),
  // not_found (no such database).
  explicit Connection(const std::string& location);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // One statement with parameters; its rows. Throws db::Error (context: the SQL).
  Rows exec(std::string_view sql, const Params& params = {}) const;
  // One or more statements without parameters (schema, SET, BEGIN/COMMIT).
  void script(std::string_view sql) const;
  // Whether the connection is still up (false after the server went away).
  bool healthy() const noexcept;

  const std::string& location() const noexcept { return display_; }

 private:
  pg_conn* connection_ = nullptr;
  std::string display_;
};

// BEGIN on construction (READ COMMITTED, or REPEATABLE READ READ ONLY for `snapshot`); rolls back in
// its destructor unless commit() succeeded. Never throws from the destructor.
class Transaction {
 public:
  enum class Kind { write, snapshot };
  explicit Transaction(const Connection& connection, Kind kind = Kind::write);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  const Connection& connection_;
  bool done_ = false;
};

}  // namespace db::pg
