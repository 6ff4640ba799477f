// Pooled actors (DESIGN.md 8): what only they have — ctx.yield, polite stops with onTerminate,
// onIdle, timers per actor, a worker that dies on its own, and a synchronous hang (a loop or an
// Atomics.wait) interrupted in its worker. Tier 2 boxes and shared regions run for both kinds in
// tier2.test.mjs and regions.test.mjs.
import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, record, withSup } from './harness.mjs';

// A handler's deadline far above what these handlers need (a busy shared machine must not be
// mistaken for a hang); the hang tests set their own.
const SLOW_MACHINE = 2000;
const pool = (extra = {}) => ({ workers: 1, maxBlockMs: SLOW_MACHINE, ...extra });

describe('pooled actors: features', () => {
  slowTest('ctx.yield lets co-located actors run; in an isolated actor it resolves', 30000, async () => {
    await withSup({ pool: pool() }, async (sup) => {
      // The two share a realm (DESIGN 8.4): the spinner polls a global the setter sets. A spinner
      // that awaited only microtasks would never let the setter run (it gives up after 100,000).
      const spinner = sup.spawn(async (self, msg, ctx) => {
        for (let i = 0; i < 100000; i++) {
          if (globalThis.__pooledYieldFlag === msg) return i;
          await ctx.yield();
        }
        return 'starved';
      }, { kind: 'pooled' });
      const setter = sup.spawn((self, msg) => {
        globalThis.__pooledYieldFlag = msg;
        return true;
      }, { kind: 'pooled' });
      assert.equal(await setter.call('warm'), true);
      const spun = spinner.call('go', { timeoutMs: 20000 });
      assert.equal(await setter.call('go'), true);
      const turns = await spun;
      assert.equal(typeof turns, 'number', `the spinner saw the flag (${turns})`);
      const iso = sup.spawn(async (self, msg, ctx) => [typeof ctx.yield, (await ctx.yield()) === undefined]);
      assert.deepEqual(await iso.call('x'), ['function', true]);
    });
  });

  slowTest('a polite stop runs onTerminate between messages, then the actor exits with the reason', 30000, async () => {
    await withSup({ pool: pool() }, async (sup) => {
      const ev = record(sup, ['exit', 'deadLetter']);
      const b = {
        init: () => ({ handled: [] }),
        handle: async (s, msg, ctx) => {
          if (msg === 'slow') {
            ctx.self.send('started', msg);
            await new Promise((r) => setTimeout(r, 50));
          }
          ctx.self.send('handled', msg);
          return { handled: [...s.handled, msg] };
        },
        onTerminate: async (reason, ctx) => {
          await new Promise((r) => setTimeout(r, 10));
          ctx.self.send('terminate', { reason, cancelled: ctx.isCancelled, handled: ctx.state.handled });
        },
      };
      const a = sup.spawn(b, { kind: 'pooled', shutdown: 5000 });
      const neighbour = sup.spawn(b, { kind: 'pooled' });
      const said = [];
      a.subscribe((m) => said.push([m.msg, m.data]));
      assert.equal((await a.call('first')).handled.length, 1);
      a.receive('slow');
      a.receive('never');
      await waitFor(() => said.length === 2, 10000, 'the slow message to start');
      await sup.terminateActor(a.id); // polite (ref.terminate() kills at once)
      assert.deepEqual(said, [
        ['handled', 'first'],
        ['started', 'slow'],
        ['handled', 'slow'],
        ['terminate', { reason: 'terminated', cancelled: true, handled: ['first', 'slow'] }],
      ]);
      const exit = ev.exit.find((e) => e.id === a.id);
      assert.equal(exit.reason, 'terminated');
      // the message it never started: reported with its exit or as a dead letter, once
      const never = [exit.message?.message, ...ev.deadLetter.map((d) => d.message)].filter((m) => m === 'never');
      assert.equal(never.length, 1);
      assert.deepEqual((await neighbour.call('x')).handled, ['x'], 'its neighbour went on');
    });
  });

  slowTest('an onTerminate that never finishes is cut off at the shutdown time; shutdown() completes', 30000, async () => {
    await withSup({ pool: pool() }, async (sup) => {
      const ev = record(sup, ['exit']);
      const stuck = sup.spawn({
        init: () => 0,
        handle: (n) => n + 1,
        onTerminate: () => new Promise(() => {}),
      }, { kind: 'pooled', shutdown: 100 });
      const infinite = sup.spawn({
        init: () => 0,
        handle: (n) => n + 1,
        onTerminate: (reason, ctx) => ctx.self.send('bye', reason),
      }, { kind: 'pooled', shutdown: 'infinity' });
      const bye = [];
      infinite.subscribe((m) => bye.push(m.data));
      assert.equal(await stuck.call('x'), 1);
      await sup.terminateActor(stuck.id);
      assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[stuck.id, 'terminated']]);
      assert.equal(await infinite.call('x'), 1);
      await sup.shutdown();
      assert.deepEqual(bye, ['shutdown']);
    });
  });

  slowTest('onIdle runs after idleTimeoutMs without a message, again each idle period, with the state', 30000, async () => {
    await withSup({ pool: pool() }, async (sup) => {
      const idle = sup.spawn({
        init: () => ({ n: 7 }),
        handle: (s) => ({ n: s.n + 1 }),
        onIdle: (ctx) => ctx.self.send('idle', ctx.state.n),
      }, { kind: 'pooled', idleTimeoutMs: 20 });
      const plain = sup.spawn({ init: () => 0, handle: (n) => n + 1, onIdle: (ctx) => ctx.self.send('idle') }, { kind: 'pooled' });
      const seen = [];
      idle.subscribe((m) => seen.push(m.data));
      const plainSeen = [];
      plain.subscribe((m) => plainSeen.push(m));
      await waitFor(() => seen.length >= 2, 10000, 'two idle periods');
      assert.deepEqual(seen.slice(0, 2), [7, 7]);
      assert.deepEqual(await idle.call('x'), { n: 8 });
      await waitFor(() => seen.includes(8), 10000, 'an idle period after the message');
      assert.equal(await plain.call('x'), 1);
      assert.deepEqual(plainSeen, [], 'no idleTimeoutMs, no onIdle');
    });
  });

  slowTest('timers an actor sets are cancelled at its restart, its neighbours\' are not; a throw in one crashes its actor alone', 30000, async () => {
    await withSup({ pool: pool() }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost']);
      const ticker = (self, msg, ctx) => {
        if (msg === 'tick') setInterval(() => self.send('tick', self.incarnation), 2);
        if (msg === 'later') setTimeout(() => self.send('late', self.incarnation), 60000);
        if (msg === 'throw') setTimeout(() => { throw new Error('timer boom'); }, 1);
        return self.incarnation;
      };
      const a = sup.spawn(ticker, { kind: 'pooled' });
      const b = sup.spawn(ticker, { kind: 'pooled' });
      const ticks = { a: [], b: 0 };
      a.subscribe((m) => ticks.a.push(m.data));
      b.subscribe((m) => m.msg === 'tick' && ticks.b++);
      await a.call('tick');
      await a.call('later');
      await b.call('tick');
      await waitFor(() => ticks.a.length > 2 && ticks.b > 2, 10000, 'both ticking');
      await a.kill('killed');
      await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
      assert.equal(await a.call('x'), 1, 'its worker has ended the old incarnation');
      const before = ticks.a.length;
      const bBefore = ticks.b;
      await waitFor(() => ticks.b > bBefore + 20, 10000, 'the neighbour ticking on');
      assert.equal(ticks.a.length, before, 'no tick of the ended incarnation after its end');
      assert.ok(ticks.a.every((inc) => inc === 0));
      // a throw in a timer callback is that actor's crash, not its worker's
      await b.call('throw');
      await waitFor(() => ev.exit.length === 2, 10000, 'the timer crash');
      assert.deepEqual([ev.exit[1].id, ev.exit[1].reason], [b.id, 'error: timer boom']);
      assert.equal(ev.workerLost.length, 0);
      assert.equal(await a.call('x'), 1);
    });
  });

  slowTest('a worker that dies on its own is replaced: its actors exit worker_lost, restart, and keep their mailboxes', 60000, async () => {
    process.env.WARDEN_TEST_HOOKS = '1'; // read by workers started from now on
    await withSup({ pool: pool(), retry: { max: 1, withinMs: 60000 } }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'error', 'workerLost', 'deadLetter']);
      const b = {
        init: () => 0,
        handle: async (n, msg, ctx) => {
          if (msg === 'hold') await new Promise(() => {});
          // the worker thread ends on its own (a test hook: WARDEN_TEST_HOOKS=1)
          if (msg === 'die') globalThis[Symbol.for('warden.test.exitPoolWorker')](7);
          if (msg?.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      };
      const actors = sup.spawnMany(5, b);
      await Promise.all(actors.map((a) => a.call('warm')));
      const handled = [];
      sup.subscribe((m) => handled.push([m.from, m.data]));
      const [holder, killer] = actors;
      holder.receive('hold');
      holder.receive({ n: 1 });
      holder.receive({ n: 2 });
      killer.receive('die');
      const lost = await waitFor(() => ev.workerLost[0], 20000, 'the workerLost event');
      assert.equal(lost.cause, 'exit');
      assert.equal(lost.culprit, undefined);
      assert.deepEqual([...lost.actors].sort(), actors.map((a) => a.id).sort());
      await waitFor(() => ev.restart.length === 5, 20000, 'five restarts');
      assert.ok(ev.exit.every((e) => e.reason === 'worker_lost'), JSON.stringify(ev.exit.map((e) => e.reason)));
      assert.equal(ev.exit.find((e) => e.id === holder.id).message?.message, 'hold', 'the in-flight message is reported');
      await waitFor(() => handled.length === 2, 20000, 'the kept mail');
      assert.deepEqual(handled, [[holder.id, 1], [holder.id, 2]]);
      assert.deepEqual(await Promise.all(actors.map((a) => a.call('again'))), [3, 1, 1, 1, 1], 'state started over');
      assert.equal(ev.error.length, 0, 'collateral exits do not count toward intensity (retry.max is 1)');
      assert.equal(ev.deadLetter.length, 0);
    }).finally(() => delete process.env.WARDEN_TEST_HOOKS);
  });

  slowTest('a lost worker\'s actors give back their boxes (open writes, references, a waiting write); the new worker gets their regions', 60000, async () => {
    await withSup({
      pool: pool({ maxBlockMs: 300, interrupt: false }),
      memory: { poolSize: 2, boxSize: 1024 },
      retry: { max: 1, withinMs: 60000 },
    }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost', 'error', 'leaseExpired']);
      const hits = new Int32Array(sup.region('hits', 64));
      const boxes = () => sup.getDiagnostics().value.memoryPool;
      const actor = async (self, msg, ctx) => {
        if (msg === 'hang') for (;;);
        if (msg === 'region') return Atomics.add(new Int32Array(ctx.region('hits')), 0, 1) + 1;
        if (msg === 'alloc') return (await ctx.alloc(8)).isOk; // never committed
        if (msg === 'write') {
          const r = await ctx.write({ msg: 'w', data: 1, timeoutMs: 30000 });
          return r.isOk ? 'written' : r.error;
        }
        if (msg?.share) return (await ctx.write({ msg: 'shared', data: 1, share: msg.share })).value;
        if (msg?.handle) return void ctx.read(msg); // an INBOX: read it, keep the reference
        return msg;
      };
      const [writer, waiter, culprit, reader] = sup.spawnMany(4, actor, { regions: ['hits'] });
      assert.equal(await writer.call('region'), 1);
      assert.equal(await writer.call('alloc'), true, 'an open write');
      await culprit.call({ share: [reader] });
      await waitFor(() => boxes().boxesInUse === 2, 10000, 'the reader\'s reference (the writer holds none after commit)');
      const waiting = waiter.call('write', { timeoutMs: 30000 });
      waiting.catch(() => {});
      await waitFor(() => boxes().waitingWrites === 1, 10000, 'a write waiting for a box');
      culprit.receive('hang');
      const lost = await waitFor(() => ev.workerLost[0], 20000, 'the workerLost event');
      assert.deepEqual([lost.cause, lost.culprit], ['maxBlockMs', culprit.id]);
      await assert.rejects(waiting, /worker_lost/);
      await waitFor(() => ev.restart.length === 4, 20000, 'four restarts');
      assert.deepEqual(
        [boxes().boxesInUse, boxes().waitingWrites],
        [0, 0],
        'the open write, the reference and the waiting write went with their incarnations',
      );
      assert.deepEqual(ev.leaseExpired, [], 'given back at the exits, not at a lease');
      assert.equal(await writer.call('region'), 2, 'the replacement worker got the region');
      assert.equal(await reader.call('region'), 3);
      assert.equal(Atomics.load(hits, 0), 3);
      assert.equal(await waiter.call('write'), 'written', 'the pool works on');
      assert.equal(ev.error.length, 0);
    });
  });

  slowTest('an Atomics.wait past maxBlockMs is unwound in its worker (pool.interrupt): only the waiter exits timeout', 30000, async () => {
    await withSup({ pool: pool({ maxBlockMs: 200, interrupt: true }), retry: { max: 1, withinMs: 60000 } }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost', 'error']);
      sup.region('never', 64);
      const waiter = sup.spawn((self, msg, ctx) => (msg === 'wait' ? Atomics.wait(new Int32Array(ctx.region('never')), 0, 0) : msg), {
        kind: 'pooled',
        regions: ['never'],
      });
      const neighbour = sup.spawn((self, msg) => msg, { kind: 'pooled' });
      assert.equal(await neighbour.call('warm'), 'warm');
      await assert.rejects(waiter.call('wait', { timeoutMs: 20000 }), /timeout/);
      await waitFor(() => ev.restart.length === 1, 10000, 'the waiter\'s restart');
      assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[waiter.id, 'timeout']]);
      assert.equal(ev.workerLost.length, 0, 'the worker went on');
      assert.equal(await neighbour.call('again'), 'again');
      assert.equal(neighbour.incarnation, 0);
      assert.equal(await waiter.call('again'), 'again');
    });
  });

  slowTest('a synchronous hang is interrupted in its worker (pool.interrupt): only the culprit exits timeout', 60000, async () => {
    await withSup({ pool: pool({ maxBlockMs: 200, interrupt: true }), retry: { max: 1, withinMs: 60000 } }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost', 'error', 'deadLetter']);
      const actors = sup.spawnMany(200, {
        init: () => 0,
        handle: (n, msg, ctx) => {
          if (msg === 'hang') for (;;);
          if (msg?.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      });
      await Promise.all(actors.map((a) => a.call('warm')));
      const handled = new Set();
      sup.subscribe((m) => handled.add(m.data));
      const culprit = actors[100];
      culprit.receive('hang');
      culprit.receive({ n: -1 }); // queued behind the hang: handled by the next incarnation
      actors.forEach((a, i) => a.receive({ n: i }));
      await waitFor(() => ev.restart.length === 1, 30000, 'the culprit\'s restart');
      await waitFor(() => handled.size === 201, 30000, 'every other message handled');
      assert.deepEqual(ev.exit.map((e) => [e.id, e.reason, e.message?.message]), [[culprit.id, 'timeout', 'hang']]);
      assert.equal(ev.workerLost.length, 0, 'the worker went on');
      // the others kept their state (warm, n, again); the culprit started over (n: -1, n, again)
      assert.deepEqual(await Promise.all(actors.map((a) => a.call('again'))), new Array(200).fill(3));
      assert.deepEqual(actors.map((a) => a.incarnation).filter((n) => n !== 0), [1]);
      assert.equal(culprit.incarnation, 1);
      assert.equal(ev.error.length + ev.deadLetter.length, 0);
    });
  });

  slowTest('a strike of the time limit while a guarded run hands out a batch: nobody exits, every message is handled once, in order', 60000, async () => {
    process.env.WARDEN_TEST_HOOKS = '1'; // read by workers started from now on
    await withSup({ pool: pool({ maxBlockMs: 200, interrupt: true }), retry: { max: 1, withinMs: 60000 } }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost', 'error', 'deadLetter']);
      const keep = { init: () => [], handle: (got, m) => (m === 'report' ? got : [...got, m]) };
      const sinks = sup.spawnMany(3, keep, { kind: 'pooled' });
      const sender = sup.spawn((self, msg, ctx) => {
        if (msg === 'stalled?') return [globalThis.__handOutStallStarted === true, globalThis.__handOutStallEnded === true];
        // the next guarded hand-out (this mail, taken in the same guarded run once this handler
        // is done: one batch for the three sinks) stalls after the first sink got its mail, far
        // past the limit (250 ms here): the others' mail must still arrive, the first's once
        globalThis[Symbol.for('warden.test.stallPoolHandOut')](() => {
          globalThis.__handOutStallStarted = true;
          const until = performance.now() + 5000;
          while (performance.now() < until);
          globalThis.__handOutStallEnded = true;
        });
        for (let n = 0; n < msg.n; n++) for (const to of msg.to) ctx.send(to, n);
        return true;
      }, { kind: 'pooled' });
      assert.deepEqual(await Promise.all(sinks.map((a) => a.call('report'))), [[], [], []]);
      assert.equal(await sender.call({ to: sinks.map((a) => a.id), n: 40 }), true);
      const want = Array.from({ length: 40 }, (_, n) => n);
      await waitFor(async () => (await Promise.all(sinks.map((a) => a.call('report')))).every((got) => got.length >= 40), 30000, 'the sinks handled their mail');
      assert.deepEqual(await sender.call('stalled?'), [true, false], 'the limit struck inside the hand-out');
      assert.deepEqual(await Promise.all(sinks.map((a) => a.call('report'))), [want, want, want], 'each message once, in order (none given twice, none lost)');
      assert.deepEqual([...sinks, sender].map((a) => a.incarnation), [0, 0, 0, 0]);
      assert.equal(ev.exit.length + ev.restart.length + ev.workerLost.length + ev.error.length + ev.deadLetter.length, 0);
    }).finally(() => delete process.env.WARDEN_TEST_HOOKS);
  });

  slowTest('a hang in a promise continuation among 2,000 co-located actors: the worker is replaced, the culprit exits timeout', 60000, async () => {
    await withSup({ pool: pool({ maxBlockMs: 300 }), retry: { max: 1, withinMs: 60000 } }, async (sup) => {
      const ev = record(sup, ['exit', 'restart', 'workerLost', 'error', 'deadLetter']);
      const actors = sup.spawnMany(2000, {
        init: () => 0,
        handle: (n, msg, ctx) => {
          if (msg === 'hang') {
            return (async () => {
              await null;
              for (;;); // after the await: outside the handler's synchronous part
            })();
          }
          if (msg?.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      });
      await Promise.all(actors.map((a) => a.call('warm', { timeoutMs: 30000 })));
      const handled = new Set();
      sup.subscribe((m) => handled.add(m.data));
      const culprit = actors[1000];
      culprit.receive('hang');
      actors.forEach((a, i) => a.receive({ n: i }));
      const lost = await waitFor(() => ev.workerLost[0], 30000, 'the workerLost event');
      assert.deepEqual([lost.cause, lost.culprit], ['maxBlockMs', culprit.id]);
      const inFlight = () => ev.exit.filter((e) => e.message?.message?.n !== undefined).map((e) => e.message.message.n);
      await waitFor(() => handled.size + inFlight().length >= 2000, 30000, 'every message accounted for');
      assert.equal(handled.size + inFlight().length + ev.deadLetter.length, 2000);
      for (const n of inFlight()) assert.ok(!handled.has(n), `message ${n} both handled and in flight`);
      assert.deepEqual(ev.exit.filter((e) => e.id === culprit.id).map((e) => [e.reason, e.message?.message]), [['timeout', 'hang']]);
      assert.ok(ev.exit.filter((e) => e.id !== culprit.id).every((e) => e.reason === 'worker_lost'));
      const again = await Promise.all(actors.map((a) => a.call('again', { timeoutMs: 30000 })));
      assert.ok(again.every((n) => n >= 1));
      assert.equal(ev.error.length, 0, 'no intensity exceeded (retry.max is 1)');
    });
  });
});
