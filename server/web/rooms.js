// The rooms the user is in, as the page shows them: one Room per room and
// per `@name` conversation (the key is the protocol's room name either way),
// the room list (rooms, then conversations) with unread counts and mention
// markers, the members list and the typing line.
//
// It does not talk to the server; the app calls it when something changed.

import { el, roomLabel } from './text.js';
import { MessageList } from './messages.js';
import { Receipts } from './receipts.js';

/** A typing state lasts this long after the last `active = 1` (§4). */
export const TYPING_TTL_MS = 6000;

export class Room {
  constructor(key, onOlder, onRetry, onDrop) {
    this.key = key;
    this.direct = key.startsWith('@'); // a conversation, not a room
    this.list = new MessageList(() => onOlder(this), onRetry, onDrop);
    this.unread = 0; // messages that arrived while the room was not seen
    this.mention = false; // one of them names the user (or came in a conversation)
    // Messages up to this id are counted in `unread` already (UNREAD said so).
    this.countedTo = 0n;
    this.read = null; // the user's read marker, as the last JOINED said (null: none yet)
    this.receipts = new Receipts(); // what the others have been handed and have seen
    this.members = []; // from ROSTER, kept up to date by PRESENCE
    this.typing = new Map(); // name -> timer ending its typing state
    this.firstJoin = true; // no JOIN answered yet: its replay is the first page
    this.scrollTop = null; // where the user left it (null: at the bottom)
    this.entry = null; // its item in the room list
  }

  /** `name` typed (or stopped); `changed()` is called when it expires. */
  setTyping(name, active, changed) {
    clearTimeout(this.typing.get(name));
    this.typing.delete(name);
    if (!active) return;
    const timer = setTimeout(() => {
      this.typing.delete(name);
      changed();
    }, TYPING_TTL_MS);
    this.typing.set(name, timer);
  }

  /** "bob is typing…", "bob and carol are typing…", or "". */
  typingText() {
    const names = [...this.typing.keys()];
    if (names.length === 0) return '';
    if (names.length === 1) return `${names[0]} is typing…`;
    if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
    return `${names.length} people are typing…`;
  }

  /** PRESENCE: keep the members list without asking the server again. */
  presence(name, what) {
    const key = name.toLowerCase();
    this.members = this.members.filter((n) => n.toLowerCase() !== key);
    if (what === 'joined') this.members.push(name);
  }
}

/** The room list in the sidebar: a button per room and a leave button, rooms
 *  in one list and conversations in another. */
export class RoomList {
  constructor(roomsUl, directUl, onSelect, onLeave) {
    this.uls = [roomsUl, directUl];
    this.onSelect = onSelect;
    this.onLeave = onLeave;
  }

  add(room) {
    const li = el('li', 'room');
    const open = el('button', 'open');
    open.type = 'button';
    open.append(el('span', 'label', roomLabel(room.key)), el('span', 'mention-mark', '@'),
      el('span', 'badge'));
    open.addEventListener('click', () => this.onSelect(room.key));
    const leave = el('button', 'leave', '×');
    leave.type = 'button';
    leave.title = `${room.direct ? 'Close' : 'Leave'} ${roomLabel(room.key)}`;
    leave.setAttribute('aria-label', leave.title);
    leave.addEventListener('click', () => this.onLeave(room.key));
    li.append(open, leave);
    li.dataset.room = room.key;
    room.entry = li;
    // Kept in name order, so Alt+1..9 stays predictable.
    const ul = this.uls[room.direct ? 1 : 0];
    const after = [...ul.children].find((c) => c.dataset.room > room.key);
    ul.insertBefore(li, after || null);
    this.update(room, false);
  }

  update(room, active) {
    const li = room.entry;
    if (!li) return;
    li.classList.toggle('active', active);
    li.classList.toggle('unread', room.unread > 0);
    li.classList.toggle('mentioned', room.mention);
    const open = li.querySelector('.open');
    if (active) open.setAttribute('aria-current', 'true');
    else open.removeAttribute('aria-current');
    li.querySelector('.badge').textContent = room.unread > 0 ? String(room.unread) : '';
    const mentioned = room.mention && !room.direct ? ', mentioned' : '';
    const extra = room.unread > 0 ? `, ${room.unread} unread${mentioned}` : '';
    open.setAttribute('aria-label', `${roomLabel(room.key)}${extra}`);
  }

  remove(room) {
    if (room.entry) room.entry.remove();
    room.entry = null;
  }

  /** Room keys in the order shown. */
  keys() {
    return this.uls.flatMap((ul) => [...ul.children].map((li) => li.dataset.room));
  }
}

/** Fills the members list (names as text). */
export function renderMembers(ul, names, me) {
  ul.replaceChildren();
  const sorted = [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  for (const name of sorted) {
    const li = el('li', 'member', name);
    if (me && name.toLowerCase() === me.toLowerCase()) li.classList.add('me');
    ul.append(li);
  }
}
