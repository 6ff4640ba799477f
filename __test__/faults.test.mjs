// Faults from outside and faults nobody listens to (DESIGN.md 1.2 kill, 3.1, 3.8; issue 14):
// ref.kill / ctx.kill crash an actor and its policy restarts it; a thread whose handler threw is
// reused with nothing of the old incarnation left in it; errors nobody listens to are printed.
import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, record, collector, withSup, forEachKind } from './harness.mjs';
import { runtimeStats } from '../index.mjs';

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);

/** Collects process warnings with a WARDEN_ code while `fn` runs. */
async function warnings(fn) {
  const seen = [];
  const on = (w) => {
    if (String(w.code).startsWith('WARDEN_')) seen.push(w);
  };
  process.on('warning', on);
  try {
    await fn(seen);
  } finally {
    process.off('warning', on);
  }
  return seen;
}

function echo(self, msg) {
  if (msg === 'inc') return self.incarnation;
  if (msg === 'spin') for (;;);
  if (msg === 'boom') throw new Error('boom');
  return msg;
}

forEachKind((k) => {
  describe('ref.kill: a crash from outside', () => {
    slowTest('kill() ends the incarnation with "killed" and the policy restarts it', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(echo);
        assert.equal(await a.call(1), 1);
        assert.equal(await a.kill(), true);
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason, e.incarnation]), [[a.id, 'killed', 0]]);
        assert.equal(a.incarnation, 1);
        assert.equal(await a.call(2), 2, 'the new incarnation answers');
      });
    });

    slowTest('kill() reaches a handler stuck in while(true){}, and its message is reported in flight', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(echo);
        await a.call(0);
        a.receive('spin');
        await waitFor(() => a.getDiagnostics().value.messageCount >= 2, 10000, 'the spin to start');
        assert.equal(await a.kill('operator'), true);
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.equal(ev.exit[0].reason, 'operator');
        assert.equal(ev.exit[0].message.message, 'spin');
        assert.equal(await a.call(3), 3);
      });
    });

    slowTest('links and monitors see the kill reason; a temporary actor is not restarted', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(echo, { restart: 'temporary' });
        const b = sup.spawn(echo);
        const w = sup.spawn(echo);
        const downs = collector();
        w.subscribe(downs);
        await Promise.all([a.call(0), b.call(0), w.call(0)]);
        a.link(b);
        w.monitor(a);
        await a.kill('maintenance');
        await waitFor(() => downs.items.length === 1 && ev.restart.length === 1, 10000, 'DOWN and the restart of b');
        assert.equal(downs.items[0].data.reason, 'maintenance');
        const reasons = Object.fromEntries(ev.exit.map((e) => [e.id, e.reason]));
        assert.deepEqual(reasons, { [a.id]: 'maintenance', [b.id]: 'linked: maintenance' });
        assert.deepEqual(ev.restart.map((r) => r.id), [b.id], 'b is restarted, the temporary a is not');
        assert.ok(a.getDiagnostics().isErr);
        assert.equal(await a.kill(), false, 'nothing left to kill');
      });
    });

    slowTest('kill validates its reason', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const a = sup.spawn(echo);
        assert.throws(() => a.kill(42), { name: 'TypeError', message: /kill: reason/ });
        assert.throws(() => a.kill(''), { name: 'TypeError', message: /kill: reason/ });
      });
    });

    slowTest('ctx.kill crashes a child, which its policy restarts; a non-child is refused', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const other = sup.spawn(echo);
        const parent = sup.spawn(async (self, msg, ctx) => {
          if (msg.op === 'spawn') return (await ctx.spawn((s, m) => m, { kind: msg.kind })).id;
          if (msg.op === 'kill') {
            try {
              return await ctx.kill(msg.target, 'parent says so');
            } catch (err) {
              return `refused: ${err.message}`;
            }
          }
          return null;
        });
        const child = await parent.call({ op: 'spawn', kind: k.kind });
        assert.equal(await parent.call({ op: 'kill', target: child }), true);
        await waitFor(() => ev.restart.length === 1, 10000, 'the child restart');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[child, 'parent says so']]);
        assert.match(await parent.call({ op: 'kill', target: other.id }), /refused: ctx\.kill: .* is not a child/);
      });
    });
  });

  describe('a thread whose handler threw is reused, with nothing of the old incarnation in it', () => {
    slowTest('restarts after throws start no thread', 30000, async () => {
      await k.withSup({ retry: { max: Infinity } }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(echo);
        await a.call(0);
        const threads = runtimeStats().threads;
        for (let i = 0; i < 20; i++) a.receive('boom');
        await waitFor(() => ev.restart.length === 20, 10000, '20 restarts');
        assert.equal(await a.call('after'), 'after');
        assert.equal(a.incarnation, 20);
        assert.equal(await a.call('inc'), 20, 'self.incarnation in the reused thread is the new one');
        assert.equal(runtimeStats().threads, threads, 'the same thread served every incarnation');
      });
    });

    slowTest('timers, state and ctx of the old incarnation do not reach the new one', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn({
          init: () => ({ n: 0 }),
          handle: (s, msg, ctx) => {
            if (msg === 'arm-and-throw') {
              setTimeout(() => ctx.self.send('late-timer'), 30);
              setInterval(() => ctx.self.send('late-interval'), 30);
              Promise.resolve()
                .then(() => new Promise((r) => setTimeout(r, 1)))
                .finally(() => globalThis.queueMicrotask(() => {}));
              (async () => {
                await null; // runs after the throw, when this incarnation has ended
                try {
                  ctx.send(ctx.self.id, 'from-the-grave');
                } catch (err) {
                  globalThis.staleError = err.name;
                }
              })();
              throw new Error('boom');
            }
            if (msg === 'n') return { ...s, reply: s.n };
            if (msg === 'stale') return { ...s, reply: globalThis.staleError ?? null };
            if (msg === 'fresh') setTimeout(() => ctx.self.send('fresh-timer'), 120);
            return { n: s.n + 1, reply: msg };
          },
        });
        const out = collector();
        a.subscribe(out);
        a.receive('x');
        a.receive('y');
        a.receive('arm-and-throw');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        a.receive('fresh');
        // The new incarnation's own 120 ms timer fires: the old 30 ms ones would have by then.
        await waitFor(() => out.items.some((m) => m.msg === 'fresh-timer'), 10000, 'the new incarnation timer');
        assert.deepEqual(out.items.map((m) => m.msg), ['fresh-timer'], 'no timer of the old incarnation fired');
        assert.equal((await a.call('n')).reply, 1, 'state started again from init (only "fresh" counted)');
        assert.equal((await a.call('stale')).reply, 'IncarnationEnded', 'the old ctx threw when a leftover used it');
        assert.equal(ev.exit.length, 1, 'the leftovers did not crash the new incarnation');
      });
    });

    k.onlyIsolated('pooled actors on a worker share one module instance by design (DESIGN 8.4)', 'a module actor that throws gets a fresh thread (its module state would survive)', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(fixture('counter.mjs'));
        await a.call('inc');
        const threads = runtimeStats().threads;
        assert.equal(await a.call('inc'), 2);
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.equal(await a.call('inc'), 1, 'module state starts again');
        await waitFor(() => runtimeStats().threads === threads, 10000, 'the old thread to exit');
      });
    });
  });

  describe('failures nobody listens to are printed', () => {
    slowTest('intensity exceeded with no error listener: one WARDEN_INTENSITY_EXCEEDED warning naming the actor and what stopped', 30000, async () => {
      const seen = await warnings(async (seen) => {
        await k.withSup({ retry: { max: 0, withinMs: 60000 } }, async (sup) => {
          const exits = [];
          sup.on('exit', (e) => exits.push(e));
          const healthy = sup.spawn(echo);
          const bad = sup.spawn(echo);
          await Promise.all([healthy.call(0), bad.call(0)]);
          bad.receive('boom');
          await waitFor(() => seen.length === 1, 10000, 'the warning');
          assert.equal(seen[0].code, 'WARDEN_INTENSITY_EXCEEDED');
          assert.match(seen[0].message, new RegExp(`${bad.id} exited with "error: boom"`));
          assert.match(seen[0].message, new RegExp(`stopped: ${healthy.id}`));
          assert.match(seen[0].message, /sup\.on\('error'/);
        });
      });
      assert.equal(seen.length, 1, 'printed once');
    });

    slowTest('with an error listener the event is delivered, not printed', 30000, async () => {
      const seen = await warnings(async () => {
        await k.withSup({ retry: { max: 0, withinMs: 60000 } }, async (sup) => {
          const errors = collector();
          sup.on('error', errors);
          const bad = sup.spawn(echo);
          await bad.call(0);
          bad.receive('boom');
          await waitFor(() => errors.items.length === 1, 10000, 'the error event');
          assert.equal(errors.items[0].reason, 'intensity_exceeded');
          assert.equal(errors.items[0].id, bad.id);
        });
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      });
      assert.deepEqual(seen, []);
    });

    slowTest('a module that fails to load says so once, however often it is restarted', 30000, async () => {
      const seen = await warnings(async (seen) => {
        await k.withSup({ retry: { max: 3, withinMs: 60000 } }, async (sup) => {
          const ev = record(sup, ['exit', 'restart']);
          const a = sup.spawn(fixture('throws-on-load.mjs'));
          await waitFor(() => ev.exit.length === 4, 10000, 'four failed loads');
          await waitFor(() => seen.some((w) => w.code === 'WARDEN_INTENSITY_EXCEEDED'), 10000, 'the intensity warning');
          const loads = seen.filter((w) => w.code === 'WARDEN_MODULE_LOAD_FAILED');
          assert.equal(loads.length, 1);
          assert.match(loads[0].message, new RegExp(`${a.id}: module .*throws-on-load\\.mjs failed to load`));
        });
      });
      assert.ok(seen.length >= 2);
    });
  });
});
