// Turning strings into DOM without ever parsing them as HTML: every string
// from the network goes through `textContent` (here, in `el` and
// `inertText`), never through innerHTML. Also time and day formatting and
// mention detection. No state.

/** A new element with a class and text (set as textContent, never HTML). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Characters that would act instead of show: bidi embeddings, overrides and
// isolates (they could reverse what follows them), and control characters
// (the server refuses them in text, but the page does not rely on that).
const ACTIVE = /[\u202a-\u202e\u2066-\u2069\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Received text as a fragment of text nodes, with each active character
 * replaced by a visible, inert placeholder such as [U+202E].
 */
export function inertText(text) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(ACTIVE)) {
    if (m.index > at) frag.append(text.slice(at, m.index));
    const hex = m[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
    frag.append(el('span', 'ctl', `[U+${hex}]`));
    at = m.index + m[0].length;
  }
  if (at < text.length) frag.append(text.slice(at));
  return frag;
}

const pad = (n) => String(n).padStart(2, '0');

/** 09:05, in local time. */
export function hhmm(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The full local date and time, for a tooltip. */
export function fullTime(ts) {
  return new Date(ts).toLocaleString();
}

/** A key equal for two times on the same local day. */
export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** "Today", "Yesterday", or the date in words. */
export function dayLabel(ts, now = Date.now()) {
  if (dayKey(ts) === dayKey(now)) return 'Today';
  if (dayKey(ts) === dayKey(now - 86400000)) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, {
    weekday: 'long', year: 'numeric', month: 'long', day: 'numeric',
  });
}

/** Whether `text` mentions `name` as a word (names are ASCII, §2). */
export function mentions(text, name) {
  if (!name) return false;
  const esc = name.replace(/[.\\^$*+?()[\]{}|-]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.-])@?${esc}($|[^A-Za-z0-9_-])`, 'i').test(text);
}

/** How a room (or, later, an `@name` conversation) is named on screen. */
export function roomLabel(room) {
  return room.startsWith('@') ? room : `#${room}`;
}

/** A remembered preference, or `fallback` when storage is disabled or full
 *  (only the convenience is lost then). */
export function recall(key, fallback = null) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v;
  } catch {
    return fallback;
  }
}

/** Remembers a preference, if the browser lets the page. */
export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch { /* storage disabled or full: nothing to do */ }
}
