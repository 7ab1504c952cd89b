// The signed-in chat: the rooms and conversations the page shows (messages,
// members, typing, unread counts, the tab title), what the user has seen
// (MARK, see reading.js), and the user's actions as session calls. One Chat
// lives per sign-in. What the server says is turned into view changes by
// events.js; opening conversations is direct.js's, files fileshare.js's.
//
// The connection and its status bar are app.js's; the wire is session.js's.

import { isValidName } from './codec.js';
import { recall, remember, roomLabel } from './text.js';
import { Room, RoomList, renderMembers } from './rooms.js';
import { TypingAnnouncer } from './compose.js';
import { MarkSender, newestOnScreen } from './reading.js';
import { handlers } from './events.js';
import { direct } from './direct.js';
import { FileShare, fileHandlers } from './fileshare.js';

const ROOMS_KEY = (name) => `banter.rooms.${name.toLowerCase()}`;
/** A list within this many pixels of its end counts as scrolled to it. */
const NEAR = 40;
/** A room's list is cut back to KEEP_LINES once it holds over MAX_ITEMS elements. */
const KEEP_LINES = 2000;
const MAX_ITEMS = 2600;
/** What is on screen is looked at this long after it may have changed. */
const CHECK_MS = 100;

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
    this.early = []; // lines that came before any room was shown (the greeting)
    this.welcomes = 0;
    this.afterJoin = new Map(); // conversation -> {who, texts} to send once it is open
    this.list = new RoomList(dom.roomList, dom.dmList, (k) => this.show(k), (k) => this.leave(k));
    this.typing = new TypingAnnouncer((room, on) => this.sendTyping(room, on));
    this.marks = new MarkSender((room, id) => this.session.mark(room, id));
    this.checkTimer = null; // a look at what is on screen, waiting
    this.files = new FileShare(this); // uploads, previews, downloads
    this.onScroll = () => this.scrolled();
    this.onResize = () => this.lookSoon();
    dom.messages.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onResize);
  }

  dispose() {
    this.dom.messages.removeEventListener('scroll', this.onScroll);
    window.removeEventListener('resize', this.onResize);
    clearTimeout(this.checkTimer);
    this.marks.dispose();
    this.files.dispose();
    for (const room of this.rooms.values()) {
      room.typing.forEach((t) => clearTimeout(t));
      room.receipts.dispose();
    }
    this.dom.roomList.replaceChildren();
    this.dom.dmList.replaceChildren();
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

  /** The view of room `key`, made (and listed) when new; `show`: shown at
   *  once when no room is (or the user asked for this one). */
  roomFor(key, show = true) {
    let room = this.rooms.get(key);
    if (room) return room;
    room = new Room(key, (r) => this.loadOlder(r), (seq) => this.session.retry(seq),
      (li) => this.files.dropped(li));
    this.rooms.set(key, room);
    this.list.add(room);
    this.saveRooms();
    if ((show && !this.active) || this.switchTo === key) this.show(key);
    return room;
  }

  /** An information line in the room shown (kept for the first room shown). */
  info(text, cls = 'info') {
    const room = this.rooms.get(this.active);
    if (!room) return this.early.push({ text, cls });
    return this.change(room, () => room.list.addInfo(text, cls));
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
    if (shown) this.lookSoon();
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
    for (const line of this.early.splice(0)) room.list.addInfo(line.text, line.cls);
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
    this.lookSoon();
  }

  /** Looks at what is on screen soon (coalescing the reasons to). */
  lookSoon() {
    if (!this.checkTimer) this.checkTimer = setTimeout(() => this.look(), CHECK_MS);
  }

  /** MARKs the newest message on screen, if the page is seen at all. */
  look() {
    this.checkTimer = null;
    const room = this.rooms.get(this.active);
    if (!room || document.visibilityState !== 'visible' || this.dom.chat.hidden) return;
    const id = newestOnScreen(this.dom.messages);
    if (id !== null) this.marks.saw(room.key, id);
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
    this.lookSoon();
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
    if (key.startsWith('@')) return this.message(key.slice(1), '');
    if (this.rooms.has(key)) return this.show(key);
    this.switchTo = key;
    return this.session.join(key);
  }

  leave(key) {
    if (!this.rooms.has(key)) return this.info(`you are not in ${roomLabel(key)}`, 'error');
    if (this.session.online) return this.session.leave(key);
    return this.removeRoom(key);
  }

  /** Sends text to the room shown; throws an Error saying why it cannot. */
  say(text, action) {
    const room = this.rooms.get(this.active);
    if (!room) throw new Error('join a room first: /join ROOM');
    this.sayIn(room, text, action);
  }

  sayIn(room, text, action) {
    const seq = this.session.say(room.key, text, action ? 4 : 0);
    this.typing.sent();
    this.seqRoom.set(seq, room.key);
    room.list.showUnreadLine();
    this.change(room, () => room.list.addPending(seq, this.session.name, text, action));
    if (room.key === this.active) this.dom.messages.scrollTop = this.dom.messages.scrollHeight;
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
    room.receipts.dispose();
    this.files.forget(room.list.el);
    this.marks.forget(key);
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
      const ok = (r) => isValidName(r.replace(/^@/, '')); // @name: a conversation
      const valid = Array.isArray(rooms) ? rooms.map(String).filter(ok) : [];
      // Rooms first: the first one is shown.
      const direct = (r) => r.startsWith('@');
      const ordered = [...valid.filter((r) => !direct(r)), ...valid.filter(direct)];
      return ordered.length ? ordered : ['lobby'];
    } catch {
      return ['lobby'];
    }
  }
}

Chat.prototype.handlers = { ...handlers, ...fileHandlers };
Object.assign(Chat.prototype, direct);
