// blacklist/pool_protocol.cpp — shape checks for the coinhive, webminerpool and stratum pool
// protocols, one frame at a time, and the per-socket tally.
#include "blacklist/pool_protocol.hpp"

#include <nlohmann/json.hpp>

namespace blacklist {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kTargetHexChars32 = 8;
constexpr std::size_t kTargetHexChars64 = 16;
constexpr std::size_t kNonceHexChars = 8;
constexpr std::size_t kResultHexChars = 64;

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_hex(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool lower = c >= 'a' && c <= 'f';
    const bool upper = c >= 'A' && c <= 'F';
    if (!digit && !lower && !upper) return false;
  }
  return true;
}

// Whether the text's brackets nest at most `limit` deep, outside strings. Cheap, and keeps deeply
// nested input away from the parser and from the recursive parts of nlohmann::json.
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// The member `key` of an object, or nullptr if absent (callers pass objects only).
const Json* member(const Json& object, const char* key) {
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

// The member as a string, or an empty view if absent or not a string.
std::string_view string_member(const Json& object, const char* key) {
  const Json* value = member(object, key);
  if (value == nullptr || !value->is_string()) return {};
  return value->get_ref<const std::string&>();
}

const Json* object_member(const Json& object, const char* key) {
  const Json* value = member(object, key);
  return value != nullptr && value->is_object() ? value : nullptr;
}

// A count as pools send it: an integer, not negative (nlohmann keeps larger values as floats).
bool is_count(const Json* value) {
  if (value == nullptr) return false;
  if (value->is_number_unsigned()) return true;
  return value->is_number_integer() && value->get<std::int64_t>() >= 0;
}

bool is_job_id(const Json* value) {
  if (value == nullptr) return false;
  if (value->is_string()) {
    const std::size_t length = value->get_ref<const std::string&>().size();
    return length > 0 && length <= kMaxJobIdChars;
  }
  return is_count(value);
}

bool is_hex_of_length(std::string_view text, std::size_t length) { return text.size() == length && is_hex(text); }

// blob + target + job_id, as every protocol here carries a job.
bool is_job(const Json& object) {
  const std::string_view blob = string_member(object, "blob");
  const std::string_view target = string_member(object, "target");
  const bool blob_ok =
      blob.size() >= kMinBlobHexChars && blob.size() <= kMaxBlobHexChars && blob.size() % 2 == 0 && is_hex(blob);
  const bool target_ok = is_hex_of_length(target, kTargetHexChars32) || is_hex_of_length(target, kTargetHexChars64);
  return blob_ok && target_ok && is_job_id(member(object, "job_id"));
}

// nonce + result + job_id, as every protocol here carries a share.
bool is_share(const Json& object) {
  return is_hex_of_length(string_member(object, "nonce"), kNonceHexChars) &&
         is_hex_of_length(string_member(object, "result"), kResultHexChars) && is_job_id(member(object, "job_id"));
}

PoolMessageKind coinhive_kind(const Json& message, bool sent) {
  const std::string_view type = string_member(message, "type");
  const Json* params = object_member(message, "params");
  if (type.empty() || params == nullptr) return PoolMessageKind::none;
  if (sent) {
    if (type == "auth" && !string_member(*params, "site_key").empty()) return PoolMessageKind::login;
    if (type == "submit" && is_share(*params)) return PoolMessageKind::submit;
    return PoolMessageKind::none;
  }
  if (type == "job" && is_job(*params)) return PoolMessageKind::job;
  if (type == "authed" && is_count(member(*params, "hashes"))) return PoolMessageKind::login;
  if (type == "hash_accepted" && is_count(member(*params, "hashes"))) return PoolMessageKind::accepted;
  return PoolMessageKind::none;
}

PoolMessageKind webminerpool_kind(const Json& message, bool sent) {
  const std::string_view identifier = string_member(message, "identifier");
  if (identifier.empty()) return PoolMessageKind::none;
  if (sent) {
    const bool has_login = !string_member(message, "login").empty() || !string_member(message, "loginid").empty();
    if (identifier == "handshake" && has_login) return PoolMessageKind::login;
    if (identifier == "solved" && is_share(message)) return PoolMessageKind::submit;
    return PoolMessageKind::none;
  }
  if (identifier == "job" && is_job(message)) return PoolMessageKind::job;
  if (identifier == "hashsolved") return PoolMessageKind::accepted;
  return PoolMessageKind::none;
}

// JSON-RPC ids are numbers or strings.
bool has_rpc_id(const Json& message) {
  const Json* id = member(message, "id");
  return id != nullptr && (id->is_number() || id->is_string());
}

PoolMessageKind stratum_kind(const Json& message, bool sent) {
  const std::string_view method = string_member(message, "method");
  const Json* params = object_member(message, "params");
  if (sent) {
    if (method.empty() || !has_rpc_id(message)) return PoolMessageKind::none;
    if (method == "login" && params != nullptr && !string_member(*params, "login").empty())
      return PoolMessageKind::login;
    if (method == "submit" && params != nullptr && is_share(*params)) return PoolMessageKind::submit;
    if (method == "keepalived") return PoolMessageKind::keepalive;
    return PoolMessageKind::none;
  }
  // A job notification has no id.
  if (method == "job") return params != nullptr && is_job(*params) ? PoolMessageKind::job : PoolMessageKind::none;
  if (!method.empty() || !has_rpc_id(message)) return PoolMessageKind::none;
  // A reply: a result object and no error.
  const Json* error = member(message, "error");
  const Json* result = object_member(message, "result");
  if (result == nullptr || (error != nullptr && !error->is_null())) return PoolMessageKind::none;
  if (const Json* job = object_member(*result, "job"); job != nullptr && is_job(*job)) return PoolMessageKind::job;
  const std::string_view status = string_member(*result, "status");
  if (status == "OK") return PoolMessageKind::accepted;
  if (status == "KEEPALIVED") return PoolMessageKind::keepalive;
  return PoolMessageKind::none;
}

// Protocols whose messages name a protocol by themselves: jobs, shares, logins. Acknowledgements
// and keepalives are too generic ({"id":1,"result":{"status":"OK"}}) to name one.
bool identifies_protocol(PoolMessageKind kind) {
  return kind == PoolMessageKind::login || kind == PoolMessageKind::job || kind == PoolMessageKind::submit;
}

}  // namespace

std::string to_string(PoolProtocol protocol) {
  switch (protocol) {
    case PoolProtocol::none: return "none";
    case PoolProtocol::coinhive: return "coinhive";
    case PoolProtocol::webminerpool: return "webminerpool";
    case PoolProtocol::stratum: return "stratum";
  }
  return "none";
}

std::string to_string(PoolMessageKind kind) {
  switch (kind) {
    case PoolMessageKind::none: return "none";
    case PoolMessageKind::login: return "login";
    case PoolMessageKind::job: return "job";
    case PoolMessageKind::submit: return "submit";
    case PoolMessageKind::accepted: return "accepted";
    case PoolMessageKind::keepalive: return "keepalive";
  }
  return "none";
}

PoolMessage classify_pool_frame(std::string_view payload, bool sent) {
  PoolMessage out;
  if (payload.size() > kMaxPoolFrameBytes) {
    out.oversize = true;
    return out;
  }
  // Only a JSON object can be a pool message; skip the parse for anything else.
  std::size_t first = 0;
  while (first < payload.size() && is_json_whitespace(payload[first])) ++first;
  if (first == payload.size() || payload[first] != '{') return out;
  if (!nesting_within(payload, kMaxPoolFrameDepth)) return out;

  // Without exceptions: malformed JSON or invalid UTF-8 comes back discarded.
  const Json message = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) return out;

  struct Candidate {
    PoolProtocol protocol;
    PoolMessageKind (*kind)(const Json&, bool);
  };
  static constexpr Candidate kCandidates[] = {
      {PoolProtocol::coinhive, coinhive_kind},
      {PoolProtocol::webminerpool, webminerpool_kind},
      {PoolProtocol::stratum, stratum_kind},
  };
  for (const Candidate& candidate : kCandidates) {
    const PoolMessageKind kind = candidate.kind(message, sent);
    if (kind != PoolMessageKind::none) {
      out.protocol = candidate.protocol;
      out.kind = kind;
      return out;
    }
  }
  return out;
}

void PoolSocketStats::add(const PoolMessage& message) {
  ++frames;
  if (message.oversize) ++skipped_frames;
  if (identifies_protocol(message.kind)) {
    if (protocol == PoolProtocol::none) {
      protocol = message.protocol;
    } else if (protocol != message.protocol) {
      mixed_protocols = true;
    }
  }
  switch (message.kind) {
    case PoolMessageKind::none: break;
    case PoolMessageKind::login: ++logins; break;
    case PoolMessageKind::job: ++jobs; break;
    case PoolMessageKind::submit: ++submits; break;
    case PoolMessageKind::accepted: ++accepted; break;
    case PoolMessageKind::keepalive: ++keepalives; break;
  }
}

bool PoolSocketStats::confirmed() const { return jobs > 0 || submits > 0; }

PoolSocketStats tally_pool_frames(const WebSocketRecord& socket) {
  PoolSocketStats stats;
  for (const FrameRecord& frame : socket.frames) {
    const bool truncated = frame.payload.size() < frame.length;
    if (frame.opcode != 1 || truncated) {
      ++stats.frames;
      ++stats.skipped_frames;
      continue;
    }
    stats.add(classify_pool_frame(frame.payload, frame.sent));
  }
  return stats;
}

}  // namespace blacklist
