import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, collector, record, within, faults, NO_LEAKS, POOL_DEFAULTS, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats, ActorExitError } from '../index.mjs';

forEachKind((k) => {
  describe('spawning and the actor limit', () => {
    slowTest('100 actors at once: each answers its own call', 120000, async () => {
      const sup = k.createSupervisor({ maxActors: 100 });
      try {
        const refs = [];
        for (let i = 0; i < 100; i++) {
          refs.push(sup.spawn((self, msg) => ({ id: self.id, doubled: msg.n * 2 })));
        }
        assert.equal(new Set(refs.map((r) => r.id)).size, 100);
        for (const r of refs) assert.match(r.id, /^actor-\d+$/);
        const answers = await within(
          Promise.all(refs.map((r, i) => r.call({ n: i }, { timeoutMs: 100000 }))),
          110000,
          '100 calls',
        );
        answers.forEach((a, i) => assert.deepEqual(a, { id: refs[i].id, doubled: i * 2 }));
        assert.equal(new Set(answers.map((a) => a.id)).size, 100);
        const d = sup.getDiagnostics();
        assert.ok(d.isOk);
        assert.equal(d.value.activeActors, 100);
        assert.equal(d.value.totalActorsSpawned, 100);
        assert.equal(runtimeStats().actors, 100);
        // the 101st is refused with the exact message
        const err = await faults(() => sup.spawn(() => 1), Error, new RegExp(`^${k.maxActorsError(100)}$`));
        assert.equal(err.constructor, Error);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 100);
        assert.equal(runtimeStats().actors, 100);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('maxActors: exact error text, and a slot frees when an actor dies for good', 30000, async () => {
      const sup = k.createSupervisor({ maxActors: 2, warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => msg);
        const b = sup.spawn((self, msg) => msg);
        let err;
        try {
          sup.spawn((self, msg) => msg);
        } catch (e) {
          err = e;
        }
        assert.ok(err, 'the third spawn must throw');
        assert.equal(err.constructor, Error);
        assert.equal(err.message, k.maxActorsError(2));
        // also refused for a module actor and for a named actor, and nothing leaked
        assert.throws(() => sup.spawn(new URL('./fixtures/uses-packages.mjs', import.meta.url)), {
          message: k.maxActorsError(2),
        });
        assert.throws(() => sup.spawn((s, m) => m, { name: 'third' }), { message: k.maxActorsError(2) });
        assert.equal(sup.whereis('third'), undefined, 'a refused spawn must not register its name');
        assert.equal(runtimeStats().actors, 2);
        assert.equal(await a.call('a'), 'a');
        await b.terminate();
        const c = sup.spawn((self, msg) => `c:${msg}`, { name: 'third' });
        assert.equal(await c.call('x'), 'c:x');
        assert.equal(sup.whereis('third'), c);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('hung actors and per-message deadlines', () => {
    slowTest('timeoutMs kills a hung actor and restarts it while a sibling keeps answering', 60000, async () => {
      // pooled: the sibling runs on another worker (a co-located one cannot answer while its
      // worker is stuck; see the next test); host spawns go to the less loaded of two workers
      const sup = k.createSupervisor(k.pooled ? { pool: { ...POOL_DEFAULTS, workers: 2 } } : { warmWorkers: 2 });
      try {
        const ev = record(sup);
        const hung = sup.spawn(
          async (self, msg) => {
            globalThis.token ??= Math.random();
            if (msg.op === 'hang') {
              self.send('spinning', globalThis.token);
              await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
              for (;;) {}
            }
            return { op: msg.op, token: globalThis.token };
          },
          { timeoutMs: 1000 },
        );
        const sibling = sup.spawn((self, msg) => msg.n + 1);
        const before = await hung.call({ op: 'warm' });
        assert.equal(await sibling.call({ n: 0 }), 1);
        if (k.pooled) assert.notEqual(hung.getDiagnostics().value.worker, sibling.getDiagnostics().value.worker, 'the sibling runs on the other worker');
        const id = hung.id;
        const inc = hung.incarnation;
        assert.equal(inc, 0);

        const spinning = collector();
        hung.subscribe(spinning);
        hung.receive({ op: 'hang', tag: 'in-flight' });
        await waitFor(() => spinning.items.length === 1, 10000, 'the hung actor to start spinning');
        assert.equal(spinning.items[0].data, before.token);

        // the sibling answers while the other actor spins, until the deadline kills it
        let answeredDuringHang = 0;
        let n = 0;
        await within(
          (async () => {
            while (ev.exit.length === 0) {
              assert.equal(await sibling.call({ n }), n + 1);
              if (ev.exit.length === 0) answeredDuringHang++;
              n++;
            }
          })(),
          20000,
          'the deadline to kill the hung actor',
        );
        assert.ok(answeredDuringHang >= 1, 'the sibling must answer while the hung actor spins');

        await waitFor(() => ev.restart.length === 1, 10000, 'restart event');
        assert.equal(ev.exit.length, 1);
        const exit = ev.exit[0];
        assert.equal(exit.id, id);
        assert.equal(exit.reason, 'timeout');
        assert.equal(exit.incarnation, inc);
        assert.ok(exit.message, 'the exit event must carry the in-flight message');
        assert.deepEqual(exit.message.message, { op: 'hang', tag: 'in-flight' });
        assert.deepEqual(ev.restart[0], { id, incarnation: inc + 1, reason: 'timeout' });

        assert.equal(hung.id, id, 'the ref id is stable across restarts');
        assert.equal(hung.incarnation, inc + 1);
        const after = await hung.call({ op: 'after' });
        assert.equal(after.op, 'after');
        assert.notEqual(after.token, before.token, 'a new thread handles the new incarnation');
        assert.equal(await sibling.call({ n: 41 }), 42);

        const d = hung.getDiagnostics();
        assert.ok(d.isOk);
        assert.equal(d.value.id, id);
        assert.equal(d.value.incarnation, inc + 1);
        assert.equal(d.value.restarts, 1);
        assert.equal(d.value.lastError, 'timeout');
        assert.equal(sup.getDiagnostics().value.restarts, 1);
        assert.equal(ev.deadLetter.length, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('messages queued during the restart are handled, exactly once, by the new incarnation', 60000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const ev = record(sup);
        const order = [];
        sup.on('restart', () => order.push('restart'));
        const a = sup.spawn(
          async (self, msg) => {
            globalThis.token ??= Math.random();
            if (msg.op === 'hang') {
              self.send('spinning', globalThis.token);
              await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
              for (;;) {}
            }
            if (msg.op === 'count') self.send('counted', { n: msg.n, token: globalThis.token });
            return 'synced';
          },
          { timeoutMs: 300 },
        );
        const got = collector();
        a.subscribe((m) => {
          got(m);
          order.push(m.msg);
        });
        assert.equal(a.receive({ op: 'hang' }), true);
        for (let n = 1; n <= 5; n++) assert.equal(a.receive({ op: 'count', n }), true);
        // FIFO from the host: this reply comes after the five counted messages were handled
        assert.equal(await a.call({ op: 'sync' }, { timeoutMs: 20000 }), 'synced');
        await waitFor(() => got.items.filter((m) => m.msg === 'counted').length >= 5, 10000, 'five counted');

        const spinning = got.items.filter((m) => m.msg === 'spinning');
        const counted = got.items.filter((m) => m.msg === 'counted');
        assert.equal(spinning.length, 1);
        assert.deepEqual(
          counted.map((m) => m.data.n),
          [1, 2, 3, 4, 5],
        );
        const tokens = new Set(counted.map((m) => m.data.token));
        assert.equal(tokens.size, 1, 'all handled by one incarnation');
        assert.ok(!tokens.has(spinning[0].data), 'handled by the new incarnation, not the hung one');
        assert.deepEqual(order, ['spinning', 'restart', 'counted', 'counted', 'counted', 'counted', 'counted']);

        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].reason, 'timeout');
        assert.deepEqual(ev.exit[0].message.message, { op: 'hang' });
        assert.equal(ev.restart.length, 1);
        assert.equal(a.incarnation, 1);
        assert.equal(ev.deadLetter.length, 0, 'nothing was lost');
        assert.equal(a.getDiagnostics().value.mailboxDepth, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
    if (k.pooled) {
      slowTest('a deadline on a pooled actor stuck after an await costs its worker once: a co-located sibling exits worker_lost outside intensity, and both answer again', 60000, async () => {
        // one restart allowed: the sibling's collateral exit must not count toward it
        const sup = k.createSupervisor({ pool: { ...POOL_DEFAULTS, workers: 1 }, retry: { max: 1, withinMs: 60000 } });
        try {
          const ev = record(sup, ['exit', 'restart', 'escalate', 'deadLetter', 'error', 'workerLost']);
          const hung = sup.spawn(
            async (self, msg) => {
              globalThis.token ??= Math.random();
              if (msg === 'hang') {
                self.send('spinning');
                await new Promise((r) => setTimeout(r, 1));
                for (;;) {}
              }
              return globalThis.token;
            },
            { timeoutMs: 300 },
          );
          const sibling = sup.spawn({
            init: () => 0,
            handle: (n, msg, ctx) => {
              if (msg !== 'count') return n;
              ctx.self.send('counted');
              return n + 1;
            },
          });
          const counted = collector();
          sibling.subscribe(counted);
          const before = await hung.call('warm');
          assert.equal(await sibling.call('count'), 1);
          assert.equal(hung.getDiagnostics().value.worker, sibling.getDiagnostics().value.worker, 'co-located');
          const spinning = collector();
          hung.subscribe(spinning);
          hung.receive('hang');
          await waitFor(() => spinning.items.length === 1, 10000, 'the hung actor to start spinning');
          // (handled just before the hang, or kept in its mailbox and handled after it: once)
          sibling.receive('count');
          await waitFor(() => ev.workerLost.length === 1 && ev.restart.length === 2, 20000, 'the worker replaced and both restarted');
          assert.equal(ev.workerLost[0].worker, 0);
          assert.deepEqual([...ev.workerLost[0].actors].sort(), [hung.id, sibling.id].sort());
          assert.deepEqual(
            ev.exit.map((e) => [e.id, e.reason, e.incarnation]),
            [
              [hung.id, 'timeout', 0],
              [sibling.id, 'worker_lost', 0],
            ],
            'one exit each: the next incarnation did not start on the stuck worker',
          );
          assert.equal(ev.exit[0].message.message, 'hang', 'the in-flight message is reported');
          assert.equal(ev.exit[1].message, undefined, 'the sibling had nothing in flight');
          const after = await hung.call('after');
          assert.notEqual(after, before, 'a fresh worker runs the new incarnation');
          await sibling.call('get');
          assert.equal(counted.items.length, 2, 'each count handled once');
          assert.equal(hung.incarnation, 1);
          assert.equal(sibling.incarnation, 1);
          assert.equal(ev.escalate.length, 0);
          assert.equal(ev.error.length, 0, 'no intensity_exceeded');
          assert.equal(ev.deadLetter.length, 0);
        } finally {
          await sup.shutdown();
        }
        assert.deepEqual(runtimeStats(), NO_LEAKS);
      });
    }

    slowTest('messages an actor sent just before it hung are not lost', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const ev = record(sup);
        const got = collector();
        sup.subscribe(got);
        const sink = sup.spawn(
          (self, msg) => {
            self.send('sink got', msg);
          },
          { name: 'sink' },
        );
        const a = sup.spawn(
          (self, msg, ctx) => {
            self.send('before hang', msg);
            ctx.send('sink', msg);
            for (;;) {}
          },
          { timeoutMs: 500, restart: 'temporary' },
        );
        a.receive('m1');
        await waitFor(() => ev.exit.some((e) => e.id === a.id), 10000, 'the deadline to kill the actor');
        assert.deepEqual(ev.exit.find((e) => e.id === a.id).reason, 'timeout');
        // a pooled sink shares the hung actor's worker, which is replaced: it exits too, and
        // its mailbox is kept for its next incarnation
        assert.deepEqual(ev.exit.filter((e) => e.id !== a.id).map((e) => [e.id, e.reason]), k.pooled ? [[sink.id, 'worker_lost']] : []);
        // whatever reached the sink's mailbox before the kill is handled before this call
        await sink.call('sync');
        await waitFor(() => got.items.some((m) => m.msg === 'sink got' && m.data === 'sync'), 10000, 'sync');
        assert.deepEqual(
          got.items.filter((m) => m.from === a.id),
          [{ msg: 'before hang', data: 'm1', from: a.id }],
          'self.send before the hang must reach subscribers',
        );
        assert.ok(
          got.items.some((m) => m.msg === 'sink got' && m.data === 'm1'),
          'ctx.send before the hang must reach the target',
        );
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('exits and restart types', () => {
    slowTest('a handler that throws exits with "error: <message>" and is restarted (transient)', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => {
          if (msg === 'boom') throw new Error('kaboom');
          return `ok:${msg}`;
        });
        assert.equal(await a.call('1'), 'ok:1');
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].id, a.id);
        assert.equal(ev.exit[0].reason, 'error: kaboom');
        assert.equal(ev.exit[0].message.message, 'boom');
        assert.deepEqual(ev.restart[0], { id: a.id, incarnation: 1, reason: 'error: kaboom' });
        assert.equal(await a.call('2'), 'ok:2');
        assert.equal(a.incarnation, 1);
        assert.equal(a.getDiagnostics().value.lastError, 'error: kaboom');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('an async handler that rejects exits with "error: <message>" and is restarted', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn(async (self, msg) => {
          await null;
          if (msg === 'boom') throw new Error('async kaboom');
          return `ok:${msg}`;
        });
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(ev.exit[0].reason, 'error: async kaboom');
        assert.equal(await a.call('x'), 'ok:x');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest("restart: 'temporary' is not restarted after an error", 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const before = runtimeStats().actors;
        const a = sup.spawn(
          () => {
            throw new Error('once');
          },
          { restart: 'temporary', name: 'temp' },
        );
        assert.equal(sup.whereis('temp'), a);
        a.receive('go');
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        assert.equal(ev.exit[0].reason, 'error: once');
        assert.equal(ev.restart.length, 0);
        const d = a.getDiagnostics();
        assert.ok(d.isErr);
        assert.equal(d.error, `Actor not found: ${a.id}`);
        assert.equal(a.receive('again'), false);
        assert.equal(sup.whereis('temp'), undefined, 'the name is freed');
        assert.equal(runtimeStats().actors, before);
        assert.equal(ev.restart.length, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest("ctx.terminate() ends the actor with reason 'normal' and it is not restarted", 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg, ctx) => {
          if (msg === 'stop') return ctx.terminate();
          return msg;
        });
        assert.equal(await a.call('x'), 'x');
        a.receive('stop');
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.equal(ev.exit[0].reason, 'normal');
        assert.equal(ev.restart.length, 0);
        assert.ok(a.getDiagnostics().isErr);
        assert.equal(a.receive('more'), false);
        const err = await faults(() => a.call('late', { timeoutMs: 20000 }), ActorExitError, /noproc/);
        assert.equal(err.reason, 'noproc');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest("restart: 'permanent' is restarted even after a normal exit", 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn(
          (self, msg, ctx) => {
            if (msg === 'stop') return ctx.terminate();
            return msg;
          },
          { restart: 'permanent' },
        );
        a.receive('stop');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(ev.exit[0].reason, 'normal');
        assert.equal(await a.call('back'), 'back');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('process.exit() inside an actor ends only that actor, which is restarted', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => {
          if (msg === 'exit') process.exit(3);
          return `alive:${msg}`;
        });
        const b = sup.spawn((self, msg) => `b:${msg}`);
        assert.equal(await a.call('1'), 'alive:1');
        a.receive('exit');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].id, a.id);
        assert.ok(
          ev.exit[0].reason.startsWith('error: process.exit'),
          `reason ${JSON.stringify(ev.exit[0].reason)} must start with "error: process.exit"`,
        );
        assert.equal(ev.exit[0].message.message, 'exit');
        assert.equal(await a.call('2'), 'alive:2');
        assert.equal(await b.call('3'), 'b:3');
        assert.equal(a.incarnation, 1);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('children: ctx.spawn and ctx.terminate', () => {
    slowTest('an actor spawns a child and terminates it; it cannot terminate a non-child', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const ev = record(sup);
        const parent = sup.spawn(async (self, msg, ctx) => {
          if (msg.op === 'spawn') {
            const child = await ctx.spawn((s, m) => `child:${m}`, { name: msg.name, kind: msg.kind });
            return child.id;
          }
          if (msg.op === 'kill') {
            try {
              await ctx.terminate(msg.target);
              return 'ok';
            } catch (err) {
              return `refused: ${err.message}`;
            }
          }
          return undefined;
        });
        const stranger = sup.spawn((self, msg) => `stranger:${msg}`, { name: 'stranger' });

        const childId = await parent.call({ op: 'spawn', name: 'kid', kind: k.kind }); // a child of the suite's kind
        assert.match(childId, /^actor-\d+$/);
        const kid = sup.whereis('kid');
        assert.ok(kid, 'the child is registered under its name');
        assert.equal(kid.id, childId);
        assert.equal(await kid.call('hi'), 'child:hi');
        const spawnEvent = ev.spawn.find((e) => e.id === childId);
        assert.equal(spawnEvent.parent, parent.id);
        assert.equal(sup.getDiagnostics().value.activeActors, 3);

        // a non-child, by name and by id: refused, and still alive
        const byName = await parent.call({ op: 'kill', target: 'stranger' });
        assert.match(byName, /^refused: .*not a child/);
        const byId = await parent.call({ op: 'kill', target: stranger.id });
        assert.match(byId, /^refused: .*not a child/);
        assert.equal(await stranger.call('still'), 'stranger:still');
        assert.equal(ev.exit.length, 0);

        // its own child, by id
        assert.equal(await parent.call({ op: 'kill', target: childId }), 'ok');
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].id, childId);
        assert.equal(ev.exit[0].reason, 'terminated');
        assert.equal(ev.restart.length, 0);
        assert.equal(sup.whereis('kid'), undefined);
        assert.ok(kid.getDiagnostics().isErr);
        assert.equal(kid.receive('gone'), false);
        assert.equal(sup.getDiagnostics().value.activeActors, 2);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('diagnostics', () => {
    slowTest('counters are exact and per supervisor', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      const other = k.createSupervisor({ warmWorkers: 0 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => {
          if (msg === 'boom') throw new Error('boom');
          return msg;
        });
        const b = sup.spawn((self, msg) => msg, { name: 'bee' });
        const c = sup.spawn((self, msg, ctx) => (msg === 'stop' ? ctx.terminate() : msg));
        other.spawn((self, msg) => msg);

        const d0 = sup.getDiagnostics().value;
        assert.equal(d0.id, sup.id);
        assert.equal(d0.totalActorsSpawned, 3);
        assert.equal(d0.totalActorsTerminated, 0);
        assert.equal(d0.restarts, 0);
        assert.equal(d0.activeActors, 3);
        assert.equal(d0.deadLetters, 0);
        assert.equal(other.getDiagnostics().value.totalActorsSpawned, 1);

        // three messages and a call: messageCount 4, mailbox empty
        b.receive(1);
        b.receive(2);
        b.receive(3);
        assert.equal(await b.call(4), 4);
        const bd = b.getDiagnostics().value;
        assert.equal(bd.id, b.id);
        assert.equal(bd.name, 'bee');
        assert.equal(bd.messageCount, 4);
        assert.equal(bd.mailboxDepth, 0);
        assert.equal(bd.incarnation, 0);
        assert.equal(bd.restarts, 0);

        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(await a.call('x'), 'x');
        const d1 = sup.getDiagnostics().value;
        assert.equal(d1.totalActorsSpawned, 3);
        assert.equal(d1.restarts, 1);
        assert.equal(d1.totalActorsTerminated, 0);
        assert.equal(d1.activeActors, 3);

        await b.terminate();
        c.receive('stop');
        await waitFor(() => ev.exit.filter((e) => e.id === c.id).length === 1, 10000, 'c exits');
        const d2 = sup.getDiagnostics().value;
        assert.equal(d2.totalActorsSpawned, 3);
        assert.equal(d2.totalActorsTerminated, 2);
        assert.equal(d2.restarts, 1);
        assert.equal(d2.activeActors, 1);
        assert.equal(d2.deadLetters, 0);
        assert.deepEqual(
          d2.actors.map((x) => x.id),
          [a.id],
        );
        const ad = d2.actors[0];
        assert.equal(ad.incarnation, 1);
        assert.equal(ad.restarts, 1);
        assert.equal(ad.lastError, 'error: boom');

        // the other supervisor's counters did not move
        const o = other.getDiagnostics().value;
        assert.equal(o.totalActorsSpawned, 1);
        assert.equal(o.totalActorsTerminated, 0);
        assert.equal(o.restarts, 0);
        assert.equal(o.deadLetters, 0);
        assert.equal(o.activeActors, 1);
      } finally {
        await sup.shutdown();
        await other.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('dead letters: a message to a terminated actor is refused, reported and counted', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => msg);
        const b = sup.spawn((self, msg) => msg);
        assert.equal(await b.call('x'), 'x');
        await b.terminate();
        assert.equal(sup.getDiagnostics().value.deadLetters, 0);

        assert.equal(b.receive({ late: true }), false);
        await waitFor(() => ev.deadLetter.length >= 1, 10000, 'deadLetter event');
        assert.equal(ev.deadLetter.length, 1);
        assert.equal(ev.deadLetter[0].to, b.id);
        assert.deepEqual(ev.deadLetter[0].message, { late: true });
        assert.equal(sup.getDiagnostics().value.deadLetters, 1, 'deadLetters counts the refused message');

        // so is a call to it, which rejects at once
        await faults(() => b.call('late call', { timeoutMs: 20000 }), ActorExitError, /noproc/);
        await waitFor(() => ev.deadLetter.length >= 2, 10000, 'second deadLetter event');
        assert.equal(ev.deadLetter.length, 2);
        assert.equal(sup.getDiagnostics().value.deadLetters, 2);
        // and a second message to it, like the first
        assert.equal(b.receive('again'), false);
        await waitFor(() => ev.deadLetter.length >= 3, 10000, 'third deadLetter event');
        assert.equal(sup.getDiagnostics().value.deadLetters, 3);
        assert.equal(await a.call('still'), 'still');
        assert.equal(ev.deadLetter.length, 3);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('dead letters: mail still queued when an actor is terminated is reported and counted', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const a = sup.spawn(async (self) => {
          self.send('spinning');
          await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
          for (;;) {}
        });
        const spinning = collector();
        a.subscribe(spinning);
        a.receive('first');
        await waitFor(() => spinning.items.length === 1, 10000, 'spinning');
        a.receive('queued-1');
        a.receive('queued-2');
        await within(a.terminate(), 10000, 'terminate');
        assert.equal(ev.exit.length, 1);
        assert.equal(ev.exit[0].reason, 'terminated');
        assert.equal(ev.exit[0].message.message, 'first');
        await waitFor(() => ev.deadLetter.length >= 2, 10000, 'two deadLetter events');
        assert.deepEqual(
          ev.deadLetter.map((d) => [d.to, d.message]),
          [
            [a.id, 'queued-1'],
            [a.id, 'queued-2'],
          ],
        );
        assert.equal(sup.getDiagnostics().value.deadLetters, 2);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});
