import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, slowTest, runtime, waitFor, collector, record, within, exitsOnItsOwn, NO_LEAKS, forEachKind, actorThreads } from './harness.mjs';
import { createSupervisor, runtimeStats, ActorExitError } from '../index.mjs';

forEachKind((k) => {
  describe('terminate', () => {
    slowTest('terminate() kills an actor spinning in while(true){}', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn(async (self) => {
          self.send('spinning');
          await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
          while (true) {}
        });
        const spinning = collector();
        a.subscribe(spinning);
        assert.equal(a.receive('go'), true);
        await waitFor(() => spinning.items.length === 1, 10000, 'the actor to spin');
        // the warm pool has refilled by now; the only change left is this actor's thread
        await waitFor(() => actorThreads(sup) === 2, 10000, 'warm pool refill');
        const threadsBefore = actorThreads(sup);
        const actorsBefore = runtimeStats().actors;

        // a spinning thread never yields: terminate() settling at all shows it was killed, not asked
        // (how fast is a benchmark's question, bench/, not a test's)
        await within(a.terminate(), 20000, 'terminate of a spinning actor');

        const d = a.getDiagnostics();
        assert.ok(d.isErr);
        assert.equal(d.error, `Actor not found: ${a.id}`);
        assert.equal(a.receive('after'), false);
        assert.equal(actorThreads(sup), threadsBefore - 1);
        assert.equal(runtimeStats().actors, actorsBefore - 1);
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].reason, 'terminated');
        assert.equal(ev.exit[0].message.message, 'go');
        assert.equal(ev.restart.length, 0);
        // the supervisor keeps working (a pooled b may start on the spinning actor's worker: it
        // answers once the watchdog has replaced that worker)
        const b = sup.spawn((self, msg) => msg + 1);
        assert.equal(await b.call(1, { timeoutMs: 20000 }), 2);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('terminate(reason) reports that reason; terminating twice is harmless', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => msg);
        assert.equal(await a.call('x'), 'x');
        await within(a.terminate('bye'), 10000, 'terminate');
        await within(a.terminate(), 10000, 'second terminate');
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].reason, 'bye');
        assert.equal(ev.restart.length, 0);
        assert.ok(a.getDiagnostics().isErr);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('sup.terminateActor by id and by registered name', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => msg);
        const b = sup.spawn((self, msg) => msg, { name: 'bee' });
        await within(sup.terminateActor(a.id), 10000, 'terminateActor(id)');
        await within(sup.terminateActor('bee', 'done'), 10000, 'terminateActor(name)');
        assert.deepEqual(
          ev.exit.map((e) => [e.id, e.reason]),
          [
            [a.id, 'terminated'],
            [b.id, 'done'],
          ],
        );
        assert.equal(ev.restart.length, 0);
        assert.equal(sup.whereis('bee'), undefined);
        assert.equal(sup.getDiagnostics().value.activeActors, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('shutdown', () => {
    slowTest('shutdown stops busy, hung and idle actors, fails pending calls, is idempotent', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      let pending;
      try {
        const ev = record(sup);
        const idle = sup.spawn((self, msg) => msg);
        const sleeper = sup.spawn(async () => {
          await new Promise((r) => setTimeout(r, 600000));
        });
        const hung = sup.spawn(async (self) => {
          self.send('spinning');
          await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
          for (;;) {}
        });
        const spinning = collector();
        hung.subscribe(spinning);
        assert.equal(await idle.call(1), 1);
        sleeper.receive('sleep');
        pending = hung.call('never', { timeoutMs: 600000 }).then(
          () => 'resolved',
          (e) => e,
        );
        await waitFor(() => spinning.items.length === 1, 10000, 'spinning');
        const first = sup.shutdown();
        const second = sup.shutdown();
        await within(Promise.all([first, second]), 10000, 'shutdown');
        await within(sup.shutdown(), 10000, 'third shutdown');
        const err = await within(pending, 10000, 'pending call');
        assert.ok(err instanceof ActorExitError, `pending call must reject with ActorExitError, got ${err}`);
        assert.equal(err.reason, 'shutdown');
        assert.equal(ev.restart.length, 0, 'no restarts during shutdown');
        assert.deepEqual(ev.exit.map((e) => e.reason).sort(), ['shutdown', 'shutdown', 'shutdown']);
        // reverse start order
        assert.deepEqual(
          ev.exit.map((e) => e.id),
          [hung.id, sleeper.id, idle.id],
        );
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest(`the process (${runtime}) exits on its own after shutdown`, 60000, async () => {
      const script = fileURLToPath(new URL('./fixtures/exit-after-shutdown.mjs', import.meta.url));
      const report = await exitsOnItsOwn(script);
      assert.deepEqual(report, {
        answers: ['ping', true],
        pendingOutcome: 'ActorExitError',
        stats: { threads: 0, ports: 0, actors: 0 },
      });
    });
  });
});

describe('shutdown of many pooled actors at once', () => {
  slowTest('every message is accounted for once (handled, in flight at its exit, or a dead letter), in reverse start order, beside polite stops, box holders and isolated actors', 120000, async () => {
    const sup = createSupervisor({ warmWorkers: 0, pool: { workers: 2, maxBlockMs: 5000 }, memory: { poolSize: 4, boxSize: 256 } });
    let stats;
    try {
      const ev = record(sup, ['exit', 'deadLetter', 'restart', 'error']);
      const seen = { handled: new Set(), started: new Set(), terminated: [] };
      sup.subscribe((m) => (m.msg === 'terminated' ? seen.terminated.push(m.data) : seen[m.msg].add(m.data)));
      // a slow message never settles: it is in flight at shutdown, and the mail behind it waits
      const work = (self, msg) => {
        if (msg.slow) {
          self.send('started', msg.n);
          return new Promise(() => {});
        }
        self.send('handled', msg.n);
      };
      const first = sup.spawnMany(2500, work);
      const isolated = sup.spawn((self, msg) => msg);
      const polite = sup.spawn({ handle: (s, msg) => msg, onTerminate: (reason, ctx) => ctx.self.send('terminated', reason) }, { kind: 'pooled' });
      const holder = sup.spawn(async (self, msg, ctx) => {
        const r = await ctx.alloc(8); // kept: its worker must detach the view before the box goes back
        globalThis.__shutdownHeld = r.value.bytes;
        return r.isOk;
      }, { kind: 'pooled' });
      const second = sup.spawnMany(2500, work);
      const all = [...first, isolated, polite, holder, ...second];
      assert.equal(await isolated.call('up'), 'up');
      assert.equal(await polite.call('up'), 'up');
      assert.equal(await holder.call('alloc'), true);
      // every fifth pooled actor stays idle; each other gets a message it handles, one it is
      // still handling at shutdown, and one queued behind that
      const busy = [...first, ...second].filter((_, i) => i % 5 !== 0);
      const expect = { handled: [], inFlight: [], dead: [] };
      busy.forEach((a, i) => {
        assert.ok(a.receive({ n: 3 * i }));
        assert.ok(a.receive({ n: 3 * i + 1, slow: true }));
        assert.ok(a.receive({ n: 3 * i + 2 }));
        expect.handled.push(3 * i);
        expect.inFlight.push(3 * i + 1);
        expect.dead.push(3 * i + 2);
      });
      await waitFor(() => seen.started.size === busy.length && seen.handled.size === busy.length, 60000, 'every busy actor in its slow handler');
      await sup.shutdown();
      stats = runtimeStats();
      const sorted = (list) => [...list].sort((a, b) => a - b);
      const inFlight = ev.exit.filter((e) => e.message !== undefined).map((e) => e.message.message.n);
      const dead = ev.deadLetter.map((d) => d.message.n);
      assert.deepEqual(sorted(seen.handled), expect.handled);
      assert.deepEqual(sorted(inFlight), expect.inFlight, 'each slow message reported in flight by its exit, once');
      assert.deepEqual(sorted(dead), expect.dead, 'each message behind it a dead letter, once');
      assert.ok(ev.deadLetter.every((d) => d.reason === 'shutdown'));
      assert.deepEqual(ev.exit.map((e) => e.id), all.map((a) => a.id).reverse(), 'one exit each, in reverse start order');
      assert.ok(ev.exit.every((e) => e.reason === 'shutdown' && e.incarnation === 0));
      assert.deepEqual(seen.terminated, ['shutdown'], 'the polite stop ran onTerminate');
      assert.equal(ev.restart.length + ev.error.length, 0);
      for (const a of all) assert.ok(a.getDiagnostics().isErr, `${a.id} is dead for good`);
      assert.equal(first[0].receive('late'), false, 'mail to an actor ended at shutdown is refused');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(stats, NO_LEAKS);
  });
});
