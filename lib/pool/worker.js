'use strict';
// The bootstrap of a pool worker: one thread that runs many pooled actors (see
// docs/ARCHITECTURE.md, Pooled actors). It keeps a slot per actor (behaviour, state, self,
// ctx), compiles each distinct source once, takes batches of ready actors from its port in the
// Rust core, and runs one message at a time per actor: an async handler keeps only its own
// actor busy. Everything an actor does goes through the core in that actor's name (the core
// checks the actor is bound to this thread).
//
// A synchronous handler that never returns cannot be interrupted here: while a handler runs
// synchronously this thread writes its actor id in a word the host watches (`watch[0]`, with a
// sequence number in `watch[1]`), and the host kills and replaces the whole worker when that
// word stays put past the deadline.

const { workerData } = require('node:worker_threads');
const native = require('../native.js');
const K = require('../kinds.js');
const { encode, replyText } = require('../codec.js');
const { systemMessage } = require('../result.js');
const { TimeoutError, ActorExitError, describeError, replyError } = require('../errors.js');
const { resolveTarget, monitorRef } = require('../targets.js');
const { remoteId, remoteRequest, remoteMonitorRef, isRemoteMonitorRef } = require('../cluster/remote.js');
const { buildSync, loadModule } = require('../behaviour.js');
const { callOptions, abortReason, listenAbort } = require('../call-options.js');
const { Spinner } = require('../spin.js');
const { fmt } = require('../fmt.js');
const { Outbox } = require('../outbox.js');

const {
  setImmediate: runtimeSetImmediate,
  setTimeout: runtimeSetTimeout,
  clearTimeout: runtimeClearTimeout,
  setInterval: runtimeSetInterval,
  clearInterval: runtimeClearInterval,
} = globalThis;

const { maxActors, perActor, watch: watchBuffer, tickMs } = workerData.pool;
// [0]: actor running a synchronous handler (0: none); [1]: sequence; [2]: event-loop tick while
// [3] actors await in a handler or start-up; [4], [5]: that actor and its incarnation when there
// is one (lib/pool/host.js)
const watch = new Int32Array(watchBuffer);
const ROUNDS = 64; // batches run per event-loop turn before yielding to timers and I/O

const sources = new Map(); // source key → { source, built?: behaviour, loading?: Promise<behaviour> }
const slots = new Map(); // actor id → Slot
const pending = new Map(); // corr → { resolve, reject, timer, slot }
let corr = 0;
let control = null; // this thread's control words (Uint32Array over core memory)
let outbox = null; // where ctx.send writes (created on the first send)
let outboxSender = 0; // the actor the outbox's last sender record named
const spinner = new Spinner();
let spinQueued = false;
const awaiting = new Set(); // slots whose handler or start-up awaits (user code may resume)
let running = null; // the slot whose code runs synchronously now (a handler, a hook, a timer it set)
const timerOwners = new Map(); // timer handle → the slot that set it
let ticker = null; // ticks watch[2] while `awaiting` is not empty

/** What an ended incarnation's self or ctx throws when used (e.g. from a leftover promise). */
class IncarnationEnded extends Error {
  constructor() {
    super('this actor incarnation has ended');
    this.name = 'IncarnationEnded';
  }
}

/** One incarnation of a pooled actor on this worker. */
class Slot {
  constructor(id, spec, incarnation) {
    this.id = id;
    this.inc = incarnation;
    this.sup = spec.sup;
    this.name = spec.name;
    this.onCrash = spec.onCrash === true;
    this.module = spec.module === true;
    this.behaviour = null;
    this.state = undefined;
    this.queue = []; // messages taken from the core, not yet run
    this.waiting = false; // an async handler (or start-up) is in progress
    this.ended = false;
    this.timers = null; // timers its code set (handle → clear function), cancelled when it ends
    this.self = new Self(this);
    this.ctx = new Ctx(this);
  }

  check() {
    if (this.ended) throw new IncarnationEnded();
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
    return this._slot.ended;
  }

  /**
   * Sends `msg` to another actor (FIFO per sender and receiver) through this worker's outbox,
   * after a record naming the sender when it changed; false if the target is known to be dead
   * for good. Mail the core cannot deliver is reported to the supervisor as a dead letter.
   */
  send(to, msg) {
    const s = this._slot;
    s.check();
    const rid = remoteId(to);
    if (rid !== null) return native.poolRequest(s.id, 0, remoteRequest('send', { to: rid, body: encode(msg, 'ctx.send: msg') }));
    const n = resolveTarget(to, s.sup, 'ctx.send: target');
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

  /** Spawns a child supervised with this actor; resolves with its ref `{ id }`. */
  async spawn(actor, options) {
    this._slot.check();
    const source = require('../source.js').actorSource(actor, 'ctx.spawn: actor');
    const id = await request(this._slot, { op: 'spawn', source, options });
    return Object.freeze({ id });
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
    return new Proxy(Object.create(null), {
      get(_, name) {
        if (typeof name !== 'string' || name === 'then') return undefined;
        return new Proxy(Object.create(null), {
          get(__, method) {
            if (typeof method !== 'string' || method === 'then') return undefined;
            return async (...args) => {
              slot.check();
              encode(args, `resources.${name}.${method}: arguments`);
              return request(slot, { op: 'resource', resource: name, method, args });
            };
          },
        });
      },
    });
  }

  /** "Still alive": recorded in diagnostics. */
  heartbeat() {
    this._slot.check();
    native.poolHeartbeat(this._slot.id, Date.now());
  }
}

// What pooled actors cannot do yet says so by name, instead of "is not a function".
for (const name of ['write', 'alloc', 'read', 'release', 'region']) {
  Object.defineProperty(Ctx.prototype, name, {
    value() {
      throw new TypeError(`ctx.${name}: not available to pooled actors yet (Tier 2 boxes and regions need kind: 'isolated')`);
    },
  });
}

/** Waits for the reply to a new correlation id (see lib/worker.js awaitReply). */
function awaitReply(slot, send, timeoutMs, timeoutMessage, signal) {
  return new Promise((resolve, reject) => {
    const c = ++corr;
    const entry = { resolve, reject, timer: null, slot, unlisten: null };
    if (timeoutMs !== undefined) {
      entry.timer = runtimeSetTimeout(() => {
        pending.delete(c);
        entry.unlisten?.();
        reject(new TimeoutError(timeoutMessage));
      }, timeoutMs);
    }
    pending.set(c, entry);
    const err = send(c);
    if (err) {
      pending.delete(c);
      runtimeClearTimeout(entry.timer);
      reject(err);
      return;
    }
    if (signal) {
      // aborted: rejected now; a late reply finds no entry and is dropped
      entry.unlisten = listenAbort(signal, (reason) => {
        if (!pending.delete(c)) return;
        runtimeClearTimeout(entry.timer);
        reject(reason);
      });
    }
  });
}

/** Asks the host to act for `slot`'s actor (spawn, terminate a child, resources, crash policy). */
function request(slot, body) {
  return awaitReply(slot, (c) => (native.poolRequest(slot.id, c, JSON.stringify(body)) ? null : new Error('actor is not running')));
}

// ---- draining -------------------------------------------------------------------------

/** Runs what the core has for this worker: urgent envelopes first, then batches of ready actors. */
function drain() {
  for (let rounds = 0; ; ) {
    const urgent = native.workerTake();
    if (urgent !== null) {
      spinner.arrived(performance.now());
      for (const env of JSON.parse(urgent)) onUrgent(env);
      continue;
    }
    if (rounds++ === ROUNDS) {
      // Timers, I/O and other actors' continuations get a turn; the port stays claimed.
      runtimeSetImmediate(drain);
      return;
    }
    const text = native.poolTake(maxActors, perActor);
    if (text !== null) {
      spinner.arrived(performance.now());
      for (const [id, inc, envs] of JSON.parse(text)) {
        const slot = slots.get(id);
        if (slot === undefined || slot.inc !== inc) continue; // ended meanwhile; the core has them back
        for (const env of envs) slot.queue.push(env);
        if (!slot.waiting) runSlot(slot);
      }
      continue;
    }
    if (spinner.shouldSpin(pending.size > 0)) {
      if (!spinQueued) {
        spinQueued = true;
        runtimeSetImmediate(spinTurn);
      }
      return;
    }
    spinner.parked();
    if (!native.workerPark()) return;
  }
}

function spinTurn() {
  spinQueued = false;
  drain();
}

function onUrgent([kind, from, c, body]) {
  if (kind >= K.UNDEFINED_BODY) {
    kind -= K.UNDEFINED_BODY;
    body = undefined;
  }
  if (kind === K.INIT) {
    start(from, body, c); // from: the actor; corr: its incarnation
  } else if (kind === K.REPLY) {
    const p = pending.get(c);
    if (!p) return; // late reply: dropped
    pending.delete(c);
    if (p.timer) runtimeClearTimeout(p.timer);
    p.unlisten?.();
    if (body[0] === K.REPLY_OK) p.resolve(body.length > 1 ? body[1] : undefined);
    else if (body[0] === K.REPLY_ERR) p.reject(replyError(body[1]));
    else p.reject(new ActorExitError(body[1]));
  } else if (kind === K.STOP) {
    // The host ended this incarnation (terminate, kill, timeout…): it takes effect now, between
    // messages; the core already has its mail back.
    const slot = slots.get(from);
    if (slot !== undefined && slot.inc === c) endSlot(slot);
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

const UNSUPPORTED_HOOKS = ['onTerminate', 'onIdle'];

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
  if (typeof b.then !== 'function' && !b.init && !b.onStart) {
    slot.behaviour = b; // the common case: ready now
    native.poolAck(slot.id, slot.inc, 0);
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
  Promise.resolve(b)
    .then(async (loaded) => {
      if (slot.ended) return;
      const hook = UNSUPPORTED_HOOKS.find((h) => loaded[h]);
      if (hook) throw new TypeError(`pooled actors do not support the ${hook} hook yet (spawn it with kind: 'isolated')`);
      slot.behaviour = loaded;
      // init and onStart are user code that may await (loading a module is not: the watchdog
      // would take a slow import on a busy machine for a hang)
      slot.awaits(true);
      if (loaded.init) slot.state = await runAs(slot, () => loaded.init());
      if (loaded.onStart) await runAs(slot, () => loaded.onStart(slot.ctx));
      if (slot.ended) return;
      slot.waiting = false;
      slot.awaits(false);
      native.poolAck(slot.id, slot.inc, 0);
      runSlot(slot);
    })
    .catch((err) => fail(slot, err));
}

/** Runs `slot`'s queued messages one at a time until one is asynchronous. */
function runSlot(slot) {
  while (slot.queue.length > 0 && !slot.waiting && !slot.ended) {
    const env = slot.queue.shift();
    let kind = env[0];
    let body = env[3];
    if (kind >= K.UNDEFINED_BODY) {
      kind -= K.UNDEFINED_BODY;
      env[0] = kind;
      body = undefined;
    }
    const b = slot.behaviour;
    let result;
    try {
      result = runAs(slot, () => {
        if (kind !== K.SYSTEM) return b.stateful ? b.handle(slot.state, body, slot.ctx) : b.handle(slot.self, body, slot.ctx);
        const msg = systemMessage(body.msg, body.data);
        if (msg.msg === 'EXIT' && b.onExit) {
          env.hook = true;
          return b.onExit(msg.data.id, msg.data.reason, slot.ctx);
        }
        return b.stateful ? b.handle(slot.state, msg, slot.ctx) : b.handle(slot.self, msg, slot.ctx);
      });
    } catch (err) {
      crashed(slot, env, err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      slot.waiting = true;
      slot.awaits(true);
      result.then(
        (value) => {
          if (slot.ended) return;
          slot.waiting = false;
          slot.awaits(false);
          settle(slot, env, value);
          runSlot(slot);
        },
        (err) => {
          if (slot.ended) return;
          slot.awaits(false);
          crashed(slot, env, err);
        },
      );
      return;
    }
    settle(slot, env, result);
  }
}

/** The handler of `env` finished with `value`: reply if it was a call, acknowledge it. */
function settle(slot, env, value) {
  if (slot.behaviour.stateful && !env.hook) slot.state = value;
  if (env[0] === K.CALL) native.poolReply(slot.id, slot.inc, env[4], env[2], replyText(value, K)); // the count and the reply at once
  else native.poolAck(slot.id, slot.inc, 1);
}

/** The handler threw or rejected: the crash policy decides, or the incarnation ends. */
function crashed(slot, env, err) {
  if (!slot.onCrash) {
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

/** Forgets an incarnation: its pending replies are dropped and its self and ctx go stale. */
function endSlot(slot) {
  if (slot.ended) return;
  slot.ended = true;
  slot.awaits(false);
  if (slot.timers !== null) {
    for (const [h, clear] of slot.timers) {
      clear(h);
      timerOwners.delete(h);
    }
    slot.timers = null;
  }
  slot.queue.length = 0;
  if (slots.get(slot.id) === slot) slots.delete(slot.id);
  for (const [c, p] of pending) {
    if (p.slot !== slot) continue;
    pending.delete(c);
    if (p.timer) runtimeClearTimeout(p.timer);
    p.unlisten?.();
    p.reject(new IncarnationEnded());
  }
}

/**
 * Runs `fn` as `slot`'s synchronous code (a handler, a hook, a timer it set): the timers it sets
 * belong to that incarnation, and the host's watchdog sees it running (`watch[0]`), so one that
 * never returns costs the worker with that actor named as the culprit.
 */
function runAs(slot, fn) {
  const outer = running;
  const outerWatch = watch[0];
  running = slot;
  watch[0] = slot.id;
  Atomics.add(watch, 1, 1);
  try {
    return fn();
  } finally {
    running = outer;
    watch[0] = outerWatch;
  }
}

/**
 * Routes the global timer functions through the slot whose code sets them (see lib/worker.js
 * for isolated actors): an ended incarnation's timers are cancelled, so none of them fires into
 * the next one or keeps running for ever; a timer callback that throws crashes its actor.
 * Timers set outside any slot's synchronous code (after an await) are not tracked.
 */
function trackSlotTimers() {
  const track = (set, clear, once) => {
    const wrapped = function (fn, ...args) {
      const slot = running;
      if (typeof fn !== 'function' || slot === null || slot.ended) return set(fn, ...args);
      const h = set(function (...a) {
        if (once) {
          slot.timers?.delete(h);
          timerOwners.delete(h);
        }
        if (slot.ended) return undefined;
        try {
          return runAs(slot, () => fn.apply(this, a));
        } catch (err) {
          fail(slot, err);
          return undefined;
        }
      }, ...args);
      slot.timers ??= new Map();
      slot.timers.set(h, clear);
      timerOwners.set(h, slot);
      return h;
    };
    for (const k of Reflect.ownKeys(set)) {
      if (typeof k === 'symbol') Object.defineProperty(wrapped, k, Object.getOwnPropertyDescriptor(set, k));
    }
    return wrapped;
  };
  const untrack = (clear) =>
    function (h) {
      const slot = timerOwners.get(h);
      if (slot !== undefined) {
        timerOwners.delete(h);
        slot.timers?.delete(h);
      }
      return clear(h);
    };
  const g = globalThis;
  const { clearImmediate: runtimeClearImmediate } = g;
  g.setTimeout = track(runtimeSetTimeout, runtimeClearTimeout, true);
  g.setInterval = track(runtimeSetInterval, runtimeClearInterval, false);
  g.setImmediate = track(runtimeSetImmediate, runtimeClearImmediate, true);
  g.clearTimeout = untrack(runtimeClearTimeout);
  g.clearInterval = untrack(runtimeClearInterval);
  g.clearImmediate = untrack(runtimeClearImmediate);
}
trackSlotTimers();

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
process.exit = (code) => {
  throw new ProcessExit(code ?? process.exitCode);
};

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

control = native.registerPort(workerData.port, drain, true);
drain();
