// cdp/error.hpp — how a CDP call fails, as a value.
//
// Expected failures (an error reply, a deadline, a closed socket) come back as `Result<T>` holding an
// `Error`; exceptions are reserved for bugs. `Result::value()` on an error throws `CallFailed`, for
// callers that decide an error there is a bug.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace cdp {

enum class ErrorKind {
  protocol,           // Chrome answered with {"error": {code, message}}
  timeout,            // no reply within the call's deadline
  connection_closed,  // the socket closed or Chrome died; every pending call gets this at once
  target_detached,    // the call's target went away (a worker ended, a page closed) before answering
  bad_message,        // a reply that does not parse or lacks the fields the command needs
};

struct Error {
  ErrorKind kind = ErrorKind::protocol;
  std::string method;  // the command that failed
  int code = 0;        // CDP error code for `protocol`
  std::string message;

  std::string describe() const;
};

const char* to_string(ErrorKind kind);

class CallFailed : public std::runtime_error {
 public:
  explicit CallFailed(Error error) : std::runtime_error(error.describe()), error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// The outcome of a call: a value or an `Error`. Cheap to move; check `ok()` before `value()`.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    if (!ok()) throw CallFailed(error());
    return std::get<0>(state_);
  }
  T&& value() && {
    if (!ok()) throw CallFailed(error());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace cdp
