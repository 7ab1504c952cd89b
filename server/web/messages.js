// The message list of one room: messages kept in id order (history above,
// live and caught-up below, our own pending ones last until their ACK),
// information lines, day separators, the "new messages" line, and the
// state marks of our own messages (sending… → sent → delivered → read, or
// not sent). A file message's line holds its card (filecard.js).
//
// It builds DOM only from text (see text.js) and knows nothing of the
// protocol: the app tells it what arrived.

import { el, inertText, hhmm, fullTime, dayKey, dayLabel } from './text.js';
import { fileParts } from './filecard.js';

export class MessageList {
  /** `onOlder()` asks for older messages; `onRetry(seq)` resends a failed
   *  one; `onDrop(li)` hears of each file line trim() drops. */
  constructor(onOlder, onRetry, onDrop) {
    this.el = el('ol', 'lines');
    this.onRetry = onRetry;
    this.onDrop = onDrop;
    const older = el('button', 'older', 'Load older messages');
    older.type = 'button';
    older.addEventListener('click', () => onOlder());
    this.olderItem = el('li', 'older-item');
    this.olderItem.append(older);
    this.olderItem.hidden = true;
    this.el.append(this.olderItem);
    this.bySeq = new Map(); // our pending messages, by seq
    this.firstUnread = null; // the first line that arrived unseen
    this.unreadLine = null; // the "new messages" line, while shown
  }

  /** Whether older messages can be asked for (shows the button). */
  setOlder(exist) {
    this.olderItem.hidden = !exist;
  }

  /** A message from the server. `older`: history, placed above what is shown. */
  addMessage(m, { own = false, mention = false, state = 'sent' } = {}) {
    const li = messageItem(m.from, m.text, m.action, m.ts, m.file);
    li.id_ = m.id;
    li.dataset.id = String(m.id);
    if (own) {
      li.classList.add('own');
      setMark(li, state);
    }
    if (mention) li.classList.add('mention');
    if (m.older) this.insertOlder(li);
    else this.insertNewer(li);
    return li;
  }

  /** One of our messages (`file`: {size, mime} of a file, `text` its
   *  name), shown at once and marked pending until its ACK. */
  addPending(seq, from, text, action, file = null) {
    const li = messageItem(from, text, action, Date.now(), file);
    li.classList.add('own', 'pending');
    li.dataset.seq = String(seq);
    setMark(li, 'pending', 'sending…');
    this.bySeq.set(seq, li);
    this.append(li);
    return li;
  }

  /** Our message `seq` was stored as `id` at `ts`; `state` is 'sent', or
   *  further when receipts for `id` came first. */
  acked(seq, id, ts, state = 'sent') {
    const li = this.bySeq.get(seq);
    if (!li) return;
    this.bySeq.delete(seq);
    li.classList.remove('pending', 'failed');
    li.classList.add('sent');
    li.id_ = id;
    li.dataset.id = String(id);
    li.ts_ = ts;
    const time = li.querySelector('time');
    time.textContent = hhmm(ts);
    time.title = fullTime(ts);
    setMark(li, state);
    this.placeAcked(li);
  }

  /** Our message `seq` waits again (rate limited, or retried). */
  pending(seq, why = 'sending…') {
    const li = this.bySeq.get(seq);
    if (!li) return;
    li.classList.remove('failed');
    li.classList.add('pending');
    setMark(li, 'pending', why);
  }

  /** The server refused our message `seq`; a Retry button resends it. */
  failed(seq, why) {
    const li = this.bySeq.get(seq);
    if (!li) return;
    li.classList.remove('pending');
    li.classList.add('failed');
    setMark(li, 'failed', `not sent: ${why}`);
    const retry = el('button', 'retry', 'Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => this.onRetry(seq));
    li.querySelector('.mark').append(' ', retry);
  }

  /** Our pending message `seq` is taken back (an upload cancelled). */
  removePending(seq) {
    const li = this.bySeq.get(seq);
    if (!li) return;
    this.bySeq.delete(seq);
    const next = nextLine(li);
    const sep = li.previousElementSibling;
    li.remove();
    if (sep && sep.classList.contains('day')) sep.remove();
    fixDay(next);
  }

  /** An information line (presence, notices, errors) at the bottom. */
  addInfo(text, cls = 'info') {
    const li = el('li', `line ${cls}`);
    li.ts_ = Date.now();
    li.append(timeEl(li.ts_), el('span', 'text', ''));
    li.lastChild.append(inertText(text));
    this.append(li);
    return li;
  }

  /** The server restarted the room's ids: what is shown keeps no id. */
  markReset() {
    for (const li of this.el.querySelectorAll('li[data-id]')) {
      delete li.id_;
      li.removeAttribute('data-id');
    }
  }

  /** Remembers the first line the user has not seen yet (the earliest in
   *  the list, whatever order they were noted in). */
  noteUnread(li) {
    const first = this.firstUnread;
    const gone = !first || !this.el.contains(first); // dropped by trim()
    if (gone || li.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) {
      this.firstUnread = li;
    }
  }

  /** The first message from someone else with an id above `read`, or null. */
  firstAfter(read) {
    for (const li of this.el.querySelectorAll('.msg[data-id]:not(.own)')) {
      if (li.id_ > read) return li;
    }
    return null;
  }

  /** The user looks at the room: the "new messages" line goes above the
   *  first unseen line (replacing an older one). */
  showUnreadLine() {
    if (this.unreadLine) this.unreadLine.remove();
    this.unreadLine = null;
    const first = this.firstUnread;
    this.firstUnread = null;
    if (!first || !this.el.contains(first)) return;
    this.unreadLine = el('li', 'unread-line', 'new messages');
    this.unreadLine.setAttribute('role', 'separator');
    first.before(this.unreadLine);
  }

  /**
   * Once the list holds more than `over` elements, drops the oldest lines
   * until `keep` remain (never our unacknowledged ones), so a tab left open
   * in a busy room stays light; scrolling up brings them back as history.
   * Returns the oldest id still shown, or null when nothing was dropped.
   */
  trim(keep, over) {
    if (this.el.childElementCount <= over) return null;
    let drop = this.el.querySelectorAll('.line').length - keep;
    let at = this.olderItem.nextElementSibling;
    const waiting = (e) => e.classList.contains('pending') || e.classList.contains('failed');
    while (at && drop > 0 && !waiting(at)) {
      const next = at.nextElementSibling;
      if (at.classList.contains('line')) drop -= 1;
      at.remove();
      if (at.classList.contains('file')) this.onDrop(at);
      at = next;
    }
    if (at && at.classList.contains('day')) at = at.nextElementSibling;
    fixDay(at);
    this.setOlder(true);
    const oldest = this.el.querySelector('.msg[data-id]');
    return oldest ? oldest.id_ : null;
  }

  append(li) {
    this.el.append(li);
    fixDay(li);
  }

  /** Live or caught-up: above our unacknowledged messages (they stay last
   *  until their ACK gives them an id) and any later id, below the rest. */
  insertNewer(li) {
    const waiting = this.el.querySelector('.msg.pending, .msg.failed');
    let at = waiting ? waiting.previousElementSibling : this.el.lastElementChild;
    while (at !== this.olderItem) {
      const later = at.id_ !== undefined && at.id_ > li.id_;
      if (!later && !at.classList.contains('day')) break;
      at = at.previousElementSibling;
    }
    at.after(li);
    this.fixAround(li);
  }

  /** History (or what a long outage missed): right above the first message
   *  with a later id, wherever it is; at the end if there is none. */
  insertOlder(li) {
    let at = this.olderItem.nextElementSibling;
    while (at && !(at.id_ !== undefined && at.id_ > li.id_)) at = at.nextElementSibling;
    if (!at) return this.insertNewer(li);
    // A day separator belongs to the line after it.
    const sep = at.previousElementSibling;
    (sep.classList.contains('day') ? sep : at).before(li);
    this.fixAround(li);
  }

  /** An acknowledged message stays where it was shown, unless messages with
   *  later ids arrived above it while it was pending: then it goes before them. */
  placeAcked(li) {
    let first = null;
    for (let at = li.previousElementSibling; at && at !== this.olderItem;
      at = at.previousElementSibling) {
      if (at.id_ === undefined) continue;
      if (at.id_ < li.id_) break;
      first = at;
    }
    if (!first) return;
    const next = nextLine(li);
    const sep = li.previousElementSibling;
    li.remove();
    if (sep && sep.classList.contains('day')) sep.remove();
    fixDay(next);
    first.before(li);
    this.fixAround(li);
  }

  fixAround(li) {
    fixDay(li);
    fixDay(nextLine(li));
  }
}

/** One chat line: time, author (or "* name" for an action), text; or for
 *  a file ({size, mime}), its card with `text` as its name. */
function messageItem(from, text, action, ts, file) {
  const li = el('li', action ? 'line msg action' : 'line msg');
  li.ts_ = ts;
  li.from_ = from;
  const who = el('span', 'from', action ? `* ${from}` : from);
  li.append(timeEl(ts), who);
  if (file) {
    li.classList.add('file');
    li.append(...fileParts(text, Number(file.size), file.mime));
    return li;
  }
  const body = el('span', 'text');
  body.dir = 'auto';
  body.append(inertText(text));
  li.append(body);
  return li;
}

function timeEl(ts) {
  const t = el('time', 'ts', hhmm(ts));
  t.dateTime = new Date(ts).toISOString();
  t.title = fullTime(ts);
  return t;
}

/** The symbols of our stored messages' states (§9's sent, delivered, read). */
const SYMBOLS = { sent: '✓', delivered: '✓✓', read: '✓✓' };

/**
 * The mark after our own message: `state` in `data-state` (for the style),
 * a compact symbol with its word as title and for screen readers once
 * stored, or `text` saying what is going on (sending…, not sent: why).
 */
export function setMark(li, state, text) {
  let mark = li.querySelector('.mark');
  if (!mark) {
    mark = el('span', 'mark');
    // A file's mark follows its size and type, above its card.
    const meta = li.querySelector('.file-meta');
    if (meta) meta.after(mark);
    else li.append(mark);
  }
  if (mark.dataset.state === state && !text) return;
  mark.dataset.state = state;
  const symbol = SYMBOLS[state];
  if (!symbol) {
    mark.removeAttribute('title');
    mark.textContent = text;
    return;
  }
  mark.title = state;
  const shown = el('span', 'symbol', symbol);
  shown.setAttribute('aria-hidden', 'true');
  mark.replaceChildren(shown, el('span', 'sr-only', state));
}

const isLine = (e) => e && e.classList.contains('line');

function prevLine(li) {
  let e = li.previousElementSibling;
  while (e && !isLine(e)) e = e.previousElementSibling;
  return e;
}

function nextLine(li) {
  let e = li.nextElementSibling;
  while (e && !isLine(e)) e = e.nextElementSibling;
  return e;
}

/** A day separator stands right above a line iff the line before it is from
 *  another day (or there is none). */
function fixDay(li) {
  if (!li) return;
  const prev = prevLine(li);
  const need = !prev || dayKey(prev.ts_) !== dayKey(li.ts_);
  let sep = li.previousElementSibling;
  if (sep && sep.classList.contains('unread-line')) sep = sep.previousElementSibling;
  const has = sep && sep.classList.contains('day');
  if (need && !has) {
    const day = el('li', 'day', dayLabel(li.ts_));
    day.setAttribute('role', 'separator');
    li.before(day);
  } else if (need && has) {
    sep.textContent = dayLabel(li.ts_); // it may have headed another line before
  } else if (!need && has) {
    sep.remove();
  }
}
