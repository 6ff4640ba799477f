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
