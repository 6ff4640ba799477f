// Diagnostics and observability (DESIGN.md 1.1, 3.6; issue 5): exact per-supervisor counters,
// per-actor diagnostics, sampled metrics, lifecycle events on node:diagnostics_channel, and
// inspect() as the live supervision tree. Actors are mostly fixtures/res-diag-actor.mjs.
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, slowTest, sleep, waitFor, record, faults, NO_LEAKS, TypeOrRangeError, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats, ActorExitError } from '../index.mjs';

const ACTOR = new URL('./fixtures/res-diag-actor.mjs', import.meta.url);
const CALL = { timeoutMs: 20000 };
const EVENTS = ['spawn', 'exit', 'restart', 'escalate', 'deadLetter', 'leaseExpired', 'error'];
const ACTOR_FIELDS = {
  id: 'string',
  name: 'string|null',
  incarnation: 'number',
  state: 'string',
  restarts: 'number',
  mailboxDepth: 'number',
  messageCount: 'number',
  lastError: 'string|null',
  lifetimeMs: 'number',
  heartbeatCount: 'number',
  lastHeartbeatAt: 'number|null',
};

const typeOf = (v) => (v === null ? 'null' : typeof v);

/** The supervisor counters of DESIGN 3.6. */
function counters(sup) {
  const d = sup.getDiagnostics();
  assert.ok(d.isOk, `getDiagnostics of ${sup.id}: ${d.error}`);
  const { totalActorsSpawned, totalActorsTerminated, restarts, activeActors, deadLetters } = d.value;
  return { totalActorsSpawned, totalActorsTerminated, restarts, activeActors, deadLetters };
}

/** Waits until `ref` (a res-diag-actor) is busy in a `hold` of `ms` and its mailbox is empty. */
async function holding(ref, ms) {
  let held = false;
  const off = ref.subscribe((m) => {
    if (m.msg === 'holding') held = true;
  });
  try {
    ref.receive({ op: 'hold', ms });
    await waitFor(() => held, 10000, `${ref.id} holding`);
  } finally {
    off();
  }
}

/** The tree without the fields that change by themselves (lifetimes, counters). */
function shape(node) {
  if (node.type === 'group') return { type: 'group', id: node.id, strategy: node.strategy, children: node.children.map(shape) };
  return { type: 'actor', id: node.id, name: node.name, incarnation: node.incarnation, state: node.state, restarts: node.restarts };
}

const actorNode = (ref, incarnation = 0, restarts = incarnation) => ({
  type: 'actor',
  id: ref.id,
  name: ref.name ?? null,
  incarnation,
  state: 'running',
  restarts,
});

forEachKind((k) => {
  describe('diagnostics: exact per-supervisor counters', () => {
    slowTest('spawns, crashes, restarts, terminations and dead letters, with two supervisors alive (no mixing)', 60000, async () => {
      const A = k.createSupervisor({ warmWorkers: 1 });
      const B = k.createSupervisor({ warmWorkers: 1 });
      try {
        const evA = record(A);
        const evB = record(B);
        const want = {
          A: { totalActorsSpawned: 0, totalActorsTerminated: 0, restarts: 0, activeActors: 0, deadLetters: 0 },
          B: { totalActorsSpawned: 0, totalActorsTerminated: 0, restarts: 0, activeActors: 0, deadLetters: 0 },
        };
        const check = (step) => {
          assert.deepEqual(counters(A), want.A, `A after ${step}`);
          assert.deepEqual(counters(B), want.B, `B after ${step}`);
        };
        check('creation');

        // spawns
        const a1 = A.spawn(ACTOR, { name: 'a1' });
        const a2 = A.spawn(ACTOR);
        const a3 = A.spawn(ACTOR, { restart: 'temporary' });
        const b1 = B.spawn(ACTOR, { name: 'b1' });
        const b2 = B.spawn(ACTOR);
        for (const r of [a1, a2, a3, b1, b2]) assert.equal(await r.call('ready?', CALL), 'ready?');
        Object.assign(want.A, { totalActorsSpawned: 3, activeActors: 3 });
        Object.assign(want.B, { totalActorsSpawned: 2, activeActors: 2 });
        check('spawns');
        assert.deepEqual(
          A.getDiagnostics().value.actors.map((x) => x.id),
          [a1.id, a2.id, a3.id],
          'A lists its own actors only, in start order',
        );
        assert.deepEqual(
          B.getDiagnostics().value.actors.map((x) => x.id),
          [b1.id, b2.id],
        );

        // a crash in A: one restart (not a termination)
        a1.receive('boom');
        await waitFor(() => evA.restart.length === 1, 10000, 'a1 restarted');
        assert.equal(await a1.call('back', CALL), 'back');
        want.A.restarts = 1;
        check('a1 crash');

        // two crashes in B, one after the other
        for (let i = 1; i <= 2; i++) {
          b1.receive('boom');
          await waitFor(() => evB.restart.length === i, 10000, `b1 restart ${i}`);
          assert.equal(await b1.call('back', CALL), 'back');
        }
        want.B.restarts = 2;
        check('b1 crashes');

        // a temporary actor's crash ends it for good: a termination, no restart
        a3.receive('boom');
        await waitFor(() => evA.exit.some((e) => e.id === a3.id), 10000, 'a3 exit');
        await waitFor(() => a3.getDiagnostics().isErr, 10000, 'a3 gone');
        Object.assign(want.A, { totalActorsTerminated: 1, activeActors: 2 });
        check('a3 crash (temporary)');

        // host terminate in B
        await b2.terminate();
        Object.assign(want.B, { totalActorsTerminated: 1, activeActors: 1 });
        check('b2 terminated');

        // a normal exit (ctx.terminate) of a transient actor in A
        a2.receive('quit');
        await waitFor(() => evA.exit.some((e) => e.id === a2.id), 10000, 'a2 exit');
        await waitFor(() => a2.getDiagnostics().isErr, 10000, 'a2 gone');
        Object.assign(want.A, { totalActorsTerminated: 2, activeActors: 1 });
        check('a2 normal exit');

        // dead letters: to actors dead for good (a message, a call), each counted where it belongs
        assert.equal(a2.receive('to a2'), false);
        assert.equal(b2.receive('to b2'), false);
        assert.equal(b2.receive('to b2 again'), false);
        await faults(() => b2.call('call b2', CALL), ActorExitError, /noproc/);
        await waitFor(() => evA.deadLetter.length === 1 && evB.deadLetter.length === 3, 10000, 'deadLetter events');
        want.A.deadLetters = 1;
        want.B.deadLetters = 3;
        check('dead letters');

        // a full mailbox (capacity 1, overflow reject) in A
        const a4 = A.spawn(ACTOR, { mailbox: { capacity: 1 } });
        assert.equal(await a4.call('ready?', CALL), 'ready?');
        await holding(a4, 1500);
        assert.equal(a4.receive('queued'), true);
        assert.equal(a4.receive('overflow'), false);
        await waitFor(() => evA.deadLetter.length === 2, 10000, 'overflow deadLetter');
        assert.equal(evA.deadLetter[1].to, a4.id);
        Object.assign(want.A, { totalActorsSpawned: 4, activeActors: 2, deadLetters: 2 });
        check('mailbox overflow');

        // the counters agree with the events and with the per-actor diagnostics
        for (const [sup, ev] of [
          [A, evA],
          [B, evB],
        ]) {
          const d = sup.getDiagnostics().value;
          assert.equal(d.activeActors, d.totalActorsSpawned - d.totalActorsTerminated, `${sup.id}: active = spawned - terminated`);
          assert.equal(d.activeActors, d.actors.length);
          assert.equal(d.restarts, ev.restart.length, `${sup.id}: one restart event per restart`);
          assert.equal(d.restarts, d.actors.reduce((n, x) => n + x.restarts, 0), `${sup.id}: sum of actor restarts`);
          assert.equal(d.deadLetters, ev.deadLetter.length);
          assert.equal(d.totalActorsSpawned, ev.spawn.length);
        }
        assert.deepEqual(
          A.getDiagnostics().value.actors.map((x) => [x.id, x.restarts]),
          [
            [a1.id, 1],
            [a4.id, 0],
          ],
        );
        assert.deepEqual(
          B.getDiagnostics().value.actors.map((x) => [x.id, x.restarts]),
          [[b1.id, 2]],
        );

        // shutting A down leaves B's counters and actors alone
        await A.shutdown();
        assert.deepEqual(counters(B), want.B, 'B after A shut down');
        assert.equal(await b1.call('still here', CALL), 'still here');
        assert.deepEqual(counters(B), want.B);
      } finally {
        await A.shutdown();
        await B.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('one-for-all: one crash counts one restart per restarted actor, and nothing in the other supervisor', 60000, async () => {
      const A = k.createSupervisor({ warmWorkers: 1, strategy: 'one-for-all' });
      const B = k.createSupervisor({ warmWorkers: 1, strategy: 'one-for-all' });
      try {
        const evA = record(A);
        const [x, y, z] = [A.spawn(ACTOR), A.spawn(ACTOR), A.spawn(ACTOR)];
        const w = B.spawn(ACTOR);
        for (const r of [x, y, z, w]) assert.equal(await r.call(1, CALL), 1);
        y.receive('boom');
        await waitFor(() => evA.restart.length === 3, 10000, 'three restarts');
        // each answers after the three restarts: the plan (its stops come before its starts) is done
        for (const r of [x, y, z]) assert.equal(await r.call(2, CALL), 2);
        assert.equal(evA.restart.length, 3, 'no over-restarting');
        assert.deepEqual(counters(A), { totalActorsSpawned: 3, totalActorsTerminated: 0, restarts: 3, activeActors: 3, deadLetters: 0 });
        assert.deepEqual(
          A.getDiagnostics().value.actors.map((d) => [d.incarnation, d.restarts]),
          [
            [1, 1],
            [1, 1],
            [1, 1],
          ],
        );
        assert.deepEqual(counters(B), { totalActorsSpawned: 1, totalActorsTerminated: 0, restarts: 0, activeActors: 1, deadLetters: 0 });
      } finally {
        await A.shutdown();
        await B.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('diagnostics: per actor', () => {
    slowTest('every field: id, name, incarnation, state, restarts, mailboxDepth, messageCount, lastError, lifetimeMs, heartbeats', 60000, async () => {
      await k.withSup({ warmWorkers: 1, retry: { backoff: 'fixed', delayMs: 600, jitter: 0 } }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(ACTOR, { name: 'worker' });
        const anon = sup.spawn(ACTOR);
        assert.equal(await a.call('first', CALL), 'first');
        assert.equal(await anon.call('first', CALL), 'first');

        const d0 = a.getDiagnostics();
        assert.ok(d0.isOk);
        for (const [k, t] of Object.entries(ACTOR_FIELDS)) {
          assert.ok(k in d0.value, `field ${k}`);
          assert.ok(t.split('|').includes(typeOf(d0.value[k])), `${k} is ${t} (got ${typeOf(d0.value[k])})`);
        }
        assert.equal(d0.value.id, a.id);
        assert.equal(d0.value.name, 'worker');
        assert.equal(anon.getDiagnostics().value.name, null, 'an unnamed actor');
        assert.equal(d0.value.incarnation, 0);
        assert.equal(d0.value.state, 'running');
        assert.equal(d0.value.restarts, 0);
        assert.equal(d0.value.mailboxDepth, 0);
        assert.equal(d0.value.messageCount, 1);
        assert.equal(d0.value.lastError, null);
        assert.equal(d0.value.heartbeatCount, 0);
        assert.equal(d0.value.lastHeartbeatAt, null);
        assert.ok(d0.value.lifetimeMs >= 0);

        // the same object is in the supervisor's list
        const inList = sup.getDiagnostics().value.actors.find((x) => x.id === a.id);
        assert.deepEqual({ ...inList, lifetimeMs: 0 }, { ...a.getDiagnostics().value, lifetimeMs: 0 });

        // heartbeats: counted, and the time of the last one (epoch ms)
        const before = Date.now();
        const answeredAt = await a.call({ op: 'beat', n: 3 }, CALL);
        const d1 = a.getDiagnostics().value;
        assert.equal(d1.heartbeatCount, 3);
        assert.ok(d1.lastHeartbeatAt >= before - 5 && d1.lastHeartbeatAt <= answeredAt + 5, `lastHeartbeatAt ${d1.lastHeartbeatAt} in [${before}, ${answeredAt}]`);
        assert.equal(d1.messageCount, 2);

        // mailboxDepth while busy; messageCount counts what was delivered
        await holding(a, 400);
        for (let i = 0; i < 3; i++) a.receive(`queued ${i}`);
        const d2 = a.getDiagnostics().value;
        assert.equal(d2.mailboxDepth, 3);
        assert.ok(d2.lifetimeMs > d0.value.lifetimeMs, 'lifetimeMs grows');
        await waitFor(() => a.getDiagnostics().value.mailboxDepth === 0, 10000, 'mailbox drained');
        assert.equal(await a.call('sync', CALL), 'sync');
        assert.equal(a.getDiagnostics().value.messageCount, 7, 'first, beat, hold, 3 queued, sync');

        // a crash: lastError, then "restarting" during the backoff, with mail waiting
        a.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        a.receive('waits for the next incarnation');
        const d3 = a.getDiagnostics().value;
        assert.equal(d3.lastError, 'error: boom');
        assert.equal(d3.state, 'restarting');
        assert.equal(d3.incarnation, 0);
        assert.equal(d3.mailboxDepth, 1);
        await waitFor(() => ev.restart.length === 1, 10000, 'restart after backoff');
        assert.equal(await a.call('after', CALL), 'after');
        const d4 = a.getDiagnostics().value;
        assert.equal(d4.incarnation, 1);
        assert.equal(d4.restarts, 1);
        assert.equal(d4.state, 'running');
        assert.equal(d4.lastError, 'error: boom', 'lastError is kept after the restart');
        assert.equal(d4.mailboxDepth, 0);
        assert.equal(d4.name, 'worker', 'the name follows the restart');

        // dead for good: Err with the exact message
        await a.terminate();
        const gone = a.getDiagnostics();
        assert.ok(gone.isErr);
        assert.equal(gone.error, `Actor not found: ${a.id}`);
        assert.equal(anon.getDiagnostics().value.restarts, 0, 'the other actor is untouched');
      });
    });

    slowTest('heapUsed is reported (DESIGN 3.6)', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn(ACTOR);
        assert.equal(await a.call('x', CALL), 'x');
        const d = a.getDiagnostics().value;
        assert.equal(typeof d.heapUsed, 'number', `heapUsed missing from ${JSON.stringify(Object.keys(d))}`);
        assert.ok(d.heapUsed > 0);
        if (k.pooled) {
          // the heap of the worker it shares with its co-located actors, reported for each of them
          const b = sup.spawn(ACTOR);
          assert.equal(await b.call('y', CALL), 'y');
          assert.equal(b.getDiagnostics().value.worker, d.worker);
          assert.ok(b.getDiagnostics().value.heapUsed > 0);
        }
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('diagnostics: which actors getDiagnostics lists (options.actors)', () => {
    const ids = (d) => d.actors.map((a) => a.id);
    const still = (a) => ({ ...a, lifetimeMs: 0, heapUsed: 0 });

    slowTest('every actor by default, none, a summary by state, or a page in start order', 60000, async () => {
      await k.withSup({ warmWorkers: 2, retry: { backoff: 'fixed', delayMs: 2000, jitter: 0 } }, async (sup) => {
        const ev = record(sup);
        const refs = [];
        for (let i = 0; i < 6; i++) refs.push(sup.spawn(ACTOR, { name: `n${i}` }));
        for (const r of refs) assert.equal(await r.call('up', CALL), 'up');
        await refs[2].terminate();
        const live = refs.filter((_, i) => i !== 2).map((r) => r.id);

        const all = sup.getDiagnostics().value;
        assert.deepEqual(ids(all), live, 'default: every live actor in start order');
        assert.deepEqual(ids(sup.getDiagnostics({}).value), live);
        assert.deepEqual(ids(sup.getDiagnostics({ actors: true }).value), live);

        const none = sup.getDiagnostics({ actors: false }).value;
        assert.ok(!('actors' in none) && !('actorsByState' in none), `keys: ${Object.keys(none)}`);
        assert.deepEqual(counters(sup), {
          totalActorsSpawned: none.totalActorsSpawned,
          totalActorsTerminated: none.totalActorsTerminated,
          restarts: none.restarts,
          activeActors: none.activeActors,
          deadLetters: none.deadLetters,
        });
        assert.equal(none.activeActors, 5);
        assert.equal(none.memoryPool.poolSize, all.memoryPool.poolSize);

        const page = sup.getDiagnostics({ actors: { offset: 1, limit: 2 } }).value;
        assert.deepEqual(ids(page), live.slice(1, 3), 'the page skips the terminated actor');
        assert.deepEqual(page.actors.map(still), all.actors.slice(1, 3).map(still), 'the same entries');
        assert.deepEqual(ids(sup.getDiagnostics({ actors: { limit: 2 } }).value), live.slice(0, 2), 'offset defaults to 0');
        assert.deepEqual(ids(sup.getDiagnostics({ actors: { offset: 3, limit: 10 } }).value), live.slice(3));
        assert.deepEqual(ids(sup.getDiagnostics({ actors: { offset: 4, limit: 1 } }).value), live.slice(4));
        assert.deepEqual(sup.getDiagnostics({ actors: { offset: 5, limit: 3 } }).value.actors, []);
        assert.deepEqual(sup.getDiagnostics({ actors: { offset: 0, limit: 0 } }).value.actors, []);

        let summary = sup.getDiagnostics({ actors: 'summary' }).value;
        assert.ok(!('actors' in summary));
        assert.deepEqual(summary.actorsByState, { starting: 0, running: 5, restarting: 0 });
        assert.equal(summary.activeActors, 5);

        refs[0].receive('boom'); // restarting for the 2 s backoff
        await waitFor(() => ev.exit.length === 2, 10000, 'the crash');
        summary = sup.getDiagnostics({ actors: 'summary' }).value;
        assert.deepEqual(summary.actorsByState, { starting: 0, running: 4, restarting: 1 });
        assert.equal(summary.activeActors, 5, 'an actor waiting for its restart is live');
      });
    });

    slowTest('bad options are refused with errors naming options.actors', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 0 });
      try {
        const bad = [
          [5, TypeError, /^options must be an object/],
          [[], TypeError, /^options must be an object/],
          [{ actor: false }, TypeError, /^options: unknown option "actor"/],
          [{ actors: 'all' }, RangeError, /^options\.actors must be false, 'summary' or \{ offset, limit \} \(got "all"\)/],
          [{ actors: 1 }, TypeError, /^options\.actors must be false, 'summary' or/],
          [{ actors: null }, TypeError, /^options\.actors must be/],
          [{ actors: [0, 1] }, TypeError, /^options\.actors must be/],
          [{ actors: {} }, TypeError, /^options\.actors\.limit must be a number/],
          [{ actors: { limit: 1, size: 2 } }, TypeError, /^options\.actors: unknown option "size"/],
          [{ actors: { offset: -1, limit: 1 } }, RangeError, /^options\.actors\.offset must be >= 0/],
          [{ actors: { offset: 0.5, limit: 1 } }, RangeError, /^options\.actors\.offset must be an integer/],
          [{ actors: { limit: Infinity } }, RangeError, /^options\.actors\.limit must be finite/],
          [{ actors: { limit: '3' } }, TypeError, /^options\.actors\.limit must be a number/],
        ];
        for (const [options, Cls, re] of bad) {
          await faults(() => sup.getDiagnostics(options), Cls, re, `getDiagnostics(${JSON.stringify(options)})`);
          await faults(() => sup.getDiagnostics(options), TypeOrRangeError, null);
        }
        assert.ok(sup.getDiagnostics(undefined).isOk);
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('diagnostics: sampled metrics', () => {
    const ALL = { callLatency: true, resourceLatency: true, restartLatency: true };
    const resources = { svc: { echo: { handler: (x) => x } } };

    /** N host calls (M of which make one resource call each) and R crash-restarts. */
    async function workload(sup, { calls, resourceCalls, restarts }) {
      const ev = record(sup, ['restart']);
      const a = sup.spawn(ACTOR);
      let made = 0;
      for (let i = 0; i < calls - resourceCalls; i++, made++) assert.equal(await a.call(i, CALL), i);
      for (let i = 0; i < resourceCalls; i++, made++) {
        assert.equal(await a.call({ op: 'use', resource: 'svc', method: 'echo', args: [i] }, CALL), i);
      }
      for (let i = 1; i <= restarts; i++) {
        a.receive('boom');
        await waitFor(() => ev.restart.length === i, 10000, `restart ${i}`);
      }
      return made;
    }

    slowTest('sampleRate 1 counts every event exactly; sampleRate 0 counts none', 60000, async () => {
      const one = k.createSupervisor({ warmWorkers: 1, resources, diagnostics: { sampleRate: 1, track: ALL } });
      const zero = k.createSupervisor({ warmWorkers: 1, resources, diagnostics: { sampleRate: 0, track: ALL } });
      try {
        const plan = { calls: 30, resourceCalls: 6, restarts: 2 };
        assert.equal(await workload(one, plan), 30);
        assert.equal(await workload(zero, plan), 30);

        const m1 = one.getDiagnostics().value.metrics;
        assert.deepEqual(Object.keys(m1).sort(), ['callLatency', 'resourceLatency', 'restartLatency']);
        assert.equal(m1.callLatency.count, 30);
        assert.equal(m1.resourceLatency.count, 6);
        assert.equal(m1.restartLatency.count, 2);
        for (const [name, m] of Object.entries(m1)) {
          assert.deepEqual(Object.keys(m).sort(), ['count', 'max', 'p50', 'p99'], name);
          assert.ok(m.p50 >= 0 && m.p50 <= m.p99 && m.p99 <= m.max, `${name}: 0 <= p50 <= p99 <= max (${JSON.stringify(m)})`);
          assert.ok(Number.isFinite(m.max));
        }

        const m0 = zero.getDiagnostics().value.metrics;
        for (const name of ['callLatency', 'resourceLatency', 'restartLatency']) {
          assert.deepEqual(m0[name], { count: 0, p50: null, p99: null, max: null }, `${name} at sampleRate 0`);
        }
        // and the counters of 3.6 stay exact whatever the sample rate
        assert.equal(zero.getDiagnostics().value.restarts, 2);
      } finally {
        await one.shutdown();
        await zero.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('only tracked metrics are reported; disabled diagnostics sample nothing; a rate in between samples some', 60000, async () => {
      const some = k.createSupervisor({ warmWorkers: 1, resources, diagnostics: { track: { callLatency: true } } });
      const off = k.createSupervisor({ warmWorkers: 1, resources, diagnostics: { enabled: false, sampleRate: 1, track: ALL } });
      const half = k.createSupervisor({ warmWorkers: 1, resources, diagnostics: { sampleRate: 0.5, track: { callLatency: true } } });
      const none = k.createSupervisor({ warmWorkers: 1, resources });
      try {
        const plan = { calls: 10, resourceCalls: 2, restarts: 1 };
        await workload(some, plan);
        await workload(off, plan);
        await workload(none, plan);
        await workload(half, { calls: 200, resourceCalls: 0, restarts: 0 });

        const ms = some.getDiagnostics().value.metrics;
        assert.deepEqual(Object.keys(ms), ['callLatency']);
        assert.equal(ms.callLatency.count, 10);
        assert.deepEqual(none.getDiagnostics().value.metrics, {}, 'nothing tracked by default');

        const moff = off.getDiagnostics().value.metrics;
        for (const [name, m] of Object.entries(moff)) assert.equal(m.count, 0, `${name} with diagnostics disabled`);
        assert.equal(off.getDiagnostics().value.totalActorsSpawned, 1, 'counters are still there');

        const c = half.getDiagnostics().value.metrics.callLatency.count;
        assert.ok(c > 0 && c < 200, `sampleRate 0.5 over 200 calls sampled ${c}`);
      } finally {
        await some.shutdown();
        await off.shutdown();
        await half.shutdown();
        await none.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('diagnostics: metrics measured in the core', () => {
    const PROBE = new URL('./fixtures/t2-probe.mjs', import.meta.url);
    const CORE = ['messageLatency', 'inboxDepth', 'writeQueueWait', 'heartbeatInterval', 'refCounts', 'authorization'];
    const track = Object.fromEntries(CORE.map((m) => [m, true]));
    const resources = { svc: { echo: { handler: (x) => x } } };
    const EMPTY = { count: 0, p50: null, p99: null, max: null };
    const metrics = (sup) => sup.getDiagnostics().value.metrics;

    /**
     * Mail held up behind a busy handler, heartbeats 25 ms apart, a Tier 2 write that waits for
     * the only box, a box shared with one reader, reads allowed and refused, resource calls
     * allowed and refused. Returns what the actors were sent.
     */
    async function workload(sup) {
      const a = sup.spawn(ACTOR);
      const narrow = sup.spawn(ACTOR, { resources: [] });
      const [holder, reader, stranger] = [sup.spawn(PROBE), sup.spawn(PROBE), sup.spawn(PROBE)];
      let mail = 0;
      const ask = (ref, msg) => {
        mail++;
        return ref.call(msg, CALL);
      };
      for (const r of [a, narrow, holder, reader, stranger]) await ask(r, 'hello');
      // 10 messages queue up behind a 300 ms hold: depths 1..10, each waits most of the hold
      await holding(a, 300);
      mail++;
      for (let i = 1; i <= 10; i++, mail++) a.receive(i);
      assert.equal(await ask(a, 'after'), 'after');
      assert.equal(await ask(a, { op: 'beatEvery', n: 4, ms: 25 }), true);
      // resource calls: one granted, one refused
      assert.equal(await ask(a, { op: 'use', resource: 'svc', method: 'echo', args: [1] }), 1);
      await assert.rejects(ask(narrow, { op: 'use', resource: 'svc', method: 'echo', args: [1] }), /not granted/);
      // the reader reads (granted) and keeps what it gets; the stranger may not read it; the
      // writers hold nothing once they commit (they do not read back)
      for (const w of [holder, stranger]) assert.equal(await ask(w, { op: 'mode', readBack: false }), true);
      const inbox = new Promise((resolve) => reader.subscribe((m) => m.msg === 'inbox' && resolve(m.data)));
      const held = await ask(holder, { op: 'write', msg: 'hold', data: 'x', share: [reader.id] });
      assert.equal(held.ok, true, held.error);
      mail++; // the INBOX
      assert.ok((await inbox).read !== null, 'the reader may read');
      assert.equal(await ask(stranger, { op: 'read', target: held.value }), null);
      // a second write waits for the only box until the reader lets go of it
      const waiting = ask(stranger, { op: 'write', msg: 'next', data: 'y', timeoutMs: 30000 });
      let wrote = false;
      waiting.then(() => (wrote = true), () => (wrote = true));
      await waitFor(() => sup.getDiagnostics().value.memoryPool.waitingWrites === 1, 10000, 'write queued');
      await sleep(100); // the box stays held this long at least: writeQueueWait must show it
      assert.equal(wrote, false, 'the write waits while the only box is held');
      assert.equal(await ask(reader, { op: 'release', handle: held.value }), true);
      assert.equal((await waiting).ok, true);
      return mail;
    }

    k.needs('tier2', 'sampleRate 1 measures every event where it happens; sampleRate 0 none', 60000, async () => {
      const one = k.createSupervisor({ warmWorkers: 1, resources, memory: { poolSize: 1, boxSize: '1kb' }, diagnostics: { sampleRate: 1, track } });
      const zero = k.createSupervisor({ warmWorkers: 1, resources, memory: { poolSize: 1, boxSize: '1kb' }, diagnostics: { sampleRate: 0, track } });
      try {
        const mail = await workload(one);
        await workload(zero);
        const m = metrics(one);
        assert.deepEqual(Object.keys(m).sort(), [...CORE].sort());
        assert.equal(m.messageLatency.count, mail, 'every message is timed once, from enqueue to take');
        assert.ok(m.messageLatency.max >= 100, `mail held behind a 300 ms hold waited ${m.messageLatency.max} ms`);
        assert.equal(m.inboxDepth.count, mail, 'every enqueue samples the depth');
        assert.equal(m.inboxDepth.max, 11, 'ten messages and a call queued behind the hold');
        assert.equal(m.heartbeatInterval.count, 4, "the hold's self.send (an implicit heartbeat) and four heartbeats: four intervals");
        assert.ok(m.heartbeatInterval.p50 >= 20, `heartbeats 25 ms apart: p50 ${m.heartbeatInterval.p50}`);
        assert.equal(m.writeQueueWait.count, 2, 'two writes');
        assert.ok(m.writeQueueWait.max >= 90, `the second waited for the box: ${m.writeQueueWait.max} ms`);
        assert.equal(m.refCounts.count, 2, 'two boxes published');
      assert.equal(m.refCounts.max, 1, 'its one reader: the writer holds none after commit');
        assert.deepEqual(m.authorization, { granted: 2, denied: 2 }, 'a resource call and a read each way');
        for (const name of CORE.filter((n) => n !== 'authorization')) {
          const s = m[name];
          assert.ok(s.p50 <= s.p99 && s.p99 <= s.max, `${name}: p50 <= p99 <= max (${JSON.stringify(s)})`);
        }
        const m0 = metrics(zero);
        for (const name of CORE.filter((n) => n !== 'authorization')) assert.deepEqual(m0[name], EMPTY, `${name} at sampleRate 0`);
        assert.deepEqual(m0.authorization, { granted: 0, denied: 0 });
      } finally {
        await one.shutdown();
        await zero.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('diagnostics: lifecycle events on node:diagnostics_channel', () => {
    /** Subscribes to every warden:* channel; `stop()` unsubscribes. */
    function listen() {
      const got = [];
      const fns = EVENTS.map((e) => {
        const fn = (message, name) => got.push([name, message]);
        diagnosticsChannel.subscribe(`warden:${e}`, fn);
        return [e, fn];
      });
      got.stop = () => {
        for (const [e, fn] of fns) diagnosticsChannel.unsubscribe(`warden:${e}`, fn);
      };
      return got;
    }

    /** spawn, crash → exit + restart, group escalation, dead letter, lease expiry, terminate. */
    async function lifecycle(sup) {
      const ev = record(sup, EVENTS);
      const a = sup.spawn(ACTOR, { name: 'a' });
      assert.equal(await a.call('hi', CALL), 'hi');
      a.receive('boom');
      await waitFor(() => ev.restart.length === 1, 10000, 'restart');

      const g = sup.createGroup({ strategy: 'one-for-one', retry: { max: 0 } });
      const inGroup = g.spawn(ACTOR);
      assert.equal(await inGroup.call('hi', CALL), 'hi');
      inGroup.receive('boom'); // the group gives up at once and escalates; the root restarts it
      await waitFor(() => ev.escalate.length === 1 && ev.restart.length === 2, 10000, 'escalate and group restart');

      const holder = sup.spawn(ACTOR, { name: 'holder' });
      assert.equal(await holder.call({ op: 'alloc', size: 64 }, CALL), true); // never committed: lease 100 ms
      await waitFor(() => ev.leaseExpired.length === 1 && ev.restart.length === 3, 10000, 'lease expiry');

      await a.terminate();
      assert.equal(a.receive('to the dead'), false);
      await waitFor(() => ev.deadLetter.length === 1, 10000, 'deadLetter');
      return ev;
    }

    k.needs('tier2', 'a subscriber receives each event ({ supervisor, ...payload }); a disabled supervisor publishes nothing', 60000, async () => {
      const got = listen();
      const timeouts = { actorTimeouts: { holder: 100 } };
      const memory = { poolSize: 2, boxSize: '4kb' };
      const failingRelease = { broken: { release: () => Promise.reject(new Error('release broke')) } };
      const on = k.createSupervisor({ warmWorkers: 1, timeouts, memory, resources: failingRelease });
      const off = k.createSupervisor({ warmWorkers: 1, timeouts, memory, resources: failingRelease, diagnostics: { enabled: false } });
      let evOn;
      let evOff;
      try {
        evOn = await lifecycle(on);
        evOff = await lifecycle(off);
      } finally {
        await on.shutdown();
        await off.shutdown();
        got.stop();
      }
      try {
        // what sup.on() delivered, in order, is exactly what the channels carried for that supervisor
        const published = got.filter(([, m]) => m.supervisor === on.id).map(([name, m]) => [name, m]);
        const expected = evOn.log.map(([event, payload]) => [`warden:${event}`, { supervisor: on.id, ...payload }]);
        assert.deepEqual(published, expected);
        const names = new Set(published.map(([name]) => name));
        for (const e of EVENTS) assert.ok(names.has(`warden:${e}`), `warden:${e} was published`);

        const lease = published.find(([name]) => name === 'warden:leaseExpired')[1];
        assert.equal(lease.role, 'writer');
        assert.equal(typeof lease.boxIndex, 'number');
        assert.equal(published.find(([name]) => name === 'warden:error')[1].reason, 'resource broken: release failed: release broke');

        assert.deepEqual(
          got.filter(([, m]) => m.supervisor === off.id),
          [],
          'diagnostics.enabled false: nothing on the channels',
        );
        assert.deepEqual(
          evOff.log.map(([e]) => e),
          evOn.log.map(([e]) => e),
          'the disabled supervisor still emits the same events to its own listeners',
        );
      } finally {
        assert.deepEqual(runtimeStats(), NO_LEAKS);
      }
    });

    slowTest('after unsubscribing, nothing more arrives; payload carries the right supervisor with two alive', 30000, async () => {
      const got = listen();
      const one = k.createSupervisor({ warmWorkers: 1 });
      const two = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = one.spawn(ACTOR);
        const b = two.spawn(ACTOR);
        assert.deepEqual(
          got.filter(([name]) => name === 'warden:spawn').map(([, m]) => [m.supervisor, m.id]),
          [
            [one.id, a.id],
            [two.id, b.id],
          ],
        );
        got.stop();
        const n = got.length;
        // channels publish in the same step as the supervisors' own listeners: once those have
        // seen the spawn, the crash and the restart, anything published would be here
        const [evOne, evTwo] = [record(one), record(two)];
        one.spawn(ACTOR);
        b.receive('boom');
        await waitFor(() => evTwo.restart.length === 1, 10000, "b's restart");
        assert.deepEqual([evOne.spawn.length, evTwo.exit.length], [1, 1]);
        assert.equal(got.length, n);
      } finally {
        got.stop();
        await one.shutdown();
        await two.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('diagnostics: inspect()', () => {
    slowTest('a nested tree: groups with their strategy, children in start order, states and incarnations after restarts', 60000, async () => {
      await k.withSup({ warmWorkers: 1, strategy: 'rest-for-one' }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(ACTOR, { name: 'a' });
        const g1 = sup.createGroup({ strategy: 'one-for-all' });
        const b = sup.spawn(ACTOR, { name: 'b' });
        const c = g1.spawn(ACTOR, { name: 'c' });
        const g2 = g1.createGroup({ strategy: 'one-for-one' });
        const d = g1.spawn(ACTOR, { name: 'd' });
        const e = g2.spawn(ACTOR, { name: 'e' });
        const f = g2.spawn(ACTOR, { name: 'f' });
        const g3 = sup.createGroup({ strategy: 'rest-for-one', parent: g2 });
        for (const r of [a, b, c, d, e, f]) assert.equal(await r.call('up', CALL), 'up');
        // an actor's child joins its parent's group, after what was there
        assert.match(await d.call({ op: 'spawn', name: 'kid' }, CALL), /^actor-\d+$/);
        const kid = sup.whereis('kid');
        assert.equal(await kid.call('up', CALL), 'up');

        const tree = (inc = {}) => ({
          type: 'group',
          id: sup.inspect().id,
          strategy: 'rest-for-one',
          children: [
            actorNode(a, inc.a),
            {
              type: 'group',
              id: g1.id,
              strategy: 'one-for-all',
              children: [
                actorNode(c, inc.c),
                {
                  type: 'group',
                  id: g2.id,
                  strategy: 'one-for-one',
                  children: [actorNode(e, inc.e), actorNode(f, inc.f), { type: 'group', id: g3.id, strategy: 'rest-for-one', children: [] }],
                },
                actorNode(d, inc.d),
                actorNode(kid, inc.kid),
              ],
            },
            actorNode(b, inc.b),
          ],
        });
        const t0 = sup.inspect();
        assert.match(t0.id, /^group-\d+$/);
        assert.deepEqual(shape(t0), tree());

        // one-for-one inside: only e restarts
        e.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'e restarted');
        assert.equal(await e.call('up', CALL), 'up');
        assert.deepEqual(shape(sup.inspect()), tree({ e: 1 }));

        // one-for-all: c's crash restarts every child of g1 (the nested group's actors included), not a or b
        c.receive('boom');
        await waitFor(() => ev.restart.length === 6, 10000, 'g1 restarted');
        // each answers after the six restarts: the plan (its stops come before its starts) is done
        for (const r of [c, d, e, f, kid]) assert.equal(await r.call('up', CALL), 'up');
        assert.equal(ev.restart.length, 6);
        assert.deepEqual(shape(sup.inspect()), tree({ e: 2, c: 1, d: 1, f: 1, kid: 1 }));

        // mailbox depth of a busy actor shows in the tree
        await holding(b, 400);
        b.receive(1);
        b.receive(2);
        const bNode = sup.inspect().children[2];
        assert.equal(bNode.id, b.id);
        assert.equal(bNode.mailboxDepth, 2);
        assert.equal(bNode.type, 'actor');
        for (const k of Object.keys(ACTOR_FIELDS)) assert.ok(k in bNode, `tree actor node has ${k}`);

        // an actor dead for good leaves the tree; the rest keep their places
        await f.terminate();
        const t3 = shape(sup.inspect());
        const expected = tree({ e: 2, c: 1, d: 1, f: 1, kid: 1 });
        expected.children[1].children[1].children.splice(1, 1);
        assert.deepEqual(t3, expected);
      });
    });

    slowTest('internal task threads do not show in inspect() or in the counters', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn(ACTOR, { name: 'only' });
        assert.equal(await a.call('up', CALL), 'up');
        const before = shape(sup.inspect());
        const countersBefore = counters(sup);
        assert.equal(await sup.task((n) => n * 2, 21), 42);
        await faults(() => sup.task(() => { throw new Error('task failed'); }), Error, /task failed/);
        assert.deepEqual(counters(sup), countersBefore, 'tasks are not actors in the counters');
        assert.deepEqual(shape(sup.inspect()), before, 'the tree is the user\'s tree: no task group or task actor');
      });
    });
  });
});

describe('what console.log shows (util.inspect.custom)', () => {
  slowTest('refs, groups, supervisors and the inspect() tree print a readable view, not the supervisor internals', 30000, async () => {
    const { inspect } = await import('node:util');
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const parser = sup.spawn((self, msg) => msg, { name: 'parser' });
      const group = sup.createGroup({ strategy: 'rest-for-one' });
      const child = group.spawn((self, msg) => msg);
      assert.equal(await parser.call(1, { timeoutMs: 20000 }), 1);
      assert.equal(await child.call(1, { timeoutMs: 20000 }), 1);
      assert.equal(inspect(parser), `ActorRef { id: '${parser.id}', name: 'parser', kind: 'isolated', incarnation: 0, state: 'running' }`);
      assert.equal(inspect(group), `ActorGroup { id: '${group.id}', strategy: 'rest-for-one' }`);
      assert.equal(inspect(sup), `Supervisor { id: '${sup.id}', state: 'running', activeActors: 2, restarts: 0 }`);
      assert.doesNotMatch(inspect({ parser }, { depth: 5 }), /_sup|_config|_entries/, 'nested refs print the same short view');
      const tree = sup.inspect();
      assert.equal(
        inspect(tree),
        [
          `${tree.id} one-for-one`,
          `├─ ${parser.id} "parser" running (isolated, incarnation 0)`,
          `└─ ${group.id} rest-for-one`,
          `   └─ ${child.id} running (isolated, incarnation 0)`,
        ].join('\n'),
      );
      assert.deepEqual(Object.keys(tree).sort(), ['children', 'id', 'strategy', 'type'], 'the tree data is unchanged');
      assert.equal(JSON.parse(JSON.stringify(tree)).children[0].name, 'parser');
      await parser.terminate();
      assert.equal(inspect(parser), `ActorRef { id: '${parser.id}', name: 'parser', incarnation: 0, state: 'dead' }`);
    } finally {
      await sup.shutdown();
    }
    assert.equal(inspect(sup), `Supervisor { id: '${sup.id}', state: 'shut down' }`);
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
