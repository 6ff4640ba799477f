'use strict';
// Worker threads for actors: creation, a warm pool of started threads, and a process-wide
// count of live threads (for leak checks). Threads are created by the host thread only.
//
// A thread started with resource limits or with its own `execArgv`/`env` (thread-setup.js)
// belongs to the actor it was made for: it never comes from the warm pool nor goes back to it
// (only default threads are pooled), so no actor ever runs under another one's flags or
// environment. Its own next incarnation may still reuse it (lib/host/supervisor.js `spare`).

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const native = require('../native.js');
const { addonFile } = require('../addon.js');
const { workerOptions } = require('./thread-setup.js');

const WORKER_SCRIPT = path.join(__dirname, '..', 'actor', 'worker.js');
const POOL_SCRIPT = path.join(__dirname, '..', 'pool', 'worker.js');
const REFILL_DELAY_MS = 5;
const live = new Set();

/** One worker thread with its port in the Rust core. */
class Thread {
  /**
   * `pool`: settings of a pool worker (lib/pool/worker.js), which gets a pool port instead.
   * `setup`: its own `execArgv`/`env` (validated by thread-setup.js), if any.
   */
  constructor(resourceLimits, pool, setup) {
    this.port = pool ? native.newPoolPort() : native.newPort();
    this.error = undefined;
    this.alive = true;
    this.onExit = null;
    /** Made for one actor (limits or its own flags/env): never pooled. */
    this.dedicated = Boolean(resourceLimits || setup);
    try {
      this.worker = new Worker(pool ? POOL_SCRIPT : WORKER_SCRIPT, {
        workerData: { port: this.port, wardenAddon: addonFile(), ...(pool ? { pool } : {}) },
        ...(resourceLimits ? { resourceLimits } : {}),
        ...workerOptions(setup),
      });
    } catch (err) {
      native.closePort(this.port);
      throw err;
    }
    live.add(this);
    this.worker.on('error', (err) => {
      this.error ??= err;
    });
    this.over = false; // its code can no longer run (see ended())
    let over;
    /** Resolves once no more of the thread's code can run: at ended(), or at its exit. */
    this.gone = new Promise((resolve) => (over = resolve));
    this._over = (code) => {
      if (this.over) return;
      this.over = true;
      over();
      if (this.onExit) this.onExit(this, code);
    };
    /** Resolves when the thread has exited (after `gone`). */
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.alive = false;
        this.code = code;
        live.delete(this);
        native.closePort(this.port);
        resolve(code);
        this._over(code);
      });
    });
  }

  /**
   * The core saw the thread's JS environment torn down (its port closed), which the runtime
   * reports as an exit a few ms later: whoever waits for the thread to be over need not wait.
   */
  ended() {
    this._over(undefined);
  }

  /** Kills the thread whatever it is doing; resolves when it has exited. */
  kill() {
    if (this.alive) this.worker.terminate();
    return this.exited;
  }
}

/** Keeps `size` started, idle threads so spawning does not wait for thread start-up. */
class ThreadPool {
  constructor(size, onRetire = () => {}) {
    this.size = size;
    this.onRetire = onRetire; // told of every thread the pool stops
    this.idle = [];
    this.retiring = new Set(); // threads being stopped
    this.closed = false;
    this.refillScheduled = false;
    this.refill();
  }

  /**
   * A thread for a new incarnation: a warm one when possible; a new one of its own when it has
   * resource limits or its own `execArgv`/`env` (`setup`).
   */
  acquire(resourceLimits, setup) {
    if (this.closed) throw new Error('thread pool is closed');
    if (resourceLimits || setup) return new Thread(resourceLimits, undefined, setup);
    let t = this.idle.shift();
    while (t && !t.alive) t = this.idle.shift();
    if (!t) t = new Thread();
    t.onExit = null;
    t.worker.ref();
    this.scheduleRefill();
    return t;
  }

  /**
   * Takes back a healthy thread whose actor ended (its handler threw and the thread scrubbed
   * itself, see lib/actor/worker.js) and was not restarted on it at once: first in line for the next
   * acquire if the pool has room, else stopped. A dedicated thread is always stopped.
   */
  adopt(t) {
    if (this.closed || !t.alive || t.dedicated || this.idle.length >= this.size) {
      this.retire(t);
      return;
    }
    this.idle.unshift(this.keep(t));
  }

  /**
   * Refills a little later, so that starting the replacement thread (which costs the host a
   * millisecond or two) does not delay the first messages of the actor that was just spawned.
   */
  scheduleRefill() {
    if (this.refillScheduled || this.closed || this.idle.length >= this.size) return;
    this.refillScheduled = true;
    const timer = setTimeout(() => {
      this.refillScheduled = false;
      this.refill();
    }, REFILL_DELAY_MS);
    timer.unref?.();
  }

  refill() {
    while (!this.closed && this.idle.length < this.size) this.idle.push(this.keep(new Thread()));
  }

  /** An idle thread does not keep the process alive, and leaves the idle list when it exits. */
  keep(t) {
    t.worker.unref();
    t.onExit = () => {
      const i = this.idle.indexOf(t);
      if (i >= 0) this.idle.splice(i, 1);
    };
    return t;
  }

  /** Stops a thread the pool no longer needs; close() waits for it. */
  retire(t) {
    this.retiring.add(t);
    this.onRetire(t);
    t.kill().then(() => this.retiring.delete(t));
  }

  /** Kills every idle thread; no more threads are handed out. */
  async close() {
    this.closed = true;
    const idle = this.idle.splice(0);
    await Promise.all([...idle.map((t) => t.kill()), ...[...this.retiring].map((t) => t.exited)]);
  }
}

/** Number of actor threads alive in this process (every supervisor). */
function liveThreads() {
  return live.size;
}

module.exports = { Thread, ThreadPool, liveThreads };
