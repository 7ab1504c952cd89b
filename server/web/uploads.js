// Uploads (§10) from the page's side. Each file the user picks, drops or
// pastes gets a seq from the session's count (SAY and UPLOAD share it),
// goes out as UPLOAD, then as CHUNKs read from the File one slice at a
// time, until its ACK. After a reconnect the same UPLOAD goes again, once
// its room has caught up, and the upload continues from the offset the
// server names. One upload moves at a time; the others wait their turn.
//
// Flow control: the same UPLOAD, repeated after every 256 KiB of CHUNKs,
// is a probe the server answers with how much has arrived (§10, before its
// rate limit). At most WINDOW bytes go out beyond what the server has
// confirmed: so the progress shown is what arrived (a browser swallows
// megabytes at once, whatever the link), a large file is never all in
// memory, chat never waits behind much, and Cancel works until the last
// window is on its way.
//
// No DOM: it reports through `emit`; the connection calls it.

import { encode, codeName, T } from './codec.js';
import { uploadName, uploadType } from './filetypes.js';

/** Bytes sent beyond what the server has confirmed, at most. */
const WINDOW = 2 << 20;
/** A probe follows every this many bytes of CHUNKs. */
const PROBE_EVERY = 256 << 10;
/** Progress is reported at most this often (and on every change of state). */
const PROGRESS_MS = 100;
/** Pause before an UPLOAD refused as RATE_LIMITED goes again. */
const HELD_MS = 1000;
/** A refused CHUNK makes us ask the server for the offset again, this often at most. */
const MAX_REASKS = 3;

/** One file on its way. */
class Upload {
  constructor(seq, room, file) {
    this.seq = seq;
    this.room = room;
    this.file = file; // the File: read a slice at a time, never whole
    this.name = uploadName(file.name); // as sent: the server's rules (§10)
    this.mime = uploadType(file.type);
    this.size = file.size;
    // queued (its turn, a connection or its room to come), asking (UPLOAD
    // sent), sending (CHUNKs), storing (every byte sent, the ACK to come),
    // held (rate limited), failed (refused: Retry or Cancel)
    this.state = 'queued';
    this.asked = false; // an UPLOAD went out: the server may hold some of it
    this.sent = 0; // bytes handed to the socket: the next CHUNK's offset
    this.confirmed = 0; // bytes the server said it has: the progress shown
    this.probedAt = 0; // `sent` when the last probe went
    this.resumedAt = 0; // where the server said to go on after a reconnect (0: from the start)
    this.reasks = 0; // UPLOADs sent again after a refused CHUNK
    // What each UPLOAD awaiting its answer was, oldest first ('ask': where
    // to go on from; 'probe': progress only): answers come in order.
    this.asks = [];
  }
}

export class Uploads {
  /** `emit(event)` tells the UI. */
  constructor(session, emit) {
    this.session = session;
    this.emit = emit;
    this.list = new Map(); // seq -> Upload, in the order they were added
    this.epoch = 0; // moves on with every connection: a slice read across one is not sent
    this.reading = false; // a slice is being read: one pump at a time
    this.reported = new Map(); // seq -> {state, at}: the last progress report
  }

  /** An upload of `file` to `room` (it goes on `begin`). Throws an Error
   *  saying why the page will not send it (the server's own limits come
   *  back as refusals). */
  add(room, file) {
    const s = this.session;
    if (s.features === null) throw new Error('not connected yet: send the file once connected');
    if (!s.offers('files')) throw new Error('this server does not take files');
    if (file.size === 0) throw new Error(`"${file.name || 'the file'}" is empty: nothing to send`);
    const up = new Upload(s.takeSeq(), room, file);
    this.list.set(up.seq, up);
    return up;
  }

  /** Lets an upload `add` made go, once the page shows it (it reports at once). */
  begin(up) {
    this.report(up, true);
    this.next();
  }

  /** Uploads with bytes still to move (leaving the page loses them). */
  count() {
    let n = 0;
    for (const up of this.list.values()) if (up.state !== 'failed') n += 1;
    return n;
  }

  /** The upload whose turn it is: the oldest that has not failed. */
  current() {
    for (const up of this.list.values()) if (up.state !== 'failed') return up;
    return null;
  }

  /** Starts the current upload when it can go: online, its room caught up. */
  next() {
    const up = this.current();
    if (!up || up.state !== 'queued') return;
    if (!this.session.rooms.has(up.room)) {
      return this.fail(up, 'NOT_IN_ROOM', 'you are no longer in this room');
    }
    if (!this.session.ready(up.room)) return undefined;
    this.ask(up);
    return undefined;
  }

  /** UPLOAD: the server answers how much it has (or refuses). */
  ask(up) {
    up.state = 'asking';
    up.asked = true;
    this.upload(up, 'ask');
    this.report(up, true);
  }

  upload(up, kind) {
    up.asks.push(kind);
    this.session.send(encode.upload(up.seq, up.room, up.name, up.size, up.mime));
  }

  /** UPLOAD_READY: a probe's progress, or where to go on from. */
  onReady(f) {
    const up = this.list.get(f.seq);
    if (!up) return undefined; // cancelled meanwhile
    const offset = Number(f.offset);
    if (up.asks.shift() === 'probe') {
      up.confirmed = Math.max(up.confirmed, Math.min(offset, up.size));
      this.report(up);
      return this.pump(); // the window moved on
    }
    if (up.state !== 'asking') return undefined;
    if (offset > up.size) return this.fail(up, 'BAD_OFFSET', 'the server holds more than the file');
    if (offset > 0) up.resumedAt = offset;
    up.confirmed = offset;
    up.sent = offset;
    up.probedAt = offset;
    up.state = offset === up.size ? 'storing' : 'sending';
    this.report(up, true);
    return this.pump();
  }

  /** Sends CHUNKs, a slice at a time, while the window allows. */
  async pump() {
    if (this.reading) return;
    this.reading = true;
    try {
      for (;;) {
        const up = this.current();
        if (!up || up.state !== 'sending' || !this.session.online) return;
        if (up.sent - up.confirmed >= WINDOW) return; // a probe's answer moves it
        const epoch = this.epoch;
        const end = Math.min(up.sent + Math.max(1024, this.session.maxFrame - 128), up.size);
        let data;
        try {
          data = new Uint8Array(await up.file.slice(up.sent, end).arrayBuffer());
        } catch (err) {
          return this.fail(up, 'UNREADABLE', `the file cannot be read any more (${err.message})`);
        }
        // Cancelled, refused or reconnected while reading: look again.
        if (epoch !== this.epoch || this.current() !== up || up.state !== 'sending') continue;
        this.session.send(encode.chunk(up.seq, up.sent, data));
        up.sent = end;
        if (up.sent === up.size) up.state = 'storing';
        if (up.sent - up.probedAt >= PROBE_EVERY || up.sent === up.size) {
          up.probedAt = up.sent;
          this.upload(up, 'probe');
        }
        this.report(up, up.state === 'storing');
      }
    } finally {
      this.reading = false;
    }
  }

  /** A few times a second (the connection's tick): a probe when none is
   *  out, and the latest progress (a report skipped as too soon shows now). */
  tick() {
    const up = this.current();
    if (!up || (up.state !== 'sending' && up.state !== 'storing')) return;
    if (up.asks.length === 0 && up.confirmed < up.size) this.upload(up, 'probe');
    this.report(up);
  }

  /** ACK of an upload's seq: stored and posted. True if it was one of ours. */
  onAck(a) {
    const up = this.list.get(a.seq);
    if (!up) return false;
    this.done(up, a.id, a.ts);
    return true;
  }

  done(up, id, ts) {
    this.list.delete(up.seq);
    this.reported.delete(up.seq);
    this.emit({ kind: 'uploadAcked', seq: up.seq, room: up.room, id, ts, file: up.file,
      name: up.name, mime: up.mime, size: up.size });
    this.next();
  }

  /** A replayed file message of ours that matches an upload whose ACK the
   *  outage lost: it is that upload's ACK (so it is not sent twice). */
  replayed(m) {
    for (const up of this.list.values()) {
      const same = up.room === m.room && up.name === m.text && up.size === Number(m.file.size);
      if (same && up.asked && up.state !== 'failed') {
        this.done(up, m.id, m.ts);
        return true;
      }
    }
    return false;
  }

  /** ERROR about UPLOAD or CHUNK; true when it was about one of ours. */
  onError(e) {
    if (e.about !== T.UPLOAD && e.about !== T.CHUNK) return false;
    const up = this.list.get(e.seq);
    if (!up) return true; // cancelled: what the server says of it no longer matters
    const code = codeName(e.code);
    if (e.about === T.CHUNK) return this.chunkRefused(up, e.detail);
    // A refused probe: the server lost the upload; its CHUNKs say so too.
    if (up.asks.shift() === 'probe') return true;
    if (code === 'RATE_LIMITED') {
      up.state = 'held';
      this.report(up, true);
      setTimeout(() => {
        if (up.state !== 'held') return;
        up.state = 'queued';
        this.next();
      }, HELD_MS);
      return true;
    }
    this.fail(up, code, e.detail);
    return true;
  }

  /** A CHUNK refused (a wrong offset): ask the server where it stands. */
  chunkRefused(up, detail) {
    if (up.state !== 'sending' && up.state !== 'storing') return true; // asked already
    up.reasks += 1;
    if (up.reasks > MAX_REASKS) this.fail(up, 'BAD_FRAME', detail);
    else this.ask(up);
    return true;
  }

  fail(up, code, detail) {
    up.state = 'failed';
    this.emit({ kind: 'uploadFailed', seq: up.seq, room: up.room, code, detail });
    this.next();
  }

  /** The user's Retry of a failed upload (the same seq: nothing was stored). */
  retry(seq) {
    const up = this.list.get(seq);
    if (!up || up.state !== 'failed') return;
    up.state = 'queued';
    up.reasks = 0;
    this.report(up, true);
    this.next();
  }

  /**
   * The user's Cancel: the upload stops and is forgotten. False once every
   * byte is sent (the server posts it whatever we do). The server keeps
   * what arrived until the session ends or 10 minutes pass (§10 has no way
   * to end an upload sooner).
   */
  cancel(seq) {
    const up = this.list.get(seq);
    if (!up || up.state === 'storing') return false;
    this.list.delete(seq);
    this.reported.delete(seq);
    this.emit({ kind: 'uploadCancelled', seq, room: up.room, name: up.name });
    this.next();
    return true;
  }

  /** The connection dropped: what was moving waits for the next one. */
  onDisconnect() {
    this.epoch += 1;
    for (const up of this.list.values()) {
      up.asks = [];
      if (up.state !== 'failed' && up.state !== 'queued') {
        up.state = 'queued';
        this.report(up, true);
      }
    }
  }

  /** A WELCOME: everything goes again once its room has caught up. */
  onWelcome() {
    this.epoch += 1;
    this.next();
  }

  /** A room's JOIN replay ended (session.js): its uploads may go. */
  roomReady() {
    this.next();
  }

  /** The page is done with these uploads (sign-out). */
  dispose() {
    this.epoch += 1;
    this.list.clear();
  }

  /** Tells the UI how far `up` is (`force`: whatever the time since the last). */
  report(up, force = false) {
    const now = Date.now();
    const last = this.reported.get(up.seq);
    if (!force && last && last.state === up.state && now - last.at < PROGRESS_MS) return;
    this.reported.set(up.seq, { state: up.state, at: now });
    this.emit({ kind: 'upload', seq: up.seq, room: up.room, name: up.name, size: up.size,
      mime: up.mime, state: up.state, done: up.confirmed, resumedAt: up.resumedAt,
      online: this.session.online });
  }
}
