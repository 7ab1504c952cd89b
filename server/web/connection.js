// One WebSocket at a time to banterd's `/ws` (subprotocol banter.1, binary
// messages carrying the Banter byte stream, §7): the handshake, PING/PONG
// both ways, noticing a silent server after twice its heartbeat, and
// reconnecting with exponential backoff and jitter, forever, until the user
// signs out. Frames go to the Session; what they mean is its business. It
// also holds the file transfers (uploads.js, downloads.js).
//
// It renders nothing: it reports its state through `emit`.

import { Deframer, DEFAULT_MAX_FRAME, FramingError, MalformedFrame, codeName, decodeServer,
  encode, isFatal } from './codec.js';
import { Session } from './session.js';
import { Uploads } from './uploads.js';
import { Downloads } from './downloads.js';

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
/** Heartbeat assumed until WELCOME announces the server's (also bounds the handshake). */
const DEFAULT_HEARTBEAT_MS = 5000;
/** Pause before resending SAYs refused as RATE_LIMITED. */
const THROTTLE_PAUSE_MS = 1000;
const TICK_MS = 250;

/** Errors after which the name must be asked for again. */
const NAME_ERRORS = new Set(['NAME_TAKEN', 'NAME_INVALID', 'AUTH_FAILED', 'AUTH_REQUIRED',
  'TLS_REQUIRED']);
/** Errors after which retrying on our own cannot help. */
const GIVE_UP = new Set(['SUPERSEDED', 'BAD_VERSION', 'HELLO_FIRST']);

/** The WebSocket address of the page's own server. */
export function socketUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

/** The wait before reconnect attempt `n` (1-based): base·2^(n-1) capped,
 *  then a random point in its upper half so clients do not come back in step. */
export function backoffMs(n, random = Math.random) {
  const full = Math.min(BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 16), BACKOFF_CAP_MS);
  return Math.round(full / 2 + random() * (full / 2));
}

export class Connection {
  constructor(url, emit) {
    this.url = url;
    this.emit = emit;
    this.session = new Session((bytes) => this.write(bytes), (e) => this.onSessionEvent(e));
    this.uploads = new Uploads(this.session, (e) => this.emit(e));
    this.downloads = new Downloads(this.session);
    this.session.uploads = this.uploads;
    this.session.downloads = this.downloads;
    this.ws = null;
    this.deframer = null;
    this.welcomed = false;
    this.heartbeatMs = DEFAULT_HEARTBEAT_MS;
    this.lastHeard = 0; // when anything last arrived (or the attempt began)
    this.nextPing = 0;
    this.ping = null; // our PING awaiting its PONG: {nonce, at}
    this.nonce = 0n;
    this.attempt = 0; // reconnect attempts since the last WELCOME
    this.state = 'idle'; // idle | connecting | connected | waiting | offline
    this.retryTimer = null;
    this.throttleTimer = null;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  /** Signs in as `name` (the first connection of a page, or after sign-out);
   *  a restored session keeps its token, to resume. */
  start(name, password) {
    Object.assign(this.session, { name, password });
    this.attempt = 0;
    this.connect();
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit({ kind: 'state', state, attempt: this.attempt, ...extra });
  }

  connect() {
    this.drop();
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    this.lastHeard = Date.now();
    this.deframer = new Deframer(DEFAULT_MAX_FRAME);
    let ws;
    try {
      ws = new WebSocket(this.url, 'banter.1');
    } catch (err) {
      return this.lost(`cannot open ${this.url}: ${err.message}`);
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (ws.protocol !== 'banter.1') return this.lost('the server did not accept banter.1');
      ws.send(this.session.hello());
    };
    ws.onmessage = (ev) => this.onData(ev.data);
    ws.onclose = (ev) => this.lost(closeReason(ev));
    ws.onerror = () => {}; // onclose follows with the details
    this.ws = ws;
  }

  /** Closes the socket without triggering a reconnect. */
  drop() {
    if (!this.ws) return;
    const ws = this.ws;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
    this.ws = null;
    this.welcomed = false;
    this.ping = null;
    this.session.onDisconnect();
    this.uploads.onDisconnect();
  }

  write(bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  onData(data) {
    if (typeof data === 'string') return this.lost('the server sent a text message');
    this.lastHeard = Date.now();
    this.deframer.push(new Uint8Array(data));
    try {
      for (let f = this.deframer.next(); f && this.ws; f = this.deframer.next()) {
        this.onFrame(f.type, f.body);
      }
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.lost(`bad framing from the server: ${err.message}`);
    }
  }

  onFrame(type, body) {
    let f;
    try {
      f = decodeServer(type, body);
    } catch (err) {
      if (err instanceof MalformedFrame) return; // skipped, like an unknown type
      throw err;
    }
    if (!f) return;
    switch (f.kind) {
      case 'ping': return this.write(encode.pong(f.nonce));
      case 'pong': return this.onPong(f.nonce);
      case 'welcome': return this.onWelcome(f);
      case 'error':
        if (isFatal(f.code, f.about)) return this.onFatal(codeName(f.code), f.detail);
        return this.session.handle(f);
      default: return this.session.handle(f);
    }
  }

  onWelcome(w) {
    this.welcomed = true;
    this.attempt = 0;
    this.heartbeatMs = Math.max(w.heartbeatMs, 100);
    this.nextPing = Date.now() + this.heartbeatMs;
    this.deframer.maxFrame = Math.max(w.maxFrame, DEFAULT_MAX_FRAME);
    this.setState('connected');
    // The session re-joins its rooms first: the UI's own first JOINs follow.
    this.session.onWelcome(w);
    this.uploads.onWelcome();
    this.downloads.onWelcome();
    this.emit({ kind: 'welcome', name: w.name, resumed: w.resumed, features: w.features });
  }

  onPong(nonce) {
    if (this.ping && this.ping.nonce === nonce) {
      this.emit({ kind: 'lag', ms: Date.now() - this.ping.at });
      this.ping = null;
    }
  }

  onFatal(code, detail) {
    if (NAME_ERRORS.has(code)) {
      this.stop('idle');
      this.session.token = 0n;
      return this.emit({ kind: 'nameRefused', code, detail });
    }
    if (GIVE_UP.has(code)) return this.stop('offline', `${code}: ${detail}`);
    return this.lost(`${code}: ${detail}`);
  }

  /** Ends the connection for good: `idle` (sign-in again) or `offline`. */
  stop(state, reason = '') {
    this.drop();
    clearTimeout(this.retryTimer);
    this.setState(state, { reason });
  }

  /** The connection ended (or never began): wait, then try again. */
  lost(reason) {
    if (this.state === 'idle' || this.state === 'offline') return;
    this.drop();
    this.attempt += 1;
    const delay = backoffMs(this.attempt);
    this.setState('waiting', { reason, until: Date.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Skips a reconnect wait, or leaves offline, at the user's request. */
  retryNow() {
    if (this.state === 'waiting' || this.state === 'offline') this.connect();
  }

  /** Liveness and our own PINGs, checked a few times a second. */
  tick() {
    if (!this.ws) return;
    this.uploads.tick();
    const now = Date.now();
    const silent = now - this.lastHeard;
    if (silent >= 2 * this.heartbeatMs) {
      return this.lost(`no answer from the server for ${(silent / 1000).toFixed(1)} s`);
    }
    if (this.welcomed && !this.ping && now >= this.nextPing) {
      this.nonce += 1n;
      this.ping = { nonce: this.nonce, at: now };
      this.nextPing = now + this.heartbeatMs;
      this.write(encode.ping(this.nonce));
    }
  }

  onSessionEvent(e) {
    if (e.kind === 'sayHeld' && !this.throttleTimer) {
      this.throttleTimer = setTimeout(() => {
        this.throttleTimer = null;
        this.session.releaseHeld();
      }, THROTTLE_PAUSE_MS);
    }
    this.emit(e);
  }

  /** Stops every timer: this connection is thrown away. */
  dispose() {
    clearInterval(this.ticker);
    clearTimeout(this.retryTimer);
    clearTimeout(this.throttleTimer);
    this.uploads.dispose(); // first: dropping the socket reports nothing then
    this.drop();
  }

  /** Says goodbye (QUIT) and stops; the session ends at the server. */
  quit(reason = '') {
    if (this.welcomed) this.write(encode.quit(reason));
    const ws = this.ws;
    this.ws = null; // let the QUIT leave before the close
    if (ws) {
      ws.onclose = ws.onmessage = null;
      setTimeout(() => ws.close(1000), 1000); // the server closes first after QUIT
    }
    this.welcomed = false;
    this.session.onDisconnect();
    clearTimeout(this.retryTimer);
    this.setState('idle', { reason: 'signed out' });
  }
}

function closeReason(ev) {
  if (ev.code === 1006) return 'the connection broke off';
  return `connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
}
