// What the user types: parsing a submitted line into a message or a slash
// command (with a one-line explanation for anything malformed), and the
// typing announcements (§4: at most every 3 s while typing, stopped after
// 4 s idle or on send). It sends nothing itself: `sendTyping` does.

import { isValidName, utf8Length } from './codec.js';

export const HELP = [
  '/join ROOM — join (or create) a room and switch to it',
  '/leave [ROOM] — leave a room or close a conversation (default: this one)',
  '/msg NAME [TEXT] — open a direct conversation with NAME (and send TEXT); both names ' +
    'must be registered',
  '/me TEXT — an action ("* ada waves")',
  '/who — list the members of this room',
  '/register PASSWORD — protect your name with a password (8–256 bytes)',
  '/quit [REASON] — sign out',
  '//text sends "/text". Keys: Enter sends, Shift+Enter breaks the line, Alt+↑/↓ or ' +
    'Alt+1…9 switch rooms, PageUp/PageDown scroll, Esc closes panels.',
];

/**
 * Parses a submitted line: {say: text, action: bool} or {cmd, arg}.
 * Throws an Error whose message is a one-line explanation.
 */
export function parse(line) {
  if (!line.startsWith('/')) return { say: line, action: false };
  if (line.startsWith('//')) return { say: line.slice(1), action: false };
  const m = /^\/(\S*)\s*([\s\S]*)$/.exec(line);
  const name = m[1].toLowerCase();
  const arg = m[2].trim();
  switch (name) {
    case 'me':
      if (!arg) throw new Error('usage: /me TEXT');
      return { say: m[2].replace(/^\s+/, ''), action: true };
    case 'join': case 'j': return { cmd: 'join', arg: roomArg('join', arg) };
    case 'msg': case 'query': case 'dm': return msgArgs(m[2]);
    case 'leave': case 'part': return { cmd: 'leave', arg: arg ? roomArg('leave', arg) : null };
    case 'who': case 'names': return { cmd: 'who' };
    case 'register':
      if (utf8Length(arg) < 8 || utf8Length(arg) > 256) {
        throw new Error('usage: /register PASSWORD (8 to 256 bytes)');
      }
      return { cmd: 'register', arg };
    case 'quit': case 'exit': return { cmd: 'quit', arg };
    case 'help': case '?': return { cmd: 'help' };
    case '': throw new Error('empty command; type //text to send text starting with /');
    default: throw new Error(`unknown command /${name}; /help lists the commands`);
  }
}

/** `/msg NAME [TEXT]`: the name (a leading @ is allowed) and the text as typed. */
function msgArgs(rest) {
  const m = /^\s*@?(\S+)(?:\s+([\s\S]*))?$/.exec(rest);
  if (!m) throw new Error('usage: /msg NAME [TEXT]');
  if (!isValidName(m[1])) {
    throw new Error(`"${m[1]}" is not a valid name (1–32 of A–Z a–z 0–9 _ . -, ` +
      'starting with a letter or digit)');
  }
  const text = m[2] || '';
  return { cmd: 'msg', arg: m[1], text: text.trim() ? text : '' };
}

/** A room name typed by the user (a leading # is allowed; @NAME is the
 *  conversation with NAME), lower-cased. */
export function roomArg(cmd, arg) {
  if (arg.startsWith('@')) return `@${msgArgs(arg.slice(1)).arg.toLowerCase()}`;
  const room = arg.replace(/^#/, '');
  if (!room || /\s/.test(room)) throw new Error(`usage: /${cmd} ROOM`);
  if (!isValidName(room)) {
    throw new Error(`"${room}" is not a valid room name (1–32 of A–Z a–z 0–9 _ . -, ` +
      'starting with a letter or digit)');
  }
  return room.toLowerCase();
}

const REPEAT_MS = 3000;
const IDLE_MS = 4000;

/** Announces typing in one room at a time. */
export class TypingAnnouncer {
  /** `sendTyping(room, active)` sends a TYPING frame. */
  constructor(sendTyping) {
    this.sendTyping = sendTyping;
    this.room = null; // where we said we are typing
    this.lastSent = 0;
    this.idle = null;
  }

  /** The input changed while `room` is shown. */
  input(room, text) {
    if (!text || text.startsWith('/')) return this.stop();
    if (this.room !== room) this.stop();
    const now = Date.now();
    if (this.room === null || now - this.lastSent >= REPEAT_MS) {
      this.sendTyping(room, true);
      this.room = room;
      this.lastSent = now;
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Sent, cleared, idle, or switched away: say we stopped (once). */
  stop() {
    clearTimeout(this.idle);
    if (this.room !== null) this.sendTyping(this.room, false);
    this.room = null;
  }

  /** The message was sent: the server already ended our typing state. */
  sent() {
    clearTimeout(this.idle);
    this.room = null;
  }
}
