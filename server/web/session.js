// The session as the page keeps it across connections (the model is the
// terminal client's session): name, password, resume token, SAY numbering,
// the SAYs not yet acknowledged, and per room the ids already shown, so a
// replay after a reconnect shows nothing twice and loses nothing.
//
// It turns server frames into events for the UI and hands frames to send
// to `send`; it owns no socket and no timer (see connection.js), and knows
// nothing of the DOM. File transfers are uploads.js's and downloads.js's:
// it hands them their frames and tells them when a room is caught up.

import { encode, codeName, sameName, textProblem, FLAG_REPLAY, FLAG_ACTION, T } from './codec.js';

/** Messages asked for on a first JOIN, and when catching up. */
export const JOIN_LIMIT = 50;
export const CATCH_UP_LIMIT = 1000;
/** Messages asked for per HISTORY page. */
export const HISTORY_PAGE = 50;

const PRESENCE = { 1: 'joined', 2: 'left', 3: 'quit', 4: 'lost' };

/** What the page knows of one room or `@name` conversation. */
class RoomSync {
  constructor() {
    this.lastId = 0n; // newest id shown (or acknowledged)
    this.firstId = 0n; // oldest id shown: HISTORY asks for what is before it
    this.seen = new Set(); // every id shown, so a replay never shows one twice
    this.catchUpFrom = null; // after a reconnect: the last id seen before it
    this.reset = false; // the server restarted this room's ids: drop the stale replay
    this.loadingHistory = false; // a HISTORY is in flight
    this.joined = false; // a JOINED arrived once: later JOINs catch up
    // Restored after a page reload: its first JOIN shows the newest page, in
    // which our own messages whose ACK the reload lost count as acknowledged.
    this.restored = false;
    // More was missed than one catch-up holds: older pages are fetched down
    // to this id (the last seen before the outage), starting below replayMin.
    this.gapTo = null;
    this.replayMin = 0n; // the oldest id of the catch-up (and its gap pages)
  }
}

export class Session {
  /** `send(bytes)` writes a frame when online; `emit(event)` tells the UI. */
  constructor(send, emit) {
    this.send = send;
    this.emit = emit;
    this.name = '';
    this.password = '';
    this.registering = null; // a REGISTER in flight: the password to keep
    this.token = 0n;
    this.nextSeq = 1; // keeps counting across sessions: seqs never repeat
    this.pending = new Map(); // seq -> {room, text, flags, state: 'pending'|'held'|'failed'}
    this.rooms = new Map(); // room -> RoomSync
    this.joins = []; // JOINs not answered, oldest first (an ERROR names no room)
    this.roster = new Map(); // room -> names gathered from ROSTERs with more = 1
    this.maxText = 4096;
    this.maxFrame = 65536;
    this.online = false;
    this.uploads = null; // the Uploads (set by the connection): shares the seq numbering
    this.downloads = null; // the Downloads (set by the connection)
    this.features = null; // WELCOME.features: what this server offers (null: no WELCOME yet)
  }

  /** Whether the server offers `feature` ('dm', 'receipts', …). */
  offers(feature) {
    return this.features !== null && this.features.includes(feature);
  }

  hello() {
    return encode.hello(this.name, this.password, this.token);
  }

  /** After WELCOME: re-JOIN every room from the last id seen, and resend the
   *  SAYs of rooms that need no catch-up (their resend waits for the replay). */
  onWelcome(w) {
    this.token = w.token;
    this.name = w.name;
    this.maxText = w.maxText;
    this.maxFrame = w.maxFrame;
    this.features = w.features;
    this.online = true;
    this.joins = [];
    this.roster.clear();
    for (const [room, r] of this.rooms) {
      // A room joined before catches up from the last id seen; one never
      // joined yet (asked for while offline) gets a first JOIN.
      r.catchUpFrom = r.joined ? r.lastId : r.restored ? 0n : null;
      r.loadingHistory = false;
      this.sendJoin(room);
    }
    for (const [seq, p] of this.pending) {
      if (p.state !== 'failed' && !this.rooms.has(p.room)) this.sendSay(seq);
    }
  }

  onDisconnect() {
    this.online = false;
    this.joins = [];
  }

  sendJoin(room) {
    this.joins.push(room);
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = new RoomSync()));
    r.replayMin = 0n;
    r.gapTo = null;
    this.send(encode.join(room, r.lastId, r.joined ? CATCH_UP_LIMIT : JOIN_LIMIT));
  }

  /** JOIN `room` (joining again is harmless: it catches up). */
  join(room) {
    if (this.online) this.sendJoin(room);
    else if (!this.rooms.has(room)) this.rooms.set(room, new RoomSync());
  }

  /** TYPING: the user is typing in `room` (or stopped). */
  typing(room, active) {
    if (this.online) this.send(encode.typing(room, active));
  }

  leave(room) {
    this.send(encode.leave(room));
  }

  /** MARK: the user has seen `room` up to `id`. False when it cannot go now. */
  mark(room, id) {
    if (!this.online || !this.offers('receipts')) return false;
    this.send(encode.mark(room, id));
    return true;
  }

  /** Asks for older messages of `room`; false when there is nothing to ask. */
  loadOlder(room) {
    const r = this.rooms.get(room);
    if (!r || !this.online || r.loadingHistory || r.firstId <= 1n) return false;
    r.loadingHistory = true;
    this.send(encode.history(room, r.firstId, HISTORY_PAGE));
    return true;
  }

  /** The next seq: SAY and UPLOAD number from the same count (§10). */
  takeSeq() {
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1;
    return seq;
  }

  /** Whether `room` is joined and caught up, so what waits for it may go. */
  ready(room) {
    const r = this.rooms.get(room);
    return this.online && !!r && r.joined && !r.reset && r.catchUpFrom === null && r.gapTo === null;
  }

  /** Numbers a new SAY and keeps it until its ACK. Returns its seq, or throws
   *  an Error whose message says why the server would refuse the text. */
  say(room, text, flags = 0) {
    const problem = textProblem(text, this.maxText);
    if (problem) throw new Error(problem);
    const seq = this.takeSeq();
    this.pending.set(seq, { room, text, flags, state: 'pending' });
    if (this.online) this.sendSay(seq);
    return seq;
  }

  /** (Re)sends pending `seq` with its original seq, so the server de-dups it. */
  sendSay(seq) {
    const p = this.pending.get(seq);
    if (!p) return;
    p.state = 'pending';
    if (this.online) this.send(encode.say(p.room, seq, p.text, p.flags));
  }

  /** The user asked to retry a failed message. */
  retry(seq) {
    const p = this.pending.get(seq);
    if (!p) return this.uploads && this.uploads.retry(seq);
    p.state = 'pending';
    this.emit({ kind: 'sayPending', seq });
    this.sendSay(seq);
  }

  /** Resends the SAYs refused as RATE_LIMITED (called after a pause). */
  releaseHeld() {
    for (const [seq, p] of this.pending) if (p.state === 'held') this.sendSay(seq);
  }

  unsent() {
    let n = 0;
    for (const p of this.pending.values()) if (p.state !== 'failed') n++;
    return n;
  }

  register(password) {
    this.registering = password;
    this.send(encode.register(password));
  }

  /** What a reloaded page needs to resume this session (no password). */
  snapshot() {
    const pending = [...this.pending].map(([seq, p]) => [seq, p.room, p.text, p.flags, p.state]);
    return { name: this.name, token: String(this.token), nextSeq: this.nextSeq,
      registered: this.password !== '', rooms: [...this.rooms.keys()], pending };
  }

  /** Takes over a snapshot: its token resumes the session, its pending
   *  SAYs go out again with their seqs once their room is joined. */
  restore(snap) {
    this.name = String(snap.name);
    this.token = BigInt(snap.token);
    this.nextSeq = Number(snap.nextSeq) || 1;
    for (const room of snap.rooms) {
      const r = new RoomSync();
      r.restored = true;
      this.rooms.set(String(room), r);
    }
    for (const [seq, room, text, flags, state] of snap.pending) {
      this.pending.set(Number(seq), { room: String(room), text: String(text),
        flags: Number(flags), state: state === 'failed' ? 'failed' : 'pending' });
    }
  }

  /** Records `id` of `room` as shown; false if it already was. */
  markSeen(room, id) {
    const r = this.rooms.get(room);
    if (!r) return true;
    if (r.seen.has(id)) return false;
    r.seen.add(id);
    if (id > r.lastId) r.lastId = id;
    if (r.firstId === 0n || id < r.firstId) r.firstId = id;
    return true;
  }

  /** The page no longer shows what is older than `id` in `room`: HISTORY
   *  may bring it back (and it must not be taken for a repeat then). */
  forgetBefore(room, id) {
    const r = this.rooms.get(room);
    if (!r) return;
    for (const seen of r.seen) if (seen < id) r.seen.delete(seen);
    r.firstId = id;
  }

  /** Handles one decoded server frame (not WELCOME, PING/PONG or a fatal
   *  ERROR: the connection handles those). */
  handle(f) {
    switch (f.kind) {
      case 'msg': return this.onMsg(f);
      case 'ack': return this.onAck(f);
      case 'error': return this.onError(f);
      case 'joined': return this.onJoined(f);
      case 'historyEnd': return this.onHistoryEnd(f);
      case 'roster': return this.onRoster(f);
      case 'left':
        this.rooms.delete(f.room);
        return this.emit({ kind: 'left', room: f.room });
      case 'presence':
        if (!PRESENCE[f.event]) return undefined;
        return this.emit({ ...f, what: PRESENCE[f.event] });
      case 'registered': return this.onRegistered(f);
      case 'unread': return this.onUnread(f);
      case 'uploadReady': return this.uploads && this.uploads.onReady(f);
      case 'fileData': return this.downloads && this.downloads.onData(f);
      default: return this.emit(f); // typing, notice, read, delivered
    }
  }

  onMsg(m) {
    // A conversation opens on its first message: JOIN it (before the message
    // counts as seen, so the JOIN asks for what came before it too), to get
    // its context, its receipts and a catch-up after reconnects.
    if (m.room.startsWith('@') && !this.rooms.has(m.room)) this.join(m.room);
    const r = this.rooms.get(m.room);
    const catchUpFrom = r ? r.catchUpFrom ?? r.gapTo : null;
    if ((r && r.reset) || !this.markSeen(m.room, m.id)) return;
    if (catchUpFrom !== null && (r.replayMin === 0n || m.id < r.replayMin)) r.replayMin = m.id;
    const replay = (m.flags & FLAG_REPLAY) !== 0;
    // A replayed message of ours, stored before its ACK was lost: it
    // acknowledges the pending SAY instead of showing twice.
    if (replay && sameName(m.from, this.name) && catchUpFrom !== null && m.id > catchUpFrom) {
      if (m.file && this.uploads && this.uploads.replayed(m)) return;
      for (const [seq, p] of this.pending) {
        if (p.state !== 'failed' && p.room === m.room && p.text === m.text) {
          this.pending.delete(seq);
          this.emit({ kind: 'acked', seq, room: m.room, id: m.id, ts: m.ts });
          return;
        }
      }
    }
    const action = (m.flags & FLAG_ACTION) !== 0;
    // The first page of a room (and a gap page) goes above; a catch-up below.
    const first = catchUpFrom === null || r.restored || r.gapTo !== null;
    this.emit({ ...m, replay, action, older: replay && first, catchUp: replay && !first });
  }

  onAck(a) {
    this.markSeen(a.room, a.id);
    if (!this.pending.delete(a.seq)) return this.uploads && this.uploads.onAck(a);
    this.emit({ kind: 'acked', seq: a.seq, room: a.room, id: a.id, ts: a.ts });
  }

  /** JOINED. A room whose newest id is below the last one we saw was
   *  restarted without its history: forget its ids, ignore the replay this
   *  JOIN brings, and JOIN again from 0. */
  onJoined(j) {
    const i = this.joins.indexOf(j.room);
    if (i >= 0) this.joins.splice(i, 1);
    let r = this.rooms.get(j.room);
    if (!r) this.rooms.set(j.room, (r = new RoomSync()));
    r.joined = true;
    if (j.lastId < r.lastId) {
      const fresh = new RoomSync();
      fresh.joined = true;
      fresh.reset = true;
      fresh.catchUpFrom = 0n;
      this.rooms.set(j.room, fresh);
      this.sendJoin(j.room);
      this.emit({ kind: 'roomReset', room: j.room });
    }
    this.emit({ kind: 'joined', room: j.room, members: j.members, lastId: j.lastId,
      read: j.read });
  }

  /** UNREAD after WELCOME: a conversation with messages the user has not
   *  read. One not open yet is joined (its newest page shows it). */
  onUnread(u) {
    if (!this.rooms.has(u.room)) this.join(u.room);
    this.emit(u);
  }

  onHistoryEnd(h) {
    const r = this.rooms.get(h.room);
    if (!r) return;
    if (r.reset) {
      r.reset = false;
      return;
    }
    const since = r.catchUpFrom ?? r.gapTo;
    const wasHistory = since === null && r.loadingHistory;
    r.loadingHistory = false;
    if (since !== null) {
      const restored = r.restored;
      r.catchUpFrom = null;
      r.restored = false;
      if (h.more && !restored && r.replayMin > since + 1n) {
        // Fetch the rest of what was missed before resending anything, so
        // a message of ours stored before its ACK was lost is found first.
        r.gapTo = since;
        r.loadingHistory = true;
        this.send(encode.history(h.room, r.replayMin, CATCH_UP_LIMIT));
        return;
      }
      r.gapTo = null;
      // The replay is complete: now resend this room's unacknowledged SAYs.
      for (const [seq, p] of this.pending) {
        if (p.state !== 'failed' && p.room === h.room) this.sendSay(seq);
      }
    }
    if (this.uploads) this.uploads.roomReady(h.room);
    // more = 0 on a page from the oldest end: nothing older is kept.
    const olderExist = h.more || (wasHistory ? false : r.firstId > 1n);
    this.emit({ kind: 'historyEnd', room: h.room, count: h.count, olderExist,
      joinReplay: !wasHistory });
  }

  onError(e) {
    if (this.uploads && this.uploads.onError(e)) return undefined;
    if (this.downloads && this.downloads.onError(e)) return undefined;
    const name = codeName(e.code);
    const p = e.about === T.SAY && e.seq !== 0 ? this.pending.get(e.seq) : null;
    if (p) {
      if (name === 'RATE_LIMITED') {
        p.state = 'held';
        return this.emit({ kind: 'sayHeld', seq: e.seq });
      }
      p.state = 'failed';
      const failed = { kind: 'sayFailed', seq: e.seq, room: p.room, code: name, detail: e.detail };
      return this.emit(failed);
    }
    if (e.about === T.JOIN) {
      // JOINs are answered in order, and an ERROR names no room.
      const room = this.joins.shift();
      const r = room && this.rooms.get(room);
      if (r && r.lastId === 0n) this.rooms.delete(room);
      return this.emit({ kind: 'joinFailed', room, code: name, detail: e.detail });
    }
    if (e.about === T.HISTORY) {
      for (const r of this.rooms.values()) r.loadingHistory = false;
    }
    if (e.about === T.REGISTER) this.registering = null;
    return this.emit({ kind: 'error', code: name, detail: e.detail });
  }

  onRoster(f) {
    const acc = this.roster.get(f.room) || [];
    acc.push(...f.names);
    if (f.more) {
      this.roster.set(f.room, acc);
      return;
    }
    this.roster.delete(f.room);
    this.emit({ kind: 'roster', room: f.room, names: acc });
  }

  onRegistered(f) {
    if (this.registering !== null) this.password = this.registering;
    this.registering = null;
    this.emit({ kind: 'registered', name: f.name });
  }
}
