// Shared pieces of the supervision, links, registry and model suites.
import assert from 'node:assert/strict';
import { waitFor, actorThreads } from './harness.mjs';

/**
 * A callback actor (serialised with toString: it sees no outer scope):
 * - 'boom' throws (exit reason `error: boom`), 'stop' ends it normally (ctx.terminate());
 * - `{ op: 'count', n }` emits `counted { n, token }`;
 * - anything else answers with the token of its incarnation (one random token per incarnation:
 *   each incarnation has its own `self`, even when a thread is reused after a throw).
 */
export function worker(self, msg, ctx) {
  globalThis.tokens ??= new WeakMap();
  if (!globalThis.tokens.has(self)) globalThis.tokens.set(self, `${self.id}/${Math.random()}`);
  globalThis.token = globalThis.tokens.get(self);
  if (msg === 'boom') throw new Error('boom');
  if (msg === 'stop') return ctx.terminate();
  if (msg !== null && typeof msg === 'object' && msg.op === 'count') {
    self.send('counted', { n: msg.n, token: globalThis.token });
    return undefined;
  }
  return globalThis.token;
}

/**
 * Records lifecycle events with their arrival time (performance.now()), and (not enumerable,
 * for `quiet`) the refs spawned from now on through `sup` and its groups.
 */
export function timeline(sup, names = ['spawn', 'exit', 'restart', 'escalate', 'deadLetter', 'error']) {
  const out = { log: [] };
  for (const name of names) {
    out[name] = [];
    sup.on(name, (p) => {
      out[name].push(p);
      out.log.push({ event: name, p, t: performance.now() });
    });
  }
  Object.defineProperty(out, 'refs', { value: trackSpawns(sup), enumerable: false });
  Object.defineProperty(out, 'sup', { value: sup, enumerable: false });
  return out;
}

/** The refs spawned from now on by `spawner` (a supervisor or a group) and the groups it creates. */
function trackSpawns(spawner, refs = []) {
  const { spawn, createGroup } = spawner;
  spawner.spawn = function (...args) {
    const ref = spawn.apply(this, args);
    refs.push(ref);
    return ref;
  };
  spawner.createGroup = function (...args) {
    const group = createGroup.apply(this, args);
    trackSpawns(group, refs);
    return group;
  };
  return refs;
}

/** [id, reason] of each exit event, in order. */
export const exits = (ev) => ev.exit.map((e) => [e.id, e.reason]);

/** [id, incarnation] of each restart event, in order. */
export const restarts = (ev) => ev.restart.map((e) => [e.id, e.incarnation]);

/**
 * Asserts that `ref` (a `worker`) still runs the thread that answered `token`, and that no stop
 * of it is on its way: two calls in a row both answer `token`. The first reply comes through
 * the host's FIFO event queue after every exit signal the core queued before it, so a stop
 * caused by one has been issued; the second call would then reach only the next thread (the
 * mailbox outlives the thread) and answer another token.
 */
export async function untouched(ref, token) {
  for (let i = 0; i < 2; i++) assert.equal(await ref.call('still you?', { timeoutMs: 20000 }), token, `${ref.id} kept its thread`);
}

/**
 * Resolves once nothing more is on its way to the given `worker` actors: two rounds of calls to
 * each (answered, or refused by one dead for good). A reply comes through the host's FIFO event
 * queue after every exit signal the core queued before it, so any stop those cause has been
 * issued by the end of the first round; a call of the second round then reaches an actor only
 * after such a stop and the restart it leads to (the mailbox outlives the thread), whose events
 * are recorded by then.
 */
export async function settled(refs) {
  for (let round = 0; round < 2; round++) {
    await Promise.all(refs.map((r) => r.call('settled?', { timeoutMs: 20000 }).catch(() => undefined)));
  }
}

const counts = (ev) => Object.fromEntries(Object.entries(ev).map(([k, v]) => [k, v.length]));

/**
 * Waits until nothing more is on its way, on positive signals rather than a sleep, and returns
 * the event counts from before and after, to check that nothing more happened. Rounds of calls
 * go to every actor spawned since `timeline` that is not dead for good (those answer any message
 * with a token: `worker`, the link probe), except `except` (actors a call would disturb); it ends
 * after two rounds in a row in which no event arrived (see `settled` for why a round is a
 * barrier: each round flushes one more hop of a cascade of exit signals).
 */
export async function quiet(ev, { except = [] } = {}) {
  const before = counts(ev);
  let last = JSON.stringify(before);
  for (let calm = 0, rounds = 0; calm < 2 && rounds < 20; rounds++) {
    const live = ev.refs.filter((r) => !except.includes(r) && r.getDiagnostics().isOk);
    await Promise.all(live.map((r) => r.call('quiet?', { timeoutMs: 20000 }).catch(() => undefined)));
    const now = JSON.stringify(counts(ev));
    calm = now === last ? calm + 1 : 0;
    last = now;
  }
  // an exit is reported as soon as the thread's JS environment is gone, a few ms before the
  // runtime reaps the thread: wait for those (the supervisor's set of ended threads) to go
  await waitFor(() => ev.sup._exiting.size === 0, 10000, 'ended threads to be reaped');
  return { before, after: counts(ev) };
}

/** Exact state of a supervisor and its refs: incarnations, restarts, active actors, threads (see actorThreads). */
export function snapshot(sup, refs) {
  const d = sup.getDiagnostics().value;
  return {
    incarnations: refs.map((r) => r.incarnation),
    restarts: d.restarts,
    activeActors: d.activeActors,
    threads: actorThreads(sup),
  };
}

/**
 * Gaps (ms) between each `exit` event of `id` and the `restart` event of `id` that follows it,
 * from a timeline.
 */
export function restartGaps(ev, id) {
  const gaps = [];
  let exitAt = null;
  for (const { event, p, t } of ev.log) {
    if (p?.id !== id) continue;
    if (event === 'exit') exitAt = t;
    else if (event === 'restart' && exitAt !== null) {
      gaps.push(t - exitAt);
      exitAt = null;
    }
  }
  return gaps;
}

/**
 * Every start the core planned for `sup`, in order, as `{ id, delayMs }`: the supervision tree
 * is pure, and its plan carries the backoff delay it chose (with jitter applied). Read by
 * wrapping the supervisor's plan runner (`_run`, which `_scheduleStart` takes the delay from):
 * a test-only look at the decision, so tests can assert the delays exactly instead of
 * measuring them against machine speed.
 */
export function plannedStarts(sup) {
  const starts = [];
  const run = sup._run;
  sup._run = function (plan, cause) {
    for (const [op, a, b] of plan) if (op === 'start') starts.push({ id: `actor-${a}`, delayMs: b });
    return run.call(this, plan, cause);
  };
  return starts;
}

/** The planned delays of `id`'s starts, in order. */
export const delaysOf = (starts, id) => starts.filter((s) => s.id === id).map((s) => s.delayMs);

/**
 * Asserts that a measured exit → restart gap is at least the planned delay (a backoff must wait
 * its delay; 2 ms for timer rounding). No upper bound: how much longer it took measures the
 * machine, not warden.
 */
export function assertWaited(assert, gap, planned, label) {
  assert.ok(gap >= planned - 2, `${label}: restarted ${gap.toFixed(1)} ms after the exit, before its planned ${planned} ms delay`);
}
