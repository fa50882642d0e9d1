// Hold N idle connections open for the memory rows of the benchmark harness.
//
// usage: node idle.js sse|ws|http URL COUNT [TIMEOUT_S]
// Opens COUNT event streams (sse) or WebSockets (ws) in bounded waves, prints one JSON line
// {"open": n, "errors": e, "open_ms": t} once every attempt has settled, then holds them
// until its standard input closes (the harness's signal), SIGTERM, or TIMEOUT_S.
'use strict';
const http = require('http');

const [kind, url] = [process.argv[2], process.argv[3]];
const count = +process.argv[4] || 1000;
const timeoutS = +process.argv[5] || 300;
const MAX_PENDING = 256;
const held = [];
let started = 0, pending = 0, open = 0, errors = 0, reported = false;
const t0 = Date.now();

function settled(ok) {
  pending--;
  if (ok) open++; else errors++;
  if (open + errors >= count && !reported) {
    reported = true;
    console.log(JSON.stringify({open, errors, open_ms: Date.now() - t0}));
  }
  more();
}

function openSse(once) {
  const req = http.get(url, {agent: false, headers: {Accept: 'text/event-stream'}}, res => {
    res.resume();  // read and drop whatever arrives (comments, heartbeats)
    once(res.statusCode === 200);
  });
  req.on('error', () => once(false));
  held.push(req);
}

// A keep-alive connection that made one request and then idles (its socket stays open).
function openHttp(once) {
  const agent = new http.Agent({keepAlive: true, maxSockets: 1});
  const req = http.get(url, {agent}, res => {
    res.resume();
    res.on('end', () => once(res.statusCode === 200));
  });
  req.on('error', () => once(false));
  held.push(agent);
}

function openWs(once) {
  const WebSocket = require('ws');
  const ws = new WebSocket(url, {perMessageDeflate: false});
  ws.on('open', () => once(true));
  ws.on('error', () => once(false));
  held.push(ws);
}

function more() {
  while (pending < MAX_PENDING && started < count) {
    started++; pending++;
    let done = false;
    const once = ok => { if (!done) { done = true; settled(ok); } };
    ({ws: openWs, http: openHttp, sse: openSse}[kind])(once);
  }
}

function stop() { process.exit(0); }
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
setTimeout(() => { if (!reported) console.log(JSON.stringify({open, errors, timeout: true})); stop(); },
           timeoutS * 1000);
more();
