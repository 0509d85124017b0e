// A WebSocket server for eventwatch's prober tests, written with the `ws`
// library and `jsonwebtoken` (real HS256 validation, expiry included).
// Each path is one endpoint with a known behaviour; the Go test knows which
// rules each must break and checks that nothing else fires.
//
// Environment: SECRET (HS256 key, required), HB_MS (the heartbeat period
// of compliant endpoints, default 1000), EVENT_MS (event period, default
// 200). Prints {"port":N} on stdout once it listens on 127.0.0.1.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');
const jwt = require('jsonwebtoken');

const SECRET = process.env.SECRET;
if (!SECRET) {
  console.error('SECRET is required');
  process.exit(2);
}
const HB = Number(process.env.HB_MS || 1000);
const EVENT_MS = Number(process.env.EVENT_MS || 200);

// token returns the JWT of the upgrade request: Authorization: Bearer, or
// the token query parameter.
function token(req) {
  const auth = req.headers.authorization || '';
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  return new URL(req.url, 'http://x').searchParams.get('token');
}

// verify is real validation: signature (HS256 only) and expiry.
function verify(req) {
  const t = token(req);
  if (!t) return false;
  try {
    jwt.verify(t, SECRET, { algorithms: ['HS256'] });
    return true;
  } catch {
    return false;
  }
}

// decodeOnly is the classic bug: the token is parsed, never verified.
function decodeOnly(req) {
  const t = token(req);
  return !!(t && jwt.decode(t));
}

function hex(n) {
  return crypto.randomBytes(n).toString('hex');
}

// event is an AuthorWorks meta+data event from service.
function event(service, type) {
  return JSON.stringify({
    meta: {
      id: crypto.randomUUID(),
      type: type || `${service}.book.published`,
      version: '1.0',
      timestamp: new Date().toISOString(),
      correlation_id: crypto.randomUUID(),
      source: `${service}-service`,
      trace_context: { trace_id: hex(16), span_id: hex(8) },
    },
    data: { book_id: crypto.randomUUID(), title: 'A title' },
  });
}

// Endpoint behaviours by path.
//   auth: 'http' (401 on the upgrade), 'close' (upgrade, then close 1008),
//         'decode' (decode without verifying), 'none' (no check),
//         'stall' (an upgrade without a valid token is never answered)
//   beat: 'ping' (ping frames), 'message' ({"type":"heartbeat"}), 'none'
//   beatMs: heartbeat period
const endpoints = {
  '/v1/content/ws': { service: 'content', auth: 'http', beat: 'ping', beatMs: HB },
  '/v1/chat/ws': { service: 'chat', auth: 'close', beat: 'message', beatMs: HB },
  '/v1/legacy/ws': { service: 'legacy', auth: 'none', beat: 'ping', beatMs: HB * 3, type: 'LegacyBookPublished' },
  '/v1/lax/ws': { service: 'lax', auth: 'decode', beat: 'ping', beatMs: HB },
  '/realtime/content': { service: 'content', auth: 'http', beat: 'ping', beatMs: HB },
  '/v1/quiet/ws': { service: 'quiet', auth: 'http', beat: 'none', autoPong: false },
  '/v1/big/ws': { service: 'big', auth: 'http', beat: 'ping', beatMs: HB, big: 10 * 1024 * 1024 },
  '/v1/binary/ws': { service: 'binary', auth: 'http', beat: 'ping', beatMs: HB, binary: true },
  '/v1/stall/ws': { service: 'stall', auth: 'stall', beat: 'ping', beatMs: HB },
};

const servers = {};
for (const [path, ep] of Object.entries(endpoints)) {
  servers[path] = new WebSocketServer({ noServer: true, autoPong: ep.autoPong !== false, maxPayload: 64 * 1024 * 1024 });
  servers[path].on('connection', (ws, req) => serve(ws, req, ep));
}

function serve(ws, req, ep) {
  if (ep.auth === 'close' && !verify(req)) {
    ws.close(1008, 'invalid or missing token');
    return;
  }
  const timers = [];
  const send = () => {
    if (ep.big) {
      ws.send(Buffer.alloc(ep.big, 'a'));
    } else if (ep.binary) {
      ws.send(crypto.randomBytes(64), { binary: true });
    } else {
      ws.send(event(ep.service, ep.type));
    }
  };
  send();
  timers.push(setInterval(send, EVENT_MS));
  if (ep.beat === 'ping') timers.push(setInterval(() => ws.ping(), ep.beatMs));
  if (ep.beat === 'message') timers.push(setInterval(() => ws.send('{"type":"heartbeat"}'), ep.beatMs));
  ws.on('close', () => timers.forEach(clearInterval));
  ws.on('error', () => timers.forEach(clearInterval));
}

const server = http.createServer((req, res) => {
  // Not a WebSocket endpoint: plain HTTP.
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('hello, this is not a WebSocket\n');
});

server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/v1/silent/ws') {
    return; // never answers: the socket is held open without a response
  }
  if (path === '/v1/plain/ws') {
    // does not speak WebSocket: a plain 200 page
    socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n');
    return;
  }
  const ep = endpoints[path];
  if (!ep) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    return;
  }
  if (ep.auth === 'stall' && !verify(req)) {
    return; // holds the socket without a response
  }
  const ok = ep.auth === 'http' ? verify(req) : ep.auth === 'decode' ? decodeOnly(req) : true;
  if (!ok) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
    return;
  }
  servers[path].handleUpgrade(req, socket, head, (ws) => servers[path].emit('connection', ws, req));
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
