'use strict';
// The host side of pooled actors (docs/ARCHITECTURE.md): one supervisor's pool workers, started
// on the first pooled spawn and replaced when lost, where a new incarnation goes, and the
// watchdog that notices actor code stuck past `pool.maxBlockMs` (synchronously, or in a
// continuation after an await). Where the worker runs its batches under an interrupting time
// limit (`pool.interrupt`), the worker unwinds such a handler itself and the watchdog waits
// longer before it steps in; otherwise, or when the limit did not cover the code (a promise
// continuation, a timer), the supervisor kills and replaces the whole worker.

const { Thread } = require('../host/threads.js');

const WATCH_WORDS = 7; // see PoolWorker.watch

/** One pool worker thread and the pooled incarnations it runs. */
class PoolWorker {
  constructor(index, config, tickMs, live) {
    const batch = config.batch;
    this.index = index;
    // [0]: the actor whose handler runs synchronously now (0: none); [1]: a sequence number;
    // [2]: a tick of the worker's event loop while [3] actors have an async handler (or
    // start-up) in progress; [4], [5]: that actor and its incarnation when there is exactly one;
    // [6]: 1 while [0] runs under the worker's interrupting time limit (lib/pool/worker.js)
    this.watch = new Int32Array(new SharedArrayBuffer(4 * WATCH_WORDS));
    this.thread = new Thread(undefined, {
      maxActors: batch.maxActors,
      perActor: batch.perActor,
      watch: this.watch.buffer,
      tickMs,
      maxBlockMs: config.maxBlockMs,
      interrupt: config.interrupt,
      // live pooled actors of the supervisor (an Int32Array's buffer), its limit and the
      // number of workers: what a worker checks before spawning children by itself
      live,
      limit: config.maxActors,
      workers: config.workers,
    });
    this.regions = new Set(); // names of the shared regions posted to this worker
    this.members = new Set(); // supervisor entries whose current incarnation runs here
    this.sources = new Map(); // source text → key, for sources this worker has compiled
    this.lost = false;
    this.suspects = 0; // actors ended by a deadline while they awaited, not yet confirmed gone (lib/host/supervisor.js)
    this.seen = -1; // watchdog: the sequence number last seen running, and since when (ms)
    this.tick = -1; // the tick last seen while async handlers were in progress
    this.since = 0;
  }
}

/**
 * The id of the actor on worker `w` whose id the 32-bit watch word `word` holds. Actor ids use
 * up to 53 bits (crate/src/slab.rs: generation and slot); a word keeps their low 32 bits, which
 * the slot in them makes unique among live actors and never 0. Looked up on a hang only.
 */
function memberId(w, word) {
  for (const e of w.members) if ((e.num | 0) === word) return e.num;
  return word;
}

/** The pool workers of one supervisor. */
class Pool {
  /**
   * `config`: the validated `pool` settings; `lost(worker, cause, culpritId, culpritIncarnation?)`
   * is called when a worker must be replaced (a handler stuck past maxBlockMs, or the thread
   * died); the incarnation is given when the culprit is stuck after an await (a deadline may
   * have ended that incarnation already, and the next one be waiting on the same worker).
   * `live`: the supervisor's count of live pooled actors (an Int32Array over shared memory).
   */
  constructor(config, lost, live) {
    this.config = config;
    this.live = live.buffer; // [0]: live pooled actors (lib/host/supervisor.js _pooledWords)
    this.workers = new Array(config.workers).fill(null);
    this.lost = lost;
    this.closed = false;
    this.nextKey = 0;
    const every = Math.max(5, Math.floor(config.maxBlockMs / 2));
    // A stall while handlers await is weaker evidence than a handler seen running for
    // maxBlockMs (a descheduled or collecting thread stalls too): it must last longer
    this.awaitBlockMs = Math.max(2 * config.maxBlockMs, 1000);
    this.tickMs = Math.max(5, Math.floor(this.awaitBlockMs / 8));
    // ...unless an actor's deadline passed there and the worker has not confirmed its end: two
    // pieces of evidence, so a stall of maxBlockMs (at least two ticks) is enough
    this.suspectBlockMs = Math.max(config.maxBlockMs, 2 * this.tickMs);
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref?.();
  }

  /** The worker at `index`, started if there is none (first use, or after a loss). */
  worker(index) {
    let w = this.workers[index];
    if (w === null) {
      w = new PoolWorker(index, this.config, this.tickMs, this.live);
      this.workers[index] = w;
      w.thread.onExit = () => {
        if (!w.lost && !this.closed) this.lost(w, 'exit', 0);
      };
    }
    return w;
  }

  /**
   * Where a new incarnation goes (docs/ARCHITECTURE.md, Pooled actors): `near` (its parent's
   * worker) unless that one carries more than 1.25 times the mean load; otherwise the less
   * loaded of two workers.
   */
  pick(near) {
    const n = this.workers.length;
    if (near && !near.lost && this.workers[near.index] === near) {
      let total = 0;
      for (const w of this.workers) total += w?.members.size ?? 0;
      if (near.members.size <= (1.25 * total) / n) return near;
    }
    if (n === 1) return this.worker(0);
    const a = (Math.random() * n) | 0;
    const b = (a + 1 + ((Math.random() * (n - 1)) | 0)) % n;
    const load = (i) => this.workers[i]?.members.size ?? 0;
    return this.worker(load(a) <= load(b) ? a : b);
  }

  /** The key under which `worker` knows `text` (a source), and whether it must be sent. */
  sourceKey(worker, text) {
    const key = worker.sources.get(text);
    if (key !== undefined) return { key, fresh: false };
    const k = ++this.nextKey;
    worker.sources.set(text, k);
    return { key: k, fresh: true };
  }

  /**
   * Takes `w` out of service and starts its replacement at once (unless the pool is closing):
   * the new thread boots while the old one is killed and its actors' exits are handled, and is
   * ready, or nearly, when they restart on it.
   */
  replace(w) {
    w.lost = true;
    if (this.workers[w.index] !== w) return;
    this.workers[w.index] = null;
    if (!this.closed) this.worker(w.index);
  }

  /**
   * The watchdog: a worker loses its place when it has either run one handler synchronously
   * for maxBlockMs (the culprit is that actor; under the worker's time limit, which unwinds it
   * at twice maxBlockMs, for three times that), or, while handlers await, neither started a
   * handler nor ticked its event loop for twice that (at least 1 s): a continuation after an
   * `await` is stuck (the culprit is the one actor awaiting; with several, none can be named).
   * A worker with `suspects` (a deadline passed there and is not yet confirmed) gets only
   * `suspectBlockMs` for the latter.
   */
  check() {
    const now = performance.now();
    for (const w of this.workers) {
      if (w === null || w.lost) continue;
      const id = Atomics.load(w.watch, 0);
      const seq = Atomics.load(w.watch, 1);
      const awaiting = Atomics.load(w.watch, 3);
      const tick = id === 0 && awaiting > 0 ? Atomics.load(w.watch, 2) : -1;
      if ((id === 0 && awaiting === 0) || seq !== w.seen || tick !== w.tick) {
        w.seen = id === 0 && awaiting === 0 ? -1 : seq;
        w.tick = tick;
        w.since = now;
      } else if (now - w.since >= (id !== 0 ? (Atomics.load(w.watch, 6) === 1 ? 3 : 1) * this.config.maxBlockMs : w.suspects > 0 ? this.suspectBlockMs : this.awaitBlockMs)) {
        if (id !== 0) this.lost(w, 'maxBlockMs', memberId(w, id));
        else if (awaiting === 1) this.lost(w, 'maxBlockMs', memberId(w, Atomics.load(w.watch, 4)), Atomics.load(w.watch, 5));
        else this.lost(w, 'maxBlockMs', 0);
      }
    }
  }

  /** Stops every worker; resolves when they have exited. */
  async close() {
    this.closed = true;
    clearInterval(this.timer);
    const all = this.workers.filter((w) => w !== null);
    this.workers.fill(null);
    await Promise.all(all.map((w) => w.thread.kill()));
  }
}

module.exports = { Pool, PoolWorker };
