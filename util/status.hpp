// util/status.hpp — how anything in cjcrawl fails, as a value: one error type with codes, shared by
// every module.
//
// Expected failures (Chrome answered with an error, a deadline passed, the database was busy, a file
// could not be read) come back as `Result<T>` holding an `Error`; exceptions are for bugs. Each module
// classifies its own failures into an `ErrorCode` at its edge (cdp/ for Chrome and the DevTools
// protocol, db/ for SQLite), so no caller ever sees a library's raw codes: they stay in `native_code`
// for logs and tests. `Result::value()` on an error throws `Failure`, for callers that decide an
// error there is a bug. Modelled on absl::StatusOr and RE2's ok()/error().
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace util {

enum class ErrorCode {
  // General.
  invalid_argument,  // the caller's or the user's input cannot be used
  not_found,         // a file, row or object that does not exist
  io,                // the operating system could not read or write (native_code: errno)
  permission,        // not allowed (EACCES, EPERM)
  internal,          // a bug, or a resource the machine lacks (out of memory)
  // Chrome and the DevTools protocol (cdp/).
  browser_start,      // Chrome was not found, or did not start and offer DevTools
  protocol,           // Chrome answered with {"error": {code, message}} (native_code: the CDP code)
  timeout,            // no answer within the deadline
  connection_closed,  // the DevTools connection ended; every call in flight gets this at once
  target_gone,        // the call's target went away (a worker ended, a page closed) before answering
  bad_message,        // a message that does not parse or lacks the fields a command needs
  // The database (db/; native_code: the backend's own code, e.g. SQLite's extended result code).
  busy,            // another writer holds the lock: worth waiting for and trying again
  locked,          // a conflict inside this process's own connections
  corrupt,         // the file is damaged
  not_a_database,  // the file is not a database at all
  read_only,       // the database (or its file system) cannot be written
  full,            // the disk or the database is full
  cannot_open,     // the file cannot be opened or created (missing folder, permissions)
  schema_too_new,  // written by a newer cjcrawl: refused rather than misread
  constraint,      // a uniqueness or integrity rule refused the change
  unavailable,     // the database server cannot be reached now (down, restarting, connection lost): retry later
  superseded,      // a shared crawl's lease lapsed and another attempt owns the site now: the work is dropped
  database,        // any other database failure
};

// The code's name as shown to users and in logs: "timeout", "busy", ...
std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string context;   // what was being done: a CDP method, a file, an SQL statement
  std::string message;   // the reason in words
  long native_code = 0;  // the underlying library's code (CDP error code, SQLite result code, errno)

  // "<context>: <message>"; for protocol errors "<context>: CDP error <native_code>: <message>".
  std::string describe() const;
  // Codes a caller may retry after waiting a little (another process's lock).
  bool transient() const { return code == ErrorCode::busy || code == ErrorCode::locked; }
};

Error make_error(ErrorCode code, std::string context, std::string message, long native_code = 0);

// Thrown by Result::value() on an error: the caller treated the failure as impossible.
class Failure : public std::runtime_error {
 public:
  explicit Failure(Error error) : std::runtime_error(error.describe()), error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// A value or an Error. Cheap to move; check ok() before value().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(implicit)
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    if (!ok()) throw Failure(error());
    return std::get<0>(state_);
  }
  const T& value() const& {
    if (!ok()) throw Failure(error());
    return std::get<0>(state_);
  }
  T&& value() && {
    if (!ok()) throw Failure(error());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success without a value, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(implicit)

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  void value() const {
    if (failed_) throw Failure(error_);
  }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace util
