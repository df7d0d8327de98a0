// db/sqlite.cpp — the RAII wrappers over sqlite3: errors, statements, connections, transactions.
#include "db/sqlite.hpp"

#include <utility>

namespace db {
namespace {

// SQL in an error message is cut to this many bytes; ours is short, but exec() accepts anything.
constexpr std::size_t kMaxContextInMessage = 300;

// A non-null pointer for zero-length binds: SQLite binds NULL when the data pointer is null, and an
// empty std::string_view may well have a null data().
constexpr char kEmpty[] = "";

std::string shorten(std::string_view text) {
  if (text.size() <= kMaxContextInMessage) return std::string(text);
  return std::string(text.substr(0, kMaxContextInMessage)) + "...";
}

std::string message_of(sqlite3* connection) {
  return connection != nullptr ? sqlite3_errmsg(connection) : "out of memory";
}

int code_of(sqlite3* connection, int fallback) {
  return connection != nullptr ? sqlite3_extended_errcode(connection) : fallback;
}

bool is_blank_tail(const char* tail, const char* end) {
  for (; tail < end; ++tail)
    if (*tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r' && *tail != ';') return false;
  return true;
}

}  // namespace

// ---- Error ----

Error::Error(int code, std::string context, const std::string& message)
    : std::runtime_error(shorten(context) + ": " + message), code_(code), context_(std::move(context)),
      message_(message) {}

Error::Error(int code, std::string context, const std::string& message, util::ErrorCode kind)
    : Error(code, std::move(context), message) {
  kind_ = kind;
}

util::ErrorCode Error::kind() const noexcept {
  using util::ErrorCode;
  if (kind_) return *kind_;
  switch (code_ & 0xff) {
    case SQLITE_BUSY: return ErrorCode::busy;
    case SQLITE_LOCKED: return ErrorCode::locked;
    case SQLITE_CORRUPT: return ErrorCode::corrupt;
    case SQLITE_NOTADB: return ErrorCode::not_a_database;
    case SQLITE_READONLY: return ErrorCode::read_only;
    case SQLITE_FULL: return ErrorCode::full;
    case SQLITE_CANTOPEN: return ErrorCode::cannot_open;
    case SQLITE_PERM:
    case SQLITE_AUTH: return ErrorCode::permission;
    case SQLITE_CONSTRAINT: return ErrorCode::constraint;
    case SQLITE_IOERR: return ErrorCode::io;
    case SQLITE_NOMEM: return ErrorCode::internal;
    default: return ErrorCode::database;
  }
}

util::Error to_error(const Error& error) {
  // The context as what() shows it (long SQL cut short), so describe() reads like what().
  const std::string what = error.what();
  const std::string suffix = ": " + error.message();
  std::string context = what.ends_with(suffix) ? what.substr(0, what.size() - suffix.size()) : error.context();
  return util::make_error(error.kind(), std::move(context), error.message(), error.code());
}

// ---- Statement ----

Statement::Statement(sqlite3* connection, sqlite3_stmt* statement, std::string sql) noexcept
    : connection_(connection), statement_(statement), sql_(std::move(sql)) {}

Statement::Statement(Statement&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), statement_(std::exchange(other.statement_, nullptr)),
      sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    connection_ = std::exchange(other.connection_, nullptr);
    statement_ = std::exchange(other.statement_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(statement_); }  // a no-op on nullptr (moved-from)

void Statement::check_bind(int result, int index) const {
  if (result != SQLITE_OK)
    throw Error(code_of(connection_, result), sql_,
                "cannot bind parameter " + std::to_string(index) + ": " + message_of(connection_));
}

Statement& Statement::bind_int64(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(statement_, index, value), index);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  check_bind(sqlite3_bind_double(statement_, index, value), index);
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  const char* data = value.empty() ? kEmpty : value.data();
  check_bind(sqlite3_bind_text64(statement_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  const char* data = bytes.empty() ? kEmpty : bytes.data();
  check_bind(sqlite3_bind_blob64(statement_, index, data, bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(statement_, index), index);
  return *this;
}

bool Statement::step() {
  const int result = sqlite3_step(statement_);
  if (result == SQLITE_ROW) return true;
  if (result == SQLITE_DONE) return false;
  throw Error(code_of(connection_, result), sql_, message_of(connection_));
}

void Statement::run() {
  if (step()) throw Error(SQLITE_MISUSE, sql_, "expected no result rows, got one");
}

void Statement::reset() noexcept { sqlite3_reset(statement_); }

void Statement::clear_bindings() noexcept { sqlite3_clear_bindings(statement_); }

int Statement::column_count() const noexcept { return sqlite3_column_count(statement_); }

bool Statement::column_is_null(int column) const noexcept {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const noexcept { return sqlite3_column_int64(statement_, column); }

double Statement::column_double(int column) const noexcept { return sqlite3_column_double(statement_, column); }

// sqlite3_column_bytes must come after sqlite3_column_text/_blob: the pointer call may convert the
// value, and the byte count describes the converted form.
std::string Statement::column_text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  const int size = sqlite3_column_bytes(statement_, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string Statement::column_blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(statement_, column));
  const int size = sqlite3_column_bytes(statement_, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// ---- Database ----

Database::Database(const std::string& filename, int flags) : filename_(filename) {
  const int result = sqlite3_open_v2(filename.c_str(), &connection_, flags, nullptr);
  if (result != SQLITE_OK) {
    // sqlite3_open_v2 usually hands back a connection even on failure, to carry the message.
    const int code = code_of(connection_, result);
    const std::string message = message_of(connection_);
    sqlite3_close_v2(connection_);
    connection_ = nullptr;
    throw Error(code, "open " + filename, message);
  }
  // Report SQLITE_BUSY_SNAPSHOT, SQLITE_CONSTRAINT_UNIQUE, ... rather than their primary codes.
  sqlite3_extended_result_codes(connection_, 1);
}

Database::Database(Database&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), filename_(std::move(other.filename_)),
      cached_(std::move(other.cached_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    cached_.clear();
    sqlite3_close_v2(connection_);
    connection_ = std::exchange(other.connection_, nullptr);
    filename_ = std::move(other.filename_);
    cached_ = std::move(other.cached_);
  }
  return *this;
}

// close_v2, not close: a Statement still alive keeps the connection as a zombie until finalised,
// instead of the close failing with SQLITE_BUSY and leaking.
Database::~Database() {
  cached_.clear();  // finalised first, so the close is not deferred
  sqlite3_close_v2(connection_);
}

Statement& Database::cached(std::string_view sql) {
  auto found = cached_.find(sql);
  if (found == cached_.end()) found = cached_.emplace(std::string(sql), prepare(sql)).first;
  found->second.reset();
  found->second.clear_bindings();
  return found->second;
}

void Database::exec(std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec needs NUL termination
  const int result = sqlite3_exec(connection_, text.c_str(), nullptr, nullptr, nullptr);
  if (result != SQLITE_OK) throw Error(code_of(connection_, result), text, message_of(connection_));
}

Statement Database::prepare(std::string_view sql) const {
  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  const int result = sqlite3_prepare_v2(connection_, sql.data(), static_cast<int>(sql.size()), &statement, &tail);
  if (result != SQLITE_OK) throw Error(code_of(connection_, result), std::string(sql), message_of(connection_));
  Statement owned(connection_, statement, std::string(sql));  // finalises on the throws below
  if (statement == nullptr) throw Error(SQLITE_MISUSE, std::string(sql), "no SQL statement to prepare");
  if (!is_blank_tail(tail, sql.data() + sql.size()))
    throw Error(SQLITE_MISUSE, std::string(sql), "prepare() takes one statement; text follows the first");
  return owned;
}

void Database::set_busy_timeout(int milliseconds) {
  const int result = sqlite3_busy_timeout(connection_, milliseconds);
  if (result != SQLITE_OK) throw Error(code_of(connection_, result), "busy_timeout", message_of(connection_));
}

std::int64_t Database::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(connection_); }

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(connection_); }

bool Database::autocommit() const noexcept { return sqlite3_get_autocommit(connection_) != 0; }

// ---- Transaction ----

Transaction::Transaction(Database& database) : database_(database) { database_.cached("BEGIN IMMEDIATE").run(); }

Transaction::~Transaction() {
  if (committed_) return;
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back by itself; then there is
  // nothing left to roll back, and ROLLBACK would only fail.
  if (database_.autocommit()) return;
  // A failed ROLLBACK leaves nothing useful to do from a destructor; SQLite rolls back a still-open
  // transaction when the connection closes.
  sqlite3_exec(database_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  database_.cached("COMMIT").run();
  committed_ = true;
}

ReadTransaction::ReadTransaction(Database& database) : database_(database) { database_.exec("BEGIN"); }

ReadTransaction::~ReadTransaction() {
  if (ended_ || database_.autocommit()) return;
  sqlite3_exec(database_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void ReadTransaction::end() {
  database_.exec("COMMIT");
  ended_ = true;
}

}  // namespace db
