// Blobs the page keeps behind blob: URLs (saved files, to save again),
// within a budget of bytes: past it, the oldest URLs are revoked and their
// owners told, so a long session never holds every file it saw.
// No DOM, no protocol.

export class Shelf {
  constructor(budget) {
    this.budget = budget;
    this.items = new Map(); // url -> {cost, gone}, oldest first
    this.total = 0; // bytes the kept blobs cost
  }

  /** A URL for `blob`, counted as `cost` bytes; `gone()` is called when it
   *  is revoked to keep the budget (never by `drop` or `clear`). */
  put(blob, cost, gone) {
    const url = URL.createObjectURL(blob);
    this.items.set(url, { cost, gone });
    this.total += cost;
    for (const [old, item] of this.items) {
      if (this.total <= this.budget) break;
      if (old === url) continue; // the newest stays, however large
      this.drop(old);
      item.gone();
    }
    return url;
  }

  /** Revokes `url` (its owner let it go). */
  drop(url) {
    const item = this.items.get(url);
    if (!item) return;
    this.items.delete(url);
    this.total -= item.cost;
    URL.revokeObjectURL(url);
  }

  /** Revokes everything (sign-out). */
  clear() {
    for (const url of [...this.items.keys()]) this.drop(url);
  }
}
