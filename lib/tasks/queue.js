'use strict';
// The job queue: a Job is one task from task() until it settles; jobs wait for a thread in a FIFO
// (in JS: an aborted queued task just leaves it, and its input is never serialised).

const native = require('../native.js');

// Job states.
const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;
const SETTLING = 3; // its thread replied; its result is still on its way (lib/tasks/channel.js)

/** One task, from `task()` until it settles. */
class Job {
  constructor(pool, def, input, o, cancellable) {
    this.pool = pool;
    this.def = def;
    this.input = input;
    this.text = undefined; // the serialised input, once it was sent
    this.timeoutMs = o.timeoutMs;
    this.signal = o.signal;
    this.limits = o.limits;
    this.key = o.key;
    this.transfer = o.transfer;
    this.onProgress = o.onProgress ?? null; // (value) => void, called while the task runs
    this.bytes = null; // transfer: the input to write into a box (null: no input)
    this.kind = ''; // transfer: how the thread rebuilds it ('json', 'Uint8Array', …)
    this.box = null; // transfer: the input's box, once shared with `thread`
    this.boxCorr = 0; // transfer: waiting for a box (its thread is reserved)
    this.big = null; // a long input: the string itself, or its JSON text (lib/tasks/transfer.js)
    this.bigJson = false; // whether `big` is JSON text
    this.parcel = 0; // the parcel holding `big`, once made; dropped when the job ends
    this.noChannel = false; // send `big` in a parcel even to a thread with a side channel
    this.sentOn = 0; // the side channel `big` was last posted on
    // Only a task nobody can stop (no timeout, no signal, not started by a helper) may wait
    // in a busy thread's mailbox: stopping a task kills its thread. Transferred inputs are only
    // written for a thread that is free to read them.
    this.prefetchable = o.timeoutMs === 0 && o.signal === undefined && !cancellable && !o.transfer;
    this.state = QUEUED;
    this.thread = null;
    this.corr = 0;
    this.sentAt = 0;
    this.timer = null;
    this.resolve = null;
    this.reject = null;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  succeed(value) {
    if (this.state === DONE) return;
    this.end();
    this.resolve(value);
  }

  fail(err) {
    if (this.state === DONE) return;
    this.end();
    this.reject(err);
  }

  end() {
    this.state = DONE;
    this.onProgress = null; // progress that arrives later is dropped
    this.input = undefined;
    this.text = undefined;
    this.bytes = null;
    this.big = null;
    this.box = null;
    this.boxCorr = 0;
    if (this.parcel !== 0) {
      native.parcelDrop(this.parcel);
      this.parcel = 0;
    }
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.signal !== undefined) this.pool.unwatch(this);
  }
}

/**
 * `job` goes back to waiting for a thread: a transferred input's box stayed with the thread it
 * was shared with (which releases it, or dies), so a new one is written when it is sent again.
 */
function unsend(job) {
  if (job.timer !== null) clearTimeout(job.timer);
  job.timer = null;
  job.state = QUEUED;
  job.thread = null;
  job.box = null;
  job.boxCorr = 0;
}

/** A FIFO of jobs; jobs that left it (aborted) are dropped when they reach the head. */
class Fifo {
  constructor() {
    this.items = [];
    this.head = 0;
  }

  push(x) {
    this.items.push(x);
  }

  unshift(x) {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }

  peek() {
    while (this.head < this.items.length) {
      const x = this.items[this.head];
      if (x.state === QUEUED && x.thread === null) return x;
      this.items[this.head++] = undefined;
    }
    if (this.head > 0) this.compact();
    return undefined;
  }

  shift() {
    const x = this.peek();
    if (x !== undefined) {
      this.items[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    }
    return x;
  }

  compact() {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }

  drain() {
    const out = this.items.slice(this.head).filter((x) => x !== undefined && x.state === QUEUED && x.thread === null);
    this.items = [];
    this.head = 0;
    return out;
  }
}

module.exports = { QUEUED, RUNNING, DONE, SETTLING, Job, unsend, Fifo };
