// crawler/network_collector.cpp — see network_collector.hpp.
#include "crawler/network_collector.hpp"

#include <fmt/format.h>

#include "blacklist/pool_shape.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace crawler {
namespace {
constexpr std::size_t kMaxMimeTypeBytes = 100;
// A binary frame's first bytes examined for pool traffic (base64 characters: 4 per 3 bytes).
constexpr std::size_t kMaxExaminedBase64Chars = blacklist::kMaxShapeBytes / 3 * 4;

std::string socket_key(const cdp::TargetInfo& target, const cdp::Json& params) {
  return target.session_id + "/" + params.value("requestId", std::string());
}
}  // namespace

NetworkCollector::NetworkCollector(VisitContext& visit, const blacklist::Detector& detector)
    : visit_(visit), detector_(detector) {}

void NetworkCollector::register_events(cdp::EventRegistry& events) {
  using cdp::Json;
  using cdp::TargetInfo;
  events.on("Network.webSocketCreated",
            [this](const TargetInfo& target, const Json& params) { on_created(target, params); });
  events.on("Network.webSocketFrameReceived",
            [this](const TargetInfo& target, const Json& params) { on_frame(target, params, false); });
  events.on("Network.webSocketFrameSent",
            [this](const TargetInfo& target, const Json& params) { on_frame(target, params, true); });
  events.on("Network.webSocketHandshakeResponseReceived", [this](const TargetInfo& target, const Json& params) {
    if (auto* socket = socket_for(target, params))
      socket->handshake_status = params.value("response", Json::object()).value("status", 0);
  });
  events.on("Network.webSocketClosed", [this](const TargetInfo& target, const Json& params) {
    if (auto* socket = socket_for(target, params)) socket->closed = true;
  });
  events.on("Network.webSocketFrameError", [this](const TargetInfo& target, const Json& params) {
    if (auto* socket = socket_for(target, params)) socket->error = params.value("errorMessage", std::string());
  });
  events.on("Network.responseReceived",
            [this](const TargetInfo& target, const Json& params) { on_response(target, params); });
}

void NetworkCollector::watch_document(std::string page_session_id, std::string page_target_id) {
  page_session_id_ = std::move(page_session_id);
  page_target_id_ = std::move(page_target_id);
}

blacklist::WebSocketRecord* NetworkCollector::socket_for(const cdp::TargetInfo& target, const cdp::Json& params) {
  const auto it = sockets_.find(socket_key(target, params));
  return it == sockets_.end() ? nullptr : &visit_.evidence().websockets[it->second];
}

void NetworkCollector::on_created(const cdp::TargetInfo& target, const cdp::Json& params) {
  auto& sockets = visit_.evidence().websockets;
  if (sockets.size() >= visit_.limits().max_websockets) {
    visit_.count("websockets_not_stored");
    return;
  }
  const std::string key = socket_key(target, params);
  if (sockets_.contains(key)) return;
  sockets_[key] = sockets.size();
  blacklist::WebSocketRecord socket;
  socket.url = params.value("url", std::string());
  socket.target_type = target.type;
  socket.target_url = target.url;
  sockets.push_back(std::move(socket));
}

void NetworkCollector::on_frame(const cdp::TargetInfo& target, const cdp::Json& params, bool sent) {
  visit_.count(sent ? "frames_sent" : "frames_received");
  auto* socket = socket_for(target, params);
  if (!socket) return;
  const cdp::Json& response = params.value("response", cdp::Json::object());
  const int opcode = response.value("opcode", 1);
  const auto payload = response.find("payloadData");
  const std::string_view data = payload != response.end() && payload->is_string()
                                    ? std::string_view(payload->get_ref<const std::string&>())
                                    : std::string_view();
  const std::uint64_t length = opcode == 1 ? data.size() : util::base64_decoded_size(data);
  // Every frame is offered to the detector, stored or not; a binary frame as its bytes.
  if (opcode == 1) {
    detector_.examine_message(socket->pool, data, true, sent);
  } else if (opcode == 2) {
    const auto bytes = util::decode_base64(data.substr(0, kMaxExaminedBase64Chars));
    detector_.examine_message(socket->pool, bytes, false, sent);
  }
  (sent ? socket->frames_sent : socket->frames_received) += 1;
  (sent ? socket->bytes_sent : socket->bytes_received) += length;
  const auto& limits = visit_.limits();
  if (socket->frames.size() >= limits.max_frames_per_socket) {
    visit_.count("frames_not_stored");
    return;
  }
  blacklist::FrameRecord frame;
  frame.sent = sent;
  frame.t_seconds = util::seconds_between(visit_.navigation_started(), Clock::now());
  frame.opcode = opcode;
  frame.length = length;
  if (opcode == 1) frame.payload = std::string(data.substr(0, limits.max_frame_payload_bytes));
  socket->frames.push_back(std::move(frame));
}

void NetworkCollector::on_response(const cdp::TargetInfo& target, const cdp::Json& params) {
  const cdp::Json& response = params.value("response", cdp::Json::object());
  const std::string ip = ips_from_responses_ ? response.value("remoteIPAddress", std::string()) : std::string();
  if (!ip.empty() && !remote_ips_.contains(ip)) {
    if (remote_ips_.size() < visit_.limits().max_remote_ips) {
      remote_ips_.insert(ip);
      visit_.evidence().remote_ips.push_back(ip);
    } else {
      visit_.count("remote_ips_not_stored");
    }
  }
  // The main document's HTTP status: an error page is still analysed, but the status says so.
  if (!page_session_id_.empty() && target.session_id == page_session_id_ &&
      params.value("type", std::string()) == "Document" && params.value("frameId", std::string()) == page_target_id_) {
    const int code = response.value("status", 0);
    visit_.evidence().http_status = code;
    main_mime_type_ = response.value("mimeType", std::string()).substr(0, kMaxMimeTypeBytes);
    if (code >= 400) visit_.set_status(blacklist::Status::http_error, fmt::format("HTTP {}", code));
  }
}

}  // namespace crawler
