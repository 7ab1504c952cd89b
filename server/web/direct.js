// Direct conversations (§8) from the user's side: opening one (`/msg NAME
// [text]`, the sidebar's "new conversation" field, `/join @NAME`), the
// text that waits until the server has opened it, and plain words for its
// refusals (a guest, a name with no account, oneself). Mixed into Chat.
//
// Incoming conversations open themselves (session.js joins them, events.js
// lists them); nothing here decodes frames.

import { isValidName, sameName } from './codec.js';

/** The room key of the conversation with `name`: the server names it in lower case. */
export function conversationKey(name) {
  return `@${name.toLowerCase()}`;
}

/**
 * What a refusal means for the user, or null to show the server's words:
 * AUTH_REQUIRED (a guest naming a conversation) and NO_SUCH_USER.
 */
export function explainRefusal(code, detail, name) {
  switch (code) {
    case 'AUTH_REQUIRED':
      return 'Direct messages are between registered names: register yours with ' +
        '/register PASSWORD (8 to 256 bytes), or sign in with its password. ' +
        `(${code}: ${detail})`;
    case 'NO_SUCH_USER':
      return `${name ? `${name} has` : 'That name has'} no account on this server: direct ` +
        `messages go to registered names only. (${code}: ${detail})`;
    default:
      return null;
  }
}

export const direct = {
  /**
   * Opens the conversation with `name` and shows it; `text`, if any, is
   * sent once the server has opened it. Throws an Error saying why not.
   */
  message(name, text) {
    const who = name.replace(/^@/, '');
    if (!isValidName(who)) throw new Error(`"${who}" is not a valid name`);
    if (!this.session.online && this.session.features === null) {
      throw new Error('not connected yet: try again once connected');
    }
    if (!this.session.offers('dm')) throw new Error('this server has no direct messages');
    if (sameName(who, this.session.name)) {
      throw new Error('that is you: a direct message goes to someone else');
    }
    const key = conversationKey(who);
    const sync = this.session.rooms.get(key);
    if (this.rooms.has(key) && sync && sync.joined) {
      this.show(key);
      if (text) this.sayIn(this.rooms.get(key), text, false);
      return;
    }
    if (text) {
      if (!this.afterJoin.has(key)) this.afterJoin.set(key, { who, texts: [] });
      this.afterJoin.get(key).texts.push(text);
    }
    this.switchTo = key;
    this.session.join(key);
  },

  /** JOINED: a conversation opened with text waiting sends it now. */
  opened(room) {
    const waiting = this.afterJoin.get(room.key);
    if (!waiting) return;
    this.afterJoin.delete(room.key);
    for (const text of waiting.texts) this.sayIn(room, text, false);
  },

  /** The server would not open conversation `key`: say why in words, and
   *  give back the text that waited (in the input, or in the room when
   *  something else is typed there), so nothing typed is lost. */
  notOpened(key, code, detail) {
    const waiting = this.afterJoin.get(key);
    this.afterJoin.delete(key);
    const who = waiting ? waiting.who : key.slice(1);
    const why = explainRefusal(code, detail, who) || `${code}: ${detail}`;
    this.info(`cannot open ${key}: ${why}`, 'error');
    if (!waiting) return;
    const line = `/msg ${who} ${waiting.texts.join('\n')}`;
    if (this.dom.input.value) {
      this.info(`not sent: ${line}`, 'error');
    } else {
      this.dom.input.value = line;
      this.dom.composeError.textContent = 'not sent: your message is back in the input';
    }
  },
};
