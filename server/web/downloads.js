// Downloads (§10) from the page's side: FETCH one file at a time (banterd
// keeps one download per connection, and a FETCH replaces the one under
// way), its FILE_DATA gathered into a Blob a megabyte at a time (so the
// browser may keep a large file out of the page's memory), progress for
// whoever waits for it, cancel, and after a reconnect the same FETCH again
// from the offset reached. A user's own request goes before the previews
// the page fetches by itself.
//
// A file is named by its SHA-256, so any FILE_DATA of it at the offset we
// expect is the right data, whichever FETCH it answers: late pieces of a
// replaced or cancelled download are simply not at that offset.
//
// No DOM: waiters are told what happened; the connection calls it.

import { encode, codeName, T } from './codec.js';

/** Pieces are merged into the download's Blob once this many bytes wait. */
const MERGE_BYTES = 1 << 20;
/** Progress is reported at most this often. */
const PROGRESS_MS = 100;

/** One file being fetched (or waiting its turn). */
class Download {
  constructor(file, size) {
    this.file = file; // its SHA-256, as the message named it
    this.size = size;
    this.got = 0; // bytes received: the offset a FETCH after a reconnect asks from
    this.blob = new Blob([]); // what arrived so far, merged
    this.parts = []; // pieces not merged yet
    this.partBytes = 0;
    // Who waits: {progress(got, size), done(blob), failed(code, detail),
    // wanted() (still worth fetching when its turn comes), skipped() (it was not)}
    this.waiters = new Set();
    this.urgent = false; // a user asked for it: before the previews
    this.reported = 0; // when progress was last reported
  }
}

export class Downloads {
  constructor(session) {
    this.session = session;
    this.active = null; // the Download the last FETCH asked for
    this.queue = []; // Downloads waiting their turn
  }

  /**
   * Fetches `file` of `size` bytes for `waiter` (another waiter of the same
   * file shares it). `urgent`: the user asked, so it goes before previews.
   */
  get(file, size, waiter, urgent = false) {
    let d = this.find(file);
    if (!d) {
      d = new Download(file, size);
      this.queue.push(d);
    }
    d.waiters.add(waiter);
    if (urgent && !d.urgent) {
      d.urgent = true;
      // Before the first download that is not urgent.
      const at = this.queue.indexOf(d);
      if (at >= 0) {
        this.queue.splice(at, 1);
        const first = this.queue.findIndex((x) => !x.urgent);
        this.queue.splice(first < 0 ? this.queue.length : first, 0, d);
      }
    }
    this.start();
  }

  find(file) {
    if (this.active && this.active.file === file) return this.active;
    return this.queue.find((d) => d.file === file) || null;
  }

  /** `waiter` no longer wants `file`; the download stops when no one does. */
  cancel(file, waiter) {
    const d = this.find(file);
    if (!d) return;
    d.waiters.delete(waiter);
    if (d.waiters.size > 0) return;
    if (d !== this.active) {
      this.queue.splice(this.queue.indexOf(d), 1);
      return;
    }
    this.active = null;
    // The next FETCH replaces this one; with none, a FETCH of the end stops it.
    if (!this.start() && this.session.online) this.session.send(encode.fetch(d.file, d.size));
  }

  /** FETCHes the next download wanted, if none is under way; true if it did. */
  start() {
    if (this.active || !this.session.online) return false;
    while (this.queue.length) {
      const d = this.queue.shift();
      // A preview scrolled away or dropped from the page waits until asked again.
      for (const w of [...d.waiters]) {
        if (w.wanted()) continue;
        d.waiters.delete(w);
        w.skipped();
      }
      if (d.waiters.size === 0) continue;
      this.active = d;
      this.session.send(encode.fetch(d.file, d.got));
      this.progress(d, true);
      return true;
    }
    return false;
  }

  /** FILE_DATA: the next piece of the active download (anything else is stale). */
  onData(f) {
    const d = this.active;
    if (!d || f.file !== d.file || Number(f.offset) !== d.got) return;
    if (f.data.length > 0) {
      d.parts.push(f.data);
      d.partBytes += f.data.length;
      d.got += f.data.length;
      if (d.partBytes >= MERGE_BYTES) merge(d);
    }
    if (!f.last) return this.progress(d);
    this.active = null;
    merge(d);
    if (d.got !== d.size) {
      this.failed(d, 'SHORT', `the file ended after ${d.got} of ${d.size} bytes`);
    } else {
      for (const w of d.waiters) w.done(d.blob);
    }
    return this.start();
  }

  progress(d, force = false) {
    const now = Date.now();
    if (!force && now - d.reported < PROGRESS_MS) return;
    d.reported = now;
    for (const w of d.waiters) w.progress(d.got, d.size);
  }

  failed(d, code, detail) {
    for (const w of d.waiters) w.failed(code, detail);
  }

  /** ERROR about FETCH: the active download is refused or broke off. */
  onError(e) {
    if (e.about !== T.FETCH) return false;
    const d = this.active;
    const code = codeName(e.code);
    // Refusals answer a FETCH before any of its data; a read failure
    // (STORAGE) may come at any point.
    if (!d || (d.got > 0 && code !== 'STORAGE')) return true;
    this.active = null;
    this.failed(d, code, e.detail);
    this.start();
    return true;
  }

  /** A WELCOME: the download under way goes on from where it was. */
  onWelcome() {
    const d = this.active;
    if (d) this.session.send(encode.fetch(d.file, d.got));
    else this.start();
  }

  /** Whether anything is being fetched or waits to be. */
  busy() {
    return this.active !== null || this.queue.length > 0;
  }
}

/** Moves the pieces that wait into the download's Blob. */
function merge(d) {
  if (d.parts.length === 0) return;
  d.blob = new Blob([d.blob, ...d.parts], { type: 'application/octet-stream' });
  d.parts = [];
  d.partBytes = 0;
}
