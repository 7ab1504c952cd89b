// A file message's card, as DOM built from text only (see text.js): the
// file's name (inert: bidi and control characters show as placeholders),
// its size and declared type, a place for an image preview, a progress bar
// with words, and the buttons or link the controller (fileshare.js) puts
// there. No behaviour and no protocol here.

import { el, inertText } from './text.js';
import { humanSize } from './filetypes.js';

/** Longest declared type shown (the rest is in the title). */
const TYPE_SHOWN = 60;

/** The parts of a file line after its author: name, size · type, box. */
export function fileParts(name, size, mime) {
  const text = el('span', 'text file-name');
  text.dir = 'auto';
  text.append(inertText(name));
  const type = String(mime);
  const meta = el('span', 'file-meta');
  meta.append(`${humanSize(size)} · `,
    inertText(type.length > TYPE_SHOWN ? `${type.slice(0, TYPE_SHOWN)}…` : type));
  meta.title = `${size} bytes, sent as ${type}`;
  const box = el('div', 'file-box');
  // Progress words change many times a second: not for the log's live region.
  box.setAttribute('aria-live', 'off');
  const progress = el('progress', 'file-progress');
  progress.hidden = true;
  box.append(el('div', 'file-preview'), progress, el('span', 'file-status'),
    el('span', 'file-actions'));
  return [text, meta, box];
}

const part = (li, cls) => li.querySelector(`.file-box > .${cls}`);

/** The card's words (what is happening, or why not); `cls`: ok, error, or none. */
export function setStatus(li, words, cls = '') {
  const status = part(li, 'file-status');
  status.textContent = words;
  status.className = cls ? `file-status ${cls}` : 'file-status';
}

/** Shows `done` of `total` bytes on the bar; `done` null hides it. */
export function setProgress(li, done, total) {
  const bar = part(li, 'file-progress');
  bar.hidden = done === null;
  if (done === null) return;
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, total);
}

/** Replaces the card's buttons and links. */
export function setActions(li, ...nodes) {
  part(li, 'file-actions').replaceChildren(...nodes);
}

/** A small button of a card. */
export function actionButton(label, onClick, title) {
  const b = el('button', 'file-action', label);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

/** A link that saves `url` as `name` (already made safe) when followed. */
export function saveLink(url, name, label) {
  const a = el('a', 'file-save', label);
  a.href = url;
  a.download = name;
  a.title = `Save as ${name}`;
  return a;
}

/** The card's preview area (holds the image, or a Show button). */
export function previewArea(li) {
  return part(li, 'file-preview');
}

/** An image of the card from `url` (a blob: URL of a checked raster type),
 *  hidden until it has loaded; `loaded(ok)` is called once. */
export function showImage(li, url, name, loaded) {
  const img = el('img', 'preview');
  img.alt = name;
  img.decoding = 'async';
  img.hidden = true;
  img.addEventListener('load', () => loaded(img, true), { once: true });
  img.addEventListener('error', () => loaded(img, false), { once: true });
  img.src = url;
  previewArea(li).replaceChildren(img);
  return img;
}
