/// <reference lib="esnext.disposable" />
// Needs TypeScript >= 5.4 (`NoInfer`; `Symbol.asyncDispose` of the supervisor comes from the
// esnext.disposable lib, which @types/node also declares).

// Public types of warden. Hand-written; `npm test` compiles examples/ and __test__/types/
// against it (strict, with `@ts-expect-error` lines that must stay errors) and checks with
// __test__/types/tsdoc.mjs that every export and member is documented and every example compiles.
//
// How the types flow: `spawn` infers `ActorRef<Msg, Reply>` from the handler's `msg` parameter
// and return type (or a behaviour's `handle` and `init`), so a wrong message to `receive`/`call`
// is a compile error and `call` resolves with the reply type. Where nothing is known (an
// unannotated handler, a name looked up with `whereis`, a module without a type argument) the
// message and reply are `unknown`, never `any`.

// ---------------------------------------------------------------------------------------------
// Results, messages and helpers
// ---------------------------------------------------------------------------------------------

/** An actor's id, `actor-<n>`: stable across restarts (the incarnation changes, the id does not). */
export type ActorId = string;

/**
 * A Result: either `Ok(value)` or `Err(error)`. Check `isOk` (or `isErr`) to narrow it.
 *
 * @example
 * ```ts
 * const d = sup.getDiagnostics();
 * if (d.isOk) console.log(d.value.activeActors);
 * else console.error(d.error);
 * ```
 */
export type Result<T, E = string> = OkResult<T> | ErrResult<E>;

/** The success side of a {@link Result}. */
export interface OkResult<T> {
  /** Always true here. */
  readonly isOk: true;
  /** Always false here. */
  readonly isErr: false;
  /** The value. */
  readonly value: T;
  /** Always undefined here. */
  readonly error: undefined;
}

/** The failure side of a {@link Result}. */
export interface ErrResult<E> {
  /** Always false here. */
  readonly isOk: false;
  /** Always true here. */
  readonly isErr: true;
  /** Always undefined here. */
  readonly value: undefined;
  /** What went wrong (a message for warden's own results). */
  readonly error: E;
}

/** A successful (frozen) {@link Result} holding `value`. */
export function Ok<T>(value: T): Result<T, never>;
/** A failed (frozen) {@link Result} holding `error`. */
export function Err<E>(error: E): Result<never, E>;

/**
 * A Tier 1 message an actor emitted with `self.send(msg, data)` (what `subscribe` callbacks
 * get), or a system notification (`DOWN`, `EXIT`, `INBOX`) with `from: 'system'`.
 *
 * @typeParam D - the type of `data`; unknown unless you know what the emitter sends.
 */
export interface Message<D = unknown> {
  /** The message name given to `self.send` (or `DOWN`, `EXIT`, `INBOX`). */
  readonly msg: string;
  /** How a Tier 2 box's bytes are encoded (INBOX messages). */
  readonly type?: FmtType;
  /** The payload given to `self.send`, or the notification's details. */
  readonly data?: D;
  /** The box of an `INBOX` delivery (Tier 2): read it with `ctx.read(message)`. */
  readonly handle?: Lock;
  /** Who emitted it, added by the runtime (it cannot be forged): an actor id, or `system`. */
  readonly from: ActorId | 'system';
}

/** The `msg` names of the members of `T` (a discriminated union on `msg`), or `string`. */
type MatchKeys<T> = T extends { readonly msg: infer K } ? (K extends string ? K : never) : never;

/** The members of `T` whose `msg` can be `K`. */
type MatchCase<T, K> = T extends { readonly msg: infer N } ? (K extends N ? T : never) : never;

/**
 * A handler of {@link matchAll}. Its parameter is checked both ways (a method's bivariance),
 * so a handler may annotate a narrower type than the message's, e.g. `(m: Message<number>)`
 * for a `Message` whose `data` you know.
 */
export type MatchHandler<T, R = unknown> = { bivarianceHack(message: T): R }['bivarianceHack'];

/**
 * The handlers object of {@link matchAll} for a message of type `T`:
 * - `T` is a union discriminated by literal `msg` names: one optional handler per name, each
 *   getting its own member of the union (a name that is not in the union is an error), plus `_`;
 * - `T` has `msg: string` (a {@link Message}): any key, each handler gets `T`;
 * - `T` is `unknown`: any key, each handler gets `unknown` (annotate what you expect).
 */
export type MatchHandlers<T> = unknown extends T
  ? { readonly [key: string]: MatchHandler<unknown> | undefined }
  : string extends MatchKeys<T>
    ? { readonly [key: string]: MatchHandler<T> | undefined }
    : { readonly [K in MatchKeys<T>]?: MatchHandler<MatchCase<T, K>> } & {
        /** Called when no other handler matches (and for messages without a `msg` name). */
        readonly _?: MatchHandler<T>;
      };

/** What {@link matchAll} returns for handlers `H`: any handler's result, or `undefined` without `_`. */
export type MatchResult<H> =
  | { [K in keyof H]: H[K] extends (...args: any[]) => infer R ? R : never }[keyof H]
  | (H extends { readonly _: (...args: any[]) => unknown } ? never : undefined);

/**
 * Calls the handler named by `message.msg` (or `handlers._` when none matches) with the message
 * and returns its result; `undefined` when nothing matches and there is no `_`.
 *
 * @example
 * ```ts
 * type Cmd = { msg: 'add'; n: number } | { msg: 'reset' };
 * const next = (total: number, cmd: Cmd) =>
 *   matchAll(cmd, { add: (c) => total + c.n, reset: () => 0 }); // c: { msg: 'add'; n: number }
 * ref.subscribe((m) => matchAll(m, { started: (m) => println(m.data), _: () => {} }));
 * ```
 */
export function matchAll<T, H extends MatchHandlers<T>>(message: T, handlers: H): MatchResult<H>;

/** Prints its arguments on one line (`console.log`). */
export function println(...args: unknown[]): void;

/**
 * True only for notifications made by the runtime (`DOWN`, `EXIT`, `INBOX`): a user payload
 * shaped like one does not pass.
 */
export function isSystemMessage(m: unknown): m is Message;

/**
 * Bytes from a number or a unit string: b, kb/kib, mb/mib, gb/gib (1024-based,
 * case-insensitive, decimals floored), e.g. `"1mb"`, `"512kb"`, `"1.5 MiB"`.
 *
 * @param field - the name used in the `TypeError`/`RangeError` thrown for a bad size.
 */
export function parseSize(size: number | string, field?: string): number;

/**
 * Process-wide counts for leak checks: live actor threads, core ports and live actors. All
 * zero once every supervisor of the process has shut down.
 */
export function runtimeStats(): {
  /** Live threads warden started (actors, warm threads, task threads, pool workers). */
  threads: number;
  /** Ports registered with the Rust core. */
  ports: number;
  /** Live actors in the Rust core. */
  actors: number;
};

/** A call or task did not finish in time (`timeoutMs`). */
export class TimeoutError extends Error {}

/** The actor a call waited on (or the thread a task ran on) ended first. */
export class ActorExitError extends Error {
  /** The exit reason, e.g. `error: boom`, `out_of_memory`, `noproc`, `shutdown`. */
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// Tier 2: boxes of shared memory
// ---------------------------------------------------------------------------------------------

/** A Tier 2 handle: a box and its generation (stale once the box is reused). */
export interface Lock {
  /** Which box of the pool. */
  readonly boxIndex: number;
  /** The box's generation when the handle was made; a later reuse makes the handle stale. */
  readonly epoch: number;
}

/** How a box's bytes are encoded. */
export type FmtType = 'json' | 'string' | 'binary' | 'cbor';

/**
 * Who may read a box besides its writer and the host: `owner` (nobody else), the writer's
 * `group`, the actors `linked` to it, `all`, or a list of actors (refs, ids or registered names).
 */
export type Share = 'owner' | 'group' | 'linked' | 'all' | ReadonlyArray<Target>;

/** A reader over the committed bytes of a box; nothing is copied until asked for. */
export interface ChainableReader {
  /** The `msg` name given at commit. */
  readonly msg: string;
  /** The encoding given at commit. */
  readonly type: FmtType;
  /** The box and generation this reader reads. */
  readonly handle: Lock;
  /** Committed length in bytes. */
  readonly length: number;
  /** The box memory itself (zero-copy; detached once released). */
  bytes(): Uint8Array;
  /** An owned copy of the bytes. */
  copy(): Uint8Array;
  /** An owned copy (Future's name). */
  binary(): Uint8Array;
  /** An owned copy as a `Uint8Array`, as Future's `raw()` returns (not an `ArrayBuffer`). */
  raw(): Uint8Array;
  /** The bytes decoded as UTF-8 text. */
  string(): string;
  /**
   * The bytes decoded as JSON.
   * @typeParam T - what you expect (not checked at run time).
   */
  json<T = unknown>(): T;
  /**
   * The bytes decoded as CBOR.
   * @typeParam T - what you expect (not checked at run time).
   */
  cbor<T = unknown>(): T;
}

/** A box handle as `release` takes it: a {@link Lock}, or anything carrying one as `handle` (a reader, an INBOX message). */
export type BoxHandle =
  | Lock
  | {
      /** The box and generation. */
      readonly handle: Lock;
    };

/** Where and how a Tier 2 box is published: by `ctx.write` or `Writable.commit`. */
export interface CommitOptions {
  /** The name readers see in their `INBOX` message. */
  msg: string;
  /**
   * How the bytes are encoded.
   * @defaultValue `'json'`
   */
  type?: FmtType;
  /**
   * Who may read the box besides its writer and the host.
   * @defaultValue `'owner'`
   */
  share?: Share;
}

/** How long a Tier 2 write or alloc waits for a free box. */
export interface BoxWaitOptions {
  /**
   * Most ms to wait for a free box; then the result is `Err`.
   * @defaultValue the actor's lease (`timeouts.defaultLeaseMs`, or `actorTimeouts[name]`)
   */
  timeoutMs?: number;
  /**
   * `false`: fail at once (`Err`) when no box is free instead of waiting in FIFO order.
   * @defaultValue `true`
   */
  wait?: boolean;
}

/** What `ctx.write` stores: `data` encoded by `type`, published to `share`. */
export interface WriteOptions extends CommitOptions, BoxWaitOptions {
  /** The value to store (bytes for `binary`, a string for `string`, JSON or CBOR data otherwise). */
  data: unknown;
}

/** A box reserved by `ctx.alloc`: fill `bytes` (the box memory itself), then `commit`. */
export interface Writable {
  /** A view into the box itself; detached by `commit` or `abort`. */
  readonly bytes: Uint8Array;
  /** Publishes the box (no copy at all); readers get an `INBOX` message with its handle. */
  commit(options: CommitOptions): Promise<Result<Lock, string>>;
  /** Gives the box back unpublished. */
  abort(): void;
}

// ---------------------------------------------------------------------------------------------
// References and targets
// ---------------------------------------------------------------------------------------------

/** Type-level key of the message and reply types a reference carries; no such property exists at run time. */
declare const refTypes: unique symbol;

/**
 * The message and reply types of an actor, as a reference carries them (type-level only).
 * The message is checked both ways when a ref is assigned (as TypeScript does for methods), so
 * a typed ref can be stored where an untyped `ActorRef` is expected.
 */
interface RefTypes<M, R> {
  /** Takes the actor's message type. */
  message(msg: M): void;
  /** The actor's reply type. */
  readonly reply: R;
}

/**
 * A light reference to an actor, as actors see them (`ctx.spawn`, `ctx.whereis`): its id,
 * plus, for the type checker only, the messages it takes and what it replies.
 *
 * @typeParam M - the messages the actor's handler takes.
 * @typeParam R - what it replies to `call` (a behaviour: its new state).
 */
export interface ChildRef<M = unknown, R = unknown> {
  /** The actor's id, stable across restarts. */
  readonly id: ActorId;
  /** Type-level only (never present): the actor's message and reply types. */
  readonly [refTypes]?: RefTypes<M, R>;
}

/**
 * Anything that names an actor: a ref (host or child), `{ id }`, an id or a registered name.
 * Wherever an API takes a target (send, call, link, monitor, share lists) all of these work.
 */
export type Target = ChildRef<any, unknown> | ActorId;

/** The message type of a target: what its ref carries; `unknown` for ids and names. */
export type MessageOf<T> = T extends string
  ? unknown
  : T extends { readonly [refTypes]?: RefTypes<infer M, any> }
    ? M
    : unknown;

/** The reply type of a target: what its ref carries; `unknown` for ids and names. */
export type ReplyOf<T> = T extends string
  ? unknown
  : T extends { readonly [refTypes]?: RefTypes<any, infer R> }
    ? R
    : unknown;

/**
 * Options of a request-reply `call`, from the host or from an actor. Any other option is a
 * `TypeError` naming it.
 */
export interface CallOptions {
  /**
   * Most ms to wait for the reply; then the call rejects with {@link TimeoutError} (a late
   * reply is dropped).
   * @defaultValue `5000`
   */
  timeoutMs?: number;
  /**
   * Aborting rejects the call with the signal's reason (an `AbortError` unless it was given
   * one) and drops a later reply; an already aborted signal sends nothing.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/**
 * Host-side handle of a supervised actor; stable across restarts.
 *
 * @typeParam M - the messages the actor takes (`receive`, `call`); inferred by `spawn`.
 * @typeParam R - what `call` resolves with: the handler's (awaited) return value, or a
 * behaviour's new state.
 */
export interface ActorRef<M = unknown, R = unknown> extends ChildRef<M, R> {
  /** `actor-<n>`, stable across restarts. */
  readonly id: ActorId;
  /** The name it was spawned with, if any. */
  readonly name?: string;
  /** This actor's current incarnation: 0 at spawn, one more per restart. */
  readonly incarnation: number;
  /**
   * Enqueues `msg` in the actor's mailbox (send, no reply). Messages queued when it crashes are
   * handled by its next incarnation.
   *
   * @returns false (and a `deadLetter` event) if the actor is dead for good, its mailbox is
   * full, or the named incarnation is gone.
   */
  receive(
    msg: M,
    options?: {
      /**
       * Deliver only to this incarnation; refused once it is over.
       * @defaultValue any incarnation
       */
      incarnation?: number;
    },
  ): boolean;
  /**
   * Request-reply: resolves with the handler's return value (a behaviour: its new state).
   * Rejects with {@link TimeoutError} after `timeoutMs`, with the signal's reason when `signal`
   * aborts, or with {@link ActorExitError} if the actor ends before replying.
   *
   * @example
   * ```ts
   * const doubler = sup.spawn((self, n: number) => n * 2);
   * const four: number = await doubler.call(2, { timeoutMs: 500 });
   * ```
   */
  call(msg: M, options?: CallOptions): Promise<R>;
  /** Messages this actor emits with `self.send`, and `DOWN` for actors it monitors. Returns the unsubscribe function. */
  subscribe(fn: (m: Message) => void): () => void;
  /** Kills now, even inside `while(true){}`; never restarted. Resolves when its thread is gone. */
  terminate(reason?: string): Promise<void>;
  /**
   * A crash from outside (OTP's `exit(Pid, kill)`): kills the current incarnation with `reason`
   * and the supervisor restarts it by its policy.
   *
   * @param reason - the exit reason links and monitors see. Default `killed`.
   * @returns true once that incarnation is over, false if none was running.
   */
  kill(reason?: string): Promise<boolean>;
  /** Its diagnostics, or `Err("Actor not found: <id>")` once it is dead for good. */
  getDiagnostics(): Result<ActorDiagnostics, string>;
  /** Bidirectional link: an abnormal exit of one stops the other with `linked: <reason>`. */
  link(other: Target): void;
  /** Removes a link made with `link`. */
  unlink(other: Target): void;
  /** This actor watches `other` (one-way, stackable); returns the monitor reference `ref-N`. */
  monitor(other: Target): string;
  /** Removes a monitor; false if it was not active. */
  demonitor(ref: string): boolean;
  /** Tier 2 read from the host (every box is readable there); null for other messages. */
  read(msg: unknown): ChainableReader | null;
  /** Gives back the host's reference to a box (its views are detached first). */
  release(handle: BoxHandle): boolean;
}

/**
 * The ref type of an actor given its type: a handler function, a behaviour object, or a
 * module namespace (`typeof import('./worker.js')`) whose default export is one of those.
 * `unknown` (or anything else) gives an untyped `ActorRef`.
 */
export type ActorRefOf<A> = ActorRef<MessageOfActor<A>, ReplyOfActor<A>>;

/** The message type an actor (handler, behaviour or module namespace) takes. */
export type MessageOfActor<A> = A extends { readonly default: infer D }
  ? MessageOfActor<D>
  : A extends (self: Self, msg: infer M, ctx: any) => unknown
    ? M
    : A extends { handle: (state: any, msg: infer M, ctx: any) => unknown }
      ? M
      : unknown;

/** The reply type of an actor (handler, behaviour or module namespace). */
export type ReplyOfActor<A> = A extends { readonly default: infer D }
  ? ReplyOfActor<D>
  : A extends (self: Self, msg: any, ctx: any) => infer R
    ? Awaited<R>
    : A extends { handle: (state: infer S, msg: any, ctx: any) => unknown }
      ? S
      : unknown;

// ---------------------------------------------------------------------------------------------
// Inside an actor
// ---------------------------------------------------------------------------------------------

/** `self` inside an actor. */
export interface Self {
  /** This actor's id (stable across restarts). */
  readonly id: ActorId;
  /** The name it was spawned or registered with, if any. */
  readonly name?: string;
  /** This incarnation's number: 0 at spawn, one more per restart (`ActorRef.incarnation`). */
  readonly incarnation: number;
  /**
   * Emits `{ msg, data, from }` to subscribers; `from` is added by the runtime. Like `ctx.send`
   * it is queued in the thread's outbox and delivered at the end of the JS task (or before the
   * thread's next native call).
   * @returns true once queued.
   */
  send(msg: string, data?: unknown): boolean;
}

/** Bytes `ctx.fmt` decodes: a `Uint8Array`, an `ArrayBuffer` or any view. */
export type FmtBytes = Uint8Array | ArrayBuffer | ArrayBufferView;

/** Byte encoders an actor gets as `ctx.fmt`. */
export interface Fmt {
  /**
   * As Future's: bytes (any `ArrayBuffer` or view) as a `Uint8Array` over the same memory, a
   * string as its UTF-8 text, anything else as JSON (refusing what JSON would change).
   */
  encode(value: unknown): Uint8Array;
  /**
   * Decodes bytes written as `type` (`binary` returns the bytes).
   * @param type - how they were written; default `json`.
   */
  decode(bytes: FmtBytes, type?: FmtType): unknown;
  /** JSON encoding. */
  json: {
    /** A value as JSON bytes. */
    encode(value: unknown): Uint8Array;
    /** JSON bytes as a value. */
    decode(bytes: FmtBytes): unknown;
  };
  /** UTF-8 text. */
  string: {
    /** Text as UTF-8 bytes. */
    encode(s: string): Uint8Array;
    /** UTF-8 bytes as text. */
    decode(bytes: FmtBytes): string;
  };
  /** Real CBOR (cbor-x): carries what JSON cannot (Date, Map, Set, bigint, bytes). */
  cbor: {
    /** A value as CBOR bytes. */
    encode(value: unknown): Uint8Array;
    /** CBOR bytes as a value. */
    decode(bytes: FmtBytes): unknown;
  };
  /** A zero-filled byte array of `size` bytes. */
  alloc(size: number): Uint8Array;
}

/**
 * A method of a host resource as an actor calls it: every argument is passed (validated on the
 * host against the method's `input`) and the promise resolves with the handler's result.
 */
export type ResourceMethodCall = (...args: any[]) => Promise<unknown>;

/** The methods of one host resource, as actors call them (`ctx.resources.db.query(...)`). */
export interface ResourceClient {
  readonly [method: string]: ResourceMethodCall;
}

/**
 * What actors see as `ctx.resources`: each resource of the supervisor's `resources` config by
 * name. Untyped by default (every method resolves with `unknown`); declare yours to type them:
 *
 * @example
 * ```ts
 * declare module 'warden' {
 *   interface Resources {
 *     db: { query(q: { sql: string }): Promise<Row[]> };
 *   }
 * }
 * // in an actor: const rows = await ctx.resources.db.query({ sql }); // Row[]
 * ```
 */
export interface Resources {
  readonly [name: string]: ResourceClient;
}

/**
 * `ctx` inside an actor.
 *
 * @typeParam S - the state of a behaviour actor (`ctx.state`); `unknown` for handler actors.
 */
export interface Context<S = unknown> {
  /** The same `self` the handler gets. */
  readonly self: Self;
  /** JSON and text encoders. */
  readonly fmt: Fmt;
  /** True once a polite stop has been requested (`shutdown` option given in ms or `infinity`). */
  readonly isCancelled: boolean;
  /**
   * Sends without waiting (FIFO per sender and receiver). Mail is batched in this thread's
   * outbox and delivered before this actor's next call, reply, emit or exit, when its handler
   * yields, and within 5–50 ms even if it keeps computing. Undeliverable mail is reported as a
   * `deadLetter` event.
   *
   * @param target - a ref from `ctx.spawn`/`ctx.whereis` (its message type is checked), an id
   * or a registered name.
   * @returns false once the target is known to be dead for good.
   */
  send<T extends Target>(target: T, msg: MessageOf<T>): boolean;
  /**
   * Request-reply to another actor: resolves with its handler's return value (typed when the
   * target is a typed ref), rejects with {@link TimeoutError} or {@link ActorExitError}.
   *
   * @example
   * ```ts
   * const child = await ctx.spawn((self, n: number) => n + 1);
   * const two: number = await ctx.call(child, 1, { timeoutMs: 1000 });
   * ```
   */
  call<T extends Target>(target: T, msg: MessageOf<T>, options?: CallOptions): Promise<ReplyOf<T>>;
  /**
   * Spawns a child supervised by this actor's group; resolves with its ref (typed from the
   * handler). Same forms and options as {@link Supervisor.spawn}; a child gets no more
   * resources or regions than its parent.
   */
  spawn<M = unknown, R = unknown>(actor: ActorHandler<M, R>, options?: SpawnOptions): Promise<ChildRef<M, Awaited<R>>>;
  /** Spawns a behaviour child (stateful); its replies are its new states. */
  spawn<CS, M = unknown>(actor: Behaviour<CS, M>, options?: SpawnOptions): Promise<ChildRef<M, CS>>;
  /**
   * Spawns a module child (its default export is the handler or behaviour).
   * @typeParam A - the module's type, e.g. `typeof import('./worker.js')`, to type the ref.
   */
  spawn<A = unknown>(actor: URL | string, options?: SpawnOptions): Promise<ChildRef<MessageOfActor<A>, ReplyOfActor<A>>>;
  /**
   * Spawns `count` pooled children of one source (as {@link Supervisor.spawnMany}: `kind` is
   * `pooled`, no `name`), supervised by this actor's group; resolves with their refs in spawn
   * order. From a pooled actor, the spawns it makes in one turn (`ctx.spawn` in a loop, this)
   * reach the host as one request; each still succeeds or fails on its own.
   *
   * @example
   * ```ts
   * const rooms = await ctx.spawnMany(1000, { init: (): string[] => [], handle: (log, m: string) => [...log, m] });
   * ctx.send(rooms[0], 'hello');
   * ```
   */
  spawnMany<M = unknown, R = unknown>(count: number, actor: ActorHandler<M, R>, options?: SpawnManyOptions): Promise<ChildRef<M, Awaited<R>>[]>;
  /** `count` pooled behaviour children. */
  spawnMany<CS, M = unknown>(count: number, actor: Behaviour<CS, M>, options?: SpawnManyOptions): Promise<ChildRef<M, CS>[]>;
  /** `count` pooled module children. */
  spawnMany<A = unknown>(count: number, actor: URL | string, options?: SpawnManyOptions): Promise<ChildRef<MessageOfActor<A>, ReplyOfActor<A>>[]>;
  /** Stops this actor (reason `normal`), or a child it spawned. */
  terminate(target?: Target): Promise<void>;
  /** Crashes a child it spawned from outside (`reason` default `killed`); its policy restarts it. */
  kill(target: Target, reason?: string): Promise<boolean>;
  /** The actor registered under `name`, if any (untyped: its message and reply are `unknown`). */
  whereis(name: string): ChildRef | undefined;
  /**
   * The actor registered under `name`, if any, typed as you say (not checked at run time).
   * @typeParam M - the messages you know it takes.
   * @typeParam R - what you know it replies.
   */
  whereis<M, R = unknown>(name: string): ChildRef<M, R> | undefined;
  /** Registers this actor's name (unique; follows it across restarts). */
  register(name: string): void;
  /** "Still alive": resets the watchdog (`heartbeatMs`) and extends the leases of boxes it holds. */
  heartbeat(): void;
  /**
   * Lets other work run before this handler goes on: a pooled actor's co-located actors get a
   * turn of its worker (the actor itself still handles one message at a time); in an isolated
   * actor it resolves at once.
   */
  yield(): Promise<void>;
  /** Bidirectional link: an abnormal exit of one stops the other (unless it traps exits). */
  link(target: Target): void;
  /** Removes a link. */
  unlink(target: Target): void;
  /** Returns a monitor reference `ref-N`; `DOWN` arrives as a system message. */
  monitor(target: Target): string;
  /** Removes a monitor; false if it was not active. */
  demonitor(ref: string): boolean;
  /** Exit signals of linked actors become `EXIT` messages (or `onExit` calls). */
  trapExits(on: boolean): void;
  /** The state of a behaviour actor: what `init` or the last `handle` returned. */
  readonly state: S;
  /**
   * Host services configured with `createSupervisor({ resources })` (limited by the spawn option
   * `resources`). Each method call is validated on the host and rejects with an `Error` naming
   * the resource, the method and the problem.
   *
   * @example
   * ```ts
   * sup.spawn(async (self, sql: string, ctx) => ctx.resources.db.query({ sql }), { resources: ['db'] });
   * ```
   */
  readonly resources: Resources;
  /**
   * Tier 2 write (one copy into a box); readers get an `INBOX` message with the handle.
   *
   * @example
   * ```ts
   * const lock = await ctx.write({ msg: 'doc', type: 'json', data: { rows }, share: ['reader'] });
   * if (lock.isErr) return lock.error; // no free box in time, too large, ...
   * ```
   */
  write(options: WriteOptions): Promise<Result<Lock, string>>;
  /**
   * Tier 2 zero-copy write: reserves a box of at least `size` bytes and gives a view into it
   * to fill, then `commit`.
   *
   * @example
   * ```ts
   * const w = await ctx.alloc(1024);
   * if (w.isOk) {
   *   w.value.bytes.fill(1);
   *   await w.value.commit({ msg: 'data', type: 'binary', share: 'all' });
   * }
   * ```
   */
  alloc(size: number, options?: BoxWaitOptions): Promise<Result<Writable, string>>;
  /**
   * A reader for an `INBOX` message, a message carrying a `handle`, or a {@link Lock}; null
   * otherwise (and for stale, forged or unauthorised handles).
   *
   * @example
   * ```ts
   * const r = ctx.read(msg);
   * if (r) {
   *   const sum = r.bytes().reduce((a, b) => a + b, 0); // the box memory, no copy
   *   ctx.release(r.handle);
   * }
   * ```
   */
  read(msg: unknown): ChainableReader | null;
  /** Gives this actor's reference back (its views are detached). */
  release(handle: BoxHandle): boolean;
  /**
   * A shared region granted with the spawn option `regions` (the same memory as the host's and
   * every other granted actor's, across restarts), for `Atomics`; throws for one not granted.
   */
  region(name: string): SharedArrayBuffer;
}

/**
 * An actor: a callback handling one message at a time. It is serialised with `toString()` and
 * rebuilt in the actor's thread, so it cannot use variables of the surrounding scope.
 *
 * @typeParam M - the messages it takes (annotate `msg`; `unknown` otherwise).
 * @typeParam R - what it returns: the reply of `call`.
 */
export type ActorHandler<M = unknown, R = unknown> = (self: Self, msg: M, ctx: Context) => R | Promise<R>;

/**
 * A stateful actor with lifecycle hooks; every function is serialised like a callback. The
 * state `S` is what `init` returns; `handle` gets it and returns the next one, which is also
 * the reply to `call`. Without `init` the first state is `undefined`, so `init` is required
 * unless `S` includes `undefined`.
 *
 * @typeParam S - the state, checked against `init`'s return type and `handle`'s.
 * @typeParam M - the messages `handle` takes.
 * @example
 * ```ts
 * type Cmd = { msg: 'add'; n: number } | { msg: 'reset' };
 * const acc: Behaviour<{ total: number }, Cmd> = {
 *   init: () => ({ total: 0 }),
 *   handle: (s, cmd) => (cmd.msg === 'add' ? { total: s.total + cmd.n } : { total: 0 }),
 * };
 * const ref = sup.spawn(acc); // ActorRef<Cmd, { total: number }>
 * ```
 */
export type Behaviour<S = unknown, M = unknown> = BehaviourMethods<S, M> &
  (undefined extends S
    ? {
        /** The state of each new incarnation (optional: the state type includes `undefined`). */
        init?: BehaviourInit<S>;
      }
    : {
        /** The state of each new incarnation (runs again after a restart). */
        init: BehaviourInit<S>;
      });

/** `init` of a behaviour: the state of each new incarnation (runs again after a restart). */
export type BehaviourInit<S> = () => S | Promise<S>;

/** The functions of a behaviour besides `init` (see {@link Behaviour}). */
export interface BehaviourMethods<S = unknown, M = unknown> {
  /**
   * Returns the new state (which is also the reply to `call`). The state type is taken from
   * `init` and from `state`'s annotation, never from what `handle` returns: a different shape
   * returned here is an error, not a wider state.
   */
  handle: (state: S, msg: M, ctx: Context<S>) => NoInfer<S> | Promise<NoInfer<S>>;
  /** Runs before the first message of each incarnation. */
  onStart?: (ctx: Context<S>) => unknown;
  /** Runs on a polite stop (the spawn option `shutdown` in ms or `infinity`); isolated actors only. */
  onTerminate?: (reason: string, ctx: Context<S>) => unknown;
  /** An exit signal of a linked actor, when trapping exits (`ctx.trapExits(true)`); its result is ignored. */
  onExit?: (id: ActorId, reason: string, ctx: Context<S>) => unknown;
  /** Runs after `idleTimeoutMs` without a message (and again per idle period); isolated actors only. */
  onIdle?: (ctx: Context<S>) => unknown;
}

/**
 * What a module actor exports: a default handler or behaviour, and optionally the hooks as
 * named exports. Annotate your module with it (`export default handler satisfies ...`) and
 * spawn it with its type: `sup.spawn<typeof import('./worker.js')>(url)`.
 */
export interface ActorModule {
  /** The handler function or behaviour object. */
  readonly default: ActorHandler<any, unknown> | Behaviour<any, any>;
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** How a group restarts its children when one fails. */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
/** When a child is restarted: always, after an abnormal exit only, or never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** Restart intensity and backoff of a group. */
export interface RetryConfig {
  /**
   * Restarts allowed within `withinMs`; one more and the group gives up and escalates.
   * `Infinity` disables the limit.
   * @defaultValue `3`
   */
  max?: number;
  /**
   * The window of `max`, in ms.
   * @defaultValue `5000`
   */
  withinMs?: number;
  /**
   * The n-th consecutive restart waits `delayMs`·1 (`fixed`), ·(n+1) (`linear`) or ·2ⁿ
   * (`exponential`).
   * @defaultValue none: restarts are immediate
   */
  backoff?: 'fixed' | 'linear' | 'exponential';
  /**
   * The base delay of `backoff`, in ms.
   * @defaultValue `100`
   */
  delayMs?: number;
  /**
   * The longest backoff delay, in ms.
   * @defaultValue `5000`
   */
  maxDelayMs?: number;
  /**
   * Randomises each delay by ± this share (0..1).
   * @defaultValue `0.2`
   */
  jitter?: number;
}

/** What a crash policy decides about one handler failure. */
export type CrashDecision = 'restart' | 'resume' | 'stop' | 'restartAll' | 'stopAll' | 'escalate';

/** `onCrash(error, msg, info)`: replaces the group's strategy for handler failures. */
export type CrashPolicy = (
  error: Error,
  msg: unknown,
  info: {
    /** The failed actor's ref. */
    actor: ActorRef;
    /** Its id. */
    id: ActorId;
    /** The exit reason (`error: <message>`). */
    reason: string;
    /** The incarnation that failed. */
    incarnation: number;
    /** The supervisor. */
    supervisor: Supervisor;
  },
) => CrashDecision | Promise<CrashDecision>;

/**
 * A validator of resource arguments or results: any Standard Schema validator (zod, valibot,
 * arktype: an object with a `~standard` property) or a plain JSON Schema object.
 */
export type ResourceSchema = StandardSchema | Record<string, unknown>;

/** The part of the Standard Schema interface (standardschema.dev) warden uses. */
export interface StandardSchema {
  /** The validator's Standard Schema properties. */
  readonly '~standard': {
    /** Validates a value: `{ value }` or `{ issues }`, possibly as a promise. */
    readonly validate: (value: unknown) => unknown;
  };
}

/** One method of a resource: what actors may call, validated on the host. */
export interface ResourceMethod {
  /** Validates the arguments: none as `undefined`, one as itself, several as an array. */
  input?: ResourceSchema;
  /** Validates the handler's result. */
  output?: ResourceSchema;
  /** Runs on the host with every argument the actor passed; its (awaited) result is the reply. */
  handler: (...args: any[]) => unknown;
  /**
   * Most ms a call may take; then it rejects in the actor with `timed out after N ms`.
   * @defaultValue the calling actor's lease
   */
  timeoutMs?: number;
}

/** A resource: methods by name, and `release` (run once at shutdown, after every actor stopped). */
export interface ResourceDefinition {
  /** Runs once at `shutdown()`, in declaration order; a failure is reported as an `error` event. */
  release?: () => unknown;
  /** A method actors call as `ctx.resources.<resource>.<method>(...args)`. */
  readonly [method: string]: ResourceMethod | (() => unknown) | undefined;
}

/** Sampled diagnostics. */
export interface DiagnosticsConfig {
  /**
   * Whether diagnostics are collected.
   * @defaultValue `true`
   */
  enabled?: boolean;
  /**
   * The share of events measured (0..1, evenly spread; 0 measures nothing).
   * @defaultValue `1`
   */
  sampleRate?: number;
  /**
   * The metrics to measure; nothing is measured unless tracked.
   * @defaultValue `{}`
   */
  track?: Partial<Record<TrackedMetric, boolean>>;
}

/**
 * Configuration of {@link createSupervisor}; every field is validated (a `TypeError` or
 * `RangeError` naming the field).
 */
export interface SupervisorConfig {
  /**
   * Hard cap on live (isolated) actors; over it `spawn` throws `Max actors limit reached: N`.
   * @defaultValue `1000`
   */
  maxActors?: number;
  /** The Tier 2 memory pool. */
  memory?: {
    /**
     * Number of boxes (0: no pool).
     * @defaultValue `8`
     */
    poolSize?: number;
    /**
     * Bytes per box: a number or a unit string such as `"1mb"`, `"512kb"`, `"1.5 MiB"`.
     * @defaultValue `"1mb"`
     */
    boxSize?: number | string;
  };
  /** Leases and per-name deadlines. */
  timeouts?: {
    /**
     * How long an actor may hold a box, in ms (`ctx.heartbeat()` extends it).
     * @defaultValue `5000`
     */
    defaultLeaseMs?: number;
    /**
     * Per-message deadline (and lease) of the actor registered under each name, in ms.
     * @defaultValue `{}`
     */
    actorTimeouts?: Record<string, number>;
  };
  /**
   * The root group's strategy.
   * @defaultValue `'one-for-one'`
   */
  strategy?: Strategy;
  /** The root group's restart intensity and backoff. */
  retry?: RetryConfig;
  /**
   * Host services actors call with `ctx.resources.<name>.<method>(...args)`.
   * @defaultValue `{}`
   */
  resources?: Record<string, ResourceDefinition>;
  /** Diagnostics; `track` turns on sampled metrics. */
  diagnostics?: DiagnosticsConfig;
  /**
   * Started, idle threads kept ready so spawn does not wait for thread start-up.
   * @defaultValue `min(2, os.availableParallelism())`
   */
  warmWorkers?: number;
  /**
   * Crash policy of the root group (replaces its strategy for handler failures).
   * @defaultValue none: the strategy decides
   */
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
  /**
   * NATS user name, passed through to the `nats` client.
   * @defaultValue none
   */
  user?: string;
  /**
   * NATS password.
   * @defaultValue none
   */
  pass?: string;
  /**
   * NATS token.
   * @defaultValue none
   */
  token?: string;
  /**
   * A NATS `.creds` file (JWT and NKey seed).
   * @defaultValue none
   */
  credsFile?: string;
  /** TLS options of the `nats` client. */
  tls?: {
    /**
     * CA certificate file.
     * @defaultValue none
     */
    caFile?: string;
    /**
     * Client certificate file.
     * @defaultValue none
     */
    certFile?: string;
    /**
     * Client key file.
     * @defaultValue none
     */
    keyFile?: string;
    /**
     * CA certificate (PEM).
     * @defaultValue none
     */
    ca?: string;
    /**
     * Client certificate (PEM).
     * @defaultValue none
     */
    cert?: string;
    /**
     * Client key (PEM).
     * @defaultValue none
     */
    key?: string;
    /**
     * TLS before the NATS handshake.
     * @defaultValue `false`
     */
    handshakeFirst?: boolean;
  };
  /**
   * First token of the cluster's subjects: clusters sharing a NATS server differ by it.
   * @defaultValue `'warden'`
   */
  prefix?: string;
  /**
   * The JetStream key-value bucket of global names.
   * @defaultValue `'warden_names'`
   */
  bucket?: string;
  /**
   * Heartbeat period in ms.
   * @defaultValue `1000`
   */
  heartbeatMs?: number;
  /**
   * Silence (ms) after which a node is down.
   * @defaultValue `5000`
   */
  downAfterMs?: number;
  /**
   * Envelopes queued per destination node at most; over it, sends are dead letters.
   * @defaultValue `10000`
   */
  outboundQueue?: number;
  /**
   * Envelopes in flight per destination node before its acknowledgements.
   * @defaultValue `4096`
   */
  window?: number;
}

/** A live node of the cluster. */
export interface ClusterNode {
  /** Its name. */
  node: string;
  /** Random per start (and per rejoin): a restarted node is a new node. */
  epoch: string;
  /** Whether it is this node. */
  self: boolean;
}

/** The payload of each event of `sup.cluster.on(event, fn)`. */
export interface ClusterEvents {
  /** A node joined. */
  nodeUp: {
    /** Its name. */
    node: string;
    /** Its epoch. */
    epoch: string;
  };
  /** A node is gone. */
  nodeDown: {
    /** Its name. */
    node: string;
    /** Its epoch. */
    epoch: string;
    /** `noconnection` (silent), `left` (shut down), `restarted` (seen with a new epoch). */
    reason: string;
  };
  /** This node's connection to NATS changed. */
  state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** The outcome of a `global: true` spawn's claim (a loser is stopped with reason `name_taken`). */
  registered: {
    /** The global name. */
    name: string;
    /** The actor that claimed it. */
    id: ActorId;
    /** Whether it got the name. */
    ok: boolean;
  };
  /** A frame that did not prove the cluster secret was dropped. */
  refused: {
    /** Frames refused so far. */
    count: number;
  };
}

/**
 * An actor of another node: `receive` and `call` as for a local one.
 *
 * @typeParam M - the messages you know it takes (not checked at run time).
 * @typeParam R - what you know it replies.
 */
export interface RemoteRef<M = unknown, R = unknown> extends ChildRef<M, R> {
  /** `actor-N@node`. */
  readonly id: ActorId;
  /** Its registered name, if the ref was found by name. */
  readonly name?: string;
  /** The node it lives on. */
  readonly node: string;
  /** The node's epoch when this ref was made; after the node restarts the ref is stale (`noproc`). */
  readonly epoch: string | undefined;
  /** At-most-once, FIFO per pair of nodes; false when it was dead-lettered here (`noconnection`, `noproc`, `overflow`). */
  receive(msg: M): boolean;
  /** Rejects at once with `ActorExitError` `noconnection` when the node is gone. */
  call(msg: M, options?: CallOptions): Promise<R>;
}

/** Options of a cluster-wide name lookup. */
export interface WhereisOptions {
  /**
   * Keep looking this long (ms) for a name not registered yet.
   * @defaultValue `0`: look once
   */
  wait?: number;
}

/** `sup.cluster`: this node of the cluster. */
export interface Cluster {
  /** This node's name. */
  readonly node: string;
  /** This node's epoch (random per start). */
  readonly epoch: string;
  /** The connection to NATS. */
  readonly state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** Resolves once connected to NATS. */
  readonly ready: Promise<void>;
  /** Live nodes (this one first) with their epochs. */
  nodes(): ClusterNode[];
  /** Cluster events. Returns the unsubscribe function. */
  on<E extends keyof ClusterEvents>(event: E, fn: (e: ClusterEvents[E]) => void): () => void;
  /** Local or global name (untyped); with `wait`, keeps looking that long. */
  whereis(name: string, options?: WhereisOptions): Promise<ActorRef | RemoteRef | undefined>;
  /** Local or global name, typed as you say (not checked at run time). */
  whereis<M, R = unknown>(name: string, options?: WhereisOptions): Promise<ActorRef<M, R> | RemoteRef<M, R> | undefined>;
  /** A ref for an `actor-N@node` id (e.g. one that came inside a message). */
  ref(id: string): ActorRef | RemoteRef;
  /** Whether `target` names an actor of another node. */
  isRemote(target: unknown): boolean;
  /** Envelope counters of this node. */
  stats(): {
    /** Envelopes sent. */
    sent: number;
    /** Envelopes received. */
    received: number;
    /** Frames refused (no proof of the secret). */
    refused: number;
    /** Envelopes for a stale epoch. */
    stale: number;
    /** Envelopes dead-lettered here. */
    deadLetters: number;
    /** Envelopes waiting to be sent. */
    queued: number;
  };
}

/** Settings of the workers that run pooled actors (`kind: 'pooled'`). */
export interface PoolConfig {
  /**
   * Worker threads.
   * @defaultValue `os.availableParallelism()`
   */
  workers?: number;
  /**
   * Most live pooled actors (the top-level `maxActors` counts isolated ones).
   * @defaultValue `1_000_000`
   */
  maxActors?: number;
  /**
   * How long actor code may run synchronously, in ms. Past it, with `interrupt` a handler is
   * unwound in its worker and only its actor exits with `timeout`; otherwise (or for code the
   * limit does not cover: hooks, timer callbacks) its worker is killed and replaced — the
   * culprit exits with `timeout`, the other actors on it with `worker_lost`. A continuation
   * after an `await` that does not yield costs its worker after twice that (at least 1 s); its
   * culprit is named when it is the only actor awaiting.
   * @defaultValue `50`
   */
  maxBlockMs?: number;
  /**
   * Run batches under a `vm` time limit (up to 8 per limited run) so that a synchronous hang
   * ends only its actor (on Bun a limited run costs about 2 µs; on Node every limited run
   * starts a watchdog thread, about 40 µs).
   * @defaultValue `true` on Bun, `false` on Node
   */
  interrupt?: boolean;
  /** Per wake a worker takes up to `maxActors` ready actors, each up to `perActor` messages. */
  batch?: {
    /**
     * Ready actors per wake.
     * @defaultValue `256`
     */
    maxActors?: number;
    /**
     * Messages per actor per wake.
     * @defaultValue `16`
     */
    perActor?: number;
  };
}

/** `isolated`: a thread of its own (the default); `pooled`: one of many on a shared pool worker. */
export type ActorKind = 'isolated' | 'pooled';

/** The task thread pool. */
export interface TaskPoolConfig {
  /**
   * Task threads started with the supervisor and kept alive: idle reaping never goes below them.
   * @defaultValue `0`
   */
  minThreads?: number;
  /**
   * Most task threads at once; they do not count against `maxActors`.
   * @defaultValue `os.availableParallelism()`
   */
  maxThreads?: number;
  /**
   * A thread idle this long (ms) is stopped, down to `minThreads` (`Infinity`: never).
   * @defaultValue `5000`
   */
  idleTimeoutMs?: number;
  /**
   * Most tasks waiting for a thread; over it `task` rejects at once with code `ERR_TASK_QUEUE_FULL`.
   * @defaultValue `Infinity`
   */
  maxQueue?: number;
  /**
   * A thread is replaced after running this many tasks.
   * @defaultValue `Infinity`
   */
  maxTasksPerThread?: number;
  /**
   * A thread whose heap grew past this many MiB is replaced once idle (Node only).
   * @defaultValue `Infinity`
   */
  maxHeapUsedMb?: number;
  /**
   * Runtime flags every task thread starts with (see `SpawnOptions.execArgv`).
   * @defaultValue none
   */
  execArgv?: string[];
  /**
   * Variables added to a copy of the host's `process.env` in every task thread.
   * @defaultValue none
   */
  env?: Record<string, string>;
}

/** Options of `createGroup`. */
export interface GroupOptions {
  /**
   * How the group restarts its children.
   * @defaultValue `'one-for-one'`
   */
  strategy?: Strategy;
  /**
   * Restart intensity and backoff.
   * @defaultValue the supervisor's `retry`
   */
  retry?: RetryConfig;
  /**
   * The parent group.
   * @defaultValue the root group, or the group `createGroup` is called on
   */
  parent?: ActorGroup;
  /**
   * Crash policy of this group.
   * @defaultValue none: the strategy decides
   */
  onCrash?: CrashPolicy;
}

/** Node's per-thread heap limits (`resourceLimits` of `worker_threads`), in MiB. */
export interface ResourceLimits {
  /** Main heap. */
  maxOldGenerationSizeMb?: number;
  /** Heap for recently created objects. */
  maxYoungGenerationSizeMb?: number;
  /** Memory for generated code. */
  codeRangeSizeMb?: number;
  /** The thread's stack. */
  stackSizeMb?: number;
}

/** Options of `spawn`, `spawnMany` and `ctx.spawn`. */
export interface SpawnOptions {
  /**
   * `isolated` (a thread of its own) or `pooled` (a slot on a shared pool worker). Pooled actors
   * refuse `resourceLimits`, `execArgv` and `env` (a TypeError naming the option: each belongs
   * to a thread, and pooled actors share one).
   * @defaultValue `'isolated'`
   */
  kind?: ActorKind;
  /**
   * Registered name, unique per supervisor; follows the actor across restarts.
   * @defaultValue none
   */
  name?: string;
  /**
   * With `name` and a cluster: register the name cluster-wide (one owner in the whole cluster).
   * @defaultValue `false`
   */
  global?: boolean;
  /**
   * Per-message deadline in ms: a handler running longer is killed with reason `timeout`.
   * @defaultValue `timeouts.actorTimeouts[name]`, else none
   */
  timeoutMs?: number;
  /**
   * When it is restarted: `permanent` (always), `transient` (after an abnormal exit), `temporary` (never).
   * @defaultValue `'transient'`
   */
  restart?: RestartType;
  /** Mailbox bound. */
  mailbox?: {
    /**
     * Most queued messages.
     * @defaultValue unbounded
     */
    capacity?: number;
    /**
     * What a send to a full mailbox does: refuse it (a dead letter) or drop the oldest message.
     * @defaultValue `'reject'`
     */
    overflow?: 'reject' | 'drop-oldest';
  };
  /**
   * How strategy stops, `terminateActor` and `shutdown` end it: `brutal` (kill), a number of ms
   * (polite: `ctx.isCancelled`, `onTerminate`, then kill), or `infinity`.
   * `ActorRef.terminate()` always kills at once.
   * @defaultValue `5000` if it has an `onTerminate` hook, else `'brutal'`
   */
  shutdown?: 'brutal' | 'infinity' | number;
  /**
   * `onIdle(ctx)` runs after this long (ms) without a message (and again per idle period).
   * @defaultValue none
   */
  idleTimeoutMs?: number;
  /**
   * Watchdog: without `ctx.heartbeat()` for this long (ms) the actor is killed with `timeout`.
   * @defaultValue none
   */
  heartbeatMs?: number;
  /**
   * Names of the supervisor's `resources` this actor may call (`ctx.resources`); each must exist.
   * @defaultValue every resource (a child of `ctx.spawn`: at most its parent's)
   */
  resources?: readonly string[];
  /**
   * Shared regions (made with `sup.region`) this actor gets with `ctx.region(name)`; each must
   * exist when it is spawned. A child spawned with `ctx.spawn` gets only regions its parent has.
   * @defaultValue none
   */
  regions?: readonly string[];
  /**
   * Runtime flags of the actor's thread (`new Worker(…, { execArgv })`), e.g.
   * `['--import', 'tsx']` to load TypeScript modules on Node 20. Flags Node refuses in a worker
   * throw a `RangeError` at spawn; Bun accepts any and applies none. The actor gets a thread of
   * its own, never shared with another actor (isolated actors only).
   * @defaultValue none
   */
  execArgv?: string[];
  /**
   * Variables added to a copy of the host's `process.env` in the actor's thread (isolated
   * actors only).
   * @defaultValue none
   */
  env?: Record<string, string>;
  /**
   * Node's per-thread heap limits: an actor that runs out dies alone with `out_of_memory`.
   * @defaultValue none (Node's defaults)
   */
  resourceLimits?: ResourceLimits;
}

/**
 * Options of `spawnMany`: spawn options without `name` and `global` (one name cannot name many
 * actors) or `resourceLimits`, `execArgv` and `env` (each belongs to a thread, and pooled actors
 * share one).
 */
export interface SpawnManyOptions extends Omit<SpawnOptions, 'kind' | 'name' | 'global' | 'resourceLimits' | 'execArgv' | 'env'> {
  /**
   * Always `pooled`.
   * @defaultValue `'pooled'`
   */
  kind?: 'pooled';
}

// ---------------------------------------------------------------------------------------------
// Diagnostics and events
// ---------------------------------------------------------------------------------------------

/** One actor's diagnostics (`ref.getDiagnostics()`, `sup.getDiagnostics().value.actors`). */
export interface ActorDiagnostics {
  /** Its id. */
  id: ActorId;
  /** Its registered name, or null. */
  name: string | null;
  /** Isolated or pooled. */
  kind: ActorKind;
  /** Pooled actors: the index of the pool worker running the current incarnation. */
  worker?: number;
  /** Current incarnation. */
  incarnation: number;
  /** Lifecycle state. */
  state: 'starting' | 'running' | 'restarting' | 'dead';
  /** Restarts so far. */
  restarts: number;
  /** Messages waiting in its mailbox. */
  mailboxDepth: number;
  /** Messages handled. */
  messageCount: number;
  /** The reason of its last abnormal exit, or null. */
  lastError: string | null;
  /** ms since it was spawned. */
  lifetimeMs: number;
  /** `ctx.heartbeat()` calls. */
  heartbeatCount: number;
  /** When the last heartbeat happened (ms since the epoch), or null. */
  lastHeartbeatAt: number | null;
  /**
   * JS heap in use by its thread (bytes, refreshed at most once a second while it handles
   * messages); null between incarnations. For a pooled actor: the heap of its pool worker,
   * shared with every actor there (each reports the same figure).
   */
  heapUsed: number | null;
}

/**
 * Which actors `sup.getDiagnostics(options)` lists in `actors`. The default (no options, or
 * `actors: true`) is every live actor: with many actors that is one entry each. `false` lists
 * none; `'summary'` gives `actorsByState` counts instead; a page `{ offset, limit }` (integers
 * >= 0) lists that slice of the start order (`activeActors` is the total to page through).
 */
export interface DiagnosticsOptions {
  /**
   * Which actors to list.
   * @defaultValue `true`
   */
  actors?: boolean | 'summary' | DiagnosticsPage;
}

/** A page of the start order of actors. */
export interface DiagnosticsPage {
  /**
   * Actors to skip.
   * @defaultValue `0`
   */
  offset?: number;
  /** Most actors to list. */
  limit: number;
}

/** How many live actors of a supervisor are in each state (`getDiagnostics({ actors: 'summary' })`). */
export interface ActorStateCounts {
  /** Actors whose incarnation is starting. */
  starting: number;
  /** Actors running. */
  running: number;
  /** Actors waiting for a restart. */
  restarting: number;
}

/** `getDiagnostics({ actors: 'summary' })`: the counters, with actors counted by state instead of listed. */
export interface SupervisorSummary extends Omit<SupervisorDiagnostics, 'actors'> {
  /** Live actors in each state. */
  actorsByState: ActorStateCounts;
}

/** A supervisor's counters, memory pool, metrics and actors. */
export interface SupervisorDiagnostics {
  /** The supervisor's id. */
  id: string;
  /** Live actors. */
  activeActors: number;
  /** Actors spawned so far. */
  totalActorsSpawned: number;
  /** Actors that ended for good. */
  totalActorsTerminated: number;
  /** Restarts so far. */
  restarts: number;
  /** Messages that could not be delivered. */
  deadLetters: number;
  /** Every live actor in start order, or the page asked for (absent with `actors: false | 'summary'`). */
  actors: ActorDiagnostics[];
  /** The Tier 2 memory pool. */
  memoryPool: {
    /** Boxes. */
    poolSize: number;
    /** Bytes per box. */
    boxSize: number;
    /** Boxes held or being written. */
    boxesInUse: number;
    /** `boxesInUse / poolSize`. */
    utilization: number;
    /** Writes waiting for a free box. */
    waitingWrites: number;
    /** Leases that ran out (writers killed, readers' references dropped). */
    leaseExpiries: number;
  };
  /** Sampled metrics enabled with `diagnostics.track`. */
  metrics: Partial<Record<Exclude<TrackedMetric, 'authorization'>, MetricSummary>> & {
    /** Resource calls and Tier 2 reads an actor was allowed / refused (sampled counts). */
    authorization?: {
      /** Allowed. */
      granted: number;
      /** Refused. */
      denied: number;
    };
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
  /** Events sampled. */
  count: number;
  /** Median of the recent samples, or null without samples. */
  p50: number | null;
  /** 99th percentile of the recent samples, or null. */
  p99: number | null;
  /** Largest recent sample, or null. */
  max: number | null;
}

/** An actor's incarnation ended. */
export interface ExitEvent {
  /** The actor. */
  id: ActorId;
  /** Its exit reason (`normal`, `error: …`, `timeout`, …). */
  reason: string;
  /** The incarnation that ended. */
  incarnation: number;
  /** The message being handled when it ended, if any. */
  message?: {
    /** The envelope kind (send, call, system). */
    kind: number;
    /** Its sender. */
    from: ActorId | 'host';
    /** The message itself. */
    message: unknown;
  };
}

/** The payload of each event of `sup.on(event, fn)`. */
export interface SupervisorEvents {
  /** An actor was spawned (`parent`: the actor that spawned it with `ctx.spawn`). */
  spawn: {
    /** The new actor. */
    id: ActorId;
    /** Its name, if any. */
    name?: string;
    /** The actor that spawned it, if any. */
    parent?: ActorId;
  };
  /** An incarnation ended. */
  exit: ExitEvent;
  /** A new incarnation started after a failure. */
  restart: {
    /** The actor. */
    id: ActorId;
    /** The new incarnation. */
    incarnation: number;
    /** Why the previous one ended. */
    reason: string;
  };
  /** A group gave up and escalated to its parent. */
  escalate: {
    /** The group that gave up. */
    id: ActorId;
    /** Why (`intensity_exceeded`, …). */
    reason: string;
  };
  /** A message could not be delivered (dead target, full mailbox, stale incarnation). */
  deadLetter: {
    /** The addressee. */
    to: ActorId;
    /** The sender, if known. */
    from?: ActorId | 'host';
    /** The undelivered message. */
    message: unknown;
    /** Why it was not delivered. */
    reason: string;
  };
  /** A writer or reader held a box past its lease. */
  leaseExpired: {
    /** The actor that held the box. */
    id: ActorId;
    /** The box. */
    boxIndex: number;
    /** Its generation. */
    epoch: number;
    /** Whether it held it as the writer (then killed with `lease_expired`) or a reader (its reference dropped). */
    role: 'writer' | 'reader';
  };
  /**
   * Something went wrong that no actor's exit reports: the root group gave up
   * (`intensity_exceeded`), a listener or plan failed, or the Rust core caught a panic of its
   * own (a bug in warden) and went on (`internal panic: <where>: <message>`).
   */
  error: {
    /** What happened (`intensity_exceeded`, `internal panic: …`, …). */
    reason: string;
    /** The actor concerned, if any. */
    id?: ActorId;
    /** The exit reason that caused it, if any. */
    cause?: string;
    /** The error thrown, if any. */
    error?: unknown;
  };
  /**
   * A pool worker was killed and replaced (`cause`: `maxBlockMs` or `timeout` for a handler
   * stuck in synchronous code or after an await, `exit` if the thread died): `culprit` exited
   * with `timeout`, the other `actors` on it with `worker_lost`.
   */
  workerLost: {
    /** The pool worker's index. */
    worker: number;
    /** Why it was replaced. */
    cause: 'maxBlockMs' | 'timeout' | 'exit';
    /** The actor stuck in synchronous code, if known. */
    culprit?: ActorId;
    /** Every actor that was on it. */
    actors: ActorId[];
  };
}

/** A node of `inspect()`: a group, or an actor with its diagnostics. */
export type TreeNode = GroupNode | ActorNode;

/** A group in `inspect()`. */
export interface GroupNode {
  /** A group. */
  type: 'group';
  /** `group-…`. */
  id: string;
  /** Its strategy. */
  strategy: Strategy;
  /** Its actors and subgroups in start order. */
  children: TreeNode[];
}

/** An actor in `inspect()`, with its diagnostics. */
export interface ActorNode extends ActorDiagnostics {
  /** An actor. */
  type: 'actor';
}

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

/** The second argument of a task function. */
export interface TaskContext {
  /**
   * Reports progress to the caller's `onProgress` at once (in order, before the result). The
   * value travels like a result (JSON; a value JSON would change throws a `TypeError`); without
   * `onProgress` it is checked and dropped, and once the task has settled it is dropped.
   */
  progress(value: unknown): void;
}

/** A task function: the input (and `{ progress }`) in, the result (or a promise of it) out. */
export type TaskFunction<I = any, R = any> = (input: I, task: TaskContext) => R | Promise<R>;

/**
 * A task: a function (serialised with `toString()`, no outer scope) or a module URL/path whose
 * default export is the function. It gets the input (and `{ progress }`) and returns (or
 * resolves) the result; both travel as JSON, or through the memory pool with `transfer: true`.
 */
export type TaskFn<I = any, R = any> = TaskFunction<I, R> | URL | string;

/**
 * The input a module task takes, given its type `A`: a module namespace
 * (`typeof import('./hash.js')`) or the task function's type; `unknown` otherwise.
 */
export type TaskInputOf<A> = A extends { readonly default: infer D }
  ? TaskInputOf<D>
  : A extends (input: infer I, ...rest: any[]) => unknown
    ? I
    : unknown;

/**
 * The result of a module task, given its type `A`: a module namespace or the task function's
 * type (its awaited return type); any other `A` is taken as the result type itself, so
 * `sup.task<number>(url, input)` resolves with a `number` (not checked at run time).
 */
export type TaskResultOf<A> = A extends { readonly default: infer D }
  ? TaskResultOf<D>
  : A extends (input: any, ...rest: any[]) => infer R
    ? Awaited<R>
    : A;

/** Options of a task. */
export interface TaskOptions {
  /**
   * Counted from when the task starts running (not while queued); on expiry its thread is
   * killed and the task rejects with {@link TimeoutError}.
   * @defaultValue none
   */
  timeoutMs?: number;
  /**
   * Aborting removes a queued task (its input is never read) or kills the thread of a running
   * one; the task rejects with an `AbortError` (`cause`: the signal's reason).
   * @defaultValue none
   */
  signal?: AbortSignal;
  /**
   * Node heap limits of the thread that runs it; running out rejects with
   * {@link ActorExitError} reason `out_of_memory`.
   * @defaultValue none (Node's defaults)
   */
  resourceLimits?: ResourceLimits;
  /**
   * Large data through the supervisor's memory pool instead of JSON (needs `memory.poolSize` > 0).
   * The input (an `ArrayBuffer`, typed array, `DataView`, `Buffer`, or a JSON value encoded once)
   * is written into one box when the task starts, shared with its thread only: the task gets
   * bytes as a view of the box itself (same kind, no copy; detached when the task ends) and JSON
   * decoded. A bytes result resolves as a buffer the caller owns (same kind): on Node one of
   * 64 KiB or more that covers all of its ArrayBuffer is moved without a copy (the task's buffer
   * is detached, so return a new one each time); others, and all on Bun, are copied once. Inputs or results larger than `memory.boxSize` reject with a `RangeError`;
   * without a free box the input waits its turn.
   * @defaultValue `false`
   */
  transfer?: boolean;
  /**
   * Hears each `progress(value)` of the running task; progress after it settled is dropped.
   * @defaultValue none
   */
  onProgress?: (value: unknown) => void;
}

/** `{ fn, input, ...options }`: a task that `sup.tasks` helpers start (and cancel when no longer needed). */
export interface TaskDescriptor<I = any, R = any> extends TaskOptions {
  /** The task function or module. */
  fn: TaskFn<I, R>;
  /** Its input. */
  input?: I;
}

/** Options of `map` and `mapStream`. */
export interface MapOptions extends Omit<TaskOptions, 'onProgress'> {
  /**
   * Hears each item's `progress(value)`, with the item's index.
   * @defaultValue none
   */
  onProgress?: (value: unknown, index: number) => void;
  /**
   * Most tasks running at once.
   * @defaultValue the pool's `maxThreads`
   */
  concurrency?: number;
  /**
   * Settle every item (`{ status, value | reason }`) instead of stopping at the first error.
   * @defaultValue `false`
   */
  settle?: boolean;
}

/** What a task descriptor (or a promise) yields in `tasks.all` and friends. */
type TaskResult<T> = T extends TaskDescriptor<any, infer R> ? Awaited<R> : Awaited<T>;

/** Counters of the task pool (`sup.tasks.stats()`). */
export interface TaskPoolStats {
  /** Live task threads. */
  threads: number;
  /** Threads waiting for a task. */
  idle: number;
  /** Threads starting up. */
  starting: number;
  /** Tasks running. */
  running: number;
  /** Tasks waiting for a thread. */
  queued: number;
  /** Tasks that resolved. */
  completed: number;
  /** Tasks that threw or rejected. */
  failed: number;
  /** Tasks whose thread was killed (timeout, abort). */
  killed: number;
  /** Tasks whose thread died (crash, `process.exit()`, out of memory). */
  crashed: number;
  /** Threads replaced by `maxTasksPerThread` or `maxHeapUsedMb`. */
  recycled: number;
  /** Idle threads stopped by `idleTimeoutMs`. */
  reaped: number;
  /** Threads started. */
  spawned: number;
}

/** Combinators over promises and task descriptors; tasks they started and no longer need are cancelled. */
export interface TaskHelpers {
  /** Like `Promise.all`; when one fails, the tasks still running are cancelled. */
  all<T extends readonly unknown[]>(list: T): Promise<{ -readonly [K in keyof T]: TaskResult<T[K]> }>;
  /** Like `Promise.allSettled`. */
  allSettled<T extends readonly unknown[]>(list: T): Promise<{ -readonly [K in keyof T]: PromiseSettledResult<TaskResult<T[K]>> }>;
  /** Like `Promise.race`; the losers are cancelled. */
  race<T extends readonly unknown[]>(list: T): Promise<TaskResult<T[number]>>;
  /** Like `Promise.any`; once one succeeds the rest are cancelled. */
  any<T extends readonly unknown[]>(list: T): Promise<TaskResult<T[number]>>;
  /** Pool counters. */
  stats(): TaskPoolStats;
}

// ---------------------------------------------------------------------------------------------
// Supervisor and groups
// ---------------------------------------------------------------------------------------------

/** What spawns actors into a group: the supervisor (its root group) and every `ActorGroup`. */
export interface ActorSpawner {
  /**
   * Spawns a callback actor. Its ref is typed from the handler: `msg`'s annotation is the
   * message type (`unknown` without one) and the awaited return type is the reply of `call`.
   * Over `maxActors` it throws `Max actors limit reached: N`; after `shutdown()` it throws.
   *
   * @example
   * ```ts
   * const parser = sup.spawn(async (self, msg: { input: string }, ctx) => {
   *   self.send('started', msg.input);
   *   return msg.input.toUpperCase();
   * }, { name: 'parser', timeoutMs: 1000 });
   * const upper: string = await parser.call({ input: 'x' }); // ActorRef<{ input: string }, string>
   * ```
   */
  spawn<M = unknown, R = unknown>(actor: ActorHandler<M, R>, options?: SpawnOptions): ActorRef<M, Awaited<R>>;
  /**
   * Spawns a behaviour (stateful) actor: the state type comes from `init` (or `handle`'s state
   * annotation), `handle` must return it, and `call` resolves with the new state.
   *
   * @example
   * ```ts
   * const counter = sup.spawn({ init: () => 0, handle: (n, add: number) => n + add });
   * const total: number = await counter.call(5); // ActorRef<number, number>
   * ```
   */
  spawn<S, M = unknown>(actor: Behaviour<S, M>, options?: SpawnOptions): ActorRef<M, S>;
  /**
   * Spawns a module actor (its default export is the handler or behaviour; it may import
   * anything). Give the module's type to type the ref; without it the ref is untyped.
   *
   * @typeParam A - e.g. `typeof import('./worker.js')` (a handler or behaviour type works too).
   * @example
   * ```ts
   * const hasher = sup.spawn<typeof import('./hasher.js')>(new URL('./hasher.js', import.meta.url));
   * ```
   */
  spawn<A = unknown>(actor: URL | string, options?: SpawnOptions): ActorRefOf<A>;
}

/** A supervision group: its children restart together according to its strategy. */
export interface ActorGroup extends ActorSpawner {
  /** `group-…`. */
  readonly id: string;
  /** A subgroup of this group. */
  createGroup(options?: GroupOptions): ActorGroup;
  /** Stops every actor of the group (and subgroups) for good, in reverse start order. */
  terminateAll(reason?: string): Promise<void>;
  /** Tier 2 read from the host. */
  read(msg: unknown): ChainableReader | null;
  /** Gives back the host's reference to a box. */
  release(handle: BoxHandle): boolean;
}

/** The root of an actor tree; made by {@link createSupervisor}. */
export interface Supervisor extends ActorSpawner {
  /** `sup-<n>`. */
  readonly id: string;
  /**
   * Runs `fn(input)` in a pooled task thread and resolves with its result; killable
   * (`timeoutMs`, `signal`), crash- and out-of-memory-safe. A throw rejects with the error
   * rebuilt on the host.
   *
   * @example
   * ```ts
   * const sum: number = await sup.task(({ a, b }: { a: number; b: number }) => a + b, { a: 1, b: 2 });
   * const r = await sup.task((n: number) => n * 2, 21, { timeoutMs: 500, signal: AbortSignal.timeout(2000) });
   * ```
   */
  task<I, R>(fn: TaskFunction<I, R>, input?: I, options?: TaskOptions): Promise<Awaited<R>>;
  /** Runs a module task, untyped: the default export of the module at `fn` (a URL or path). */
  task(fn: URL | string, input?: unknown, options?: TaskOptions): Promise<unknown>;
  /**
   * Runs a module task: the default export of the module at `fn` (a URL or path), typed by `A`.
   *
   * @typeParam A - the module's type (`typeof import('./hash.js')`) to check the input and type
   * the result, or simply the result type (`sup.task<string>(url, data)`); `unknown` without it.
   * @example
   * ```ts
   * const hash = await sup.task<typeof import('./hash.js')>(new URL('./hash.js', import.meta.url), 'text');
   * ```
   */
  task<A = unknown>(fn: URL | string, input?: TaskInputOf<A>, options?: TaskOptions): Promise<TaskResultOf<A>>;
  /** Helpers over several tasks (`all`, `allSettled`, `race`, `any`) and pool counters. */
  readonly tasks: TaskHelpers;
  /**
   * Runs `fn` over `items` in task threads, at most `concurrency` at once; results in item
   * order. The first error rejects and cancels what it started.
   *
   * @example
   * ```ts
   * const squares: number[] = await sup.map([1, 2, 3], (x: number) => x * x, { concurrency: 2 });
   * ```
   */
  map<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFunction<I, R>, options?: MapOptions & { settle?: false }): Promise<Awaited<R>[]>;
  /** With `settle: true`: every item's `{ status, value | reason }`. */
  map<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFunction<I, R>, options: MapOptions & { settle: true }): Promise<PromiseSettledResult<Awaited<R>>[]>;
  /** A module task over `items`, untyped. */
  map(items: Iterable<unknown> | AsyncIterable<unknown>, fn: URL | string, options?: MapOptions & { settle?: false }): Promise<unknown[]>;
  /** A module task over `items`, untyped, settling every item. */
  map(items: Iterable<unknown> | AsyncIterable<unknown>, fn: URL | string, options: MapOptions & { settle: true }): Promise<PromiseSettledResult<unknown>[]>;
  /** A module task over `items` (typed by `A` as in `task`). */
  map<A = unknown>(items: Iterable<TaskInputOf<A>> | AsyncIterable<TaskInputOf<A>>, fn: URL | string, options?: MapOptions & { settle?: false }): Promise<TaskResultOf<A>[]>;
  /** A module task over `items`, settling every item. */
  map<A = unknown>(items: Iterable<TaskInputOf<A>> | AsyncIterable<TaskInputOf<A>>, fn: URL | string, options: MapOptions & { settle: true }): Promise<PromiseSettledResult<TaskResultOf<A>>[]>;
  /** Like `map`, as an async iterator of the results in order (bounded read-ahead). */
  mapStream<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFunction<I, R>, options?: MapOptions & { settle?: false }): AsyncIterableIterator<Awaited<R>>;
  /** Like `map` with `settle: true`, as an async iterator. */
  mapStream<I, R>(items: Iterable<I> | AsyncIterable<I>, fn: TaskFunction<I, R>, options: MapOptions & { settle: true }): AsyncIterableIterator<PromiseSettledResult<Awaited<R>>>;
  /** A module task over `items`, untyped, as an async iterator. */
  mapStream(items: Iterable<unknown> | AsyncIterable<unknown>, fn: URL | string, options?: MapOptions & { settle?: false }): AsyncIterableIterator<unknown>;
  /** A module task over `items`, untyped, settling every item, as an async iterator. */
  mapStream(items: Iterable<unknown> | AsyncIterable<unknown>, fn: URL | string, options: MapOptions & { settle: true }): AsyncIterableIterator<PromiseSettledResult<unknown>>;
  /** A module task over `items`, as an async iterator. */
  mapStream<A = unknown>(items: Iterable<TaskInputOf<A>> | AsyncIterable<TaskInputOf<A>>, fn: URL | string, options?: MapOptions & { settle?: false }): AsyncIterableIterator<TaskResultOf<A>>;
  /** A module task over `items`, settling every item, as an async iterator. */
  mapStream<A = unknown>(items: Iterable<TaskInputOf<A>> | AsyncIterable<TaskInputOf<A>>, fn: URL | string, options: MapOptions & { settle: true }): AsyncIterableIterator<PromiseSettledResult<TaskResultOf<A>>>;
  /**
   * `count` pooled actors of one source in the root group, in spawn order (`kind` is `pooled`;
   * no `name`). Typed like `spawn`.
   *
   * @example
   * ```ts
   * const sessions = sup.spawnMany(100_000, {
   *   init: () => ({ hits: 0 }),
   *   handle: (s, msg: 'hit') => ({ hits: s.hits + 1 }),
   * }, { kind: 'pooled' });
   * const { hits } = await sessions[0].call('hit'); // ActorRef<'hit', { hits: number }>[]
   * ```
   */
  spawnMany<M = unknown, R = unknown>(count: number, actor: ActorHandler<M, R>, options?: SpawnManyOptions): ActorRef<M, Awaited<R>>[];
  /** `count` pooled behaviour actors. */
  spawnMany<S, M = unknown>(count: number, actor: Behaviour<S, M>, options?: SpawnManyOptions): ActorRef<M, S>[];
  /** `count` pooled module actors (typed by `A` as in `spawn`). */
  spawnMany<A = unknown>(count: number, actor: URL | string, options?: SpawnManyOptions): ActorRefOf<A>[];
  /** A supervision group under the root group (or `options.parent`). */
  createGroup(options?: GroupOptions): ActorGroup;
  /**
   * A shared region of `size` bytes (a number, or a string like `"64kb"`; at most 2 GiB) for
   * actors spawned with `regions: [name]`: counters, flags and ring buffers with `Atomics`. The
   * same name and size returns the same buffer; it lives until shutdown.
   */
  region(name: string, size: number | string): SharedArrayBuffer;
  /** Stops that actor for good (never restarted). */
  terminateActor(id: Target, reason?: string): Promise<void>;
  /** The ref registered under `name`, if any (untyped: its message and reply are `unknown`). */
  whereis(name: string): ActorRef | undefined;
  /**
   * The ref registered under `name`, if any, typed as you say (not checked at run time).
   * @typeParam M - the messages you know it takes.
   * @typeParam R - what you know it replies.
   * @example
   * ```ts
   * const lobby = sup.whereis<string, string>('lobby');
   * const echoed: string | undefined = await lobby?.call('hello');
   * ```
   */
  whereis<M, R = unknown>(name: string): ActorRef<M, R> | undefined;
  /** With a cluster: local and global names (untyped); `wait` keeps looking that long (ms). */
  whereis(name: string, options: WhereisOptions): Promise<ActorRef | RemoteRef | undefined>;
  /** With a cluster: local and global names, typed as you say (not checked at run time). */
  whereis<M, R = unknown>(name: string, options: WhereisOptions): Promise<ActorRef<M, R> | RemoteRef<M, R> | undefined>;
  /** This node of a cluster, when `config.cluster` is set. */
  readonly cluster?: Cluster;
  /** Every Tier 1 message emitted by any actor. Returns the unsubscribe function. */
  subscribe(fn: (m: Message) => void): () => void;
  /** Lifecycle events. Returns the unsubscribe function. */
  on<E extends keyof SupervisorEvents>(event: E, fn: (e: SupervisorEvents[E]) => void): () => void;
  /** Counters, memory pool, metrics, and every actor unless `options.actors` says otherwise. */
  getDiagnostics(options?: DiagnosticsOptions & { actors?: true | DiagnosticsPage }): Result<SupervisorDiagnostics, string>;
  /** Counters, memory pool and metrics, without the actors. */
  getDiagnostics(options: DiagnosticsOptions & { actors: false }): Result<Omit<SupervisorDiagnostics, 'actors'>, string>;
  /** Counters with `actorsByState` instead of the actors. */
  getDiagnostics(options: DiagnosticsOptions & { actors: 'summary' }): Result<SupervisorSummary, string>;
  /** Any of the above. */
  getDiagnostics(options: DiagnosticsOptions): Result<Omit<SupervisorDiagnostics, 'actors'> & Partial<Pick<SupervisorDiagnostics, 'actors'> & Pick<SupervisorSummary, 'actorsByState'>>, string>;
  /**
   * Tier 2 read from the host (every box); the host holds a reference until `release`.
   *
   * @example
   * ```ts
   * writer.subscribe((m) => {
   *   const r = sup.read(m);
   *   if (r) {
   *     console.log(r.json());
   *     sup.release(r.handle);
   *   }
   * });
   * ```
   */
  read(msg: unknown): ChainableReader | null;
  /** Gives back the host's reference to a box (its views are detached first). */
  release(handle: BoxHandle): boolean;
  /** The live supervision tree, children in start order. */
  inspect(): TreeNode | null;
  /** Stops every actor in reverse start order, then runs resources' `release`; idempotent. */
  shutdown(): Promise<void>;
  /** `shutdown()`: `await using sup = createSupervisor()` shuts it down at the block's end. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a supervisor; every field is validated (a `TypeError`/`RangeError` naming the field).
 * Live actors keep the process alive until `shutdown()`.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'warden';
 *
 * await using sup = createSupervisor({ maxActors: 10, memory: { poolSize: 8, boxSize: '1mb' } });
 * const doubler = sup.spawn((self, n: number) => n * 2, { name: 'doubler', timeoutMs: 1000 });
 * console.log(await doubler.call(21)); // 42
 * ```
 */
export function createSupervisor(config?: SupervisorConfig): Supervisor;

// Only what is marked `export` above is public (without this, a declaration file exports every
// top-level declaration, including the type-level helpers).
export {};
