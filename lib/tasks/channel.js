'use strict';
// Side channels of task threads: a MessageChannel between the host and one task thread (one
// incarnation of it), used on runtimes whose structured clone of a string is cheaper than the
// core's copy, to carry a large input or result (a long string, or a long JSON text) beside the
// task's call. Only the payload goes this way: the call naming it, its reply, cancellation,
// kills, timeouts and the pool's accounting all stay in the core, as for any other task.
//
// Why per runtime (measured on this 2-core machine, 1 MiB of one-byte text handed from one
// thread to another and read there):
//   Bun 1.4.5: postMessage + receiveMessageOnPort ≈ 50–80 µs for a fresh string (≈ 1 µs for a
//              string sent before), a parcel (lib/tasks/transfer.js, src/parcels.rs) ≈ 0.3 ms,
//              and ≈ 10× cheaper at every size from 4 KiB up (two-byte text alike);
//   Node 20:   postMessage ≈ 0.75 ms for the same string and ≈ 3.4 ms for a fresh one (V8
//              serialises it), a parcel ≈ 0.4 ms and its external string no copy at all.
// So Bun sends long texts here and Node keeps parcels: `settings.channels`, read by each task
// pool when it starts (the tests set it to run both paths on both runtimes).
//
// Correlation, so that nothing is read twice, nothing waits forever and nothing stays behind:
//   - The host opens a channel for a thread once its incarnation answered a ping (or replied
//     that it lost a task) with its `threadId`, and only if the supervisor's Worker for that
//     actor has the same `threadId`: the thread's end of the channel is posted to that Worker
//     before any call that names the channel goes through the core.
//   - A payload is posted on the channel before the call naming it (`{ q: id, g: gen, w:
//     threadId }`) is sent, so the thread usually finds it already there; if not, it waits for
//     it on the port. A call naming another thread's id, or an older channel, is answered as
//     lost (the host sends the task again, as for a restarted thread).
//   - Payloads travel in order with increasing ids: taking id N drops whatever came before it
//     (payloads of calls that were never read, e.g. for a thread that was replaced).
//   - A killed or retired thread's channel is closed by the host, which drops what is queued
//     on it; a cancelled queued task never posted anything. Ports are unref'd and only listened
//     to while a payload is awaited, so they keep neither the process nor a thread alive.

const { MessageChannel, receiveMessageOnPort } = require('node:worker_threads');

/**
 * `channels`: whether task pools started from now on send long payloads through side channels
 * (see above). `delayMs` (tests only): the host posts channels and payloads this much later, so
 * that they reach the thread after the calls naming them.
 */
const settings = { channels: typeof process.versions.bun === 'string', delayMs: 0 };

/** Runs `post` now, or `settings.delayMs` later. */
function later(post) {
  if (settings.delayMs <= 0) post();
  else setTimeout(post, settings.delayMs).unref?.();
}

/**
 * Strings (or JSON texts) at least this long, in UTF-16 code units, go on a side channel (where
 * a pool uses them). Measured on Bun (thousands of tasks at once, 2 threads, string input or
 * result): at 1 Ki units the channel costs 10–16 µs of CPU per task against 14–22 µs for JSON
 * through the core (`é` text: 11 against 28–43 µs), and from 4 Ki on it is 2–20× cheaper; at
 * 256 units the two are even (bench/RESULTS.md).
 */
const CHANNEL_TEXT = 1024;

/** Not in the queue yet (`Mailbox.take`). */
const NOT_HERE = Symbol('not here');
/** Never coming (`Mailbox.take`, `Mailbox.wait`). */
const GONE = Symbol('gone');

/**
 * One end of a side channel: posts `[id, value]` payloads, and takes the other end's payloads
 * by id, at once when they are queued or later (`wait`).
 */
class Mailbox {
  constructor(port, gen, tid) {
    this.port = port;
    this.gen = gen; // which channel of the pool this is (increasing)
    this.tid = tid; // the threadId of the task thread at its far end
    this.next = 0; // the last id posted from this end
    this.seen = 0; // the last id that came from the other end (ids come in increasing order)
    this.ahead = new Map(); // payloads that came before they were asked for (id → value)
    this.waits = new Map(); // id → { resolve } of payloads awaited
    this.listening = false;
    this.closed = false;
    this.closing = null; // closeWhenIdle: called once the awaited payloads came
    this.onMessage = (d) => this.arrived(d);
    port.unref?.();
  }

  /** Posts `value`; returns the id the other end takes it by. */
  post(value) {
    const id = ++this.next;
    if (settings.delayMs <= 0) this.port.postMessage([id, value]);
    else later(() => this.closed || this.port.postMessage([id, value]));
    return id;
  }

  /**
   * Payload `id` if it is here (it leaves the mailbox, with every earlier one); NOT_HERE if it
   * may still come; GONE if it never will (a later payload came first, or the mailbox is closed).
   */
  take(id) {
    if (this.closed) return GONE;
    if (this.ahead.has(id)) {
      const v = this.ahead.get(id);
      this.dropThrough(id);
      return v;
    }
    if (id <= this.seen) {
      this.dropThrough(id);
      return GONE; // it came and went, or a later one came first
    }
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) return NOT_HERE;
      const [got, v] = m.message;
      this.seen = got;
      const awaited = this.waits.size > 0 && this.settle(got, v); // (pulled before its event came)
      if (got === id) {
        this.dropThrough(id);
        return v;
      }
      if (got > id) {
        if (!awaited) this.ahead.set(got, v); // posted after `id`, which is therefore not coming
        return GONE;
      }
      // (an earlier payload nobody took: dropped)
    }
  }

  /**
   * A promise of payload `id`, or of GONE if it will not come or the mailbox is closed
   * meanwhile (take it first: this is for one that is not here yet).
   */
  wait(id) {
    if (this.closed) return Promise.resolve(GONE);
    return new Promise((resolve) => {
      this.waits.set(id, { resolve });
      if (!this.listening) {
        this.listening = true;
        this.port.on('message', this.onMessage);
      }
    });
  }

  arrived([got, v]) {
    this.seen = got;
    if (this.settle(got, v)) this.dropThrough(got);
    else this.ahead.set(got, v);
  }

  /**
   * Payload `got` came: the waits for it and for earlier ones (never coming now) are over.
   * Whether `got` itself was awaited.
   */
  settle(got, v) {
    let awaited = false;
    for (const [id, w] of this.waits) {
      if (id > got) continue;
      this.waits.delete(id);
      if (id === got) awaited = true;
      w.resolve(id === got ? v : GONE);
    }
    if (this.waits.size === 0) {
      if (this.listening) {
        this.listening = false;
        this.port.off('message', this.onMessage);
      }
      if (this.closing !== null) queueMicrotask(() => this.close());
    }
    return awaited;
  }

  dropThrough(id) {
    for (const k of this.ahead.keys()) if (k <= id) this.ahead.delete(k);
  }

  /**
   * Closes now if no payload is awaited, else once the awaited ones came (`onClosed` is called
   * then); close() still closes at once.
   */
  closeWhenIdle(onClosed) {
    if (this.waits.size === 0) {
      this.close();
      return true;
    }
    this.closing = onClosed;
    return false;
  }

  /** Closes both ends (what is queued is dropped); awaited payloads are GONE. */
  close() {
    if (this.closed) return;
    this.closed = true;
    const onClosed = this.closing;
    this.closing = null;
    onClosed?.(this);
    this.ahead.clear();
    if (this.listening) this.port.off('message', this.onMessage);
    this.listening = false;
    this.port.close();
    const waits = [...this.waits.values()];
    this.waits.clear();
    for (const w of waits) w.resolve(GONE);
  }
}

/**
 * Host side: opens channel `gen` to `worker` (the Worker of thread `tid`) and returns the
 * host's end. The thread's end is posted to the Worker, where `ThreadEnd` takes it.
 */
function openChannel(worker, gen, tid) {
  const { port1, port2 } = new MessageChannel();
  const box = new Mailbox(port1, gen, tid);
  later(() => box.closed || worker.postMessage({ wardenTaskChannel: gen, port: port2 }, [port2]));
  return box;
}

/**
 * Thread side (lib/tasks/runner.js): the channel the host posted to this thread (`parentPort`,
 * the thread's own port from its Worker), the newest one kept.
 */
class ThreadEnd {
  constructor(parentPort, threadId) {
    this.parentPort = parentPort;
    this.threadId = threadId;
    this.box = null; // the newest channel's Mailbox
    this.waiting = null; // { gen, resolve } while a call waits for its channel to arrive
    this.onMessage = (d) => {
      this.adopt(d);
      if (this.waiting !== null && this.box !== null && this.box.gen >= this.waiting.gen) this.stopWaiting();
    };
  }

  adopt(d) {
    if (d === null || typeof d !== 'object' || typeof d.wardenTaskChannel !== 'number') return;
    if (this.box !== null && this.box.gen >= d.wardenTaskChannel) {
      d.port.close(); // an older channel (not expected): not used
      return;
    }
    this.box?.close();
    this.box = new Mailbox(d.port, d.wardenTaskChannel, this.threadId);
  }

  /** Takes the channels already posted to this thread. */
  pull() {
    for (let m = receiveMessageOnPort(this.parentPort); m !== undefined; m = receiveMessageOnPort(this.parentPort)) this.adopt(m.message);
  }

  /**
   * The Mailbox of channel `gen` (a call's `g`, for this thread): the Mailbox, null if that
   * channel will never be this thread's (an older one), or a promise of the Mailbox while it is
   * on its way.
   */
  channel(gen) {
    if (this.box === null || this.box.gen < gen) this.pull();
    if (this.box !== null && this.box.gen === gen) return this.box;
    if (this.box !== null && this.box.gen > gen) return null;
    return new Promise((resolve) => {
      this.waiting = { gen, resolve };
      this.parentPort.on('message', this.onMessage);
    }).then(() => (this.box !== null && this.box.gen === gen ? this.box : null));
  }

  stopWaiting() {
    const w = this.waiting;
    this.waiting = null;
    this.parentPort.off('message', this.onMessage);
    w.resolve();
  }
}

module.exports = { settings, CHANNEL_TEXT, NOT_HERE, GONE, Mailbox, openChannel, ThreadEnd };
