'use strict';
// Tasks: killable one-off computations on a pool of task threads. Each task thread is a
// runtime-internal actor (outside maxActors and the actor counters) running lib/task-runner.js,
// so tasks and their results travel through the Rust core like every other message. A thread
// runs one task at a time: the timeout clock starts when the task is handed to an idle thread,
// and a task that must be stopped (timeout, AbortSignal) is stopped by killing its thread, which
// the pool then replaces. Tasks wait in a FIFO queue in JS; an aborted queued task just leaves
// the queue, and its input is never serialised.
//
// With `transfer`, the input does not travel as JSON: when the task is handed to a thread, the
// host writes it into a box of the supervisor's memory pool shared with that thread only, and
// releases its own reference at once, so the box lives exactly as long as the thread holds it
// (the thread releases it when the task ends; the core releases it if the thread dies). If no
// box is free, the thread is reserved and the write waits in the pool's FIFO. A bytes result
// comes back in a box the thread wrote: the host copies it once, then tells the thread to let go.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const native = require('./native.js');
const K = require('./kinds.js');
const { encode } = require('./codec.js');
const tier2 = require('./tier2.js');
const { spawnOptions } = require('./config.js');
const { TimeoutError, ActorExitError } = require('./errors.js');

const RUNNER = Object.freeze({ kind: 'module', url: pathToFileURL(path.join(__dirname, 'task-runner.js')).href });
const NO_TIMEOUT = 2 ** 31 - 1; // setTimeout's largest delay
const PING_TIMEOUT_MS = 60000; // a thread that does not start within this is given up
const MAX_KNOWN = 256; // task functions a thread keeps compiled before it starts afresh
const MAX_START_FAILURES = 3; // consecutive threads that failed to start before queued tasks are failed
const MAX_CODE_DEFS = 10000;
const SPIN_SERVICE_MS = 0.15; // tasks shorter than this (smoothed): poll for replies instead of parking …
const SPIN_TURNS = 200; // … for at most this many idle event-loop turns, while no thread has a backlog
const PREFETCH_MAX_MS = 2; // a thread whose recent tasks took less may get its next tasks early
const PREFETCH_BUDGET_MS = 1; // … as many as it should finish in this long
const HEAP_EVERY = 16; // with maxHeapUsedMb, threads report their heap every this many tasks (and after any task of 1 ms or more)
const PREFETCH_DEPTH = 32; // … and at most this many waiting behind the running one
const OPTION_KEYS = ['timeoutMs', 'signal', 'resourceLimits', 'transfer'];
const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'];
const ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

// Reply tags of lib/task-runner.js.
const R_FAIL = 0;
const R_OK = 1;
const R_UNDEF = 2;
const R_LOST = 3;
const R_BOX = 4;
const RELEASE = -1; // `[-1, boxIndex, epoch]`: the host copied a result box, the thread may let it go
const textEncoder = new TextEncoder();

// Job states.
const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;

// ---- task functions ---------------------------------------------------------------------

/** What a thread needs to run a task function: `fid` and the JSON it is defined by. */
class Def {
  constructor(fid, def) {
    this.fid = fid;
    this.text = JSON.stringify(def);
    this.resetText = JSON.stringify({ ...def, reset: true });
  }
}

let nextFid = 1;
const byFunction = new WeakMap(); // function → Def
const byCode = new Map(); // source text → Def
const byModule = new Map(); // URL href or path string → Def

function defOf(fn, param) {
  if (typeof fn === 'function') {
    let d = byFunction.get(fn);
    if (d !== undefined) return d;
    const code = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(code)) {
      throw new TypeError(`${param}: native or bound functions cannot be serialised; pass a plain function or a module URL`);
    }
    d = byCode.get(code);
    if (d === undefined) {
      if (byCode.size >= MAX_CODE_DEFS) byCode.clear();
      d = new Def(nextFid++, { code });
      byCode.set(code, d);
    }
    byFunction.set(fn, d);
    return d;
  }
  let key;
  if (fn instanceof URL) key = fn.href;
  else if (typeof fn === 'string' && fn.length > 0) key = fn;
  else throw new TypeError(`${param} must be a function or a module URL/path`);
  let d = byModule.get(key);
  if (d !== undefined) return d;
  let file;
  if (fn instanceof URL || key.startsWith('file:')) {
    const url = fn instanceof URL ? fn : new URL(key);
    if (url.protocol !== 'file:') throw new TypeError(`${param}: only file: URLs can run as tasks (got ${url.protocol})`);
    file = fileURLToPath(url);
  } else {
    file = path.resolve(key);
  }
  if (!fs.existsSync(file)) throw new RangeError(`${param}: module not found: ${file}`);
  d = new Def(nextFid++, { url: pathToFileURL(file).href });
  byModule.set(key, d);
  return d;
}

// ---- options ----------------------------------------------------------------------------

function isObject(v) {
  return v !== null && typeof v === 'object';
}

function timeoutOf(v, field) {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${field} must be a number`);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${field} must be a positive finite number`);
  if (v > NO_TIMEOUT) throw new RangeError(`${field} must be at most ${NO_TIMEOUT} ms`);
  return v;
}

function signalOf(v, field) {
  if (v === undefined) return undefined;
  if (!isObject(v) || typeof v.aborted !== 'boolean' || typeof v.addEventListener !== 'function' || typeof v.removeEventListener !== 'function') {
    throw new TypeError(`${field} must be an AbortSignal`);
  }
  return v;
}

function limitsOf(v, field) {
  if (v === undefined) return undefined;
  if (!isObject(v) || Array.isArray(v)) throw new TypeError(`${field} must be an object`);
  const out = {};
  for (const k of Object.keys(v).sort()) {
    if (!LIMIT_KEYS.includes(k)) throw new TypeError(`${field}: unknown option "${k}" (expected one of: ${LIMIT_KEYS.join(', ')})`);
    const n = v[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || Number.isNaN(n)) throw new TypeError(`${field}.${k} must be a number`);
    if (!Number.isFinite(n) || n < 1) throw new RangeError(`${field}.${k} must be a finite number >= 1`);
    out[k] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function transferOf(v, field) {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${field} must be a boolean`);
  return v;
}

/** `{ timeoutMs, signal, limits, key, transfer }` of validated task options (`extra`: other keys allowed). */
function taskOptions(o, param, extra = []) {
  if (!isObject(o) || Array.isArray(o)) throw new TypeError(`${param} must be an object`);
  for (const k of Object.keys(o)) {
    if (OPTION_KEYS.includes(k) || extra.includes(k)) continue;
    throw new TypeError(`${param}: unknown option "${k}" (expected one of: ${[...OPTION_KEYS, ...extra].join(', ')})`);
  }
  const limits = limitsOf(o.resourceLimits, `${param}.resourceLimits`);
  return {
    timeoutMs: timeoutOf(o.timeoutMs, `${param}.timeoutMs`),
    signal: signalOf(o.signal, `${param}.signal`),
    limits,
    key: limits ? JSON.stringify(limits) : '',
    transfer: transferOf(o.transfer, `${param}.transfer`),
    param,
  };
}

const NO_OPTIONS = Object.freeze({ timeoutMs: 0, signal: undefined, limits: undefined, key: '', transfer: false, param: 'task: options' });

/**
 * The bytes a `transfer` task's input is written as, and how the thread gets it back: bytes as
 * they are (read when the task starts, not copied now), other values as JSON text. Throws at
 * once when the supervisor has no pool or the input cannot fit in a box.
 */
function transferInput(sup, input, param) {
  const { poolSize, boxSize } = sup._config.memory;
  if (!(poolSize > 0)) {
    throw new TypeError(`${param}.transfer needs the supervisor's memory pool, and this supervisor has none (memory.poolSize is 0)`);
  }
  if (input === undefined) return { bytes: null, kind: '' };
  let bytes;
  let kind;
  if (tier2.isBytes(input)) {
    bytes = tier2.asBytes(input);
    kind = tier2.bytesKind(input);
  } else {
    bytes = textEncoder.encode(encode(input, 'task: input'));
    kind = 'json';
  }
  if (bytes.byteLength > boxSize) {
    throw new RangeError(
      `${param}.transfer: the input is ${bytes.byteLength} bytes${kind === 'json' ? ' as JSON' : ''}, more than a box of the memory pool holds (memory.boxSize: ${boxSize} bytes)`,
    );
  }
  return { bytes, kind };
}

// ---- errors -----------------------------------------------------------------------------

function abortError(reason) {
  const err = new DOMException('The task was aborted', 'AbortError');
  if (reason !== undefined) {
    Object.defineProperty(err, 'cause', { value: reason, writable: true, configurable: true, enumerable: false });
  }
  return err;
}

function exitError(reason) {
  const err = new ActorExitError(reason);
  err.message = `task thread exited: ${reason}`;
  return err;
}

function closedError(sup) {
  return new Error(`task: supervisor ${sup.id} is shut down`);
}

/** The error (or thrown value) a task failed with, rebuilt on the host. */
function rebuild(e) {
  if (e.thrown) return e.value;
  const C = ERRORS[e.name] ?? Error;
  const err = new C(e.message);
  if (err.name !== e.name) {
    Object.defineProperty(err, 'name', { value: e.name, writable: true, configurable: true, enumerable: false });
  }
  if (typeof e.stack === 'string') err.stack = e.stack;
  if (e.props) Object.assign(err, e.props);
  return err;
}

// ---- the pool ---------------------------------------------------------------------------

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
    this.bytes = null; // transfer: the input to write into a box (null: no input)
    this.kind = ''; // transfer: how the thread rebuilds it ('json', 'Uint8Array', …)
    this.box = null; // transfer: the input's box, once shared with `thread`
    this.boxCorr = 0; // transfer: waiting for a box (its thread is reserved)
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
    this.input = undefined;
    this.text = undefined;
    this.bytes = null;
    this.box = null;
    this.boxCorr = 0;
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

/** A ping: the first message a (new or restarted) thread handles. */
class Ping {
  constructor(thread) {
    this.thread = thread;
    this.timer = null;
  }
}

/** A task thread: an internal actor running lib/task-runner.js. */
class TaskThread {
  constructor(entry, key, limits) {
    this.ref = entry.ref;
    this.num = entry.num;
    this.key = key;
    this.limits = limits;
    this.ready = false; // answered its ping
    this.dead = false; // retired: being terminated
    this.idle = false; // in the pool's idle list
    this.jobs = []; // sent to it, in order: the running one and at most one waiting behind it
    this.sent = 0; // tasks sent to its current incarnation (for maxTasksPerThread)
    this.known = new Set(); // fids its current incarnation has compiled
    this.idleSince = 0;
    this.service = 0; // smoothed ms a task runs (from its start or sending to its reply)
    this.lastReply = 0;
    this.recycle = false; // its heap grew past maxHeapUsedMb: replace it once it is idle
  }
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

class TaskPool {
  constructor(sup) {
    this.sup = sup;
    const c = sup._config.tasks ?? defaultTasksConfig();
    this.min = c.minThreads;
    this.max = c.maxThreads;
    this.idleTimeoutMs = c.idleTimeoutMs;
    this.maxQueue = c.maxQueue;
    this.maxTasksPerThread = c.maxTasksPerThread;
    this.maxHeapUsedMb = c.maxHeapUsedMb ?? Infinity;
    this.threads = new Set(); // live threads (not retiring)
    this.idle = []; // ready idle threads, oldest first (the newest is reused first)
    this.starting = 0; // threads that have not answered their ping yet
    this.queue = new Fifo();
    this.queued = 0;
    this.running = 0; // tasks sent to threads and not settled
    this.calls = new Map(); // corr → Job | Ping
    this.boxWaits = new Map(); // corr → Job waiting for a box for its input
    this.views = new tier2.Views(); // views of result boxes (held only while copying)
    this.corr = 0;
    this.service = 0; // smoothed ms from sending a task to its reply, over the pool
    this.dying = new Set(); // terminations in progress
    this.signals = new Map(); // AbortSignal → { jobs, onAbort }
    this.gid = undefined; // the group the task threads live in
    this.reaper = null;
    this.reapAt = 0;
    this.closed = false;
    this.startFailures = 0;
    this.counts = { completed: 0, failed: 0, killed: 0, crashed: 0, recycled: 0, reaped: 0, spawned: 0 };
    // Replies come to a port of the pool's own, drained here (not by the supervisor).
    this.port = native.newPort();
    this.portOpen = true;
    this.turns = 0;
    this.spinQueued = false;
    this.spinTurn = () => {
      this.spinQueued = false;
      this.drain();
    };
    native.registerPort(this.port, () => this.drain(), false);
    this.drain();
    this.ensureMin();
  }

  // ---- submitting ----

  /** Validated task: returns its promise. */
  task(fn, input, options) {
    const def = defOf(fn, 'task: fn');
    const o = options === undefined ? NO_OPTIONS : taskOptions(options, 'task: options');
    return this.submit(def, input, o, false).promise;
  }

  /**
   * Queues a job (validated arguments); failures to queue reject its promise. `cancellable`:
   * a helper may cancel it (see `cancel`).
   */
  submit(def, input, o, cancellable) {
    const job = new Job(this, def, input, o, cancellable);
    if (this.closed || this.sup._closing) {
      job.fail(closedError(this.sup));
      return job;
    }
    const signal = o.signal;
    if (signal !== undefined && signal.aborted) {
      job.fail(abortError(signal.reason));
      return job;
    }
    if (o.transfer) {
      try {
        const t = transferInput(this.sup, input, o.param);
        job.bytes = t.bytes;
        job.kind = t.kind;
        job.input = undefined;
      } catch (err) {
        job.fail(err);
        return job;
      }
    } else if (tier2.isBytes(input)) {
      job.fail(new TypeError(`task: input: a ${input.constructor?.name ?? 'binary value'} cannot be sent as JSON; pass { transfer: true } to hand bytes over through the memory pool`));
      return job;
    }
    if (this.maxQueue !== Infinity && this.waiting() >= this.maxQueue && this.threads.size >= this.max && !(this.queued === 0 && this.hasIdle(job.key))) {
      const err = new Error(`task: the task queue is full (maxQueue: ${this.maxQueue}); try again later`);
      err.code = 'ERR_TASK_QUEUE_FULL';
      job.fail(err);
      return job;
    }
    if (signal !== undefined) this.watch(job);
    this.queue.push(job);
    this.queued++;
    this.pump();
    return job;
  }

  /** Tasks waiting for a thread: queued (less those a starting thread will take) or sent early. */
  waiting() {
    let n = this.queued - this.starting;
    for (const t of this.threads) if (t.jobs.length > 1) n += t.jobs.length - 1;
    return n;
  }

  /**
   * Ends a job that has not settled: a queued one leaves the queue (its input is never sent),
   * a running one is stopped by killing its thread.
   */
  cancel(job, err) {
    if (job.state === QUEUED) {
      this.queued--;
      job.fail(err);
    } else if (job.state === RUNNING) {
      const t = job.thread;
      if (job.boxCorr !== 0) {
        // still waiting for a box: nothing runs, the thread is free again
        this.unreserve(t, job);
        job.fail(err);
        this.makeIdle(t);
        this.pump();
        return;
      }
      job.fail(err);
      this.counts.killed++;
      this.kill(t);
      this.pump();
    }
  }

  /**
   * One 'abort' listener per signal, however many tasks share it (no MaxListeners warnings);
   * it is removed when the last of its tasks settles.
   */
  watch(job) {
    const signal = job.signal;
    let w = this.signals.get(signal);
    if (w === undefined) {
      const jobs = new Set();
      const onAbort = () => {
        this.signals.delete(signal);
        const err = abortError(signal.reason);
        for (const j of jobs) {
          j.signal = undefined; // the listener is gone already (once)
          this.cancel(j, err);
        }
      };
      w = { jobs, onAbort };
      this.signals.set(signal, w);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    w.jobs.add(job);
  }

  unwatch(job) {
    const signal = job.signal;
    job.signal = undefined;
    const w = this.signals.get(signal);
    if (w === undefined || !w.jobs.delete(job) || w.jobs.size > 0) return;
    this.signals.delete(signal);
    signal.removeEventListener('abort', w.onAbort);
  }

  // ---- dispatching ----

  hasIdle(key) {
    for (let i = this.idle.length - 1; i >= 0; i--) if (this.idle[i].key === key) return true;
    return false;
  }

  takeIdle(key) {
    const idle = this.idle;
    for (let i = idle.length - 1; i >= 0; i--) {
      const t = idle[i];
      if (t.key === key) {
        if (i === idle.length - 1) idle.pop();
        else idle.splice(i, 1);
        t.idle = false;
        return t;
      }
    }
    return null;
  }

  /**
   * A busy thread that may take `job` to run next: it runs one task nobody can stop, its recent
   * tasks were short, and it is not due for recycling.
   */
  prefetchTarget(job) {
    if (!job.prefetchable) return null;
    let best = null;
    const now = performance.now();
    for (const t of this.threads) {
      const n = t.jobs.length;
      if (n === 0 || !t.ready || t.key !== job.key || !t.jobs[0].prefetchable) continue;
      // unknown (no task measured yet) or slow threads, and a current task that is already
      // taking long, get none: the task would wait behind it
      if (t.service === 0 || t.service > PREFETCH_MAX_MS) continue;
      if (now - Math.max(t.jobs[0].sentAt, t.lastReply) > PREFETCH_MAX_MS) continue;
      if (n - 1 >= Math.min(PREFETCH_DEPTH, Math.max(1, Math.floor(PREFETCH_BUDGET_MS / t.service)))) continue;
      if (t.sent >= this.maxTasksPerThread || t.recycle) continue;
      if (best === null || n < best.jobs.length) best = t;
    }
    return best;
  }

  /** Hands queued jobs to idle threads, and starts threads for the rest (up to maxThreads). */
  pump() {
    while (this.queued > 0 && !this.closed) {
      const job = this.queue.peek();
      if (job === undefined) {
        this.queued = 0;
        return;
      }
      let t = this.takeIdle(job.key);
      if (t === null) {
        if (this.threads.size < this.max && this.starting < this.queued && this.startFailures < MAX_START_FAILURES) {
          if (!this.spawnThread(job.key, job.limits)) return;
          continue;
        }
        if (this.threads.size >= this.max && this.idle.length > 0 && !this.hasIdle(job.key)) {
          this.retire(this.idle[0]); // an idle thread with other resource limits makes room
          continue;
        }
        t = this.prefetchTarget(job);
        if (t === null) return;
      }
      this.queue.shift();
      this.queued--;
      this.send(t, job);
    }
  }

  /** Sends `job` to thread `t` (idle, or running one task it may queue behind). */
  send(t, job) {
    if (job.transfer) {
      this.sendTransfer(t, job);
      return;
    }
    let text = job.text;
    if (text === undefined) {
      try {
        text = encode(job.input, 'task: input');
      } catch (err) {
        job.fail(err);
        this.makeIdle(t);
        return;
      }
      job.text = text;
      job.input = undefined;
    }
    const head = this.head(t, job.def);
    this.dispatch(t, job, text === '' ? `${head}]` : `${head},${text}]`);
  }

  /** The head of a call for `job` on thread `t`: `[fid,def` (def 0 when the thread knows it). */
  head(t, d) {
    if (t.known.has(d.fid)) return `[${d.fid},0`;
    if (t.known.size >= MAX_KNOWN) {
      t.known.clear();
      t.known.add(d.fid);
      return `[${d.fid},${d.resetText}`;
    }
    t.known.add(d.fid);
    return `[${d.fid},${d.text}`;
  }

  /**
   * Sends a `transfer` job to idle thread `t`: its input is written into a box shared with `t`
   * first. Without a free box, `t` is reserved and the write waits (FIFO) for one.
   */
  sendTransfer(t, job) {
    if (job.bytes !== null && job.box === null) {
      const sid = this.sup._sid;
      const corr = ++this.corr;
      const r = native.boxAcquire(sid, job.bytes.byteLength, true, 0, this.port, corr);
      if (r.status === 1) {
        job.state = RUNNING;
        job.thread = t;
        job.boxCorr = corr;
        t.jobs.push(job);
        this.running++;
        this.boxWaits.set(corr, job);
        return;
      }
      if (r.status !== 0) {
        job.fail(new Error(`task: transfer: ${r.error}`));
        this.makeIdle(t);
        return;
      }
      if (!this.publish(t, job, { boxIndex: r.index, epoch: r.epoch })) return;
    }
    const x = job.box === null ? '{}' : `{"box":[${job.box.boxIndex},${job.box.epoch}],"kind":"${job.kind}"}`;
    this.dispatch(t, job, `${this.head(t, job.def)},null,${x}]`);
  }

  /**
   * Writes `job`'s input into box `h` (granted to the host) and shares it with thread `t` only;
   * the host's own reference goes at once. False if the job could not go on (handled here).
   */
  publish(t, job, h) {
    const sid = this.sup._sid;
    if (!native.boxWrite(sid, h.boxIndex, h.epoch, job.bytes)) {
      native.boxAbort(sid, h.boxIndex, h.epoch);
      job.fail(new Error('task: transfer: the box for the input was lost before it was written'));
      this.makeIdle(t);
      return false;
    }
    const meta = job.kind === 'json' ? '{"msg":"task input","type":"json"}' : '{"msg":"task input","type":"binary"}';
    const err = native.boxCommit(sid, h.boxIndex, h.epoch, job.bytes.byteLength, meta, `[${t.num}]`);
    if (err !== null) {
      // the thread's actor is gone: the task goes back to the queue for another thread
      native.boxAbort(sid, h.boxIndex, h.epoch);
      this.requeue(t, job);
      return false;
    }
    native.boxRelease(sid, h.boxIndex, h.epoch);
    job.box = h;
    return true;
  }

  /** Takes a job waiting for a box off its reserved thread (it goes on, or is cancelled). */
  unreserve(t, job) {
    const i = t.jobs.indexOf(job);
    if (i >= 0) {
      t.jobs.splice(i, 1);
      this.running--;
    }
    job.boxCorr = 0;
    job.state = QUEUED;
    job.thread = null;
  }

  /** A box for a job's input became free (`g`: `[boxIndex, epoch]`, or null if the wait gave up). */
  granted(corr, g) {
    const job = this.boxWaits.get(corr);
    this.boxWaits.delete(corr);
    const waiting = job !== undefined && job.boxCorr === corr && job.state === RUNNING;
    if (!Array.isArray(g)) {
      if (!waiting) return;
      const t = job.thread;
      this.unreserve(t, job);
      job.fail(new Error('task: transfer: no box of the memory pool became free'));
      this.makeIdle(t);
      this.pump();
      return;
    }
    if (!waiting) {
      native.boxAbort(this.sup._sid, g[0], g[1]); // its task was cancelled meanwhile
      return;
    }
    const t = job.thread;
    this.unreserve(t, job);
    if (this.publish(t, job, { boxIndex: g[0], epoch: g[1] })) this.sendTransfer(t, job);
  }

  /** The thread of `job` is gone for good before it got the task: the task waits for another. */
  requeue(t, job) {
    unsend(job);
    this.queue.unshift(job);
    this.queued++;
    this.retire(t);
    this.ensureMin();
    this.pump();
  }

  /** Calls thread `t` with `body` for `job`; the task is running from now on. */
  dispatch(t, job, body) {
    const corr = ++this.corr;
    const code = native.call(t.num, corr, body, this.port, this.sup._sid);
    if (code !== K.QUEUED) {
      this.requeue(t, job); // the thread's actor is gone for good: the task never reached it
      return;
    }
    job.state = RUNNING;
    job.thread = t;
    job.corr = corr;
    job.sentAt = performance.now();
    t.jobs.push(job);
    t.sent++;
    this.running++;
    this.calls.set(corr, job);
    if (job.timeoutMs > 0) {
      job.timer = setTimeout(() => this.timedOut(job), job.timeoutMs);
      job.timer.unref?.();
    }
    if (!this.spinQueued && this.shouldSpin()) {
      // short tasks: poll for the reply instead of waiting to be woken
      this.spinQueued = true;
      setImmediate(this.spinTurn);
    }
  }

  /** Takes `job` off its thread's list (its reply came, or it is being stopped). */
  detach(t, job) {
    const i = t.jobs.indexOf(job);
    if (i < 0) return false;
    t.jobs.splice(i, 1);
    this.running--;
    this.calls.delete(job.corr);
    return true;
  }

  timedOut(job) {
    job.timer = null;
    if (job.state !== RUNNING) return;
    const t = job.thread;
    this.counts.killed++;
    job.fail(new TimeoutError(`task timed out after ${job.timeoutMs} ms (its thread was killed)`));
    this.kill(t);
    this.pump();
  }

  // ---- replies ----

  /**
   * Poll for replies (instead of parking until woken) while short tasks run and no thread has
   * tasks waiting behind its running one: then the reply's round trip is what keeps threads
   * busy. With a backlog, threads stay busy on their own and polling would only take CPU.
   */
  shouldSpin() {
    return this.running > 0 && this.running <= this.threads.size && this.service < SPIN_SERVICE_MS;
  }

  drain() {
    while (this.portOpen) {
      const batch = native.hostTake(this.port);
      if (batch !== null) {
        this.turns = 0;
        const envs = JSON.parse(batch);
        for (let i = 0; i < envs.length; i++) this.onReply(envs[i]);
        continue;
      }
      if (this.shouldSpin() && this.turns++ < SPIN_TURNS) {
        if (!this.spinQueued) {
          this.spinQueued = true;
          setImmediate(this.spinTurn);
        }
        return;
      }
      this.turns = 0;
      if (!native.hostPark(this.port)) return;
    }
  }

  onReply(env) {
    let kind = env[0];
    if (kind >= K.UNDEFINED_BODY) kind -= K.UNDEFINED_BODY;
    if (kind === K.BOX_GRANT) {
      this.granted(env[2], env[3]);
      return;
    }
    if (kind !== K.REPLY) return;
    const call = this.calls.get(env[2]);
    if (call === undefined) return; // a late reply: its task was stopped
    this.calls.delete(env[2]);
    const body = env[3];
    if (call instanceof Ping) this.pinged(call, body);
    else if (body[0] === K.REPLY_OK) this.replied(call.thread, call, body[1]);
    else if (body[0] === K.REPLY_ERR) this.unsendable(call.thread, call, body[1]);
    else this.exited(call.thread, call, String(body[1]));
  }

  /** The thread answered: the task returned or threw (or the thread did not know the function). */
  replied(t, job, reply) {
    if (!this.detach(t, job)) return;
    t.lastReply = performance.now();
    if (reply[0] === R_LOST) {
      // The thread was restarted (e.g. a task's stray timer crashed it while idle) and lost its
      // functions: send the task again with its function.
      t.known.clear();
      t.sent--;
      unsend(job);
      this.send(t, job);
      return;
    }
    // how long it ran, as the thread measured it (not the round trip)
    const ms = reply[1] + 0.001;
    t.service = t.service === 0 ? ms : t.service * 0.75 + ms * 0.25;
    this.service = this.service === 0 ? ms : this.service * 0.9 + ms * 0.1;
    if (reply.length > 3 && reply[3] > this.maxHeapUsedMb) t.recycle = true;
    if (reply[0] === R_OK) {
      this.counts.completed++;
      job.succeed(reply[2]);
    } else if (reply[0] === R_BOX) {
      let value;
      try {
        value = this.takeResult(t, reply[2]);
      } catch (err) {
        this.counts.failed++;
        job.fail(err);
        this.after(t);
        return;
      }
      this.counts.completed++;
      job.succeed(value);
    } else if (reply[0] === R_UNDEF) {
      this.counts.completed++;
      job.succeed(undefined);
    } else {
      this.counts.failed++;
      job.fail(rebuild(reply[2]));
    }
    this.after(t);
  }

  /**
   * A bytes result a thread wrote into a box (`[boxIndex, epoch, kind]`): copied once into this
   * thread's heap, then both references go (the host's now, the thread's when it gets `RELEASE`).
   */
  takeResult(t, [boxIndex, epoch, kind]) {
    const sid = this.sup._sid;
    const h = { boxIndex, epoch };
    const r = tier2.read(sid, h, this.views); // the host may read any box, and holds it now
    native.send(t.num, `[${RELEASE},${boxIndex},${epoch}]`, -1, sid);
    if (r === null) throw new Error('task: the box holding the result was lost');
    const copy = r.bytes().slice().buffer;
    tier2.release(sid, h, this.views);
    return tier2.viewOf(kind, copy);
  }

  /** The task's result is not JSON-serialisable (the runner's reply could not be encoded). */
  unsendable(t, job, message) {
    if (!this.detach(t, job)) return;
    this.counts.failed++;
    job.fail(new TypeError(String(message).replace(/^call reply/, 'task result')));
    this.after(t);
  }

  /** The thread's incarnation ended while it ran the task (crash, process.exit, out of memory). */
  exited(t, job, reason) {
    if (!this.detach(t, job)) return;
    this.counts.crashed++;
    job.fail(exitError(reason));
    this.lost(t, reason);
    this.pump();
  }

  /** A thread finished a task: recycle it, or make it idle. Then feed the pool. */
  after(t) {
    if (!t.dead && t.jobs.length === 0) {
      if (t.sent >= this.maxTasksPerThread || t.recycle) {
        this.counts.recycled++;
        this.retire(t);
        this.ensureMin();
      } else {
        this.makeIdle(t);
      }
    }
    this.pump();
  }

  /**
   * A thread's incarnation ended on its own. The actor is `permanent`, so the core starts a new
   * incarnation, which gets what was waiting in the mailbox; wait for it to answer a ping.
   */
  lost(t, reason) {
    if (t.dead || this.closed) return;
    if (reason === 'noproc' || this.sup._closing) {
      this.retire(t);
      this.ensureMin();
      return;
    }
    t.known.clear();
    t.sent = t.jobs.length;
    this.ping(t);
  }

  makeIdle(t) {
    if (t.dead || this.closed || !t.ready || t.idle || t.jobs.length > 0) return;
    t.idle = true;
    t.idleSince = performance.now();
    this.idle.push(t);
    this.armReaper();
  }

  // ---- threads ----

  groupId() {
    if (this.gid === undefined) {
      this.gid = this.sup._createGroup({ strategy: 'one-for-one', retry: { max: Infinity } }, undefined, true)._gid;
    }
    return this.gid;
  }

  /** Starts a thread; false if the supervisor refused. */
  spawnThread(key, limits) {
    let entry;
    try {
      const o = { restart: 'permanent', shutdown: 'brutal' };
      if (limits) o.resourceLimits = limits;
      const opts = spawnOptions(o, this.sup._config);
      opts.internal = true;
      // a task may hold its transferred input as long as it runs (timeouts and signals stop it,
      // by killing the thread): no lease on what a task thread holds
      opts.leaseMs = NO_TIMEOUT;
      entry = this.sup._spawn(RUNNER, opts, 0, this.groupId());
    } catch (err) {
      this.failQueued(new Error(`task: could not start a task thread: ${err.message}`));
      return false;
    }
    this.counts.spawned++;
    const t = new TaskThread(entry, key, limits);
    this.threads.add(t);
    this.ping(t);
    return true;
  }

  /** Waits for a (new or restarted) thread to handle its first message. */
  ping(t) {
    t.ready = false;
    if (t.idle) {
      t.idle = false;
      this.idle.splice(this.idle.indexOf(t), 1);
    }
    this.starting++;
    const corr = ++this.corr;
    const heapEvery = this.maxHeapUsedMb === Infinity ? '0' : String(HEAP_EVERY);
    if (native.call(t.num, corr, heapEvery, this.port, this.sup._sid) !== K.QUEUED) {
      this.pingFailed(t, 'noproc');
      return;
    }
    const p = new Ping(t);
    p.timer = setTimeout(() => {
      this.calls.delete(corr);
      this.pingFailed(t, `did not start within ${PING_TIMEOUT_MS} ms`);
    }, PING_TIMEOUT_MS);
    p.timer.unref?.();
    this.calls.set(corr, p);
  }

  pinged(p, body) {
    clearTimeout(p.timer);
    const t = p.thread;
    if (body[0] !== K.REPLY_OK) {
      this.pingFailed(t, String(body[1]));
      return;
    }
    if (t.dead) return;
    this.starting--;
    t.ready = true;
    this.startFailures = 0;
    this.makeIdle(t);
    this.pump();
  }

  pingFailed(t, reason) {
    if (t.dead) return;
    this.starting--;
    t.ready = true; // counted as started: retire() must not count it again
    this.retire(t);
    if (this.closed) return;
    if (++this.startFailures >= MAX_START_FAILURES) {
      this.failQueued(new Error(`task: task threads fail to start: ${reason}`));
    } else {
      this.ensureMin();
      this.pump();
    }
  }

  /** Stops the thread of a task that is being stopped. */
  kill(t) {
    this.retire(t);
    this.ensureMin();
  }

  /**
   * Terminates a thread; it leaves the pool at once. Tasks still waiting in its mailbox (none
   * in practice: only tasks nobody can stop wait there) go back to the head of the queue.
   */
  retire(t, reason = 'terminated') {
    if (t.dead) return;
    t.dead = true;
    this.threads.delete(t);
    if (t.idle) {
      t.idle = false;
      this.idle.splice(this.idle.indexOf(t), 1);
    }
    if (!t.ready) this.starting--;
    for (let i = t.jobs.length - 1; i >= 0; i--) {
      const job = t.jobs[i];
      this.running--;
      this.calls.delete(job.corr);
      if (job.state === RUNNING) {
        unsend(job);
        this.queue.unshift(job);
        this.queued++;
      }
    }
    t.jobs = [];
    const p = t.ref.terminate(reason).catch(() => {});
    this.dying.add(p);
    p.then(() => this.dying.delete(p));
  }

  ensureMin() {
    while (!this.closed && this.threads.size < this.min && this.startFailures < MAX_START_FAILURES) {
      if (!this.spawnThread('', undefined)) return;
    }
  }

  failQueued(err) {
    for (const job of this.queue.drain()) job.fail(err);
    this.queued = 0;
  }

  // ---- idle reaping ----

  armReaper() {
    if (this.idleTimeoutMs === Infinity || this.threads.size <= this.min || this.idle.length === 0) return;
    const at = this.idle[0].idleSince + this.idleTimeoutMs;
    if (this.reaper !== null) {
      if (this.reapAt <= at) return;
      clearTimeout(this.reaper);
    }
    this.reapAt = at;
    this.reaper = setTimeout(() => this.reap(), Math.max(0, at - performance.now()));
    this.reaper.unref?.();
  }

  reap() {
    this.reaper = null;
    const now = performance.now();
    while (this.threads.size > this.min && this.idle.length > 0 && now - this.idle[0].idleSince >= this.idleTimeoutMs - 1) {
      this.counts.reaped++;
      this.retire(this.idle[0]);
    }
    this.armReaper();
  }

  // ---- shutdown ----

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reaper);
    this.reaper = null;
    this.failQueued(closedError(this.sup));
    for (const t of [...this.threads]) {
      for (const job of t.jobs) job.fail(exitError('shutdown'));
      this.retire(t, 'shutdown');
    }
    this.failQueued(closedError(this.sup));
    for (const call of this.calls.values()) if (call instanceof Ping) clearTimeout(call.timer);
    this.calls.clear();
    await Promise.all([...this.dying]);
    this.drain(); // boxes the killed threads freed may have been granted to cancelled inputs: give them back
    this.portOpen = false;
    native.closePort(this.port);
  }

  stats() {
    return {
      threads: this.threads.size,
      idle: this.idle.length,
      starting: this.starting,
      running: this.running,
      queued: this.queued,
      ...this.counts,
    };
  }
}

function defaultTasksConfig() {
  const os = require('node:os');
  return {
    minThreads: 0,
    maxThreads: os.availableParallelism?.() ?? os.cpus().length,
    idleTimeoutMs: 5000,
    maxQueue: Infinity,
    maxTasksPerThread: Infinity,
    maxHeapUsedMb: Infinity,
  };
}

// ---- per supervisor ---------------------------------------------------------------------

const pools = new WeakMap(); // Supervisor → TaskPool

function poolOf(sup) {
  let pool = pools.get(sup);
  if (pool === undefined) {
    pool = new TaskPool(sup);
    pools.set(sup, pool);
  }
  return pool;
}

/** `sup.task(fn, input, options)`. */
function task(sup, fn, input, options) {
  let pool = pools.get(sup);
  if (pool === undefined) {
    if (sup._closing) {
      defOf(fn, 'task: fn');
      if (options !== undefined) taskOptions(options, 'task: options');
      return Promise.reject(closedError(sup));
    }
    pool = poolOf(sup);
  }
  return pool.task(fn, input, options);
}

/** Starts `sup`'s task pool now if it keeps threads (`tasks.minThreads`), so they are ready for the first task. */
function start(sup) {
  if ((sup._config.tasks?.minThreads ?? 0) > 0 && !sup._closing) poolOf(sup);
}

/** Stops the task threads of `sup` (queued tasks reject, running ones reject with `shutdown`). */
function close(sup) {
  const pool = pools.get(sup);
  return pool === undefined ? Promise.resolve() : pool.close();
}

// ---- map and mapStream ------------------------------------------------------------------

const MAP_KEYS = ['concurrency', 'settle'];

function mapOptions(sup, options, param) {
  const o = options === undefined ? {} : options;
  const t = taskOptions(o, param, MAP_KEYS);
  let concurrency;
  if (o.concurrency === undefined) {
    concurrency = (sup._config.tasks ?? defaultTasksConfig()).maxThreads;
  } else {
    const c = o.concurrency;
    if (typeof c !== 'number' || Number.isNaN(c)) throw new TypeError(`${param}.concurrency must be a number`);
    if (c !== Infinity && (!Number.isInteger(c) || c < 1)) throw new RangeError(`${param}.concurrency must be an integer >= 1 (or Infinity)`);
    concurrency = c;
  }
  if (o.settle !== undefined && typeof o.settle !== 'boolean') throw new TypeError(`${param}.settle must be a boolean`);
  return {
    concurrency,
    settle: o.settle === true,
    signal: t.signal,
    job: { timeoutMs: t.timeoutMs, signal: undefined, limits: t.limits, key: t.key, transfer: t.transfer, param },
  };
}

function iteratorOf(items, param) {
  if (isObject(items) || typeof items === 'string') {
    if (typeof items[Symbol.asyncIterator] === 'function') return { it: items[Symbol.asyncIterator](), async: true };
    if (typeof items[Symbol.iterator] === 'function') return { it: items[Symbol.iterator](), async: false };
  }
  throw new TypeError(`${param} must be an iterable or an async iterable`);
}

/**
 * Runs `fn` over `items` with at most `concurrency` tasks at once, pulling items lazily. Every
 * result is reported with `onResult(index, ok, value)`; `stop()` cancels what is still queued or
 * running and closes the iterator.
 */
class MapRun {
  constructor(sup, items, fn, options, param, windowFactor) {
    const { it, async } = iteratorOf(items, `${param}: items`);
    this.def = defOf(fn, `${param}: fn`);
    const o = mapOptions(sup, options, `${param}: options`);
    this.pool = poolOf(sup);
    this.sup = sup;
    this.it = it;
    this.async = async;
    this.concurrency = o.concurrency;
    this.window = o.concurrency * windowFactor; // in flight + finished but not consumed
    this.settle = o.settle;
    this.signal = o.signal;
    this.jobOptions = o.job;
    this.active = new Set();
    this.index = 0; // items pulled
    this.consumed = 0; // results consumed (mapStream) or 0 (map)
    this.exhausted = false;
    this.pulling = false;
    this.stopped = false;
    this.onResult = null;
    this.onEnd = null;
    this.onAbort = null;
  }

  begin() {
    if (this.signal !== undefined) {
      if (this.signal.aborted) {
        this.fail(abortError(this.signal.reason));
        return;
      }
      this.onAbort = () => this.fail(abortError(this.signal.reason));
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.fill();
  }

  fill() {
    while (!this.stopped && !this.exhausted && !this.pulling && this.active.size < this.concurrency && this.index - this.consumed < this.window) {
      if (this.async) {
        this.pulling = true;
        let p;
        try {
          p = Promise.resolve(this.it.next());
        } catch (err) {
          this.pulling = false;
          this.fail(err);
          return;
        }
        p.then(
          (r) => {
            this.pulling = false;
            if (this.stopped) return;
            if (r.done) this.exhausted = true;
            else this.submit(r.value);
            this.fill();
          },
          (err) => {
            this.pulling = false;
            this.fail(err);
          },
        );
        return;
      }
      let r;
      try {
        r = this.it.next();
      } catch (err) {
        this.fail(err);
        return;
      }
      if (r.done) this.exhausted = true;
      else this.submit(r.value);
    }
    if (!this.stopped && this.exhausted && !this.pulling && this.active.size === 0) this.finish();
  }

  submit(item) {
    const i = this.index++;
    const job = this.pool.submit(this.def, item, this.jobOptions, true);
    this.active.add(job);
    job.promise.then(
      (v) => this.done(job, i, true, v),
      (e) => this.done(job, i, false, e),
    );
  }

  done(job, i, ok, v) {
    this.active.delete(job);
    if (this.stopped) return;
    this.onResult(i, ok, v);
    this.fill();
  }

  /** Stops everything this run started; the iterator is closed. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.onAbort !== null) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.onAbort = null;
    }
    const err = abortError('map stopped');
    for (const job of this.active) this.pool.cancel(job, err);
    this.active.clear();
    if (!this.exhausted) {
      this.exhausted = true;
      try {
        const r = this.it.return?.();
        if (r && typeof r.then === 'function') r.then(undefined, () => {});
      } catch {
        // closing the source is best effort
      }
    }
  }

  fail(err) {
    if (this.stopped) return;
    this.stop();
    this.onEnd(false, err);
  }

  finish() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.onAbort !== null) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.onAbort = null;
    }
    this.onEnd(true);
  }
}

/** `sup.map(items, fn, { concurrency, settle, timeoutMs, signal, resourceLimits })`. */
function map(sup, items, fn, options) {
  if (sup._closing && !pools.has(sup)) {
    iteratorOf(items, 'map: items');
    defOf(fn, 'map: fn');
    mapOptions(sup, options, 'map: options');
    return Promise.reject(closedError(sup));
  }
  const run = new MapRun(sup, items, fn, options, 'map', Infinity);
  const results = [];
  return new Promise((resolve, reject) => {
    run.onResult = (i, ok, v) => {
      if (run.settle) results[i] = ok ? { status: 'fulfilled', value: v } : { status: 'rejected', reason: v };
      else if (ok) results[i] = v;
      else run.fail(v);
    };
    run.onEnd = (ok, err) => (ok ? resolve(results) : reject(err));
    run.begin();
  });
}

/** `sup.mapStream(items, fn, options)`: an async iterator of the results, in order. */
function mapStream(sup, items, fn, options) {
  if (sup._closing && !pools.has(sup)) {
    iteratorOf(items, 'mapStream: items');
    defOf(fn, 'mapStream: fn');
    mapOptions(sup, options, 'mapStream: options');
    const err = closedError(sup);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => Promise.reject(err),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
  const run = new MapRun(sup, items, fn, options, 'mapStream', 2);
  const buffer = new Map(); // index → [ok, value]
  let next = 0; // index of the next result to yield
  let ended = false; // the run ended (all results in, or a failure)
  let failure = null; // [err] once the run itself failed (signal, source error)
  let finished = false; // the consumer got done (or an error that ends the stream)
  let waiter = null;
  let started = false;

  const take = () => {
    if (finished) return { value: undefined, done: true };
    if (buffer.has(next)) {
      const [ok, v] = buffer.get(next);
      buffer.delete(next);
      next++;
      run.consumed = next;
      if (ok || run.settle) {
        run.fill();
        return { value: run.settle ? (ok ? { status: 'fulfilled', value: v } : { status: 'rejected', reason: v }) : v, done: false };
      }
      finished = true;
      run.stop();
      throw v;
    }
    if (failure !== null) {
      finished = true;
      throw failure[0];
    }
    if (ended) {
      finished = true;
      return { value: undefined, done: true };
    }
    return null;
  };

  const wake = () => {
    if (waiter === null) return;
    const w = waiter;
    waiter = null; // take() may end the run, which wakes again
    let r;
    try {
      r = take();
    } catch (err) {
      w.reject(err);
      return;
    }
    if (r !== null) w.resolve(r);
    else waiter = w;
  };

  run.onResult = (i, ok, v) => {
    buffer.set(i, [ok, v]);
    if (i === next) wake();
  };
  run.onEnd = (ok, err) => {
    ended = true;
    if (!ok) failure = [err];
    wake();
  };

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (!started) {
        started = true;
        run.begin();
      }
      if (waiter !== null) return Promise.reject(new Error('mapStream: next() called while a previous next() is pending'));
      let r;
      try {
        r = take();
      } catch (err) {
        return Promise.reject(err);
      }
      if (r !== null) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return() {
      finished = true;
      run.stop();
      buffer.clear();
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w.resolve({ value: undefined, done: true });
      }
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}

// ---- sup.tasks: all, allSettled, race, any ----------------------------------------------

const DESCRIPTOR_KEYS = ['fn', 'input'];

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** Promises for each element: task descriptors `{ fn, input, ...options }` are started. */
function startAll(sup, list, param) {
  if (!isObject(list) || typeof list[Symbol.iterator] !== 'function') throw new TypeError(`${param} must be an iterable`);
  const items = Array.from(list);
  const specs = items.map((x, i) => {
    if (isObject(x) && !isThenable(x) && Object.prototype.hasOwnProperty.call(x, 'fn')) {
      const def = defOf(x.fn, `${param}[${i}].fn`);
      const o = taskOptions(x, `${param}[${i}]`, DESCRIPTOR_KEYS);
      return { def, input: x.input, o };
    }
    return null;
  });
  if (sup._closing && !pools.has(sup)) {
    const err = closedError(sup);
    return { promises: items.map((x, i) => (specs[i] ? Promise.reject(err) : x)), jobs: [] };
  }
  const pool = specs.some((s) => s !== null) ? poolOf(sup) : null;
  const jobs = [];
  const promises = items.map((x, i) => {
    const s = specs[i];
    if (s === null) return x;
    const job = pool.submit(s.def, s.input, s.o, true);
    jobs.push(job);
    return job.promise;
  });
  return { promises, jobs };
}

function cancelAll(jobs) {
  const err = abortError('no longer needed');
  for (const job of jobs) if (job.state !== DONE) job.pool.cancel(job, err);
}

function helpers(sup) {
  return Object.freeze({
    /** Like Promise.all; on the first rejection, the tasks it started that are still queued or running are cancelled. */
    all(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.all: list');
      return Promise.all(promises).catch((err) => {
        cancelAll(jobs);
        throw err;
      });
    },
    /** Like Promise.allSettled. */
    allSettled(list) {
      return Promise.allSettled(startAll(sup, list, 'tasks.allSettled: list').promises);
    },
    /** Like Promise.race; the tasks it started that lost are cancelled. */
    race(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.race: list');
      const p = Promise.race(promises);
      p.then(
        () => cancelAll(jobs),
        () => cancelAll(jobs),
      );
      return p;
    },
    /** Like Promise.any; once one fulfils, the tasks it started that are still going are cancelled. */
    any(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.any: list');
      const p = Promise.any(promises);
      p.then(
        () => cancelAll(jobs),
        () => {},
      );
      return p;
    },
    /** Counters of this supervisor's task pool. */
    stats() {
      const pool = pools.get(sup);
      if (pool !== undefined) return pool.stats();
      return { threads: 0, idle: 0, starting: 0, running: 0, queued: 0, completed: 0, failed: 0, killed: 0, crashed: 0, recycled: 0, reaped: 0, spawned: 0 };
    },
  });
}

const helperCache = new WeakMap();

function tasksOf(sup) {
  let h = helperCache.get(sup);
  if (h === undefined) {
    h = helpers(sup);
    helperCache.set(sup, h);
  }
  return h;
}

module.exports = { task, start, close, map, mapStream, helpers: tasksOf, defaultTasksConfig };
