// Runs the same suites under `node --test` and `bun test`: picks the runtime's own runner.
const isBun = typeof globalThis.Bun !== 'undefined';
const runner = isBun ? await import('bun:test') : await import('node:test');

export const { test, describe } = runner;
export const after = isBun ? runner.afterAll : runner.after;
export const runtime = isBun ? 'bun' : 'node';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; rejects after `timeoutMs` (only to avoid hanging). */
export async function waitFor(fn, timeoutMs = 10000, label = 'condition') {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await sleep(2);
  }
}

/**
 * Waits until `ref` is dead for good (its diagnostics are `Err`): from then on nothing can
 * restart it, so "no restart happened" can be asserted at once instead of after a sleep.
 */
export function deadForGood(ref, label = `${ref.id} to be dead for good`) {
  return waitFor(() => ref.getDiagnostics().isErr, 10000, label);
}

/**
 * Resolves once `sup`'s host thread has handled every event the core queued for it before
 * this call (emits, exits, DOWNs): a call to `probe` (an actor of `sup` that answers) is
 * answered through the same FIFO host queue, after them.
 */
export async function hostDrained(probe) {
  await probe.call('drained?', { timeoutMs: 10000 });
}

/**
 * Resolves after two macrotask turns of this thread: every promise reaction (a handler's
 * `.then`, a reply the host drops) queued before the call has run, and an unhandled
 * rejection among them has been reported.
 */
export async function turns() {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}

/** Collects what a subscribe-style API delivers. */
export function collector() {
  const items = [];
  const fn = (m) => items.push(m);
  fn.items = items;
  return fn;
}

/** A test with its own time limit (bun's default is 5 s per test; node has none). */
export function slowTest(name, timeoutMs, fn) {
  return isBun ? runner.test(name, fn, timeoutMs) : runner.test(name, { timeout: timeoutMs }, fn);
}

/**
 * `slowTest(name, timeoutMs, fn)`, reported as skipped (with `reason`) when `cond` is true, on
 * both runners: a test that cannot check anything on this runtime must not count as a pass.
 */
export function slowTestUnless(cond, reason, name, timeoutMs, fn) {
  if (!cond) return slowTest(name, timeoutMs, fn);
  const label = `${name} (skipped on ${isBun ? 'bun' : 'node'}: ${reason})`;
  return isBun ? runner.test.skip(label, fn) : runner.test(label, { skip: reason }, fn);
}

/**
 * Runs `fn(sup)` with a fresh supervisor (`config` over `defaults`), always shuts it down, then
 * checks that nothing leaked.
 */
export function withSup(config, fn, defaults = { warmWorkers: 0 }) {
  return withSupOf(warden.createSupervisor, config, fn, defaults);
}

async function withSupOf(createSupervisor, config, fn, defaults) {
  const assert = (await import('node:assert/strict')).default;
  const sup = createSupervisor({ ...defaults, ...config });
  try {
    await fn(sup);
  } finally {
    await sup.shutdown();
  }
  assert.deepEqual(warden.runtimeStats(), NO_LEAKS);
}

/**
 * The threads that run `sup`'s actors, counting each live pooled incarnation as one: for
 * isolated actors `runtimeStats().threads` (actors and warm threads); for pooled ones their
 * pool workers are replaced by the incarnations they run, so "one thread per live actor, no
 * leftover" reads the same for both kinds.
 */
export function actorThreads(sup) {
  const workers = sup._pooled ? sup._pooled.workers.filter((w) => w !== null).length : 0;
  let pooled = 0;
  if (sup._pooled) for (const e of sup._entries.values()) if (e.pooled && e.thread) pooled++;
  return warden.runtimeStats().threads - workers + pooled;
}

/** What runtimeStats() must report once every supervisor in the process is shut down. */
export const NO_LEAKS = Object.freeze({ threads: 0, ports: 0, actors: 0 });

/**
 * Runs `script` (with `args`, and runtime `flags` before it; in `cwd` if given) in a child
 * process of this runtime and waits for it to exit; resolves `{ code, signal, stdout, stderr }`.
 * If it has not exited within `timeoutMs` (`label` says what was awaited) it is killed and the
 * promise rejects with its output so far.
 */
export async function runChild(script, { args = [], flags = [], cwd, timeoutMs = 30000, label = `${script} to exit` } = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...flags, script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  try {
    const { code, signal } = await within(exited, timeoutMs, label);
    return { code, signal, stdout, stderr };
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => {});
    throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

/**
 * Runs `script` like `runChild` and asserts that it exited on its own with code 0; returns the
 * JSON its last line of stdout printed.
 */
export async function exitsOnItsOwn(script, { args = [], flags = [], timeoutMs = 30000 } = {}) {
  const assert = (await import('node:assert/strict')).default;
  const r = await runChild(script, { args, flags, timeoutMs, label: 'the child process to exit after shutdown' });
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Resolves like `promise`, or rejects after `ms` (a bound that only avoids hanging). */
export function within(promise, ms, label = 'operation') {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** Records the payloads of the given lifecycle events of `sup` (and a combined ordered log). */
export function record(sup, names = ['spawn', 'exit', 'restart', 'escalate', 'deadLetter', 'error']) {
  const out = { log: [] };
  for (const name of names) {
    out[name] = [];
    sup.on(name, (p) => {
      out[name].push(p);
      out.log.push([name, p]);
    });
  }
  return out;
}

/**
 * Asserts that `fn()` faults with an error of class `Cls` whose message matches `re`, either by
 * throwing synchronously or by returning a promise that rejects. A resolved promise fails.
 */
export async function faults(fn, Cls, re, label = String(fn)) {
  let result;
  try {
    result = fn();
  } catch (err) {
    checkFault(err, Cls, re, label);
    return err;
  }
  if (result && typeof result.then === 'function') {
    try {
      const v = await within(result, 10000, label);
      throw new FaultMissing(`${label}: expected ${Cls.name} matching ${re}, but the promise resolved with ${safe(v)}`);
    } catch (err) {
      if (err instanceof FaultMissing) throw err;
      checkFault(err, Cls, re, label);
      return err;
    }
  }
  throw new FaultMissing(`${label}: expected ${Cls.name} matching ${re}, but it returned ${safe(result)}`);
}

class FaultMissing extends Error {}

function safe(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function checkFault(err, Cls, re, label) {
  if (!(err instanceof Cls)) {
    throw new FaultMissing(`${label}: expected ${Cls.name}, got ${err?.constructor?.name}: ${err?.message ?? err}`);
  }
  if (re && !re.test(err.message)) {
    throw new FaultMissing(`${label}: ${Cls.name} message ${JSON.stringify(err.message)} does not match ${re}`);
  }
}

/** TypeError or RangeError: what DESIGN.md 7 allows for a wrong type or value. */
export class TypeOrRangeError {
  static [Symbol.hasInstance](e) {
    return e instanceof TypeError || e instanceof RangeError;
  }
}

/** The two kinds of actor (DESIGN.md 8.1): a thread each, or many on a few pool workers. */
export const KINDS = Object.freeze(['isolated', 'pooled']);

/**
 * A handler's deadline far above what test handlers need, so a busy shared machine that
 * deschedules a pool worker mid-handler is not mistaken for a hang (tests of hangs set their own).
 */
export const POOL_DEFAULTS = Object.freeze({ workers: 1, maxBlockMs: 2000 });

/**
 * What pooled actors refuse today (DESIGN 8.1: refused at spawn with a TypeError naming it, or
 * a ctx method that throws one): a test that needs one of these (`k.needs`) is skipped for
 * pooled actors with this reason in its name. When pooled actors gain a feature, delete its
 * entry here and its tests run for both kinds.
 */
export const POOLED_REFUSES = Object.freeze({
  resourceLimits: 'pooled actors refuse resourceLimits (a heap limit belongs to a thread)',
});

/**
 * Runs `fn(k)` once per kind of actor, inside `describe('<kind> actors')`, so every test of the
 * suite runs with isolated and with pooled actors and its name says which (parametrised, not
 * copied). `k` gives the suite what differs between the kinds:
 * - `k.kind` ('isolated' | 'pooled'), `k.pooled`;
 * - `k.createSupervisor(config)`: a supervisor whose `spawn` (and the `spawn` of the groups it
 *   creates) spawns actors of this kind unless the options name a kind (for isolated actors,
 *   the default, it is a plain supervisor); for pooled actors the
 *   config gets `pool: POOL_DEFAULTS` unless it has a pool of its own, with `maxActors` (which
 *   counts isolated actors) as the pool's `maxActors`;
 * - `k.withSup(config, fn, defaults)`: `withSup` with such a supervisor;
 * - `k.maxActorsError(n)`: the text of the error a spawn over the limit throws;
 * - `k.needs(features, name, timeoutMs, fn)`: a test that needs a feature (or an array of them)
 *   of POOLED_REFUSES: with pooled actors, while any is refused, it is reported as skipped with
 *   the reason in its name, never silently left out;
 * - `k.onlyIsolated(reason, name, timeoutMs, fn)`: the same for a test of what pooled actors do
 *   differently by design (`reason` says what);
 * - `k.pooledBug(reason, name, timeoutMs, fn)`: a test that pooled actors fail today (`reason`
 *   says why): with pooled actors it is a todo (node runs it without failing the suite, bun
 *   lists it), so it shows until fixed; with isolated actors an ordinary test.
 * Only spawns from the host take the suite's kind: `ctx.spawn` inside an actor defaults to
 * isolated like any spawn, and actor code is serialised (it sees no `k`), so a test whose actors
 * spawn children of the suite's kind sends `k.kind` in a message (regions.test.mjs does).
 */
export function forEachKind(fn) {
  for (const kind of KINDS) describe(`${kind} actors`, () => fn(kindContext(kind)));
}

function kindContext(kind) {
  const pooled = kind === 'pooled';
  const k = {
    kind,
    pooled,
    maxActorsError: (n) => `Max ${pooled ? 'pooled ' : ''}actors limit reached: ${n}`,
    createSupervisor(config = {}) {
      // a bad config (not an object) passes through untouched, for createSupervisor to refuse it
      const plain = config !== null && typeof config === 'object' && !Array.isArray(config);
      let c = config;
      if (pooled && plain && !('pool' in config)) {
        const max = Number.isSafeInteger(config.maxActors) && config.maxActors > 0 ? { maxActors: config.maxActors } : {};
        c = { ...config, pool: { ...POOL_DEFAULTS, ...max } };
      }
      const sup = warden.createSupervisor(c);
      return pooled ? ofKind(sup, kind) : sup; // isolated: the default kind, the suites as written
    },
    withSup(config, fn, defaults = { warmWorkers: 0 }) {
      return withSupOf((c) => k.createSupervisor(c), config, fn, defaults);
    },
    needs(features, name, timeoutMs, fn) {
      const refused = [features].flat().filter((f) => {
        if (typeof f !== 'string') throw new TypeError(`k.needs: ${String(f)} is not a feature name`);
        return Object.hasOwn(POOLED_REFUSES, f);
      });
      if (!pooled || refused.length === 0) return slowTest(name, timeoutMs, fn);
      return k.onlyIsolated(refused.map((f) => POOLED_REFUSES[f]).join('; '), name, timeoutMs, fn);
    },
    onlyIsolated(reason, name, timeoutMs, fn) {
      if (!pooled) return slowTest(name, timeoutMs, fn);
      const label = `${name} (skipped for pooled actors: ${reason})`;
      return isBun ? runner.test.skip(label, fn) : runner.test(label, { skip: reason }, fn);
    },
    pooledBug(reason, name, timeoutMs, fn) {
      if (!pooled) return slowTest(name, timeoutMs, fn);
      const label = `${name} (known failure with pooled actors: ${reason})`;
      return isBun ? runner.test.todo(label, fn) : runner.test(label, { todo: reason, timeout: timeoutMs }, fn);
    },
  };
  return Object.freeze(k);
}

/** Makes `spawner` (a supervisor or group) and the groups it creates spawn `kind` by default. */
function ofKind(spawner, kind) {
  const { spawn, createGroup } = spawner;
  spawner.spawn = function (actor, options) {
    // bad options (not an object) pass through untouched, for the spawn to refuse them
    const plain = options !== null && typeof options === 'object' && !Array.isArray(options);
    return spawn.call(this, actor, options === undefined ? { kind } : plain && !('kind' in options) ? { ...options, kind } : options);
  };
  if (createGroup) {
    spawner.createGroup = function (...args) {
      return ofKind(createGroup.apply(this, args), kind);
    };
  }
  return spawner;
}

const warden = await import('../index.mjs');
