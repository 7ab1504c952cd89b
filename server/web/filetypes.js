// What a shared file is, judged safely: which files may be previewed
// inline (png, jpeg, gif and webp only, and only when their first bytes say
// so, whatever type the sender declared: never SVG, HTML or anything that
// could run), the name a file is sent with and the name it is saved under
// (nothing that acts or walks a path), and sizes in words. No state, no DOM.

/** Types shown inline, by the declared type the sender gave. */
export const PREVIEW_TYPES = Object.freeze(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** Bytes `sniffImage` needs to look at. */
export const SNIFF_BYTES = 12;

const starts = (b, sig, at = 0) => sig.every((x, i) => b[at + i] === x);
const ascii = (s) => [...s].map((c) => c.charCodeAt(0));

/** The raster type the first bytes of a file prove it to be, or null. */
export function sniffImage(bytes) {
  if (starts(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts(bytes, ascii('GIF87a')) || starts(bytes, ascii('GIF89a'))) return 'image/gif';
  if (starts(bytes, ascii('RIFF')) && starts(bytes, ascii('WEBP'), 8)) return 'image/webp';
  return null;
}

/** The declared type, lower case and without parameters. */
export function baseType(mime) {
  return String(mime).split(';')[0].trim().toLowerCase();
}

/** Whether a file declared as `mime` is one the page would preview. */
export function mayPreview(mime) {
  return PREVIEW_TYPES.includes(baseType(mime));
}

// Characters that act instead of show, or that a file system reads as a
// path: control characters, bidi controls (which can make "gpj.exe" read
// "exe.jpg"), and / \ : * ? " < > |.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\:*?"<>|]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

const encoder = new TextEncoder();

/** `name` cut to at most `max` bytes of UTF-8, keeping a short extension. */
function cutName(name, max) {
  if (encoder.encode(name).length <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = [...name.slice(0, name.length - ext.length)];
  while (stem.length && encoder.encode(stem.join('') + ext).length > max) stem.pop();
  return stem.join('') + ext;
}

/** The name a file is saved under: only what is safe as one file name in
 *  any folder of any system; "download" when nothing is left. */
export function safeFileName(name) {
  let n = String(name).replace(UNSAFE, '_').trim().replace(/^[.\s]+|[.\s]+$/g, '');
  if (RESERVED.test(n)) n = `_${n}`;
  n = cutName(n, 200);
  return n || 'download';
}

/** The name a file is uploaded with (§10: 1–255 bytes, no `/`, no control
 *  characters): the same cleaning, so what others save is what we sent. */
export function uploadName(name) {
  return name ? safeFileName(name) : 'file';
}

/** The type a file is uploaded with: the browser's, or "unknown bytes". */
export function uploadType(type) {
  const t = String(type || '').trim();
  return t.length <= 255 && /^[\x21-\x7e]+\/[\x20-\x7e]+$/.test(t) ? t : 'application/octet-stream';
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** 999 bytes, 1.5 KB, 12 MB (powers of 1024). */
export function humanSize(n) {
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  if (u === 0) return `${v} ${v === 1 ? 'byte' : 'bytes'}`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** "1.2 of 4.0 MB"-style progress words. */
export function progressWords(done, total) {
  const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
  return `${pct}% · ${humanSize(done)} of ${humanSize(total)}`;
}
