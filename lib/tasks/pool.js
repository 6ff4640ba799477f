'use strict';
// The task pool of one supervisor: its task threads (started and pinged, recycled, reaped when
// idle, killed to stop a task, replaced), the queue of jobs waiting for them, dispatch (a thread
// whose tasks are short may get its next ones early) and the replies, which come to a port of
// the pool's own. A supervisor's pool is made when it first needs one.

const path = require('node:path');
const { pathToFileURL } = require('node:url');
const native = require('../native.js');
const K = require('../port/kinds.js');
const tier2 = require('../tier2/index.js');
const { spawnOptions } = require('../host/config.js');
const { TimeoutError } = require('../errors.js');
const { defOf } = require('./functions.js');
const { NO_TIMEOUT, NO_OPTIONS, taskOptions } = require('./options.js');
const { abortError, exitError, closedError, rebuild } = require('./errors.js');
const { QUEUED, RUNNING, SETTLING, Job, unsend, Fifo } = require('./queue.js');
const transfer = require('./transfer.js');
const { settings, CHANNEL_TEXT, NOT_HERE, GONE, openChannel } = require('./channel.js');
const { PortReader } = require('../port/reader.js');
const { envelopeKind } = require('../port/envelope.js');
const { OK, UNDEF, LOST, BOX, PROGRESS, PARCEL, BYTES_PARCEL, CHANNEL, WITH_PROGRESS } = require('./tags.js');

const RUNNER = Object.freeze({ kind: 'module', url: pathToFileURL(path.join(__dirname, 'runner.js')).href });
const PING_TIMEOUT_MS = 60000; // a thread that does not start within this is given up
const MAX_KNOWN = 256; // task functions a thread keeps compiled before it starts afresh
const MAX_START_FAILURES = 3; // consecutive threads that failed to start before queued tasks are failed
const SPIN_SERVICE_MS = 0.15; // tasks shorter than this (smoothed): poll for replies instead of parking …
const SPIN_TURNS = 200; // … for at most this many idle event-loop turns, while no thread has a backlog
const PREFETCH_MAX_MS = 2; // a thread whose recent tasks took less may get its next tasks early
const PREFETCH_BUDGET_MS = 1; // … as many as it should finish in this long
const PREFETCH_DEPTH = 32; // … and at most this many waiting behind the running one
const HEAP_EVERY = 16; // with maxHeapUsedMb, threads report their heap every this many tasks (and after any task of 1 ms or more)

/** A ping: the first message a (new or restarted) thread handles. */
class Ping {
  constructor(thread) {
    this.thread = thread;
    this.timer = null;
  }
}

/** A task thread: an internal actor running lib/tasks/runner.js. */
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
    this.chan = null; // the host's end of its current incarnation's side channel, if any
  }
}

class TaskPool {
  constructor(sup) {
    this.sup = sup;
    const c = sup._config.tasks; // validated with defaults by config.js
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
    // Long inputs and results beside the calls, through a side channel per thread (Bun), or in
    // parcels (Node); see lib/tasks/channel.js.
    this.channels = settings.channels;
    this.bigText = this.channels ? CHANNEL_TEXT : transfer.BIG_TEXT; // inputs this long go beside their call
    this.chanGen = 0; // the last side channel opened
    this.lingering = new Set(); // channels of stopped threads that a result is still awaited on
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
    this.turns = 0; // idle event-loop turns spent polling for replies
    this.reader = new PortReader({
      take: () => native.hostTake(this.port),
      onEnvelope: (env) => this.onReply(env),
      park: () => native.hostPark(this.port),
      open: () => this.portOpen,
      policy: {
        arrived: () => {
          this.turns = 0;
        },
        shouldSpin: () => this.shouldSpin() && this.turns++ < SPIN_TURNS,
        parked: () => {
          this.turns = 0;
        },
      },
    });
    native.registerPort(this.port, this.reader.wakeWith, false);
    this.reader.drain();
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
        const t = transfer.transferInput(this.sup, job, input, o.param);
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
        transfer.unreserve(this, t, job);
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
      transfer.sendTransfer(this, t, job);
      return;
    }
    let text = job.text;
    if (text === undefined) {
      try {
        text = transfer.inputText(job, job.input, this.bigText); // JSON, or null for a long input (job.big)
      } catch (err) {
        job.fail(err);
        this.makeIdle(t);
        return;
      }
      job.text = text;
      job.input = undefined;
    }
    if (text === null) text = `null,${transfer.bigTail(this, t, job, '')}`;
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
    if (job.onProgress !== null) body = `[${WITH_PROGRESS},${this.port},${corr},${body}]`;
    const code = native.call(t.num, corr, body, this.port, this.sup._sid);
    if (code !== K.QUEUED) {
      this.requeue(t, job); // the thread's actor is gone for good: the task never reached it
      return;
    }
    job.state = RUNNING;
    job.thread = t;
    this.keepsAlive(t, true);
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
    if (this.shouldSpin()) this.reader.spinSoon(); // short tasks: poll for the reply instead of waiting to be woken
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

  onReply(env) {
    const kind = envelopeKind(env);
    if (kind === K.BOX_GRANT) {
      transfer.granted(this, env[2], env[3]);
      return;
    }
    if (kind !== K.REPLY) return;
    const call = this.calls.get(env[2]);
    if (call === undefined) {
      // a late reply (or progress): its task was stopped (a large result's parcel is not wanted any more)
      const late = env[3];
      const tag = Array.isArray(late) && late[0] === K.REPLY_OK && Array.isArray(late[1]) ? late[1][0] : -1;
      if (tag === PARCEL || tag === BYTES_PARCEL) native.parcelDrop(late[1][2][0]);
      // (one on a side channel went with its thread's channel, closed when the thread was stopped)
      return;
    }
    const body = env[3];
    if (body[0] === K.REPLY_OK && Array.isArray(body[1]) && body[1][0] === PROGRESS) {
      this.progressed(call, body[1]); // the task goes on: its call stays open
      return;
    }
    this.calls.delete(env[2]);
    if (call instanceof Ping) this.pinged(call, body);
    else if (body[0] === K.REPLY_OK) this.replied(call.thread, call, body[1]);
    else if (body[0] === K.REPLY_ERR) this.unsendable(call.thread, call, body[1]);
    else this.exited(call.thread, call, String(body[1]));
  }

  /** A running task reported progress `[PROGRESS, value?]`: its `onProgress` gets the value. */
  progressed(job, r) {
    if (job instanceof Ping || job.state !== RUNNING || job.onProgress === null) return;
    try {
      job.onProgress(r.length > 1 ? r[1] : undefined);
    } catch (err) {
      this.sup._emit('error', { reason: 'onProgress threw', error: err });
    }
  }

  /** The thread answered: the task returned or threw (or the thread did not know the function). */
  replied(t, job, reply) {
    if (!this.detach(t, job)) return;
    t.lastReply = performance.now();
    if (reply[0] === LOST) {
      // The thread was restarted (e.g. a task's stray timer crashed it while idle) and lost its
      // functions, or the side channel the call named: send the task again with its function
      // (and a channel to the new incarnation, which says which thread it runs on).
      if (this.channels && typeof reply[1] === 'number') {
        // a payload posted on the thread's current channel that could not be had there goes in a parcel next
        if (t.chan !== null && job.sentOn === t.chan.gen) job.noChannel = true;
        this.openChannel(t, reply[1]);
      }
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
    if (reply[0] === OK) {
      this.counts.completed++;
      job.succeed(reply[2]);
    } else if (reply[0] === CHANNEL) {
      this.fromChannel(t, job, reply[2]);
      return;
    } else if (reply[0] === BOX || reply[0] === PARCEL || reply[0] === BYTES_PARCEL) {
      let value;
      try {
        value =
          reply[0] === BOX
            ? transfer.takeResult(this, t, reply[2])
            : reply[0] === PARCEL
              ? transfer.takeParcel(reply[2])
              : transfer.takeBytesParcel(reply[2]);
      } catch (err) {
        this.counts.failed++;
        job.fail(err);
        this.after(t);
        return;
      }
      this.counts.completed++;
      job.succeed(value);
    } else if (reply[0] === UNDEF) {
      this.counts.completed++;
      job.succeed(undefined);
    } else {
      this.counts.failed++;
      job.fail(rebuild(reply[2]));
    }
    this.after(t);
  }

  /**
   * A long result thread `t` posted on its side channel before replying (`[gen, id, json]`):
   * usually there already; if not, the job settles when it arrives. Either way the thread is
   * free for its next task now.
   */
  fromChannel(t, job, [gen, id, json]) {
    const ch = t.chan;
    const settle = (v) => {
      if (v === GONE || v === NOT_HERE) {
        this.counts.failed++;
        job.fail(new Error('task: the result was lost: its thread was replaced before the host took it'));
        return;
      }
      let value;
      try {
        value = json === 1 ? JSON.parse(v) : v;
      } catch (err) {
        this.counts.failed++;
        job.fail(err);
        return;
      }
      this.counts.completed++;
      job.succeed(value);
    };
    const v = ch !== null && ch.gen === gen ? ch.take(id) : GONE;
    if (v === NOT_HERE) {
      // the task is over (no timeout or abort stops it now); it settles when its result comes
      job.state = SETTLING;
      if (job.timer !== null) clearTimeout(job.timer);
      job.timer = null;
      ch.wait(id).then(settle);
    } else {
      settle(v);
    }
    this.after(t);
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
    this.closeChannel(t); // the new incarnation gets its own once it answers the ping
    this.ping(t);
  }

  makeIdle(t) {
    if (t.dead || this.closed || !t.ready || t.idle || t.jobs.length > 0) return;
    this.keepsAlive(t, false);
    t.idle = true;
    t.idleSince = performance.now();
    this.idle.push(t);
    this.armReaper();
  }

  /**
   * Whether thread `t` keeps the process alive: while it runs a task, not while idle, so a
   * script that ran a task exits on its own (a started thread is ref'd until its first ping).
   */
  keepsAlive(t, on) {
    const worker = this.sup._entries.get(t.num)?.thread?.worker;
    if (worker === undefined) return;
    if (on) worker.ref();
    else worker.unref();
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
      const c = this.sup._config.tasks;
      if (c.execArgv) o.execArgv = c.execArgv; // every task thread starts with the pool's flags and env
      if (c.env) o.env = c.env;
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
    const heapEvery = this.maxHeapUsedMb === Infinity ? 0 : HEAP_EVERY;
    // the supervisor owns the thread's result parcels; a bytes result may be as large as a box
    const box = this.sup._config.memory.poolSize > 0 ? this.sup._config.memory.boxSize : 0;
    const body = `{"ping":${heapEvery},"sup":${this.sup._sid},"box":${box},"chan":${this.channels ? 1 : 0}}`;
    if (native.call(t.num, corr, body, this.port, this.sup._sid) !== K.QUEUED) {
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
    if (this.channels && typeof body[1] === 'number') this.openChannel(t, body[1]);
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

  /**
   * Opens a side channel to thread `t`'s incarnation running on thread id `tid` (from its ping
   * or lost-task reply), if the supervisor's Worker for `t` is that thread; else `t` has none
   * (its long payloads go in parcels).
   */
  openChannel(t, tid) {
    if (t.chan !== null && t.chan.tid === tid) return; // (a lost task's reply may have opened it before the ping's)
    this.closeChannel(t);
    const worker = this.sup._entries.get(t.num)?.thread?.worker;
    if (worker === undefined || worker.threadId !== tid) return;
    t.chan = openChannel(worker, ++this.chanGen, tid);
  }

  /**
   * Closes thread `t`'s side channel (dropping what is queued on it), or, while a result the
   * thread posted is still on its way (not seen so far), once it came.
   */
  closeChannel(t) {
    const ch = t.chan;
    if (ch === null) return;
    t.chan = null;
    if (!ch.closeWhenIdle((c) => this.lingering.delete(c))) this.lingering.add(ch);
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
    this.closeChannel(t);
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
    for (const ch of [...this.lingering]) ch.close(); // (results still awaited are lost with their thread)
    this.reader.drain(); // boxes the killed threads freed may have been granted to cancelled inputs: give them back
    native.parcelDropOwner(this.sup._sid); // results of killed threads that never reached the host
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

const pools = new WeakMap(); // Supervisor → TaskPool

function poolOf(sup) {
  let pool = pools.get(sup);
  if (pool === undefined) {
    pool = new TaskPool(sup);
    pools.set(sup, pool);
  }
  return pool;
}

module.exports = { pools, poolOf };
