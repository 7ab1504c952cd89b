// The Banter frame codec (shared/PROTOCOL.md §1, §3 and the §7–§10
// extensions): encodes the frames a client sends, decodes the frames a
// server sends, and cuts a byte stream into frames. No I/O, no state
// beyond the stream buffer; the session decides what frames mean.
//
// u64 fields (ids, tokens, nonces) are BigInt so they round-trip exactly;
// `ts` is a Number (milliseconds fit in 2^53).

export const T = Object.freeze({
  HELLO: 0x01, JOIN: 0x02, LEAVE: 0x03, SAY: 0x04, HISTORY: 0x05, TYPING: 0x06,
  WHO: 0x07, QUIT: 0x08, REGISTER: 0x09, MARK: 0x0a, UPLOAD: 0x0b, CHUNK: 0x0c,
  FETCH: 0x0d, PING: 0x0e, PONG: 0x0f,
  WELCOME: 0x21, ERROR: 0x22, JOINED: 0x23, LEFT: 0x24, MSG: 0x25, ACK: 0x26,
  PRESENCE: 0x27, USER_TYPING: 0x28, ROSTER: 0x29, HISTORY_END: 0x2a,
  NOTICE: 0x2b, REGISTERED: 0x2c, READ: 0x2d, DELIVERED: 0x2e, UNREAD: 0x2f,
  UPLOAD_READY: 0x30, FILE_DATA: 0x31,
});

export const FLAG_REPLAY = 1;
export const FLAG_FILE = 2;
export const FLAG_ACTION = 4;

// Error codes by number (§4, §7–§10), and which of them close the connection.
const CODES = [
  'BAD_FRAME', 'TOO_LARGE', 'BAD_VERSION', 'HELLO_FIRST', 'NAME_INVALID',
  'NAME_TAKEN', 'AUTH_FAILED', 'SERVER_FULL', 'TIMEOUT', 'SHUTTING_DOWN',
  'SLOW_CONSUMER', 'ROOM_INVALID', 'NOT_IN_ROOM', 'TEXT_INVALID',
  'RATE_LIMITED', 'UNKNOWN_TYPE', 'TOO_MANY_ROOMS', 'ALREADY_REGISTERED',
  'SUPERSEDED', 'AUTH_REQUIRED', 'PASSWORD_WEAK', 'STORAGE', 'TLS_REQUIRED',
  'NO_SUCH_USER', 'FILE_REFUSED', 'FILE_UNKNOWN',
];
const FATAL = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 20, 23]);
const AUTH_REQUIRED = 20;

/** The spec's name of an error code ("ERROR_99" for one we do not know). */
export function codeName(code) {
  return CODES[code - 1] || `ERROR_${code}`;
}

/** Whether the server closes the connection after this error: AUTH_REQUIRED
 *  only answering HELLO (naming a conversation as a guest is not fatal, §8). */
export function isFatal(code, about) {
  if (code === AUTH_REQUIRED) return about === T.HELLO;
  return FATAL.has(code);
}

export const DEFAULT_MAX_FRAME = 65536;
const MAX_STR = 65535;

const encoder = new TextEncoder();
// fatal: invalid UTF-8 makes the frame malformed (§1), never U+FFFD.
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A frame body shorter than its fields, or with invalid UTF-8. */
export class MalformedFrame extends Error {}

/** Builds one frame: length prefix, type, then the fields in order. */
class Writer {
  constructor(type) {
    this.buf = new Uint8Array(64);
    this.view = new DataView(this.buf.buffer);
    this.len = 5;
    this.view.setUint8(4, type);
  }

  room(n) {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8(v) { this.room(1); this.view.setUint8(this.len, v); this.len += 1; return this; }
  u16(v) { this.room(2); this.view.setUint16(this.len, v); this.len += 2; return this; }
  u32(v) { this.room(4); this.view.setUint32(this.len, v); this.len += 4; return this; }
  u64(v) { this.room(8); this.view.setBigUint64(this.len, BigInt(v)); this.len += 8; return this; }

  str(s) {
    const bytes = encoder.encode(s);
    if (bytes.length > MAX_STR) throw new RangeError('string over 65535 bytes');
    this.u16(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** The finished frame, `len` filled in. */
  done() {
    this.view.setUint32(0, this.len - 4);
    return this.buf.slice(0, this.len);
  }
}

const w = (type) => new Writer(type);

/** Encoders of the client frames, each returning a Uint8Array. */
export const encode = {
  hello: (name, password, resume) =>
    w(T.HELLO).u16(1).str(name).str(password).u64(resume).done(),
  join: (room, since, limit) => w(T.JOIN).str(room).u64(since).u16(limit).done(),
  leave: (room) => w(T.LEAVE).str(room).done(),
  // flags travel only when non-zero, so version-1 servers see plain SAYs.
  say: (room, seq, text, flags = 0) => {
    const f = w(T.SAY).str(room).u32(seq).str(text);
    if (flags) f.u8(flags);
    return f.done();
  },
  history: (room, before, limit) => w(T.HISTORY).str(room).u64(before).u16(limit).done(),
  typing: (room, active) => w(T.TYPING).str(room).u8(active ? 1 : 0).done(),
  who: (room) => w(T.WHO).str(room).done(),
  quit: (reason) => w(T.QUIT).str(reason).done(),
  register: (password) => w(T.REGISTER).str(password).done(),
  mark: (room, id) => w(T.MARK).str(room).u64(id).done(),
  upload: (seq, room, name, size, mime) =>
    w(T.UPLOAD).u32(seq).str(room).str(name).u64(size).str(mime).done(),
  chunk,
  fetch: (file, offset) => w(T.FETCH).str(file).u64(offset).done(),
  ping: (nonce) => w(T.PING).u64(nonce).done(),
  pong: (nonce) => w(T.PONG).u64(nonce).done(),
};

/** CHUNK {seq, offset, data}, built in one allocation: file data is most
 *  of what a page sends, and copying it twice would double the work. */
function chunk(seq, offset, data) {
  const frame = new Uint8Array(21 + data.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 17 + data.length);
  view.setUint8(4, T.CHUNK);
  view.setUint32(5, seq);
  view.setBigUint64(9, BigInt(offset));
  view.setUint32(17, data.length);
  frame.set(data, 21);
  return frame;
}

/** Reads the fields of one frame body in order. */
class Reader {
  constructor(body) {
    this.body = body;
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.body.length) throw new MalformedFrame('body too short');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  atEnd() { return this.pos >= this.body.length; }
  u8() { return this.view.getUint8(this.need(1)); }
  u16() { return this.view.getUint16(this.need(2)); }
  u32() { return this.view.getUint32(this.need(4)); }
  u64() { return this.view.getBigUint64(this.need(8)); }
  ts() { return Number(this.u64()); }

  str() {
    const n = this.u16();
    const at = this.need(n);
    try {
      return decoder.decode(this.body.subarray(at, at + n));
    } catch {
      throw new MalformedFrame('invalid UTF-8');
    }
  }

  /** `bytes` (§7–§10): u32 count, then that many bytes (a view, not a copy). */
  bytes() {
    const n = this.u32();
    const at = this.need(n);
    return this.body.subarray(at, at + n);
  }

  list() {
    const n = this.u16();
    const items = [];
    for (let i = 0; i < n; i++) items.push(this.str());
    return items;
  }
}

// One decoder per server frame type; bytes after the known fields are
// ignored (room for later versions, §1).
const DECODERS = {
  [T.WELCOME]: (r) => ({
    kind: 'welcome', version: r.u16(), name: r.str(), token: r.u64(), resumed: r.u8() !== 0,
    heartbeatMs: r.u32(), maxFrame: r.u32(), maxText: r.u32(), server: r.str(),
    features: r.atEnd() ? [] : r.list(),
  }),
  [T.ERROR]: (r) => ({
    kind: 'error', code: r.u16(), about: r.u8(), seq: r.u32(), detail: r.str(),
  }),
  [T.JOINED]: (r) => ({
    kind: 'joined', room: r.str(), lastId: r.u64(), members: r.u32(),
    read: r.atEnd() ? 0n : r.u64(),
  }),
  [T.LEFT]: (r) => ({ kind: 'left', room: r.str() }),
  [T.MSG]: decodeMsg,
  [T.ACK]: (r) => ({ kind: 'ack', seq: r.u32(), room: r.str(), id: r.u64(), ts: r.ts() }),
  [T.PRESENCE]: (r) => ({
    kind: 'presence', room: r.str(), name: r.str(), event: r.u8(), reason: r.str(),
  }),
  [T.USER_TYPING]: (r) => ({ kind: 'typing', room: r.str(), name: r.str(), active: r.u8() !== 0 }),
  [T.ROSTER]: (r) => ({ kind: 'roster', room: r.str(), more: r.u8() !== 0, names: r.list() }),
  [T.HISTORY_END]: (r) => ({
    kind: 'historyEnd', room: r.str(), count: r.u16(), more: r.u8() !== 0,
  }),
  [T.NOTICE]: (r) => ({ kind: 'notice', text: r.str() }),
  [T.REGISTERED]: (r) => ({ kind: 'registered', name: r.str() }),
  [T.READ]: (r) => ({ kind: 'read', room: r.str(), name: r.str(), id: r.u64() }),
  [T.DELIVERED]: (r) => ({ kind: 'delivered', room: r.str(), id: r.u64() }),
  [T.UNREAD]: (r) => ({
    kind: 'unread', room: r.str(), count: r.u32(), lastId: r.u64(), read: r.u64(),
  }),
  [T.UPLOAD_READY]: (r) => ({ kind: 'uploadReady', seq: r.u32(), offset: r.u64() }),
  [T.FILE_DATA]: (r) => ({
    kind: 'fileData', file: r.str(), offset: r.u64(), last: r.u8() !== 0, data: r.bytes(),
  }),
  [T.PING]: (r) => ({ kind: 'ping', nonce: r.u64() }),
  [T.PONG]: (r) => ({ kind: 'pong', nonce: r.u64() }),
};

function decodeMsg(r) {
  const m = {
    kind: 'msg', room: r.str(), id: r.u64(), ts: r.ts(), from: r.str(), flags: r.u8(),
    text: r.str(), file: null,
  };
  // A file message (§10) carries its reference after the text.
  if (m.flags & FLAG_FILE) m.file = { file: r.str(), size: r.u64(), mime: r.str() };
  return m;
}

/**
 * Decodes one server frame body. Returns null for a type this client does
 * not know (skipped, as the spec allows); throws MalformedFrame.
 */
export function decodeServer(type, body) {
  const decode = DECODERS[type];
  return decode ? decode(new Reader(body)) : null;
}

/** A stream framing error: `len = 0` or over the frame-size limit. */
export class FramingError extends Error {}

/**
 * Cuts a byte stream into frames: a WebSocket message may hold several
 * frames or part of one (§7), so bytes wait here until a frame is whole.
 */
export class Deframer {
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
    this.buf = new Uint8Array(0);
    this.start = 0;
  }

  push(bytes) {
    const rest = this.buf.subarray(this.start);
    const joined = new Uint8Array(rest.length + bytes.length);
    joined.set(rest);
    joined.set(bytes, rest.length);
    this.buf = joined;
    this.start = 0;
  }

  /** The next whole frame as {type, body}, or null until more bytes come. */
  next() {
    const avail = this.buf.length - this.start;
    if (avail < 4) return null;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.start, 4);
    const len = view.getUint32(0);
    if (len === 0) throw new FramingError('frame length 0');
    if (len > this.maxFrame) throw new FramingError(`frame of ${len} bytes over the limit`);
    if (avail < 4 + len) return null;
    const type = this.buf[this.start + 4];
    const body = this.buf.subarray(this.start + 5, this.start + 4 + len);
    this.start += 4 + len;
    return { type, body };
  }
}

/** Bytes of `s` in UTF-8. */
export function utf8Length(s) {
  return encoder.encode(s).length;
}

// The control characters chat text may not hold (§2): C0 but \t and \n,
// DEL and C1.
const REFUSED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Why the server would refuse `text` as SAY text, or null if it is fine. */
export function textProblem(text, maxText) {
  if (text.length === 0) return 'the message is empty';
  const n = utf8Length(text);
  if (n > maxText) return `the message is ${n} bytes, over the limit of ${maxText}`;
  const bad = REFUSED.exec(text);
  if (bad) {
    const hex = bad[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `the message holds the control character U+${hex}`;
  }
  return null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** Whether `s` is a valid user or room name (§2). */
export function isValidName(s) {
  return NAME.test(s);
}

/** Names compare ASCII-case-insensitively (§2). */
export function sameName(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}
