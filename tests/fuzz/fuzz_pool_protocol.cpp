// tests/fuzz/fuzz_pool_protocol.cpp — blacklist/pool_protocol and pool_shape, the recognisers of
// mining-pool traffic over WebSocket frames and HTTP bodies (both ends belong to the page). The
// input is a socket's frames, one per line, each led by its direction and opcode: '>' sent text,
// '<' received text, ')' sent binary, '(' received binary (a line without one is received text);
// the whole input is also classified as one frame either way. Asserts beyond "no crash": the
// direction rules (a sent frame is never a job or an acknowledgement, a received one never a login
// request's submit; a pool shape's job is only received, its share only sent), a recognised message
// names its protocol, an oversize frame is not examined, classification is deterministic, and the
// socket's tally counts every frame once with counts bounded by the frames (binary and truncated
// frames skipped), agreeing with adding the classifications one by one.
#include <string>
#include <string_view>

#include "blacklist/pool_protocol.hpp"
#include "blacklist/pool_shape.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {
namespace {

using blacklist::PoolMessage;
using blacklist::PoolMessageKind;
using blacklist::PoolProtocol;

void check_message(std::string_view payload, bool sent) {
  const PoolMessage message = blacklist::classify_pool_frame(payload, sent);
  expect(message == blacklist::classify_pool_frame(payload, sent), "classification is deterministic");
  expect((message.protocol == PoolProtocol::none) == (message.kind == PoolMessageKind::none),
         "a recognised message names its protocol, and only a recognised one does");
  if (message.oversize)
    expect(payload.size() > blacklist::kMaxPoolFrameBytes && message.kind == PoolMessageKind::none,
           "only a frame over the limit is oversize, and it is not examined");
  if (sent)
    expect(message.kind != PoolMessageKind::job && message.kind != PoolMessageKind::accepted,
           "a page never receives what it sends");
  else expect(message.kind != PoolMessageKind::submit, "a pool never submits a share");

  for (const bool text : {true, false}) {
    const auto shape = blacklist::examine_pool_shape(payload, text, sent);
    expect(!(shape.job && sent) && !(shape.share && !sent), "shapes are examined only in their direction");
    expect(shape.job == (shape.blob_bytes >= blacklist::kMinBlobBytes), "a job has a blob of 76 bytes or more");
    expect((shape.job || shape.share) == (shape.encoding != blacklist::ShapeEncoding::none),
           "a finding says how it was encoded, and only a finding does");
  }
}

}  // namespace

int pool_protocol(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  check_message(text, true);
  check_message(text, false);

  blacklist::WebSocketRecord socket;
  socket.url = "wss://pool.test/proxy";
  blacklist::PoolSocketStats expected;
  for (std::string_view rest = text; !rest.empty();) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    blacklist::FrameRecord frame;
    if (!line.empty() && std::string_view("><)(").find(line.front()) != std::string_view::npos) {
      frame.sent = line.front() == '>' || line.front() == ')';
      frame.opcode = line.front() == '>' || line.front() == '<' ? 1 : 2;
      line.remove_prefix(1);
    }
    frame.payload = std::string(line);
    // Every third text frame is stored cut short, as a busy socket's are (length says how long it was).
    frame.length = line.size() + (socket.frames.size() % 3 == 2 ? 1 : 0);
    check_message(line, frame.sent);
    if (frame.opcode == 1 && frame.length == frame.payload.size()) {
      const auto message = blacklist::classify_pool_frame(frame.payload, frame.sent);
      expected.add(message);
    } else {
      ++expected.frames;
      ++expected.skipped_frames;
    }
    socket.frames.push_back(std::move(frame));
  }
  const auto stats = blacklist::tally_pool_frames(socket);
  expect(stats.frames == socket.frames.size(), "the tally counts every frame once");
  expect(stats.logins + stats.jobs + stats.submits + stats.accepted + stats.keepalives + stats.skipped_frames <=
             stats.frames,
         "each frame counts at most once");
  expect(stats.frames == expected.frames && stats.skipped_frames == expected.skipped_frames &&
             stats.jobs == expected.jobs && stats.submits == expected.submits && stats.logins == expected.logins &&
             stats.accepted == expected.accepted && stats.keepalives == expected.keepalives &&
             stats.protocol == expected.protocol && stats.mixed_protocols == expected.mixed_protocols,
         "the tally is the frames' classifications added one by one");
  expect(stats.confirmed() == (stats.jobs > 0 || stats.submits > 0), "confirmed means a job or a share");
  return 0;
}

}  // namespace cjcrawl::fuzz
