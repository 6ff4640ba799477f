'use strict';
// A pool worker's actors by id, found without hashing: an actor id is `generation << SLOT_BITS
// | slot` (crate/src/slab.rs), and no two live actors share a slot, so the slot is an index.
// The table is paged as the core's are (a page of PAGE entries exists while one of its actors
// lives here), so a worker holding every other actor of a million costs a pointer per slot, less
// than a Map entry, and a worker with a few actors in high slots a few pages (plus the page
// index, 640 KiB). A lookup checks
// the whole id: a slot's earlier or later actor is not this one. Same methods as the Map it
// replaces (get, set, delete, values, size).

const SLOT_BITS = 24; // must match SLOT_BITS in crate/src/slab.rs (checked by __test__/kinds.test.mjs)
const SLOT_MASK = 2 ** SLOT_BITS - 1;
const PAGE_BITS = 8;
const PAGE = 1 << PAGE_BITS;
const PAGES = 2 ** (SLOT_BITS - PAGE_BITS);

class SlotTable {
  constructor() {
    // page number → array of PAGE entries (undefined: none of its slots here); made at full
    // length (512 KiB) so that a first actor in a high slot does not turn it into a dictionary
    this.pages = new Array(PAGES).fill(undefined);
    this.used = new Uint16Array(PAGES); // page number → how many entries it holds
    this.size = 0;
  }

  /** The entry of actor `id` (a number below 2^53), or undefined. */
  get(id) {
    const slot = id & SLOT_MASK; // (the low 32 bits of the id, then its slot bits)
    const page = this.pages[slot >>> PAGE_BITS];
    if (page === undefined) return undefined;
    const e = page[slot & (PAGE - 1)];
    return e !== undefined && e.id === id ? e : undefined;
  }

  /** Stores `entry` (which has `id`) for actor `id`, replacing whatever held its slot. */
  set(id, entry) {
    const slot = id & SLOT_MASK;
    const p = slot >>> PAGE_BITS;
    let page = this.pages[p];
    if (page === undefined) {
      page = new Array(PAGE).fill(undefined);
      this.pages[p] = page;
    }
    const i = slot & (PAGE - 1);
    if (page[i] === undefined) {
      this.used[p]++;
      this.size++;
    }
    page[i] = entry;
  }

  /** Forgets actor `id`; false if it was not here. */
  delete(id) {
    const slot = id & SLOT_MASK;
    const p = slot >>> PAGE_BITS;
    const page = this.pages[p];
    if (page === undefined) return false;
    const i = slot & (PAGE - 1);
    const e = page[i];
    if (e === undefined || e.id !== id) return false;
    page[i] = undefined;
    this.size--;
    if (--this.used[p] === 0) this.pages[p] = undefined; // its memory goes with its last actor
    return true;
  }

  /** Every entry (in slot order). */
  *values() {
    for (const page of this.pages) {
      if (page === undefined) continue;
      for (const e of page) if (e !== undefined) yield e;
    }
  }
}

module.exports = { SlotTable, SLOT_BITS };
