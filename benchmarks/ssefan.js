// SSE fan-out load for the benchmark harness (a variant of the shared ssebench.js that
// scales to 10,000 clients: connections open in bounded waves, latencies go into a
// millisecond histogram instead of an array, and the time limit is an argument).
//
// usage: node ssefan.js SSE_URL PUBLISH_URL CLIENTS EVENTS [TIMEOUT_S]
// Opens CLIENTS streams; once all are open, POSTs PUBLISH_URL?n=EVENTS, whose events carry
// "<seq> <ms since epoch at send>". Prints one JSON line: deliveries/s (from the publish
// request to the last delivery), delivery latency p50/p99/max in ms, errors; before it
// publishes it prints the line "publishing".
'use strict';
const http = require('http');

const [sseUrl, pubUrl] = [process.argv[2], process.argv[3]];
const clients = +process.argv[4] || 1000;
const events = +process.argv[5] || 100;
const timeoutS = +process.argv[6] || 120;
const MAX_PENDING = 256;          // connections being opened at once
const HIST_MS = 120000;           // latencies above this land in the last bucket

const expected = clients * events;
const hist = new Uint32Array(HIST_MS + 1);
let opened = 0, started = 0, pending = 0, received = 0, errors = 0, closed = 0;
let firstPub = 0, lastRecv = 0, openMs = 0, finished = false;
const t0 = Date.now();

function quantile(p) {
  if (received === 0) return null;
  const rank = Math.min(received - 1, Math.floor(p * received));
  let seen = 0;
  for (let ms = 0; ms <= HIST_MS; ms++) { seen += hist[ms]; if (seen > rank) return ms; }
  return HIST_MS;
}

function report(extra) {
  if (finished) return;
  finished = true;
  const secs = Math.max(lastRecv - firstPub, 1) / 1000;
  console.log(JSON.stringify(Object.assign({
    clients, opened, events, received, expected, open_ms: openMs,
    deliveries_per_s: Math.round(received / secs), p50_ms: quantile(0.5),
    p99_ms: quantile(0.99), max_ms: quantile(1), errors, closed_early: closed,
  }, extra)));
  process.exit(received === expected ? 0 : 1);
}

function onEvent(block) {
  const m = /(?:^|\n)data: ?(\d+) (\d+)/.exec(block);
  if (!m) return;
  const now = Date.now();
  hist[Math.max(0, Math.min(HIST_MS, now - +m[2]))]++;
  received++;
  lastRecv = now;
  if (received === expected) report({});
}

function publish() {
  const u = new URL(pubUrl);
  u.searchParams.set('n', events);
  console.log('publishing');  // the harness samples the server's CPU time here
  firstPub = Date.now();
  const r = http.request(u, {method: 'POST', agent: false}, res => {
    if (res.statusCode !== 200) { errors++; console.error('publish: HTTP ' + res.statusCode); }
    res.resume();
  });
  r.on('error', e => { errors++; console.error('publish: ' + e.message); });
  r.end();
}

function connectMore() {
  while (pending < MAX_PENDING && started < clients) { started++; pending++; connect(); }
}

function settled(ok) {
  pending--;
  if (ok) opened++; else errors++;
  if (opened + errors >= clients && !firstPub) {
    openMs = Date.now() - t0;
    if (opened === 0) report({failed: 'no stream opened'});
    setTimeout(publish, 500);
  }
  connectMore();
}

function connect() {
  let done = false;
  const once = ok => { if (!done) { done = true; settled(ok); } };
  const req = http.get(sseUrl, {agent: false, headers: {Accept: 'text/event-stream'}}, res => {
    if (res.statusCode !== 200) { once(false); res.resume(); return; }
    once(true);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', chunk => {
      buf += chunk;
      if (buf.indexOf('\r') >= 0) buf = buf.replace(/\r\n?/g, '\n');
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) { onEvent(buf.slice(0, i)); buf = buf.slice(i + 2); }
    });
    res.on('end', () => { closed++; });
    res.on('error', () => { errors++; });
  });
  req.on('error', () => once(false));
}

connectMore();
setTimeout(() => report({timeout: true}), timeoutS * 1000);
