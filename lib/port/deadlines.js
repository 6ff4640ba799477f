'use strict';
// Timeouts of requests in flight (the host's `call`s) with one timer for all of them.
//
// A timer per request cost more than the rest of a call's JS on the host: Node's `setTimeout`
// and `clearTimeout` touch its timer lists, the uv timer and the handle's ref count (several
// calls into C++), and a sparse call paid it cold every time. Here a request only records its
// deadline in a binary heap; one timer is armed for the earliest deadline and is left armed when
// requests are answered (the next request's deadline is later, so nothing is re-armed). Answered
// requests stay in the heap until their deadline or until they outnumber the live ones, when
// the heap is rebuilt from the live ones only: memory stays proportional to the requests in
// flight, and every operation is O(log n) amortised.

/** Rebuild once the heap holds this many more entries than twice the live requests. */
const SLACK = 64;

class Deadlines {
  /**
   * `live(item)`: whether `item` still waits for its answer; `expire(item)`: its time ran out
   * (called once, only for a live item); `size()`: how many items are live. `timers`: the runtime's own `{ setTimeout,
   * clearTimeout }`; `unref`: the timer does not keep the process alive.
   */
  constructor({ live, expire, size, timers = globalThis, unref = false, now = () => performance.now() }) {
    this.live = live;
    this.expire = expire;
    this.size = size;
    this.timers = timers;
    this.unref = unref;
    this.now = now;
    this.heap = []; // { at, item }, smallest `at` first
    this.timer = null;
    this.armedAt = Infinity; // the deadline the timer was set for
    this.fire = () => this.onTimer();
  }

  /** `item` times out `ms` milliseconds from now unless it is answered first. */
  add(item, ms) {
    const at = this.now() + ms;
    if (this.heap.length > 2 * this.size() + SLACK) this.compact();
    this.push({ at, item });
    if (at < this.armedAt) this.arm(at);
  }

  /** Forgets everything and stops the timer (shutdown). */
  clear() {
    this.heap = [];
    this.disarm();
  }

  arm(at) {
    this.disarm();
    this.armedAt = at;
    // +1: a timer may fire within the millisecond before `at` (it counts whole milliseconds)
    this.timer = this.timers.setTimeout(this.fire, Math.max(0, Math.ceil(at - this.now())) + 1);
    if (this.unref) this.timer?.unref?.();
  }

  disarm() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
  }

  onTimer() {
    this.timer = null;
    this.armedAt = Infinity;
    const t = this.now();
    while (this.heap.length > 0 && this.heap[0].at <= t) {
      const { item } = this.pop();
      if (this.live(item)) this.expire(item);
    }
    this.compact();
    if (this.heap.length > 0) this.arm(this.heap[0].at);
  }

  /** Drops the entries of answered items and restores the heap order. */
  compact() {
    const keep = this.heap.filter((e) => this.live(e.item));
    keep.sort((a, b) => a.at - b.at); // a sorted array is a heap
    this.heap = keep;
  }

  push(e) {
    const h = this.heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= e.at) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r].at < h[l].at ? r : l;
        if (h[c].at >= last.at) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

module.exports = { Deadlines };
