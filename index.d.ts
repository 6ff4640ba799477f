// Public types of warden. Hand-written; checked by `npm run typecheck` against examples/.

/** `actor-<n>`: stable across restarts. */
export type ActorId = string;

/** A Result: either `Ok(value)` or `Err(error)`. */
export type Result<T, E = string> =
  | { readonly isOk: true; readonly isErr: false; readonly value: T; readonly error: undefined }
  | { readonly isOk: false; readonly isErr: true; readonly value: undefined; readonly error: E };

export function Ok<T>(value: T): Result<T, never>;
export function Err<E>(error: E): Result<never, E>;

/** A Tier 1 message emitted with `self.send`, or a system notification. */
export interface Message<D = unknown> {
  readonly msg: string;
  readonly type?: 'json' | 'string' | 'binary' | 'cbor';
  readonly data?: D;
  readonly from: ActorId | 'system';
}

/** Calls the handler named by `message.msg`, or `_` when none matches. */
export function matchAll<R>(
  message: { readonly msg?: string } | unknown,
  handlers: { [key: string]: ((m: any) => R) | undefined; _?: (m: any) => R },
): R | undefined;

/** Prints its arguments on one line. */
export function println(...args: unknown[]): void;

/** True only for notifications made by the runtime (`DOWN`, `EXIT`, `INBOX`). */
export function isSystemMessage(m: unknown): m is Message;

/** Bytes from a number or a unit string ("1mb", "512kb", "1.5 MiB"). */
export function parseSize(size: number | string, field?: string): number;

/** Process-wide counts for leak checks. */
export function runtimeStats(): { threads: number; ports: number; actors: number };

/** A call did not get its reply in time. */
export class TimeoutError extends Error {}

/** The actor a call waited on ended first; `reason` is its exit reason (or `noproc`). */
export class ActorExitError extends Error {
  readonly reason: string;
}

/** A Tier 2 handle: a box and its generation (stale once the box is reused). */
export interface Lock {
  readonly boxIndex: number;
  readonly epoch: number;
}

export type FmtType = 'json' | 'string' | 'binary' | 'cbor';

/** Who may read a box besides its writer and the host. */
export type Share = 'owner' | 'group' | 'linked' | 'all' | Array<ActorRef | ChildRef | ActorId>;

/** A reader over the committed bytes of a box; nothing is copied until asked for. */
export interface ChainableReader {
  readonly msg: string;
  readonly type: FmtType;
  readonly handle: Lock;
  readonly length: number;
  /** The box memory itself (zero-copy; detached once released). */
  bytes(): Uint8Array;
  /** An owned copy. */
  copy(): Uint8Array;
  /** An owned copy (Future's name). */
  binary(): Uint8Array;
  /** An owned copy as a `Uint8Array`, as Future's `raw()` returns (not an `ArrayBuffer`). */
  raw(): Uint8Array;
  string(): string;
  json<T = unknown>(): T;
  cbor<T = unknown>(): T;
}

/** A box reserved by `ctx.alloc`: fill `bytes` (the box memory itself), then commit. */
export interface Writable {
  readonly bytes: Uint8Array;
  commit(options: { msg: string; type?: FmtType; share?: Share }): Promise<Result<Lock, string>>;
  abort(): void;
}

/** Anything that names an actor: a ref, an id, or a registered name. */
export type Target = ActorRef | RemoteRef | { readonly id: ActorId } | ActorId | string;

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface RetryConfig {
  /** Restarts allowed within `withinMs` (default 3); `Infinity` disables the limit. */
  max?: number;
  withinMs?: number;
  backoff?: 'fixed' | 'linear' | 'exponential';
  delayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
}

/** What a crash policy decides about one handler failure. */
export type CrashDecision = 'restart' | 'resume' | 'stop' | 'restartAll' | 'stopAll' | 'escalate';

/** `onCrash(error, msg, info)`: replaces the group's strategy for handler failures. */
export type CrashPolicy = (
  error: Error,
  msg: unknown,
  info: { actor: ActorRef; id: ActorId; reason: string; incarnation: number; supervisor: Supervisor },
) => CrashDecision | Promise<CrashDecision>;

export interface SupervisorConfig {
  /** Hard cap on live actors (default 1000). */
  maxActors?: number;
  memory?: { poolSize?: number; boxSize?: number | string };
  timeouts?: { defaultLeaseMs?: number; actorTimeouts?: Record<string, number> };
  strategy?: Strategy;
  retry?: RetryConfig;
  resources?: Record<string, unknown>;
  /** Diagnostics; `track` turns on sampled metrics (a `sampleRate` share of events, 0..1). */
  diagnostics?: {
    enabled?: boolean;
    sampleRate?: number;
    track?: Partial<Record<TrackedMetric, boolean>>;
  };
  /** Started, idle threads kept ready so spawn does not wait for thread start-up (default 2). */
  warmWorkers?: number;
  /** Crash policy of the root group. */
  onCrash?: CrashPolicy;
  /** The task thread pool behind `task`, `map` and `mapStream` (started on first use, or with the supervisor when `minThreads` > 0). */
  tasks?: TaskPoolConfig;
  /** The worker threads of pooled actors (started on the first pooled spawn). */
  pool?: PoolConfig;
  /** Makes this supervisor a node of a cluster on NATS (see `sup.cluster`). */
  cluster?: ClusterConfig;
}

/** A node of a cluster on NATS (DESIGN.md 9). */
export interface ClusterConfig {
  /** This node's name (1-64 letters, digits, `_`, `-`): remote ids read `actor-N@node`. */
  node: string;
  /** NATS server URLs (`nats://host:4222`); the client moves between them on failures. */
  servers: string | string[];
  /** The cluster secret (Erlang's cookie): envelopes of nodes that do not prove it are dropped. At least 8 characters or bytes. */
  secret: string | Uint8Array;
  /** NATS credentials, passed through to the `nats` client. */
  user?: string;
  pass?: string;
  token?: string;
  /** A NATS `.creds` file (JWT and NKey seed). */
  credsFile?: string;
  /** TLS options of the `nats` client. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; ca?: string; cert?: string; key?: string; handshakeFirst?: boolean };
  /** First token of the cluster's subjects (default `warden`): clusters sharing a NATS server differ by it. */
  prefix?: string;
  /** The JetStream key-value bucket of global names (default `warden_names`). */
  bucket?: string;
  /** Heartbeat period (default 1000 ms). */
  heartbeatMs?: number;
  /** Silence after which a node is down (default 5000 ms). */
  downAfterMs?: number;
  /** Envelopes queued per destination node at most; over it, sends are dead letters (default 10000). */
  outboundQueue?: number;
  /** Envelopes in flight per destination node before its acknowledgements (default 4096). */
  window?: number;
}

/** A live node of the cluster. */
export interface ClusterNode {
  node: string;
  /** Random per start (and per rejoin): a restarted node is a new node. */
  epoch: string;
  self: boolean;
}

export interface ClusterEvents {
  nodeUp: { node: string; epoch: string };
  /** `reason`: `noconnection` (silent), `left` (shut down), `restarted` (seen with a new epoch). */
  nodeDown: { node: string; epoch: string; reason: string };
  state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** The outcome of a `global: true` spawn's claim (a loser is stopped with reason `name_taken`). */
  registered: { name: string; id: ActorId; ok: boolean };
  /** A frame that did not prove the cluster secret was dropped. */
  refused: { count: number };
}

/** An actor of another node: `receive` and `call` as for a local one. */
export interface RemoteRef {
  /** `actor-N@node`. */
  readonly id: ActorId;
  readonly name?: string;
  readonly node: string;
  /** The node's epoch when this ref was made; after the node restarts the ref is stale (`noproc`). */
  readonly epoch: string | undefined;
  /** At-most-once, FIFO per pair of nodes; false when it was dead-lettered here (`noconnection`, `noproc`, `overflow`). */
  receive(msg: unknown): boolean;
  /** Rejects at once with `ActorExitError` `noconnection` when the node is gone. */
  call<R = unknown>(msg: unknown, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<R>;
}

/** `sup.cluster`: this node of the cluster. */
export interface Cluster {
  readonly node: string;
  readonly epoch: string;
  readonly state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** Resolves once connected to NATS. */
  readonly ready: Promise<void>;
  /** Live nodes (this one first) with their epochs. */
  nodes(): ClusterNode[];
  on<E extends keyof ClusterEvents>(event: E, fn: (e: ClusterEvents[E]) => void): () => void;
  /** Local or global name; with `wait`, keeps looking that long. */
  whereis(name: string, options?: { wait?: number }): Promise<ActorRef | RemoteRef | undefined>;
  /** A ref for an `actor-N@node` id (e.g. one that came inside a message). */
  ref(id: string): ActorRef | RemoteRef;
  isRemote(target: unknown): boolean;
  stats(): { sent: number; received: number; refused: number; stale: number; deadLetters: number; queued: number };
}

/** Settings of the workers that run pooled actors (`kind: 'pooled'`). */
export interface PoolConfig {
  /** Worker threads (default `os.availableParallelism()`). */
  workers?: number;
  /** Most live pooled actors (default 1,000,000; the top-level `maxActors` counts isolated ones). */
  maxActors?: number;
  /**
   * How long actor code may run synchronously (default 50 ms). Past it, with `interrupt` a
   * handler is unwound in its worker and only its actor exits with `timeout`; otherwise (or for
   * code the limit does not cover: hooks, timer callbacks) its worker is killed and replaced —
   * the culprit exits with `timeout`, the other actors on it with `worker_lost`. A continuation
   * after an `await` that does not yield costs its worker after twice that (at least 1 s); its
   * culprit is named when it is the only actor awaiting.
   */
  maxBlockMs?: number;
  /**
   * Run each batch under a `vm` time limit so that a synchronous hang ends only its actor
   * (default: true on Bun, where it costs about 2 µs per batch; false on Node, where every
   * limited run starts a watchdog thread, about 40 µs per batch).
   */
  interrupt?: boolean;
  /** Per wake a worker takes up to `maxActors` ready actors (256), each up to `perActor` messages (16). */
  batch?: { maxActors?: number; perActor?: number };
}

/** `isolated`: a thread of its own (the default); `pooled`: one of many on a shared pool worker. */
export type ActorKind = 'isolated' | 'pooled';

export interface TaskPoolConfig {
  /** Task threads started with the supervisor and kept alive: idle reaping never goes below them (default 0). */
  minThreads?: number;
  /** Most task threads at once (default `os.availableParallelism()`); they do not count against `maxActors`. */
  maxThreads?: number;
  /** A thread idle this long is stopped, down to `minThreads` (default 5000; `Infinity`: never). */
  idleTimeoutMs?: number;
  /** Most tasks waiting for a thread; over it `task` rejects at once with code `ERR_TASK_QUEUE_FULL` (default `Infinity`). */
  maxQueue?: number;
  /** A thread is replaced after running this many tasks (default `Infinity`). */
  maxTasksPerThread?: number;
  /** A thread whose heap grew past this many MiB is replaced once idle (Node; default `Infinity`). */
  maxHeapUsedMb?: number;
  /** Runtime flags every task thread starts with (see `SpawnOptions.execArgv`). */
  execArgv?: string[];
  /** Variables added to a copy of the host's `process.env` in every task thread. */
  env?: Record<string, string>;
}

export interface GroupOptions {
  strategy?: Strategy;
  retry?: RetryConfig;
  /** The parent group (default: the root group, or the group `createGroup` is called on). */
  parent?: ActorGroup;
  onCrash?: CrashPolicy;
}

export interface SpawnOptions {
  /**
   * `isolated` (default) or `pooled`. Pooled actors refuse `resourceLimits`, `execArgv` and
   * `env` (a TypeError naming the option: each belongs to a thread, and pooled actors share one).
   */
  kind?: ActorKind;
  /** Registered name, unique per supervisor. */
  name?: string;
  /** With `name` and a cluster: register the name cluster-wide (one owner in the whole cluster). */
  global?: boolean;
  /** Per-message deadline: a handler running longer is killed with reason `timeout`. */
  timeoutMs?: number;
  restart?: RestartType;
  mailbox?: { capacity?: number; overflow?: 'reject' | 'drop-oldest' };
  /**
   * How strategy stops, `terminateActor` and `shutdown` end it: `brutal` (kill), a number of ms
   * (polite: `ctx.isCancelled`, `onTerminate`, then kill), or `infinity`. Default: 5000 ms if it
   * has an `onTerminate` hook, else brutal. `ActorRef.terminate()` always kills at once.
   */
  shutdown?: 'brutal' | 'infinity' | number;
  /** `onIdle(ctx)` runs after this long without a message (and again per idle period). */
  idleTimeoutMs?: number;
  /** Watchdog: without `ctx.heartbeat()` for this long the actor is killed with `timeout`. */
  heartbeatMs?: number;
  /**
   * Shared regions (made with `sup.region`) this actor gets with `ctx.region(name)`; each must
   * exist when it is spawned. A child spawned with `ctx.spawn` gets only regions its parent has.
   */
  regions?: string[];
  /**
   * Runtime flags of the actor's thread (`new Worker(…, { execArgv })`), e.g.
   * `['--import', 'tsx']` to load TypeScript modules on Node 20. Flags Node refuses in a worker
   * throw a `RangeError` at spawn; Bun accepts any and applies none. The actor gets a thread of
   * its own, never shared with another actor (isolated actors only).
   */
  execArgv?: string[];
  /** Variables added to a copy of the host's `process.env` in the actor's thread (isolated actors only). */
  env?: Record<string, string>;
  /** Node's per-thread heap limits. */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    codeRangeSizeMb?: number;
    stackSizeMb?: number;
  };
}

/** `self` inside an actor. */
export interface Self {
  readonly id: ActorId;
  readonly name?: string;
  /** This incarnation's number: 0 at spawn, one more per restart (`ActorRef.incarnation`). */
  readonly incarnation: number;
  /**
   * Emits `{ msg, data, from }` to subscribers; `from` is added by the runtime. Like `ctx.send`
   * it is queued in the thread's outbox and delivered at the end of the JS task (or before the
   * thread's next native call): true once queued.
   */
  send(msg: string, data?: unknown): boolean;
}

/** A light reference usable inside actors. */
export interface ChildRef {
  readonly id: ActorId;
}

/** Byte encoders (`ctx.fmt`). */
export interface Fmt {
  /**
   * As Future's: bytes (any `ArrayBuffer` or view) as a `Uint8Array` over the same memory, a
   * string as its UTF-8 text, anything else as JSON (refusing what JSON would change).
   */
  encode(value: unknown): Uint8Array;
  /** Decodes bytes written as `type` (default `json`; `binary` returns the bytes). */
  decode(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, type?: FmtType): unknown;
  json: { encode(value: unknown): Uint8Array; decode(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): unknown };
  string: { encode(s: string): Uint8Array; decode(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): string };
  /** Real CBOR (cbor-x): carries what JSON cannot (Date, Map, Set, bigint, bytes). */
  cbor: { encode(value: unknown): Uint8Array; decode(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): unknown };
  alloc(size: number): Uint8Array;
}

/** `ctx` inside an actor. */
export interface Context {
  readonly self: Self;
  readonly fmt: Fmt;
  /** True once a stop has been requested. */
  readonly isCancelled: boolean;
  /**
   * Sends without waiting (FIFO per sender and receiver). Mail is batched in this thread's
   * outbox and delivered before this actor's next call, reply, emit or exit, when its handler
   * yields, and within 5–50 ms even if it keeps computing. False once the target is known to
   * be dead for good; undeliverable mail is reported as a `deadLetter` event.
   */
  send(target: Target, msg: unknown): boolean;
  call<R = unknown>(target: Target, msg: unknown, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<R>;
  spawn(actor: ActorHandler | Behaviour | URL | string, options?: SpawnOptions): Promise<ChildRef>;
  /** Stops this actor (reason `normal`), or a child it spawned. */
  terminate(target?: Target): Promise<void>;
  /** Crashes a child it spawned from outside (`reason` default `killed`); its policy restarts it. */
  kill(target: Target, reason?: string): Promise<boolean>;
  whereis(name: string): ChildRef | undefined;
  /** Registers this actor's name (unique; follows it across restarts). */
  register(name: string): void;
  heartbeat(): void;
  /**
   * Lets other work run before this handler goes on: a pooled actor's co-located actors get a
   * turn of its worker (the actor itself still handles one message at a time); in an isolated
   * actor it resolves at once.
   */
  yield(): Promise<void>;
  link(target: Target): void;
  unlink(target: Target): void;
  /** Returns a monitor reference `ref-N`; `DOWN` arrives as a system message. */
  monitor(target: Target): string;
  demonitor(ref: string): boolean;
  /** Exit signals of linked actors become `EXIT` messages (or `onExit` calls). */
  trapExits(on: boolean): void;
  /** The state of a stateful actor. */
  readonly state: unknown;
  /** Tier 2 write (one copy into the box); readers get an INBOX message with the handle. */
  write(options: {
    msg: string;
    type?: FmtType;
    data: unknown;
    share?: Share;
    timeoutMs?: number;
    wait?: boolean;
  }): Promise<Result<Lock, string>>;
  /** Tier 2 zero-copy write: a view into the box to fill, then commit. */
  alloc(size: number, options?: { timeoutMs?: number; wait?: boolean }): Promise<Result<Writable, string>>;
  /** A reader for an INBOX message, a message carrying a handle, or a Lock; null otherwise. */
  read(msg: unknown): ChainableReader | null;
  /** Gives this actor's reference back (its views are detached). */
  release(handle: Lock | { handle: Lock }): boolean;
  /**
   * A shared region granted with the spawn option `regions` (the same memory as the host's and
   * every other granted actor's, across restarts), for `Atomics`; throws for one not granted.
   */
  region(name: string): SharedArrayBuffer;
}

/** A stateful actor with lifecycle hooks (all functions are serialised like callbacks). */
export interface Behaviour<S = any, M = any> {
  init?: () => S | Promise<S>;
  /** Returns the new state (which is also the reply to `call`). */
  handle: (state: S, msg: M, ctx: Context) => S | Promise<S>;
  onStart?: (ctx: Context) => void | Promise<void>;
  onTerminate?: (reason: string, ctx: Context) => void | Promise<void>;
  onExit?: (id: ActorId, reason: string, ctx: Context) => S | Promise<S>;
  onIdle?: (ctx: Context) => void | Promise<void>;
}

/** An actor: a callback (serialised; no outer scope) handling one message at a time. */
export type ActorHandler<M = any, R = unknown> = (self: Self, msg: M, ctx: Context) => R | Promise<R>;

export interface ActorDiagnostics {
  id: ActorId;
  name: string | null;
  kind: ActorKind;
  /** Pooled actors: the index of the pool worker running the current incarnation. */
  worker?: number;
  incarnation: number;
  state: 'starting' | 'running' | 'restarting' | 'dead';
  restarts: number;
  mailboxDepth: number;
  messageCount: number;
  lastError: string | null;
  lifetimeMs: number;
  heartbeatCount: number;
  lastHeartbeatAt: number | null;
  /** JS heap in use by its thread (bytes, refreshed about once a second); null between incarnations. */
  heapUsed: number | null;
}

/**
 * Which actors `sup.getDiagnostics(options)` lists in `actors`. The default (no options, or
 * `actors: true`) is every live actor, as before the option existed: with many actors that is
 * one entry each. `false` lists none; `'summary'` gives `actorsByState` counts instead; a page
 * `{ offset, limit }` (integers >= 0, offset default 0) lists that slice of the start order
 * (`activeActors` is the total to page through).
 */
export interface DiagnosticsOptions {
  actors?: boolean | 'summary' | { offset?: number; limit: number };
}

/** How many live actors of a supervisor are in each state (`getDiagnostics({ actors: 'summary' })`). */
export interface ActorStateCounts {
  starting: number;
  running: number;
  restarting: number;
}

export interface SupervisorDiagnostics {
  id: string;
  activeActors: number;
  totalActorsSpawned: number;
  totalActorsTerminated: number;
  restarts: number;
  deadLetters: number;
  /** Every live actor in start order, or the page asked for (absent with `actors: false | 'summary'`). */
  actors: ActorDiagnostics[];
  memoryPool: {
    poolSize: number;
    boxSize: number;
    boxesInUse: number;
    utilization: number;
    waitingWrites: number;
    /** Leases that ran out (writers killed, readers' references dropped). */
    leaseExpiries: number;
  };
  /** Sampled metrics enabled with `diagnostics.track`. */
  metrics: Partial<Record<Exclude<TrackedMetric, 'authorization'>, MetricSummary>> & {
    /** Resource calls and Tier 2 reads an actor was allowed / refused (sampled counts). */
    authorization?: { granted: number; denied: number };
  };
}

/**
 * Metrics `diagnostics.track` can turn on. Times are in ms:
 * - `callLatency`: `call()` from the host until the reply arrives;
 * - `resourceLatency`: a resource method from request to result;
 * - `restartLatency`: a crash until the new incarnation runs;
 * - `messageLatency`: a message from its enqueue until its actor's thread takes it;
 * - `inboxDepth`: an actor's mailbox depth just after a message was queued (messages);
 * - `writeQueueWait`: how long a Tier 2 write waited for a free box (0 when one was free);
 * - `heartbeatInterval`: time between two heartbeats of one incarnation;
 * - `refCounts`: references a box holds when it is published (writer + readers);
 * - `authorization`: resource calls and Tier 2 reads granted and refused (counts).
 */
export type TrackedMetric =
  | 'callLatency'
  | 'resourceLatency'
  | 'restartLatency'
  | 'messageLatency'
  | 'inboxDepth'
  | 'writeQueueWait'
  | 'heartbeatInterval'
  | 'refCounts'
  | 'authorization';

/** Count of sampled events and percentiles of the most recent 1024 samples. */
export interface MetricSummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Host-side handle of a supervised actor. */
export interface ActorRef {
  readonly id: ActorId;
  readonly name?: string;
  /** Grows by one per restart. */
  readonly incarnation: number;
  /** Enqueues `msg`; false if the actor is dead for good, full, or the named incarnation is stale. */
  receive(msg: unknown, options?: { incarnation?: number }): boolean;
  /** Resolves with the handler's return value. */
  call<R = unknown>(msg: unknown, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<R>;
  subscribe(fn: (m: Message) => void): () => void;
  /** Kills now, even inside `while(true){}`; never restarted. */
  terminate(reason?: string): Promise<void>;
  /**
   * A crash from outside (OTP's `exit(Pid, kill)`): kills the current incarnation with `reason`
   * (default `killed`) and the supervisor restarts it by its policy. Resolves with true once
   * that incarnation is over, false if none was running.
   */
  kill(reason?: string): Promise<boolean>;
  getDiagnostics(): Result<ActorDiagnostics, string>;
  /** Bidirectional link: an abnormal exit of one stops the other with `linked: <reason>`. */
  link(other: Target): void;
  unlink(other: Target): void;
  /** This actor watches `other`; returns `ref-N`. */
  monitor(other: Target): string;
  demonitor(ref: string): boolean;
  /** Tier 2 read from the host (every box). */
  read(msg: unknown): ChainableReader | null;
  release(handle: Lock | { handle: Lock }): boolean;
}

/** A supervision group. */
export interface ActorGroup {
  readonly id: string;
  spawn<M = any>(actor: ActorHandler<M> | Behaviour<any, M> | URL | string, options?: SpawnOptions): ActorRef;
  createGroup(options?: GroupOptions): ActorGroup;
  /** Stops every actor of the group (and subgroups) for good, in reverse start order. */
  terminateAll(reason?: string): Promise<void>;
  read(msg: unknown): ChainableReader | null;
  release(handle: Lock | { handle: Lock }): boolean;
}

export interface ExitEvent {
  id: ActorId;
  reason: string;
  incarnation: number;
  /** The message being handled when it ended, if any. */
  message?: { kind: number; from: ActorId | 'host'; message: unknown };
}

export interface SupervisorEvents {
  spawn: { id: ActorId; name?: string; parent?: ActorId };
  exit: ExitEvent;
  restart: { id: ActorId; incarnation: number; reason: string };
  escalate: { id: ActorId; reason: string };
  deadLetter: { to: ActorId; from?: ActorId | 'host'; message: unknown; reason: string };
  leaseExpired: { id: ActorId; boxIndex: number; epoch: number; role: 'writer' | 'reader' };
  /**
   * Something went wrong that no actor's exit reports: the root group gave up
   * (`intensity_exceeded`), a listener or plan failed, or the Rust core caught a panic of its
   * own (a bug in warden) and went on (`internal panic: <where>: <message>`).
   */
  error: { reason: string; id?: ActorId; cause?: string; error?: unknown };
  /**
   * A pool worker was killed and replaced (`cause`: `maxBlockMs` or `timeout` for a handler
   * stuck in synchronous code or after an await, `exit` if the thread died): `culprit` exited
   * with `timeout`, the other `actors` on it with `worker_lost`.
   */
  workerLost: { worker: number; cause: 'maxBlockMs' | 'timeout' | 'exit'; culprit?: ActorId; actors: ActorId[] };
}

/** A node of `inspect()`: a group, or an actor with its diagnostics. */
export type TreeNode =
  | { type: 'group'; id: string; strategy: Strategy; children: TreeNode[] }
  | ({ type: 'actor' } & ActorDiagnostics);

/** The second argument of a task function. */
export interface TaskContext {
  /**
   * Reports progress to the caller's `onProgress` at once (in order, before the result). The
   * value travels like a result (JSON; a value JSON would change throws a `TypeError`); without
   * `onProgress` it is checked and dropped, and once the task has settled it is dropped.
   */
  progress(value: unknown): void;
}

/**
 * A task: a function (serialised with `toString()`, no outer scope) or a module URL/path whose
 * default export is the function. It gets the input (and `{ progress }`) and returns (or
 * resolves) the result; both travel as JSON, or through the memory pool with `transfer: true`.
 */
export type TaskFn<I = any, R = any> = ((input: I, task: TaskContext) => R | Promise<R>) | URL | string;

export interface TaskOptions {
  /** Counted from when the task starts running (not while queued); on expiry its thread is killed and the task rejects with `TimeoutError`. */
  timeoutMs?: number;
  /** Aborting removes a queued task (its input is never read) or kills the thread of a running one; the task rejects with an `AbortError` (`cause`: the signal's reason). */
  signal?: AbortSignal;
  /** Node heap limits of the thread that runs it; running out rejects with `ActorExitError` reason `out_of_memory`. */
  resourceLimits?: SpawnOptions['resourceLimits'];
  /**
   * Large data through the supervisor's memory pool instead of JSON (needs `memory.poolSize` > 0).
   * The input (an `ArrayBuffer`, typed array, `DataView`, `Buffer`, or a JSON value encoded once)
   * is written into one box when the task starts, shared with its thread only: the task gets
   * bytes as a view of the box itself (same kind, no copy; detached when the task ends) and JSON
   * decoded. A bytes result is written into a box and resolves as a copy made once on the host
   * (same kind). Inputs or results larger than `memory.boxSize` reject with a `RangeError`;
   * without a free box the input waits its turn. Default `false`.
   */
  transfer?: boolean;
  /** Hears each `progress(value)` of the running task; progress after it settled is dropped. */
  onProgress?: (value: any) => void;
}

/** `{ fn, input, ...options }`: a task that `sup.tasks` helpers start (and cancel when no longer needed). */
export interface TaskDescriptor<I = any, R = any> extends TaskOptions {
  fn: TaskFn<I, R>;
  input?: I;
}

export interface MapOptions extends Omit<TaskOptions, 'onProgress'> {
  /** Hears each item's `progress(value)`, with the item's index. */
  onProgress?: (value: any, index: number) => void;
  /** Most tasks running at once (default: the pool's `maxThreads`). */
  concurrency?: number;
  /** Settle every item (`{ status, value | reason }`) instead of stopping at the first error. */
  settle?: boolean;
}

type TaskResult<T> = T extends TaskDescriptor<any, infer R> ? Awaited<R> : Awaited<T>;

export interface TaskPoolStats {
  threads: number;
  idle: number;
  starting: number;
  running: number;
  queued: number;
  completed: number;
  failed: number;
  killed: number;
  crashed: number;
  recycled: number;
  reaped: number;
  spawned: number;
}

/** Combinators over promises and task descriptors; tasks they started and no longer need are cancelled. */
export interface TaskHelpers {
  all<T extends readonly unknown[]>(list: T): Promise<{ -readonly [K in keyof T]: TaskResult<T[K]> }>;
  allSettled<T extends readonly unknown[]>(list: T): Promise<{ -readonly [K in keyof T]: PromiseSettledResult<TaskResult<T[K]>> }>;
  race<T extends readonly unknown[]>(list: T): Promise<TaskResult<T[number]>>;
  any<T extends readonly unknown[]>(list: T): Promise<TaskResult<T[number]>>;
  stats(): TaskPoolStats;
}

export interface Supervisor {
  readonly id: string;
  /** Runs `fn(input)` in a pooled task thread; killable (timeout, signal), crash- and OOM-safe. */
  task<I, R>(fn: TaskFn<I, R>, input?: I, options?: TaskOptions): Promise<Awaited<R>>;
  readonly tasks: TaskHelpers;
  /** Runs `fn` over `items` in task threads, at most `concurrency` at once; results in item order. */
  map<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFn<I, R>, options?: MapOptions & { settle?: false }): Promise<Awaited<R>[]>;
  map<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFn<I, R>, options: MapOptions & { settle: true }): Promise<PromiseSettledResult<Awaited<R>>[]>;
  /** Like `map`, as an async iterator of the results in order (bounded read-ahead). */
  mapStream<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFn<I, R>, options?: MapOptions & { settle?: false }): AsyncIterableIterator<Awaited<R>>;
  mapStream<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFn<I, R>, options: MapOptions & { settle: true }): AsyncIterableIterator<PromiseSettledResult<Awaited<R>>>;
  spawn<M = any>(actor: ActorHandler<M> | Behaviour<any, M> | URL | string, options?: SpawnOptions): ActorRef;
  /** `count` pooled actors of one source in the root group, in spawn order (`kind` is `pooled`; no `name`). */
  spawnMany<M = any>(count: number, actor: ActorHandler<M> | Behaviour<any, M> | URL | string, options?: SpawnOptions): ActorRef[];
  createGroup(options?: GroupOptions): ActorGroup;
  /**
   * A shared region of `size` bytes (a number, or a string like `"64kb"`; at most 2 GiB) for
   * actors spawned with `regions: [name]`: counters, flags and ring buffers with `Atomics`. The
   * same name and size returns the same buffer; it lives until shutdown.
   */
  region(name: string, size: number | string): SharedArrayBuffer;
  terminateActor(id: Target, reason?: string): Promise<void>;
  whereis(name: string): ActorRef | undefined;
  /** With a cluster: local and global names; `wait` keeps looking that long (ms). */
  whereis(name: string, options: { wait?: number }): Promise<ActorRef | RemoteRef | undefined>;
  /** This node of a cluster, when `config.cluster` is set. */
  readonly cluster?: Cluster;
  subscribe(fn: (m: Message) => void): () => void;
  on<E extends keyof SupervisorEvents>(event: E, fn: (e: SupervisorEvents[E]) => void): () => void;
  /** Counters, memory pool, metrics, and every actor unless `options.actors` says otherwise. */
  getDiagnostics(options?: { actors?: true | { offset?: number; limit: number } }): Result<SupervisorDiagnostics, string>;
  getDiagnostics(options: { actors: false }): Result<Omit<SupervisorDiagnostics, 'actors'>, string>;
  getDiagnostics(options: { actors: 'summary' }): Result<Omit<SupervisorDiagnostics, 'actors'> & { actorsByState: ActorStateCounts }, string>;
  getDiagnostics(options: DiagnosticsOptions): Result<Omit<SupervisorDiagnostics, 'actors'> & { actors?: ActorDiagnostics[]; actorsByState?: ActorStateCounts }, string>;
  /** Tier 2 read from the host (every box); the host holds a reference until release. */
  read(msg: unknown): ChainableReader | null;
  release(handle: Lock | { handle: Lock }): boolean;
  /** The live supervision tree, children in start order. */
  inspect(): TreeNode | null;
  /** Stops every actor in reverse start order; idempotent. */
  shutdown(): Promise<void>;
}

/** Creates a supervisor; every field is validated (TypeError/RangeError naming the field). */
export function createSupervisor(config?: SupervisorConfig): Supervisor;
