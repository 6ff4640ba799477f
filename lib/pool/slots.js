'use strict';
// A pool worker's actors by id, found without hashing: an actor id is `generation << SLOT_BITS
// | slot` (crate/src/slab.rs), and no two live actors share a slot, so the slot is an index.
// The table is paged as the core's are (a page of PAGE entries exists while one of its actors
// lives here), so a worker holding every other actor of a million costs a pointer per slot, less
// than a Map entry, and a worker with a few actors in high slots a few pages (plus the page
// index, 640 KiB). A lookup checks
// the whole id: a slot's earlier or later actor is not this one. Same methods as the Map it
// replaces (get, set, delete, values, size).
//
// An entry may also be compact: many actors then share one `Compact` object (what they have in
// common) and each keeps only its id and incarnation in the page's Float64Array (16 bytes, no
// object of its own). The first lookup of such an actor makes its entry with the table's
// `expand(id, compact, incarnation)` and keeps it (children a pool worker spawns by itself,
// created by the thousand and many never messaged: lib/pool/worker.js spawnAlone).

const SLOT_BITS = 24; // must match SLOT_BITS in crate/src/slab.rs (checked by __test__/kinds.test.mjs)
const SLOT_MASK = 2 ** SLOT_BITS - 1;
const PAGE_BITS = 8;
const PAGE = 1 << PAGE_BITS;
const PAGES = 2 ** (SLOT_BITS - PAGE_BITS);

/** What the compact entries of many actors share (`data`); never an actor's own entry. */
class Compact {
  constructor(data) {
    this.id = -1; // (no actor's id: a lookup tells it from an entry by this field)
    this.data = data;
  }
}

class SlotTable {
  /** `expand(id, compact, incarnation)`: the entry of a compact actor, made on its first lookup. */
  constructor(expand) {
    // page number → array of PAGE entries (undefined: none of its slots here) and, at index
    // PAGE, the ids and incarnations of its compact entries (a Float64Array, from the first);
    // made at full length (512 KiB) so that a first actor in a high slot does not turn it
    // into a dictionary
    this.pages = new Array(PAGES).fill(undefined);
    this.used = new Uint16Array(PAGES); // page number → how many entries it holds
    this.size = 0;
    this.expand = expand;
  }

  /** The entry of actor `id` (a number below 2^53), made now if it was compact; or undefined. */
  get(id) {
    const slot = id & SLOT_MASK; // (the low 32 bits of the id, then its slot bits)
    const page = this.pages[slot >>> PAGE_BITS];
    if (page === undefined) return undefined;
    const i = slot & (PAGE - 1);
    const e = page[i];
    if (e === undefined) return undefined;
    if (e.id === id) return e;
    if (e.id !== -1) return undefined;
    const marks = page[PAGE];
    if (marks[2 * i] !== id) return undefined;
    const made = this.expand(id, e, marks[2 * i + 1]);
    page[i] = made;
    return made;
  }

  /** Stores `entry` (which has `id`) for actor `id`, replacing whatever held its slot. */
  set(id, entry) {
    this.pageOf(id)[id & (PAGE - 1)] = entry;
  }

  /** Stores actor `id` (incarnation `inc`) compactly, sharing `compact` (see Compact). */
  setCompact(id, compact, inc) {
    const page = this.pageOf(id);
    const i = id & (PAGE - 1);
    const marks = (page[PAGE] ??= new Float64Array(2 * PAGE));
    marks[2 * i] = id;
    marks[2 * i + 1] = inc;
    page[i] = compact;
  }

  /** The page of `id`'s slot, made if new; the slot counted if it was empty. */
  pageOf(id) {
    const slot = id & SLOT_MASK;
    const p = slot >>> PAGE_BITS;
    let page = this.pages[p];
    if (page === undefined) {
      page = new Array(PAGE + 1).fill(undefined);
      this.pages[p] = page;
    }
    const i = slot & (PAGE - 1);
    if (page[i] === undefined) {
      this.used[p]++;
      this.size++;
    }
    return page;
  }

  /** Forgets actor `id` (compact or not); false if it was not here. */
  delete(id) {
    const slot = id & SLOT_MASK;
    const p = slot >>> PAGE_BITS;
    const page = this.pages[p];
    if (page === undefined) return false;
    const i = slot & (PAGE - 1);
    const e = page[i];
    if (e === undefined || (e.id !== id && (e.id !== -1 || page[PAGE][2 * i] !== id))) return false;
    page[i] = undefined;
    this.size--;
    if (--this.used[p] === 0) this.pages[p] = undefined; // its memory goes with its last actor
    return true;
  }

  /** Forgets actor `id` if it is compact with incarnation `inc` (its entry never made); else false. */
  dropCompactOf(id, inc) {
    const slot = id & SLOT_MASK;
    const page = this.pages[slot >>> PAGE_BITS];
    if (page === undefined) return false;
    const i = slot & (PAGE - 1);
    const e = page[i];
    if (e === undefined || e.id !== -1 || page[PAGE][2 * i] !== id || page[PAGE][2 * i + 1] !== inc) return false;
    return this.delete(id);
  }

  /** Every entry that is not compact (in slot order). */
  *values() {
    for (const page of this.pages) {
      if (page === undefined) continue;
      for (let i = 0; i < PAGE; i++) {
        const e = page[i];
        if (e !== undefined && e.id !== -1) yield e;
      }
    }
  }

  /** Forgets every compact entry (without making their entries); returns how many there were. */
  dropCompact() {
    let n = 0;
    for (let p = 0; p < PAGES; p++) {
      const page = this.pages[p];
      if (page === undefined || page[PAGE] === undefined) continue;
      for (let i = 0; i < PAGE; i++) {
        if (page[i] === undefined || page[i].id !== -1) continue;
        page[i] = undefined;
        n++;
        if (--this.used[p] === 0) this.pages[p] = undefined;
      }
    }
    this.size -= n;
    return n;
  }
}

module.exports = { SlotTable, Compact, SLOT_BITS };
