// Bad input, generated (DESIGN.md 7): random values, options and call sequences thrown at the
// public API, host side (spawn, receive, call, read, release, link, unlink, monitor, demonitor,
// terminate, kill, terminateActor, whereis, createGroup, task, shutdown, in any order) and actor side
// (actors that call ctx.send, ctx.call, ctx.write, ctx.alloc + commit, ctx.read, ctx.release,
// ctx.link, ctx.monitor, ctx.spawn, ctx.terminate, ctx.kill, ctx.resources, self.send, ... with junk and
// report back what happened in their reply). Every operation must return, or fail with an Error whose message is clear (names
// the function or parameter, not an engine message such as "Cannot read properties of
// undefined"), within a bound; a value JSON cannot carry must be refused, never silently sent;
// nothing may reach the process as an uncaught error; after the run the supervisor still works,
// every box is free once its holders are gone, and shutdown() leaves nothing behind.
//
// Runs are reproducible: the seed is fixed (WARDEN_FUZZ_SEED overrides it) and printed, with
// the failing sequence and what each step did, when a run fails. WARDEN_FUZZ_RUNS sets the
// number of runs, WARDEN_FUZZ_LOG=1 prints every step, WARDEN_FUZZ_SHRINK=1 shrinks a failure.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, slowTest, waitFor, within, NO_LEAKS, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 20261206);
const NUM_RUNS = Number(process.env.WARDEN_FUZZ_RUNS ?? 100);
const MAX_OPS = 20;
/** Only to turn a hang into a failure: every operation here settles far sooner. */
const BOUND_MS = 15000;

// ---- what a clear fault looks like ------------------------------------------------------

/** Engine messages that mean the library tripped over the input instead of checking it. */
const ENGINE = /Cannot read prop|Cannot set prop|is not a function|is not iterable|is not a constructor|undefined is not|null is not|Cannot convert|Maximum call stack|Invalid array length|out of bounds|Unexpected token|JSON\.parse|Do not know how to serialize|native|napi|panick?ed|RuntimeError|unreachable/i;

/**
 * Checks one outcome of `op`: returned (any value), or threw / rejected / returned an Err whose
 * message is a clear, non-engine message; a TypeError or RangeError must name the function or
 * one of its parameters (`names`).
 */
function checkOutcome(op, names, o, problems) {
  const where = `${op}: ${o.kind}`;
  if (o.kind === 'hung') return problems.push(`${op}: did not settle within ${BOUND_MS} ms`);
  if (o.kind === 'threw' || o.kind === 'rejected') {
    if (!o.isError) return problems.push(`${where} a non-Error ${o.name}: ${o.message}`);
    if (typeof o.message !== 'string' || o.message.length === 0) return problems.push(`${where} ${o.name} with an empty message`);
    if (ENGINE.test(o.message)) return problems.push(`${where} ${o.name} with an engine message: ${o.message}`);
    if (/^\w*Error: /.test(o.message)) return problems.push(`${where} ${o.name} whose message carries another error's class (lost on the way?): ${o.message}`);
    if ((o.name === 'TypeError' || o.name === 'RangeError') && !names.test(o.message)) {
      return problems.push(`${where} ${o.name} that does not name ${names}: ${o.message}`);
    }
  }
  if (o.kind === 'err') {
    if (typeof o.error !== 'string' || o.error.length === 0) return problems.push(`${where} with an empty error: ${JSON.stringify(o.error)}`);
    if (ENGINE.test(o.error)) return problems.push(`${where} with an engine message: ${o.error}`);
  }
  return undefined;
}

/** Runs `fn` and describes what happened: returned, err (a Result), threw, rejected or hung. */
async function outcome(fn) {
  let v;
  try {
    v = fn();
  } catch (err) {
    return describeError('threw', err);
  }
  if (v && typeof v.then === 'function') {
    try {
      v = await within(v, BOUND_MS, 'op');
    } catch (err) {
      if (err?.message === `op did not settle within ${BOUND_MS} ms`) return { kind: 'hung' };
      return describeError('rejected', err);
    }
  }
  if (v !== null && typeof v === 'object' && 'isErr' in v && 'isOk' in v) {
    return v.isErr ? { kind: 'err', error: v.error } : { kind: 'ok', value: v.value };
  }
  return { kind: 'returned', value: v };
}

const describeError = (kind, err) => ({
  kind,
  isError: err instanceof Error,
  name: err?.constructor?.name ?? typeof err,
  message: err instanceof Error ? err.message : String(err),
});

/** Whether JSON carries `v` faithfully (what the codec must accept; everything else it must refuse). */
function faithful(v, seen = new Set()) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (seen.has(v)) return false;
      if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) return false;
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Promise) return false;
      if (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer) return false;
      seen.add(v);
      const ok = Object.keys(v).every((k) => faithful(v[k], seen));
      seen.delete(v);
      return ok;
    }
    default:
      return false;
  }
}

// ---- the actor the actor-side operations run in -----------------------------------------

/**
 * Runs `{ op, args }` against its ctx and reports the outcome as its reply; args are JSON with
 * `{ $junk: kind }` markers that it turns into values JSON cannot carry. Other messages: an
 * INBOX is kept (its handle becomes `{ $junk: 'inbox' }`), anything else is echoed.
 */
async function agent(self, msg, ctx) {
  if (msg?.from === 'system') {
    if (msg.msg === 'INBOX' || msg.handle) globalThis.inbox = msg;
    return undefined;
  }
  if (msg === null || typeof msg !== 'object' || typeof msg.op !== 'string') return msg;
  const junk = (kind) => {
    switch (kind) {
      case 'fn': return () => 1;
      case 'symbol': return Symbol('s');
      case 'bigint': return 10n;
      case 'nan': return NaN;
      case 'inf': return -Infinity;
      case 'map': return new Map([[1, 2]]);
      case 'bytes': return new Uint8Array(3);
      case 'cycle': { const c = { c: 1 }; c.self = c; return c; }
      case 'undefined': return undefined;
      case 'self': return self.id;
      case 'inbox': return globalThis.inbox;
      case 'inboxHandle': return globalThis.inbox?.handle;
      case 'lastLock': return globalThis.lastLock;
      default: return kind;
    }
  };
  const decode = (v) => {
    if (Array.isArray(v)) return v.map(decode);
    if (v !== null && typeof v === 'object') {
      if (typeof v.$junk === 'string') return junk(v.$junk);
      const o = {};
      for (const k of Object.keys(v)) o[k] = decode(v[k]);
      return o;
    }
    return v;
  };
  const a = decode(msg.args ?? []);
  const ops = {
    send: () => ctx.send(a[0], a[1]),
    call: () => ctx.call(a[0], a[1], a[2]),
    write: () => ctx.write(a[0]),
    alloc: async () => {
      const r = await ctx.alloc(a[0], a[1]);
      if (r?.isOk) {
        if (a[2] === undefined) r.value.abort();
        else {
          const c = await r.value.commit(a[2]);
          if (c?.isErr) r.value.abort();
          return c;
        }
      }
      return r;
    },
    read: () => {
      const r = ctx.read(a[0]);
      return r === null ? null : { reader: typeof r.bytes === 'function', length: r.length };
    },
    release: () => ctx.release(a[0]),
    link: () => ctx.link(a[0]),
    unlink: () => ctx.unlink(a[0]),
    monitor: () => ctx.monitor(a[0]),
    demonitor: () => ctx.demonitor(a[0]),
    whereis: () => ctx.whereis(a[0])?.id ?? null,
    register: () => ctx.register(a[0]),
    trapExits: () => ctx.trapExits(a[0]),
    emit: () => self.send(a[0], a[1]),
    spawn: async () => (await ctx.spawn(a[0] === 'echo' ? (s, m) => m : a[0], a[1]))?.id,
    terminate: () => ctx.terminate(a[0] === undefined ? 'actor-999999' : a[0]),
    kill: () => ctx.kill(a[0] === undefined ? 'actor-999999' : a[0], a[1]),
    resource: () => ctx.resources[a[0]][a[1]](...(Array.isArray(a[2]) ? a[2] : [a[2]])),
    heartbeat: () => ctx.heartbeat(a[0]),
  };
  let v;
  try {
    v = await ops[msg.op]();
  } catch (err) {
    return { kind: 'threw', isError: err instanceof Error, name: err?.constructor?.name ?? typeof err, message: String(err?.message ?? err) };
  }
  if (v !== null && typeof v === 'object' && 'isErr' in v && 'isOk' in v) {
    if (v.isOk && v.value && typeof v.value.boxIndex === 'number') globalThis.lastLock = v.value;
    return v.isErr ? { kind: 'err', error: v.error } : { kind: 'ok' };
  }
  let value;
  try {
    value = JSON.parse(JSON.stringify(v ?? null));
  } catch {
    value = String(v);
  }
  return { kind: 'returned', value };
}

// ---- generators ---------------------------------------------------------------------------

const UNFAITHFUL = ['fn', 'symbol', 'bigint', 'nan', 'inf', 'map', 'bytes', 'cycle'];
const makeJunk = {
  fn: () => () => 1,
  symbol: () => Symbol('s'),
  bigint: () => 10n,
  nan: () => NaN,
  inf: () => Infinity,
  map: () => new Map([[1, 2]]),
  bytes: () => new Uint8Array(3),
  cycle: () => {
    const c = { c: 1 };
    c.self = c;
    return c;
  },
};

/** A value for the host side: JSON, junk JSON cannot carry, or JSON with junk inside. */
const hostValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(...UNFAITHFUL).map((k) => makeJunk[k]()) },
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...UNFAITHFUL)).map(([ok, k]) => ({ ok, deep: [1, { bad: makeJunk[k]() }] })) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, -0, 1e308, -1, 0.5, '', 'actor-999999', { boxIndex: 0, epoch: 1 }, { boxIndex: -1, epoch: 'x' }, [], {}) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withDate: true }) },
);

/** The same for actor-side arguments, as JSON with `$junk` markers the agent decodes. */
const actorValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(...UNFAITHFUL).map(($junk) => ({ $junk })) },
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...UNFAITHFUL)).map(([ok, $junk]) => ({ ok, deep: [1, { bad: { $junk } }] })) },
  { weight: 1, arbitrary: fc.constantFrom({ $junk: 'undefined' }, null, -1, 0.5, '', 'actor-999999', { boxIndex: 0, epoch: 1 }, { $junk: 'inboxHandle' }, { $junk: 'lastLock' }, { $junk: 'inbox' }) },
);
const actorUnfaithful = (v) => JSON.stringify(v)?.includes('"$junk":"') && UNFAITHFUL.some((k) => JSON.stringify(v).includes(`"$junk":"${k}"`));

/** A target for actor-side operations: another agent (by index, id or name), itself, or junk. */
const actorTarget = fc.oneof(
  fc.nat(3).map((i) => ({ $agent: i })),
  fc.nat(3).map((i) => ({ $agentName: i })),
  fc.constant({ $junk: 'self' }),
  fc.constantFrom('actor-999999', 'nobody', '', 42, null, { id: 'actor-999998' }, [], { $junk: 'fn' }, { $junk: 'undefined' }),
);

const smallTimeout = fc.integer({ min: 1, max: 150 });
const junkOption = fc.constantFrom(-1, 0, NaN, Infinity, '100', null, true, {}, [], 1.5);

/** Options for ctx.call: always short or invalid (a call to itself deadlocks until its timeout). */
const actorCallOptions = fc.oneof(
  smallTimeout.map((timeoutMs) => ({ timeoutMs })),
  fc.constantFrom({ timeoutMs: -1 }, { timeoutMs: '5' }, { timeoutMs: 0 }, { bogus: 1 }, 5, null, 'x'),
);

const shareValue = fc.oneof(
  fc.constantFrom('owner', 'group', 'linked', 'all', 'nobody', 5, null, [], ['actor-999999'], [{ $junk: 'self' }], { $junk: 'fn' }),
  fc.nat(3).map((i) => [{ $agent: i }]),
  fc.nat(3).map((i) => [{ $agentName: i }]),
);
const writeOptions = fc.oneof(
  fc.record(
    {
      msg: fc.oneof(fc.constantFrom('m', 'result', '', 5, null), actorValue),
      type: fc.constantFrom('json', 'string', 'binary', 'cbor', 'yaml', 5, undefined),
      data: actorValue,
      share: shareValue,
      timeoutMs: fc.oneof(smallTimeout, junkOption),
      wait: fc.constantFrom(true, false, 'yes'),
    },
    { requiredKeys: [] },
  ),
  actorValue,
);

const actorOp = fc.oneof(
  fc.tuple(actorTarget, actorValue).map((args) => ({ op: 'send', args })),
  fc.tuple(actorTarget, actorValue, actorCallOptions).map((args) => ({ op: 'call', args })),
  { weight: 2, arbitrary: writeOptions.map((o) => ({ op: 'write', args: [o] })) },
  fc.tuple(fc.oneof(fc.integer({ min: -2, max: 5000 }), actorValue), fc.oneof(fc.constant(undefined), fc.record({ timeoutMs: fc.oneof(smallTimeout, junkOption), wait: fc.constantFrom(true, false, 1) }, { requiredKeys: [] }), junkOption), fc.option(fc.record({ msg: fc.constantFrom('m', '', 7), type: fc.constantFrom('binary', 'json', 'x'), share: shareValue }, { requiredKeys: [] }), { nil: undefined })).map((args) => ({ op: 'alloc', args })),
  actorValue.map((x) => ({ op: 'read', args: [x] })),
  actorValue.map((x) => ({ op: 'release', args: [x] })),
  actorTarget.map((t) => ({ op: 'link', args: [t] })),
  actorTarget.map((t) => ({ op: 'unlink', args: [t] })),
  actorTarget.map((t) => ({ op: 'monitor', args: [t] })),
  actorValue.map((x) => ({ op: 'demonitor', args: [x] })),
  actorValue.map((x) => ({ op: 'whereis', args: [x] })),
  actorValue.map((x) => ({ op: 'register', args: [x] })),
  actorValue.map((x) => ({ op: 'trapExits', args: [x] })),
  fc.tuple(actorValue, actorValue).map((args) => ({ op: 'emit', args })),
  fc.tuple(fc.oneof(fc.constant('echo'), actorValue), fc.oneof(fc.constant(undefined), fc.record({ name: fc.constantFrom('child', '', 5), timeoutMs: junkOption, restart: fc.constantFrom('temporary', 'x') }, { requiredKeys: [] }), actorValue)).map((args) => ({ op: 'spawn', args })),
  actorTarget.map((t) => ({ op: 'terminate', args: [t] })),
  fc.tuple(actorTarget, fc.oneof(fc.constant(undefined), actorValue)).map((args) => ({ op: 'kill', args })),
  fc.tuple(fc.constantFrom('db', 'nope', ''), fc.constantFrom('ping', 'nope', 'constructor', 'toString'), actorValue).map((args) => ({ op: 'resource', args })),
);

/** A valid or invalid value for one spawn option (valid ones are picked more often). */
const optionValue = (valid, invalid) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: invalid });

/** Spawn options: a few known keys, each valid or not, sometimes an unknown key or junk. */
const spawnOptions = fc.oneof(
  { weight: 5, arbitrary: fc.record(
    {
      name: optionValue(fc.constantFrom('n0', 'n1', 'n2'), fc.oneof(fc.constantFrom('', 7, null), fc.string({ maxLength: 6 }))),
      timeoutMs: optionValue(fc.integer({ min: 50, max: 2000 }), junkOption),
      heartbeatMs: optionValue(fc.integer({ min: 200, max: 2000 }), junkOption),
      restart: optionValue(fc.constantFrom('permanent', 'transient', 'temporary'), fc.constantFrom('sometimes', 3)),
      mailbox: optionValue(fc.record({ capacity: fc.integer({ min: 1, max: 50 }), overflow: fc.constantFrom('reject', 'drop-oldest') }, { requiredKeys: [] }), fc.oneof(fc.record({ capacity: junkOption, overflow: fc.constantFrom('drop-newest', 0) }, { requiredKeys: [] }), junkOption)),
      shutdown: optionValue(fc.constantFrom('brutal', 100, 'infinity'), fc.constantFrom(-5, 'later', NaN)),
      idleTimeoutMs: optionValue(fc.integer({ min: 20, max: 1000 }), junkOption),
      resources: optionValue(fc.constantFrom([], ['db']), fc.constantFrom('db', 5, ['nope'], [5])),
      regions: optionValue(fc.constantFrom([], ['r']), fc.constantFrom(['missing'], 'r', [null])),
      resourceLimits: optionValue(fc.constant({ maxOldGenerationSizeMb: 64 }), fc.constantFrom(5, { maxOldGenerationSizeMb: -1 }, { bogus: 1 })),
    },
    { requiredKeys: [] },
  ) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 5, 'opts', [], () => 1, { bogus: 1 }, { kind: 'shared' }) },
);

/** A host operation; `agent`/`ref` are indices into the refs spawned so far (modulo). */
const hostOp = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('agent', 'agent', 'echo', 'thrower', 'junk'), spawnOptions, fc.oneof(hostValue, fc.constant(undefined))).map(([actor, options, junk]) => ({ op: 'spawn', actor, options, junk })) },
  { weight: 3, arbitrary: fc.tuple(fc.nat(), hostValue, fc.oneof(fc.constant(undefined), fc.record({ incarnation: fc.oneof(fc.nat(3), junkOption) }, { requiredKeys: [] }), junkOption)).map(([ref, msg, options]) => ({ op: 'receive', ref, msg, options })) },
  { weight: 3, arbitrary: fc.tuple(fc.nat(), hostValue, fc.oneof(smallTimeout.map((timeoutMs) => ({ timeoutMs })), fc.record({ timeoutMs: junkOption }), fc.constantFrom({ bogus: 1 }, null, 5, 'x'))).map(([ref, msg, options]) => ({ op: 'call', ref, msg, options })) },
  { weight: 6, arbitrary: fc.tuple(fc.nat(), actorOp).map(([ref, body]) => ({ op: 'actor', ref, body })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('sup', 'ref'), fc.nat(), hostValue).map(([on, ref, x]) => ({ op: 'read', on, ref, x })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('sup', 'ref'), fc.nat(), fc.oneof(hostValue, fc.constant('lastRead'))).map(([on, ref, x]) => ({ op: 'release', on, ref, x })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('link', 'unlink', 'monitor', 'demonitor'), fc.nat(), fc.oneof(fc.nat().map((i) => ({ $ref: i })), hostValue)).map(([what, ref, other]) => ({ op: what, ref, other })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('terminate', 'kill'), fc.nat(), fc.oneof(fc.constant(undefined), hostValue)).map(([how, ref, reason]) => ({ op: 'terminate', how, ref, reason })) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constant(undefined), hostValue, fc.record({ strategy: fc.constantFrom('one-for-one', 'one-for-all', 'rest-for-one', 'all-for-none', 3), retry: fc.oneof(fc.record({ max: fc.oneof(fc.nat(5), junkOption), withinMs: fc.oneof(fc.integer({ min: 100, max: 5000 }), junkOption), backoff: fc.constantFrom('fixed', 'linear', 'exponential', 'random') }, { requiredKeys: [] }), junkOption), onCrash: fc.constantFrom(undefined, 'restart', () => 'resume', () => 'bogus') }, { requiredKeys: [] })), fc.constantFrom('echo', 'thrower', 'agent')).map(([options, actor]) => ({ op: 'group', options, actor })) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('double', 'throws'), hostValue), hostValue, fc.oneof(fc.constant(undefined), fc.record({ timeoutMs: fc.oneof(fc.integer({ min: 50, max: 2000 }), junkOption), bogus: fc.constant(1) }, { requiredKeys: [] }), junkOption)).map(([fn, input, options]) => ({ op: 'task', fn, input, options })) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.nat().map((i) => ({ $ref: i })), hostValue), fc.oneof(fc.constant(undefined), hostValue)).map(([id, reason]) => ({ op: 'terminateActor', id, reason })) },
  { weight: 1, arbitrary: hostValue.map((name) => ({ op: 'whereis', name })) },
  { weight: 1, arbitrary: fc.constantFrom({ op: 'shutdown' }, { op: 'whereis', name: 'n0' }, { op: 'whereis', name: 'agent1' }, { op: 'whereis', name: 'nobody' }) },
);

/**
 * What ctx.write and ctx.alloc must refuse or accept whatever else is wrong with the call:
 * `wait` other than a boolean and alloc options other than an object are wrong types (an Err
 * naming them, never taken as "wait"); a share list naming live actors by registered name is as
 * good as one with their ids (DESIGN.md 3.5), so it is never refused as malformed.
 */
function checkTier2Options(label, body, r, problems, alive) {
  const o = body.op === 'write' ? body.args[0] : body.op === 'alloc' ? body.args[1] : undefined;
  const accepted = r.kind === 'ok' || r.kind === 'returned';
  if (body.op === 'alloc' && o !== undefined && (o === null || typeof o !== 'object') && accepted) {
    problems.push(`${label}: alloc options ${safe(o)} (not an object) were accepted`);
  }
  if (o !== null && typeof o === 'object' && 'wait' in o && typeof o.wait !== 'boolean' && accepted) {
    problems.push(`${label}: wait ${safe(o.wait)} (not a boolean) was accepted`);
  }
  const share = body.op === 'write' ? o?.share : body.op === 'alloc' ? body.args[2]?.share : undefined;
  if (Array.isArray(share) && share.length > 0 && share.every((t) => typeof t === 'string' && !t.startsWith('actor-') && alive(t))) {
    if (r.kind === 'err' && /share/.test(r.error)) problems.push(`${label}: a share list of registered names was refused: ${r.error}`);
  }
}

// ---- running a sequence -------------------------------------------------------------------

/** Which names a TypeError/RangeError of each operation may name. */
const NAMES = {
  spawn: /spawn|options|actor|name|timeoutMs|restart|mailbox|shutdown|kind|idleTimeoutMs|resources|regions|bogus/,
  receive: /receive|msg|options|incarnation/,
  call: /call|msg|options|timeoutMs/,
  read: /read|msg|handle/,
  release: /release|handle/,
  link: /link|other|target/,
  unlink: /unlink|other|target/,
  monitor: /monitor|other|target/,
  demonitor: /demonitor|ref/,
  terminate: /terminate|reason/,
  kill: /kill|reason/,
  createGroup: /createGroup|options|strategy|retry|onCrash|max|withinMs|backoff|parent/,
  task: /task|fn|input|options|timeoutMs|bogus|clone|serial/,
  'ctx.spawn': /spawn|actor|options|name|timeoutMs|restart/,
  'ctx.terminate': /terminate|target|spawn/,
  'ctx.kill': /kill|target|reason|child/,
  'ctx.resource': /resource|db|nope|then|ping|constructor|argument/,
  'ctx.heartbeat': /heartbeat/,
  terminateActor: /terminateActor|id|reason/,
  whereis: /whereis|name/,
  shutdown: /shutdown/,
  'ctx.send': /send|target|to|msg/,
  'ctx.call': /call|target|to|msg|options|timeoutMs/,
  'ctx.write': /write|msg|type|data|share|timeoutMs|wait/,
  'ctx.alloc': /alloc|size|options|timeoutMs|wait|commit|msg|type|share/,
  'ctx.read': /read|msg|handle/,
  'ctx.release': /release|handle/,
  'ctx.link': /link|target|to/,
  'ctx.unlink': /unlink|target|to/,
  'ctx.monitor': /monitor|target|to/,
  'ctx.demonitor': /demonitor|ref/,
  'ctx.whereis': /whereis|name/,
  'ctx.register': /register|name/,
  'ctx.trapExits': /trapExits|on/,
  'ctx.emit': /send|msg|data/,
};

const ACTORS = {
  agent,
  echo: (self, msg) => msg,
  thrower: (self, msg) => {
    if (msg === 'boom' || typeof msg === 'number') throw new Error('boom');
    return msg;
  },
};

/** Runs one generated sequence with actors of kind `k` (harness forEachKind); returns the problems found (empty: all good). */
async function runSequence(ops, log, k) {
  const problems = [];
  const uncaught = [];
  const onUncaught = (err) => uncaught.push(`${err?.constructor?.name}: ${err?.message ?? err}`);
  process.on('unhandledRejection', onUncaught);
  process.on('uncaughtException', onUncaught);
  const sup = k.createSupervisor({
    maxActors: 6,
    warmWorkers: 1,
    memory: { poolSize: 2, boxSize: '4kb' },
    timeouts: { defaultLeaseMs: 400 },
    resources: { db: { ping: { handler: () => 'pong' } } },
  });
  sup.region('r', 64);
  sup.on('error', () => {}); // intensity_exceeded and the like are events, not faults
  const refs = [];
  const agents = [];
  const hostReads = [];
  let lastRead;
  const pick = (i) => (refs.length ? refs[i % refs.length] : undefined);
  const resolveTarget = (t) => {
    if (t !== null && typeof t === 'object' && '$agent' in t) return agents.length ? agents[t.$agent % agents.length].id : 'actor-999997';
    if (t !== null && typeof t === 'object' && '$agentName' in t) return agents.length ? agents[t.$agentName % agents.length].name : 'nobody';
    if (Array.isArray(t)) return t.map(resolveTarget);
    if (t !== null && typeof t === 'object' && !('$junk' in t)) {
      const o = {};
      for (const k of Object.keys(t)) o[k] = resolveTarget(t[k]);
      return o;
    }
    return t;
  };
  const hostTarget = (x) => (x !== null && typeof x === 'object' && '$ref' in x ? pick(x.$ref) ?? 'actor-999996' : x);
  const note = (label, o, names) => {
    log.push(`${label} -> ${safe(o)}`);
    checkOutcome(label, names, o, problems);
  };
  try {
    for (const step of ops) {
      const ref = pick(step.ref ?? 0);
      switch (step.op) {
        case 'spawn': {
          const actor = step.actor === 'junk' ? step.junk : ACTORS[step.actor];
          const options = step.actor === 'agent' && step.options && typeof step.options === 'object' && !Array.isArray(step.options)
            ? { ...step.options, name: `agent${agents.length}` }
            : step.options;
          const o = await outcome(() => sup.spawn(actor, options));
          if (o.kind === 'returned' && o.value) {
            refs.push(o.value);
            if (step.actor === 'agent') agents.push({ id: o.value.id, name: options?.name ?? o.value.id });
            o.value = o.value.id;
          }
          note(`spawn(${step.actor}, ${safe(options)})`, o, NAMES.spawn);
          break;
        }
        case 'receive': {
          if (!ref) break;
          const o = await outcome(() => ref.receive(step.msg, step.options));
          note(`receive(${safe(step.msg)}, ${safe(step.options)})`, o, NAMES.receive);
          // true would mean it was enqueued: what JSON could not carry would be lost on the way
          if (!faithful(step.msg) && o.kind === 'returned' && o.value === true) problems.push(`receive(${safe(step.msg)}): a value JSON cannot carry was accepted`);
          break;
        }
        case 'call': {
          if (!ref) break;
          const o = await outcome(() => ref.call(step.msg, step.options));
          note(`call(${safe(step.msg)}, ${safe(step.options)})`, o, NAMES.call);
          if (!faithful(step.msg) && (o.kind === 'returned' || o.kind === 'ok')) problems.push(`call(${safe(step.msg)}): a value JSON cannot carry was not refused`);
          break;
        }
        case 'actor': {
          if (!ref) break;
          const body = { op: step.body.op, args: resolveTarget(step.body.args) };
          const o = await outcome(() => ref.call(body, { timeoutMs: 10000 }));
          const label = `${ref.id}: ctx.${body.op}(${safe(body.args).slice(0, 300)})`;
          if (o.kind === 'returned' && o.value && typeof o.value === 'object' && typeof o.value.kind === 'string') {
            // the agent's own report of what its ctx call did
            const r = o.value;
            note(label, r, NAMES[`ctx.${body.op}`]);
            const payload = body.op === 'emit' ? body.args : body.op === 'send' || body.op === 'call' ? [body.args[1]] : [];
            if (payload.some(actorUnfaithful) && (r.kind === 'returned' || r.kind === 'ok')) {
              problems.push(`${label}: a value JSON cannot carry was not refused (${safe(r)})`);
            }
            checkTier2Options(label, body, r, problems, (name) => sup.whereis(name) !== undefined);
          } else {
            // not an agent, or the agent died handling it: the call itself must fail clearly
            note(`${label} [as a call]`, o, NAMES.call);
          }
          break;
        }
        case 'read': {
          const on = step.on === 'sup' || !ref ? sup : ref;
          const o = await outcome(() => on.read(step.x));
          if (o.kind === 'returned' && o.value !== null) {
            if (typeof o.value?.bytes !== 'function') problems.push(`read(${safe(step.x)}): returned ${safe(o.value)}, neither a reader nor null`);
            hostReads.push(step.x);
            lastRead = step.x;
            o.value = 'a reader';
          }
          note(`${step.on}.read(${safe(step.x)})`, o, NAMES.read);
          break;
        }
        case 'release': {
          const on = step.on === 'sup' || !ref ? sup : ref;
          const x = step.x === 'lastRead' ? lastRead : step.x;
          const o = await outcome(() => on.release(x));
          if (o.kind === 'returned' && typeof o.value !== 'boolean') problems.push(`release(${safe(x)}): returned ${safe(o.value)}, not a boolean`);
          note(`${step.on}.release(${safe(x)})`, o, NAMES.release);
          break;
        }
        case 'link':
        case 'unlink':
        case 'monitor':
        case 'demonitor': {
          if (!ref) break;
          const other = hostTarget(step.other);
          const o = await outcome(() => ref[step.op](other));
          if (o.value && typeof o.value === 'object') o.value = String(o.value.id ?? o.value);
          note(`${ref.id}.${step.op}(${safe(other)})`, o, NAMES[step.op]);
          break;
        }
        case 'terminate': {
          if (!ref) break;
          note(`${ref.id}.${step.how}(${safe(step.reason)})`, await outcome(() => ref[step.how](step.reason)), NAMES[step.how]);
          break;
        }
        case 'group': {
          const g = await outcome(() => sup.createGroup(step.options));
          if (g.kind === 'returned') {
            const group = g.value;
            g.value = group?.id;
            const o = await outcome(() => group.spawn(ACTORS[step.actor]));
            if (o.kind === 'returned') {
              refs.push(o.value);
              if (step.actor === 'agent') agents.push({ id: o.value.id, name: o.value.id });
              o.value = o.value.id;
            }
            note(`group.spawn(${step.actor})`, o, NAMES.spawn);
          }
          note(`createGroup(${safe(step.options)})`, g, NAMES.createGroup);
          break;
        }
        case 'task': {
          const fn = step.fn === 'double' ? (x) => x * 2 : step.fn === 'throws' ? () => { throw new Error('task failed'); } : step.fn;
          const o = await outcome(() => sup.task(fn, step.input, step.options));
          // (task inputs may be more than JSON, so only the shape of a failure is checked here)
          note(`task(${safe(step.fn)}, ${safe(step.input)}, ${safe(step.options)})`, o, NAMES.task);
          break;
        }
        case 'terminateActor': {
          const id = hostTarget(step.id);
          note(`terminateActor(${safe(id)}, ${safe(step.reason)})`, await outcome(() => sup.terminateActor(id, step.reason)), NAMES.terminateActor);
          break;
        }
        case 'whereis': {
          const o = await outcome(() => sup.whereis(step.name));
          if (o.kind === 'returned' && o.value !== undefined && typeof o.value?.receive !== 'function') problems.push(`whereis: returned ${safe(o.value)}`);
          if (o.kind === 'returned') o.value = o.value?.id;
          note(`whereis(${safe(step.name)})`, o, NAMES.whereis);
          break;
        }
        case 'shutdown':
          note('shutdown()', await outcome(() => sup.shutdown()), NAMES.shutdown);
          break;
        default:
          throw new Error(`unknown op ${step.op}`);
      }
    }

    // The supervisor still works (unless the sequence shut it down), and every box is free
    // once the actors holding references are gone and the host gave its own back.
    const closed = ops.some((s) => s.op === 'shutdown');
    if (!closed) {
      const probe = sup.spawn((self, msg) => ({ pong: msg }), { name: 'probe-after-faults' });
      const pong = await outcome(() => probe.call('ping', { timeoutMs: 10000 }));
      if (pong.kind !== 'returned' || pong.value?.pong !== 'ping') problems.push(`the supervisor no longer answers: ${safe(pong)}`);
      for (const r of refs) await within(r.terminate(), BOUND_MS, `terminate ${r.id}`);
      await probe.terminate();
      for (const x of hostReads) sup.release(x);
      // an "owner" box nobody read is freed when its lease (400 ms) passes
      try {
        await waitFor(() => sup.getDiagnostics().value.memoryPool.boxesInUse === 0, 5000, 'every box free');
      } catch {
        problems.push(`boxes still in use with no holder alive: ${safe(sup.getDiagnostics().value.memoryPool)}`);
      }
    }
  } finally {
    const o = await outcome(() => sup.shutdown());
    if (o.kind !== 'returned') problems.push(`final shutdown(): ${safe(o)}`);
    process.off('unhandledRejection', onUncaught);
    process.off('uncaughtException', onUncaught);
  }
  const stats = runtimeStats();
  if (JSON.stringify(stats) !== JSON.stringify(NO_LEAKS)) problems.push(`left behind after shutdown: ${safe(stats)}`);
  for (const u of uncaught) problems.push(`reached the process uncaught: ${u}`);
  return problems;
}

function safe(v) {
  try {
    const s = JSON.stringify(v, (k, x) => {
      if (typeof x === 'bigint') return `${x}n`;
      if (typeof x === 'function') return '[function]';
      if (typeof x === 'symbol') return String(x);
      if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
      if (x instanceof Map || x instanceof Set) return `[${x.constructor.name}]`;
      if (ArrayBuffer.isView(x)) return `[${x.constructor.name}]`;
      return x;
    });
    return s === undefined ? String(v) : s;
  } catch {
    return `[${v?.constructor?.name ?? typeof v}, not JSON]`;
  }
}

const sequences = fc.array(hostOp, { minLength: 4, maxLength: MAX_OPS }).map((ops) => [
  // every run starts with two agents so that actor-side operations have somewhere to run
  { op: 'spawn', actor: 'agent', options: {} },
  { op: 'spawn', actor: 'agent', options: { restart: 'permanent' } },
  ...ops,
]);

forEachKind((k) => {
  describe('bad input, generated (DESIGN.md 7)', () => {
    slowTest(`${NUM_RUNS} random call sequences with junk values and options: clear errors, no hangs, no leaks`, 240000, async () => {
      const started = performance.now();
      let runs = 0;
      try {
        await fc.assert(
          fc.asyncProperty(sequences, async (ops) => {
            runs++;
            const log = [];
            const problems = await runSequence(ops, log, k);
            if (process.env.WARDEN_FUZZ_LOG) console.log(log.join("\n"));
            if (problems.length) {
              throw new Error(`${problems.length} problem(s):\n  ${problems.join('\n  ')}\noperations:\n  ${log.join('\n  ')}`);
            }
          }),
          { numRuns: NUM_RUNS, seed: SEED, endOnFailure: !process.env.WARDEN_FUZZ_SHRINK, includeErrorInReport: true },
        );
      } catch (err) {
        err.message = `WARDEN_FUZZ_SEED=${SEED}: ${err.message}`;
        throw err;
      }
      assert.equal(runs, NUM_RUNS);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
      console.log(`# bad input: ${runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${SEED})`);
    });
  });
});
