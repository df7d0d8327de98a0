// util/status.cpp — see status.hpp.
#include "util/status.hpp"

#include <fmt/format.h>

namespace util {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::io: return "I/O error";
    case ErrorCode::permission: return "permission denied";
    case ErrorCode::internal: return "internal error";
    case ErrorCode::browser_start: return "browser did not start";
    case ErrorCode::protocol: return "protocol error";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::connection_closed: return "connection closed";
    case ErrorCode::target_gone: return "target detached";
    case ErrorCode::bad_message: return "bad message";
    case ErrorCode::busy: return "busy";
    case ErrorCode::locked: return "locked";
    case ErrorCode::corrupt: return "corrupt";
    case ErrorCode::not_a_database: return "not a database";
    case ErrorCode::read_only: return "read-only";
    case ErrorCode::full: return "full";
    case ErrorCode::cannot_open: return "cannot open";
    case ErrorCode::schema_too_new: return "schema too new";
    case ErrorCode::constraint: return "constraint failed";
    case ErrorCode::unavailable: return "database unreachable";
    case ErrorCode::superseded: return "superseded";
    case ErrorCode::database: return "database error";
  }
  return "error";
}

std::string Error::describe() const {
  if (code == ErrorCode::protocol) return fmt::format("{}: CDP error {}: {}", context, native_code, message);
  if (context.empty()) return message;
  // A DevTools call's failure names its kind ("Page.navigate: timeout: no reply within 30000 ms"):
  // the message alone reads the same for several of them.
  switch (code) {
    case ErrorCode::timeout:
    case ErrorCode::connection_closed:
    case ErrorCode::target_gone:
    case ErrorCode::bad_message: return fmt::format("{}: {}: {}", context, to_string(code), message);
    default: return fmt::format("{}: {}", context, message);
  }
}

Error make_error(ErrorCode code, std::string context, std::string message, long native_code) {
  return Error{code, std::move(context), std::move(message), native_code};
}

}  // namespace util
