'use strict';
// The bootstrap of a pool worker: one thread that runs many pooled actors (docs/ARCHITECTURE.md). It
// keeps a slot per actor (behaviour, state, self, ctx, timers, views of box memory), compiles
// each distinct source once, takes batches of ready actors from its port in the Rust core, and
// runs one message at a time per actor: an async handler keeps only its own actor busy.
// Everything an actor does goes through the core in that actor's name (the core checks the
// actor is bound to this thread).
//
// Hangs: while an actor's code runs synchronously this thread writes its id in
// a word the host watches (`watch[0]`, with a sequence number in `watch[1]`). Where the runtime
// interrupts a script cheaply (`interrupt`, see runGuarded), batches run under a time limit
// and a handler that overruns `maxBlockMs` is interrupted: only its actor exits (`timeout`).
// Otherwise, or for a hang the limit does not cover, the host kills and replaces the worker.

const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const native = require('../native.js');
const K = require('../port/kinds.js');
const { encode, replyText } = require('../codec.js');
const { systemMessage } = require('../result.js');
const { ActorExitError, describeError, replyError } = require('../errors.js');
const { resolveTarget, knownId, monitorRef } = require('../targets.js');
const { remoteId, remoteRequest, remoteMonitorRef, isRemoteMonitorRef } = require('../cluster/remote.js');
const { buildSync, loadModule } = require('../actor/behaviour.js');
const { callOptions, abortReason } = require('../call-options.js');
const { Spinner } = require('../port/spin.js');
const { PortReader, IDLE, QUEUED_JS } = require('../port/reader.js');
const { envelopeKind, settlePending, awaitReply: awaitPending } = require('../port/envelope.js');
const { fmt } = require('../fmt.js');
const { Outbox } = require('../actor/outbox.js');
const { SlotTable, Compact } = require('./slots.js');
const tier2 = require('../tier2/index.js');
const { trackTimers } = require('../actor/user-timers.js');
const { resourcesProxy } = require('../actor/resources.js');

const {
  setImmediate: runtimeSetImmediate,
  setTimeout: runtimeSetTimeout,
  clearTimeout: runtimeClearTimeout,
  setInterval: runtimeSetInterval,
  clearInterval: runtimeClearInterval,
} = globalThis;
const RUNTIME_TIMERS = { setTimeout: runtimeSetTimeout, clearTimeout: runtimeClearTimeout };

const { maxActors, perActor, watch: watchBuffer, tickMs, maxBlockMs, interrupt, live, limit, workers } = workerData.pool;
// [0]: actor running a synchronous handler (0: none); [1]: sequence; [2]: event-loop tick while
// [3] actors await in a handler or start-up; [4], [5]: that actor and its incarnation when there
// is one; [6]: 1 while [0] runs under the interrupting time limit (lib/pool/host.js)
const watch = new Int32Array(watchBuffer);
// [0]: live pooled actors of the supervisor, counted by the host and by the workers that spawn
// children by themselves (see spawnAlone); `limit` is its pool.maxActors
const liveCount = new Int32Array(live);
// batches run per event-loop turn before yielding to timers and I/O (a guarded run takes up to
// GUARDED_BATCHES of them: see runBatches)
const GUARDED_BATCHES = 8;
const ROUNDS = interrupt ? 64 / GUARDED_BATCHES : 64;
const POOL_MAX_WAIT_US = 200; // longest sleep of one wait in the core (it holds the event loop)

const sources = new Map(); // source key → { source, built?: behaviour, loading?: Promise<behaviour> }
const slots = new SlotTable(expandSlot); // actor id → Slot (lib/pool/slots.js: no hashing)
const pending = new Map(); // corr → { resolve, reject, timer, slot }
const boxWaits = new Map(); // corr → { slot, resolve } of a write waiting for a box
const regionBuffers = new Map(); // shared regions posted by the host: name → SharedArrayBuffer
const regionWaits = []; // { names, resolve } of incarnations waiting for their regions
let corr = 0;
let running = null; // the slot whose code runs synchronously now (a handler, a hook, a timer it set)
const awaiting = new Set(); // slots whose user code awaits (a handler, start-up, onIdle, onTerminate)
let ticker = null; // ticks watch[2] while `awaiting` is not empty
const backlog = []; // slots with messages in hand that a guarded batch left for the next round
let control = null; // this thread's control words (Uint32Array over core memory)
let outbox = null; // where ctx.send writes (created on the first send)
let outboxSender = 0; // the actor the outbox's last sender record named
let lastSendTo = Symbol('none'); // the `actor-N` id ctx.send was given last (no value a caller passes) and its number
let lastSendId = 0;

/** What an ended incarnation's self or ctx throws when used (e.g. from a leftover promise). */
class IncarnationEnded extends Error {
  constructor() {
    super('this actor incarnation has ended');
    this.name = 'IncarnationEnded';
  }
}

const EMPTY = Object.freeze([]); // the queue of a slot with nothing in hand (never pushed to)

const WAITING = 1; // Slot.flags: an async handler, start-up, onIdle or onTerminate is in progress
const ENDED = 2; // the incarnation is over

/**
 * One incarnation of a pooled actor on this worker. A million of them share a heap, so a slot
 * holds only what differs between actors: its id, incarnation, state, mail in hand, two
 * flags, and its self and ctx objects once made. What the actors of one start order share
 * (supervisor, lease, name, crash policy, idle time, regions) is read from their one start
 * spec; what most never use (timers, views, boxes, a polite stop, spawn templates) comes from
 * defaults on the prototype until set.
 */
class Slot {
  constructor(id, spec, incarnation) {
    this.id = id;
    this.inc = incarnation;
    this.spec = spec; // shared: `{ sup, key, leaseMs, onCrash, name?, module?, idleTimeoutMs?, regions? }`
    this.behaviour = null;
    this.state = undefined;
    this.queue = EMPTY; // messages taken from the core, not yet run
    this.flags = 0; // WAITING | ENDED
    // made on first use, but kept in the object: set later, they would cost each slot an
    // out-of-object property array (40 bytes on Node) as soon as its handler first ran
    this.selfObj = null;
    this.ctxObj = null;
  }

  get waiting() {
    return (this.flags & WAITING) !== 0;
  }

  set waiting(on) {
    this.flags = on ? this.flags | WAITING : this.flags & ~WAITING;
  }

  get ended() {
    return (this.flags & ENDED) !== 0;
  }

  set ended(on) {
    this.flags = on ? this.flags | ENDED : this.flags & ~ENDED;
  }

  get sup() {
    return this.spec.sup;
  }

  get leaseMs() {
    return this.spec.leaseMs;
  }

  get name() {
    return this.spec.name;
  }

  get onCrash() {
    return this.spec.onCrash === true;
  }

  get module() {
    return this.spec.module === true;
  }

  get idleMs() {
    return this.spec.idleTimeoutMs || 0;
  }

  /** Names of the shared regions it may use. */
  get granted() {
    return this.spec.regions;
  }

  get self() {
    return (this.selfObj ??= new Self(this));
  }

  get ctx() {
    return (this.ctxObj ??= new Ctx(this));
  }

  check() {
    if (this.ended) throw new IncarnationEnded();
  }

  viewsOf() {
    this.views ??= new tier2.Views();
    return this.views;
  }

  /**
   * Marks the user code of this incarnation as suspended in an `await` (or not): the host's
   * watchdog then expects this thread's event loop to keep ticking, and a continuation that
   * never yields is found, and named when it is the only one that could be running.
   */
  awaits(on) {
    if (on) awaiting.add(this);
    else if (!awaiting.delete(this)) return;
    Atomics.store(watch, 3, awaiting.size);
    if (awaiting.size === 1) {
      const only = awaiting.values().next().value;
      Atomics.store(watch, 4, only.id);
      Atomics.store(watch, 5, only.inc);
    }
    if (awaiting.size > 0 && ticker === null) ticker = runtimeSetInterval(tick, tickMs);
  }
}

Object.assign(Slot.prototype, {
  cancelled: false, // a polite stop was asked for
  templates: undefined, // source text → options text → { id, spec }: children it may spawn alone (see spawnAlone)
  stopReason: null,
  stopping: false, // onTerminate runs
  idleTimer: null,
  timers: null, // timers its code set (lib/actor/user-timers.js), from the first one
  views: null, // tier2.Views of box memory it holds, from the first one
  boxes: null, // its Tier 2 writer, from the first write
});

/** The event loop turned: stops ticking once no handler awaits. */
function tick() {
  Atomics.add(watch, 2, 1);
  if (awaiting.size === 0) {
    runtimeClearInterval(ticker);
    ticker = null;
  }
}

/** `self` of a pooled actor: its id, name, incarnation, and `send` to subscribers. */
class Self {
  constructor(slot) {
    this._slot = slot;
    Object.freeze(this);
  }

  get id() {
    return `actor-${this._slot.id}`;
  }

  get name() {
    return this._slot.name;
  }

  get incarnation() {
    return this._slot.inc;
  }

  /** Emits a Tier 1 message `{ msg, data, from }` to subscribers; `from` is added by the core. */
  send(msg, data) {
    this._slot.check();
    if (typeof msg !== 'string') throw new TypeError('self.send: msg must be a string');
    const head = JSON.stringify(msg);
    return native.poolEmit(this._slot.id, data === undefined ? `[${head}]` : `[${head},${encode(data, 'self.send: data')}]`);
  }
}

/** `ctx` of a pooled actor (what pooled actors support of an isolated actor's ctx; README, Pooled actors). */
class Ctx {
  constructor(slot) {
    this._slot = slot;
    Object.freeze(this);
  }

  get self() {
    return this._slot.self;
  }

  get state() {
    return this._slot.state;
  }

  /** Byte encoders (`encode`/`decode`, `json`, `string`, `alloc`). */
  get fmt() {
    return fmt;
  }

  get isCancelled() {
    return this._slot.cancelled || this._slot.ended;
  }

  /**
   * Lets the other actors of this worker run: resolves after the worker's next turn (timers,
   * I/O, other actors' batches). This actor still handles one message at a time.
   */
  yield() {
    this._slot.check();
    return new Promise((resolve) => runtimeSetImmediate(resolve));
  }

  /** Tier 2 write: `{ msg, type, data, share, timeoutMs, wait }` → `Result<Lock>`. */
  write(o) {
    return boxesOf(this._slot).write(o);
  }

  /** Tier 2 zero-copy write: `Result<{ bytes, commit({ msg, type, share }), abort() }>`. */
  alloc(size, options) {
    return boxesOf(this._slot).alloc(size, options);
  }

  /** Tier 2 read of an INBOX message, a message carrying a handle, or a Lock; null otherwise. */
  read(m) {
    const s = this._slot;
    s.check();
    return tier2.read(s.sup, m, s.viewsOf(), s.id);
  }

  /** Gives this actor's reference to a box back (its views are detached first). */
  release(handle) {
    const s = this._slot;
    s.check();
    return tier2.release(s.sup, handle, s.viewsOf(), s.id);
  }

  /** The SharedArrayBuffer of a shared region granted with the spawn option `regions`. */
  region(name) {
    const s = this._slot;
    s.check();
    if (typeof name !== 'string') throw new TypeError('ctx.region: name must be a string');
    if (!s.granted?.includes(name) || !regionBuffers.has(name)) throw new Error(`region "${name}" is not granted to actor-${s.id}`);
    return regionBuffers.get(name);
  }

  /**
   * Sends `msg` to another actor (FIFO per sender and receiver) through this worker's outbox,
   * after a record naming the sender when it changed; false if the target is known to be dead
   * for good. Mail the core cannot deliver is reported to the supervisor as a dead letter.
   */
  send(to, msg) {
    const s = this._slot;
    s.check();
    let n = lastSendId;
    if (to !== lastSendTo) {
      n = knownId(to); // a local id seen before (never a remote one)
      if (n === undefined) {
        const rid = remoteId(to);
        if (rid !== null) return native.poolRequest(s.id, 0, remoteRequest('send', { to: rid, body: encode(msg, 'ctx.send: msg') }));
        n = resolveTarget(to, s.sup, 'ctx.send: target');
      } else if (typeof to === 'string') {
        lastSendTo = to; // (an `actor-N` id only: a name can move to another actor, a ref's id be rewritten)
        lastSendId = n;
      }
    }
    const text = encode(msg, 'ctx.send: msg');
    if (n !== 0) {
      outbox ??= new Outbox(control);
      if (outboxSender !== s.id && outbox.put(0, String(s.id))) outboxSender = s.id;
      if (outboxSender === s.id && outbox.put(n, text)) return !outbox.knownDead(n);
    }
    return native.poolSend(s.id, n, text) === K.QUEUED;
  }

  /** Request-reply with another actor. */
  call(to, msg, options) {
    const s = this._slot;
    s.check();
    const rid = remoteId(to);
    const n = rid === null ? resolveTarget(to, s.sup, 'ctx.call: target') : 0;
    const { timeoutMs, signal } = callOptions(options, 'ctx.call: options');
    const body = encode(msg, 'ctx.call: msg');
    if (signal?.aborted) return Promise.reject(abortReason(signal)); // nothing is sent
    if (rid !== null) {
      const ask = (c) => (native.poolRequest(s.id, c, remoteRequest('call', { to: rid, body, timeoutMs })) ? null : new Error('actor is not running'));
      return awaitReply(s, ask, timeoutMs, `call to ${rid} timed out after ${timeoutMs} ms`, signal);
    }
    const send = (c) => {
      const code = native.poolCall(s.id, n, c, body);
      return code === K.QUEUED ? null : new ActorExitError(code === K.FULL ? 'mailbox full' : 'noproc');
    };
    return awaitReply(s, send, timeoutMs, `call to actor-${n} timed out after ${timeoutMs} ms`, signal);
  }

  /**
   * Spawns a child supervised with this actor; resolves with its ref `{ id }`. The spawns an
   * actor makes in one run of its code go to the host as one request (see queueSpawn).
   */
  spawn(actor, options) {
    try {
      this._slot.check();
      return queueSpawn(this._slot, actor, options, -1, 'ctx.spawn');
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Spawns `count` pooled children of one source (as `sup.spawnMany`), supervised with this
   * actor; resolves with their refs `{ id }` in spawn order.
   */
  async spawnMany(count, actor, options) {
    this._slot.check();
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`ctx.spawnMany: count must be a non-negative safe integer (got ${typeof count === 'number' ? count : typeof count})`);
    }
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new TypeError('ctx.spawnMany: options must be an object');
    }
    return queueSpawn(this._slot, actor, options, count, 'ctx.spawnMany');
  }

  /** Stops this actor (reason `normal`), or a child it spawned. */
  terminate(to) {
    const s = this._slot;
    s.check();
    if (to === undefined) {
      endSlot(s);
      native.poolExit(s.id, 'normal');
      return Promise.resolve();
    }
    const id = `actor-${resolveTarget(to, s.sup, 'ctx.terminate: target')}`;
    return request(s, { op: 'terminate', target: id }).then(() => undefined);
  }

  /** A crash from outside for a child it spawned (see ActorRef.kill). */
  kill(to, reason = 'killed') {
    const s = this._slot;
    s.check();
    const id = `actor-${resolveTarget(to, s.sup, 'ctx.kill: target')}`;
    if (typeof reason !== 'string' || reason.length === 0) throw new TypeError('ctx.kill: reason must be a non-empty string');
    return request(s, { op: 'kill', target: id, reason });
  }

  /** Links this actor with `to`; throws `noproc` if `to` is not alive. */
  link(to) {
    const s = this._slot;
    s.check();
    const rid = remoteId(to);
    if (rid !== null) return void native.poolRequest(s.id, 0, remoteRequest('link', { to: rid }));
    const n = resolveTarget(to, s.sup, 'ctx.link: target');
    try {
      native.link(s.id, n);
    } catch {
      throw new Error(`ctx.link: actor-${n} is not alive (noproc)`);
    }
  }

  /** Removes a link. */
  unlink(to) {
    const s = this._slot;
    s.check();
    const rid = remoteId(to);
    if (rid !== null) return void native.poolRequest(s.id, 0, remoteRequest('unlink', { to: rid }));
    native.unlink(s.id, resolveTarget(to, s.sup, 'ctx.unlink: target'));
  }

  /** Watches `to`: a `DOWN` message arrives when it ends. Returns the monitor reference. */
  monitor(to) {
    const s = this._slot;
    s.check();
    const rid = remoteId(to);
    if (rid !== null) {
      const ref = remoteMonitorRef(s.id, rid);
      native.poolRequest(s.id, 0, remoteRequest('monitor', { to: rid, ref }));
      return ref;
    }
    return `ref-${native.monitor(s.id, resolveTarget(to, s.sup, 'ctx.monitor: target'))}`;
  }

  /** Cancels a monitor; false if it already fired. */
  demonitor(ref) {
    this._slot.check();
    if (isRemoteMonitorRef(ref)) return native.poolRequest(this._slot.id, 0, remoteRequest('demonitor', { ref }));
    return native.demonitor(monitorRef(ref, 'ctx.demonitor: ref'));
  }

  /** Exit signals of linked actors become `EXIT` messages instead of stopping this actor. */
  trapExits(on) {
    this._slot.check();
    if (typeof on !== 'boolean') throw new TypeError('ctx.trapExits: on must be a boolean');
    native.trapExits(this._slot.id, on);
  }

  /** Registers this actor under `name` (unique per supervisor; follows it across restarts). */
  register(name) {
    this._slot.check();
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('ctx.register: name must be a non-empty string');
    try {
      native.register(this._slot.id, name);
    } catch (err) {
      throw new Error(`ctx.register: ${err.message}`);
    }
  }

  /** The actor registered under `name`, if any. */
  whereis(name) {
    if (typeof name !== 'string') throw new TypeError('ctx.whereis: name must be a string');
    const n = native.whereis(this._slot.sup, name);
    return n === null || n === undefined ? undefined : Object.freeze({ id: `actor-${n}` });
  }

  /** Host services: `await ctx.resources.<name>.<method>(...args)`. */
  get resources() {
    const slot = this._slot;
    return resourcesProxy(() => slot.check(), (body) => request(slot, body));
  }

  /** "Still alive": recorded in diagnostics. */
  heartbeat() {
    this._slot.check();
    native.poolHeartbeat(this._slot.id, Date.now());
  }
}

/** The Tier 2 writer of `slot`'s incarnation (created on its first write). */
function boxesOf(slot) {
  slot.check();
  slot.boxes ??= tier2.writer({
    sup: slot.sup,
    actor: slot.id,
    port: workerData.port,
    leaseMs: slot.leaseMs,
    views: slot.viewsOf(),
    corr: () => ++corr,
    granted: (c) => new Promise((resolve) => boxWaits.set(c, { slot, resolve })),
  });
  return slot.boxes;
}

/** Waits for the reply to a new correlation id (see lib/actor/worker.js awaitReply). */
function awaitReply(slot, send, timeoutMs, timeoutMessage, signal) {
  return awaitPending(pending, ++corr, send, { timeoutMs, timeoutMessage, signal, timers: RUNTIME_TIMERS, extra: { slot } });
}

/** Asks the host to act for `slot`'s actor (spawn, terminate a child, resources, crash policy). */
function request(slot, body) {
  return awaitReply(slot, (c) => (native.poolRequest(slot.id, c, JSON.stringify(body)) ? null : new Error('actor is not running')));
}

// ---- spawning children in batches ------------------------------------------------------
//
// A child's spawn is work for the host (options, supervision, placement), so each would cost a
// round trip through the core. Instead the spawns an actor makes in one run of its synchronous
// code (say, a loop of ctx.spawn under Promise.all) are queued and sent as one request when
// that code returns or throws (after an await: at the end of the turn), `{ op: 'spawns',
// sources, options, items }`: each distinct source and options once, an item `[source index,
// options index, count]` per call (count -1: ctx.spawn). The host answers with one result per
// item: a child's id, an array of ids, or the error text of that one spawn (its class kept,
// see replyError). Those its templates cover are made here instead (spawnAlone).

// A function's start descriptor by its code (a closure made anew per call, as in a spawning
// loop, has the same code each time): at most SOURCES_KEPT remembered, and the last one at
// hand (a loop spawning one closure compares its code with the last, with no hashing).
const sourceCache = new Map();
const SOURCES_KEPT = 256;
let lastCode = null;
let lastSource = null;
let spawnQueue = null; // slot → SpawnQueue

/** One actor's spawns of this turn, in call order. */
class SpawnQueue {
  constructor() {
    this.sources = []; // start descriptors, each once
    this.sourceIndex = new Map(); // descriptor → index in sources
    this.actors = new Map(); // behaviour object → index in sources
    this.options = []; // options as given (parsed back from their text), each once
    this.texts = []; // their JSON texts
    this.optionsIndex = new Map(); // text → index in options
    // calls alike in a row: `[source index, options index, count, calls, …]` (count -1: each
    // call a ctx.spawn; a ctx.spawnMany is a run of its own)
    this.runs = [];
    this.calls = 0;
    // Each call's promise is `base.then(settleNext)`: no settling functions per call. `base`
    // resolves (with this queue) once the calls are sent; the reactions then run in call
    // order, each taking the next call's outcome.
    this.base = new Promise(keepSettle);
    this.settle = settleOf;
    this.results = []; // per call: its child's ref `{ id }` (an array of refs for ctx.spawnMany)
    this.errors = []; // per call that failed: its error (sparse)
    this.cursor = 0; // the call whose promise settles next
    this.from = 0; // the first call sent to the host (known once sent)
    this.answered = null; // resolves once the host's answer is in results/errors
  }
}

/** The start descriptor of `actor` (one object per distinct function code, reused). */
function describeActor(actor, param) {
  if (typeof actor !== 'function') return require('../actor/source.js').actorSource(actor, param); // loaded on first use
  const code = Function.prototype.toString.call(actor);
  if (code === lastCode) return lastSource;
  let source = sourceCache.get(code);
  if (source === undefined) {
    source = require('../actor/source.js').actorSource(actor, param);
    if (sourceCache.size >= SOURCES_KEPT) sourceCache.clear();
    sourceCache.set(code, source);
  }
  lastCode = code;
  lastSource = source;
  return source;
}

// A copy of the options of the last spawn and their JSON: a loop passing alike options (a
// literal made anew per call) compares them with the last ones instead of writing them again
let lastOptions = null;
let lastOptionsText = '';

/** `options` as JSON ('' for none), as the options index and the templates know them. */
function optionsTextOf(options) {
  if (options === undefined) return '';
  if (lastOptions !== null && sameOptions(options, lastOptions)) return lastOptionsText;
  const text = JSON.stringify(options) ?? '';
  // (a copy: the caller may change its object before passing it again)
  lastOptions = options !== null && typeof options === 'object' ? { ...options } : null;
  lastOptionsText = text;
  return text;
}

/**
 * True when plain object `a` has the same own keys with the same primitive values as the
 * plain object `b` (anything else, say an array or a nested object that may have changed since,
 * is written out again): then they are alike as JSON.
 */
function sameOptions(a, b) {
  if (a === null || typeof a !== 'object' || Object.getPrototypeOf(a) !== Object.prototype) return false;
  let n = 0;
  for (const k in a) {
    const v = a[k];
    if (v !== b[k] || (typeof v === 'object' && v !== null) || typeof v === 'function') return false;
    n++;
  }
  for (const k in b) n--;
  return n === 0;
}

let settleOf = null; // (what keepSettle was given last)
function keepSettle(resolve) {
  settleOf = resolve;
}

/** The outcome of `q`'s next call (its promise's reaction to `q.base`, see SpawnQueue). */
function settleNext(q) {
  const k = q.cursor++;
  if (k >= q.from) return q.answered.then(() => outcome(q, k)); // (after the host's answer)
  return outcome(q, k);
}

function outcome(q, k) {
  const err = q.errors[k];
  if (err !== undefined) throw err;
  return q.results[k];
}

/** Queues one spawn of `slot` for this turn's request; resolves with the child's ref(s) `{ id }`. */
function queueSpawn(slot, actor, options, count, what) {
  let q = spawnQueue?.get(slot);
  // a behaviour object spawned again in the same turn is the same source (described once)
  let si = typeof actor === 'object' && actor !== null ? q?.actors.get(actor) : undefined;
  const source = si === undefined ? describeActor(actor, `${what}: actor`) : null;
  const optionsText = optionsTextOf(options);
  if (spawnQueue === null) {
    spawnQueue = new Map();
    queueMicrotask(flushSpawns);
  }
  if (q === undefined) {
    q = new SpawnQueue();
    spawnQueue.set(slot, q);
  }
  if (si === undefined) {
    si = q.sourceIndex.get(source);
    if (si === undefined) {
      si = q.sources.push(source) - 1;
      q.sourceIndex.set(source, si);
    }
    if (typeof actor === 'object' && actor !== null) q.actors.set(actor, si);
  }
  let oi = q.optionsIndex.get(optionsText);
  if (oi === undefined) {
    oi = q.options.push(optionsText === '' ? null : JSON.parse(optionsText)) - 1;
    q.texts.push(optionsText);
    q.optionsIndex.set(optionsText, oi);
  }
  const runs = q.runs;
  const last = runs.length - 4;
  if (count < 0 && last >= 0 && runs[last + 2] < 0 && runs[last] === si && runs[last + 1] === oi) runs[last + 3]++;
  else runs.push(si, oi, count, 1);
  q.calls++;
  return q.base.then(settleNext);
}

/** Sends each actor's queued spawns as one request (at the end of the turn). */
function flushSpawns() {
  const queue = spawnQueue;
  if (queue === null) return;
  spawnQueue = null;
  for (const [slot, q] of queue) sendSpawns(slot, q);
}

/**
 * Sends `slot`'s queued spawns now, if it has any: when its synchronous code returns (see
 * runAs), so that they reach the host before what it does next (a reply, its exit), as a spawn
 * did when it was a request of its own.
 */
function flushSpawnsOf(slot) {
  const q = spawnQueue.get(slot);
  if (q === undefined) return;
  spawnQueue.delete(slot);
  sendSpawns(slot, q);
}

/** The items (`[source index, options index, count]` per call) of `runs` after the first `skip` calls. */
function itemsOf(runs, skip) {
  const items = [];
  for (let r = 0; r < runs.length; r += 4) {
    let n = runs[r + 3];
    if (skip >= n) {
      skip -= n;
      continue;
    }
    n -= skip;
    skip = 0;
    for (let i = 0; i < n; i++) items.push(runs[r], runs[r + 1], runs[r + 2]);
  }
  return items;
}

/**
 * The spawns `q` of `slot`: those its templates cover first, here (spawnAlone); from the first
 * one they do not, in one request to the host, in order. Settles each.
 */
function sendSpawns(slot, q) {
  if (slot.ended) {
    for (let k = 0; k < q.calls; k++) q.errors[k] = new IncarnationEnded();
    q.from = q.calls;
    q.settle(q);
    return;
  }
  const from = slot.templates === undefined ? 0 : spawnAlone(slot, q);
  q.from = from;
  if (from < q.calls) sendToHost(slot, q, from);
  q.settle(q);
}

/** Sends `q`'s calls from `from` on to the host as one request; `q.answered` says when it answered. */
function sendToHost(slot, q, from) {
  const items = itemsOf(q.runs, from);
  q.answered = request(slot, { op: 'spawns', sources: q.sources, options: q.options, items, templates: true }).then(
    (answer) => {
      const results = Array.isArray(answer) ? answer : answer.results;
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        const k = from + i;
        if (typeof r === 'string') q.errors[k] = replyError(r);
        else if (typeof r === 'number') q.results[k] = Object.freeze({ id: `actor-${r}` });
        else q.results[k] = r.map((num) => Object.freeze({ id: `actor-${num}` }));
      }
      if (Array.isArray(answer) || slot.ended) return;
      for (const [i, id, spec] of answer.templates) {
        // the host's leave to spawn more children like that one without asking it
        const source = sourceText(q.sources[items[3 * i]]);
        slot.templates ??= new Map();
        let byText = slot.templates.get(source);
        if (byText === undefined) slot.templates.set(source, (byText = new Map()));
        byText.set(q.texts[items[3 * i + 1]], { id, spec, compact: undefined });
      }
    },
    (err) => {
      for (let k = from; k < q.calls; k++) q.errors[k] = err;
    },
  );
}

const sourceTexts = new WeakMap(); // start descriptor → its JSON (templates are found by it)

/** `source` as JSON, made once per descriptor (a function's is reused, see describeActor). */
function sourceText(source) {
  let text = sourceTexts.get(source);
  if (text === undefined) sourceTexts.set(source, (text = JSON.stringify(source)));
  return text;
}

/**
 * Spawns the leading runs of `q` (ctx.spawn calls alike) that `slot`'s templates cover without
 * the host: the core creates each run's children under the supervisor and group the host chose
 * for the template, binds them to this worker and queues one `spawned` note to the host before
 * anything they do (crate/src/pooled.rs, pool_spawn); they start here at once. A run goes to
 * the host instead (which answers with the same errors as ever) when it would pass
 * pool.maxActors or the core refuses it; so does the part of a run that would leave this
 * worker with more than 1.25 times the mean load (the host places those elsewhere). Returns
 * how many calls were done.
 */
function spawnAlone(slot, q) {
  const { runs, results } = q;
  let done = 0;
  for (let r = 0; r < runs.length; r += 4) {
    if (runs[r + 2] >= 0) break; // (ctx.spawnMany: the host)
    const t = slot.templates.get(sourceText(q.sources[runs[r]]))?.get(q.texts[runs[r + 1]]);
    if (t === undefined) break;
    const calls = runs[r + 3];
    let count = calls;
    if (workers > 1) {
      // placement as the host's (lib/pool/host.js pick): children stay here while this worker
      // carries at most 1.25 times the mean load once the rest are placed elsewhere
      const total = Atomics.load(liveCount, 0);
      const room = Math.floor((1.25 * (total + count)) / workers - slots.size);
      if (room <= 0) break;
      if (room < count) count = room;
    }
    const before = Atomics.add(liveCount, 0, count);
    if (before + count > limit) {
      Atomics.sub(liveCount, 0, count);
      break;
    }
    // a compiled behaviour without start-up code: the children are ready for mail once bound
    // (no acknowledgement each), and their slots need nothing run: until its first message
    // (or stop order) each is a compact entry of the table, sharing its template's
    let b = null;
    try {
      b = behaviourOf(t.spec);
    } catch {}
    const ready = b !== null && typeof b.then !== 'function' && !b.init && !b.onStart && !(b.onTerminate && t.spec.module);
    const compact = ready && !(t.spec.idleTimeoutMs && b.onIdle) ? (t.compact ??= new Compact({ spec: t.spec, behaviour: b })) : null;
    let made;
    try {
      made = native.poolSpawn(slot.id, t.id, count, ready);
    } catch {
      Atomics.sub(liveCount, 0, count);
      break;
    }
    for (let i = 0; i < count; i++) {
      const id = made[2 * i];
      const inc = made[2 * i + 1];
      const num = id <= 0x7fffffff ? id | 0 : id; // (stored inline, not as a heap number)
      results.push(Object.freeze({ id: `actor-${num}` }));
      if (inc < 0) continue;
      if (compact !== null) {
        slots.setCompact(num, compact, inc);
        continue;
      }
      if (!ready) {
        start(num, t.spec, inc);
        continue;
      }
      const child = new Slot(num, t.spec, inc);
      child.behaviour = b;
      slots.set(num, child);
      armIdle(child);
    }
    done += count;
    if (count < calls) break; // (the rest of the run: the host places it)
  }
  return done;
}

/** The slot of a child spawned here that was kept compact until now (see spawnAlone). */
function expandSlot(id, compact, inc) {
  const slot = new Slot(id, compact.data.spec, inc);
  slot.behaviour = compact.data.behaviour;
  return slot;
}

// ---- draining -------------------------------------------------------------------------

/**
 * Reads this worker's port: urgent envelopes first, then batches of ready actors, ROUNDS
 * batches per event-loop turn. While traffic is dense and no actor's code awaits anything, an
 * idle worker waits in the core (polls briefly, then sleeps until a sender wakes it, at most
 * POOL_MAX_WAIT_US asleep): a batch counts as having queued JS (QUEUED_JS), so the wait comes
 * after the microtasks its handlers queued, and an event-loop turn still comes after ROUNDS
 * passes and whenever a wait runs out. While some actor's code awaits, the worker only looks
 * again on setImmediate turns (up to 200 of them), as a wait would hold that code back.
 *
 * Why not spin on setImmediate turns alone, as it once did: that kept this thread on a core
 * for hundreds of µs after every message, so a host calling it back-to-back kept both cores of
 * a 2-core machine busy, and whenever a runtime thread (JIT, GC helpers) woke, the host waited
 * behind it for its reply to be read (p99 of a call 0.3-0.5 ms on Bun and Node; bench/RESULTS.md).
 */
const reader = new PortReader({
  take: () => native.workerTake(),
  onEnvelope: onUrgent,
  urgentFirst: true,
  rounds: ROUNDS,
  work: nextBatch,
  park: () => native.workerPark(),
  wait: (pollUs, sleepUs) => native.workerWait(pollUs, sleepUs),
  mayWait: () => awaiting.size === 0,
  awaiting: () => pending.size > 0,
  policy: new Spinner(POOL_MAX_WAIT_US, 0.2, 16, 200),
  setImmediate: runtimeSetImmediate,
});
const drain = reader.read;

/** Runs the backlog a guarded batch left, or the next batch of ready actors from the core. */
function nextBatch() {
  if (backlog.length > 0) {
    runGuarded(null);
    return QUEUED_JS;
  }
  const text = native.poolTake(maxActors, perActor);
  if (text === null) return IDLE;
  const now = performance.now(); // one clock read per batch (about 150 ns each on this loaded VM)
  reader.arrived(now);
  runGuarded(JSON.parse(text));
  if (now >= heapDue) reportHeap();
  return QUEUED_JS; // the handlers may have queued microtasks: they run before any wait
}

// ---- interrupting a synchronous hang (the first layer of hang handling) -----------------
//
// With `interrupt`, a batch runs inside `vm` with a time limit of maxBlockMs plus a budget of a
// quarter of it, and no handler starts once the budget has passed (its actor goes to the
// backlog for the next round): so the handler running when the limit strikes has run for at
// least maxBlockMs, and a hang is unwound 1.25 maxBlockMs after its run began. While the
// budget lasts, the run takes up to GUARDED_BATCHES - 1 more batches itself (runBatches), with
// a hand-out a strike cannot lose (handOut). The runtime unwinds a hang without running its
// `finally` blocks, so `running` still names the culprit, whose incarnation ends with
// `timeout`; everything else taken stays in hand and runs next. Without `interrupt` (where a limit costs too much per call, see the
// README), the host's watchdog replaces the worker instead.

let guard = null; // { script, timeout } when batches run under a time limit
let guardStart = 0; // when the guarded batch began (ms); 0 outside one
let lastEntered = null; // the slot whose code ran last in the guarded batch
const GUARD_BUDGET_MS = maxBlockMs / 4; // no handler of a guarded batch starts after this
const RUN_GUARDED = '__wardenPoolRunBatch';

if (interrupt) {
  const vm = require('node:vm');
  Object.defineProperty(globalThis, RUN_GUARDED, { value: runBatches, enumerable: false });
  guard = { script: new vm.Script(`${RUN_GUARDED}()`), options: { timeout: Math.max(1, Math.ceil(maxBlockMs + GUARD_BUDGET_MS)) } };
}

/** Runs a batch taken from the core (see enqueue; null: the backlog). */
function runGuarded(batch) {
  // the first batch is handed to its slots outside the limit (those taken inside it, by
  // runBatches, are handed out so that an interrupted run can finish: see handOut)
  if (batch !== null) enqueue(batch);
  if (guard === null) {
    runBatch();
    return;
  }
  lastEntered = null;
  guardStart = performance.now();
  try {
    guard.script.runInThisContext(guard.options);
  } catch (err) {
    if (err?.code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
    interrupted();
  } finally {
    guardStart = 0;
    lastEntered = null;
  }
}

/** Whether a guarded batch has used its budget: the next handler waits for the next round. */
function overBudget() {
  return guardStart !== 0 && performance.now() - guardStart >= GUARD_BUDGET_MS;
}

/**
 * Hands a batch taken from the core to its slots. The batch is flat (crate/src/pooled.rs):
 * `[actorId, incarnation, n, …n messages, …]`, a message `kind, body` or, for a call,
 * `kind, body, corr, replyPort`; each becomes an envelope `[kind, 0, corr, body, replyPort?]`
 * (lib/port/envelope.js) here, where an array of known shape is cheap to make.
 */
function enqueue(batch) {
  handBatch = batch;
  handAt = 0;
  handOut();
  handBatch = null;
}

// The hand-out in progress (see handOut): the batch's text as the core returned it, the batch,
// the index of its next actor not yet given its mail, and the mail being given.
let handText = null;
let handBatch = null;
let handAt = 0;
let handGroup = null;
let stallHandOut = null; // test hook (WARDEN_TEST_HOOKS=1): runs in a guarded hand-out, after an actor got its mail

/**
 * Gives each actor of `handBatch` from `handAt` on its messages. It can be cut short anywhere
 * by a strike of the time limit (a guarded run takes batches too, see runBatches) and finished
 * later (see finishHandOut) without losing or doubling a message: an actor's messages go to
 * its slot in one step, and `handGroup` names them until `handAt` has moved past that actor,
 * so a second pass that finds them at the end of its queue does not give them again.
 */
function handOut() {
  const batch = handBatch;
  while (handAt < batch.length) {
    let i = handAt;
    const id = batch[i];
    const inc = batch[i + 1];
    const n = batch[i + 2];
    i += 3;
    const slot = slots.get(id);
    const live = slot !== undefined && slot.inc === inc; // else ended meanwhile: the core has them back
    const list = live ? [] : null;
    for (let k = 0; k < n; k++) {
      const kind = batch[i];
      let env;
      if (kind === K.CALL || kind === K.CALL + K.UNDEFINED_BODY) {
        env = [kind, 0, batch[i + 2], batch[i + 1], batch[i + 3]];
        i += 4;
      } else {
        env = [kind, 0, 0, batch[i + 1]];
        i += 2;
      }
      if (list !== null) list.push(env);
    }
    if (live && n > 0) {
      const queue = slot.queue;
      const given = handGroup !== null && queue.length > 0 && queue[queue.length - 1] === handGroup[handGroup.length - 1];
      if (!given) {
        handGroup = list;
        if (queue.length === 0) slot.queue = list;
        else for (let k = 0; k < list.length; k++) queue.push(list[k]);
      }
      if (!slot.waiting) backlog.push(slot);
    }
    if (stallHandOut !== null && guardStart !== 0) stallHandOut(); // (a test's strike lands here)
    handAt = i;
    handGroup = null;
  }
}

/** A strike cut a hand-out short: gives the rest of that batch to its actors. */
function finishHandOut() {
  if (handText === null) return;
  if (handBatch === null) {
    handAt = 0;
    handBatch = JSON.parse(handText);
  }
  handOut();
  handText = null;
  handBatch = null;
}

/**
 * The next batch taken inside a guarded run (see runBatches): false if no actor is ready. The
 * text the core returned is kept before anything else runs (a strike can only land at a
 * function's entry or a loop's turn, and a native call's value is stored before either), so an
 * interrupted run finishes handing it out.
 */
function takeGuarded() {
  handBatch = null;
  handAt = 0;
  handText = native.poolTake(maxActors, perActor);
  if (handText === null) return false;
  handBatch = JSON.parse(handText);
  handOut();
  handText = null;
  handBatch = null;
  return true;
}

/**
 * Runs the backlog. Under the limit, `lastEntered` names the slot being worked on from before
 * its first message leaves its queue until its run ends, so wherever the limit strikes (its
 * handler, or this worker's bookkeeping for it: a message taken but not yet run, a reply or
 * acknowledgement not yet written), ending that actor leaves nothing half done; between two
 * slots nothing is, and nobody is blamed.
 */
function runBatch() {
  while (backlog.length > 0) {
    if (overBudget()) return;
    const slot = backlog.shift();
    if (slot.waiting || slot.ended) continue;
    lastEntered = slot;
    runSlot(slot);
    lastEntered = null;
  }
}

/**
 * A guarded run: the backlog, then, while the budget lasts and the backlog empties, up to
 * GUARDED_BATCHES - 1 more batches taken here, so the entry to the time-limited script (about
 * 1.6 µs on Bun, bench/RESULTS.md) is paid once for several batches. Urgent envelopes wait for
 * the end of the run (at most the budget, a quarter of maxBlockMs).
 */
function runBatches() {
  runBatch();
  for (let k = 1; k < GUARDED_BATCHES; k++) {
    if (backlog.length > 0 || overBudget() || !takeGuarded()) return;
    runBatch();
  }
}

/**
 * A handler ran past the limit and was unwound: its actor exits with `timeout`. If the limit
 * struck just after its code returned (in this worker's own bookkeeping for it), it is still
 * the culprit: no handler starts after the budget, so it ran past maxBlockMs — or the thread
 * was held up meanwhile (descheduled, collecting garbage): the limit counts wall time, so an
 * actor can be ended by a stall it did not cause, but never left half handled.
 */
function interrupted() {
  const culprit = running ?? lastEntered;
  running = null;
  watch[0] = 0;
  watch[6] = 0;
  // the strike may have fallen between an outbox record naming a sender and the note of it,
  // or before a flush was queued: the next record names its sender again, the next put flushes
  outboxSender = 0;
  if (outbox !== null) outbox.flushQueued = false;
  finishHandOut(); // (a strike during a batch's hand-out: no handler ran, nobody is blamed)
  const queued = new Set(backlog);
  for (const slot of slots.values()) {
    if (slot.queue.length > 0 && !slot.waiting && !queued.has(slot)) backlog.push(slot);
  }
  if (culprit === null || culprit.ended) return;
  endSlot(culprit);
  native.poolRequest(culprit.id, 0, `{"op":"exit","reason":"timeout","interrupted":true,"inc":${culprit.inc}}`);
}

function onUrgent(env) {
  const kind = envelopeKind(env);
  const from = env[1];
  const c = env[2];
  const body = env[3];
  if (kind === K.INIT) {
    // one start order for many actors: [spec, [actorId, incarnation, …]] (crate/src/pooled.rs)
    const [spec, list] = body;
    for (let i = 0; i < list.length; i += 2) start(list[i], spec, list[i + 1]);
  } else if (kind === K.REPLY) {
    settlePending(pending, c, body, replyError, runtimeClearTimeout); // a late reply is dropped
  } else if (kind === K.STOP) {
    onStop(from, c, body);
  } else if (kind === K.BOX_GRANT) {
    const w = boxWaits.get(c);
    boxWaits.delete(c);
    w?.resolve(body);
  } else if (kind === K.REVOKE) {
    // A reader's lease ran out: its views of that box go first, then its reference.
    const slot = slots.get(from);
    if (slot !== undefined) tier2.release(slot.sup, { boxIndex: body[0], epoch: body[1] }, slot.viewsOf(), slot.id);
  }
}

/**
 * The host ends incarnation `inc` of actor `id` (lib/pool/host.js, poolStop). `body`: the
 * reason, for a stop between messages; or `{ reason, polite, confirm }`: `polite` runs
 * onTerminate first and reports the exit; `confirm` says when the slot and its views are gone.
 * With `id` 0, the core ended many actors at once (crate/src/pooled.rs, pool_end): `body` is
 * `{ reason, many }` or `{ reason, all }`.
 */
function onStop(id, inc, body) {
  if (id === 0) {
    // one order for many actors ended together (a shutdown): `many` is [actorId, incarnation, …],
    // or `all` when none is left bound to this worker (every slot here started before this order)
    if (body.all === true) {
      for (const slot of slots.values()) endSlot(slot);
      slots.dropCompact(); // (children that never ran: nothing of theirs to end)
      return;
    }
    const many = body.many;
    for (let i = 0; i < many.length; i += 2) {
      if (slots.dropCompactOf(many[i], many[i + 1])) continue; // (a child that never ran)
      const slot = slots.get(many[i]);
      if (slot !== undefined && slot.inc === many[i + 1]) endSlot(slot);
    }
    return;
  }
  const slot = slots.get(id);
  const here = slot !== undefined && slot.inc === inc;
  if (typeof body === 'object' && body !== null && body.polite) {
    if (!here || slot.ended) return;
    slot.cancelled = true;
    slot.stopReason = body.reason;
    if (!slot.waiting) politeStop(slot);
    return;
  }
  if (here) endSlot(slot);
  if (typeof body === 'object' && body !== null && body.confirm) {
    native.poolRequest(id, 0, '{"op":"stopped"}');
  }
}

// ---- incarnations -----------------------------------------------------------------------

/** The behaviour of `spec`'s source, compiled once per worker (a promise while a module loads). */
function behaviourOf(spec) {
  let entry = sources.get(spec.key);
  if (entry === undefined) {
    if (spec.source === undefined) throw new Error(`pool worker: unknown source ${spec.key}`);
    entry = { source: spec.source, built: buildSync(spec.source), loading: undefined };
    sources.set(spec.key, entry);
  }
  if (entry.built === null && entry.loading === undefined) {
    // a module: loaded once; after a failure, the next incarnation tries again (the host sends
    // a source once per worker, so the entry stays)
    entry.loading = loadModule(entry.source.url).then((b) => (entry.built = b));
    entry.loading.catch(() => {
      entry.loading = undefined;
    });
  }
  return entry.built ?? entry.loading;
}

function start(id, spec, incarnation) {
  const old = slots.get(id);
  if (old !== undefined) endSlot(old);
  const slot = new Slot(id, spec, incarnation);
  slots.set(id, slot);
  let b;
  try {
    b = behaviourOf(spec);
  } catch (err) {
    fail(slot, err);
    return;
  }
  const arriving = spec.regions ? regionsArrive(spec.regions) : null; // null: nothing to wait for
  if (typeof b.then !== 'function' && arriving === null) {
    slot.behaviour = b; // the common case: ready now, and init/onStart (if any) run right here
    if (b.onTerminate && slot.module) native.poolRequest(slot.id, 0, '{"op":"hooks","onTerminate":true}'); // (a module loaded before)
    if ((b.init || b.onStart) && !startNow(slot, b)) return;
    started(slot);
    armIdle(slot);
    return;
  }
  slot.waiting = true;
  if (typeof b.then === 'function') {
    // a module that fails to load: the host says so (once), as for an isolated actor
    const url = sources.get(spec.key).source.url;
    b = b.catch((err) => {
      if (!slot.ended) native.poolRequest(slot.id, 0, JSON.stringify({ op: 'loadFailed', url, error: describeError(err, false) }));
      throw err;
    });
  }
  Promise.all([b, arriving])
    .then(async ([loaded]) => {
      if (slot.ended) return;
      slot.behaviour = loaded;
      if (loaded.onTerminate && slot.module) native.poolRequest(slot.id, 0, '{"op":"hooks","onTerminate":true}');
      // init and onStart are user code that may await (loading a module is not: the watchdog
      // would take a slow import on a busy machine for a hang)
      slot.awaits(true);
      if (loaded.init) slot.state = await runAs(slot, () => loaded.init());
      if (slot.ended) return;
      if (loaded.onStart) await runAs(slot, () => loaded.onStart(slot.ctx));
      if (slot.ended) return;
      startedLater(slot);
    })
    .catch((err) => fail(slot, err));
}

/**
 * Runs a ready behaviour's `init` and `onStart` synchronously (no promise per actor while a
 * spawnMany's start orders arrive): true when start-up is over. When either returns a thenable,
 * the rest of start-up continues asynchronously as for a module (false; it reports itself).
 */
function startNow(slot, b) {
  let v;
  try {
    if (b.init) {
      v = runAs(slot, () => b.init());
      if (isThenable(v)) return startLater(slot, b, v, true);
      slot.state = v;
    }
    if (b.onStart) {
      v = runAs(slot, () => b.onStart(slot.ctx));
      if (isThenable(v)) return startLater(slot, b, v, false);
    }
  } catch (err) {
    fail(slot, err);
    return false;
  }
  return !slot.ended;
}

/** The asynchronous rest of startNow: `v` is what `init` (`fromInit`) or `onStart` returned. */
function startLater(slot, b, v, fromInit) {
  if (slot.ended) return false;
  slot.waiting = true;
  slot.awaits(true);
  (async () => {
    const value = await v;
    if (slot.ended) return;
    if (fromInit) {
      slot.state = value;
      if (b.onStart) await runAs(slot, () => b.onStart(slot.ctx));
      if (slot.ended) return;
    }
    startedLater(slot);
  })().catch((err) => fail(slot, err));
  return false;
}

/**
 * The shared regions named `names`: the host posts each to this worker once (a
 * SharedArrayBuffer cannot travel through the core), before the start order it sends through the
 * core, but the two paths are not ordered: null if they are all here, else a promise of their
 * arrival. Nothing listens once nothing waits, so nothing keeps the thread alive.
 */
function regionsArrive(names) {
  takeRegionMessages();
  if (names.every((n) => regionBuffers.has(n))) return null;
  return new Promise((resolve) => {
    regionWaits.push({ names, resolve });
    if (regionWaits.length === 1) parentPort.once('message', onRegionMessage);
  });
}

function takeRegionMessages() {
  for (let m = receiveMessageOnPort(parentPort); m; m = receiveMessageOnPort(parentPort)) storeRegions(m.message);
}

function storeRegions(m) {
  for (const [name, buffer] of Object.entries(m?.regions ?? {})) regionBuffers.set(name, buffer);
}

function onRegionMessage(m) {
  storeRegions(m);
  takeRegionMessages();
  for (let i = regionWaits.length - 1; i >= 0; i--) {
    const w = regionWaits[i];
    if (w.names.every((n) => regionBuffers.has(n))) {
      regionWaits.splice(i, 1);
      w.resolve();
    }
  }
  if (regionWaits.length > 0) parentPort.once('message', onRegionMessage);
}

/**
 * Runs `fn` as `slot`'s synchronous code (a handler, a hook, a timer it set): the timers it sets
 * belong to that incarnation, and the host's watchdog sees it running (`watch[0]`), so one that
 * never returns is unwound (under the time limit) or costs the worker, with that actor named.
 */
function runAs(slot, fn) {
  const outer = running;
  const outerWatch = watch[0];
  running = slot;
  if (guardStart !== 0) lastEntered = slot;
  watch[0] = slot.id;
  watch[6] = guardStart !== 0 ? 1 : 0; // the host gives a guarded run the time the guard needs
  watch[1] = (watch[1] + 1) | 0; // (this thread is its only writer: no atomic add needed)
  try {
    return fn();
  } finally {
    running = outer;
    watch[0] = outerWatch;
    if (spawnQueue !== null && outer !== slot) flushSpawnsOf(slot); // its ctx.spawn calls, in one request
  }
}

function isThenable(v) {
  return v !== null && typeof v === 'object' && typeof v.then === 'function';
}

/** Runs `slot`'s queued messages one at a time until one is asynchronous. */
function runSlot(slot) {
  while (slot.queue.length > 0 && !slot.waiting && !slot.ended && !slot.cancelled) {
    if (overBudget()) {
      backlog.push(slot); // the next round goes on with it
      return;
    }
    const env = slot.queue.shift();
    const kind = envelopeKind(env);
    let body = env[3];
    let what = HANDLE;
    if (kind === K.SYSTEM) {
      body = inboxOrSystem(body);
      if (body.msg === 'EXIT' && slot.behaviour.onExit) what = ON_EXIT;
    }
    if (!unit(slot, env, what, body)) return;
  }
  if (slot.queue.length === 0) slot.queue = EMPTY; // its array (and backing store) goes
  if (slot.waiting || slot.ended) return;
  if (slot.cancelled) politeStop(slot);
  else armIdle(slot);
}

function inboxOrSystem(body) {
  if (!body.inbox) return systemMessage(body.msg, body.data);
  const { meta, handle, from } = body.inbox;
  return systemMessage(meta.msg, undefined, { type: meta.type, handle: Object.freeze(handle), from });
}

const HANDLE = 0; // what a unit of work runs: the handler with a message,
const ON_EXIT = 1; // onExit with an EXIT message (trapping exits),
const ON_IDLE = 2; // or onIdle (`env` null)

/**
 * Runs one unit of `slot`'s work as that actor (see `runAs`, written out here: this is the path
 * of every message). True if it finished synchronously; false if it goes on asynchronously (the
 * slot waits) or failed. Only the handler's value is a stateful actor's next state.
 */
function unit(slot, env, what, msg) {
  const outer = running;
  const outerWatch = watch[0];
  running = slot;
  if (guardStart !== 0) lastEntered = slot;
  watch[0] = slot.id;
  watch[6] = guardStart !== 0 ? 1 : 0;
  watch[1] = (watch[1] + 1) | 0;
  const b = slot.behaviour;
  const newState = what === HANDLE;
  let result;
  try {
    if (what === HANDLE) result = b.stateful ? b.handle(slot.state, msg, slot.ctx) : b.handle(slot.self, msg, slot.ctx);
    else if (what === ON_EXIT) result = b.onExit(msg.data.id, msg.data.reason, slot.ctx);
    else result = b.onIdle(slot.ctx);
  } catch (err) {
    running = outer;
    watch[0] = outerWatch;
    if (spawnQueue !== null) flushSpawnsOf(slot); // (see runAs)
    crashed(slot, env, err);
    return false;
  }
  running = outer;
  watch[0] = outerWatch;
  if (spawnQueue !== null) flushSpawnsOf(slot); // its ctx.spawn calls reach the host before its reply
  if (isThenable(result)) {
    slot.waiting = true;
    slot.awaits(true);
    result.then(
      (value) => {
        if (slot.ended) return;
        slot.waiting = false;
        slot.awaits(false);
        settle(slot, env, value, newState);
        runSlot(slot);
      },
      (err) => {
        if (slot.ended) return;
        slot.awaits(false);
        crashed(slot, env, err);
      },
    );
    return false;
  }
  settle(slot, env, result, newState);
  return true;
}

/** The unit `env` finished with `value`: reply if it was a call, acknowledge it. */
function settle(slot, env, value, newState) {
  if (env === null) return; // onIdle
  if (slot.behaviour.stateful && newState) slot.state = value;
  if (env[0] === K.CALL) native.poolReply(slot.id, slot.inc, env[4], env[2], replyText(value, K)); // the count and the reply at once
  else acknowledge(slot);
}

/**
 * One more message of `slot` is handled: a record in the outbox (behind the mail its handler
 * sent) rather than a native call per message. The core counts it when it drains the outbox: on
 * this thread's next native call, at the end of this task, from its timer, and before a lost
 * worker's actors are reported, so a handled message is never reported in flight.
 */
function acknowledge(slot) {
  outbox ??= new Outbox(control);
  outbox.putAck(slot.inc, slot.id); // (words naming the actor: it does not become the sender)
}

/** An asynchronous start-up (a module, or an `init`/`onStart` that awaited) is over: it runs its mail. */
function startedLater(slot) {
  slot.waiting = false;
  slot.awaits(false);
  started(slot);
  runSlot(slot);
}

/** `slot`'s start-up code is done: it may get mail (the same record, counting 0 messages). */
function started(slot) {
  outbox ??= new Outbox(control);
  if (outboxSender !== slot.id && outbox.put(0, String(slot.id))) outboxSender = slot.id;
  if (outboxSender !== slot.id || !outbox.put(0, `!${slot.inc},0`)) native.poolAck(slot.id, slot.inc, 0);
}

/** `idleTimeoutMs` without a message: `onIdle(ctx)` runs (and again after each idle period). */
function armIdle(slot) {
  if (slot.idleMs === 0 || !slot.behaviour?.onIdle) return;
  runtimeClearTimeout(slot.idleTimer);
  slot.idleTimer = runtimeSetTimeout(() => {
    slot.idleTimer = null;
    if (slot.waiting || slot.ended || slot.cancelled || slot.queue.length > 0) return;
    if (unit(slot, null, ON_IDLE, undefined)) runSlot(slot);
  }, slot.idleMs);
}

/**
 * A polite stop (shutdown kind: a number of ms or `infinity`): no more messages;
 * `onTerminate(reason, ctx)` runs, then the incarnation reports its exit. The host ends it
 * anyway when its shutdown time is up.
 */
function politeStop(slot) {
  if (slot.ended || slot.stopping) return;
  slot.stopping = true;
  slot.waiting = true;
  runtimeClearTimeout(slot.idleTimer);
  const finish = () => {
    if (slot.ended) return;
    const reason = slot.stopReason;
    endSlot(slot);
    native.poolExit(slot.id, reason);
  };
  const hook = slot.behaviour?.onTerminate;
  if (!hook) return finish();
  let r;
  try {
    r = runAs(slot, () => hook(slot.stopReason, slot.ctx));
  } catch {
    return finish();
  }
  if (isThenable(r)) {
    slot.awaits(true);
    r.then(finish, finish);
  } else {
    finish();
  }
}

/** The handler threw or rejected: the crash policy decides, or the incarnation ends. */
function crashed(slot, env, err) {
  if (slot.ended) return;
  if (!slot.onCrash || env === null) {
    fail(slot, err);
    return;
  }
  const reason = `error: ${describeError(err, !slot.module)}`;
  slot.waiting = true;
  request(slot, { op: 'crash', reason, message: env[0] === K.SYSTEM ? undefined : env[3] }).then(
    (decision) => {
      if (slot.ended) return;
      if (decision !== 'resume') {
        fail(slot, err);
        return;
      }
      slot.waiting = false;
      if (env[0] === K.CALL) native.poolReply(slot.id, slot.inc, env[4], env[2], JSON.stringify([K.REPLY_ERR, reason]));
      else native.poolAck(slot.id, slot.inc, 1);
      runSlot(slot);
    },
    () => fail(slot, err),
  );
}

/**
 * The incarnation ends with an error: its slot goes (its self and ctx go stale), the message
 * it was handling stays unacknowledged (the core reports it in flight), and the host applies
 * the restart policy. Only this actor is affected.
 */
function fail(slot, err) {
  if (slot.ended) return;
  endSlot(slot);
  const reason = `error: ${describeError(err, !slot.module)}`;
  native.poolRequest(slot.id, 0, JSON.stringify({ op: 'exit', reason }));
}

/**
 * Forgets an incarnation, touching no other actor of this worker: its self and ctx go stale,
 * its pending replies and box waits are dropped, the timers its code set are cancelled, and its
 * views of box memory are detached (before the core can give its boxes to anyone else).
 */
function endSlot(slot) {
  if (slot.ended) return;
  slot.ended = true;
  slot.awaits(false);
  slot.queue = EMPTY;
  if (slots.get(slot.id) === slot) slots.delete(slot.id);
  runtimeClearTimeout(slot.idleTimer);
  slot.idleTimer = null;
  if (slot.timers !== null) cancelTimers(slot);
  if (slot.views !== null) slot.views.detachAll();
  for (const [c, p] of pending) {
    if (p.slot !== slot) continue;
    pending.delete(c);
    if (p.timer) runtimeClearTimeout(p.timer);
    p.unlisten?.();
    p.reject(new IncarnationEnded());
  }
  if (slot.boxes !== null) {
    for (const [c, w] of boxWaits) if (w.slot === slot) boxWaits.delete(c);
  }
}

/**
 * `process.exit()` inside a pooled handler ends that actor (reason `error: process.exit(code)`,
 * as for an isolated actor), not the worker and every actor on it: it throws out of the handler.
 */
class ProcessExit extends Error {
  constructor(code) {
    super(`process.exit(${code ?? 0})`);
    this.name = 'ProcessExit';
  }
}
const exitThread = process.exit; // ends this worker thread (the test hook below uses it)
process.exit = (code) => {
  throw new ProcessExit(code ?? process.exitCode);
};

// Timers set by an actor's code belong to that actor: cancelled when its incarnation ends, run
// as that actor (a throw in one crashes that actor alone), and never touching its neighbours.
const cancelTimers = trackTimers(
  () => {
    const s = running;
    if (s === null || s.ended) return null;
    s.timers ??= new Map();
    return s;
  },
  (slot, fn, self, args) => {
    if (slot.ended) return undefined;
    try {
      return runAs(slot, () => fn.apply(self, args));
    } catch (err) {
      fail(slot, err);
      return undefined;
    }
  },
);

// An ended incarnation's leftover continuation that touches its stale ctx must not take down
// the worker; any other unhandled rejection is a bug of some actor that the worker survives.
process.on('unhandledRejection', (err) => {
  if (err instanceof IncarnationEnded) return;
  process.emitWarning(`warden pool worker: unhandled rejection: ${err?.stack ?? err}`);
});

// The same for an exception thrown outside any handler (a timer or event callback of some
// actor): without this listener Node would end the worker through process.exit(), which throws
// here (see above) inside its fatal-exception handler and aborts the whole process.
process.on('uncaughtException', (err) => {
  if (err instanceof IncarnationEnded) return;
  process.emitWarning(`warden pool worker: uncaught exception: ${err?.stack ?? err}`);
});

// Test hook (WARDEN_TEST_HOOKS=1): ends this worker thread as if it died on its own.
if (process.env.WARDEN_TEST_HOOKS === '1') {
  globalThis[Symbol.for('warden.test.exitPoolWorker')] = (code) => exitThread(code);
  // Runs `fn` once in the next guarded hand-out, after its first actor got its mail and before
  // the hand-out notes it (a stall there makes the time limit strike mid hand-out).
  globalThis[Symbol.for('warden.test.stallPoolHandOut')] = (fn) => {
    stallHandOut = () => {
      stallHandOut = null;
      fn();
    };
  };
}

// This worker's JS heap in use (KiB) in control word 1: every pooled actor on it reports that
// figure as its `heapUsed` (the heap its co-located actors share; README, Diagnostics). Measured
// at start-up, then after a batch at most once a second (an idle worker spends nothing on it).
let heapDue = 0; // performance.now() from which the next batch measures again
function reportHeap() {
  heapDue = performance.now() + 1000;
  try {
    const used = process.versions.bun ? process.memoryUsage().heapUsed : require('node:v8').getHeapStatistics().used_heap_size;
    control[1] = Math.ceil(used / 1024);
  } catch {
    // diagnostics only
  }
}

control = native.registerPort(workerData.port, drain, true);
reportHeap();
drain();
