// The signed-in chat: turns session events into what the page shows (rooms,
// messages, members, typing, unread counts, the tab title) and the user's
// actions into session calls. One Chat lives per sign-in.
//
// The connection and its status bar are app.js's; the wire is session.js's.

import { isValidName, sameName } from './codec.js';
import { mentions, recall, remember, roomLabel } from './text.js';
import { Room, RoomList, renderMembers } from './rooms.js';
import { TypingAnnouncer } from './compose.js';

const ROOMS_KEY = (name) => `banter.rooms.${name.toLowerCase()}`;
/** A list within this many pixels of its end counts as scrolled to it. */
const NEAR = 40;
/** A room's list is cut back to KEEP_LINES once it holds over MAX_ITEMS elements. */
const KEEP_LINES = 2000;
const MAX_ITEMS = 2600;

export class Chat {
  constructor(dom, conn, notifier) {
    this.dom = dom;
    this.conn = conn;
    this.session = conn.session;
    this.notifier = notifier;
    this.rooms = new Map();
    this.active = null; // the room shown
    this.switchTo = null; // a room the user asked to join: shown once joined
    this.seqRoom = new Map(); // our pending SAYs: seq -> room
    this.early = []; // lines that came before any room existed (the greeting)
    this.welcomes = 0;
    this.list = new RoomList(dom.roomList, (k) => this.show(k), (k) => this.leave(k));
    this.typing = new TypingAnnouncer((room, on) => this.sendTyping(room, on));
    this.onScroll = () => this.scrolled();
    dom.messages.addEventListener('scroll', this.onScroll, { passive: true });
  }

  dispose() {
    this.dom.messages.removeEventListener('scroll', this.onScroll);
    for (const room of this.rooms.values()) room.typing.forEach((t) => clearTimeout(t));
    this.dom.roomList.replaceChildren();
    this.dom.messages.replaceChildren();
    this.dom.memberList.replaceChildren();
    this.dom.typing.textContent = '';
  }

  /** Whether the user can see the room shown (tab visible). */
  seeing(room) {
    return room === this.active && document.visibilityState === 'visible';
  }

  onEvent(e) {
    const handler = this.handlers[e.kind];
    if (handler) handler.call(this, e);
  }

  roomFor(key) {
    let room = this.rooms.get(key);
    if (room) return room;
    room = new Room(key, (r) => this.loadOlder(r), (seq) => this.session.retry(seq));
    this.rooms.set(key, room);
    this.list.add(room);
    this.saveRooms();
    if (!this.active || this.switchTo === key) this.show(key);
    for (const line of this.early.splice(0)) room.list.addInfo(line.text, line.cls);
    return room;
  }

  /** An information line in the room shown (kept for the first room when none is). */
  info(text, cls = 'info') {
    const room = this.rooms.get(this.active);
    if (!room) return this.early.push({ text, cls });
    this.change(room, () => room.list.addInfo(text, cls));
  }

  /** Whether the list shown is scrolled to its end (new lines keep it there). */
  atBottom() {
    const box = this.dom.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR;
  }

  /** Runs `fn` on a room's list, keeping the view at the bottom if it was. */
  change(room, fn, older = false) {
    const box = this.dom.messages;
    const shown = room === this.rooms.get(this.active);
    const atBottom = this.atBottom();
    const fromBottom = box.scrollHeight - box.scrollTop;
    const result = fn();
    if (shown && older && !atBottom) box.scrollTop = box.scrollHeight - fromBottom;
    else if (shown && atBottom) box.scrollTop = box.scrollHeight;
    return result;
  }

  /** Shows room `key`: its messages, members, typing line, and title. */
  show(key) {
    const room = this.rooms.get(key);
    if (!room) return;
    const box = this.dom.messages;
    const old = this.rooms.get(this.active);
    if (old && old !== room) {
      old.scrollTop = this.atBottom() ? null : box.scrollTop;
      this.typing.stop();
    }
    this.active = key;
    this.switchTo = null;
    box.replaceChildren(room.list.el);
    box.scrollTop = room.scrollTop === null ? box.scrollHeight : room.scrollTop;
    this.dom.roomTitle.textContent = roomLabel(key);
    this.markSeen();
    this.renderRoom(room);
    for (const r of this.rooms.values()) this.list.update(r, r === room);
  }

  /** The shown room is being looked at: the "new messages" line moves up to
   *  what arrived unseen, and its unread count clears. */
  markSeen() {
    const room = this.rooms.get(this.active);
    if (!room || document.visibilityState !== 'visible') return;
    const hadUnread = room.unread > 0;
    room.list.showUnreadLine();
    room.unread = 0;
    room.mention = false;
    this.list.update(room, true);
    // Start reading at the first unseen message, not at the newest.
    if (hadUnread && room.list.unreadLine) room.list.unreadLine.scrollIntoView({ block: 'start' });
    this.renderTitle();
  }

  renderRoom(room) {
    if (room !== this.rooms.get(this.active)) return;
    renderMembers(this.dom.memberList, room.members, this.session.name);
    this.dom.memberCount.textContent = `(${room.members.length})`;
    this.dom.typing.textContent = room.typingText();
  }

  renderTitle() {
    let total = 0;
    let mention = false;
    for (const r of this.rooms.values()) {
      total += r.unread;
      mention ||= r.mention;
    }
    const where = this.active ? `${roomLabel(this.active)} — ` : '';
    const count = total > 0 ? `(${total}${mention ? ' @' : ''}) ` : '';
    document.title = `${count}${where}Banter`;
    // On a phone the room list is folded away: its button carries the count.
    const toggle = this.dom.roomsToggle;
    toggle.textContent = total > 0 ? `Rooms (${total}${mention ? ' @' : ''})` : 'Rooms';
    toggle.setAttribute('aria-label', total > 0 ? `Rooms, ${total} unread` : 'Rooms');
  }

  scrolled() {
    const room = this.rooms.get(this.active);
    if (room && this.dom.messages.scrollTop < NEAR && !room.list.olderItem.hidden) {
      this.loadOlder(room);
    }
  }

  /** Keeps a long-open room light, unless the user is reading up the list. */
  trim(room) {
    const reading = room.key === this.active && !this.atBottom();
    if (reading || room.list.el.childElementCount <= MAX_ITEMS) return;
    const oldest = this.change(room, () => room.list.trim(KEEP_LINES, MAX_ITEMS));
    if (oldest !== null) this.session.forgetBefore(room.key, oldest);
  }

  loadOlder(room) {
    if (this.session.loadOlder(room.key)) room.list.olderItem.firstChild.textContent = 'Loading…';
  }

  // --- what the user does -------------------------------------------------

  join(key) {
    if (this.rooms.has(key)) return this.show(key);
    this.switchTo = key;
    this.session.join(key);
  }

  leave(key) {
    if (!this.rooms.has(key)) return this.info(`you are not in ${roomLabel(key)}`, 'error');
    if (this.session.online) this.session.leave(key);
    else this.removeRoom(key);
  }

  /** Sends text to the room shown; throws an Error saying why it cannot. */
  say(text, action) {
    const room = this.rooms.get(this.active);
    if (!room) throw new Error('join a room first: /join ROOM');
    const seq = this.session.say(room.key, text, action ? 4 : 0);
    this.typing.sent();
    this.seqRoom.set(seq, room.key);
    room.list.showUnreadLine();
    this.change(room, () => room.list.addPending(seq, this.session.name, text, action));
    this.dom.messages.scrollTop = this.dom.messages.scrollHeight;
  }

  sendTyping(room, on) {
    if (this.rooms.has(room)) this.session.typing(room, on);
  }

  who() {
    const room = this.rooms.get(this.active);
    if (room) this.info(`members of ${roomLabel(room.key)}: ${room.members.join(', ')}`);
  }

  /** Room keys in the order of the room list. */
  roomKeys() {
    return this.list.keys();
  }

  removeRoom(key) {
    const room = this.rooms.get(key);
    if (!room) return;
    room.typing.forEach((t) => clearTimeout(t));
    this.list.remove(room);
    this.rooms.delete(key);
    this.session.rooms.delete(key);
    this.saveRooms();
    if (this.active === key) {
      this.active = null;
      this.dom.messages.replaceChildren();
      const next = this.roomKeys()[0];
      if (next) this.show(next);
      else this.showNone();
    }
    this.renderTitle();
  }

  showNone() {
    this.dom.roomTitle.textContent = 'Banter';
    this.dom.memberList.replaceChildren();
    this.dom.memberCount.textContent = '';
    this.dom.typing.textContent = '';
  }

  /** The rooms to join on the next sign-in with this name. */
  saveRooms() {
    remember(ROOMS_KEY(this.session.name), JSON.stringify([...this.rooms.keys()]));
  }

  savedRooms() {
    try {
      const rooms = JSON.parse(recall(ROOMS_KEY(this.session.name), '[]'));
      const ok = (r) => isValidName(r.replace(/^@/, '')); // @name: a conversation, later
      const valid = Array.isArray(rooms) ? rooms.map(String).filter(ok) : [];
      return valid.length ? valid : ['lobby'];
    } catch {
      return ['lobby'];
    }
  }
}

// --- what the server says (session and connection events) ---------------

Chat.prototype.handlers = {
  welcome(e) {
    this.welcomes += 1;
    if (this.welcomes === 1) {
      this.dom.me.textContent = e.name;
      const rooms = this.savedRooms();
      this.switchTo = rooms[0];
      // Rooms of a restored session are joined by the session itself.
      rooms.filter((r) => !this.session.rooms.has(r)).forEach((r) => this.session.join(r));
      this.showRestored();
    } else {
      this.info(e.resumed ? 'reconnected: session resumed' : 'reconnected (new session)');
    }
  },
  state(e) {
    if (e.state === 'waiting' && this.welcomes > 0 && e.attempt === 1) {
      this.info(`connection lost: ${e.reason}`, 'error');
    }
  },
  msg(m) {
    const room = this.roomFor(m.room);
    const own = sameName(m.from, this.session.name);
    const mention = !own && mentions(m.text, this.session.name);
    room.setTyping(m.from, false);
    const li = this.change(room, () => room.list.addMessage(m, { own, mention }), m.older);
    if (!m.older && !own && !this.seeing(m.room)) this.unseen(room, li, m, mention);
    if (!m.older) this.trim(room);
    this.renderRoom(room);
  },
  acked(e) {
    this.seqRoom.delete(e.seq);
    const room = this.rooms.get(e.room);
    if (room) this.change(room, () => room.list.acked(e.seq, e.id, e.ts));
  },
  sayHeld(e) {
    const room = this.rooms.get(this.seqRoom.get(e.seq));
    if (room) room.list.pending(e.seq, 'rate limited, sending again…');
  },
  sayPending(e) {
    const room = this.rooms.get(this.seqRoom.get(e.seq));
    if (room) room.list.pending(e.seq);
  },
  sayFailed(e) {
    const room = this.rooms.get(e.room);
    if (room) room.list.failed(e.seq, `${e.code}: ${e.detail}`);
  },
  joined(e) {
    this.roomFor(e.room);
    if (this.switchTo === e.room) this.show(e.room);
  },
  roster(e) {
    const room = this.roomFor(e.room);
    room.members = e.names;
    this.renderRoom(room);
  },
  historyEnd(e) {
    const room = this.rooms.get(e.room);
    if (!room) return;
    room.list.setOlder(e.olderExist);
    room.list.olderItem.firstChild.textContent = 'Load older messages';
    if (room.firstJoin) {
      room.firstJoin = false;
      const n = room.members.length;
      this.change(room, () => room.list.addInfo(`you joined ${roomLabel(e.room)} (${n} ` +
        `member${n === 1 ? '' : 's'})`));
    }
  },
  left(e) {
    this.removeRoom(e.room);
    this.info(`you left ${roomLabel(e.room)}`);
  },
  presence(e) {
    const room = this.rooms.get(e.room);
    if (!room) return;
    room.presence(e.name, e.what);
    room.setTyping(e.name, false);
    const what = { joined: 'joined', left: 'left', quit: 'quit', lost: 'lost the connection' };
    const reason = e.what === 'quit' && e.reason ? ` (${e.reason})` : '';
    this.change(room, () => room.list.addInfo(`${e.name} ${what[e.what]}${reason}`, 'presence'));
    this.renderRoom(room);
  },
  typing(e) {
    const room = this.rooms.get(e.room);
    if (!room || sameName(e.name, this.session.name)) return;
    room.setTyping(e.name, e.active, () => this.renderRoom(room));
    this.renderRoom(room);
  },
  roomReset(e) {
    const room = this.roomFor(e.room);
    room.list.markReset();
    this.change(room, () => room.list.addInfo('the server lost the history of this room; ' +
      'showing what it has', 'error'));
  },
  joinFailed(e) {
    const room = this.rooms.get(e.room);
    if (room && !this.session.rooms.has(e.room)) this.removeRoom(e.room);
    if (this.switchTo === e.room) this.switchTo = null;
    const which = e.room ? roomLabel(e.room) : 'the room';
    this.info(`cannot join ${which}: ${e.code}: ${e.detail}`, 'error');
  },
  error(e) {
    this.info(`${e.code}: ${e.detail}`, 'error');
  },
  notice(e) {
    this.info(e.text, 'notice');
  },
  registered(e) {
    this.info(`${e.name} is now registered: sign in with its password from now on`);
  },
};

/** Our messages still pending when the page was reloaded, shown again
 *  (they go out with their original seqs once their room is joined). */
Chat.prototype.showRestored = function showRestored() {
  for (const [seq, p] of this.session.pending) {
    if (this.seqRoom.has(seq)) continue;
    const room = this.roomFor(p.room);
    this.seqRoom.set(seq, p.room);
    room.list.addPending(seq, this.session.name, p.text, p.flags & 4);
    if (p.state === 'failed') room.list.failed(seq, 'refused before the reload');
  }
};

/** A message the user has not seen: count it, mark mentions, notify. */
Chat.prototype.unseen = function unseen(room, li, m, mention) {
  room.unread += 1;
  room.list.noteUnread(li);
  if (mention) {
    room.mention = true;
    this.notifier.mention(roomLabel(room.key), m.from, m.text, () => this.show(room.key));
  }
  this.list.update(room, room.key === this.active);
  this.renderTitle();
};
