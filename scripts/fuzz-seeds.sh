#!/usr/bin/env bash
# Remakes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from the test fixtures and the
# unit tests' messages: the public blocklists cut into chunks at line ends, the Wasm fixtures, the
# CDP and pool-protocol messages the unit tests use, and a few hand-written requests, URLs and crawl
# lists. Run by hand when fixtures change; CI only reads the corpora (scripts/fuzz.sh copies them).
# Deterministic: the same fixtures give the same files. Keeps every file small (under 16 KiB).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - <<'PY'
import hashlib, os, re, shutil, struct

root = "tests/fuzz/corpus"
MAX_SEED = 16 * 1024

def reset(target):
    path = os.path.join(root, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path

def write(folder, name, data):
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= MAX_SEED or folder.endswith("wasm"), (folder, name, len(data))
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)

def raw_literals(path):
    """The complete raw string literals R"(...)" of a unit test that are JSON objects."""
    text = open(path, encoding="utf-8").read()
    return [m for m in re.findall(r'R"\((.*?)\)"', text, re.S) if m.startswith("{") and m.endswith("}")]

# A CryptoNote hashing blob as a pool sends it (blacklist/pool_shape.hpp), in hex.
def varint(value):
    out = b""
    while value >= 0x80:
        out += bytes([(value & 0x7F) | 0x80]); value >>= 7
    return out + bytes([value])
def blob_hex(seed):
    digest = lambda s: hashlib.sha256(s.encode()).digest()
    blob = varint(16) + varint(16) + varint(1_795_687_200) + digest(f"prev{seed}") + b"\0\0\0\0" + \
        digest(f"root{seed}") + varint(5)
    return blob.hex()
share = hashlib.sha256(b"share").digest()[:31].hex() + "00"

# ---- CDP messages (cdp_message: one per file; cdp_router: sessions, one message per line).
cdp = [m for m in raw_literals("tests/unit/test_message_text.cpp") + raw_literals("tests/unit/test_cdp_connection.cpp")
       if "\n" not in m]
cdp += [
    '{"id":1,"result":{"scriptSource":"var a = \\"\\\\u00e9\\";\\nfor(;;){}"}}',
    '{"id":2,"result":{"scriptSource":"x\\ud800y","bytecode":""},"sessionId":"S1"}',
    '{"id":3,"error":{"code":-32000,"message":"No script for id: 7"}}',
    '{"method":"Target.attachedToTarget","params":{"sessionId":"S1","targetInfo":{"targetId":"T1","type":"page",'
    '"title":"","url":"about:blank","attached":true,"browserContextId":"C1"},"waitingForDebugger":true}}',
    '{"method":"Network.responseReceived","params":{"requestId":"1.2","response":{"url":"https://a.test/",'
    '"status":200,"headers":{"content-type":"text/html"},"timing":{"requestTime":1.5}}},"sessionId":"S1"}',
    '{"method":"Page.frameNavigated","params":{"frame":{"id":"F1","url":"https://a.test/\\udc00"}},"sessionId":"S1"}',
    '{"method":"Target.detachedFromTarget","params":{"sessionId":"S1","targetId":"T1"}}',
    '{"method":"Network.webSocketFrameReceived","params":{"requestId":"9","timestamp":2.5,"response":'
    '{"opcode":1,"mask":false,"payloadData":"{\\"type\\":\\"job\\"}"}},"sessionId":"S1"}',
]
folder = reset("cdp_message")
for i, message in enumerate(dict.fromkeys(cdp)):
    write(folder, f"message-{i:03}.json", message)
attach = ('{"method":"Target.attachedToTarget","params":{"sessionId":"S%d","targetInfo":{"targetId":"T%d",'
          '"type":"%s","url":"https://a.test/"},"waitingForDebugger":true}%s}')
folder = reset("cdp_router")
sessions = {
    "replies": "\n".join(['{"id":1,"result":{"scriptSource":"x"}}', '{"id":2,"result":{"frameId":"F"}}',
                          '{"id":3,"error":{"code":-32000,"message":"gone"}}', '{"id":99,"result":{}}']),
    "attach-detach": "\n".join([attach % (1, 1, "page", ""), attach % (2, 2, "worker", ',"sessionId":"S1"'),
                                '{"method":"Page.frameNavigated","params":{"frame":{"id":"F","url":"https://b.test/"}},'
                                '"sessionId":"S1"}',
                                '{"method":"Target.targetInfoChanged","params":{"targetInfo":{"targetId":"T1",'
                                '"url":"https://c.test/"}}}',
                                '{"method":"Target.detachedFromTarget","params":{"sessionId":"S1"}}']),
    "duplicate-target": "\n".join([attach % (1, 1, "service_worker", ""), attach % (2, 1, "service_worker", ""),
                                   '{"method":"Target.detachedFromTarget","params":{"sessionId":"S1"}}',
                                   '{"method":"Network.dataReceived","params":{}}']),
    "options-quiet": "#q\n" + attach % (1, 1, "page", "") + '\n{"id":4,"result":{}}',
    "options-unfiltered": "#nk\n" + "\n".join(cdp[:20]),
    "all-messages": "\n".join(cdp),
}
for name, text in sessions.items():
    write(folder, f"session-{name}.txt", text)

# ---- Blocklists: each fixture list cut into chunks of about 4 KiB at line ends (the first two and
# the last), so every format and its odd lines are seeds.
folder = reset("blocklist")
lists = "tests/fixtures/blocklists"
for name in sorted(os.listdir(lists)):
    if name.startswith(("LICENSE", "README")):
        continue
    data = open(os.path.join(lists, name), "rb").read()
    lines = data.splitlines(keepends=True)
    chunks, current = [], b""
    for line in lines:
        if len(current) + len(line) > 4096 and current:
            chunks.append(current); current = b""
        current += line
    if current:
        chunks.append(current)
    for index in sorted({0, 1, len(chunks) - 1} & set(range(len(chunks)))):
        write(folder, f"{name}-{index}", chunks[index])
write(folder, "bom-crlf-mixed", "\ufeff! Title: x\r\n||coinhive.com^$third-party\r\n0.0.0.0 a.test\r\n"
      "*://*.b.test/*\r\n192.0.2.0/24\r\n@@c.test\r\n")

# ---- Wasm: the fixture modules, and one build of each kernel of the corpus (clang -O2).
folder = reset("wasm")
wasm_dirs = ["tests/fixtures/wasm", "tests/fixtures/wasm/builds"]
for directory in wasm_dirs:
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".wasm"):
            continue
        if directory.endswith("builds") and ".clang.O2." not in name:
            continue
        data = open(os.path.join(directory, name), "rb").read()
        if len(data) <= 20 * 1024:
            write(folder, name, data)

# ---- Pool protocol: the unit tests' frames, both directions, plus complete jobs and shares.
frames = raw_literals("tests/unit/test_pool_protocol.cpp")
blob = blob_hex(1)
frames += [
    '{"type":"job","params":{"job_id":"742135","blob":"%s","target":"ffffff00"}}' % blob,
    '{"type":"submit","params":{"job_id":"742135","nonce":"0000a1b2","result":"%s"}}' % share,
    '{"jsonrpc":"2.0","method":"job","params":{"job_id":"7","blob":"%s","target":"b88d0600"}}' % blob,
    '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"w","job":{"job_id":"7","blob":"%s","target":"b88d0600"},'
    '"status":"OK"}}' % blob,
    '{"id":2,"method":"submit","params":{"id":"w","job_id":"7","nonce":"deadbeef","result":"%s"}}' % share,
    '{"identifier":"job","job_id":"3","blob":"%s","target":"ffff0000"}' % blob,
    '{"identifier":"solved","job_id":"3","nonce":"00112233","result":"%s"}' % share,
]
folder = reset("pool_protocol")
for i, frame in enumerate(dict.fromkeys(frames)):
    direction = ">" if re.search(r'"(auth|submit|login|handshake|solved|keepalived)"', frame) else "<"
    write(folder, f"frame-{i:03}.txt", direction + frame)
write(folder, "socket-session.txt", "\n".join([">" + frames[-5], "<" + frames[-4], ">" + frames[-3],
                                                '<{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}',
                                                ")" + bytes.fromhex(share).decode("latin-1"),
                                                "(" + bytes.fromhex(blob).decode("latin-1")]).encode("latin-1"))
write(folder, "shape-hex-text.txt", "<job " + blob + " target b88d0600\n>" + share)

# ---- Feed requests: method, target, If-None-Match, If-Modified-Since, Accept-Encoding, --listen.
folder = reset("feed")
requests = {
    "dashboard": "/", "health": "/healthz", "hosts": "/feed/hosts", "entries": "/api/entries?limit=2&cursor=1",
    "entry": "/api/entries/1", "entry-page": "/entries/2", "visit": "/api/visits/1", "missing": "/nope",
    "adblock-conditional": 'GET\n/feed/adblock?kind=domain,ip&since=2026-11-26\n"1-x", W/"2-y"\n'
                           'Thu, 26 Nov 2026 10:00:00 GMT\ngzip;q=0.5, br\n127.0.0.1:8080',
    "json-filtered": "GET\n/feed/json?min_confidence=50&source=import&since=2026-11-26T10:00:00.250%2B01:00\n\n\n*\n[::1]:0",
    "stix-head": "HEAD\n/feed/stix?kind=ws_endpoint\n*\nThu, 01 Jan 1970 00:00:00 GMT\nx-gzip\nlocalhost:8080",
    "post": "POST\n/feed/hosts\n\n\n\n:8080",
    "jsonl-since-seconds": "GET\n/feed/jsonl?since=1700000000&kind=page\n\n\nidentity\n0.0.0.0:65535",
    "rpz-csv": "GET\n/feed/rpz?kind=domain&kind=script_url\n\n\n\n", "csv": "/feed/csv?source=all",
}
for name, text in requests.items():
    write(folder, name, text)

# ---- URLs and hosts as users type them.
folder = reset("url_input")
urls = ["example.com", "Example.COM", "https://Example.COM:443/a/../b?q=1#frag", "http://example.com",
        "example.com:8080/path?x", "http://[::1]:8080/", "https://192.0.2.7/", "bücher.de", "xn--bcher-kva.de",
        "javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd", "https://user:pw@host.test/",
        "https://a..b/", "https://-a.test/", "https://" + "a" * 64 + ".test/", "example.com.", "https://%41.test/",
        "ws://pool.test/", "https://exa mple.com/", "https:///nohost", "http://[v1.x]/", "chrome://settings"]
for i, url in enumerate(urls):
    write(folder, f"url-{i:02}", url)

# ---- Crawl lists: Tranco rows, URL lists, headers, comments, duplicates, a shard on the first line.
folder = reset("crawl_input")
lists = {
    "tranco": "1,google.com\n2,facebook.com\n3,\"example.com\"\n4,https://a.test/x,y\n5,bad host\n",
    "header-crlf": "\ufeffrank,domain\r\n1,a.test\r\n2,b.test\r\n2,b.test\r\n",
    "urls-comments": "# sites\nexample.com  # trailing\nhttps://Example.COM:443/#x\nhttp://example.com/\n\n"
                     "javascript:alert(1)\nhttps://a.test:99999/\n",
    "shard": "1/3\na.test\nb.test\nc.test\nd.test\ne.test\nf.test\n",
    "mixed": "a.test\n1,b.test\nc.test\n2,d.test\n",
}
for name, text in lists.items():
    write(folder, name, text)

total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
print(f"fuzz seeds: {sum(len(fs) for _, _, fs in os.walk(root))} files, {total} bytes in {root}")
PY
