// What the user has actually seen, and the read markers that say so (MARK,
// §9): the newest message of the room shown that is on screen while the
// page is visible, at most one MARK a second per room, and only forward.
// A room scrolled away from its newest messages, a hidden tab or another
// room shown moves nothing.
//
// It sends through `send`; when the page looks is the chat's business.

/** At most one MARK per room per this many ms (the server's READ pace, §9). */
export const MARK_EVERY_MS = 1000;
/** A line counts as on screen once this many pixels of it show. */
const SHOWN_PX = 12;

/**
 * The id of the newest message on screen in the scrolled `box`, whose list
 * holds its lines in id order; null when none shows.
 */
export function newestOnScreen(box) {
  const list = box.firstElementChild;
  if (!list || box.clientHeight === 0) return null;
  const view = box.getBoundingClientRect();
  const items = list.children;
  // The last line that starts far enough above the bottom edge to be seen.
  let lo = 0;
  let hi = items.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].getBoundingClientRect().top <= view.bottom - SHOWN_PX) {
      last = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  // Up from there to a message with an id (ours still pending have none),
  // as long as the lines are still on screen.
  for (let i = last; i >= 0; i--) {
    if (items[i].getBoundingClientRect().bottom < view.top + SHOWN_PX) return null;
    if (items[i].id_ !== undefined) return items[i].id_;
  }
  return null;
}

/** Paces the MARKs of every room: forward only, one a second per room. */
export class MarkSender {
  /** `send(room, id)` sends a MARK and returns whether it could. */
  constructor(send) {
    this.send = send;
    this.rooms = new Map(); // room -> {sent, want, last, timer}
  }

  state(room) {
    let s = this.rooms.get(room);
    if (!s) this.rooms.set(room, (s = { sent: 0n, want: 0n, last: 0, timer: null }));
    return s;
  }

  /** The server's marker (JOINED.read): what is above it and seen goes out. */
  known(room, read) {
    const s = this.state(room);
    s.sent = read;
    this.go(room);
  }

  /** The user has seen `room` up to `id`. */
  saw(room, id) {
    const s = this.state(room);
    if (id > s.want) s.want = id;
    this.go(room);
  }

  /** How far this page has seen `room` (0 when it does not know). */
  seen(room) {
    const s = this.rooms.get(room);
    return s ? (s.want > s.sent ? s.want : s.sent) : 0n;
  }

  go(room) {
    const s = this.rooms.get(room);
    if (!s || s.want <= s.sent || s.timer) return;
    const wait = s.last + MARK_EVERY_MS - Date.now();
    if (wait > 0) {
      s.timer = setTimeout(() => {
        s.timer = null;
        this.go(room);
      }, wait);
      return;
    }
    // Offline: `want` waits for the next JOINED of the room (known()).
    if (this.send(room, s.want)) {
      s.sent = s.want;
      s.last = Date.now();
    }
  }

  /** The room is left, or its ids started again: its markers are void. */
  forget(room) {
    const s = this.rooms.get(room);
    if (s) clearTimeout(s.timer);
    this.rooms.delete(room);
  }

  dispose() {
    for (const room of [...this.rooms.keys()]) this.forget(room);
  }
}
