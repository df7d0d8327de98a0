// tests/unit/test_pool_protocol.cpp — pool-protocol recognition on tables of real-looking frames of
// the three protocols in both directions, near misses that must stay unrecognised (a chat app's
// "job", malformed hex, wrong types, hostile JSON), the per-socket tally, and a check that the
// fixture server's fake pools (used by the browser corpus) speak what the classifier recognises.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "blacklist/pool_protocol.hpp"
#include "tests/support/fixture_server.hpp"

using blacklist::classify_pool_frame;
using blacklist::PoolMessage;
using blacklist::PoolMessageKind;
using blacklist::PoolProtocol;
using blacklist::PoolSocketStats;

namespace {

constexpr bool kSent = true;
constexpr bool kReceived = false;

// A 76-byte Monero hashing blob, as pools send it.
const std::string kBlob =
    "0707f7a4f0d605b5e1e0cd09ce07fea1ec5a6a0c2ed8b8ce11e3b4a6e8f2e9fc1c6b4bdfb0c6d0000000"
    "0a2f5e2cc2d0e15d7d1b7c8f2ea0d9ff7d2fa1bd3a4ef88e2b1c69f6e7a74f3a029d";
const std::string kResult = "4f0b8c8a6e5d9a7b1c3e2f4d6a8b0c9e1f3a5b7d9c0e2f4a6b8d0c1e3f5a7b9d";

struct Row {
  const char* name;
  std::string frame;
  bool sent;
  PoolProtocol protocol;
  PoolMessageKind kind;
};

std::string replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    INFO(row.name << ": " << row.frame.substr(0, 200) << (row.sent ? " (sent)" : " (received)"));
    const PoolMessage message = classify_pool_frame(row.frame, row.sent);
    CHECK(message.protocol == row.protocol);
    CHECK(message.kind == row.kind);
    CHECK_FALSE(message.oversize);
  }
}

}  // namespace

TEST_CASE("kBlob fixture is a 76-byte blob", "[pool]") {
  CHECK(kBlob.size() == 152);
  CHECK(kResult.size() == 64);
}

TEST_CASE("coinhive-style frames are recognised in their direction", "[pool]") {
  const std::string job =
      R"({"type":"job","params":{"job_id":"742135","blob":")" + kBlob + R"(","target":"ffffff00"}})";
  check_rows({
      {"auth", R"({"type":"auth","params":{"site_key":"fixture-site-key","type":"anonymous","user":null,"goal":0}})",
       kSent, PoolProtocol::coinhive, PoolMessageKind::login},
      {"authed", R"({"type":"authed","params":{"token":"","hashes":0}})", kReceived, PoolProtocol::coinhive,
       PoolMessageKind::login},
      {"job", job, kReceived, PoolProtocol::coinhive, PoolMessageKind::job},
      {"job with algo and variant",
       R"({"type":"job","params":{"job_id":"1","algo":"cn","variant":1,"blob":")" + kBlob +
           R"(","target":"ffffff00","height":1543210}})",
       kReceived, PoolProtocol::coinhive, PoolMessageKind::job},
      {"job, 64-bit target",
       R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"b88d0600ffffffff"}})", kReceived,
       PoolProtocol::coinhive, PoolMessageKind::job},
      {"job, numeric job_id", R"({"type":"job","params":{"job_id":17,"blob":")" + kBlob + R"(","target":"ffffff00"}})",
       kReceived, PoolProtocol::coinhive, PoolMessageKind::job},
      {"job, upper-case hex", replace(replace(job, kBlob, upper(kBlob)), "ffffff00", "FFFFFF00"), kReceived,
       PoolProtocol::coinhive, PoolMessageKind::job},
      {"submit", R"({"type":"submit","params":{"job_id":"742135","nonce":"a1b2c3d4","result":")" + kResult + R"("}})",
       kSent, PoolProtocol::coinhive, PoolMessageKind::submit},
      {"hash_accepted", R"({"type":"hash_accepted","params":{"hashes":256}})", kReceived, PoolProtocol::coinhive,
       PoolMessageKind::accepted},
      {"pretty-printed job with trailing newline",
       "\n  {\n  \"type\": \"job\",\n  \"params\": {\n    \"job_id\": \"9\",\n    \"blob\": \"" + kBlob +
           "\",\n    \"target\": \"ffffff00\"\n  }\n}\n",
       kReceived, PoolProtocol::coinhive, PoolMessageKind::job},
  });
}

TEST_CASE("webminerpool frames are recognised in their direction", "[pool]") {
  check_rows({
      {"handshake",
       R"({"identifier":"handshake","pool":"moneroocean.stream","login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","password":"web","userid":"","version":7})",
       kSent, PoolProtocol::webminerpool, PoolMessageKind::login},
      {"handshake by loginid", R"({"identifier":"handshake","loginid":"0fe4c4b1-8c3e","userid":"","version":5})", kSent,
       PoolProtocol::webminerpool, PoolMessageKind::login},
      {"job",
       R"({"identifier":"job","job_id":"3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b","algo":"cn","variant":1,"height":0,"blob":")" +
           kBlob + "\",\"target\":\"e4a63d00\"}\n",
       kReceived, PoolProtocol::webminerpool, PoolMessageKind::job},
      {"solved",
       R"({"identifier":"solved","job_id":"3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b","nonce":"0c8f1a2b","result":")" + kResult +
           R"("})",
       kSent, PoolProtocol::webminerpool, PoolMessageKind::submit},
      {"hashsolved", "{\"identifier\":\"hashsolved\"}\n", kReceived, PoolProtocol::webminerpool,
       PoolMessageKind::accepted},
  });
}

TEST_CASE("stratum JSON-RPC frames are recognised in their direction", "[pool]") {
  check_rows({
      {"login",
       R"({"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"webminer/1.0","algo":["cn/r","rx/0"]}})",
       kSent, PoolProtocol::stratum, PoolMessageKind::login},
      {"login reply carrying a job",
       R"({"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"ab12cd34","job":{"blob":")" + kBlob +
           R"(","job_id":"q8Zk2Lr1","target":"8b4f0100","id":"ab12cd34","height":18},"status":"OK"}})",
       kReceived, PoolProtocol::stratum, PoolMessageKind::job},
      {"job notification",
       R"({"jsonrpc":"2.0","method":"job","params":{"blob":")" + kBlob +
           R"(","job_id":"r9Ym3Ks2","target":"b88d0600","id":"ab12cd34"}})",
       kReceived, PoolProtocol::stratum, PoolMessageKind::job},
      {"submit",
       R"({"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"ab12cd34","job_id":"r9Ym3Ks2","nonce":"91d20171","result":")" +
           kResult + R"("}})",
       kSent, PoolProtocol::stratum, PoolMessageKind::submit},
      {"submit accepted", R"({"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}})", kReceived,
       PoolProtocol::stratum, PoolMessageKind::accepted},
      {"keepalived", R"({"id":3,"jsonrpc":"2.0","method":"keepalived","params":{"id":"ab12cd34"}})", kSent,
       PoolProtocol::stratum, PoolMessageKind::keepalive},
      {"keepalived reply", R"({"id":3,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}})", kReceived,
       PoolProtocol::stratum, PoolMessageKind::keepalive},
      {"string id", R"({"id":"7","method":"keepalived","params":{}})", kSent, PoolProtocol::stratum,
       PoolMessageKind::keepalive},
  });
}

TEST_CASE("messages in the wrong direction are not recognised", "[pool]") {
  const auto none = PoolProtocol::none;
  const auto no_kind = PoolMessageKind::none;
  check_rows({
      {"coinhive job sent by the page",
       R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})", kSent, none, no_kind},
      {"coinhive submit received",
       R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult + R"("}})", kReceived, none,
       no_kind},
      {"coinhive auth received", R"({"type":"auth","params":{"site_key":"k"}})", kReceived, none, no_kind},
      {"webminerpool job sent", R"({"identifier":"job","job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"})",
       kSent, none, no_kind},
      {"webminerpool hashsolved sent", R"({"identifier":"hashsolved"})", kSent, none, no_kind},
      {"stratum login received", R"({"id":1,"method":"login","params":{"login":"wallet"}})", kReceived, none, no_kind},
      {"stratum result sent", R"({"id":2,"error":null,"result":{"status":"OK"}})", kSent, none, no_kind},
  });
}

TEST_CASE("near misses: verbs without the shape of a pool message", "[pool]") {
  const auto none = PoolProtocol::none;
  const auto no_kind = PoolMessageKind::none;
  const std::string good_params = R"("job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00")";
  check_rows({
      {"chat app job posting", R"({"type":"job","params":{"title":"Engineer"}})", kReceived, none, no_kind},
      {"chat app job posting, sent", R"({"type":"job","params":{"title":"Engineer","salary":"50k"}})", kSent, none,
       no_kind},
      {"chat submit of a form", R"({"type":"submit","params":{"form":"contact","name":"Ann"}})", kSent, none, no_kind},
      {"chat auth with a password", R"({"type":"auth","params":{"user":"ann","password":"x"}})", kSent, none, no_kind},
      {"chat message", R"({"kind":"chat","from":"visitor","text":"coinhive job submit nonce"})", kSent, none, no_kind},
      {"print queue job with an id and target",
       R"({"type":"job","params":{"job_id":"42","blob":"report.pdf","target":"printer-2"}})", kReceived, none, no_kind},
      {"non-hex blob",
       R"({"type":"job","params":{"job_id":"1","blob":")" + replace(kBlob, "07", "zz") + R"(","target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"odd-length blob",
       R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob.substr(1) + R"(","target":"ffffff00"}})", kReceived,
       none, no_kind},
      {"short blob", R"({"type":"job","params":{"job_id":"1","blob":"0707f7a4f0d605b5","target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"huge blob",
       R"({"type":"job","params":{"job_id":"1","blob":")" + std::string(8192, 'a') + R"(","target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"target of 6 hex", R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffff00"}})",
       kReceived, none, no_kind},
      {"target of 64 hex",
       R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":")" + kResult + R"("}})", kReceived,
       none, no_kind},
      {"non-hex target", R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"fffffgg0"}})",
       kReceived, none, no_kind},
      {"missing job_id", R"({"type":"job","params":{"blob":")" + kBlob + R"(","target":"ffffff00"}})", kReceived, none,
       no_kind},
      {"empty job_id", R"({"type":"job","params":{"job_id":"","blob":")" + kBlob + R"(","target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"negative job_id", R"({"type":"job","params":{"job_id":-1,"blob":")" + kBlob + R"(","target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"short result",
       R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult.substr(0, 62) + R"("}})",
       kSent, none, no_kind},
      {"nonce of 16 hex",
       R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4a1b2c3d4","result":")" + kResult + R"("}})", kSent,
       none, no_kind},
      {"numeric nonce", R"({"type":"submit","params":{"job_id":"1","nonce":12345678,"result":")" + kResult + R"("}})",
       kSent, none, no_kind},
      {"submit without job_id", R"({"type":"submit","params":{"nonce":"a1b2c3d4","result":")" + kResult + R"("}})",
       kSent, none, no_kind},
      {"blob as a number", R"({"type":"job","params":{"job_id":"1","blob":7,"target":"ffffff00"}})", kReceived, none,
       no_kind},
      {"blob as an array", R"({"type":"job","params":{"job_id":"1","blob":[")" + kBlob + R"("],"target":"ffffff00"}})",
       kReceived, none, no_kind},
      {"type as an array", R"({"type":["job"],"params":{)" + good_params + "}}", kReceived, none, no_kind},
      {"params as a string", R"({"type":"job","params":")" + kBlob + R"("})", kReceived, none, no_kind},
      {"params as an array", R"({"type":"job","params":[{)" + good_params + "}]}", kReceived, none, no_kind},
      {"unknown coinhive type with job shape", R"({"type":"jobs","params":{)" + good_params + "}}", kReceived, none,
       no_kind},
      {"verb in another case", R"({"type":"JOB","params":{)" + good_params + "}}", kReceived, none, no_kind},
      {"hash_accepted with a string count", R"({"type":"hash_accepted","params":{"hashes":"256"}})", kReceived, none,
       no_kind},
      {"hash_accepted with a negative count", R"({"type":"hash_accepted","params":{"hashes":-5}})", kReceived, none,
       no_kind},
      {"hash_accepted with a fractional count", R"({"type":"hash_accepted","params":{"hashes":2.5}})", kReceived, none,
       no_kind},
      {"hash_accepted with a count beyond 64 bits",
       R"({"type":"hash_accepted","params":{"hashes":123456789012345678901234567890}})", kReceived, none, no_kind},
      {"hash_accepted with an overflowing exponent", R"({"type":"hash_accepted","params":{"hashes":1e999}})", kReceived,
       none, no_kind},
      {"auth with an empty site key", R"({"type":"auth","params":{"site_key":""}})", kSent, none, no_kind},
      {"handshake without login", R"({"identifier":"handshake","pool":"x","version":7})", kSent, none, no_kind},
      {"webminerpool error", R"({"identifier":"error","param":"pool rejected hash"})", kReceived, none, no_kind},
      {"stratum login without id", R"({"method":"login","params":{"login":"wallet"}})", kSent, none, no_kind},
      {"stratum submit with null id",
       R"({"id":null,"method":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult + R"("}})",
       kSent, none, no_kind},
      {"stratum error reply", R"({"id":2,"error":{"code":-1,"message":"Low difficulty share"},"result":null})",
       kReceived, none, no_kind},
      {"stratum reply with an error and a job",
       R"({"id":1,"error":{"code":-1},"result":{"job":{)" + good_params + R"(},"status":"OK"}})", kReceived, none,
       no_kind},
      {"generic RPC result", R"({"id":9,"result":{"items":[1,2,3]}})", kReceived, none, no_kind},
      {"bitcoin stratum notify", R"({"id":null,"method":"mining.notify","params":["4f","00ab",true]})", kReceived, none,
       no_kind},
  });
}

TEST_CASE("hostile and non-object input is never recognised and never throws", "[pool]") {
  const std::string job = R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})";
  std::string deep_nesting;
  for (int i = 0; i < 10000; ++i) deep_nesting += R"({"a":)";
  deep_nesting += "1";
  for (int i = 0; i < 10000; ++i) deep_nesting += "}";
  const std::string job_nested_too_deep =
      R"({"type":"job","x":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],"params":{"job_id":"1","blob":")" + kBlob +
      R"(","target":"ffffff00"}})";
  const std::string brackets_in_strings =
      R"({"type":"job","note":"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{","params":{"job_id":"1","blob":")" + kBlob +
      R"(","target":"ffffff00"}})";

  const std::vector<std::pair<const char*, std::string>> rejected = {
      {"empty", ""},
      {"whitespace", " \n\t"},
      {"plain text", "hello"},
      {"null", "null"},
      {"number", "42"},
      {"string", R"("{\"type\":\"job\"}")"},
      {"array of a job", "[" + job + "]"},
      {"batch of two", "[" + job + "," + job + "]"},
      {"two objects in one frame", job + "\n" + job},
      {"truncated job", job.substr(0, job.size() - 3)},
      {"trailing garbage", job + "x"},
      {"invalid UTF-8 in a string", R"({"type":"job","params":{"job_id":")" + std::string("\xff\xfe") +
                                        R"(","blob":")" + kBlob + R"(","target":"ffffff00"}})"},
      {"overlong UTF-8 encoding", R"({"type":"job","note":")" + std::string("\xc0\xaf") +
                                      R"(","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})"},
      {"NUL byte", std::string("{\"type\":\"job\"\0}", 15)},
      {"deep nesting", deep_nesting},
      {"unterminated deep nesting", std::string(60000, '[')},
      {"job nested past the depth limit", job_nested_too_deep},
  };
  for (const auto& [name, frame] : rejected) {
    INFO(name);
    for (bool sent : {kSent, kReceived}) {
      PoolMessage message;
      REQUIRE_NOTHROW(message = classify_pool_frame(frame, sent));
      CHECK(message == PoolMessage{});
    }
  }
  // Brackets inside strings do not count towards the depth limit.
  CHECK(classify_pool_frame(brackets_in_strings, kReceived).kind == PoolMessageKind::job);
}

TEST_CASE("random mutations of real frames never throw and never cross directions", "[pool]") {
  const std::vector<std::pair<std::string, bool>> seeds = {
      {R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})", kReceived},
      {R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult + R"("}})", kSent},
      {R"({"identifier":"job","job_id":"3f2a","algo":"cn","blob":")" + kBlob + R"(","target":"e4a63d00"})", kReceived},
      {R"({"id":2,"method":"submit","params":{"job_id":"r9","nonce":"91d20171","result":")" + kResult + R"("}})",
       kSent},
      {R"({"id":1,"error":null,"result":{"job":{"blob":")" + kBlob + R"(","job_id":"q8","target":"8b4f0100"}}})",
       kReceived},
  };
  using namespace std::string_literals;
  const std::string alphabet = "{}[]\":,0123456789abcdefxyz \\\xff\0"s;  // with a NUL and a stray byte
  std::mt19937 random(20240601);                                         // fixed seed: reproducible
  int recognised = 0;
  for (const auto& [seed, seed_sent] : seeds) {
    for (int round = 0; round < 400; ++round) {
      std::string frame = seed;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits && !frame.empty(); ++e) {
        const std::size_t at = random() % frame.size();
        const char c = alphabet[random() % alphabet.size()];
        switch (random() % 3) {
          case 0: frame[at] = c; break;
          case 1: frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(at), c); break;
          default: frame.erase(at, 1); break;
        }
      }
      for (bool sent : {kSent, kReceived}) {
        PoolMessage message;
        REQUIRE_NOTHROW(message = classify_pool_frame(frame, sent));
        if (message.kind != PoolMessageKind::none) ++recognised;
        // Jobs and acknowledgements only come in; shares only go out.
        if (sent) {
          CHECK(message.kind != PoolMessageKind::job);
          CHECK(message.kind != PoolMessageKind::accepted);
        } else {
          CHECK(message.kind != PoolMessageKind::submit);
        }
      }
    }
  }
  // Some mutations (inside the job id, or extra whitespace) keep a valid message.
  CHECK(recognised > 0);
}

TEST_CASE("frames over the size limit are skipped and flagged", "[pool]") {
  const std::string job = R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})";
  const std::string padded =
      job.substr(0, job.size() - 1) + R"(,"pad":")" + std::string(blacklist::kMaxPoolFrameBytes, 'x') + "\"}";
  const PoolMessage message = classify_pool_frame(padded, kReceived);
  CHECK(message.oversize);
  CHECK(message.kind == PoolMessageKind::none);
  // Just under the limit still parses.
  const std::string fits = job.substr(0, job.size() - 1) + R"(,"pad":")" +
                           std::string(blacklist::kMaxPoolFrameBytes - job.size() - 10, 'x') + "\"}";
  REQUIRE(fits.size() <= blacklist::kMaxPoolFrameBytes);
  CHECK(classify_pool_frame(fits, kReceived).kind == PoolMessageKind::job);
}

TEST_CASE("per-socket tally counts and confirms", "[pool]") {
  const std::string auth = R"({"type":"auth","params":{"site_key":"k","type":"anonymous","user":null}})";
  const std::string authed = R"({"type":"authed","params":{"token":"","hashes":0}})";
  const std::string job = R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})";
  const std::string submit =
      R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult + R"("}})";
  const std::string accepted = R"({"type":"hash_accepted","params":{"hashes":1}})";

  SECTION("a coinhive session") {
    PoolSocketStats stats;
    stats.add(classify_pool_frame(auth, kSent));
    CHECK_FALSE(stats.confirmed());  // a login alone shows intent, not mining
    stats.add(classify_pool_frame(authed, kReceived));
    CHECK_FALSE(stats.confirmed());
    stats.add(classify_pool_frame(job, kReceived));
    CHECK(stats.confirmed());
    for (int i = 0; i < 3; ++i) {
      stats.add(classify_pool_frame(submit, kSent));
      stats.add(classify_pool_frame(accepted, kReceived));
      stats.add(classify_pool_frame(job, kReceived));
    }
    CHECK(stats.protocol == PoolProtocol::coinhive);
    CHECK_FALSE(stats.mixed_protocols);
    CHECK(stats.frames == 12);
    CHECK(stats.logins == 2);
    CHECK(stats.jobs == 4);
    CHECK(stats.submits == 3);
    CHECK(stats.accepted == 3);
    CHECK(stats.keepalives == 0);
    CHECK(stats.skipped_frames == 0);
  }

  SECTION("a submit alone confirms (the job frame may not have been stored)") {
    PoolSocketStats stats;
    stats.add(classify_pool_frame(submit, kSent));
    CHECK(stats.confirmed());
    CHECK(stats.submits == 1);
  }

  SECTION("a chat socket never confirms") {
    PoolSocketStats stats;
    for (const char* frame : {R"({"type":"job","params":{"title":"Engineer"}})",
                              R"({"type":"submit","params":{"form":"apply"}})", R"({"kind":"chat","text":"hi"})"}) {
      stats.add(classify_pool_frame(frame, kSent));
      stats.add(classify_pool_frame(frame, kReceived));
    }
    CHECK_FALSE(stats.confirmed());
    CHECK(stats.protocol == PoolProtocol::none);
    CHECK(stats.frames == 6);
    CHECK(stats.jobs + stats.submits + stats.logins + stats.accepted + stats.keepalives == 0);
  }

  SECTION("generic acknowledgements count but name no protocol and do not confirm") {
    PoolSocketStats stats;
    stats.add(classify_pool_frame(R"({"id":1,"result":{"status":"OK"}})", kReceived));
    stats.add(classify_pool_frame(R"({"identifier":"hashsolved"})", kReceived));
    CHECK(stats.accepted == 2);
    CHECK(stats.protocol == PoolProtocol::none);
    CHECK_FALSE(stats.confirmed());
  }

  SECTION("a relay mixing protocols is flagged") {
    PoolSocketStats stats;
    stats.add(classify_pool_frame(job, kReceived));
    stats.add(classify_pool_frame(
        R"({"identifier":"solved","job_id":"1","nonce":"0c8f1a2b","result":")" + kResult + R"("})", kSent));
    CHECK(stats.protocol == PoolProtocol::coinhive);
    CHECK(stats.mixed_protocols);
    CHECK(stats.submits == 1);
  }

  SECTION("oversize frames are counted as skipped") {
    PoolSocketStats stats;
    stats.add(classify_pool_frame(std::string(blacklist::kMaxPoolFrameBytes + 1, ' '), kReceived));
    CHECK(stats.frames == 1);
    CHECK(stats.skipped_frames == 1);
    CHECK_FALSE(stats.confirmed());
  }
}

TEST_CASE("tally of a stored socket skips binary and truncated frames", "[pool]") {
  const std::string job = R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})";
  const std::string submit =
      R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + kResult + R"("}})";
  blacklist::WebSocketRecord socket;
  auto frame = [](bool sent, int opcode, std::string payload, std::uint64_t length) {
    blacklist::FrameRecord record;
    record.sent = sent;
    record.opcode = opcode;
    record.length = length;
    record.payload = std::move(payload);
    return record;
  };
  socket.frames.push_back(frame(kReceived, 1, job, job.size()));
  socket.frames.push_back(frame(kSent, 1, submit, submit.size()));
  socket.frames.push_back(frame(kReceived, 2, "", 120));                         // binary
  socket.frames.push_back(frame(kReceived, 1, job.substr(0, 100), job.size()));  // stored truncated
  socket.frames.push_back(frame(kSent, 1, submit, submit.size()));

  const PoolSocketStats stats = blacklist::tally_pool_frames(socket);
  CHECK(stats.frames == 5);
  CHECK(stats.skipped_frames == 2);
  CHECK(stats.jobs == 1);
  CHECK(stats.submits == 2);
  CHECK(stats.protocol == PoolProtocol::coinhive);
  CHECK(stats.confirmed());

  CHECK_FALSE(blacklist::tally_pool_frames(blacklist::WebSocketRecord{}).confirmed());
}

TEST_CASE("names of protocols and kinds", "[pool]") {
  CHECK(blacklist::to_string(PoolProtocol::none) == "none");
  CHECK(blacklist::to_string(PoolProtocol::coinhive) == "coinhive");
  CHECK(blacklist::to_string(PoolProtocol::webminerpool) == "webminerpool");
  CHECK(blacklist::to_string(PoolProtocol::stratum) == "stratum");
  CHECK(blacklist::to_string(PoolMessageKind::none) == "none");
  CHECK(blacklist::to_string(PoolMessageKind::login) == "login");
  CHECK(blacklist::to_string(PoolMessageKind::job) == "job");
  CHECK(blacklist::to_string(PoolMessageKind::submit) == "submit");
  CHECK(blacklist::to_string(PoolMessageKind::accepted) == "accepted");
  CHECK(blacklist::to_string(PoolMessageKind::keepalive) == "keepalive");
}

// ---------------------------------------------------------------------------------------------------
// The fixture server's fake pools speak what the classifier recognises, in both directions. A
// scripted client talks to each route of an in-process FixtureServer; the test thread then asserts.

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kConversationBound{10};

// One client message and how many replies the pool sends for it.
struct Step {
  std::string message;
  int replies;
};

struct Conversation {
  std::vector<std::pair<std::string, bool>> frames;  // (payload, sent) in order
  std::string error;                                 // empty when every step completed
};

asio::awaitable<void> converse(std::uint16_t port, std::string path, std::vector<Step> steps, Conversation& out) {
  const auto executor = co_await asio::this_coro::executor;
  websocket::stream<beast::tcp_stream> ws(executor);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  auto [connect_error] = co_await beast::get_lowest_layer(ws).async_connect(endpoint, kNoThrow);
  if (connect_error) {
    out.error = "connect: " + connect_error.message();
    co_return;
  }
  const std::string host = "pool.test";
  auto [handshake_error] = co_await ws.async_handshake(host, path, kNoThrow);
  if (handshake_error) {
    out.error = "handshake: " + handshake_error.message();
    co_return;
  }
  for (const Step& step : steps) {
    ws.text(true);
    auto [write_error, written] = co_await ws.async_write(asio::buffer(step.message), kNoThrow);
    if (write_error) {
      out.error = "write: " + write_error.message();
      co_return;
    }
    out.frames.emplace_back(step.message, true);
    for (int reply = 0; reply < step.replies; ++reply) {
      beast::flat_buffer buffer;
      auto [read_error, read] = co_await ws.async_read(buffer, kNoThrow);
      if (read_error) {
        out.error = "read: " + read_error.message();
        co_return;
      }
      out.frames.emplace_back(beast::buffers_to_string(buffer.data()), false);
    }
  }
  auto [close_error] = co_await ws.async_close(websocket::close_code::normal, kNoThrow);
  static_cast<void>(close_error);
}

Conversation run_conversation(std::uint16_t port, const std::string& path, std::vector<Step> steps) {
  Conversation conversation;
  asio::io_context io;
  bool finished = false;
  asio::co_spawn(io, converse(port, path, std::move(steps), conversation), [&](std::exception_ptr error) {
    finished = true;
    if (error) conversation.error = "exception in the client";
  });
  io.run_for(kConversationBound);
  if (!finished) conversation.error = "timed out";
  return conversation;
}

PoolSocketStats tally(const Conversation& conversation) {
  PoolSocketStats stats;
  for (const auto& [payload, sent] : conversation.frames) stats.add(classify_pool_frame(payload, sent));
  return stats;
}

const std::string kShare = R"("nonce":"a1b2c3d4","result":")" + kResult + R"(")";

}  // namespace

TEST_CASE("the fixture server's fake pools are recognised in both directions", "[pool][fixture_server]") {
  testsupport::FixtureServer server(std::filesystem::temp_directory_path());

  SECTION("coinhive-style on /ws/pool and on /ws/relay") {
    for (const std::string path : {"/ws/pool", "/ws/relay"}) {
      INFO(path);
      const Conversation conversation =
          run_conversation(server.port(), path,
                           {{R"({"type":"auth","params":{"site_key":"k","type":"anonymous","user":null,"goal":0}})", 2},
                            {R"({"type":"submit","params":{"job_id":"1",)" + kShare + "}}", 2},
                            {R"({"type":"submit","params":{"job_id":"2",)" + kShare + "}}", 2}});
      REQUIRE(conversation.error.empty());
      const PoolSocketStats stats = tally(conversation);
      CHECK(stats.protocol == PoolProtocol::coinhive);
      CHECK(stats.frames == 9);
      CHECK(stats.logins == 2);  // auth + authed
      CHECK(stats.jobs == 3);
      CHECK(stats.submits == 2);
      CHECK(stats.accepted == 2);
      CHECK(stats.confirmed());
    }
    const auto counts = server.stats();
    CHECK(counts.pool_connections == 1);
    CHECK(counts.pool_auths == 1);
    CHECK(counts.pool_jobs_sent == 3);
    CHECK(counts.pool_submits == 2);
    CHECK(counts.relay_connections == 1);
    CHECK(counts.relay_auths == 1);
    CHECK(counts.relay_jobs_sent == 3);
    CHECK(counts.relay_submits == 2);
    CHECK(counts.pool_errors_sent == 0);
  }

  SECTION("webminerpool on /ws/wmp") {
    const Conversation conversation = run_conversation(
        server.port(), "/ws/wmp",
        {{R"({"identifier":"handshake","pool":"fixture","login":"wallet","password":"","userid":"","version":7})", 1},
         {R"({"identifier":"solved","job_id":"3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b",)" + kShare + "}", 1}});
    REQUIRE(conversation.error.empty());
    const PoolSocketStats stats = tally(conversation);
    CHECK(stats.protocol == PoolProtocol::webminerpool);
    CHECK_FALSE(stats.mixed_protocols);
    CHECK(stats.logins == 1);
    CHECK(stats.jobs == 1);
    CHECK(stats.submits == 1);
    CHECK(stats.accepted == 1);
    CHECK(stats.confirmed());
    const auto counts = server.stats();
    CHECK(counts.wmp_connections == 1);
    CHECK(counts.wmp_handshakes == 1);
    CHECK(counts.wmp_jobs_sent == 1);
    CHECK(counts.wmp_solved == 1);
    CHECK(counts.pool_errors_sent == 0);
  }

  SECTION("stratum on /ws/stratum") {
    const Conversation conversation = run_conversation(
        server.port(), "/ws/stratum",
        {{R"({"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"wallet","pass":"x","agent":"fixture"}})", 1},
         {R"({"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"m","job_id":"1",)" + kShare + "}}", 2},
         {R"({"id":3,"jsonrpc":"2.0","method":"keepalived","params":{"id":"m"}})", 1}});
    REQUIRE(conversation.error.empty());
    const PoolSocketStats stats = tally(conversation);
    CHECK(stats.protocol == PoolProtocol::stratum);
    CHECK(stats.logins == 1);
    CHECK(stats.jobs == 2);  // the login reply's job and the notification after the submit
    CHECK(stats.submits == 1);
    CHECK(stats.accepted == 1);
    CHECK(stats.keepalives == 2);
    CHECK(stats.confirmed());
    const auto counts = server.stats();
    CHECK(counts.stratum_connections == 1);
    CHECK(counts.stratum_logins == 1);
    CHECK(counts.stratum_jobs_sent == 2);
    CHECK(counts.stratum_submits == 1);
    CHECK(counts.stratum_keepalives == 1);
    CHECK(counts.pool_errors_sent == 0);
  }

  SECTION("a pool answers garbage with its error message, which is no pool message") {
    const Conversation conversation =
        run_conversation(server.port(), "/ws/stratum", {{"not json", 1}, {R"({"id":1,"method":"mine"})", 1}});
    REQUIRE(conversation.error.empty());
    const PoolSocketStats stats = tally(conversation);
    CHECK(stats.frames == 4);
    CHECK(stats.jobs + stats.submits + stats.logins + stats.accepted + stats.keepalives == 0);
    CHECK(server.stats().pool_errors_sent == 2);
  }

  SECTION("the chat echo is no pool, even when the chat talks about jobs") {
    const Conversation conversation =
        run_conversation(server.port(), "/ws/echo", {{R"({"type":"job","params":{"title":"Engineer"}})", 1}});
    REQUIRE(conversation.error.empty());
    CHECK_FALSE(tally(conversation).confirmed());
    CHECK(server.stats().echo_messages == 1);
  }
}
