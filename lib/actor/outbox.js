'use strict';
// The writing side of an actor thread's outbox: `ctx.send` appends a record to a byte ring in
// core memory instead of making a native call per message. The core delivers the records, in
// order, before any later native call of this thread (another send, a call, an emit, taking or
// parking), at the end of the JS task that wrote them (a microtask), when the thread ends or is
// killed, and every few ms from its timer thread (a task that never ends: a hang; the sweeping
// stops while every outbox stays empty, and the first record published after that restarts it).
// Layout (crate/src/outbox.rs): records [len u32][target u32][len bytes of JSON], padded to 4
// bytes; target 0 is the host (a `self.send` event for the supervisor's subscribers; for a pool
// worker, its records about its actors); a WRAP word sends the reader back to position 0. Control words: [2] head (published
// here), [3] tail (advanced by the core), [4] how many dead targets the core noted.

const native = require('../native.js');

const BYTES = 64 * 1024; // must match OUTBOX_BYTES in crate/src/outbox.rs
const HEADER = 8;
const WRAP = 0xffffffff;
const MAX_RECORD = BYTES / 4; // larger messages go by a native call (after a flush)
const MAX_ID = 0xffffffff;
const MAX_DEAD = 10000; // dead targets remembered (they never come back)
const ACK_TAG = 0xfffffffe; // first word of a binary acknowledgement: ACK_TAG in crate/src/outbox.rs
const ACK_BYTES = 20; // its body (ACK_BYTES in crate/src/outbox.rs)
const ACK_RECORD = HEADER + ACK_BYTES;
const encoder = new TextEncoder();
const SHORT = 64; // texts up to this long are copied here (ASCII); longer ones by encodeInto
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

class Outbox {
  /**
   * `control`: this thread's control words (Uint32Array over core memory). The host's mail
   * ring (lib/host/mail.js) passes its own ring, the native call that delivers it, and a
   * sweep word that always reads 1 (the timer thread does not sweep the host's ring: every
   * native call of the host delivers it).
   */
  constructor(control, ring = native.outboxView(), deliver = native.flushOutbox, sweeping = native.outboxSweepWord()) {
    this.control = control;
    this.u8 = ring;
    this.u32 = new Uint32Array(this.u8.buffer, this.u8.byteOffset, BYTES / 4);
    this.sweeping = sweeping; // [0]: 0 once the core's timer stopped sweeping
    this.dead = new Set();
    this.deadSeen = control[4];
    this.flushQueued = false;
    this.head = 0; // where the record being written starts counting (see reserve)
    this.deliver = deliver;
    this.flush = () => {
      this.flushQueued = false;
      if (this.control[2] !== this.control[3]) deliver();
    };
  }

  /**
   * Queues JSON `text` for actor `target` (0: an event for the host). False when it cannot go through the ring (too large,
   * id out of range); the caller then sends it by a native call, which delivers the ring first.
   */
  put(target, text) {
    const n = text.length;
    const worst = (HEADER + n * 3 + 3) & ~3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (worst > MAX_RECORD || target > MAX_ID) return false;
    const pos = this.reserve(worst);
    const at = pos + HEADER;
    let len = n;
    if (n > SHORT || !LITTLE_ENDIAN || !this.putShort(text, at)) len = encoder.encodeInto(text, this.u8.subarray(at, at + n * 3)).written;
    this.publish(pos, target, len);
    return true;
  }

  /**
   * Writes the short `text` at `at` (a multiple of 4) if it is ASCII, four characters per word
   * store (little-endian: the first in the lowest byte); false if it is not (then nothing
   * written counts: the caller encodes it over the same bytes before publishing).
   */
  putShort(text, at) {
    const n = text.length;
    const u32 = this.u32;
    let w = at >>> 2;
    let i = 0;
    let all = 0; // every character OR-ed: above 0x7f if one is not ASCII
    for (const whole = n & ~3; i < whole; i += 4) {
      const a = text.charCodeAt(i);
      const b = text.charCodeAt(i + 1);
      const c = text.charCodeAt(i + 2);
      const d = text.charCodeAt(i + 3);
      all |= a | b | c | d;
      u32[w++] = a | (b << 8) | (c << 16) | (d << 24);
    }
    if (i < n) {
      let last = 0;
      for (let shift = 0; i < n; i++, shift += 8) {
        const a = text.charCodeAt(i);
        all |= a;
        last |= a << shift;
      }
      u32[w] = last;
    }
    return all <= 0x7f;
  }

  /**
   * Queues a pool worker's acknowledgement of `n` messages of `actor`'s incarnation `inc`: a
   * binary record of five words `[ACK_TAG, n, inc, actor's low 32 bits, its high bits]`
   * (crate/src/outbox.rs, Record::Ack), written as words: no digits, no string per handled
   * message, and nothing for the core to parse.
   */
  putAck(inc, actor, n = 1) {
    const pos = this.reserve(ACK_RECORD);
    const u32 = this.u32;
    const w = (pos >>> 2) + 2;
    u32[w] = ACK_TAG;
    u32[w + 1] = n;
    u32[w + 2] = inc;
    u32[w + 3] = actor >>> 0; // (ToUint32: the low 32 bits of a safe integer)
    u32[w + 4] = actor > MAX_ID ? Math.floor(actor / 0x100000000) : 0;
    this.publish(pos, 0, ACK_BYTES);
  }

  /**
   * Room for a record of at most `worst` bytes (header included): its offset in the ring.
   * Delivers the ring first when it is too full, and wraps to the start when the record would
   * not fit before the end. `publish` makes it visible.
   */
  reserve(worst) {
    const c = this.control;
    let head = c[2];
    let pos = head & (BYTES - 1);
    const pad = pos + worst > BYTES ? BYTES - pos : 0;
    if (BYTES - ((head - c[3]) >>> 0) < pad + worst) this.deliver(); // now empty
    if (pad !== 0) {
      this.u32[pos >>> 2] = WRAP;
      head = (head + pad) >>> 0;
      pos = 0;
    }
    this.head = head;
    return pos;
  }

  /** Publishes the record of `len` bytes for `target` written at `pos` (see reserve). */
  publish(pos, target, len) {
    const c = this.control;
    this.u32[pos >>> 2] = len;
    this.u32[(pos >>> 2) + 1] = target;
    Atomics.store(c, 2, (this.head + ((HEADER + len + 3) & ~3)) >>> 0); // publish after the bytes
    // The sweep that delivers this record if the task never ends stops when outboxes stay
    // empty; it is read after the publication above (both sequentially consistent: see the
    // core's Runtime::sweep_word), so a stopped sweep is seen and started again.
    if (Atomics.load(this.sweeping, 0) === 0) native.resumeSweeping();
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush); // delivered when this JS task ends, if nothing did it before
    }
  }

  /** True if mail to `target` was found dead for good (the core reports it after delivery). */
  knownDead(target) {
    const seen = this.control[4];
    if (seen !== this.deadSeen) {
      this.deadSeen = seen;
      if (this.dead.size > MAX_DEAD) this.dead.clear();
      for (const t of native.outboxDead()) this.dead.add(t);
    }
    return this.dead.size !== 0 && this.dead.has(target);
  }
}

module.exports = { Outbox, OUTBOX_BYTES: BYTES, ACK_TAG, ACK_BYTES };
