import assert from 'node:assert/strict';
import { describe, slowTest, sleep, waitFor, collector, deadForGood, NO_LEAKS, forEachKind, actorThreads } from './harness.mjs';
import { worker, timeline, exits, restarts, snapshot, restartGaps, plannedStarts, delaysOf, assertWaited, settled } from './supervision-helpers.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

/**
 * Crashes `ref` `times` times, each time once its previous restart happened; returns the
 * measured exit → restart gaps.
 */
async function crashRepeatedly(ev, ref, times) {
  for (let i = 0; i < times; i++) {
    const n = ev.restart.filter((e) => e.id === ref.id).length;
    assert.equal(ref.receive('boom'), true);
    await waitFor(() => ev.restart.filter((e) => e.id === ref.id).length === n + 1, 20000, `restart ${n + 1} of ${ref.id}`);
  }
  return restartGaps(ev, ref.id);
}

forEachKind((k) => {
  describe('backoff delays between exit and restart', () => {
    slowTest('fixed: every restart waits delayMs', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        retry: { max: Infinity, backoff: 'fixed', delayMs: 150, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 3);
        assert.deepEqual(delaysOf(planned, a.id), [150, 150, 150]);
        assert.equal(gaps.length, 3);
        gaps.forEach((g, i) => assertWaited(assert, g, 150, `fixed restart ${i}`));
        assert.equal(a.incarnation, 3);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('linear: restart n waits delayMs·(n+1)', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        retry: { max: Infinity, backoff: 'linear', delayMs: 100, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 3);
        assert.deepEqual(delaysOf(planned, a.id), [100, 200, 300]);
        [100, 200, 300].forEach((expected, i) => assertWaited(assert, gaps[i], expected, `linear restart ${i}`));
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('exponential: restart n waits delayMs·2^n, capped by maxDelayMs; the count is per child', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        retry: { max: Infinity, backoff: 'exponential', delayMs: 60, maxDelayMs: 300, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 5);
        assert.deepEqual(delaysOf(planned, a.id), [60, 120, 240, 300, 300]);
        [60, 120, 240, 300, 300].forEach((expected, i) => assertWaited(assert, gaps[i], expected, `exponential restart ${i}`));
        // b has not failed before: its first restart waits the base delay
        const bGaps = await crashRepeatedly(ev, b, 1);
        assert.deepEqual(delaysOf(planned, b.id), [60]);
        assertWaited(assert, bGaps[0], 60, "b's first restart");
        assert.deepEqual([a.incarnation, b.incarnation], [5, 1]);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('the count n resets after withinMs without a crash', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        // withinMs far above the time a restart takes to crash again on a loaded machine, so the
        // three crashes count as consecutive however slow the machine is
        retry: { max: Infinity, withinMs: 1500, backoff: 'exponential', delayMs: 100, maxDelayMs: 5000, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 3);
        assert.deepEqual(delaysOf(planned, a.id), [100, 200, 400]);
        [100, 200, 400].forEach((expected, i) => assertWaited(assert, gaps[i], expected, `restart ${i} (consecutive)`));
        await sleep(1800); // the semantics under test: quiet for longer than withinMs (at least; more is fine)
        const all = await crashRepeatedly(ev, a, 1);
        assert.deepEqual(delaysOf(planned, a.id), [100, 200, 400, 100], 'the count n started again');
        assertWaited(assert, all[3], 100, 'first restart after a quiet window');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('jitter (default 0.2) spreads the delay within ±20%', 30000, async () => {
      await k.withSup({ retry: { max: Infinity, backoff: 'fixed', delayMs: 300 } }, async (sup) => {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 6);
        const delays = delaysOf(planned, a.id);
        assert.equal(delays.length, 6);
        for (const [i, d] of delays.entries()) {
          assert.ok(d >= 240 && d <= 360, `jittered delay ${i}: ${d} ms outside 300 ± 20%`);
          assertWaited(assert, gaps[i], d, `jittered restart ${i}`);
        }
        const spread = Math.max(...delays) - Math.min(...delays);
        assert.ok(spread > 15, `six jittered delays should not all be equal: ${delays.join(', ')}`);
      });
    });

    slowTest("defaults: backoff alone waits delayMs 100 with jitter 0.2", 30000, async () => {
      await k.withSup({ retry: { max: Infinity, backoff: 'fixed' } }, async (sup) => {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 3);
        const delays = delaysOf(planned, a.id);
        assert.equal(delays.length, 3);
        for (const [i, d] of delays.entries()) {
          assert.ok(d >= 80 && d <= 120, `default delay ${i}: ${d} ms outside 100 ± 20%`);
          assertWaited(assert, gaps[i], d, `default restart ${i}`);
        }
      });
    });

    slowTest('maxDelayMs caps the delay itself', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        retry: { max: Infinity, backoff: 'fixed', delayMs: 1000, maxDelayMs: 120, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const a = sup.spawn(worker);
        const gaps = await crashRepeatedly(ev, a, 2);
        assert.deepEqual(delaysOf(planned, a.id), [120, 120]);
        gaps.forEach((g, i) => assertWaited(assert, g, 120, `capped restart ${i}`));
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('the mailbox during backoff', () => {
    slowTest('messages sent between incarnations are all handled, once, by the new incarnation', 30000, async () => {
      await k.withSup({ retry: { max: Infinity, backoff: 'fixed', delayMs: 400, jitter: 0 } }, async (sup) => {
        const ev = timeline(sup);
        const got = collector();
        const a = sup.spawn(worker, { name: 'a' });
        a.subscribe(got);
        const oldToken = await a.call('token');

        assert.equal(a.receive('boom'), true);
        await waitFor(() => ev.exit.length === 1, 10000, 'the crash');
        assert.equal(ev.exit[0].message.message, 'boom', 'the in-flight message is reported in the exit event');
        assert.equal(ev.restart.length, 0, 'still waiting for the backoff');
        const during = a.getDiagnostics();
        assert.ok(during.isOk, 'an actor between incarnations is not dead');
        assert.equal(during.value.state, 'restarting');
        assert.equal(sup.whereis('a'), a, 'the name stays during the backoff');

        const N = 25;
        for (let n = 1; n <= N; n++) assert.equal(a.receive({ op: 'count', n }), true, `receive ${n} during backoff`);
        const pendingCall = a.call('token', { timeoutMs: 20000 });
        assert.equal(a.getDiagnostics().value.mailboxDepth, N + 1);
        assert.equal(ev.restart.length, 0);

        const newToken = await pendingCall;
        await waitFor(() => got.items.length >= N, 10000, 'all counted');
        await settled([a]);
        assert.notEqual(newToken, oldToken);
        assert.deepEqual(
          got.items.map((m) => m.data.n),
          Array.from({ length: N }, (_, i) => i + 1),
          'each exactly once, in order',
        );
        assert.deepEqual(new Set(got.items.map((m) => m.data.token)), new Set([newToken]), 'all by the new incarnation');
        assert.equal(ev.restart.length, 1);
        assert.equal(ev.deadLetter.length, 0);
        assert.equal(a.getDiagnostics().value.mailboxDepth, 0);
        assert.equal(a.incarnation, 1);
      });
    });

    slowTest('a stale capability (receive with an old incarnation) is refused after the restart', 30000, async () => {
      await k.withSup({ retry: { max: Infinity } }, async (sup) => {
        const ev = timeline(sup);
        const got = collector();
        const a = sup.spawn(worker);
        a.subscribe(got);
        assert.equal(a.receive({ op: 'count', n: 1 }, { incarnation: 0 }), true);
        await waitFor(() => got.items.length === 1, 10000, 'first counted');
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(a.incarnation, 1);

        assert.equal(a.receive({ op: 'count', n: 2 }, { incarnation: 0 }), false, 'incarnation 0 is gone');
        assert.equal(a.receive({ op: 'count', n: 3 }, { incarnation: 1 }), true);
        assert.equal(a.receive({ op: 'count', n: 4 }), true);
        await a.call('sync');
        await waitFor(() => ev.deadLetter.length === 1, 10000, 'the refused message as a dead letter');
        assert.deepEqual(
          got.items.map((m) => m.data.n),
          [1, 3, 4],
        );
        assert.equal(ev.deadLetter[0].reason, 'stale incarnation');
        assert.deepEqual(ev.deadLetter[0].message, { op: 'count', n: 2 });
      });
    });

    slowTest('a capability for the incarnation that just died is refused during the backoff too', 30000, async () => {
      await k.withSup({ retry: { max: Infinity, backoff: 'fixed', delayMs: 400, jitter: 0 } }, async (sup) => {
        const ev = timeline(sup);
        const got = collector();
        const a = sup.spawn(worker);
        a.subscribe(got);
        await a.call('warm');
        a.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'the crash');
        assert.equal(ev.restart.length, 0, 'in the backoff delay');
        // incarnation 0 has ended: a message bound to it must not reach incarnation 1
        const accepted = a.receive({ op: 'count', n: 'stale' }, { incarnation: 0 });
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        await a.call('sync');
        assert.deepEqual(
          got.items.map((m) => m.data.n),
          [],
          'the message named incarnation 0 but was handled by incarnation 1',
        );
        assert.equal(accepted, false, 'receive(msg, { incarnation: 0 }) after incarnation 0 died must return false');
      });
    });
  });

  describe('backoff with group strategies', () => {
    slowTest('one-for-all: siblings stop at once, all restart after the delay; a crash of the restarted set restarts it once more', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        strategy: 'one-for-all',
        retry: { max: Infinity, backoff: 'fixed', delayMs: 300, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const planned = plannedStarts(sup);
        const got = collector();
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c] = refs;
        b.subscribe(got);
        await Promise.all(refs.map((r) => r.call('warm')));

        a.receive('boom');
        await waitFor(() => ev.exit.length === 3, 10000, 'the crash and both siblings stopped');
        assert.equal(ev.restart.length, 0, 'the siblings are stopped before the delay, restarts wait for it');
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [c.id, 'shutdown'],
          [b.id, 'shutdown'],
        ]);
        const crashAt = ev.log.find((e) => e.event === 'exit').t;
        // (an exit event can come a few ms before the runtime has reaped the thread)
        await waitFor(() => actorThreads(sup) === 0, 2000, 'nobody runs during the delay');
        assert.equal(ev.restart.length, 0, 'and nobody has restarted yet');

        // while every child waits: mail for b, then a crash for its next incarnation
        for (let n = 1; n <= 5; n++) assert.equal(b.receive({ op: 'count', n }), true);
        assert.equal(b.receive('boom'), true);

        await waitFor(() => ev.restart.length === 6, 20000, 'two rounds of restarts');
        await settled(refs);
        // every start the tree planned has happened, each after its delay: exactly two rounds
        assert.deepEqual(planned.map((p) => [p.id, p.delayMs]), [a, b, c, a, b, c].map((r) => [r.id, 300]), 'exactly two rounds');
        const firstRestart = ev.log.find((e) => e.event === 'restart').t;
        assertWaited(assert, firstRestart - crashAt, 300, 'the first round');
        assert.deepEqual(restarts(ev), [
          [a.id, 1],
          [b.id, 1],
          [c.id, 1],
          [a.id, 2],
          [b.id, 2],
          [c.id, 2],
        ]);
        assert.deepEqual(exits(ev).slice(3), [
          [b.id, 'error: boom'],
          [c.id, 'shutdown'],
          [a.id, 'shutdown'],
        ]);
        assert.deepEqual(
          got.items.map((m) => m.data.n),
          [1, 2, 3, 4, 5],
          'the mail sent during the delay was handled once, before the crash that followed it',
        );
        assert.equal(new Set(got.items.map((m) => m.data.token)).size, 1);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [2, 2, 2], restarts: 6, activeActors: 3, threads: 3 });
        assert.equal(ev.deadLetter.length + ev.error.length + ev.escalate.length, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('rest-for-one: an earlier sibling crashing while later ones wait to restart restarts each exactly once', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        strategy: 'rest-for-one',
        retry: { max: Infinity, backoff: 'fixed', delayMs: 300, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, c] = refs;
        await Promise.all(refs.map((r) => r.call('warm')));

        b.receive('boom');
        await waitFor(() => ev.exit.length === 2, 10000, 'b crashed and c stopped');
        assert.deepEqual(exits(ev), [
          [b.id, 'error: boom'],
          [c.id, 'shutdown'],
        ]);
        assert.equal(ev.restart.length, 0);
        a.receive('boom'); // a crashes while b and c wait for their restart
        await waitFor(() => ev.exit.length === 3, 10000, 'a crashed');
        assert.equal(ev.restart.length, 0);

        await waitFor(() => ev.restart.length >= 3, 20000, 'restarts');
        // the cancelled starts of b and c were timed before these, with the same delay: had they
        // not been cancelled they would have fired first (one thread's timers fire in deadline order)
        await settled(refs);
        assert.deepEqual(restarts(ev), [
          [a.id, 1],
          [b.id, 1],
          [c.id, 1],
        ]);
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 1], restarts: 3, activeActors: 3, threads: 3 });
        const tokens = await Promise.all(refs.map((r) => r.call('t')));
        assert.equal(new Set(tokens).size, 3);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('stopping during a backoff delay', () => {
    slowTest('terminate() between incarnations is final: no restart, name freed', 30000, async () => {
      await k.withSup({ retry: { max: Infinity, backoff: 'fixed', delayMs: 300, jitter: 0 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker, { name: 'waiting' });
        a.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'the crash');
        a.receive({ op: 'count', n: 1 }); // queued for an incarnation that will never come
        await a.terminate();
        await deadForGood(a); // nothing can start it again
        assert.equal(ev.restart.length, 0, 'the pending restart was cancelled');
        assert.equal(sup.whereis('waiting'), undefined);
        assert.equal(a.receive('more'), false);
        assert.equal(sup.getDiagnostics().value.activeActors, 0);
        await waitFor(() => ev.deadLetter.length >= 1, 10000, 'the queued message reported');
        assert.deepEqual(ev.deadLetter[0].message, { op: 'count', n: 1 });
        const again = sup.spawn(worker, { name: 'waiting' });
        assert.equal(typeof (await again.call('x')), 'string');
      });
    });

    slowTest('terminate() of a sibling waiting for a one-for-all restart: it stays dead, the others restart once', 30000, async () => {
      const sup = k.createSupervisor({
        warmWorkers: 0,
        strategy: 'one-for-all',
        retry: { max: Infinity, backoff: 'fixed', delayMs: 300, jitter: 0 },
      });
      try {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker, { name: 'b' }), sup.spawn(worker)];
        const [a, b, c] = refs;
        await Promise.all(refs.map((r) => r.call('warm')));
        a.receive('boom');
        await waitFor(() => ev.exit.length === 3, 10000, 'a crashed, b and c stopped');
        assert.equal(ev.restart.length, 0);
        await b.terminate();
        await waitFor(() => ev.restart.length === 2, 10000, 'a and c restarted');
        await deadForGood(b);
        // b's start was timed between a's and c's, with the same delay: c's restart means it is past
        await settled([a, c]);
        assert.deepEqual(restarts(ev), [
          [a.id, 1],
          [c.id, 1],
        ]);
        assert.ok(b.getDiagnostics().isErr, 'b is dead for good');
        assert.equal(sup.whereis('b'), undefined);
        assert.equal(b.receive('x'), false);
        const d = sup.getDiagnostics().value;
        assert.deepEqual([d.activeActors, d.restarts, d.totalActorsTerminated, actorThreads(sup)], [2, 2, 1, 2]);
        // a and c are still supervised together
        c.receive('boom');
        await waitFor(() => ev.restart.length === 4, 10000, 'second round');
        assert.deepEqual(snapshot(sup, [a, c]), { incarnations: [2, 2], restarts: 4, activeActors: 2, threads: 2 });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('shutdown() during a backoff delay cancels the restart and leaves nothing behind', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1, retry: { max: Infinity, backoff: 'fixed', delayMs: 300, jitter: 0 } });
      const ev = timeline(sup);
      const planned = plannedStarts(sup);
      try {
        const a = sup.spawn(worker);
        sup.spawn(worker);
        a.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'the crash');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
      // a timer of the planned delay armed now fires after the restart's timer (armed earlier)
      assert.deepEqual(planned.map((p) => p.delayMs), [300]);
      await sleep(300);
      assert.equal(ev.restart.length, 0);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});
