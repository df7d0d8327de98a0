// crawler/http_collector.cpp — see http_collector.hpp.
#include "crawler/http_collector.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>

#include "cdp/commands.hpp"
#include "cdp/session.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace crawler {
namespace {

constexpr std::size_t kMaxEndpointBytes = 512;
constexpr auto kBodyReadTimeout = std::chrono::seconds(5);

std::string request_key(const cdp::TargetInfo& target, const cdp::Json& params) {
  return target.session_id + "/" + params.value("requestId", std::string());
}

// A body is text when it has no NUL and almost no other control bytes; otherwise its bytes are
// examined as binary.
bool looks_like_text(std::string_view body) {
  std::size_t control = 0;
  for (char c : body) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return false;
    if (byte < 0x20 && byte != '\n' && byte != '\r' && byte != '\t') ++control;
  }
  return control * 50 <= body.size();
}

// Request types whose response bodies may carry a pool's answers (not documents, scripts, images...).
bool api_type(std::string_view type) { return type == "XHR" || type == "Fetch" || type == "Other" || type == "Ping"; }

// A request body: postDataEntries (base64, exact bytes) when Chrome gives them, else postData.
std::string request_body(const cdp::Json& request, std::size_t max_bytes) {
  std::string body;
  if (const auto entries = request.find("postDataEntries"); entries != request.end() && entries->is_array()) {
    for (const auto& entry : *entries) {
      if (!entry.is_object()) continue;
      const auto bytes = entry.find("bytes");
      if (bytes == entry.end() || !bytes->is_string()) continue;
      body +=
          util::decode_base64(std::string_view(bytes->get_ref<const std::string&>()).substr(0, max_bytes / 3 * 4 + 4));
      if (body.size() >= max_bytes) break;
    }
    if (!body.empty()) return body.substr(0, max_bytes);
  }
  const auto text = request.find("postData");
  if (text != request.end() && text->is_string()) return text->get_ref<const std::string&>().substr(0, max_bytes);
  return {};
}

void merge(blacklist::PoolTraffic& into, const blacklist::PoolTraffic& from) {
  if (into.protocol.empty()) into.protocol = from.protocol;
  into.logins += from.logins;
  into.jobs += from.jobs;
  into.submits += from.submits;
  into.accepted += from.accepted;
  into.confirmed = into.confirmed || from.confirmed;
  if (into.shape_encoding.empty()) into.shape_encoding = from.shape_encoding;
  into.shape_jobs += from.shape_jobs;
  into.shape_shares += from.shape_shares;
}

}  // namespace

std::string http_endpoint(std::string_view url) {
  // scheme://authority: a pool's jobs and shares usually travel on different paths of one origin.
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url.substr(0, kMaxEndpointBytes));
  const auto path = url.find_first_of("/?#", scheme + 3);
  return std::string(url.substr(0, std::min({path, url.size(), kMaxEndpointBytes})));
}

HttpCollector::HttpCollector(VisitContext& visit, cdp::Connection& connection, const blacklist::Detector& detector)
    : visit_(visit), connection_(connection), detector_(detector) {}

void HttpCollector::register_events(cdp::EventRegistry& events) {
  using cdp::Json;
  using cdp::TargetInfo;
  // Requests and their ends are the most frequent events a page causes; only the few that can
  // matter are parsed: a request with a body or an event stream, and ends while a worker's
  // response waits to be read.
  events.on(
      "Network.requestWillBeSent", [this](const TargetInfo& target, const Json& params) { on_request(target, params); },
      [](std::string_view raw) {
        return raw.find("\"hasPostData\":true") != std::string_view::npos ||
               raw.find("\"type\":\"EventSource\"") != std::string_view::npos;
      });
  events.on("Network.responseReceived",
            [this](const TargetInfo& target, const Json& params) { on_response(target, params); });
  events.on(
      "Network.loadingFinished", [this](const TargetInfo& target, const Json& params) { on_finished(target, params); },
      [this](std::string_view) { return !candidates_.empty(); });
  events.on("Network.eventSourceMessageReceived",
            [this](const TargetInfo& target, const Json& params) { on_event_source(target, params); });
}

void HttpCollector::on_request(const cdp::TargetInfo& target, const cdp::Json& params) {
  const cdp::Json& request = params.value("request", cdp::Json::object());
  const std::string url = request.value("url", std::string());
  if (params.value("type", std::string()) == "EventSource" && event_streams_.size() < visit_.limits().max_http_pending)
    event_streams_[request_key(target, params)] = url;
  if (!request.value("hasPostData", false)) return;
  const std::string body = request_body(request, visit_.limits().max_http_body_bytes);
  if (!body.empty()) examine(target, url, body, true);
}

void HttpCollector::on_response(const cdp::TargetInfo& target, const cdp::Json& params) {
  if (!cdp::is_worker_type(target.type) || !api_type(params.value("type", std::string()))) return;
  if (candidates_.size() >= visit_.limits().max_http_pending) {
    visit_.count("http_bodies_not_read");
    return;
  }
  const cdp::Json& response = params.value("response", cdp::Json::object());
  candidates_[request_key(target, params)] = {target.session_id, params.value("requestId", std::string()),
                                              response.value("url", std::string()), target};
}

void HttpCollector::on_finished(const cdp::TargetInfo& target, const cdp::Json& params) {
  const auto found = candidates_.find(request_key(target, params));
  if (found == candidates_.end()) return;
  BodyRead read = std::move(found->second);
  candidates_.erase(found);
  const auto& limits = visit_.limits();
  const double length = params.value("encodedDataLength", 0.0);
  if (length > static_cast<double>(limits.max_http_body_bytes) ||
      bodies_read_ + queue_.size() >= limits.max_http_bodies) {
    visit_.count("http_bodies_not_read");
    return;
  }
  queue_.push_back(std::move(read));
  if (reader_running_) return;
  reader_running_ = true;
  visit_.spawn(read_bodies());
}

void HttpCollector::on_event_source(const cdp::TargetInfo& target, const cdp::Json& params) {
  const auto stream = event_streams_.find(request_key(target, params));
  const std::string url = stream == event_streams_.end() ? std::string() : stream->second;
  const auto data = params.find("data");
  if (data == params.end() || !data->is_string()) return;
  const auto& text = data->get_ref<const std::string&>();
  examine(target, url, std::string_view(text).substr(0, visit_.limits().max_http_body_bytes), false);
}

boost::asio::awaitable<void> HttpCollector::read_bodies() {
  while (!queue_.empty() && !stopped_) {
    BodyRead read = std::move(queue_.front());
    queue_.pop_front();
    co_await read_one(std::move(read));
  }
  reader_running_ = false;
}

boost::asio::awaitable<void> HttpCollector::read_one(BodyRead read) {
  const cdp::Session session(connection_, read.session_id);
  const cdp::NetworkGetResponseBody get_body{read.request_id};
  auto reply = co_await session.send(get_body, kBodyReadTimeout);
  if (!reply) {
    visit_.count("http_body_unavailable");
    co_return;
  }
  const auto& limits = visit_.limits();
  std::string body =
      reply->base64_encoded
          ? util::decode_base64(std::string_view(reply->body).substr(0, limits.max_http_body_bytes / 3 * 4 + 4))
          : std::move(reply->body);
  if (body.size() > limits.max_http_body_bytes) body.resize(limits.max_http_body_bytes);
  if (body_bytes_read_ + body.size() > limits.max_http_body_total_bytes) {
    visit_.count("http_bodies_not_read");
    co_return;
  }
  ++bodies_read_;
  body_bytes_read_ += body.size();
  if (!body.empty()) examine(read.target, read.url, body, false);
}

void HttpCollector::examine(const cdp::TargetInfo& target, std::string_view url, std::string_view body, bool sent) {
  visit_.count("http_messages_examined");
  visit_.count("http_bytes_examined", body.size());
  const bool text = looks_like_text(body);
  blacklist::PoolTraffic found;
  detector_.examine_message(found, body, text, sent);
  const std::string endpoint = http_endpoint(url);
  auto& channels = visit_.evidence().http_channels;
  auto known = channels_.find(endpoint);
  if (known == channels_.end()) {
    if (!found.any()) return;
    if (channels.size() >= visit_.limits().max_http_channels) {
      visit_.count("http_channels_not_stored");
      return;
    }
    known = channels_.emplace(endpoint, channels.size()).first;
    blacklist::HttpChannelRecord record;
    record.endpoint = endpoint;
    record.target_type = target.type;
    record.target_url = target.url;
    channels.push_back(std::move(record));
  }
  auto& channel = channels[known->second];
  ++channel.messages;
  channel.bytes += body.size();
  merge(channel.pool, found);
  if (!found.any() || channel.samples.size() >= visit_.limits().max_http_samples) return;
  blacklist::FrameRecord sample;
  sample.sent = sent;
  sample.t_seconds = util::seconds_between(visit_.navigation_started(), Clock::now());
  sample.opcode = text ? 1 : 2;
  sample.length = body.size();
  if (sample.opcode == 1) sample.payload = std::string(body.substr(0, visit_.limits().max_frame_payload_bytes));
  channel.samples.push_back(std::move(sample));
}

}  // namespace crawler
