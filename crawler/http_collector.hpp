// crawler/http_collector.hpp — pool traffic carried over HTTP instead of a WebSocket: request bodies
// (fetch, XHR, sendBeacon) from every target, response bodies of small requests made by workers,
// and server-sent events. Each is offered to the detector's pool reading (named protocols and pool
// shape, blacklist/pool_shape.hpp); an origin where something was found becomes an
// HttpChannelRecord, which the detector judges like a socket.
//
// What is read, and why only that (every size bounded by VisitLimits):
// - Request bodies come inline in Network.requestWillBeSent up to NetworkEnable::kMaxPostDataBytes:
//   no extra call, on every target.
// - Response bodies cost a Network.getResponseBody call and Chrome's buffering, so only workers
//   buffer them (NetworkEnable) and only a worker's XHR/fetch responses of at most
//   limits.max_http_body_bytes are read, limits.max_http_bodies per visit: a miner's pool client runs
//   in a worker, and a page's own API traffic is not read at all.
// - Server-sent events carry their data in the event itself.
// Bodies are read one at a time by one reader per visit; a body that Chrome no longer holds is
// counted (`http_body_unavailable`) and skipped.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "blacklist/detector.hpp"
#include "cdp/connection.hpp"
#include "cdp/events.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

// The channel of an HTTP URL: its origin (scheme, host and port), cut to a bounded length. A pool's
// jobs and shares usually travel on different paths (GET /job, POST /submit) of one origin.
std::string http_endpoint(std::string_view url);

class HttpCollector {
 public:
  HttpCollector(VisitContext& visit, cdp::Connection& connection, const blacklist::Detector& detector);

  // Network.requestWillBeSent, Network.responseReceived, Network.loadingFinished and
  // Network.eventSourceMessageReceived.
  void register_events(cdp::EventRegistry& events);
  // The connection is gone: the reader stops before its next body.
  void stop() { stopped_ = true; }

  // One message of an endpoint (exposed for unit tests): examined, and recorded when it or an
  // earlier message of the endpoint showed pool traffic.
  void examine(const cdp::TargetInfo& target, std::string_view url, std::string_view body, bool sent);

 private:
  struct BodyRead {
    std::string session_id;
    std::string request_id;
    std::string url;
    cdp::TargetInfo target;
  };
  void on_request(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_response(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_finished(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_event_source(const cdp::TargetInfo& target, const cdp::Json& params);
  boost::asio::awaitable<void> read_bodies();
  boost::asio::awaitable<void> read_one(BodyRead read);

  VisitContext& visit_;
  cdp::Connection& connection_;
  const blacklist::Detector& detector_;
  std::map<std::string, BodyRead> candidates_;        // session id + request id → a worker's response to read
  std::map<std::string, std::string> event_streams_;  // session id + request id → EventSource URL
  std::deque<BodyRead> queue_;
  std::map<std::string, std::size_t> channels_;  // endpoint → http_channels index
  std::uint64_t bodies_read_ = 0;
  std::uint64_t body_bytes_read_ = 0;
  bool reader_running_ = false;
  bool stopped_ = false;
};

}  // namespace crawler
