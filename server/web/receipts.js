// Receipts as the page shows them (§9): how far the other party of a
// conversation has been handed and has read our messages (each of our
// messages then shows sent ✓, delivered ✓✓ or read ✓✓), and in a small
// room who has seen what ("seen by bob and carol" under the newest message
// from someone else each of them has seen).
//
// It knows nothing of the protocol: the chat feeds it READ and DELIVERED.
// Names are set as text only (see text.js).

import { el } from './text.js';
import { setMark } from './messages.js';

/** "seen by" lines are redrawn at most this often while READs pour in. */
const SEEN_DELAY_MS = 200;
/** A "seen by" line names this many readers, then counts the others. */
const SEEN_NAMES = 3;

export class Receipts {
  constructor() {
    this.delivered = 0n; // conversation: our messages up to here reached the other party
    this.read = 0n; // conversation: the other party's read marker
    this.readers = new Map(); // room: lower-case name -> {name, id}, the latest READ of each
    this.timer = null; // a "seen by" redraw waiting
  }

  /** The state our stored message `id` shows. */
  stateOf(id) {
    if (id <= this.read) return 'read';
    return id <= this.delivered ? 'delivered' : 'sent';
  }

  /** DELIVERED or READ of a conversation: our marks in `list` move on. */
  conversation(kind, id, list) {
    if (id <= this[kind]) return;
    this[kind] = id;
    for (const li of list.querySelectorAll('.msg.own[data-id]')) setMark(li, this.stateOf(li.id_));
  }

  /** READ in a room: `name` has seen it up to `id`; "seen by" is redrawn. */
  reader(name, id, list) {
    const key = name.toLowerCase();
    const had = this.readers.get(key);
    if (had && had.id >= id) return;
    this.readers.set(key, { name, id });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drawSeen(list);
      }, SEEN_DELAY_MS);
    }
  }

  /** Puts "seen by …" under the newest message each reader has seen. */
  drawSeen(list) {
    for (const line of list.querySelectorAll('.seen')) line.remove();
    const readers = [...this.readers.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    const msgs = list.querySelectorAll('.msg[data-id]');
    const at = new Map(); // li -> names
    let i = msgs.length - 1;
    for (const r of readers) {
      while (i >= 0 && msgs[i].id_ > r.id) i -= 1;
      if (i < 0) break; // what the rest have seen is no longer shown
      // Its own messages are no news to their author: the newest of someone
      // else's it has seen carries its name.
      let j = i;
      while (j >= 0 && msgs[j].from_.toLowerCase() === r.name.toLowerCase()) j -= 1;
      if (j < 0) continue;
      if (!at.has(msgs[j])) at.set(msgs[j], []);
      at.get(msgs[j]).push(r.name);
    }
    for (const [li, names] of at) li.append(seenLine(names));
  }

  dispose() {
    clearTimeout(this.timer);
  }
}

/** "seen by bob", "seen by bob and carol", "seen by a, b, c and 2 others";
 *  every name in its title. */
function seenLine(names) {
  names.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  let who = names.join(', ');
  if (names.length > SEEN_NAMES + 1) {
    who = `${names.slice(0, SEEN_NAMES).join(', ')} and ${names.length - SEEN_NAMES} others`;
  } else if (names.length > 1) {
    who = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }
  const line = el('div', 'seen', `seen by ${who}`);
  line.title = `seen by ${names.join(', ')}`;
  return line;
}
