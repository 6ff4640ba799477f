import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, collector, faults, NO_LEAKS, forEachKind, actorThreads } from './harness.mjs';
import { worker, timeline, exits, restarts, quiet, snapshot } from './supervision-helpers.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);

/** Tokens of each ref's current incarnation (a call answered by the worker). */
const tokens = (refs) => Promise.all(refs.map((r) => r.call('token')));

forEachKind((k) => {
  describe('strategies: one failure, exactly one restart of the selected set', () => {
    slowTest('one-for-one restarts only the failed child', 30000, async () => {
      await k.withSup({ strategy: 'one-for-one' }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c] = refs;
        const before = await tokens(refs);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 0, 0], restarts: 0, activeActors: 3, threads: 3 });

        b.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart of b');
        const after = await tokens(refs);
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'nothing else happens after the restart');

        assert.deepEqual(exits(ev), [[b.id, 'error: boom']]);
        assert.equal(ev.exit[0].incarnation, 0);
        assert.equal(ev.exit[0].message.message, 'boom', 'the in-flight message is reported');
        assert.deepEqual(ev.restart, [{ id: b.id, incarnation: 1, reason: 'error: boom' }]);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 1, 0], restarts: 1, activeActors: 3, threads: 3 });
        assert.equal(after[0], before[0], 'a kept its incarnation');
        assert.notEqual(after[1], before[1], 'b runs as a new incarnation');
        assert.equal(after[2], before[2], 'c kept its incarnation');
        assert.equal(a.getDiagnostics().value.restarts, 0);
        assert.equal(b.getDiagnostics().value.restarts, 1);
        assert.equal(c.getDiagnostics().value.restarts, 0);
        assert.equal(ev.error.length + ev.escalate.length + ev.deadLetter.length, 0);
      });
    });

    slowTest('one-for-all stops the siblings in reverse start order and restarts all once, in start order', 30000, async () => {
      // max: 1 — if the siblings' 'shutdown' exits counted as failures, the intensity would trip
      await k.withSup({ strategy: 'one-for-all', retry: { max: 1, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c] = refs;
        const before = await tokens(refs);

        b.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        const after = await tokens(refs);
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'no further exits or restarts (no over-spawn)');

        assert.deepEqual(exits(ev), [
          [b.id, 'error: boom'],
          [c.id, 'shutdown'],
          [a.id, 'shutdown'],
        ]);
        assert.equal(ev.exit[1].message, undefined, 'an idle sibling had no message in flight');
        assert.deepEqual(restarts(ev), [
          [a.id, 1],
          [b.id, 1],
          [c.id, 1],
        ]);
        for (const r of ev.restart) assert.equal(r.reason, 'error: boom');
        // every exit comes before the first restart
        const firstRestart = ev.log.findIndex((e) => e.event === 'restart');
        assert.equal(ev.log.slice(0, firstRestart).filter((e) => e.event === 'exit').length, 3);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 1], restarts: 3, activeActors: 3, threads: 3 });
        for (let i = 0; i < 3; i++) assert.notEqual(after[i], before[i], `child ${i} runs as a new incarnation`);
        assert.equal(ev.error.length + ev.escalate.length, 0, 'siblings stopped by the strategy are not failures');
      });
    });

    slowTest('a busy sibling stopped by the strategy: its in-flight message is reported, its call rejected, its queued mail goes to the next incarnation', 30000, async () => {
      await k.withSup({ strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn((self, msg) => {
          globalThis.token ??= `${Math.random()}`;
          if (msg === 'slow') {
            self.send('slow-started');
            return new Promise((r) => setTimeout(() => r('late'), 30000));
          }
          if (msg !== null && typeof msg === 'object' && msg.op === 'count') {
            self.send('counted', { n: msg.n, token: globalThis.token });
            return undefined;
          }
          return globalThis.token;
        });
        const got = collector();
        b.subscribe(got);
        await tokens([a, b]);
        const slow = b.call('slow', { timeoutMs: 20000 }).then(
          (v) => ({ resolved: v }),
          (e) => e,
        );
        await waitFor(() => got.items.some((m) => m.msg === 'slow-started'), 10000, 'b busy');
        for (let n = 1; n <= 3; n++) b.receive({ op: 'count', n });

        a.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'both restarted');
        const err = await slow;
        assert.equal(err?.name, 'ActorExitError', `the pending call must reject, got ${JSON.stringify(err)}`);
        assert.equal(err.reason, 'shutdown');
        const bExit = ev.exit.find((e) => e.id === b.id);
        assert.equal(bExit.reason, 'shutdown');
        assert.equal(bExit.message?.message, 'slow', 'the in-flight message of a stopped sibling is reported');
        const newToken = await b.call('token');
        await waitFor(() => got.items.filter((m) => m.msg === 'counted').length === 3, 10000, 'counted');
        const counted = got.items.filter((m) => m.msg === 'counted');
        assert.deepEqual(
          counted.map((m) => m.data.n),
          [1, 2, 3],
        );
        for (const m of counted) assert.equal(m.data.token, newToken);
        assert.equal(ev.deadLetter.length, 0);
      });
    });

    slowTest('rest-for-one restarts the failed child and the ones started after it', 30000, async () => {
      await k.withSup({ strategy: 'rest-for-one', retry: { max: 1, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c, d] = refs;
        const before = await tokens(refs);

        b.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        const after = await tokens(refs);
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'no further exits or restarts');

        assert.deepEqual(exits(ev), [
          [b.id, 'error: boom'],
          [d.id, 'shutdown'],
          [c.id, 'shutdown'],
        ]);
        assert.deepEqual(restarts(ev), [
          [b.id, 1],
          [c.id, 1],
          [d.id, 1],
        ]);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 1, 1, 1], restarts: 3, activeActors: 4, threads: 4 });
        assert.equal(after[0], before[0], 'a, started before b, is untouched');
        for (let i = 1; i < 4; i++) assert.notEqual(after[i], before[i]);
        assert.equal(ev.error.length + ev.escalate.length, 0);
      });
    });

    slowTest('a group has its own strategy: a one-for-all group under a one-for-one root', 30000, async () => {
      await k.withSup({ strategy: 'one-for-one' }, async (sup) => {
        const ev = timeline(sup);
        const r = sup.spawn(worker);
        const g = sup.createGroup({ strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } });
        assert.match(g.id, /^group-\d+$/);
        const x = g.spawn(worker);
        const y = g.spawn(worker);
        const s = sup.spawn(worker); // a root sibling spawned after the group
        const refs = [r, x, y, s];
        const before = await tokens(refs);

        y.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'two restarts');
        const after = await tokens(refs);
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [y.id, 'error: boom'],
          [x.id, 'shutdown'],
        ]);
        assert.deepEqual(restarts(ev), [
          [x.id, 1],
          [y.id, 1],
        ]);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 1, 1, 0], restarts: 2, activeActors: 4, threads: 4 });
        assert.equal(after[0], before[0]);
        assert.equal(after[3], before[3]);

        // the root's own strategy still applies to root children
        s.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'restart of s');
        await quiet(ev);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 1, 1, 1], restarts: 3, activeActors: 4, threads: 4 });
      });
    });

    k.onlyIsolated('warm threads are for isolated actors', 'with a warm pool, live threads are the live actors plus the warm threads, also after a restart of all', 30000, async () => {
      await k.withSup({ warmWorkers: 2, strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        await tokens(refs);
        await waitFor(() => runtimeStats().threads === 5, 10000, 'three actors and two warm threads');
        refs[0].receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        await quiet(ev);
        await tokens(refs);
        await waitFor(() => runtimeStats().threads === 5, 10000, 'the pool refilled');
        // a refill is timed a few ms after the acquire that asks for it: this later, longer timer
        // fires after any refill still pending, on any machine (one thread's timers fire in deadline order)
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 1], restarts: 3, activeActors: 3, threads: 5 });
      });
    });

    slowTest('createGroup: parent must be a group of this supervisor; nested groups via parent and group.createGroup', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 0 });
      const other = k.createSupervisor({ warmWorkers: 0 });
      try {
        const g = sup.createGroup({ strategy: 'one-for-one' });
        const foreign = other.createGroup({});
        await faults(() => sup.createGroup({ parent: foreign }), TypeError, /parent/);
        await faults(() => sup.createGroup({ parent: { id: g.id } }), TypeError, /parent/);
        await faults(() => sup.createGroup({ parent: g.id }), TypeError, /parent/);
        await faults(() => sup.createGroup({ strategy: 'all-for-none' }), RangeError, /strategy/);
        const viaParent = sup.createGroup({ parent: g, strategy: 'rest-for-one' });
        const viaMethod = g.createGroup({ strategy: 'one-for-all' });
        const ids = [g.id, foreign.id, viaParent.id, viaMethod.id];
        for (const id of ids) assert.match(id, /^group-\d+$/);
        assert.equal(new Set(ids).size, 4);
        const a = viaParent.spawn(worker);
        const b = viaMethod.spawn(worker);
        assert.equal(typeof (await a.call('t')), 'string');
        assert.equal(typeof (await b.call('t')), 'string');
        assert.equal(sup.getDiagnostics().value.activeActors, 2);
      } finally {
        await sup.shutdown();
        await other.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('restart types', () => {
    slowTest('permanent restarts after normal and error; transient only after error; temporary never', 30000, async () => {
      await k.withSup({ retry: { max: Infinity } }, async (sup) => {
        const ev = timeline(sup);
        const p1 = sup.spawn(worker, { restart: 'permanent' });
        const t1 = sup.spawn(worker, { restart: 'transient' });
        const d1 = sup.spawn(worker); // default: transient
        const x1 = sup.spawn(worker, { restart: 'temporary' });
        const p2 = sup.spawn(worker, { restart: 'permanent' });
        const t2 = sup.spawn(worker, { restart: 'transient' });
        const x2 = sup.spawn(worker, { restart: 'temporary' });
        const all = [p1, t1, d1, x1, p2, t2, x2];
        await tokens(all);

        for (const r of [p1, t1, d1, x1]) r.receive('stop'); // normal exits
        for (const r of [p2, t2, x2]) r.receive('boom'); // abnormal exits
        await waitFor(() => ev.exit.length === 7, 10000, 'seven exits');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);

        const reasons = Object.fromEntries(ev.exit.map((e) => [e.id, e.reason]));
        for (const r of [p1, t1, d1, x1]) assert.equal(reasons[r.id], 'normal');
        for (const r of [p2, t2, x2]) assert.equal(reasons[r.id], 'error: boom');
        assert.deepEqual(ev.restart.map((e) => e.id).sort(), [p1.id, p2.id, t2.id].sort());
        assert.deepEqual(
          all.map((r) => r.getDiagnostics().isOk),
          [true, false, false, false, true, true, false],
        );
        assert.deepEqual(
          all.map((r) => r.incarnation),
          [1, 0, 0, 0, 1, 1, 0],
        );
        for (const r of [t1, d1, x1, x2]) assert.equal(r.receive('late'), false, `${r.id} is dead for good`);
        assert.equal(typeof (await p1.call('alive?')), 'string');
        const d = sup.getDiagnostics().value;
        assert.equal(d.activeActors, 3);
        assert.equal(d.totalActorsTerminated, 4);
        assert.equal(d.restarts, 3);
        assert.equal(actorThreads(sup), 3);

        // a host terminate() is final even for a permanent child
        await p1.terminate();
        const q2 = await quiet(ev);
        assert.deepEqual(q2.after, q2.before);
        assert.equal(ev.restart.length, 3);
        assert.ok(p1.getDiagnostics().isErr);
      });
    });

    slowTest('one-for-all: a temporary sibling is stopped and not restarted', 30000, async () => {
      await k.withSup({ strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const tmp = sup.spawn(worker, { restart: 'temporary', name: 'tmp' });
        const a = sup.spawn(worker);
        const p = sup.spawn(worker, { restart: 'permanent' });
        await tokens([tmp, a, p]);

        a.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'two restarts');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [p.id, 'shutdown'],
          [tmp.id, 'shutdown'],
        ]);
        assert.deepEqual(restarts(ev), [
          [a.id, 1],
          [p.id, 1],
        ]);
        assert.ok(tmp.getDiagnostics().isErr, 'the temporary sibling is dead for good');
        assert.equal(tmp.receive('x'), false);
        assert.equal(sup.whereis('tmp'), undefined, 'its name is freed');
        const d = sup.getDiagnostics().value;
        assert.equal(d.activeActors, 2);
        assert.equal(d.restarts, 2);
        assert.equal(d.totalActorsTerminated, 1);
        assert.equal(actorThreads(sup), 2);
      });
    });
  });

  describe('intensity', () => {
    slowTest('root: more than max restarts stops every child in reverse start order, reports intensity_exceeded, and the supervisor keeps working', 30000, async () => {
      await k.withSup({ retry: { max: 2, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const errors = collector();
        sup.on('error', errors);
        const refs = [sup.spawn(worker, { name: 'a' }), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c, d] = refs;
        await tokens(refs);

        for (let i = 1; i <= 2; i++) {
          c.receive('boom');
          await waitFor(() => ev.restart.length === i, 10000, `restart ${i}`);
          assert.equal(c.incarnation, i);
        }
        const mark = ev.log.length;
        c.receive('boom'); // the third restart would exceed max: 2
        await waitFor(() => ev.error.length === 1, 10000, 'the error event');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'no restart after giving up');

        const tail = ev.log.slice(mark);
        assert.deepEqual(
          tail.map((e) => [e.event, e.p.id ?? e.p.reason, e.p.reason]),
          [
            ['exit', c.id, 'error: boom'],
            ['exit', d.id, 'shutdown'],
            ['exit', b.id, 'shutdown'],
            ['exit', a.id, 'shutdown'],
            ['escalate', ev.escalate[0]?.id, 'error: boom'],
            ['error', c.id, 'intensity_exceeded'],
          ],
        );
        assert.deepEqual(ev.error[0].stopped, [d.id, b.id, a.id], 'the error names what stopped');
        assert.match(ev.escalate[0].id, /^group-\d+$/);
        assert.deepEqual(ev.escalate, [{ id: ev.escalate[0].id, reason: 'error: boom' }]);
        assert.deepEqual(errors.items.map(({ reason, cause }) => ({ reason, cause })), [{ reason: 'intensity_exceeded', cause: 'error: boom' }]);
        assert.equal(ev.restart.length, 2);

        for (const r of refs) {
          assert.ok(r.getDiagnostics().isErr, `${r.id} is dead for good`);
          assert.equal(r.receive('anyone?'), false);
        }
        assert.equal(sup.whereis('a'), undefined, 'names are freed');
        const diag = sup.getDiagnostics().value;
        assert.equal(diag.activeActors, 0);
        assert.equal(diag.restarts, 2);
        assert.equal(diag.totalActorsTerminated, 4);
        assert.equal(actorThreads(sup), 0);
        assert.equal(runtimeStats().actors, 0);

        // the process and the supervisor go on
        const fresh = sup.spawn(worker, { name: 'a' });
        assert.equal(typeof (await fresh.call('hello')), 'string');
        assert.equal(sup.whereis('a'), fresh);
        assert.equal(sup.getDiagnostics().value.activeActors, 1);
      });
    });

    slowTest('restarts older than withinMs do not count', 30000, async () => {
      await k.withSup({ retry: { max: 1, withinMs: 300 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        for (let i = 1; i <= 3; i++) {
          a.receive('boom');
          await waitFor(() => ev.restart.length === i, 10000, `restart ${i}`);
          await new Promise((r) => setTimeout(r, 450)); // let the window slide past it
        }
        assert.equal(ev.error.length, 0);
        assert.equal(a.incarnation, 3);
        assert.equal(typeof (await a.call('still here')), 'string');
      });
    });

    slowTest('an actor that throws at every message is restarted exactly max times, then given up', 30000, async () => {
      await k.withSup({ retry: { max: 3, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const bad = sup.spawn((self, msg) => {
          throw new Error(`always ${msg}`);
        });
        for (let i = 1; i <= 10; i++) assert.equal(bad.receive(i), true);
        await waitFor(() => ev.error.length === 1, 10000, 'giving up');
        // the six messages it never got are reported as dead letters (asynchronously)
        await waitFor(() => ev.deadLetter.length === 6, 10000, 'six dead letters');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'no endless restart loop');
        assert.deepEqual(
          ev.exit.map((e) => [e.reason, e.incarnation, e.message?.message]),
          [
            ['error: always 1', 0, 1],
            ['error: always 2', 1, 2],
            ['error: always 3', 2, 3],
            ['error: always 4', 3, 4],
          ],
        );
        assert.equal(ev.restart.length, 3);
        assert.deepEqual(ev.error.map(({ reason, cause, id }) => ({ reason, cause, id })), [{ reason: 'intensity_exceeded', cause: 'error: always 4', id: bad.id }]);
        // not silently lost
        assert.deepEqual(
          ev.deadLetter.map((x) => x.message),
          [5, 6, 7, 8, 9, 10],
        );
        const d = sup.getDiagnostics().value;
        assert.equal(d.restarts, 3);
        assert.equal(d.deadLetters, 6);
        assert.equal(actorThreads(sup), 0);
      });
    });

    slowTest('a module actor that throws while loading is restarted at most max times', 30000, async () => {
      await k.withSup({ retry: { max: 3, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const bad = sup.spawn(fixture('throws-on-load.mjs'));
        await waitFor(() => ev.error.length === 1, 20000, 'giving up');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before, 'no endless restart loop');
        assert.equal(ev.exit.length, 4);
        for (const e of ev.exit) {
          assert.equal(e.id, bad.id);
          assert.match(e.reason, /^error: .*init failed on purpose/);
        }
        assert.equal(ev.restart.length, 3);
        assert.equal(ev.error[0].reason, 'intensity_exceeded');
        assert.ok(bad.getDiagnostics().isErr);
        assert.equal(actorThreads(sup), 0);
        const ok = sup.spawn(worker);
        assert.equal(typeof (await ok.call('x')), 'string');
      });
    });

    slowTest('a nested group over its intensity is restarted as a whole by its one-for-one parent', 30000, async () => {
      await k.withSup({ strategy: 'one-for-one', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const r = sup.spawn(worker);
        const g = sup.createGroup({ strategy: 'one-for-one', retry: { max: 1, withinMs: 60000 } });
        const x = g.spawn(worker);
        const y = g.spawn(worker);
        const s = sup.spawn(worker);
        const refs = [r, x, y, s];
        const before = await tokens(refs);

        x.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'first restart of x');
        assert.deepEqual(snapshot(sup, refs).incarnations, [0, 1, 0, 0]);

        const mark = ev.log.length;
        x.receive('boom'); // the group's second restart: over its max of 1
        await waitFor(() => ev.restart.length === 3, 10000, 'the group restarted');
        const after = await tokens(refs);
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(
          ev.log.slice(mark).map((e) => [e.event, e.p.id, e.event === 'restart' ? e.p.incarnation : e.p.reason]),
          [
            ['exit', x.id, 'error: boom'],
            ['exit', y.id, 'shutdown'],
            ['escalate', g.id, 'error: boom'],
            ['restart', x.id, 2],
            ['restart', y.id, 1],
          ],
        );
        assert.equal(ev.error.length, 0, 'the root handled it: no intensity_exceeded');
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 2, 1, 0], restarts: 3, activeActors: 4, threads: 4 });
        assert.equal(after[0], before[0]);
        assert.equal(after[3], before[3]);
        assert.notEqual(after[2], before[2], 'y got a new incarnation with its group');

        // the restarted group starts with a fresh window: one more failure is a plain restart
        y.receive('boom');
        await waitFor(() => ev.restart.length === 4, 10000, 'restart of y');
        await quiet(ev);
        assert.equal(ev.escalate.length, 1);
        assert.deepEqual(snapshot(sup, refs).incarnations, [0, 2, 2, 0]);
      });
    });

    slowTest('a nested group over its intensity under a one-for-all parent restarts the parent\'s other children too', 30000, async () => {
      await k.withSup({ strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const r = sup.spawn(worker);
        const g = sup.createGroup({ strategy: 'one-for-one', retry: { max: 0 } });
        const x = g.spawn(worker);
        const y = g.spawn(worker);
        const refs = [r, x, y];
        await tokens(refs);

        x.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'everything restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(
          ev.log.map((e) => [e.event, e.p.id, e.event === 'restart' ? e.p.incarnation : e.p.reason]).filter((e) => e[0] !== 'spawn'),
          [
            ['exit', x.id, 'error: boom'],
            ['exit', y.id, 'shutdown'],
            ['escalate', g.id, 'error: boom'],
            ['exit', r.id, 'shutdown'],
            ['restart', r.id, 1],
            ['restart', x.id, 1],
            ['restart', y.id, 1],
          ],
        );
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 1], restarts: 3, activeActors: 3, threads: 3 });
        assert.equal(ev.error.length, 0);
      });
    });

    slowTest('escalation climbs to the root when the parent is over its intensity too', 30000, async () => {
      await k.withSup({ retry: { max: 0 } }, async (sup) => {
        const ev = timeline(sup);
        const r = sup.spawn(worker);
        const g = sup.createGroup({ retry: { max: 0 } });
        const x = g.spawn(worker);
        const y = g.spawn(worker);
        const refs = [r, x, y];
        await tokens(refs);

        x.receive('boom');
        await waitFor(() => ev.error.length === 1, 10000, 'intensity_exceeded at the root');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        const seq = ev.log.filter((e) => e.event !== 'spawn').map((e) => [e.event, e.p.id ?? e.p.reason]);
        assert.deepEqual(seq.slice(0, 3), [
          ['exit', x.id],
          ['exit', y.id],
          ['escalate', g.id],
        ]);
        assert.deepEqual(seq.slice(3, 4), [['exit', r.id]]);
        assert.equal(seq[4][0], 'escalate');
        assert.match(seq[4][1], /^group-\d+$/);
        assert.notEqual(seq[4][1], g.id, 'the root group escalates next');
        assert.deepEqual(seq[5], ['error', x.id], 'the error names the actor whose exit tipped it over');
        assert.equal(ev.error[0].reason, 'intensity_exceeded');
        assert.equal(seq.length, 6);
        assert.equal(ev.restart.length, 0);
        assert.equal(ev.error[0].cause, 'error: boom');
        for (const ref of refs) assert.ok(ref.getDiagnostics().isErr);
        assert.equal(sup.getDiagnostics().value.activeActors, 0);
        assert.equal(actorThreads(sup), 0);
        const fresh = sup.spawn(worker);
        assert.equal(typeof (await fresh.call('x')), 'string');
      });
    });
  });

  describe('exits that race with a restart plan', () => {
    slowTest('one-for-all: a sibling killed through a link while the plan stops the others is restarted once and stays supervised', 30000, async () => {
      await k.withSup({ strategy: 'one-for-all', retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b] = refs;
        await tokens(refs);
        a.link(b); // b gets its exit signal while the plan is still stopping the later siblings

        a.receive('boom');
        await waitFor(() => ev.restart.length >= 5, 10000, 'the first round of restarts');
        await quiet(ev);
        assert.deepEqual(exits(ev)[0], [a.id, 'error: boom']);
        assert.equal(ev.exit.length, 5);
        const bExit = ev.exit.find((e) => e.id === b.id);
        assert.ok(['shutdown', 'linked: error: boom'].includes(bExit.reason), `b exits with ${bExit.reason}`);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 1, 1, 1], restarts: 5, activeActors: 5, threads: 5 });

        // b is still supervised: its next crash restarts the whole group once more
        b.receive('boom');
        await waitFor(() => ev.restart.length >= 10, 3000, 'the second round of restarts').catch(() => {}); // compared below
        await quiet(ev);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [2, 2, 2, 2, 2], restarts: 10, activeActors: 5, threads: 5 });
      });
    });

    slowTest('one-for-all: two siblings crashing at once both stay supervised', 30000, async () => {
      await k.withSup({ strategy: 'one-for-all', retry: { max: 20, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b] = refs;
        await tokens(refs);
        a.receive('boom');
        b.receive('boom');
        await waitFor(() => ev.restart.length >= 5, 10000, 'restarts');
        await quiet(ev);
        const s1 = snapshot(sup, refs);
        const n = s1.incarnations[0];
        assert.ok(n >= 1);
        assert.deepEqual(s1, { incarnations: [n, n, n, n, n], restarts: 5 * n, activeActors: 5, threads: 5 }, 'restarted together');

        for (const [k, who] of [
          [1, a],
          [2, b],
        ]) {
          who.receive('boom');
          await waitFor(() => ev.restart.length >= 5 * (n + k), 3000, `round ${n + k}`).catch(() => {}); // compared below
          await quiet(ev);
          assert.deepEqual(
            snapshot(sup, refs),
            { incarnations: Array(5).fill(n + k), restarts: 5 * (n + k), activeActors: 5, threads: 5 },
            `a crash of ${who === a ? 'a' : 'b'} restarts the whole group`,
          );
        }
      });
    });
  });

  describe('groups and children', () => {
    slowTest("ctx.spawn puts the child in the spawner's group: a one-for-all group restarts them together", 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = timeline(sup);
        const outside = sup.spawn(worker);
        const g = sup.createGroup({ strategy: 'one-for-all', retry: { max: 5, withinMs: 60000 } });
        const parent = g.spawn(async (self, msg, ctx) => {
          if (msg.spawn) {
            const child = await ctx.spawn((s, m) => {
              if (m === 'boom') throw new Error('child boom');
              return 'child';
            }, { kind: msg.spawn });
            return child.id;
          }
          return 'parent';
        });
        const childId = await parent.call({ spawn: k.kind }); // a child of the suite's kind
        assert.equal(ev.spawn.find((e) => e.id === childId).parent, parent.id);
        await outside.call('warm');
        const incarnations = () => Object.fromEntries(sup.getDiagnostics().value.actors.map((x) => [x.id, x.incarnation]));
        // the host holds no ref for the child: a relay in the same group makes it fail
        const relay = g.spawn((self, msg, ctx) => ctx.send(msg.to, msg.body));
        await relay.call({ to: childId, body: 'warm' });
        assert.deepEqual(incarnations(), { [outside.id]: 0, [parent.id]: 0, [childId]: 0, [relay.id]: 0 });

        relay.receive({ to: childId, body: 'boom' });
        await waitFor(() => ev.restart.length === 3, 10000, 'the group restarted');
        await quiet(ev, { except: [relay] }); // (relay would take the call for a send order)
        assert.deepEqual(incarnations(), { [outside.id]: 0, [parent.id]: 1, [childId]: 1, [relay.id]: 1 }, 'the child restarted with its group');
        assert.deepEqual(exits(ev)[0], [childId, 'error: child boom']);
      });
    });

    slowTest('group.terminateAll(reason) stops its actors and its subgroups\' for good, in reverse start order', 30000, async () => {
      await k.withSup({ retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const outside = sup.spawn(worker);
        const g = sup.createGroup({ strategy: 'one-for-all' });
        const a = g.spawn(worker, { name: 'ga', restart: 'permanent' });
        const sub = g.createGroup({ strategy: 'one-for-one' });
        const b = sub.spawn(worker);
        const c = sub.spawn(worker);
        const d = g.spawn(worker);
        await tokens([outside, a, b, c, d]);

        await g.terminateAll('bye');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [d.id, 'bye'],
          [c.id, 'bye'],
          [b.id, 'bye'],
          [a.id, 'bye'],
        ]);
        assert.equal(ev.restart.length, 0, 'not even the permanent child restarts');
        for (const r of [a, b, c, d]) assert.ok(r.getDiagnostics().isErr);
        assert.equal(sup.whereis('ga'), undefined);
        assert.deepEqual(snapshot(sup, [outside]), { incarnations: [0], restarts: 0, activeActors: 1, threads: 1 });

        // the group itself goes on
        const again = g.spawn(worker, { name: 'ga' });
        assert.equal(typeof (await again.call('x')), 'string');
      });
    });

    slowTest('a nested group over its intensity under a rest-for-one parent restarts the children started after it', 30000, async () => {
      await k.withSup({ strategy: 'rest-for-one', retry: { max: 5, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const before = sup.spawn(worker);
        const g = sup.createGroup({ retry: { max: 0 } });
        const x = g.spawn(worker);
        const y = g.spawn(worker);
        const after = sup.spawn(worker);
        const refs = [before, x, y, after];
        await tokens(refs);
        y.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'restarts');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [y.id, 'error: boom'],
          [x.id, 'shutdown'],
          [after.id, 'shutdown'],
        ]);
        assert.deepEqual(restarts(ev), [
          [x.id, 1],
          [y.id, 1],
          [after.id, 1],
        ]);
        assert.deepEqual(ev.escalate, [{ id: g.id, reason: 'error: boom' }]);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [0, 1, 1, 1], restarts: 3, activeActors: 4, threads: 4 });
      });
    });
  });
});
