// db/pg.cpp — the libpq wrappers (see pg.hpp).
#include "db/pg.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <utility>

namespace db::pg {
namespace {

// What a SQLSTATE means to a caller outside db/ (PostgreSQL manual, appendix A: error codes).
util::ErrorCode classify(std::string_view state) {
  using util::ErrorCode;
  if (state.starts_with("23")) return ErrorCode::constraint;
  if (state == "40001" || state == "40P01" || state == "55P03") return ErrorCode::busy;  // retry the transaction
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03")
    return ErrorCode::unavailable;  // connection exceptions, a shutdown or restart under way
  if (state == "28P01" || state == "28000" || state == "42501") return ErrorCode::permission;
  if (state == "3D000") return ErrorCode::not_found;
  if (state == "25006") return ErrorCode::read_only;
  if (state == "53100") return ErrorCode::full;
  if (state == "XX001" || state == "XX002") return ErrorCode::corrupt;
  return ErrorCode::database;
}

// libpq's message without its trailing newline.
std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Throws for a result that is not a success: its SQLSTATE decides the class. A missing result or
// one without SQLSTATE means the connection itself failed (the server went away).
void check(pg_conn* connection, const PGresult* result, std::string_view context) {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(connection));
  if (message.empty()) message = trimmed(PQerrorMessage(connection));
  if (message.starts_with("ERROR:  ")) message.erase(0, 8);
  const bool lost = PQstatus(connection) != CONNECTION_OK;
  const util::ErrorCode kind = state && !lost ? classify(state) : util::ErrorCode::unavailable;
  if (state) message += " (SQLSTATE " + std::string(state) + ")";
  throw Error(0, std::string(context), message, kind);
}

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

}  // namespace

bool is_postgres_location(std::string_view location) {
  if (location.starts_with("postgresql://") || location.starts_with("postgres://")) return true;
  // key=value: a word of letters and underscores, then '='.
  std::size_t i = 0;
  while (i < location.size() && (location[i] == ' ' || location[i] == '\t')) ++i;
  const std::size_t start = i;
  while (i < location.size() && ((location[i] >= 'a' && location[i] <= 'z') || location[i] == '_')) ++i;
  while (i < location.size() && location[i] == ' ') ++i;
  return i > start && i < location.size() && location[i] == '=';
}

std::string display_location(const std::string& location) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> options(PQconninfoParse(location.c_str(), &error));
  if (error) PQfreemem(error);  // its text may quote the string, password included
  if (!options) return "postgresql://(unparsable connection string)";
  std::string user, host, port, dbname, service;
  for (const PQconninfoOption* option = options.get(); option->keyword; ++option) {
    if (!option->val) continue;
    const std::string_view keyword = option->keyword;
    if (keyword == "user") user = option->val;
    if (keyword == "host" || (keyword == "hostaddr" && host.empty())) host = option->val;
    if (keyword == "port") port = option->val;
    if (keyword == "dbname") dbname = option->val;
    if (keyword == "service") service = option->val;
  }
  std::string shown = "postgresql://";
  if (!user.empty()) shown += user + "@";
  shown += host;
  if (!port.empty()) shown += ":" + port;
  shown += "/" + dbname;
  if (!service.empty()) shown += "?service=" + service;
  return shown;
}

// ---- Params ----

Params& Params::int64(std::int64_t value) {
  values_.push_back(std::to_string(value));
  formats_.push_back(0);
  nulls_.push_back(false);
  return *this;
}

Params& Params::text(std::string_view value) {
  values_.emplace_back(value);
  formats_.push_back(0);
  nulls_.push_back(false);
  return *this;
}

Params& Params::bytes(std::string_view value) {
  values_.emplace_back(value);
  formats_.push_back(1);
  nulls_.push_back(false);
  return *this;
}

Params& Params::null() {
  values_.emplace_back();
  formats_.push_back(0);
  nulls_.push_back(true);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  for (std::size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].data());
  return out;
}

std::vector<int> Params::lengths() const {
  std::vector<int> out;
  for (const auto& value : values_) out.push_back(static_cast<int>(value.size()));
  return out;
}

std::vector<int> Params::formats() const { return formats_; }

// ---- Rows ----

Rows::Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Rows::~Rows() {
  if (result_) PQclear(result_);
}

int Rows::size() const noexcept { return result_ ? PQntuples(result_) : 0; }

bool Rows::is_null(int row, int column) const noexcept { return PQgetisnull(result_, row, column) != 0; }

std::int64_t Rows::int64(int row, int column) const {
  if (is_null(row, column)) return 0;
  return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10);
}

std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::string Rows::bytes(int row, int column) const {
  // Text-format BYTEA is "\x" and two hex digits per byte (bytea_output = hex, set per connection).
  const std::string hex = text(row, column);
  if (!hex.starts_with("\\x"))
    throw Error(0, "read a BYTEA column", "not in hex format: " + hex.substr(0, 16), util::ErrorCode::database);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

bool Rows::boolean(int row, int column) const { return text(row, column) == "t"; }

std::int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_);
  return count && *count ? std::strtoll(count, nullptr, 10) : 0;
}

// ---- Connection ----

Connection::Connection(const std::string& location) : display_(display_location(location)) {
  const std::string context = "open " + display_;
  {
    // A string libpq cannot parse: its message quotes the string, password and all, so it is cut.
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, OptionsDeleter> options(PQconninfoParse(location.c_str(), &error));
    if (!options) {
      std::string why = trimmed(error);
      if (error) PQfreemem(error);
      for (auto at = why.find(location); at != std::string::npos; at = why.find(location))
        why.replace(at, location.size(), "...");
      if (const auto quoted = why.find(": \""); quoted != std::string::npos) why.erase(quoted);
      throw Error(0, context, "not a PostgreSQL URI or key=value string: " + why, util::ErrorCode::invalid_argument);
    }
  }
  // Defaults a dead network cannot turn into a hang: a connect gives up after 10 s, and a
  // connection whose peer vanished is noticed within about a minute (TCP keepalives). The string's
  // own settings come later in the list, so they win.
  const char* const keywords[] = {"connect_timeout",  "keepalives_idle", "keepalives_interval",
                                  "keepalives_count", "dbname",          nullptr};
  const char* const values[] = {"10", "30", "10", "3", location.c_str(), nullptr};
  connection_ = PQconnectdbParams(keywords, values, 1);
  if (!connection_) throw Error(0, context, "out of memory", util::ErrorCode::internal);
  if (PQstatus(connection_) != CONNECTION_OK) {
    const std::string message = trimmed(PQerrorMessage(connection_));
    PQfinish(std::exchange(connection_, nullptr));
    // libpq gives no SQLSTATE before the session exists; its messages are stable across versions.
    util::ErrorCode kind = util::ErrorCode::unavailable;
    if (message.find("password authentication failed") != std::string::npos ||
        message.find("no password supplied") != std::string::npos ||
        message.find("authentication failed") != std::string::npos)
      kind = util::ErrorCode::permission;
    else if (message.find("database \"") != std::string::npos && message.find("does not exist") != std::string::npos)
      kind = util::ErrorCode::not_found;
    else if (message.find("invalid") != std::string::npos && message.find("connection") == std::string::npos)
      kind = util::ErrorCode::invalid_argument;
    throw Error(0, context, message, kind);
  }
  // Identical text from every server whatever its settings: UTC, hex BYTEA, no notices on stderr.
  PQsetNoticeProcessor(
      connection_, [](void*, const char*) {}, nullptr);
  script("SET TIME ZONE 'UTC'; SET bytea_output = 'hex'; SET client_min_messages = warning");
}

Connection::Connection(Connection&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), display_(std::move(other.display_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (connection_) PQfinish(connection_);
    connection_ = std::exchange(other.connection_, nullptr);
    display_ = std::move(other.display_);
  }
  return *this;
}

Connection::~Connection() {
  if (connection_) PQfinish(connection_);
}

Rows Connection::exec(std::string_view sql, const Params& params) const {
  const std::string text(sql);
  const auto values = params.pointers();
  const auto lengths = params.lengths();
  const auto formats = params.formats();
  PGresult* result =
      PQexecParams(connection_, text.c_str(), params.size(), nullptr, values.data(), lengths.data(), formats.data(), 0);
  Rows rows(result);
  check(connection_, result, text);
  return rows;
}

void Connection::script(std::string_view sql) const {
  const std::string text(sql);
  PGresult* result = PQexec(connection_, text.c_str());
  Rows rows(result);
  check(connection_, result, text);
}

bool Connection::healthy() const noexcept { return connection_ && PQstatus(connection_) == CONNECTION_OK; }

// ---- Transaction ----

Transaction::Transaction(const Connection& connection, Kind kind) : connection_(connection) {
  connection_.script(kind == Kind::snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    connection_.script("ROLLBACK");
  } catch (const Error&) {
    // The connection is gone; the server rolled back already.
  }
}

void Transaction::commit() {
  connection_.script("COMMIT");
  done_ = true;
}

}  // namespace db::pg
