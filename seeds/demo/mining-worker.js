// Demo "miner" worker (seeds/demo): keeps one core busy and speaks the coinhive-style pool protocol to
// cjcrawl-testserver's fake pool. No real hashing: a busy loop stands in for CryptoNight.
'use strict';

const POOL_URL = 'ws://pool.demo.test:{{PORT}}/ws/pool';
const SLICE_MS = 200;            // busy time between yields; a yield lets socket messages through
const SUBMIT_INTERVAL_MS = 1000; // one "share" a second

let socket = null;
let job = null;
let acceptedHashes = 0;
let lastSubmit = performance.now();
let state = 1;

function hex(length) {
  let text = '';
  while (text.length < length) text += ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) & 0xffff).toString(16).padStart(4, '0');
  return text.slice(0, length);
}

function connect() {
  socket = new WebSocket(POOL_URL);
  socket.onopen = () => {
    socket.send(JSON.stringify({
      type: 'auth',
      params: { site_key: 'demo-site-key', type: 'anonymous', user: null, goal: 0 },
    }));
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'job') job = message.params;
    if (message.type === 'hash_accepted') acceptedHashes = message.params.hashes;
    postMessage({ type: 'status', job: job ? job.job_id : null, hashes: acceptedHashes });
  };
  socket.onclose = () => { socket = null; };
}

// The "hashing": a busy slice, a share submitted at most once per SUBMIT_INTERVAL_MS (sending
// from inside the loop works in a worker), then a MessageChannel yield with no timer clamping.
const channel = new MessageChannel();
function mineSlice() {
  const sliceEnd = performance.now() + SLICE_MS;
  while (performance.now() < sliceEnd) {
    for (let i = 0; i < 100000; i++) state = (state ^ Math.imul(i, 31)) >>> 0;
    if (job && socket && socket.readyState === WebSocket.OPEN &&
        performance.now() - lastSubmit >= SUBMIT_INTERVAL_MS) {
      socket.send(JSON.stringify({
        type: 'submit',
        params: { job_id: job.job_id, nonce: hex(8), result: hex(64) },
      }));
      lastSubmit = performance.now();
    }
  }
  channel.port2.postMessage(null);
}
channel.port1.onmessage = mineSlice;

connect();
channel.port2.postMessage(null);
