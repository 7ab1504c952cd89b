// What the server says, as changes to what the page shows: one handler per
// session or connection event, each called with `this` = the Chat. Unread
// counts come from live messages seen elsewhere, from UNREAD at sign-in and
// from first pages past the user's read marker; the "new messages" line
// from the same marker after every JOIN (another device, a reconnect).
//
// It sends nothing itself but what Chat and direct.js send.

import { sameName } from './codec.js';
import { mentions, roomLabel } from './text.js';
import { explainRefusal } from './direct.js';

const PRESENCE_WORDS = { joined: 'joined', left: 'left', quit: 'quit', lost: 'lost the connection' };

export const handlers = {
  welcome(e) {
    this.welcomes += 1;
    this.dom.dmSection.hidden = !this.session.offers('dm');
    this.dom.attach.hidden = !this.session.offers('files');
    if (this.welcomes === 1) {
      this.dom.me.textContent = e.name;
      const rooms = this.savedRooms();
      this.switchTo = rooms[0];
      // Rooms of a restored session are joined by the session itself.
      rooms.filter((r) => !this.session.rooms.has(r)).forEach((r) => this.session.join(r));
      showRestored(this);
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
    const room = this.roomFor(m.room, !m.room.startsWith('@'));
    const own = sameName(m.from, this.session.name);
    const mention = !own && !m.file && mentions(m.text, this.session.name);
    room.setTyping(m.from, false);
    const state = own ? room.receipts.stateOf(m.id) : undefined;
    const li = this.change(room, () => room.list.addMessage(m, { own, mention, state }), m.older);
    if (m.file) this.files.received(li, m);
    // A direct message is marked in the room list like a mention.
    if (!own && isNews(this, room, m)) unseen(this, room, li, m, mention || room.direct);
    if (!m.older) this.trim(room);
    this.renderRoom(room);
  },
  acked(e) {
    this.seqRoom.delete(e.seq);
    const room = this.rooms.get(e.room);
    const state = room && room.receipts.stateOf(e.id);
    if (room) this.change(room, () => room.list.acked(e.seq, e.id, e.ts, state));
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
    const room = this.roomFor(e.room);
    room.read = e.read;
    this.marks.known(e.room, e.read);
    if (this.switchTo === e.room) this.show(e.room);
    this.opened(room);
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
      this.change(room, () => room.list.addInfo(joinLine(this, room)));
    }
    if (e.joinReplay) lineFromMarker(this, room);
    if (room.key === this.active) this.lookSoon();
  },
  left(e) {
    const direct = e.room.startsWith('@');
    this.removeRoom(e.room);
    this.info(direct ? `you closed ${e.room}; a new message opens it again`
      : `you left ${roomLabel(e.room)}`);
  },
  presence(e) {
    const room = this.rooms.get(e.room);
    if (!room) return;
    room.presence(e.name, e.what);
    room.setTyping(e.name, false);
    const reason = e.what === 'quit' && e.reason ? ` (${e.reason})` : '';
    const text = `${e.name} ${PRESENCE_WORDS[e.what]}${reason}`;
    this.change(room, () => room.list.addInfo(text, 'presence'));
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
    this.marks.forget(e.room);
    this.change(room, () => room.list.addInfo('the server lost the history of this room; ' +
      'showing what it has', 'error'));
  },
  joinFailed(e) {
    const room = this.rooms.get(e.room);
    if (room && !this.session.rooms.has(e.room)) this.removeRoom(e.room);
    if (this.switchTo === e.room) this.switchTo = null;
    if (e.room && e.room.startsWith('@')) return this.notOpened(e.room, e.code, e.detail);
    const which = e.room ? roomLabel(e.room) : 'the room';
    return this.info(`cannot join ${which}: ${e.code}: ${e.detail}`, 'error');
  },
  error(e) {
    this.info(explainRefusal(e.code, e.detail, null) || `${e.code}: ${e.detail}`, 'error');
  },
  notice(e) {
    this.info(e.text, 'notice');
  },
  registered(e) {
    this.info(`${e.name} is now registered: sign in with its password from now on`);
  },
  unread(e) {
    const room = this.roomFor(e.room, false);
    if (e.lastId > room.countedTo) room.countedTo = e.lastId;
    if (this.seeing(e.room) || e.count <= room.unread) return;
    room.unread = e.count;
    room.mention = true;
    this.list.update(room, room.key === this.active);
    this.renderTitle();
  },
  read(e) {
    const room = this.rooms.get(e.room);
    if (!room || sameName(e.name, this.session.name)) return;
    if (room.direct) room.receipts.conversation('read', e.id, room.list.el);
    else room.receipts.reader(e.name, e.id, room.list.el);
  },
  delivered(e) {
    const room = this.rooms.get(e.room);
    if (room && room.direct) room.receipts.conversation('delivered', e.id, room.list.el);
  },
};

/** Whether a message from someone else is news the user has not seen: live
 *  or caught up, or in a first page past the read marker (a conversation's
 *  marker counts from 0); not when UNREAD counted it already. */
function isNews(chat, room, m) {
  if (chat.seeing(room.key) || m.id <= room.countedTo) return false;
  if (!m.older) return true;
  return room.read !== null && (room.read > 0n || room.direct) && m.id > room.read;
}

/** A message the user has not seen: count it, mark mentions, notify (only
 *  of live ones: a first page's are shown, not announced one by one). */
function unseen(chat, room, li, m, mention) {
  room.unread += 1;
  room.list.noteUnread(li);
  if (mention) room.mention = true;
  if (mention && !m.older) {
    chat.notifier.mention(roomLabel(room.key), m.from, m.text, () => chat.show(room.key));
  }
  chat.list.update(room, room.key === chat.active);
  chat.renderTitle();
}

/** After a JOIN's replay: the "new messages" line goes above the first
 *  message from someone else past the read marker (as the server keeps it,
 *  or as far as this page has seen, whichever is further). */
function lineFromMarker(chat, room) {
  if (room.read === null) return;
  const seen = chat.marks.seen(room.key);
  const read = seen > room.read ? seen : room.read;
  if (read === 0n && !room.direct) return; // no marker: everything would be "new"
  const li = room.list.firstAfter(read);
  if (!li) return;
  room.list.noteUnread(li);
  if (!chat.seeing(room.key)) return;
  const atBottom = chat.atBottom();
  room.list.showUnreadLine();
  if (atBottom && room.list.unreadLine) room.list.unreadLine.scrollIntoView({ block: 'start' });
}

/** The line that opens a room's or conversation's first page. */
function joinLine(chat, room) {
  if (room.direct) {
    const other = room.members.find((n) => !sameName(n, chat.session.name)) || room.key.slice(1);
    return `direct messages with ${other}: only the two of you can read them`;
  }
  const n = room.members.length;
  return `you joined ${roomLabel(room.key)} (${n} member${n === 1 ? '' : 's'})`;
}

/** Our messages still pending when the page was reloaded, shown again
 *  (they go out with their original seqs once their room is joined). */
function showRestored(chat) {
  for (const [seq, p] of chat.session.pending) {
    if (chat.seqRoom.has(seq)) continue;
    const room = chat.roomFor(p.room);
    chat.seqRoom.set(seq, p.room);
    room.list.addPending(seq, chat.session.name, p.text, p.flags & 4);
    if (p.state === 'failed') room.list.failed(seq, 'refused before the reload');
  }
}
