'use strict';
// The WebSocket broadcast server a user might write instead of Banter:
// Node.js and the `ws` package, one process, rooms in memory, no history.
// banter-bench drives it through its `wsbase://HOST:PORT/ws` target with the
// same load it gives banterd (see README.md beside this file).
//
// Protocol: every WebSocket text message, in either direction, is one line
// ending in "\n" (the server also takes one without it):
//   ping               -> pong
//   join ROOM          -> joined ROOM
//   pub ROOM PAYLOAD   -> "msg ROOM PAYLOAD" to every other member of ROOM,
//                         then "ok N" (N = members it went to)
//   quit               -> close 1000
//   anything else      -> err TEXT
//
// Usage: node server.js [--bind IP] [--port N] [--path /ws]
//                       [--tls-cert PEM --tls-key PEM] [--out-limit BYTES]

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const ROOM = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function usage(why) {
  process.stderr.write(`ws-baseline: ${why}\n` +
    'usage: node server.js [--bind IP] [--port N] [--path /ws] ' +
    '[--tls-cert PEM --tls-key PEM] [--out-limit BYTES]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { bind: '127.0.0.1', port: 8080, path: '/ws', cert: null, key: null,
    outLimit: 4 * 1024 * 1024 };
  const names = { '--bind': 'bind', '--port': 'port', '--path': 'path',
    '--tls-cert': 'cert', '--tls-key': 'key', '--out-limit': 'outLimit' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name) usage(`unknown option ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[name] = argv[i + 1];
  }
  opts.port = Number(opts.port);
  opts.outLimit = Number(opts.outLimit);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  if (!Number.isInteger(opts.outLimit) || opts.outLimit < 1) usage('bad --out-limit');
  if (!opts.cert !== !opts.key) usage('--tls-cert and --tls-key go together');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
/** Room name -> Set of the sockets joined to it. */
const rooms = new Map();

function notFound(req, res) {
  res.writeHead(404, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('not found\n');
}

const server = opts.cert
  ? https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) },
    notFound)
  : http.createServer(notFound);
const wss = new WebSocketServer({ server, path: opts.path, perMessageDeflate: false,
  maxPayload: 65536 + 4 });

// Sends a prepared line; a client whose unsent output passes the limit is
// dropped rather than slowing everyone (what banterd's --out-limit does).
function deliver(ws, line) {
  if (ws.bufferedAmount > opts.outLimit) {
    ws.terminate();
    return false;
  }
  ws.send(line, { binary: false });
  return true;
}

function join(ws, joined, room) {
  if (!ROOM.test(room)) return deliver(ws, 'err bad room name\n');
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  joined.add(room);
  return deliver(ws, `joined ${room}\n`);
}

function publish(ws, rest) {
  const sp = rest.indexOf(' ');
  if (sp <= 0) return deliver(ws, 'err pub needs ROOM PAYLOAD\n');
  const room = rest.slice(0, sp);
  const members = rooms.get(room);
  let n = 0;
  if (members) {
    const line = Buffer.from(`msg ${room} ${rest.slice(sp + 1)}\n`);
    for (const m of members) {
      if (m !== ws && deliver(m, line)) n += 1;
    }
  }
  return deliver(ws, `ok ${n}\n`);
}

function onMessage(ws, joined, data, isBinary) {
  if (isBinary) return deliver(ws, 'err text messages only\n');
  let s = data.toString();
  if (s.endsWith('\n')) s = s.slice(0, -1);
  const sp = s.indexOf(' ');
  const cmd = sp < 0 ? s : s.slice(0, sp);
  const rest = sp < 0 ? '' : s.slice(sp + 1);
  switch (cmd) {
    case 'ping': return deliver(ws, 'pong\n');
    case 'join': return join(ws, joined, rest);
    case 'pub': return publish(ws, rest);
    case 'quit': return ws.close(1000, 'bye');
    default: return deliver(ws, 'err unknown command\n');
  }
}

wss.on('connection', (ws) => {
  const joined = new Set();
  ws.on('message', (data, isBinary) => onMessage(ws, joined, data, isBinary));
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    for (const room of joined) {
      const members = rooms.get(room);
      members.delete(ws);
      if (members.size === 0) rooms.delete(room);
    }
  });
});

server.listen({ host: opts.bind, port: opts.port, backlog: 4096 }, () => {
  const a = server.address();
  process.stderr.write(`listening on ${a.address}:${a.port}\n`);
});
server.on('error', (e) => {
  process.stderr.write(`ws-baseline: ${e.message}\n`);
  process.exit(1);
});

function shutdown() {
  server.close();
  for (const ws of wss.clients) ws.close(1001, 'shutting down');
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
