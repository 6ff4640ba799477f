'use strict';
// The host side: Supervisor and ActorRef. The host thread creates and kills actor threads,
// receives actors' events from its port in the Rust core, and restarts what dies according to
// the decision the core makes.

const native = require('../native.js');
const K = require('../port/kinds.js');
const { supervisorConfig, spawnOptions, groupOptions, groupSpec, regionSize, diagnosticsOptions } = require('./config.js');
const { callOptions, abortReason, listenAbort } = require('../call-options.js');
const { encode } = require('../codec.js');
const { actorSource } = require('../actor/source.js');
const { resolveTarget, monitorRef } = require('../targets.js');
const { ThreadPool } = require('./threads.js');
const { Ok, Err, systemMessage } = require('../result.js');
const { TimeoutError, ActorExitError } = require('../errors.js');
const { Spinner } = require('../port/spin.js');
const { PortReader } = require('../port/reader.js');
const { envelopeKind, settlePending } = require('../port/envelope.js');
const { Deadlines } = require('../port/deadlines.js');

// Longest the host thread waits in the core for replies and events in one go before its event
// loop gets a turn (the host is the application's main thread: keep its I/O flowing).
const HOST_MAX_WAIT_US = 200;
const HOST_DENSE_GAP_MS = 0.2;
const tasks = require('../tasks/index.js');
const tier2 = require('../tier2/index.js');
const { prepareResources, invoke, releaseAll } = require('./resources.js');
const { Metrics } = require('./metrics.js');
const { Pool } = require('../pool/host.js');
const mail = require('./mail.js');
const view = require('./inspect-view.js');

const diagnosticsChannel = require('node:diagnostics_channel');

const EVENTS = ['spawn', 'exit', 'restart', 'escalate', 'deadLetter', 'leaseExpired', 'error', 'workerLost'];
// Lifecycle events are also published on node:diagnostics_channel as `warden:<event>`.
const CHANNELS = Object.fromEntries(EVENTS.map((e) => [e, diagnosticsChannel.channel(`warden:${e}`)]));
const DECISIONS = ['restart', 'resume', 'stop', 'restartAll', 'stopAll', 'escalate'];
const FINISHED_KEPT = 10000; // finished ids remembered, so memory stays bounded
// The subscribers of an actor until it has some (a million pooled
// actors must not cost a million empty Sets). Never added to: replaced by a new Set first.
const NONE = new Set();
// What the core did with each actor of a `poolEnd` (src/pool.rs, PoolEnded.done)
const ENDED_NONE = 0;
const ENDED_RESTARTED = 1;
const ENDED_FINISHED = 2;
const CALL_FAILURE = { [K.DEAD]: 'noproc', [K.NOPROC]: 'noproc', [K.FULL]: 'mailbox full', [K.STALE]: 'stale incarnation' };

function decodeEnvelope(text) {
  if (!text) return undefined;
  const env = JSON.parse(text);
  const kind = envelopeKind(env);
  return { kind, from: env[1] === 0 ? 'host' : `actor-${env[1]}`, message: env[3] };
}

/** A host call's handler threw or its answer could not be sent: the reason as an Error. */
const hostReplyError = (reason) => new Error(reason);

/**
 * The host's record of one supervised actor. What most actors never need (a parent,
 * timers of a restart or a polite stop, a spare thread, a crash decision…) comes from defaults
 * on the prototype until set: a million pooled actors carry only the fields they use.
 */
class Entry {
  constructor(num, ref, origin) {
    this.num = num;
    this.ref = ref;
    this.origin = origin; // what it was spawned as (see Origin), shared by the actors of a spawnMany
    this.thread = null;
    this.incarnation = 0;
    this.worker = null; // pooled: the PoolWorker running the current incarnation
  }

  get source() {
    return this.origin.source;
  }

  get opts() {
    return this.origin.opts;
  }

  get group() {
    return this.origin.group;
  }

  get pooled() {
    return this.origin.pooled;
  }

  /** Pooled: the source as JSON (one string shared by a spawnMany). */
  get sourceText() {
    return this.origin.sourceText;
  }
}

/** What an actor was spawned as: its source, options and group (one object for many actors). */
class Origin {
  constructor(source, opts, group, sourceText) {
    this.source = source;
    this.opts = opts;
    this.group = group;
    this.pooled = opts.kind === 'pooled';
    this.sourceText = sourceText;
    this.traits = null; // what its actors' entries share (see _entryTraits), once worked out
  }
}

Object.assign(Entry.prototype, {
  parent: 0,
  reason: undefined, // why the host is ending the current incarnation
  startTimer: null, // pending backoff start
  spare: null, // its last thread, healthy after a throw, while the restart plan runs
  stopTimer: null, // pending kill of a polite stop
  templates: undefined, // pooled: ids of the current incarnation's spawn templates (see _template)
  decision: undefined, // the crash policy's answer for the incarnation that is ending
  hasOnTerminate: false,
  confirming: false, // pooled: waiting for its worker to say its views of boxes are gone
  suspect: false, // pooled: ended by its deadline while it awaited; counted in its worker's suspects until confirmed
  over: null, // pooled: resolves of those waiting for the current incarnation to end
});

/** Host-side handle of a supervised actor; stable across restarts. */
class ActorRef {
  constructor(sup, num, name) {
    if (name !== undefined) this.name = name;
    this._sup = sup;
    this._num = num;
  }

  /** `actor-<n>` (made on use: a million pooled refs keep no string each). */
  get id() {
    return `actor-${this._num}`;
  }

  /** Incarnation number (grows by one per restart). */
  get incarnation() {
    return native.incarnation(this._num) ?? this._finalIncarnation ?? 0;
  }

  /** Enqueues `msg`; false if the actor is dead for good, its mailbox is full, or the named incarnation is stale. */
  receive(msg, options) {
    let inc = -1;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw new TypeError('receive: options must be an object');
      if (options.incarnation !== undefined) {
        const i = options.incarnation;
        if (!Number.isInteger(i) || i < 0) throw new RangeError('receive: options.incarnation must be a non-negative integer');
        inc = i;
      }
    }
    const body = encode(msg, 'receive: msg');
    const sup = this._sup;
    // To a pooled actor the host knows alive, with a mailbox that cannot refuse, the answer is
    // already known (true): the message goes through the host's mail ring (lib/host/mail.js),
    // one native call per batch. Only the host ends an actor for good (`_finish`, a native call
    // that delivers the ring first), so the core cannot refuse it as dead before it arrives.
    if (inc < 0 && this._mail && this._finalIncarnation === undefined && sup._closing === null && mail.queue(sup._sid, this._num, body)) return true;
    return native.send(this._num, body, inc, sup._sid) === K.QUEUED;
  }

  /** Request-reply: resolves with the handler's return value. */
  call(msg, options) {
    const { timeoutMs, signal } = callOptions(options, 'call: options');
    const body = encode(msg, 'call: msg');
    if (signal?.aborted) return Promise.reject(abortReason(signal)); // nothing is sent
    return this._sup._call(this._num, body, timeoutMs, signal);
  }

  /** Tier 2 read from the host (see Supervisor.read). */
  read(msg) {
    return this._sup.read(msg);
  }

  /** Gives the host's reference to a box back. */
  release(handle) {
    return this._sup.release(handle);
  }

  /** Messages this actor emits with `self.send`. Returns the unsubscribe function. */
  subscribe(fn) {
    if (typeof fn !== 'function') throw new TypeError('subscribe: fn must be a function');
    if (this._subs === NONE) this._subs = new Set();
    this._subs.add(fn);
    return () => {
      this._subs.delete(fn);
    };
  }

  /** Kills the actor now, even inside `while(true){}`; never restarted. */
  terminate(reason = 'terminated') {
    if (typeof reason !== 'string') throw new TypeError('terminate: reason must be a string');
    return this._sup._terminate(this._num, reason, true);
  }

  /**
   * A crash from outside (OTP's `exit(Pid, kill)`): the current incarnation's thread is killed
   * now with `reason`, and the supervisor restarts the actor according to its restart type and
   * strategy (unlike `terminate()`, which stops it for good). Links and monitors see `reason`.
   * Resolves with true once that incarnation is over, false if none was running.
   */
  kill(reason = 'killed') {
    if (typeof reason !== 'string' || reason.length === 0) throw new TypeError('kill: reason must be a non-empty string');
    return this._sup._killFromOutside(this._num, reason);
  }

  /**
   * Links this actor and `other`: when one ends abnormally the other is stopped with
   * `linked: <reason>` (or gets an `EXIT` message if it traps exits).
   */
  link(other) {
    if (this._sup.cluster?.isRemote(other)) return this._sup.cluster.link(this._num, other);
    const n = resolveTarget(other, this._sup._sid, 'link: other');
    try {
      native.link(this._num, n);
    } catch {
      throw new RangeError(`link: ${this.id} or actor-${n} is not alive (noproc)`);
    }
  }

  /** Removes a link. */
  unlink(other) {
    if (this._sup.cluster?.isRemote(other)) return this._sup.cluster.unlink(this._num, other);
    native.unlink(this._num, resolveTarget(other, this._sup._sid, 'unlink: other'));
  }

  /** This actor watches `other`: it gets `DOWN { id, reason, ref }` when `other` ends. */
  monitor(other) {
    if (this._sup.cluster?.isRemote(other)) return this._sup.cluster.monitor(this._num, other);
    return `ref-${native.monitor(this._num, resolveTarget(other, this._sup._sid, 'monitor: other'))}`;
  }

  /** Cancels a monitor; false if it already fired. */
  demonitor(ref) {
    if (this._sup.cluster && typeof ref === 'string' && ref.includes('@')) return this._sup.cluster.demonitor(ref);
    return native.demonitor(monitorRef(ref, 'demonitor: ref'));
  }

  /** `Ok(diagnostics)` or `Err("Actor not found: id")` once dead for good. */
  getDiagnostics() {
    const text = native.actorDiagnostics(this._num);
    return text ? Ok(this._sup._withWorker(JSON.parse(text))) : Err(`Actor not found: ${this.id}`);
  }

  toJSON() {
    return { id: this.id };
  }

  /** `console.log(ref)`: `ActorRef { id, name, kind, incarnation, state }`, not the supervisor's internals. */
  [view.INSPECT]() {
    return view.refView(this, this.getDiagnostics());
  }
}
// Until set (a million pooled refs share these): no name, no subscribers, not dead for good.
ActorRef.prototype.name = undefined;
ActorRef.prototype._subs = NONE;
ActorRef.prototype._finalIncarnation = undefined; // set when it is dead for good
// `receive` may use the host's mail ring (lib/host/mail.js): a pooled actor whose mailbox never
// refuses (no capacity, or `drop-oldest`); set to false on the others' refs
ActorRef.prototype._mail = true;

/** A supervision group: its children restart together according to its strategy. */
class ActorGroup {
  constructor(sup, gid) {
    this.id = `group-${gid}`;
    this._sup = sup;
    this._gid = gid;
  }

  /** Spawns an actor in this group. */
  spawn(actor, options) {
    return this._sup._spawnIn(this._gid, actor, options);
  }

  /** Creates a nested group. */
  createGroup(options) {
    return this._sup._createGroup(options, this._gid);
  }

  /** Tier 2 read from the host (see Supervisor.read). */
  read(msg) {
    return this._sup.read(msg);
  }

  /** Gives the host's reference to a box back. */
  release(handle) {
    return this._sup.release(handle);
  }

  /** Stops every actor of this group (and its subgroups) for good, in reverse start order. */
  terminateAll(reason = 'shutdown') {
    if (typeof reason !== 'string') throw new TypeError('terminateAll: reason must be a string');
    return this._sup._terminateGroup(this._gid, reason);
  }

  /** `console.log(group)`: `ActorGroup { id, strategy }`. */
  [view.INSPECT]() {
    return view.groupView(this, this._strategy);
  }
}

/** The orchestrator: spawns actors, routes their events, restarts what dies. */
class Supervisor {
  constructor(config) {
    this._config = supervisorConfig(config);
    this._resources = prepareResources(this._config.resources); // validated before anything native exists
    this._metrics = new Metrics(this._config.diagnostics);
    const ids = native.createSupervisor(
      this._config.maxActors,
      groupSpec(this._config.strategy, this._config.retry),
      this._metrics.coreTracked(),
      this._metrics.rate,
    );
    this._sid = ids.id;
    this._port = ids.port;
    this._root = ids.root;
    this._groups = new Map(); // group id → ActorGroup
    this._policies = new Map([[ids.root, this._config.onCrash]]); // group id → onCrash
    this._views = new tier2.Views(); // views of box memory the host thread holds
    this._exiting = new Set(); // threads whose code is over but whose exit is not reported yet
    this._leaseExpiries = 0;
    this._regions = new Map(); // name → SharedArrayBuffer (sup.region), handed to granted actors
    this._warnedLoads = new Set(); // "actor url" of module load failures already printed
    const { poolSize, boxSize } = this._config.memory;
    if (poolSize > 0) {
      try {
        native.createPool(ids.id, poolSize, boxSize);
      } catch (err) {
        native.dropSupervisor(ids.id); // nothing native is left behind
        throw new RangeError(`memory: cannot map ${poolSize} boxes of ${boxSize} bytes (${err.message})`);
      }
    }
    this.id = `sup-${ids.id}`;
    this._entries = new Map();
    // ids of recently finished actors (so terminateActor knows them): the last FINISHED_KEPT to
    // 2 × FINISHED_KEPT, in two generations (evicting the oldest id of one Set one at a time
    // costs a scan over the holes its deletions left: quadratic over a million ends)
    this._finished = new Set();
    this._finishedBefore = new Set();
    this._subs = new Set();
    this._listeners = new Map(EVENTS.map((e) => [e, new Set()]));
    this._calls = new Map();
    // Timeouts of the calls in flight, one timer for all (lib/port/deadlines.js).
    this._deadlines = new Deadlines({
      live: (c) => this._calls.get(c.corr) === c,
      expire: (c) => {
        this._calls.delete(c.corr);
        c.unlisten?.();
        c.reject(new TimeoutError(`call to actor-${c.num} timed out after ${c.timeoutMs} ms`));
      },
      size: () => this._calls.size,
      unref: true,
    });
    this._corr = 0;
    this._closing = null;
    this._closed = false;
    // The host's port: events and replies for this supervisor (lib/port/reader.js).
    this._reader = new PortReader({
      take: () => native.hostTake(this._port),
      onEnvelope: (env) => this._onEvent(env),
      wait: (pollUs, sleepUs) => native.hostWait(this._port, pollUs, sleepUs),
      park: () => native.hostPark(this._port),
      open: () => !this._closed,
      awaiting: () => this._calls.size > 0,
      policy: new Spinner(HOST_MAX_WAIT_US, HOST_DENSE_GAP_MS),
      parkAfterJs: true, // a reply's `await` resumes before the park (lib/port/reader.js)
    });
    // Threads the pool stops are waited for like ended incarnations (shutdown, leak checks).
    this._pool = new ThreadPool(this._config.warmWorkers, (t) => this._reap(t));
    this._pooled = null; // pool workers of pooled actors (lib/pool/host.js), from the first pooled spawn
    // [0]: live pooled actors, counted here and by pool workers that spawn children by
    // themselves (lib/pool/worker.js, spawnAlone)
    this._pooledWords = new Int32Array(new SharedArrayBuffer(4));
    this._templates = null; // spawn template id → { origin, worker, parent } (see _template)
    this._texts = null; // pooled sources as JSON, one string each (see _sourceText)
    this._restarting = null; // pooled restarts gathered while a lost worker's actors exit (see _workerLost)
    this._lastOrigin = null; // the Origin of the last actor spawned alone (see _entry)
    /** This node of a cluster (DESIGN.md 9), when `config.cluster` is set. */
    this.cluster = this._config.cluster ? new (require('../cluster/index.js').Cluster)(this, this._config.cluster) : undefined;
    native.registerPort(this._port, this._reader.wakeWith, false);
    this._reader.drain();
    tasks.start(this); // tasks.minThreads: task threads from the start
  }

  // ---- public API ----------------------------------------------------------------------

  /** Spawns an actor from a callback or a module URL/path, in the root group. */
  spawn(actor, options) {
    return this._spawnIn(this._root, actor, options);
  }

  /**
   * Spawns `count` pooled actors of one source in the root group (docs/ARCHITECTURE.md,
   * Pooled actors) and returns their refs in spawn order. `options` are spawn options (`kind` is 'pooled'; `name` cannot
   * name many actors).
   */
  spawnMany(count, actor, options) {
    if (this._closing) throw new Error(`spawnMany: supervisor ${this.id} is shut down`);
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`spawnMany: count must be a non-negative safe integer (got ${typeof count === 'number' ? count : typeof count})`);
    }
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new TypeError('spawnMany: options must be an object');
    }
    const o = options ?? {};
    if (o.kind !== undefined && o.kind !== 'pooled') {
      throw new TypeError(`spawnMany: options.kind must be 'pooled' (spawnMany spawns pooled actors; got ${JSON.stringify(o.kind)})`);
    }
    if (o.name !== undefined) throw new TypeError('spawnMany: options.name cannot name many actors (spawn named actors one by one)');
    const source = actorSource(actor, 'spawnMany: actor');
    const opts = spawnOptions({ ...o, kind: 'pooled' }, this._config, this._regions);
    this._reservePooled(count);
    return count === 0 ? [] : this._spawnPooledMany(source, opts, this._root, count);
  }

  /**
   * A shared region: a SharedArrayBuffer of `size` bytes (a number or a string like "64kb") that
   * actors spawned with `regions: [name]` get with `ctx.region(name)`. Asking again for the same
   * name and size returns the same buffer. Regions live until shutdown.
   */
  region(name, size) {
    if (this._closing) throw new Error(`region: supervisor ${this.id} is shut down`);
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('region: name must be a non-empty string');
    const bytes = regionSize(size, 'region: size');
    const existing = this._regions.get(name);
    if (existing) {
      if (existing.byteLength !== bytes) {
        throw new Error(`region: "${name}" already exists with ${existing.byteLength} bytes (asked for ${bytes})`);
      }
      return existing;
    }
    let buffer;
    try {
      buffer = new SharedArrayBuffer(bytes);
    } catch (err) {
      throw new RangeError(`region: size: cannot allocate ${bytes} bytes for "${name}" (${err.message})`);
    }
    this._regions.set(name, buffer);
    return buffer;
  }

  /** Creates a supervision group: `{ strategy, retry, parent }` (parent: a group; default root). */
  createGroup(options) {
    return this._createGroup(options, undefined);
  }

  /** Stops the actor with `reason`; it is never restarted. */
  terminateActor(id, reason = 'terminated') {
    if (typeof reason !== 'string') throw new TypeError('terminateActor: reason must be a string');
    const num = resolveTarget(id, this._sid, 'terminateActor: id');
    if (!this._entries.has(num) && !this._finished.has(num) && !this._finishedBefore.has(num)) {
      throw new RangeError(`terminateActor: unknown actor "${typeof id === 'string' ? id : id?.id}"`);
    }
    return this._terminate(num, reason);
  }

  /**
   * The live actor registered under `name`, if any. With `options` (`{ wait }`, a cluster
   * only): a Promise that also looks for global names of other nodes (lib/cluster).
   */
  whereis(name, options) {
    if (options !== undefined) {
      if (!this.cluster) throw new TypeError('whereis: options apply to cluster names; this supervisor has no cluster');
      return this.cluster.whereis(name, options);
    }
    if (typeof name !== 'string') throw new TypeError('whereis: name must be a string');
    const num = native.whereis(this._sid, name);
    return num === null || num === undefined ? undefined : this._entries.get(num)?.ref;
  }

  /** Every Tier 1 message emitted by any actor. Returns the unsubscribe function. */
  subscribe(fn) {
    if (typeof fn !== 'function') throw new TypeError('subscribe: fn must be a function');
    this._subs.add(fn);
    return () => {
      this._subs.delete(fn);
    };
  }

  /** Lifecycle events. Returns the unsubscribe function. */
  on(event, fn) {
    const set = this._listeners.get(event);
    if (!set) throw new RangeError(`on: unknown event "${event}" (expected one of: ${EVENTS.join(', ')})`);
    if (typeof fn !== 'function') throw new TypeError('on: fn must be a function');
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /**
   * `Ok(SupervisorDiagnostics)`, exact for this supervisor. `options.actors`: every actor
   * (default), `false` (none), `'summary'` (`actorsByState` counts) or `{ offset, limit }`
   * (that page in start order).
   */
  getDiagnostics(options) {
    const text = native.supervisorDiagnostics(this._sid, diagnosticsOptions(options));
    if (!text) return Err(`Supervisor not found: ${this.id}`);
    const p = native.poolStats(this._sid);
    const memoryPool = p
      ? { ...p, utilization: p.poolSize ? p.boxesInUse / p.poolSize : 0, leaseExpiries: this._leaseExpiries }
      : { poolSize: 0, boxSize: this._config.memory.boxSize, boxesInUse: 0, utilization: 0, waitingWrites: 0, leaseExpiries: 0 };
    const { metrics: core, ...counts } = JSON.parse(text);
    if (this._pooled && Array.isArray(counts.actors)) counts.actors.forEach((d) => this._withWorker(d));
    return Ok({ id: this.id, ...counts, memoryPool, metrics: this._metrics.summary(core) });
  }

  /**
   * The live supervision tree: `{ type: 'group', id, strategy, children }` with children in
   * start order — actors carry their diagnostics (state, incarnation, mailboxDepth…).
   */
  inspect() {
    const text = native.inspect(this._sid);
    if (!text) return null;
    const tree = JSON.parse(text);
    if (this._pooled) {
      const walk = (node) => {
        if (node.type === 'actor') this._withWorker(node);
        else node.children?.forEach(walk);
      };
      walk(tree);
    }
    return view.withTreeView(tree); // console.log draws it as a tree
  }

  /** `console.log(sup)`: `Supervisor { id, state, activeActors, restarts }`. */
  [view.INSPECT]() {
    const state = this._closed ? 'shut down' : this._closing ? 'shutting down' : 'running';
    const d = this._closed ? null : this.getDiagnostics({ actors: false });
    return view.supervisorView(this, d?.isOk ? d.value : null, state);
  }

  /** Tier 2 read from the host (every box): a reader over the box memory, or null. */
  read(msg) {
    return tier2.read(this._sid, msg, this._views);
  }

  /** Gives the host's reference to a box back; false if it held none. */
  release(handle) {
    return tier2.release(this._sid, handle, this._views);
  }

  // ---- tasks: killable one-off computations on pooled task threads (lib/tasks/index.js) --------

  /** Runs `fn(input)` (a function, or a module URL/path exporting one) in a task thread. */
  task(fn, input, options) {
    return tasks.task(this, fn, input, options);
  }

  /** `all`, `allSettled`, `race`, `any` over promises and task descriptors; `stats()`. */
  get tasks() {
    return tasks.helpers(this);
  }

  /** Runs `fn` on every item in task threads, at most `concurrency` at once; ordered results. */
  map(items, fn, options) {
    return tasks.map(this, items, fn, options);
  }

  /** Like `map`, as an async iterator of the results in order. */
  mapStream(items, fn, options) {
    return tasks.mapStream(this, items, fn, options);
  }

  /** Stops every actor in reverse start order, then the warm threads. Idempotent. */
  shutdown() {
    if (!this._closing) this._closing = this._shutdown();
    return this._closing;
  }

  // ---- spawning and restarting ---------------------------------------------------------

  _spawnIn(group, actor, options) {
    if (this._closing) throw new Error(`spawn: supervisor ${this.id} is shut down`);
    const source = actorSource(actor, 'spawn: actor');
    const opts = spawnOptions(options ?? {}, this._config, this._regions);
    if (opts.kind === 'pooled') this._reservePooled(1);
    return this._spawn(source, opts, 0, group).ref;
  }

  /** Refuses `n` more pooled actors over `pool.maxActors`. */
  _reservePooled(n) {
    const max = this._config.pool.maxActors;
    if (Atomics.load(this._pooledWords, 0) + n > max) throw new Error(`Max pooled actors limit reached: ${max}`);
  }

  _leaseMs(opts) {
    if (opts.leaseMs !== undefined) return opts.leaseMs; // internal actors (task threads) set their own
    const t = this._config.timeouts;
    return (opts.name !== undefined ? t.actorTimeouts[opts.name] : undefined) ?? t.defaultLeaseMs;
  }

  _createGroup(options, parentId, internal = false) {
    if (this._closing) throw new Error(`createGroup: supervisor ${this.id} is shut down`);
    const o = groupOptions(options, this._config);
    let parent = parentId ?? this._root;
    if (o.parent !== undefined) {
      if (!(o.parent instanceof ActorGroup) || o.parent._sup !== this) {
        throw new TypeError('createGroup: options.parent must be a group of this supervisor');
      }
      parent = o.parent._gid;
    }
    const gid = native.createGroup(this._sid, parent, { ...groupSpec(o.strategy, o.retry), internal });
    const group = new ActorGroup(this, gid);
    group._strategy = o.strategy; // for its inspect view
    this._groups.set(gid, group);
    this._policies.set(gid, o.onCrash);
    return group;
  }

  async _terminateGroup(gid, reason) {
    const actors = native.actorsIn(this._sid, gid);
    for (let i = actors.length - 1; i >= 0; i--) await this._terminate(actors[i], reason);
  }

  /** The core's view of spawn options `opts` for an actor in `group`. */
  _coreSpawnConfig(opts, group) {
    return {
      name: opts.name,
      timeoutMs: opts.timeoutMs,
      heartbeatMs: opts.heartbeatMs,
      leaseMs: this._leaseMs(opts),
      restart: opts.restart,
      capacity: opts.capacity,
      overflow: opts.overflow,
      group,
      internal: opts.internal === true,
      pooled: opts.kind === 'pooled',
    };
  }

  _spawn(source, opts, parent, group) {
    let num;
    try {
      num = native.spawn(this._sid, this._coreSpawnConfig(opts, group));
    } catch (err) {
      throw new Error(err.message);
    }
    const entry = this._entry(num, source, opts, parent, group);
    this._start(entry);
    if (opts.global) this.cluster.claimGlobal(opts.name, num);
    if (!opts.internal) this._emit('spawn', { id: entry.ref.id, name: opts.name, parent: parent ? `actor-${parent}` : undefined });
    return entry;
  }

  /**
   * `count` pooled actors of one source in `group` (spawnMany): created in the core in one
   * call, then started on the pool workers in one call per worker.
   */
  _spawnPooledMany(source, opts, group, count, parent = 0) {
    let nums;
    try {
      nums = native.spawnMany(this._sid, this._coreSpawnConfig(opts, group), count);
    } catch (err) {
      throw new Error(err.message);
    }
    const origin = new Origin(source, opts, group, parent ? this._sourceText(source) : JSON.stringify(source));
    const entries = new Array(nums.length); // (nums: a Float64Array)
    const traits = (origin.traits = this._entryTraits(origin)); // (what _entry works out per actor, once for all)
    if (origin.pooled) Atomics.add(this._pooledWords, 0, nums.length);
    for (let i = 0; i < nums.length; i++) {
      // an id read from a Float64Array is a heap number: as an int32 (when it fits) it is stored
      // inline in the entry, the ref and the map, not as a boxed double in each
      const n = nums[i];
      entries[i] = this._listEntry(n <= 0x7fffffff ? n | 0 : n, origin, parent, traits);
    }
    this._placePooled(entries);
    const refs = new Array(entries.length);
    const listening = this._listeners.get('spawn').size > 0 || CHANNELS.spawn.hasSubscribers;
    const from = parent ? `actor-${parent}` : undefined;
    for (let i = 0; i < entries.length; i++) {
      refs[i] = entries[i].ref;
      if (listening) this._emit('spawn', { id: refs[i].id, name: undefined, parent: from });
    }
    return refs;
  }

  /** The host's record of a new actor spawned alone (no incarnation yet). */
  _entry(num, source, opts, parent, group) {
    const pooled = opts.kind === 'pooled';
    // actors spawned one by one alike (ctx.spawn children) share the last origin
    const last = this._lastOrigin;
    let origin = last;
    if (last === null || last.source !== source || last.opts !== opts || last.group !== group) {
      origin = this._lastOrigin = new Origin(source, opts, group, pooled ? this._sourceText(source) : undefined);
    }
    if (pooled) Atomics.add(this._pooledWords, 0, 1);
    return this._listEntry(num, origin, parent, (origin.traits ??= this._entryTraits(origin)));
  }

  /** What the entries of `origin`'s actors share (see _listEntry): worked out once for many. */
  _entryTraits(origin) {
    const { opts, source } = origin;
    return {
      mail: origin.pooled && !(opts.capacity > 0 && opts.overflow !== 'drop-oldest'), // (capacity 0: unbounded)
      hasOnTerminate: source.kind === 'behaviour' && 'onTerminate' in source.fns,
    };
  }

  /** A new entry for actor `num` of `origin` (spawned by actor `parent`, or 0), listed. */
  _listEntry(num, origin, parent, traits) {
    const entry = new Entry(num, new ActorRef(this, num, origin.opts.name), origin);
    if (!traits.mail) entry.ref._mail = false;
    if (parent) entry.parent = parent;
    if (traits.hasOnTerminate) entry.hasOnTerminate = true;
    this._entries.set(num, entry);
    return entry;
  }

  /**
   * A pooled source as JSON, one string per distinct source (children spawned one by one with
   * ctx.spawn share it instead of holding a copy each); at most 1000 remembered.
   */
  _sourceText(source) {
    const text = JSON.stringify(source);
    this._texts ??= new Map();
    const known = this._texts.get(text);
    if (known !== undefined) return known;
    if (this._texts.size >= 1000) this._texts.clear();
    this._texts.set(text, text);
    return text;
  }

  _start(entry) {
    if (entry.pooled) {
      this._placePooled([entry]);
      return;
    }
    const thread = entry.spare ?? this._pool.acquire(entry.opts.resourceLimits, entry.opts.thread);
    entry.spare = null;
    entry.thread = thread;
    entry.reason = undefined;
    thread.onExit = (t) => this._threadExited(entry, t);
    const init = JSON.stringify({
      id: entry.num,
      sup: this._sid,
      name: entry.opts.name,
      source: entry.source,
      idleTimeoutMs: entry.opts.idleTimeoutMs,
      leaseMs: this._leaseMs(entry.opts),
      onCrash: typeof this._policies.get(entry.group) === 'function',
      regions: entry.opts.regions,
    });
    if (entry.opts.regions) {
      // Set-up, not messaging: a SharedArrayBuffer cannot travel through the core, so each
      // incarnation gets its regions once through the thread's own port, before its INIT.
      const regions = {};
      for (const name of entry.opts.regions) regions[name] = this._regions.get(name);
      thread.worker.postMessage({ regions });
    }
    entry.incarnation = native.bind(entry.num, thread.port, init);
  }

  // ---- pooled actors (docs/ARCHITECTURE.md, Pooled actors) --------------------------------

  /**
   * Starts pooled incarnations on pool workers (the less loaded of two each): one native call
   * per worker and run of entries sharing a start descriptor; a worker gets each source once.
   */
  _placePooled(entries) {
    this._pooled ??= new Pool(this._config.pool, (w, cause, culprit, inc) => this._workerLost(w, cause, culprit, inc), this._pooledWords);
    const byWorker = new Map();
    for (const e of entries) {
      const w = this._pooled.pick(e.parent ? this._entries.get(e.parent)?.worker : undefined);
      e.thread = w.thread;
      e.worker = w;
      if (e.reason !== undefined) e.reason = undefined;
      w.members.add(e);
      const list = byWorker.get(w);
      if (list) list.push(e);
      else byWorker.set(w, [e]);
    }
    for (const [w, list] of byWorker) {
      for (let i = 0; i < list.length; ) {
        const e = list[i];
        const { key, fresh } = this._pooled.sourceKey(w, e.sourceText);
        const spec = { sup: this._sid, key, onCrash: typeof this._policies.get(e.group) === 'function', leaseMs: this._leaseMs(e.opts) };
        if (e.opts.name !== undefined) spec.name = e.opts.name;
        if (e.opts.idleTimeoutMs) spec.idleTimeoutMs = e.opts.idleTimeoutMs;
        if (e.opts.regions) {
          spec.regions = e.opts.regions;
          this._postRegions(w, e.opts.regions);
        }
        if (e.source.kind === 'module') spec.module = true;
        if (fresh) spec.source = e.source;
        let j = i + 1;
        if (!fresh && e.opts.name === undefined) {
          while (j < list.length && list[j].origin === e.origin) j++; // (alike: one spawnMany, or spawned alone alike)
        }
        const nums = new Array(j - i);
        for (let k = i; k < j; k++) nums[k - i] = list[k].num;
        const incs = native.poolBind(nums, w.thread.port, JSON.stringify(spec));
        for (let k = 0; k < incs.length; k++) if (incs[k] >= 0) list[i + k].incarnation = incs[k];
        i = j;
      }
    }
  }

  /**
   * Set-up, not messaging: a SharedArrayBuffer cannot travel through the core, so each shared
   * region goes to a pool worker once, through the thread's own port, before the first start
   * order that needs it.
   */
  _postRegions(w, names) {
    const fresh = names.filter((n) => !w.regions.has(n));
    if (fresh.length === 0) return;
    const regions = {};
    for (const name of fresh) {
      regions[name] = this._regions.get(name);
      w.regions.add(name);
    }
    w.thread.worker.postMessage({ regions });
  }

  /**
   * Ends a pooled incarnation now: its worker drops its slot between messages (`tell`: unless
   * the worker already did), and the supervisor applies the policy. The worker goes on. An
   * actor holding boxes ends only once its worker says its views of them are detached (a
   * `stopped` request), so no view ever shows a box after it is reused (docs/ARCHITECTURE.md, Invariants).
   */
  _endPooled(entry, reason, tell = true, confirm = false) {
    if (!entry.thread) return;
    const r = entry.reason ?? reason;
    if (tell && (entry.confirming || confirm || native.poolHoldsBoxes(entry.num))) {
      if (entry.confirming) return; // it ends when its worker confirms, or with its worker
      entry.confirming = true;
      entry.reason = r;
      native.poolStop(entry.num, JSON.stringify({ reason: r, confirm: true }));
      return;
    }
    if (tell) native.poolStop(entry.num, JSON.stringify(r));
    if (entry.suspect) {
      entry.suspect = false;
      entry.worker.suspects--;
    }
    entry.worker.members.delete(entry);
    entry.thread = null;
    entry.worker = null;
    this._incarnationOver(entry, r);
  }

  /**
   * A pool worker must go (a handler stuck past its deadline cannot be interrupted in JS, or
   * the thread died): it is killed and replaced; the culprit exits with `timeout`, every other
   * actor on it with `worker_lost` (restarted at once, outside intensity and backoff); their
   * mailboxes are kept. One `workerLost` event says what happened. `inc`, when given, is the
   * culprit's stuck incarnation: a later one (started after a deadline ended that one) is
   * collateral.
   */
  async _workerLost(w, cause, culprit, inc) {
    if (w.lost) return;
    this._pooled.replace(w); // its replacement starts now, while this one is killed and its actors exit
    const thread = w.thread;
    this._exiting.add(thread); // shutdown waits for it
    // (awaited: until the thread is gone, a handler it already started could still finish, and
    // the views it holds of boxes must be gone before those boxes are given back)
    await thread.kill();
    this._exiting.delete(thread);
    const members = [...w.members].filter((e) => e.thread === thread);
    w.members.clear();
    const guilty = (e) => e.num === culprit && (inc === undefined || e.incarnation === inc);
    // Most end together in one native call, the culprit first (`timeout`); the few the host was
    // already ending (with a reason of their own) or a crash policy decided about end alone
    const together = [];
    const alone = [];
    for (const e of members) {
      e.suspect = false;
      if (e.decision !== undefined || (e.reason !== undefined && !guilty(e))) alone.push(e);
      else if (guilty(e)) together.unshift(e);
      else together.push(e);
    }
    // The restarts their policies start at once are gathered and placed together: one start
    // order per worker and run of actors sharing a spec, instead of one per actor
    const restarting = (this._restarting = []);
    try {
      const first = together.length > 0 && guilty(together[0]) ? 'timeout' : undefined;
      for (const e of this._endPooledMany(together, 'worker_lost', first, false)) alone.push(e);
      for (const e of alone) {
        e.thread = null;
        e.worker = null;
        this._incarnationOver(e, guilty(e) ? 'timeout' : (e.reason ?? 'worker_lost'));
      }
    } finally {
      this._restarting = null;
    }
    this._restartPooled(restarting);
    this._emit('workerLost', {
      worker: w.index,
      cause,
      culprit: culprit ? `actor-${culprit}` : undefined,
      actors: members.map((e) => e.ref.id),
    });
  }

  /**
   * Ends the current incarnations of many pooled `entries` at once (a lost worker's, or a run
   * of them at shutdown): one native call for all (crate/src/pooled.rs, pool_end), which also
   * carries out the usual plans (a restart now, gathered in `_restarting` for one placement;
   * the end for good), then per entry only the host's own bookkeeping, each `exit` event only
   * when someone listens, and any other plan as `_incarnationOver` would. The first entry ends
   * with `first` when given (a lost worker's culprit), the others with `reason`. `alive`: their
   * worker still runs (it gets one stop order for all of them). Returns the entries the core
   * left alone (an actor holding boxes on a live worker): the caller ends them one by one.
   * Only for entries with no end in progress and no crash decision pending.
   */
  _endPooledMany(entries, reason, first, alive) {
    if (entries.length === 0) return [];
    const ids = new Float64Array(entries.length);
    for (let i = 0; i < entries.length; i++) ids[i] = entries[i].num;
    const out = native.poolEnd(ids, reason, first, alive);
    const done = out.done;
    const left = [];
    const listening = this._listeners.get('exit').size > 0 || (CHANNELS.exit.hasSubscribers && this._config.diagnostics.enabled);
    const restarting = this._restarting;
    let f = 0; // next in-flight message
    let p = 0; // next plan
    let finished = 0;
    let planned; // [entry, reason, plan, …]
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const what = done[i];
      if (what === ENDED_NONE) {
        left.push(e);
        continue;
      }
      const why = i === 0 && first !== undefined ? first : reason;
      if (e.stopTimer !== null) {
        clearTimeout(e.stopTimer);
        e.stopTimer = null;
      }
      if (e.suspect) {
        e.suspect = false;
        e.worker.suspects--;
      }
      // (a lost worker's member set goes with it, and at shutdown every worker's does)
      if (alive && this._closing === null) e.worker.members.delete(e);
      e.thread = null;
      e.worker = null;
      if (e.confirming) e.confirming = false;
      const waiting = e.over;
      if (waiting !== null) {
        e.over = null;
        for (const resolve of waiting) resolve();
      }
      let inFlight;
      if (out.inFlightAt[f] === i) inFlight = out.inFlight[f++];
      if (listening && !e.opts.internal) this._emit('exit', { id: e.ref.id, reason: why, incarnation: e.incarnation, message: decodeEnvelope(inFlight) });
      if (what === ENDED_RESTARTED) {
        e.exitedAt = this._metrics.sample('restartLatency') ? performance.now() : 0;
        if (restarting !== null) restarting.push(e, why);
        else this._restartPooled([e, why]);
      } else if (what === ENDED_FINISHED) {
        this._forget(e, false);
        finished++;
      } else {
        e.exitedAt = this._metrics.sample('restartLatency') ? performance.now() : 0;
        (planned ??= []).push(e, why, out.plans[p++]);
      }
    }
    if (finished > 0) this._forgetMany(entries, done, finished);
    // Other plans run once every entry here is over: one may stop others of them (the group
    // of a culprit over its intensity), which are then between incarnations, not ended twice
    for (let k = 0; planned !== undefined && k < planned.length; k += 3) {
      this._run(JSON.parse(planned[k + 2]), planned[k + 1], planned[k]).catch((err) => this._emit('error', { reason: 'plan failed', error: err }));
    }
    return left;
  }

  /**
   * Takes the `finished` entries of `entries` that a `poolEnd` ended for good (`done`) out of
   * `_entries`: deleting them one by one from a map of a million is a cache miss or more each,
   * so when they are many the map is rebuilt in one sequential pass (or emptied).
   */
  _forgetMany(entries, done, finished) {
    // (only the last FINISHED_KEPT can be remembered: the others would be forgotten at once)
    for (let i = entries.length - 1, k = 0; i >= 0 && k < FINISHED_KEPT; i--) {
      if (done[i] === ENDED_FINISHED) {
        this._noteFinished(entries[i].num);
        k++;
      }
    }
    const map = this._entries;
    if (finished === map.size) {
      map.clear();
    } else if (finished * 4 >= map.size) {
      const kept = new Map();
      for (const [num, e] of map) if (e.ref._finalIncarnation === undefined) kept.set(num, e);
      this._entries = kept;
    } else {
      for (let i = 0; i < entries.length; i++) if (done[i] === ENDED_FINISHED) map.delete(entries[i].num);
    }
  }

  /**
   * A pooled actor's per-message deadline (`timeoutMs`) passed. If its handler runs
   * synchronously now, its worker is stuck in it and goes at once (the actor exits with
   * `timeout`, the others on it with `worker_lost`). Otherwise its handler awaits, and a
   * continuation of it may be what holds the worker, which cannot be told from here: the
   * incarnation ends (`timeout`) once its worker confirms it dropped the slot, so the next one
   * never starts behind a stuck continuation. Until then the worker is suspect: the watchdog
   * replaces it after a shorter stall than usual (lib/pool/host.js), and the actor exits with
   * `timeout` then, its in-flight message reported as for any deadline.
   */
  _deadlinePooled(entry) {
    const w = entry.worker;
    if (Atomics.load(w.watch, 0) === (entry.num | 0)) { // the word holds an id's low 32 bits (lib/pool/host.js memberId)
      this._workerLost(w, 'timeout', entry.num);
      return;
    }
    entry.reason = 'timeout'; // a deadline overrides a polite stop in progress
    if (!entry.suspect) {
      entry.suspect = true;
      w.suspects++;
    }
    this._endPooled(entry, 'timeout', true, true);
  }

  /**
   * Resolves when pooled incarnation `inc` is over (at once if it is; a polite stop or a
   * confirmed one ends later, or with its worker). A restart may already have started the next
   * one on the same worker.
   */
  _pooledOver(entry, inc) {
    if (entry.thread === null || entry.incarnation !== inc) return undefined;
    return new Promise((resolve) => (entry.over ??= []).push(resolve));
  }

  /** Adds the pool worker's index to a pooled actor's diagnostics. */
  _withWorker(d) {
    if (d?.kind === 'pooled') {
      const entry = this._entries.get(Number(d.id.slice(6)));
      if (entry?.worker) d.worker = entry.worker.index;
    }
    return d;
  }

  /** Waits for `thread` to exit before shutdown resolves (see `_exiting`). */
  _reap(thread) {
    this._exiting.add(thread);
    thread.exited.then(() => this._exiting.delete(thread));
  }

  _threadExited(entry, thread) {
    if (entry.thread !== thread) return;
    entry.thread = null;
    this._incarnationOver(entry, entry.reason ?? reasonOf(thread));
  }

  /**
   * The actor's handler failed and its thread scrubbed itself (lib/actor/worker.js `recycle`): the
   * thread is healthy, so instead of killing it the incarnation ends here and the thread goes
   * back to the warm pool, first in line — usually straight to the next incarnation. Module
   * actors and threads with resourceLimits are not reused (a module's top-level state would
   * survive; limits belong to the actor): they are killed as before, as is a thread the host
   * was already ending.
   */
  _selfExit(entry, reason) {
    if (entry.pooled) {
      this._endPooled(entry, reason, false); // its worker dropped the slot and goes on
      return;
    }
    const thread = entry.thread;
    if (!thread) return;
    if (entry.reason !== undefined || entry.source.kind === 'module' || entry.opts.resourceLimits || this._closing) {
      this._kill(entry, reason);
      return;
    }
    entry.thread = null;
    thread.onExit = null;
    entry.spare = thread; // an immediate restart (the usual plan) starts on it
    this._incarnationOver(entry, reason);
    if (entry.spare === thread) {
      entry.spare = null;
      this._pool.adopt(thread); // kept warm, or stopped if the pool is full
    }
  }

  /** Reports the incarnation's end to the core and carries out the plan it returns. */
  _incarnationOver(entry, reason) {
    if (entry.templates !== undefined) this._forgetTemplates(entry);
    clearTimeout(entry.stopTimer);
    entry.stopTimer = null;
    if (entry.pooled) {
      entry.confirming = false;
      const waiting = entry.over;
      entry.over = null;
      if (waiting !== null) for (const resolve of waiting) resolve();
    }
    const decision = entry.decision;
    entry.decision = undefined;
    const out = native.threadGone(entry.num, reason, decision);
    if (!out) return;
    if (!entry.opts.internal) {
      this._emit('exit', { id: entry.ref.id, reason, incarnation: out.incarnation, message: decodeEnvelope(out.inFlight) });
    }
    entry.exitedAt = this._metrics.sample('restartLatency') ? performance.now() : 0;
    // the usual plan (a restart of this actor alone, now: every collateral exit of a lost pool
    // worker) is carried out without parsing it
    if (restartsAtOnce(out.plan, entry.num)) this._scheduleStart(entry, 0, reason);
    else this._run(JSON.parse(out.plan), reason, entry).catch((err) => this._emit('error', { reason: 'plan failed', error: err }));
  }

  /**
   * Carries out a plan from the core, in order: stops (each awaited, in the reverse start
   * order the core chose), starts (after their backoff delay), final ends, escalations.
   */
  async _run(plan, cause, failed) {
    const stopped = []; // what this plan ended, named in an intensity_exceeded error
    for (const [op, a, b] of plan) {
      const entry = this._entries.get(a);
      if (op === 'stop') {
        if (entry) {
          if (!entry.opts.internal) stopped.push(entry.ref.id);
          await this._halt(entry, b);
        }
      } else if (op === 'start') {
        if (entry) this._scheduleStart(entry, b, cause);
      } else if (op === 'finish') {
        if (entry) this._finish(entry, b);
      } else if (op === 'escalate') {
        this._emit('escalate', { id: `group-${a}`, reason: b });
      } else if (op === 'gaveUp') {
        this._emit('error', { reason: 'intensity_exceeded', cause: a, id: failed?.ref.id, stopped });
      }
    }
  }

  _scheduleStart(entry, delayMs, cause) {
    const start = () => {
      entry.startTimer = null;
      if (this._closing || !this._entries.has(entry.num) || entry.thread) return;
      native.restart(entry.num);
      if (this._restarting !== null && entry.pooled) {
        this._restarting.push(entry, cause); // placed with the others (_workerLost)
        return;
      }
      this._start(entry);
      if (entry.exitedAt) this._metrics.record('restartLatency', performance.now() - entry.exitedAt);
      if (!entry.opts.internal) this._emit('restart', { id: entry.ref.id, incarnation: entry.incarnation, reason: cause });
    };
    if (delayMs > 0) entry.startTimer = setTimeout(start, delayMs);
    else start();
  }

  /**
   * Starts gathered pooled restarts (`[entry, cause, …]`) in one placement, then reports each
   * as `_scheduleStart` does. An entry ended meanwhile (by a listener of an exit event) or
   * already started is left out.
   */
  _restartPooled(list) {
    if (list.length === 0 || this._closing) return;
    const entries = [];
    const causes = [];
    for (let i = 0; i < list.length; i += 2) {
      const e = list[i];
      if (e.ref._finalIncarnation !== undefined || e.thread) continue; // (ended for good, or started)
      entries.push(e);
      causes.push(list[i + 1]);
    }
    this._placePooled(entries);
    const listening = this._listeners.get('restart').size > 0 || CHANNELS.restart.hasSubscribers;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.exitedAt) this._metrics.record('restartLatency', performance.now() - e.exitedAt);
      if (listening && !e.opts.internal) this._emit('restart', { id: e.ref.id, incarnation: e.incarnation, reason: causes[i] });
    }
  }

  /** Ends the current incarnation as part of a plan (its exit is not a new failure). */
  async _halt(entry, reason) {
    if (entry.thread) {
      const thread = entry.thread;
      const inc = entry.incarnation;
      this._end(entry, reason, false);
      await (entry.pooled ? this._pooledOver(entry, inc) : thread.gone);
    } else {
      // Between incarnations (crashed on its own, or waiting for a backoff): the plan that
      // holds it starts it again; an earlier pending start is superseded.
      clearTimeout(entry.startTimer);
      entry.startTimer = null;
    }
  }

  _finish(entry, reason) {
    native.finish(entry.num, reason); // undelivered mail comes back as deadLetter events
    this._forget(entry);
  }

  /**
   * The host's part of an actor's end for good (the core's is done). `unlist`: false when the
   * caller takes it out of `_entries` and notes it finished itself (see `_forgetMany`).
   */
  _forget(entry, unlist = true) {
    entry.ref._finalIncarnation = entry.incarnation;
    if (unlist) {
      this._entries.delete(entry.num);
      this._noteFinished(entry.num);
    }
    if (entry.pooled) Atomics.sub(this._pooledWords, 0, 1);
  }

  // ---- stopping ------------------------------------------------------------------------

  /** Remembers that actor `num` finished (see `_finished`). */
  _noteFinished(num) {
    if (this._finished.size >= FINISHED_KEPT) {
      this._finishedBefore = this._finished;
      this._finished = new Set();
    }
    this._finished.add(num);
  }

  /** Kills the current incarnation's thread now. */
  _kill(entry, reason) {
    if (!entry.thread) return;
    if (entry.pooled) {
      this._endPooled(entry, reason);
      return;
    }
    entry.reason ??= reason;
    entry.thread.kill();
  }

  /**
   * Ends the current incarnation honouring its shutdown kind: `brutal` kills at once; a number
   * of ms (or `infinity`) asks politely (`ctx.isCancelled`, `onTerminate`) and kills when the
   * time is up. Actors with an onTerminate hook default to 5000 ms, others to brutal.
   */
  _end(entry, reason, brutal) {
    if (!entry.thread) return;
    const kind = entry.opts.shutdown ?? (entry.hasOnTerminate ? 5000 : 'brutal');
    if (entry.pooled) {
      if (brutal || kind === 'brutal' || entry.reason !== undefined) {
        this._endPooled(entry, reason); // between its messages
        return;
      }
      // Politely: its worker runs onTerminate between messages and reports the exit (K.EXIT)
      entry.reason = reason;
      if (!native.poolStop(entry.num, JSON.stringify({ reason, polite: true }))) {
        this._endPooled(entry, reason);
        return;
      }
      if (kind !== 'infinity') entry.stopTimer = setTimeout(() => this._endPooled(entry, reason), kind);
      return;
    }
    if (brutal || kind === 'brutal' || entry.reason !== undefined) {
      this._kill(entry, reason);
      return;
    }
    entry.reason = reason;
    if (!native.stopActor(entry.num, reason)) {
      entry.thread.kill();
      return;
    }
    if (kind !== 'infinity') {
      const thread = entry.thread;
      entry.stopTimer = setTimeout(() => thread.kill(), kind);
    }
  }

  async _stop(entry, reason, brutal = false) {
    native.requestStop(entry.num);
    const thread = entry.thread;
    if (thread) {
      const inc = entry.incarnation;
      this._end(entry, reason, brutal);
      await (entry.pooled ? this._pooledOver(entry, inc) : thread.exited);
    } else if (this._entries.has(entry.num)) {
      clearTimeout(entry.startTimer);
      entry.startTimer = null;
      native.threadGone(entry.num, reason);
      this._finish(entry, reason);
    }
  }

  /** A crash from outside: kills the current incarnation with `reason`; the policy decides. */
  async _killFromOutside(num, reason) {
    const entry = this._entries.get(num);
    const thread = entry?.thread;
    if (!thread) return false;
    const inc = entry.incarnation;
    this._kill(entry, reason);
    await (entry.pooled ? this._pooledOver(entry, inc) : thread.gone);
    return true;
  }

  /**
   * At shutdown: whether `entry` is a pooled actor whose incarnation can end at once with
   * others (it runs, ends brutally, and nothing is ending it already).
   */
  _endsTogether(entry) {
    if (!entry.pooled || entry.thread === null || entry.reason !== undefined || entry.confirming) return false;
    if (entry.decision !== undefined || entry.ref._finalIncarnation !== undefined) return false;
    return (entry.opts.shutdown ?? (entry.hasOnTerminate ? 5000 : 'brutal')) === 'brutal';
  }

  async _terminate(num, reason, brutal = false) {
    const entry = this._entries.get(num);
    if (entry) await this._stop(entry, reason, brutal);
  }

  async _shutdown() {
    native.beginClose(this._sid);
    await tasks.close(this); // task threads first: their tasks reject, then they are killed
    // In reverse start order; each run of pooled actors that end at once (no polite stop, no
    // end in progress) ends with one native call (a million of them in about a second)
    const entries = [...this._entries.values()];
    for (let i = entries.length - 1; i >= 0; ) {
      let j = i;
      while (j >= 0 && this._endsTogether(entries[j])) j--;
      if (j === i) {
        await this._stop(entries[i--], 'shutdown');
        continue;
      }
      const run = new Array(i - j);
      for (let k = i; k > j; k--) run[i - k] = entries[k];
      i = j;
      // (an actor holding boxes is left alone: it ends once its worker detached its views)
      for (const e of this._endPooledMany(run, 'shutdown', undefined, true)) await this._stop(e, 'shutdown');
    }
    await this._pool.close();
    await this._pooled?.close();
    await Promise.all([...this._exiting].map((t) => t.exited)); // incarnations that ended early
    await this.cluster?.close(); // after the actors: their exits reach remote links and monitors
    this._reader.drain();
    for (const c of this._calls.values()) {
      c.unlisten?.();
      c.reject(new ActorExitError('shutdown'));
    }
    this._calls.clear();
    this._deadlines.clear();
    await releaseAll(this._resources, (name, error) =>
      this._emit('error', { reason: `resource ${name}: release failed: ${error?.message ?? error}`, error }),
    );
    this._closed = true;
    this._regions.clear();
    native.dropSupervisor(this._sid);
  }

  // ---- messages ------------------------------------------------------------------------

  _call(num, body, timeoutMs, signal) {
    return new Promise((resolve, reject) => {
      const corr = ++this._corr;
      const code = native.call(num, corr, body, this._port, this._sid);
      if (code !== K.QUEUED) {
        reject(new ActorExitError(CALL_FAILURE[code]));
        return;
      }
      // (no timer of its own: the call's deadline goes to the supervisor's one queue)
      const entry = { resolve, reject, timer: null, t0: 0, unlisten: null, corr, num, timeoutMs };
      // aborted: rejected now; the reply, if it still comes, finds no entry and is dropped
      if (signal) {
        entry.unlisten = listenAbort(signal, (reason) => {
          this._calls.delete(corr);
          reject(reason);
        });
      }
      entry.t0 = this._metrics.sample('callLatency') ? performance.now() : 0;
      this._calls.set(corr, entry);
      this._deadlines.add(entry, timeoutMs);
    });
  }

  _onEvent(env) {
    const kind = envelopeKind(env);
    const from = env[1];
    const corr = env[2];
    const body = env[3];
    switch (kind) {
      case K.EMIT: {
        const m = Object.freeze({ msg: body[0], data: body.length > 1 ? body[1] : undefined, from: `actor-${from}` });
        const entry = this._entries.get(from);
        if (entry) for (const fn of entry.ref._subs) this._safe(fn, m);
        for (const fn of this._subs) this._safe(fn, m);
        return;
      }
      case K.REPLY: {
        const c = settlePending(this._calls, corr, body, hostReplyError, clearTimeout); // a late reply is dropped
        if (c?.t0) this._metrics.record('callLatency', performance.now() - c.t0);
        return;
      }
      case K.EXIT:
      case K.TIMEOUT: {
        const entry = this._entries.get(from);
        if (!entry || entry.incarnation !== corr || !entry.thread) return;
        if (kind === K.TIMEOUT && entry.pooled) {
          this._deadlinePooled(entry);
          return;
        }
        if (kind === K.TIMEOUT) entry.reason = undefined; // a deadline overrides a polite stop in progress
        this._kill(entry, kind === K.TIMEOUT ? 'timeout' : body);
        return;
      }
      case K.THREAD_ENDED: {
        // The thread's JS environment is gone. When the host ended it (so the reason is known),
        // the next incarnation need not wait for the runtime to report the worker's exit.
        const entry = this._entries.get(from);
        const thread = entry?.thread;
        if (thread?.port !== body || entry.incarnation !== corr || entry.reason === undefined) return;
        this._reap(thread); // shutdown still waits for its exit
        thread.ended();
        return;
      }
      case K.DOWN: {
        const entry = this._entries.get(corr);
        if (!entry) return;
        const m = systemMessage(body.msg, body.data);
        for (const fn of entry.ref._subs) this._safe(fn, m);
        return;
      }
      case K.LEASE_EXPIRED:
        this._leaseExpiries++;
        this._emit('leaseExpired', { id: `actor-${from}`, boxIndex: body[0], epoch: body[1], role: body[2] });
        return;
      case K.DEAD_LETTER:
        this._emit('deadLetter', {
          to: `actor-${corr}`,
          from: from ? `actor-${from}` : 'host',
          message: body[1] ?? undefined,
          reason: body[0],
        });
        return;
      case K.PANIC: // the core caught a panic of its own and went on
        this._emit('error', { reason: body });
        return;
      case K.REQUEST: {
        const op = body[1]?.op;
        if (op === 'spawned') {
          // whatever became of the parent since: its children exist (see _adoptChildren)
          this._adoptChildren(body[1].template, body[1].ids);
          return;
        }
        if (op === 'forgotten') {
          // the core refuses these templates now, and every `spawned` of theirs came before
          for (const tid of body[1].templates) this._templates?.delete(tid);
          return;
        }
        const entry = this._entries.get(from);
        if (entry && entry.incarnation === corr) this._request(entry, body[0], body[1]);
        return;
      }
      default:
        this._emit('error', { reason: `unknown event kind ${kind}` });
    }
  }

  _request(entry, corr, req) {
    // Answers go to the thread that asked: a later incarnation must never get them.
    const thread = entry.thread;
    const reply = (text) => {
      if (thread && entry.thread === thread) native.replyTo(thread.port, corr, text);
    };
    const answer = (tag, value) => reply(JSON.stringify([tag, value]));
    try {
      if (req.op === 'spawns') {
        answer(K.REPLY_OK, this._spawnChildren(entry, req));
      } else if (req.op === 'spawn') {
        if (this._closing) throw new Error(`spawn: supervisor ${this.id} is shut down`);
        const opts = this._childOptions(entry, req.options, 'ctx.spawn');
        if (opts.kind === 'pooled') this._reservePooled(1);
        const group = native.groupOf(this._sid, entry.num) ?? this._root;
        const child = this._spawn(req.source, opts, entry.num, group);
        answer(K.REPLY_OK, child.ref.id);
      } else if (req.op === 'resource') {
        const who = {
          granted: entry.opts.resources,
          id: entry.ref.id,
          timeoutMs: this._leaseMs(entry.opts),
          authorised: (ok) => this._metrics.authorised(ok),
        };
        const t0 = this._metrics.sample('resourceLatency') ? performance.now() : 0;
        invoke(this._resources, who, req.resource, req.method, req.args ?? []).then(
          (value) => {
            if (t0) this._metrics.record('resourceLatency', performance.now() - t0);
            let text;
            try {
              text = encode(value, `resource ${req.resource}.${req.method}: result`);
            } catch (err) {
              answer(K.REPLY_ERR, err.message);
              return;
            }
            reply(text === '' ? `[${K.REPLY_OK}]` : `[${K.REPLY_OK},${text}]`);
          },
          (err) => answer(K.REPLY_ERR, err.message),
        );
        return;
      } else if (req.op === 'cluster') {
        if (!this.cluster) throw new Error(`${req.to} is on another node, and this supervisor has no cluster`);
        this.cluster.request(entry, req, answer);
        return;
      } else if (req.op === 'hooks') {
        entry.hasOnTerminate = req.onTerminate === true;
        return;
      } else if (req.op === 'crash') {
        this._crash(entry, req, answer);
        return;
      } else if (req.op === 'exit') {
        // a handler its pool worker unwound past maxBlockMs: like a deadline, that overrides a
        // polite stop in progress (the reason is `timeout`, as when the watchdog takes the worker)
        // The unwound run may belong to an incarnation that ended meanwhile (a kill from outside
        // reached the host while the handler spun): the next one, queued on the same worker, runs
        // once the worker is free and is not to blame.
        if (req.interrupted === true && entry.pooled && req.inc !== entry.incarnation) return;
        if (req.interrupted === true && entry.pooled) entry.reason = undefined;
        this._selfExit(entry, req.reason);
        return;
      } else if (req.op === 'stopped') {
        // A pool worker dropped the slot and detached its views: its boxes may go back now.
        if (entry.pooled && entry.confirming) this._endPooled(entry, entry.reason, false);
        return;
      } else if (req.op === 'loadFailed') {
        // Its exit event says why; with nobody listening for errors, a warning says it too.
        if (this._listeners.get('error').size === 0) warnUnheard(this, { reason: 'module_load_failed', id: entry.ref.id, url: req.url, error: new Error(req.error) });
        return;
      } else if (req.op === 'kill') {
        const num = resolveTarget(req.target, this._sid, 'ctx.kill: target');
        if (!this._isChildOf(num, entry)) throw new Error(`ctx.kill: actor-${num} is not a child of ${entry.ref.id}`);
        if (typeof req.reason !== 'string' || req.reason.length === 0) throw new TypeError('ctx.kill: reason must be a non-empty string');
        this._killFromOutside(num, req.reason).then((killed) => answer(K.REPLY_OK, killed));
      } else if (req.op === 'terminate') {
        const num = resolveTarget(req.target, this._sid, 'ctx.terminate: target');
        if (!this._isChildOf(num, entry)) {
          throw new Error(`ctx.terminate: actor-${num} is not a child of ${entry.ref.id}`);
        }
        this._terminate(num, 'terminated').then(() => answer(K.REPLY_OK, true));
      } else {
        throw new Error(`unknown request "${req.op}"`);
      }
    } catch (err) {
      answer(K.REPLY_ERR, `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`);
    }
  }

  /** Spawn options of a child of `entry`: validated, and never granting more than it has. */
  _childOptions(entry, options, what) {
    const opts = spawnOptions(options ?? {}, this._config, this._regions);
    if (entry.opts.resources) {
      // A child can never be granted more than its parent.
      const extra = (opts.resources ?? []).filter((r) => !entry.opts.resources.includes(r));
      if (extra.length) throw new RangeError(`${what}: options.resources: "${extra[0]}" is not granted to ${entry.ref.id}`);
      opts.resources ??= [...entry.opts.resources];
    }
    // Nor a region its parent has not (regions are only ever granted explicitly).
    const region = opts.regions?.find((r) => !entry.opts.regions?.includes(r));
    if (region !== undefined) throw new RangeError(`${what}: options.regions: "${region}" is not granted to ${entry.ref.id}`);
    return opts;
  }

  /**
   * The spawns a pooled actor made in one turn (lib/pool/worker.js, queueSpawn), in order: one
   * result per item, a child's id (an array of ids for ctx.spawnMany) or the error text of that
   * spawn alone. Consecutive pooled ctx.spawn calls with one source and one set of options are
   * created in the core with one call and started with one call per worker.
   */
  _spawnChildren(entry, req) {
    const { sources, options, items } = req;
    const results = new Array(items.length / 3);
    // a pool worker asking for templates (see _template) gets `{ results, templates: [[item,
    // template id, start spec], …] }`: at most one per options index
    const templates = req.templates === true && entry.pooled ? [] : null;
    const offered = templates === null ? null : new Set();
    const offer = (k, child) => {
      const oi = items[3 * k + 1];
      if (offered.has(oi)) return;
      const t = this._template(entry, child);
      if (t === null) return;
      offered.add(oi);
      templates.push([k, t.id, t.spec]);
    };
    const opts = new Array(options.length); // each options index validated once: opts or an error
    const group = native.groupOf(this._sid, entry.num) ?? this._root;
    const failed = (err) => `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
    const optsAt = (oi, what) => {
      if (opts[oi] === undefined) {
        try {
          opts[oi] = this._childOptions(entry, options[oi], what);
        } catch (err) {
          opts[oi] = err;
        }
      }
      if (opts[oi] instanceof Error) throw opts[oi];
      return opts[oi];
    };
    const one = (k, what) => {
      try {
        if (this._closing) throw new Error(`spawn: supervisor ${this.id} is shut down`);
        const o = optsAt(items[3 * k + 1], what);
        if (o.kind === 'pooled') this._reservePooled(1);
        const child = this._spawn(sources[items[3 * k]], o, entry.num, group);
        results[k] = child.num;
        if (templates !== null) offer(k, child);
      } catch (err) {
        results[k] = failed(err);
      }
    };
    for (let k = 0; k < results.length; ) {
      const si = items[3 * k];
      const oi = items[3 * k + 1];
      const count = items[3 * k + 2];
      if (count >= 0) {
        // ctx.spawnMany
        try {
          if (this._closing) throw new Error(`spawnMany: supervisor ${this.id} is shut down`);
          const given = options[oi];
          if (given?.kind !== undefined && given.kind !== 'pooled') {
            throw new TypeError(`ctx.spawnMany: options.kind must be 'pooled' (spawnMany spawns pooled actors; got ${JSON.stringify(given.kind)})`);
          }
          if (given?.name !== undefined) throw new TypeError('ctx.spawnMany: options.name cannot name many actors (spawn named actors one by one)');
          const o = this._childOptions(entry, { ...given, kind: 'pooled' }, 'ctx.spawnMany');
          this._reservePooled(count);
          results[k] = count === 0 ? [] : this._spawnPooledMany(sources[si], o, group, count, entry.num).map((r) => r._num);
        } catch (err) {
          results[k] = failed(err);
        }
        k++;
        continue;
      }
      // a run of pooled ctx.spawn calls alike: one core call for all of them
      let end = k + 1;
      while (end < results.length && items[3 * end] === si && items[3 * end + 1] === oi && items[3 * end + 2] < 0) end++;
      let o = null;
      try {
        o = optsAt(oi, 'ctx.spawn');
      } catch {}
      if (end - k > 1 && o !== null && o.kind === 'pooled' && o.name === undefined && !this._closing) {
        let nums = null;
        try {
          this._reservePooled(end - k);
          nums = this._spawnPooledMany(sources[si], o, group, end - k, entry.num);
        } catch {
          // over a limit: one by one below, so that each spawn gets its own answer
        }
        if (nums !== null) {
          for (let i = 0; i < nums.length; i++) results[k + i] = nums[i]._num;
          if (templates !== null) {
            // (a child placed on the parent's worker, if any: the template is for that worker)
            const near = nums.find((r) => this._entries.get(r._num)?.worker === entry.worker);
            if (near !== undefined) offer(k, this._entries.get(near._num));
          }
          k = end;
          continue;
        }
      }
      for (; k < end; k++) one(k, 'ctx.spawn');
    }
    return templates === null ? results : { results, templates };
  }

  /**
   * A template for more children like `child` (just spawned by pooled `parent`): its worker
   * may then create them by itself (native.poolSpawn), in the core under the same group and
   * options, bound to that worker, and tell the host afterwards in one `spawned` request
   * (_adoptChildren). Only for what needs nothing else from the host at spawn: a pooled child
   * without a name, heartbeat, deadline or shared regions, placed on its parent's worker,
   * whose source that worker has. `null` when not offered; at most 8 per incarnation.
   */
  _template(parent, child) {
    const o = child?.opts;
    if (!o || o.kind !== 'pooled' || o.name !== undefined || o.global || o.internal || o.regions) return null;
    if (o.heartbeatMs || o.timeoutMs) return null;
    const w = child.worker;
    if (!w || w !== parent.worker || w.lost || parent.thread !== w.thread) return null;
    const key = w.sources.get(child.sourceText);
    if (key === undefined) return null;
    if (parent.templates !== undefined && parent.templates.length >= 8) return null;
    const id = native.poolTemplate(this._sid, parent.num, parent.incarnation, this._coreSpawnConfig(o, child.group));
    const spec = { sup: this._sid, key, onCrash: typeof this._policies.get(child.group) === 'function', leaseMs: this._leaseMs(o) };
    if (o.idleTimeoutMs) spec.idleTimeoutMs = o.idleTimeoutMs;
    if (child.source.kind === 'module') spec.module = true;
    parent.templates ??= [];
    parent.templates.push(id);
    this._templates ??= new Map();
    this._templates.set(id, { origin: child.origin, worker: w, parent: parent.num });
    return { id, spec };
  }

  /**
   * The templates of an ended incarnation: the core refuses them from now on, and says so on
   * this supervisor's port (`forgotten`) behind any `spawned` of theirs.
   */
  _forgetTemplates(entry) {
    native.poolForget(this._sid, entry.templates);
    entry.templates = undefined;
  }

  /**
   * The children a pool worker spawned by itself from template `tid` (`ids`: `[id, incarnation,
   * …]`, already counted toward pool.maxActors and bound there): their entries, as
   * _spawnPooledMany makes them, and their spawn events. Arrives before anything they do.
   */
  _adoptChildren(tid, ids) {
    const t = this._templates?.get(tid);
    if (t === undefined) return; // (not one of this supervisor's)
    const { origin, worker: w, parent } = t;
    const listening = this._listeners.get('spawn').size > 0 || CHANNELS.spawn.hasSubscribers;
    const from = `actor-${parent}`;
    // a worker lost since, whose members were already counted out (see _workerLost): these
    // exit as they would have with it
    const gone = w.lost && !this._exiting.has(w.thread);
    const lost = gone ? [] : null;
    const traits = (origin.traits ??= this._entryTraits(origin));
    for (let i = 0; i < ids.length; i += 2) {
      const e = this._listEntry(ids[i], origin, parent, traits); // (what _entry works out per actor, once for the run)
      if (ids[i + 1] >= 0) {
        e.incarnation = ids[i + 1];
        if (gone) lost.push(e);
        else {
          e.thread = w.thread;
          e.worker = w;
          w.members.add(e);
        }
      }
      if (listening) this._emit('spawn', { id: e.ref.id, name: undefined, parent: from });
    }
    if (lost !== null) for (const e of lost) this._incarnationOver(e, 'worker_lost');
  }

  /** Whether live actor `num` was spawned by `entry`'s actor (ids are never reused). */
  _isChildOf(num, entry) {
    return this._entries.get(num)?.parent === entry.num;
  }

  /** Asks the group's onCrash policy what to do about a handler failure. */
  _crash(entry, req, answer) {
    const policy = this._policies.get(entry.group);
    const decide = async () => {
      const error = new Error(req.reason.replace(/^error: /, ''));
      const info = { actor: entry.ref, id: entry.ref.id, reason: req.reason, incarnation: entry.incarnation, supervisor: this };
      return policy(error, req.message, info);
    };
    decide().then(
      (decision) => {
        if (!DECISIONS.includes(decision)) {
          this._emit('error', { reason: `onCrash returned ${JSON.stringify(decision)}; expected one of ${DECISIONS.join(', ')}`, id: entry.ref.id });
          decision = undefined;
        }
        if (decision !== 'resume') entry.decision = decision;
        answer(K.REPLY_OK, decision ?? 'default');
      },
      (err) => {
        this._emit('error', { reason: 'onCrash threw', id: entry.ref.id, error: err });
        answer(K.REPLY_OK, 'default');
      },
    );
  }

  _emit(event, payload) {
    const channel = CHANNELS[event];
    if (channel.hasSubscribers && this._config.diagnostics.enabled) channel.publish({ supervisor: this.id, ...payload });
    const listeners = this._listeners.get(event);
    if (event === 'error' && listeners.size === 0) warnUnheard(this, payload);
    for (const fn of listeners) this._safe(fn, payload, event);
  }

  _safe(fn, value, event) {
    try {
      fn(value);
    } catch (err) {
      if (event === 'error') return;
      this._emit('error', { reason: 'listener threw', error: err });
    }
  }
}

/** Whether `plan` (JSON from the core) is only a restart of actor `num` without delay. */
function restartsAtOnce(plan, num) {
  if (plan.length > 40 || !plan.startsWith('[["start",')) return false;
  const rest = plan.slice(10);
  const head = `${num},0`;
  return rest === `${head}]]` || rest === `${head}.0]]`;
}

/**
 * An `error` event nobody listens to is never silent: it is printed once as a process warning
 * (like an unhandled 'error' in Node), naming the supervisor, the actor, the reason and what
 * stopped because of it.
 */
function warnUnheard(supervisor, e) {
  const sup = supervisor.id;
  let code = 'WARDEN_ERROR';
  let text;
  if (e.reason === 'intensity_exceeded') {
    code = 'WARDEN_INTENSITY_EXCEEDED';
    const who = e.id ? `${e.id} exited with "${e.cause}"` : `an exit with "${e.cause}"`;
    const stopped = e.stopped?.length ? `; stopped: ${e.stopped.join(', ')}` : '';
    text = `${sup}: ${who} exceeded the root group's restart intensity; the supervisor gave up its actors${stopped}`;
  } else if (e.reason === 'module_load_failed') {
    code = 'WARDEN_MODULE_LOAD_FAILED';
    // Once per actor and module: a restart loop of a module that cannot load says it once.
    const key = `${e.id} ${e.url}`;
    if (supervisor._warnedLoads.has(key)) return;
    supervisor._warnedLoads.add(key);
    text = `${sup}: ${e.id}: module ${e.url} failed to load: ${e.error?.message}`;
  } else {
    const detail = e.error ? `: ${e.error?.message ?? e.error}` : '';
    text = `${sup}${e.id ? `: ${e.id}` : ''}: ${e.reason}${detail}`;
  }
  text += " (listen with sup.on('error', fn) to handle it)";
  process.emitWarning(text, { code });
}

/** Exit reason of a thread that ended without the host asking. */
function reasonOf(thread) {
  const e = thread.error;
  if (e) {
    if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') return 'out_of_memory';
    return `error: ${e.message ?? String(e)}`;
  }
  return `error: process.exit(${thread.code})`;
}

// `await using sup = createSupervisor()`: leaving the block shuts the supervisor down. Defined
// only where the runtime has the symbol (Node 20.4+, Bun); nothing is polyfilled.
if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Supervisor.prototype, Symbol.asyncDispose, {
    value: function asyncDispose() {
      return this.shutdown();
    },
    writable: true,
    configurable: true,
  });
}

/** Creates a supervisor (validates every field of `config`). */
function createSupervisor(config) {
  return new Supervisor(config);
}

module.exports = { createSupervisor, Supervisor, ActorRef, ActorGroup };
