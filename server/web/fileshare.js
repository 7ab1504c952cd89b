// File sharing in the chat (§10), the user's side. Files come from the
// Attach button, from a drop anywhere on the chat, or pasted into the
// input, and go to the room shown, each on a card with its progress and
// Cancel (Retry and Remove when refused, with the server's reason).
// A received file is offered for download under its own name; a png,
// jpeg, gif or webp image whose first bytes prove it is previewed inline
// from a blob: URL once it scrolls into view. Downloads show progress and
// can be cancelled; a finished one is saved through a link with the
// `download` attribute and a safe name, its Blob typed
// application/octet-stream, so nothing in a file ever runs in the page.
//
// Memory stays bounded: a preview's URL is revoked once the image is
// drawn, saved files are kept (to save again) within a budget, and lines
// the page drops give theirs back. Frames are uploads.js's and
// downloads.js's.

import { explainRefusal } from './direct.js';
import { SNIFF_BYTES, baseType, humanSize, mayPreview, progressWords, safeFileName,
  sniffImage } from './filetypes.js';
import { actionButton, previewArea, saveLink, setActions, setProgress, setStatus,
  showImage } from './filecard.js';
import { Shelf } from './shelf.js';

/** Images up to this size are previewed by themselves as they come into view. */
const PREVIEW_MAX = 8 << 20;
/** Saved files kept in memory, to save again without fetching. */
const KEEP_BYTES = 64 << 20;

export class FileShare {
  constructor(chat) {
    this.chat = chat;
    this.uploads = chat.conn.uploads;
    this.downloads = chat.conn.downloads;
    this.shelf = new Shelf(KEEP_BYTES);
    this.previewUrls = new Set(); // blob: URLs of images not drawn yet
    this.observer = new IntersectionObserver((es) => this.inView(es),
      { root: chat.dom.messages, rootMargin: '300px 0px' });
    this.listeners = [];
    this.dragDepth = 0; // dragenter minus dragleave: the hint shows while above 0
    this.wire(chat.dom);
  }

  wire(dom) {
    const on = (target, type, fn) => {
      target.addEventListener(type, fn);
      this.listeners.push([target, type, fn]);
    };
    on(dom.attach, 'click', () => dom.fileInput.click());
    on(dom.fileInput, 'change', () => {
      this.send([...dom.fileInput.files]);
      dom.fileInput.value = '';
    });
    on(dom.input, 'paste', (ev) => {
      const files = ev.clipboardData ? [...ev.clipboardData.files] : [];
      if (files.length === 0) return;
      ev.preventDefault();
      this.send(files);
    });
    // The whole page takes drops: a file dropped beside the chat must not
    // make the browser leave it to open the file.
    on(document, 'dragenter', (ev) => this.drag(ev, 1));
    on(document, 'dragover', (ev) => this.drag(ev, 0));
    on(document, 'dragleave', (ev) => this.drag(ev, -1));
    on(document, 'drop', (ev) => this.drop(ev));
  }

  drag(ev, step) {
    if (!hasFiles(ev.dataTransfer)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
    this.dragDepth = Math.max(0, this.dragDepth + step);
    this.hint(this.dragDepth > 0 || step === 0);
  }

  hint(on) {
    const room = this.chat.dom.room;
    const label = this.chat.active ? this.chat.dom.roomTitle.textContent : null;
    room.classList.toggle('dropping', on && label !== null);
    if (label) room.dataset.drop = `Drop to send to ${label}`;
  }

  drop(ev) {
    if (!hasFiles(ev.dataTransfer)) return;
    ev.preventDefault();
    this.dragDepth = 0;
    this.hint(false);
    const files = [...ev.dataTransfer.files];
    const items = [...(ev.dataTransfer.items || [])];
    items.forEach((item, i) => {
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry && entry.isDirectory) {
        this.chat.info(`"${entry.name}" is a folder: send the files in it instead`, 'error');
        files[i] = null;
      }
    });
    this.send(files.filter(Boolean));
  }

  /** Sends `files` to the room shown, each on a card of its own. */
  send(files) {
    const room = this.chat.rooms.get(this.chat.active);
    if (!room) return this.chat.info('join a room first: /join ROOM', 'error');
    for (const file of files) {
      let up;
      try {
        up = this.uploads.add(room.key, file);
      } catch (err) {
        this.chat.info(`not sent: ${err.message}`, 'error');
        continue;
      }
      this.chat.seqRoom.set(up.seq, room.key);
      room.list.showUnreadLine();
      const li = this.chat.change(room, () => room.list.addPending(up.seq,
        this.chat.session.name, up.name, false, { size: up.size, mime: up.mime }));
      li.file_ = { name: up.name, size: up.size, mime: up.mime, room: room.key, local: file };
      this.uploads.begin(up);
      this.localPreview(li);
    }
    const box = this.chat.dom.messages;
    if (room.key === this.chat.active) box.scrollTop = box.scrollHeight;
    return undefined;
  }

  /** Our own image, shown from the file itself (nothing fetched). */
  async localPreview(li) {
    const f = li.file_;
    if (!mayPreview(f.mime)) return;
    await this.preview(li, f.local);
  }

  pendingLine(seq) {
    const room = this.chat.rooms.get(this.chat.seqRoom.get(seq));
    return room ? [room, room.list.bySeq.get(seq)] : [null, null];
  }

  /** How an upload stands, on its card. */
  onUpload(e) {
    const [room, li] = this.pendingLine(e.seq);
    if (!li) return;
    if (li.classList.contains('failed')) room.list.pending(e.seq); // retried
    const moving = e.state === 'sending' || e.state === 'storing';
    setProgress(li, moving || e.done > 0 ? e.done : null, e.size);
    setStatus(li, uploadWords(e));
    li.dataset.upload = e.state;
    if (e.resumedAt) li.dataset.resumedAt = String(e.resumedAt);
    if (li.file_.state === e.state) return;
    li.file_.state = e.state;
    // Once every byte is sent the server posts the file whatever we do.
    setActions(li, ...(e.state === 'storing' ? [] : [actionButton('Cancel',
      () => this.uploads.cancel(e.seq), `Stop sending ${e.name}`)]));
  }

  onAcked(e) {
    const [room, li] = this.pendingLine(e.seq);
    this.chat.seqRoom.delete(e.seq);
    if (!li) return;
    const state = room.receipts.stateOf(e.id);
    this.chat.change(room, () => room.list.acked(e.seq, e.id, e.ts, state));
    delete li.dataset.upload;
    li.file_.state = 'sent';
    setProgress(li, null);
    setStatus(li, '');
    this.offer(li);
  }

  onFailed(e) {
    const [room, li] = this.pendingLine(e.seq);
    if (!li) return;
    room.list.failed(e.seq, `${e.code}: ${e.detail}`);
    li.dataset.upload = 'failed';
    li.file_.state = 'failed';
    setProgress(li, null);
    setStatus(li, uploadRefusal(e.code, e.detail), 'error');
    setActions(li, actionButton('Remove', () => this.uploads.cancel(e.seq), 'Forget this file'));
  }

  onCancelled(e) {
    const [room, li] = this.pendingLine(e.seq);
    this.chat.seqRoom.delete(e.seq);
    if (!li) return;
    this.chat.change(room, () => room.list.removePending(e.seq));
    this.dropped(li);
    this.chat.info(`not sent: you cancelled ${e.name}`);
  }

  /** A file message from the server (live, replayed or history). */
  received(li, m) {
    li.file_ = { file: m.file.file, size: Number(m.file.size), mime: m.file.mime, name: m.text,
      room: m.room };
    this.offer(li);
  }

  /** A card at rest: its preview to come (or a Show button), Save or Download. */
  offer(li) {
    const f = li.file_;
    setProgress(li, null);
    if (!mayPreview(f.mime)) {
      const label = f.local ? 'Save' : 'Download';
      setActions(li, actionButton(label, () => this.save(li), `${label} ${f.name}`));
      return;
    }
    if (!f.shown && !f.local) {
      const show = actionButton(`Show image (${humanSize(f.size)})`,
        () => this.fetch(li, { preview: true }, true));
      if (f.size <= PREVIEW_MAX && !f.noAuto) this.observer.observe(li);
      else previewArea(li).replaceChildren(show);
    }
    setActions(li, actionButton('Save', () => this.save(li), `Save ${f.name}`));
  }

  inView(entries) {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      this.observer.unobserve(e.target);
      if (e.target.file_ && !e.target.file_.shown) this.fetch(e.target, { preview: true }, false);
    }
  }

  /** The user's Save or Download: from the file itself if it is ours, else fetched. */
  save(li) {
    const f = li.file_;
    if (f.local) return this.keep(li, f.local.slice(0, f.size, 'application/octet-stream'), 0);
    return this.fetch(li, { save: true }, true);
  }

  /** Fetches the card's file for a preview and/or to save (`urgent`: the user asked). */
  fetch(li, want, urgent) {
    const f = li.file_;
    f.want = { ...f.want, ...want };
    if (f.waiter) return this.downloads.get(f.file, f.size, f.waiter, urgent);
    const verb = () => (f.want.save ? 'downloading' : 'loading the image');
    const waiter = {
      progress: (got, size) => {
        setProgress(li, got, size);
        setStatus(li, `${verb()} ${progressWords(got, size)}`);
      },
      done: (blob) => this.fetched(li, blob),
      failed: (code, detail) => {
        this.rest(li);
        setStatus(li, fetchRefusal(code, detail), 'error');
      },
      wanted: () => f.want.save || li.isConnected,
      skipped: () => this.rest(li),
    };
    f.waiter = waiter;
    setStatus(li, f.want.save ? 'waiting to download…' : 'waiting to load…');
    setActions(li, actionButton('Cancel', () => this.cancelFetch(li), `Stop fetching ${f.name}`));
    return this.downloads.get(f.file, f.size, waiter, urgent);
  }

  /** Back to rest after a fetch ended without a file. */
  rest(li) {
    li.file_.waiter = null;
    li.file_.want = null;
    this.offer(li);
  }

  cancelFetch(li) {
    const f = li.file_;
    if (!f.waiter) return;
    this.downloads.cancel(f.file, f.waiter);
    f.noAuto = true; // a preview the user stopped waits for its Show button
    this.rest(li);
    setStatus(li, 'download cancelled');
  }

  async fetched(li, blob) {
    const f = li.file_;
    const want = f.want;
    f.waiter = null;
    f.want = null;
    setProgress(li, null);
    setStatus(li, '');
    if (want.preview) await this.preview(li, blob);
    if (want.save) this.keep(li, blob, blob.size);
    else this.offer(li);
  }

  /** Shows `blob` as the card's image if its bytes are a raster type we
   *  preview; the image's URL is given back once it is drawn. */
  async preview(li, blob) {
    const f = li.file_;
    f.shown = true;
    const head = new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer());
    const type = sniffImage(head);
    if (!type) {
      previewArea(li).replaceChildren();
      const kind = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/gif': 'GIF', 'image/webp': 'WebP' };
      setStatus(li, `not shown: its bytes are not a ${kind[baseType(f.mime)]} image`, 'error');
      return;
    }
    const url = URL.createObjectURL(blob.slice(0, blob.size, type));
    this.previewUrls.add(url);
    showImage(li, url, f.name, (img, ok) => {
      URL.revokeObjectURL(url);
      this.previewUrls.delete(url);
      if (!ok) {
        img.remove();
        setStatus(li, 'not shown: the image is damaged', 'error');
        return;
      }
      const room = this.chat.rooms.get(f.room);
      if (room) this.chat.change(room, () => { img.hidden = false; });
      else img.hidden = false;
    });
  }

  /** Saves `blob` under the file's safe name and keeps it (within the
   *  budget, `cost` bytes of it) behind a "Save again" link. */
  keep(li, blob, cost) {
    const f = li.file_;
    if (f.saved) this.shelf.drop(f.saved);
    const name = safeFileName(f.name);
    const url = this.shelf.put(blob, cost, () => {
      if (f.saved !== url) return;
      f.saved = null;
      this.offer(li);
    });
    f.saved = url;
    const link = saveLink(url, name, 'save');
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setStatus(li, `saved as ${name}`, 'ok');
    setActions(li, saveLink(url, name, 'Save again'));
  }

  /** A line left the page (trimmed, its room left): its fetch and URLs go. */
  dropped(li) {
    const f = li.file_;
    if (!f) return;
    this.observer.unobserve(li);
    if (f.waiter) this.downloads.cancel(f.file, f.waiter);
    f.waiter = null;
    const saved = f.saved;
    f.saved = null;
    if (saved) this.shelf.drop(saved);
  }

  /** Every file line of `list` (a room's list leaving the page). */
  forget(list) {
    list.querySelectorAll('.msg.file').forEach((li) => this.dropped(li));
  }

  dispose() {
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.observer.disconnect();
    this.shelf.clear();
    this.previewUrls.forEach((url) => URL.revokeObjectURL(url));
    this.previewUrls.clear();
    this.hint(false);
  }
}

function hasFiles(dt) {
  return !!dt && [...dt.types].includes('Files');
}

/** An upload's state in words. */
function uploadWords(e) {
  const resumed = e.resumedAt ? ` · resumed at ${humanSize(e.resumedAt)}` : '';
  switch (e.state) {
    case 'queued': return e.online ? 'waiting for its turn…' : 'waiting for the connection…';
    case 'asking': return e.done > 0 ? 'asking the server how much arrived…' : 'starting…';
    case 'sending': return `sending ${progressWords(e.done, e.size)}${resumed}`;
    case 'storing': return e.done < e.size ? `sending ${progressWords(e.done, e.size)}${resumed}`
      : 'sent: the server is storing it…';
    case 'held': return 'the server asks to slow down: sending again in a second…';
    default: return '';
  }
}

/** Why the server refused an upload, in words. */
function uploadRefusal(code, detail) {
  if (code === 'FILE_REFUSED') return `refused by the server: ${detail}`;
  if (code === 'NOT_IN_ROOM') return `not sent: you are not in this room (${detail})`;
  if (code === 'UNREADABLE') return `not sent: ${detail}`;
  return explainRefusal(code, detail, null) || `not sent: ${code}: ${detail}`;
}

/** Why a file could not be fetched, in words. */
function fetchRefusal(code, detail) {
  if (code === 'FILE_UNKNOWN') {
    return `not available: the server has no such file where you are (${detail})`;
  }
  if (code === 'STORAGE') return `the server could not read the file (${detail})`;
  return `download failed: ${code}: ${detail}`;
}

/** Session events about files, as Chat handlers (`this` is the Chat). */
export const fileHandlers = {
  upload(e) { this.files.onUpload(e); },
  uploadAcked(e) { this.files.onAcked(e); },
  uploadFailed(e) { this.files.onFailed(e); },
  uploadCancelled(e) { this.files.onCancelled(e); },
};
