// crawler/network_collector.hpp — the network side of one visit: WebSockets, their frames, the
// addresses that answered, and the main document's own response.
//
// A WebSocket is recorded with the target that opened it (a worker's socket is visible only on the
// worker's session, CDP-NOTES); every frame is offered to the detector's pool-protocol reading, stored
// or not (binary frames decoded), and the first limits.max_frames_per_socket are stored with a prefix of their payload.
// Remote IPs (from responses, when no egress proxy stands between) are kept distinct and bounded. The main document's
// HTTP status and type come from its Network.responseReceived, which arrives before Page.navigate replies: an error
// page (>= 400) is still analysed, but the status says so.
#pragma once

#include <map>
#include <set>
#include <string>

#include "blacklist/detector.hpp"
#include "cdp/connection.hpp"
#include "cdp/events.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

class NetworkCollector {
 public:
  NetworkCollector(VisitContext& visit, const blacklist::Detector& detector);

  // Network.webSocket* and Network.responseReceived.
  void register_events(cdp::EventRegistry& events);
  // The page whose main document's response sets the visit's HTTP status (its main frame id is its
  // target id).
  void watch_document(std::string page_session_id, std::string page_target_id);
  // Behind the egress proxy a response's remoteIPAddress is the proxy's own address: the proxy's
  // journal gives the addresses instead (crawler/egress_collector), and responses are not read for them.
  void ignore_response_ips() { ips_from_responses_ = false; }
  // The main document's MIME type, cut short (a page's own text, shown in a status reason).
  const std::string& main_mime_type() const { return main_mime_type_; }

 private:
  blacklist::WebSocketRecord* socket_for(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_created(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_frame(const cdp::TargetInfo& target, const cdp::Json& params, bool sent);
  void on_response(const cdp::TargetInfo& target, const cdp::Json& params);

  VisitContext& visit_;
  const blacklist::Detector& detector_;
  std::string page_session_id_;
  std::string page_target_id_;
  std::string main_mime_type_;
  std::map<std::string, std::size_t> sockets_;  // session id + request id → websockets index
  std::set<std::string> remote_ips_;
  bool ips_from_responses_ = true;
};

}  // namespace crawler
