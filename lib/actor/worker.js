'use strict';
// The bootstrap of every actor thread. It registers the thread's port with the Rust core,
// waits for a start order, rebuilds the actor (callback source or module), then handles its
// mailbox one message at a time. All traffic goes through the core; nothing uses postMessage
// (the one exception is set-up: the shared regions an incarnation is granted arrive on its port).

const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const native = require('../native.js');
const K = require('../port/kinds.js');
const { encode, replyText } = require('../codec.js');
const { systemMessage } = require('../result.js');
const { ActorExitError, describeError, replyError } = require('../errors.js');
const { resolveTarget, monitorRef } = require('../targets.js');
const { remoteId, remoteRequest, remoteMonitorRef, isRemoteMonitorRef } = require('../cluster/remote.js');
const { buildSync, loadModule } = require('./behaviour.js');
const { callOptions, abortReason } = require('../call-options.js');
const tier2 = require('../tier2/index.js');
const { Spinner } = require('../port/spin.js');
const { PortReader, IDLE, DONE, QUEUED_JS } = require('../port/reader.js');
const { envelopeKind, settlePending, awaitReply: awaitPending } = require('../port/envelope.js');
const { Outbox } = require('./outbox.js');
const { fmt } = require('../fmt.js');
const { trackTimers } = require('./user-timers.js');
const { resourcesProxy } = require('./resources.js');

// The runtime's own timers. Timers the actor's code creates go through tracking wrappers
// (installed below) so that a recycled thread can cancel what an ended incarnation left behind.
const { setTimeout: runtimeSetTimeout, clearTimeout: runtimeClearTimeout, setImmediate: runtimeSetImmediate } = globalThis;
const RUNTIME_TIMERS = { setTimeout: runtimeSetTimeout, clearTimeout: runtimeClearTimeout };

const port = workerData.port;
const BATCH = 256; // most messages taken from the core per native call
const pending = new Map(); // corr → { resolve, reject, timer }
let corr = 0;
let spec = null; // start descriptor of the current incarnation
let behaviour = null; // { handle, stateful, init?, onStart?, onTerminate?, onExit?, onIdle? }
let state; // stateful actors: the value the last handle returned
let self = null;
let ctx = null;
let busy = true; // a handler is running (or the actor is starting)
let ended = false;
let cancelled = false; // a polite stop was requested
let stopReason = null;
let idleTimer = null;
const views = new tier2.Views(); // views of box memory this thread holds
const boxWaits = new Map(); // corr → resolve of a write waiting for a box
let control = null; // Uint32Array over core memory: [0] = messages handled so far
let outbox = null; // where ctx.send writes (created on the first send)
let regions = null; // shared regions granted to this incarnation: name → SharedArrayBuffer
let handled = 0;
let batch = null; // messages taken from the core, handled one at a time
let boxes = null; // Tier 2 writes of the current incarnation (tier2.writer)
let next = 0;
let generation = 0; // grows when an incarnation ends in this thread; its self and ctx go stale
const HEAP_EVERY_MS = 1000; // most one heap report per second (see heapSoon)
let heapSeen = 0; // `handled` at the last heap report
let heapAt = -Infinity; // when it was made (performance.now())
let heapTimer = null;

/**
 * Reads this thread's port: urgent envelopes (replies, start/stop orders) first, then the
 * mailbox one message at a time, taken from the core in batches. Urgent envelopes are checked
 * between messages whenever a handler is running or awaiting something, so replies are never
 * held back by a busy handler.
 */
const reader = new PortReader({
  take: () => (batch === null || busy ? native.workerTake() : null),
  onEnvelope: onUrgent,
  work: nextMessage,
  park: () => {
    if (handled !== heapSeen) heapSoon();
    return native.workerPark();
  },
  // Wait in the core for mail or replies, unless a handler awaits something other than a
  // reply (it drains again when it settles).
  wait: (pollUs, sleepUs) => native.workerWait(pollUs, sleepUs),
  mayWait: (awaiting) => !busy || awaiting,
  open: () => !ended,
  awaiting: () => pending.size > 0,
  policy: new Spinner(),
  setImmediate: runtimeSetImmediate,
});
const drain = reader.read;

/** Delivers the next message of the mailbox, if the actor can take one now. */
function nextMessage() {
  if (busy || cancelled) return IDLE;
  if (batch === null) {
    const text = native.workerPop(BATCH);
    if (text === null) return IDLE;
    reader.arrived();
    batch = JSON.parse(text);
    next = 0;
  }
  const env = batch[next++];
  if (next === batch.length) batch = null;
  deliver(env);
  return busy ? QUEUED_JS : DONE; // an async handler: its continuation needs the event loop
}

function onUrgent(env) {
  const kind = envelopeKind(env);
  const c = env[2];
  const body = env[3];
  if (kind === K.INIT) {
    start(body, c); // corr: the incarnation
  } else if (kind === K.REPLY) {
    settlePending(pending, c, body, replyError, runtimeClearTimeout); // a late reply is dropped
  } else if (kind === K.BOX_GRANT) {
    const resolve = boxWaits.get(c);
    boxWaits.delete(c);
    resolve?.(body);
  } else if (kind === K.REVOKE) {
    // A lease ran out: this thread's views of that box go first, then its reference.
    tier2.release(spec.sup, { boxIndex: body[0], epoch: body[1] }, views);
  } else if (kind === K.STOP) {
    cancelled = true;
    stopReason = body;
    if (!busy) politeStop();
  }
}

/** A polite stop: no more messages; `onTerminate(reason, ctx)` runs, then the thread ends. */
function politeStop() {
  if (ended) return;
  busy = true;
  runtimeClearTimeout(idleTimer);
  const finish = () => {
    if (ended) return;
    ended = true;
    native.exitSelf(stopReason);
  };
  if (!behaviour?.onTerminate) return finish();
  let r;
  try {
    r = behaviour.onTerminate(stopReason, ctx);
  } catch {
    return finish();
  }
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') r.then(finish, finish);
  else finish();
}

function start(descriptor, incarnation) {
  spec = descriptor;
  spec.incarnation = incarnation;
  handled = 0; // the core counts this incarnation's progress from zero (a recycled thread's
  control[0] = 0; // counter still holds the last one's)
  cancelled = false;
  stopReason = null;
  reportHeap();
  self = makeSelf(generation);
  ctx = makeCtx(generation);
  boxes = tier2.writer({
    sup: spec.sup,
    actor: undefined,
    port,
    leaseMs: spec.leaseMs,
    views,
    corr: () => ++corr,
    granted: (c) => new Promise((resolve) => boxWaits.set(c, resolve)),
  });
  let b;
  try {
    b = buildSync(spec.source);
  } catch (err) {
    fail(err);
    return;
  }
  const arriving = spec.regions ? takeRegions() : null; // null: nothing to wait for
  if (b !== null && !b.init && !b.onStart && arriving === null) {
    behaviour = b; // the common case: ready now, no extra turn of the event loop
    busy = false;
    armIdle();
    return;
  }
  const loading = b !== null ? b : loadModule(spec.source.url).catch(loadFailed);
  Promise.all([loading, arriving])
    .then(async ([loaded]) => {
      behaviour = loaded;
      if (behaviour.onTerminate && spec.source.kind === 'module') native.request(0, '{"op":"hooks","onTerminate":true}');
      if (behaviour.init) state = await behaviour.init();
      if (behaviour.onStart) await behaviour.onStart(ctx);
      busy = false;
      armIdle();
      if (cancelled) politeStop();
      else drain();
    })
    .catch(fail);
}

/** A module actor's module could not be loaded: the host says so (even with no listener). */
function loadFailed(err) {
  native.request(0, JSON.stringify({ op: 'loadFailed', url: spec.source.url, error: describe(err) }));
  throw err;
}

/**
 * The shared regions of this incarnation. The host posts them to this thread (a
 * SharedArrayBuffer cannot travel through the core) before the INIT it sends through the core,
 * but the two paths are not ordered: null if they are here already, else a promise of their
 * arrival. Nothing listens once they arrived, so nothing keeps the thread alive.
 */
function takeRegions() {
  const here = receiveMessageOnPort(parentPort);
  if (here) {
    regions = here.message.regions;
    return null;
  }
  return new Promise((resolve) => {
    parentPort.once('message', (m) => {
      regions = m.regions;
      resolve();
    });
  });
}

function deliver(env) {
  busy = true;
  const kind = envelopeKind(env);
  const body = env[3];
  const msg = kind !== K.SYSTEM ? body : inboxOrSystem(body);
  if (kind === K.SYSTEM && msg.msg === 'EXIT' && behaviour.onExit) {
    run(env, () => behaviour.onExit(msg.data.id, msg.data.reason, ctx), false);
    return;
  }
  run(env, () => (behaviour.stateful ? behaviour.handle(state, msg, ctx) : behaviour.handle(self, msg, ctx)));
}

function inboxOrSystem(body) {
  if (!body.inbox) return systemMessage(body.msg, body.data);
  const { meta, handle, from } = body.inbox;
  return systemMessage(meta.msg, undefined, { type: meta.type, handle: Object.freeze(handle), from });
}

/**
 * Runs one unit of the actor's work (a message, or onIdle with env null) to completion.
 * `newState`: whether its value is a stateful actor's next state (only `handle`'s is).
 */
function run(env, work, newState = true) {
  let result;
  try {
    result = work();
  } catch (err) {
    crashed(env, err);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    const g = generation;
    result.then(
      (value) => {
        if (g !== generation) return; // that incarnation ended meanwhile
        settle(env, value, newState);
        drain();
      },
      (err) => {
        if (g === generation) crashed(env, err);
      },
    );
  } else {
    settle(env, result, newState);
  }
}

/**
 * The handler of `env` finished with `value` (the new state of a stateful actor): reply if it
 * was a call, count it as handled. `env` is null for onIdle.
 */
function settle(env, value, newState = true) {
  if (ended) return;
  busy = false;
  if (env === null) {
    armIdle();
    if (cancelled) politeStop();
    return;
  }
  if (behaviour.stateful && newState) state = value;
  if (env[0] === K.CALL) native.replyHandled(env[4], env[2], replyText(value, K), ++handled); // the reply and the count at once
  else control[0] = ++handled;
  armIdle();
  if (cancelled) politeStop();
}

/** `idleTimeoutMs` without a message: `onIdle(ctx)` runs (and again after each idle period). */
function armIdle() {
  if (!spec.idleTimeoutMs || !behaviour.onIdle) return;
  runtimeClearTimeout(idleTimer);
  idleTimer = runtimeSetTimeout(() => {
    if (busy || ended || cancelled) return;
    busy = true;
    run(null, () => behaviour.onIdle(ctx));
  }, spec.idleTimeoutMs);
}

/**
 * The handler of `env` threw or rejected. With a crash policy (`onCrash`) the host decides:
 * `resume` drops the message and keeps this incarnation and its state; anything else ends it.
 */
function crashed(env, err) {
  if (ended) return;
  const reason = `error: ${describe(err)}`;
  if (!spec.onCrash || env === null) {
    fail(err);
    return;
  }
  const body = env[3];
  const g = generation;
  request({ op: 'crash', reason, message: env[0] === K.SYSTEM ? undefined : body }).then(
    (decision) => {
      if (g !== generation) return;
      if (decision === 'resume' && !ended) {
        if (env[0] === K.CALL) native.replyHandled(env[4], env[2], JSON.stringify([K.REPLY_ERR, reason]), ++handled);
        else control[0] = ++handled;
        busy = false;
        armIdle();
        if (cancelled) politeStop();
        else drain();
      } else {
        fail(err);
      }
    },
    () => {
      if (g === generation) fail(err);
    },
  );
}

/**
 * The incarnation ends with an error and the host applies the restart policy. The thread itself
 * is healthy (a throw is not a hang), so a callback or behaviour actor's thread scrubs itself
 * and offers itself for reuse; a module actor's thread is killed (its module state would
 * survive in the module cache).
 */
function fail(err) {
  if (ended) return;
  const reason = `error: ${describe(err)}`;
  if (spec === null || spec.source.kind === 'module') {
    ended = true;
    native.exitSelf(reason);
    return;
  }
  recycle();
  native.request(0, JSON.stringify({ op: 'exit', reason }));
}

/**
 * Leaves nothing of the ending incarnation in this thread: its self and ctx go stale (their
 * methods throw IncarnationEnded), pending replies and box waits are dropped, views of box
 * memory detached, the timers its code set cancelled, its state and behaviour forgotten. What a
 * new incarnation shares with it is what any two actors on one thread would share: the JS
 * runtime, modules it imported, and properties it put on globalThis.
 */
function recycle() {
  generation++;
  for (const p of pending.values()) {
    if (p.timer) runtimeClearTimeout(p.timer);
    p.unlisten?.();
    p.reject(new IncarnationEnded());
  }
  pending.clear();
  boxWaits.clear();
  views.detachAll();
  cancelUserTimers();
  runtimeClearTimeout(idleTimer);
  idleTimer = null;
  behaviour = null;
  state = undefined;
  self = null;
  ctx = null;
  regions = null;
  batch = null; // the core puts what this thread took and did not handle back in the mailbox
  busy = true; // until the next INIT
}

/** What an ended incarnation's self or ctx throws when used (e.g. from a leftover promise). */
class IncarnationEnded extends Error {
  constructor() {
    super('this actor incarnation has ended');
    this.name = 'IncarnationEnded';
  }
}

/** Every method of an incarnation's self and ctx starts here: throws once incarnation `g` ended. */
function live(g) {
  if (g !== generation) throw new IncarnationEnded();
}

// Timers set by actor code, so that recycle() can cancel them (lib/actor/user-timers.js).
const userTimers = { timers: new Map() };
let cancelTimers = null;

function cancelUserTimers() {
  cancelTimers(userTimers);
}

function describe(err) {
  return describeError(err, spec !== null && spec.source.kind !== 'module');
}

/**
 * Waits for the reply to a new correlation id. `send(c)` sends the request and returns an Error
 * if nothing could be sent. With `timeoutMs`, no reply in time rejects with `timeoutMessage`.
 */
function awaitReply(send, timeoutMs, timeoutMessage, signal) {
  return awaitPending(pending, ++corr, send, { timeoutMs, timeoutMessage, signal, timers: RUNTIME_TIMERS });
}

/** Asks the host to act for this actor (spawn, terminate a child, resources, crash policy). */
function request(body) {
  return awaitReply((c) => (native.request(c, JSON.stringify(body)) ? null : new Error('actor is not running')));
}

function makeSelf(g) {
  return Object.freeze({
    id: `actor-${spec.id}`,
    name: spec.name,
    /** Which incarnation this is: 0 at spawn, one more per restart (as the host's ref says). */
    incarnation: spec.incarnation,
    /** Emits a Tier 1 message `{ msg, data, from }` to subscribers; `from` is added by the core. */
    send(msg, data) {
      live(g);
      if (typeof msg !== 'string') throw new TypeError('self.send: msg must be a string');
      const head = JSON.stringify(msg);
      const text = data === undefined ? `[${head}]` : `[${head},${encode(data, 'self.send: data')}]`;
      outbox ??= new Outbox(control);
      return outbox.put(0, text) || native.emit(text); // through the outbox, like ctx.send
    },
  });
}


let lastTarget = Symbol('none'); // the last `actor-N` id given as a target, and its number (no value a caller passes)
let lastTargetId = 0;

function target(t, param) {
  if (t === lastTarget) return lastTargetId;
  const n = resolveTarget(t, spec.sup, param);
  if (typeof t === 'string' && t.startsWith('actor-')) {
    // an `actor-N` id never changes meaning; a name can move to another actor and an object's
    // `id` can be rewritten, so those are resolved each time (as lib/pool/worker.js does)
    lastTarget = t;
    lastTargetId = n;
  }
  return n;
}

/** `ctx.resources.<name>.<method>(...args)`: a request to the host, validated there. */
function makeResources(g) {
  return resourcesProxy(() => {
    if (g !== generation) throw new IncarnationEnded();
  }, request);
}

function makeCtx(g) {
  const resources = makeResources(g);
  return Object.freeze({
    self,
    fmt,
    get isCancelled() {
      live(g);
      return cancelled;
    },
    /**
     * Sends `msg` to another actor (FIFO per sender and receiver) through this thread's outbox.
     * False if the target is known to be dead for good; mail the core cannot deliver (dead
     * target, full mailbox) is reported to the supervisor as a dead letter.
     */
    send(to, msg) {
      live(g);
      let n = lastTargetId;
      if (to !== lastTarget) {
        const rid = remoteId(to); // the last target was local: a stream to it skips this
        if (rid !== null) return native.request(0, remoteRequest('send', { to: rid, body: encode(msg, 'ctx.send: msg') }));
        n = target(to, 'ctx.send: target');
      }
      const text = encode(msg, 'ctx.send: msg');
      outbox ??= new Outbox(control);
      if (outbox.put(n, text)) return !outbox.knownDead(n);
      return native.sendTo(n, text) === K.QUEUED;
    },
    /** Request-reply with another actor. */
    call(to, msg, options) {
      live(g);
      const rid = remoteId(to);
      const n = rid === null ? target(to, 'ctx.call: target') : 0;
      const { timeoutMs, signal } = callOptions(options, 'ctx.call: options');
      const body = encode(msg, 'ctx.call: msg');
      if (signal?.aborted) return Promise.reject(abortReason(signal)); // nothing is sent
      if (rid !== null) {
        const ask = (c) => (native.request(c, remoteRequest('call', { to: rid, body, timeoutMs })) ? null : new Error('actor is not running'));
        return awaitReply(ask, timeoutMs, `call to ${rid} timed out after ${timeoutMs} ms`, signal);
      }
      const send = (c) => {
        const code = native.call(n, c, body, port, 0);
        return code === K.QUEUED ? null : new ActorExitError(code === K.FULL ? 'mailbox full' : 'noproc');
      };
      return awaitReply(send, timeoutMs, `call to actor-${n} timed out after ${timeoutMs} ms`, signal);
    },
    /** Spawns a child supervised with this actor; resolves with its ref `{ id }`. */
    async spawn(actor, options) {
      live(g);
      const source = require('./source.js').actorSource(actor, 'ctx.spawn: actor'); // loaded on first use
      const id = await request({ op: 'spawn', source, options });
      return Object.freeze({ id });
    },
    /** Spawns `count` pooled children of one source (as sup.spawnMany); resolves with their refs. */
    async spawnMany(count, actor, options) {
      live(g);
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`ctx.spawnMany: count must be a non-negative safe integer (got ${typeof count === 'number' ? count : typeof count})`);
      }
      if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
        throw new TypeError('ctx.spawnMany: options must be an object');
      }
      const source = require('./source.js').actorSource(actor, 'ctx.spawnMany: actor');
      // the pool workers' batched form (lib/host/supervisor.js, _spawnChildren), with one item
      const [r] = await request({ op: 'spawns', sources: [source], options: [options ?? null], items: [0, 0, count] });
      if (typeof r === 'string') throw replyError(r);
      return r.map((num) => Object.freeze({ id: `actor-${num}` }));
    },
    /** Stops this actor (reason `normal`), or a child it spawned. */
    terminate(to) {
      live(g);
      if (to === undefined) {
        if (!ended) {
          ended = true;
          native.exitSelf('normal');
        }
        return Promise.resolve();
      }
      const id = `actor-${target(to, 'ctx.terminate: target')}`;
      return request({ op: 'terminate', target: id }).then(() => undefined);
    },
    /**
     * A crash from outside for a child it spawned (OTP's `exit(Pid, kill)`): the child's
     * incarnation is killed with `reason` and restarted by its policy. Resolves with true once
     * that incarnation is over, false if none was running.
     */
    kill(to, reason = 'killed') {
      live(g);
      const id = `actor-${target(to, 'ctx.kill: target')}`;
      if (typeof reason !== 'string' || reason.length === 0) throw new TypeError('ctx.kill: reason must be a non-empty string');
      return request({ op: 'kill', target: id, reason });
    },
    /** Links this actor with `to` (see ActorRef.link); throws `noproc` if `to` is not alive. */
    link(to) {
      live(g);
      const rid = remoteId(to);
      if (rid !== null) return void native.request(0, remoteRequest('link', { to: rid }));
      const n = target(to, 'ctx.link: target');
      try {
        native.link(spec.id, n);
      } catch {
        throw new Error(`ctx.link: actor-${n} is not alive (noproc)`);
      }
    },
    /** Removes a link. */
    unlink(to) {
      live(g);
      const rid = remoteId(to);
      if (rid !== null) return void native.request(0, remoteRequest('unlink', { to: rid }));
      native.unlink(spec.id, target(to, 'ctx.unlink: target'));
    },
    /** Watches `to`: a `DOWN` message arrives when it ends. Returns the monitor reference. */
    monitor(to) {
      live(g);
      const rid = remoteId(to);
      if (rid !== null) {
        const ref = remoteMonitorRef(spec.id, rid);
        native.request(0, remoteRequest('monitor', { to: rid, ref }));
        return ref;
      }
      return `ref-${native.monitor(spec.id, target(to, 'ctx.monitor: target'))}`;
    },
    /** Cancels a monitor; false if it already fired. */
    demonitor(ref) {
      live(g);
      if (isRemoteMonitorRef(ref)) return native.request(0, remoteRequest('demonitor', { ref }));
      return native.demonitor(monitorRef(ref, 'ctx.demonitor: ref'));
    },
    /** Exit signals of linked actors become `EXIT` messages instead of stopping this actor. */
    trapExits(on) {
      live(g);
      if (typeof on !== 'boolean') throw new TypeError('ctx.trapExits: on must be a boolean');
      native.trapExits(spec.id, on);
    },
    /** Registers this actor under `name` (unique per supervisor; follows it across restarts). */
    register(name) {
      live(g);
      if (typeof name !== 'string' || name.length === 0) throw new TypeError('ctx.register: name must be a non-empty string');
      try {
        native.register(spec.id, name);
      } catch (err) {
        throw new Error(`ctx.register: ${err.message}`);
      }
    },
    /** The actor registered under `name`, if any. */
    whereis(name) {
      live(g);
      if (typeof name !== 'string') throw new TypeError('ctx.whereis: name must be a string');
      const n = native.whereis(spec.sup, name);
      return n === null || n === undefined ? undefined : Object.freeze({ id: `actor-${n}` });
    },
    /** Host services: `await ctx.resources.<name>.<method>(...args)`. */
    resources,
    /** The SharedArrayBuffer of a shared region granted with the spawn option `regions`. */
    region(name) {
      live(g);
      if (typeof name !== 'string') throw new TypeError('ctx.region: name must be a string');
      if (regions === null || !Object.hasOwn(regions, name)) throw new Error(`region "${name}" is not granted to actor-${spec.id}`);
      return regions[name];
    },
    /** Tier 2 write: `{ msg, type, data, share, timeoutMs, wait }` → `Result<Lock>`. */
    write: (o) => (live(g), boxes.write(o)),
    /** Tier 2 zero-copy write: `Result<{ bytes, commit({ msg, type, share }), abort() }>`. */
    alloc: (size, options) => (live(g), boxes.alloc(size, options)),
    /** Tier 2 read of an INBOX message, a message carrying a handle, or a Lock; null otherwise. */
    read(m) {
      live(g);
      return tier2.read(spec.sup, m, views);
    },
    /** Gives this actor's reference to a box back (its views are detached first). */
    release(handle) {
      live(g);
      return tier2.release(spec.sup, handle, views);
    },
    /** The state of a stateful actor (what `init` or the last `handle` returned). */
    get state() {
      live(g);
      return state;
    },
    /** "Still alive": recorded in diagnostics. */
    heartbeat() {
      live(g);
      native.heartbeat(Date.now());
    },
    /** Lets other work of the thread run (pooled actors share theirs); here, a resolved promise. */
    yield() {
      live(g);
      return Promise.resolve();
    },
  });
}

cancelTimers = trackTimers(() => userTimers);
// An ended incarnation's leftover continuation that touches its stale ctx must not take down
// the incarnation now running in this thread; any other unhandled rejection still does.
process.on('unhandledRejection', (err) => {
  if (err instanceof IncarnationEnded) return;
  throw err;
});

control = native.registerPort(port, drain, true);
// A warm thread rehearses what its first actor will need, so that first-time costs are paid
// before spawn() waits for it: one start (compiling start, self, ctx and a callback: 0.4-0.7 ms
// on a fresh thread, mostly Bun), one wake-up through its port, and the clock the drain loop
// reads (Node loads `performance` on first use, about 1 ms). The rehearsal is scrubbed like an
// ended incarnation, before the port is drained, so a real INIT cannot arrive during it.
start({ id: 0, source: { kind: 'fn', code: '(self, msg) => msg' } }, 0);
recycle();
spec = null;
reportHeap();
drain();
native.wakeSelf(); // the rehearsal's wake-up and clock read (above)
performance.now();

/**
 * The heap is reported when the thread parks after handling messages, at most once a second
 * (a timer covers the last burst of a second); an idle thread sets no timer and wakes for
 * nothing (on Bun, measuring the heap walks it: about 1 ms per report).
 */
function heapSoon() {
  if (heapTimer !== null) return;
  const wait = heapAt + HEAP_EVERY_MS - performance.now();
  if (wait <= 0) return reportHeap();
  heapTimer = runtimeSetTimeout(() => {
    heapTimer = null;
    if (handled !== heapSeen) reportHeap();
  }, wait);
  heapTimer.unref?.();
}

/** Publishes this thread's JS heap in use (KiB) in control word 1, for diagnostics. */
function reportHeap() {
  heapSeen = handled;
  heapAt = performance.now();
  try {
    control[1] = Math.ceil(heapUsed() / 1024);
  } catch {
    // diagnostics only
  }
}

/** This thread's JS heap in use (bytes). Bun's heap statistics walk the heap (about 1 ms). */
function heapUsed() {
  if (process.versions.bun) return process.memoryUsage().heapUsed;
  return require('node:v8').getHeapStatistics().used_heap_size || process.memoryUsage().heapUsed;
}
