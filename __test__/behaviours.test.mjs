// Stateful behaviours, hooks (onStart, onTerminate, onExit, onIdle), shutdown kinds, onCrash
// policies, the heartbeat watchdog and the per-actor heap limit (DESIGN.md 1.3, 2, 3.1, 3.8).
//
// Actor callbacks and behaviour functions are serialised with toString(): they see no outer
// scope, so everything they need is written inline or kept on the thread's globalThis.
import assert from 'node:assert/strict';
import { describe, slowTest, slowTestUnless, sleep, waitFor, deadForGood, hostDrained, collector, record, within, faults, runtime, NO_LEAKS, forEachKind, POOLED_REFUSES } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);

/** The `msg` names of what a collector got, in order. */
const names = (c) => c.items.map((m) => m.msg);
/** The emitted messages called `name`. */
const emitted = (c, name) => c.items.filter((m) => m.msg === name);

/**
 * A callback actor: 'boom' throws, anything else answers with its incarnation's token (each
 * incarnation has its own `self`, even in a thread reused after a throw).
 */
function worker(self, msg) {
  globalThis.tokens ??= new WeakMap();
  if (!globalThis.tokens.has(self)) globalThis.tokens.set(self, `${self.id}/${Math.random()}`);
  globalThis.token = globalThis.tokens.get(self);
  if (msg === 'boom') throw new Error('boom');
  return globalThis.token;
}

// ---- 1. stateful actors ------------------------------------------------------------------

forEachKind((k) => {
  /** `k.withSup` with a warm thread for the isolated actors (and the odd isolated one among pooled). */
  const withSup = (config, fn) => k.withSup(config, fn, { warmWorkers: 1 });

  describe('stateful actors: spawn({ init, handle })', () => {
    slowTest('state is kept between messages: 1000 receives, then a call answers with the new state', 60000, async () => {
      await withSup({}, async (sup) => {
        const a = sup.spawn({ init: () => 0, handle: (state, msg) => state + msg });
        for (let i = 0; i < 1000; i++) assert.equal(a.receive(1), true);
        assert.equal(await a.call(0, { timeoutMs: 30000 }), 1000);
        assert.equal(await a.call(5), 1005);
        assert.equal(await a.call(-5), 1000);
        assert.equal(a.incarnation, 0);
      });
    });

    slowTest('ctx.state is what init or the last handle returned', 30000, async () => {
      await withSup({}, async (sup) => {
        const a = sup.spawn({
          init: () => ({ n: 0 }),
          handle: (state, msg, ctx) => {
            ctx.self.send('seen', { arg: state, ctxState: ctx.state, same: state === ctx.state });
            return msg === 'keep' ? state : { n: state.n + 1 };
          },
        });
        const seen = collector();
        a.subscribe(seen);
        assert.deepEqual(await a.call('inc'), { n: 1 });
        assert.deepEqual(await a.call('inc'), { n: 2 });
        assert.deepEqual(await a.call('keep'), { n: 2 });
        await waitFor(() => seen.items.length === 3, 10000, 'three emissions');
        assert.deepEqual(
          seen.items.map((m) => m.data),
          [
            { arg: { n: 0 }, ctxState: { n: 0 }, same: true },
            { arg: { n: 1 }, ctxState: { n: 1 }, same: true },
            { arg: { n: 2 }, ctxState: { n: 2 }, same: true },
          ],
        );
      });
    });

    slowTest('state resets after a crash: the new incarnation runs init again', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn({
          init: () => 100,
          handle: (state, msg) => {
            if (msg === 'boom') throw new Error('stateful boom');
            return state + msg;
          },
        });
        assert.equal(await a.call(1), 101);
        assert.equal(await a.call(2), 103);
        assert.equal(a.incarnation, 0);
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.equal(ev.exit[0].reason, 'error: stateful boom');
        assert.equal(a.incarnation, 1);
        assert.equal(await a.call(1), 101, 'the state starts again from init');
        assert.equal(ev.error.length, 0);
      });
    });

    slowTest('async init and async handle: messages queued during init wait, one at a time', 30000, async () => {
      await withSup({}, async (sup) => {
        const a = sup.spawn({
          init: async () => {
            await new Promise((r) => setTimeout(r, 50));
            return ['init'];
          },
          handle: async (state, msg) => {
            await new Promise((r) => setTimeout(r, 3 - state.length % 3));
            return [...state, msg];
          },
        });
        a.receive('a');
        a.receive('b');
        assert.deepEqual(await a.call('c'), ['init', 'a', 'b', 'c']);
        assert.deepEqual(await a.call('d'), ['init', 'a', 'b', 'c', 'd']);
      });
    });

    slowTest('an async init that rejects ends the incarnation with error: <message>', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(
          {
            init: async () => {
              throw new Error('init failed');
            },
            handle: (s) => s,
          },
          { restart: 'temporary' },
        );
        await waitFor(() => ev.exit.length === 1, 10000, 'the exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.equal(ev.exit[0].reason, 'error: init failed');
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive(1), false);
      });
    });

    k.needs('onTerminate', 'module form: a default export { init, handle, onTerminate }', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(fixture('beh-counter.mjs'));
        a.subscribe(seen);
        assert.equal((await a.call(2, { timeoutMs: 20000 })).count, 2);
        assert.equal((await a.call(3)).count, 5);
        const st = await a.call('state');
        assert.equal(st.count, 5);
        assert.equal(st.seen, true, 'ctx.state is the state handle received');
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.equal(ev.exit[0].reason, 'error: counter boom');
        assert.equal(a.incarnation, 1);
        assert.equal((await a.call(7, { timeoutMs: 20000 })).count, 7, 'state reset by init');
        assert.equal(emitted(seen, 'final').length, 0, 'onTerminate does not run on a crash');
        await sup.terminateActor(a.id);
        await waitFor(() => emitted(seen, 'final').length === 1, 10000, 'the final emission');
        assert.deepEqual(emitted(seen, 'final')[0].data, { reason: 'terminated', count: 7 });
        assert.equal(a.receive(1), false);
      });
    });
  });

  // ---- 2. behaviour object validation ------------------------------------------------------

  describe('behaviour object validation', () => {
    slowTest('missing or non-function handle, unknown keys and non-function hooks are TypeErrors', 30000, async () => {
      await withSup({}, async (sup) => {
        const group = sup.createGroup({});
        const before = runtimeStats().actors;
        for (const spawn of [(b) => sup.spawn(b), (b) => group.spawn(b)]) {
          await faults(() => spawn({ init: () => 0 }), TypeError, /handle/);
          await faults(() => spawn({}), TypeError, /handle/);
          await faults(() => spawn({ init: () => 0, handle: 42 }), TypeError, /handle/);
          await faults(() => spawn({ handle: (s) => s, onStrat: () => 1 }), TypeError, /onStrat/);
          await faults(() => spawn({ handle: (s) => s, state: 0 }), TypeError, /"state"/);
          for (const hook of ['init', 'onStart', 'onTerminate', 'onExit', 'onIdle']) {
            await faults(() => spawn({ handle: (s) => s, [hook]: 'not a function' }), TypeError, new RegExp(hook));
            await faults(() => spawn({ handle: (s) => s, [hook]: null }), TypeError, new RegExp(hook));
            await faults(() => spawn({ handle: (s) => s, [hook]: {} }), TypeError, new RegExp(hook));
          }
        }
        assert.equal(runtimeStats().actors, before, 'a refused spawn leaves no actor behind');
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
        // still working, and undefined hooks are simply absent
        const a = sup.spawn({ init: () => 1, handle: (s, m) => s + m, onIdle: undefined });
        assert.equal(await a.call(1), 2);
      });
    });

    slowTest('ctx.spawn of a bad behaviour object rejects with a TypeError inside the actor', 30000, async () => {
      await withSup({}, async (sup) => {
        const a = sup.spawn(async (self, msg, ctx) => {
          const out = [];
          for (const b of [{ init: () => 0 }, { handle: (s) => s, bogus: () => 1 }, { handle: (s) => s, onStart: 3 }]) {
            try {
              await ctx.spawn(b);
              out.push('spawned');
            } catch (err) {
              out.push(`${err.name}: ${err.message}`);
            }
          }
          return out;
        });
        const out = await a.call('go');
        assert.equal(out.length, 3);
        assert.match(out[0], /^TypeError: .*handle/);
        assert.match(out[1], /^TypeError: .*bogus/);
        assert.match(out[2], /^TypeError: .*onStart/);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 1);
      });
    });

    slowTest('a module whose default export object has no handle exits with an error naming handle', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(fixture('beh-no-handle.mjs'), { restart: 'temporary' });
        await waitFor(() => ev.exit.length === 1, 10000, 'the exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.match(ev.exit[0].reason, /^error: .*handle/);
        assert.equal(ev.restart.length, 0);
      });
    });
  });

  // ---- 3. hooks ----------------------------------------------------------------------------

  describe('onStart', () => {
    slowTest('runs after init and before the first message, and again in each new incarnation', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn({
          init: () => [],
          onStart: async (ctx) => {
            await new Promise((r) => setTimeout(r, 30));
            ctx.register('beh-starter');
            ctx.self.send('started', { state: ctx.state });
          },
          handle: (state, msg, ctx) => {
            if (msg === 'boom') throw new Error('boom');
            ctx.self.send('handled', msg);
            return [...state, msg];
          },
        });
        a.subscribe(seen);
        a.receive('first');
        a.receive('second');
        assert.deepEqual(await a.call('third'), ['first', 'second', 'third']);
        assert.deepEqual(names(seen), ['started', 'handled', 'handled', 'handled']);
        assert.deepEqual(seen.items[0].data, { state: [] }, 'init ran before onStart');
        assert.equal(sup.whereis('beh-starter'), a);

        a.receive('boom');
        a.receive('after');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        assert.deepEqual(await a.call('again'), ['after', 'again']);
        assert.deepEqual(names(seen), ['started', 'handled', 'handled', 'handled', 'started', 'handled', 'handled']);
        assert.equal(sup.whereis('beh-starter'), a, 'the name follows the actor (re-registered by onStart)');
        assert.equal(ev.error.length, 0);
      });
    });

    slowTest('a throwing onStart ends the incarnation with error: <message>', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(
          {
            onStart: () => {
              throw new Error('cannot start');
            },
            handle: (s) => s,
          },
          { restart: 'temporary' },
        );
        await waitFor(() => ev.exit.length === 1, 10000, 'the exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.equal(ev.exit[0].reason, 'error: cannot start');
        assert.equal(a.receive(1), false);
      });
    });
  });

  describe('hooks as named exports of a module actor', () => {
    k.needs('onTerminate', 'onStart, onExit (trapping) and onTerminate of a module with a default handler', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(fixture('beh-hooks.mjs'));
        a.subscribe(seen);
        a.receive('x');
        assert.deepEqual(await a.call('order', { timeoutMs: 20000 }), ['onStart', 'msg:"x"', 'msg:"order"']);
        assert.deepEqual(seen.items[0], { msg: 'started', data: { order: ['onStart'] }, from: a.id });
        assert.equal(sup.whereis('beh-hooks-module'), a, 'onStart registered the name');

        // onExit replaces the handler for EXIT messages when trapping exits
        const b = sup.spawn((self, msg) => {
          if (msg === 'boom') throw new Error('linked boom');
          return msg;
        }, { restart: 'temporary' });
        assert.equal(await a.call('trap'), 'trapping');
        assert.equal(await a.call({ op: 'link', to: b.id }), 'linked');
        b.receive('boom');
        await waitFor(() => emitted(seen, 'exit-hook').length === 1, 10000, 'onExit');
        assert.deepEqual(emitted(seen, 'exit-hook')[0].data, { id: b.id, reason: 'error: linked boom' });
        const order = await a.call('order');
        assert.deepEqual(order.slice(-2), [`onExit:${b.id}`, 'msg:"order"'], 'the handler did not see the EXIT');
        assert.equal(
          emitted(seen, 'handled').some((m) => m.data?.msg === 'EXIT'),
          false,
        );
        assert.equal(a.incarnation, 0);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[b.id, 'error: linked boom']]);

        // no idleTimeoutMs: onIdle never runs
        assert.equal(emitted(seen, 'idle').length, 0);

        // onTerminate (async) runs on a polite stop: a module with onTerminate defaults to 5000 ms
        await sup.terminateActor(a.id, 'bye-now');
        const t = emitted(seen, 'terminating');
        assert.equal(t.length, 1, 'onTerminate ran before the stop finished');
        assert.equal(t[0].data.reason, 'bye-now');
        assert.deepEqual(ev.exit.at(-1), { id: a.id, reason: 'bye-now', incarnation: 0, message: undefined });
        assert.equal(sup.whereis('beh-hooks-module'), undefined);
      });
    });
  });

  describe('onTerminate', () => {
    const polite = () => ({
      init: () => 0,
      handle: (state, msg) => state + msg,
      onTerminate: (reason, ctx) => {
        ctx.self.send('bye', { reason, state: ctx.state });
      },
    });

    k.needs('onTerminate', 'runs on sup.shutdown() with reason shutdown, in reverse start order', 30000, async () => {
      const seen = collector();
      let sup;
      await withSup({}, async (s) => {
        sup = s;
        const a = sup.spawn(polite());
        const b = sup.spawn(polite());
        a.subscribe(seen);
        b.subscribe(seen);
        assert.equal(await a.call(1), 1);
        assert.equal(await b.call(2), 2);
        await sup.shutdown();
        assert.deepEqual(
          seen.items.map((m) => [m.from, m.msg, m.data]),
          [
            [b.id, 'bye', { reason: 'shutdown', state: 2 }],
            [a.id, 'bye', { reason: 'shutdown', state: 1 }],
          ],
        );
      });
    });

    k.needs('onTerminate', 'runs on sup.terminateActor(id, reason?); the actor is not restarted', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        sup.subscribe(seen);
        const a = sup.spawn(polite(), { restart: 'permanent' });
        const b = sup.spawn(polite(), { restart: 'permanent' });
        await a.call(3);
        await b.call(4);
        await sup.terminateActor(a.id);
        await sup.terminateActor(b, 'custom reason');
        assert.deepEqual(
          seen.items.map((m) => [m.from, m.msg, m.data]),
          [
            [a.id, 'bye', { reason: 'terminated', state: 3 }],
            [b.id, 'bye', { reason: 'custom reason', state: 4 }],
          ],
        );
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'terminated'], [b.id, 'custom reason']]);
        await deadForGood(a);
        await deadForGood(b);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive(1), false);
        assert.equal(b.receive(1), false);
      });
    });

    k.needs('onTerminate', 'runs when a strategy stops a sibling (one-for-all), with reason shutdown', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const group = sup.createGroup({ strategy: 'one-for-all' });
        const a = group.spawn(polite());
        const b = group.spawn(worker);
        a.subscribe(seen);
        assert.equal(await a.call(5), 5);
        await b.call('x');
        b.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'both restarts');
        assert.deepEqual(seen.items.map((m) => [m.msg, m.data]), [['bye', { reason: 'shutdown', state: 5 }]]);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[b.id, 'error: boom'], [a.id, 'shutdown']]);
        assert.equal(a.incarnation, 1);
        assert.equal(await a.call(1), 1, 'a restarted from init');
      });
    });

    k.needs('onTerminate', 'does not run for ref.terminate() (brutal: kill now)', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(polite());
        const probe = sup.spawn(worker);
        a.subscribe(seen);
        await a.call(1);
        await a.terminate();
        await hostDrained(probe); // a 'bye' emitted before the kill would have been handled by now
        assert.equal(seen.items.length, 0);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'terminated']]);
        assert.equal(a.receive(1), false);
      });
    });
  });

  describe('onExit', () => {
    const trapper = () => ({
      init: () => 10,
      handle: (state, msg, ctx) => {
        ctx.self.send('handled', msg);
        if (msg === 'trap') {
          ctx.trapExits(true);
          return state;
        }
        if (msg !== null && typeof msg === 'object' && msg.link) {
          ctx.link(msg.link);
          return state;
        }
        if (msg === 'sync') return state;
        return state + msg;
      },
      onExit: (id, reason, ctx) => {
        ctx.self.send('exit-hook', { id, reason, state: ctx.state });
      },
    });
    const crasher = (self, msg) => {
      if (msg === 'boom') throw new Error('linked boom');
      return msg;
    };

    slowTest('is called instead of the handler for EXIT when trapping exits', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(trapper());
        const b = sup.spawn(crasher, { restart: 'temporary' });
        a.subscribe(seen);
        await a.call('trap');
        await a.call({ link: b.id });
        await b.call('x');
        b.receive('boom');
        await waitFor(() => emitted(seen, 'exit-hook').length === 1, 10000, 'onExit');
        assert.deepEqual(emitted(seen, 'exit-hook')[0].data, { id: b.id, reason: 'error: linked boom', state: 10 });
        await a.call('sync'); // anything the handler saw is emitted before this reply
        assert.deepEqual(
          emitted(seen, 'handled').map((m) => m.data),
          ['trap', { link: b.id }, 'sync'],
          'the handler never got the EXIT message',
        );
        assert.equal(a.incarnation, 0);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[b.id, 'error: linked boom']]);
      });
    });

    slowTest("onExit does not replace a stateful actor's state", 30000, async () => {
      await withSup({}, async (sup) => {
        const seen = collector();
        const a = sup.spawn(trapper());
        const b = sup.spawn(crasher, { restart: 'temporary' });
        a.subscribe(seen);
        await a.call('trap');
        await a.call({ link: b.id });
        assert.equal(await a.call(5), 15);
        b.receive('boom');
        await waitFor(() => emitted(seen, 'exit-hook').length === 1, 10000, 'onExit');
        // onExit(id, reason, ctx) gets no state and returns nothing: the state must stay 15
        // (as with onIdle, whose return value is ignored)
        assert.equal(await a.call(1), 16);
      });
    });

    slowTest('without trapping, a linked crash stops the actor (onExit is not called)', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(trapper(), { restart: 'temporary' });
        const b = sup.spawn(crasher, { restart: 'temporary' });
        a.subscribe(seen);
        await a.call({ link: b.id });
        b.receive('boom');
        await waitFor(() => ev.exit.length === 2, 10000, 'both exits');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [
          [b.id, 'error: linked boom'],
          [a.id, 'linked: error: linked boom'],
        ]);
        assert.equal(emitted(seen, 'exit-hook').length, 0);
      });
    });
  });

  describe('onIdle with idleTimeoutMs', () => {
    const idler = () => ({
      init: () => 0,
      handle: (state) => state + 1,
      onIdle: (ctx) => {
        ctx.self.send('idle', ctx.state);
      },
    });

    k.needs('onIdle', 'fires after idleTimeoutMs without messages, and again for each idle period', 30000, async () => {
      await withSup({}, async (sup) => {
        const seen = collector();
        const a = sup.spawn(idler(), { idleTimeoutMs: 80 });
        a.subscribe(seen);
        assert.equal(await a.call('wake'), 1);
        await waitFor(() => emitted(seen, 'idle').length >= 3, 15000, 'three idle periods');
        assert.ok(emitted(seen, 'idle').every((m) => m.data === 1), 'onIdle sees the state; its result is not the state');
        assert.equal(await a.call('again'), 2);
      });
    });

    k.needs('onIdle', 'does not fire while messages keep arriving', 30000, async () => {
      await withSup({}, async (sup) => {
        const seen = collector();
        // it keeps the time of its last message: onIdle reports how long it had really been idle
        const a = sup.spawn(
          {
            init: () => ({ n: 0, last: Date.now() }),
            handle: (state) => ({ n: state.n + 1, last: Date.now() }),
            onIdle: (ctx) => ctx.self.send('idle', { n: ctx.state.n, idleFor: Date.now() - ctx.state.last }),
          },
          { idleTimeoutMs: 600 },
        );
        a.subscribe(seen);
        await a.call('wake');
        seen.items.length = 0;
        // a message every 15 ms for 1.5 s: never 600 ms without one, unless the machine stalls
        // this thread or the actor's for that long; then onIdle may fire, but only after 600 ms
        // without a message as the actor saw it
        for (let i = 0; i < 100; i++) {
          a.receive('tick');
          await sleep(15);
        }
        const { n } = await a.call('last');
        assert.equal(n, 102);
        for (const m of emitted(seen, 'idle')) {
          assert.ok(m.data.idleFor >= 598, `onIdle fired after ${m.data.idleFor} ms without a message (idleTimeoutMs 600), after message ${m.data.n}`);
        }
        // once messages stop, it fires
        await waitFor(() => emitted(seen, 'idle').length >= 1, 10000, 'an idle period after the traffic');
      });
    });

    k.needs('onIdle', 'fires for an actor that has not received any message yet', 30000, async () => {
      await withSup({}, async (sup) => {
        const seen = collector();
        const a = sup.spawn(idler(), { idleTimeoutMs: 80 });
        a.subscribe(seen);
        // "fires after that long without messages": a fresh actor has had no message either
        await waitFor(() => emitted(seen, 'idle').length >= 1, 5000, 'onIdle of a fresh actor');
        assert.equal(emitted(seen, 'idle')[0].data, 0);
      });
    });

    k.needs('onIdle', 'bad idleTimeoutMs values are TypeError/RangeError naming the option', 30000, async () => {
      await withSup({}, async (sup) => {
        await faults(() => sup.spawn(idler(), { idleTimeoutMs: 0 }), RangeError, /options\.idleTimeoutMs/);
        await faults(() => sup.spawn(idler(), { idleTimeoutMs: -5 }), RangeError, /options\.idleTimeoutMs/);
        await faults(() => sup.spawn(idler(), { idleTimeoutMs: Infinity }), RangeError, /options\.idleTimeoutMs/);
        await faults(() => sup.spawn(idler(), { idleTimeoutMs: '100' }), TypeError, /options\.idleTimeoutMs/);
        await faults(() => sup.spawn(idler(), { idleTimeoutMs: NaN }), TypeError, /options\.idleTimeoutMs/);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
      });
    });
  });

  // ---- 4. shutdown kinds -------------------------------------------------------------------

  /**
   * A behaviour for the shutdown tests: 'work' reports isCancelled, waits until a stop is
   * requested, then keeps working `msg.after` ms more; onTerminate emits the reason.
   */
  const patient = () => ({
    handle: async (state, msg, ctx) => {
      if (msg.op === 'spin') {
        ctx.self.send('spinning');
        for (;;);
      }
      ctx.self.send('working', ctx.isCancelled);
      while (!ctx.isCancelled) await new Promise((r) => setTimeout(r, 5));
      ctx.self.send('noticed', ctx.isCancelled);
      await new Promise((r) => setTimeout(r, msg.after ?? 0));
      ctx.self.send('finished');
      return state;
    },
    onTerminate: (reason, ctx) => {
      ctx.self.send('bye', reason);
    },
  });

  describe('shutdown kinds', () => {
    k.needs('onTerminate', "'brutal': onTerminate does not run (terminateActor and shutdown)", 30000, async () => {
      const seen = collector();
      await withSup({}, async (sup) => {
        const ev = record(sup);
        sup.subscribe(seen);
        const a = sup.spawn(patient(), { shutdown: 'brutal' });
        const b = sup.spawn(patient(), { shutdown: 'brutal' });
        a.receive({ op: 'work' });
        await waitFor(() => emitted(seen, 'working').length === 1, 10000, 'working');
        await sup.terminateActor(a.id, 'stop-a');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'stop-a']]);
        assert.equal(ev.exit[0].message.message.op, 'work', 'the in-flight message is reported');
        await sup.shutdown();
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'stop-a'], [b.id, 'shutdown']]);
      });
      assert.deepEqual(names(seen), ['working']);
    });

    k.needs('onTerminate', 'a number of ms: ctx.isCancelled becomes true in a long async handler, then onTerminate runs', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(patient(), { shutdown: 10000 });
        a.subscribe(seen);
        a.receive({ op: 'work', after: 50 });
        await waitFor(() => emitted(seen, 'working').length === 1, 10000, 'working');
        await within(sup.terminateActor(a.id, 'polite stop'), 20000, 'the polite stop');
        assert.deepEqual(
          seen.items.map((m) => [m.msg, m.data]),
          [
            ['working', false],
            ['noticed', true],
            ['finished', undefined],
            ['bye', 'polite stop'],
          ],
        );
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'polite stop']]);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive({ op: 'work' }), false);
      });
    });

    k.needs(['shutdown', 'onTerminate'], 'a number of ms: an actor hung in while(true){} is killed after the time, with the stop reason', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const a = sup.spawn(patient(), { shutdown: 200, restart: 'permanent' });
        const sibling = sup.spawn(worker);
        a.subscribe(seen);
        a.receive({ op: 'spin' });
        await waitFor(() => emitted(seen, 'spinning').length === 1, 10000, 'spinning');
        await within(sup.terminateActor(a.id, 'hang stop'), 15000, 'the stop of a hung actor');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'hang stop']]);
        assert.equal(emitted(seen, 'bye').length, 0, 'a hung actor cannot run onTerminate');
        await deadForGood(a);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive({ op: 'work' }), false);
        assert.match(await sibling.call('x'), /^actor-/);
      });
    });

    k.needs(['shutdown', 'onTerminate'], "'infinity' waits for a slow stop that a short number of ms cuts off", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        sup.subscribe(seen);
        const short = sup.spawn(patient(), { shutdown: 30 });
        const inf = sup.spawn(patient(), { shutdown: 'infinity' });
        short.receive({ op: 'work', after: 1500 });
        inf.receive({ op: 'work', after: 1500 });
        await waitFor(() => emitted(seen, 'working').length === 2, 10000, 'both working');
        await within(
          Promise.all([sup.terminateActor(short.id, 'cut'), sup.terminateActor(inf.id, 'waited')]),
          20000,
          'both stops',
        );
        const of = (id) => seen.items.filter((m) => m.from === id).map((m) => [m.msg, m.data]);
        assert.deepEqual(of(inf.id), [
          ['working', false],
          ['noticed', true],
          ['finished', undefined],
          ['bye', 'waited'],
        ]);
        assert.equal(of(short.id).some(([m]) => m === 'finished' || m === 'bye'), false, 'killed before finishing');
        assert.deepEqual(
          ev.exit.map((e) => [e.id, e.reason]).sort(),
          [
            [inf.id, 'waited'],
            [short.id, 'cut'],
          ].sort(),
        );
      });
    });

    k.needs('onTerminate', 'default with onTerminate: polite (isCancelled, onTerminate); a hang is still killed', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        sup.subscribe(seen);
        const a = sup.spawn(patient());
        a.receive({ op: 'work' });
        await waitFor(() => emitted(seen, 'working').length === 1, 10000, 'working');
        await within(sup.terminateActor(a.id), 20000, 'the polite stop');
        assert.deepEqual(names(seen), ['working', 'noticed', 'finished', 'bye']);
        assert.deepEqual(emitted(seen, 'bye')[0].data, 'terminated');

        // the default grace period (5000 ms) ends a hang too
        const h = sup.spawn(patient());
        h.receive({ op: 'spin' });
        await waitFor(() => emitted(seen, 'spinning').length === 1, 10000, 'spinning');
        await within(sup.terminateActor(h.id, 'hung'), 20000, 'the stop of a hung actor (default grace period)');
        // a pooled actor spinning synchronously is its worker's watchdog's before the grace ends
        const hung = k.pooled ? 'timeout' : 'hung';
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'terminated'], [h.id, hung]]);
      });
    });

    slowTest('default without onTerminate: brutal (the handler never sees isCancelled)', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        sup.subscribe(seen);
        const a = sup.spawn({
          init: () => 0,
          handle: async (state, msg, ctx) => {
            ctx.self.send('working');
            while (!ctx.isCancelled) await new Promise((r) => setTimeout(r, 5));
            ctx.self.send('noticed');
            return state;
          },
        });
        const b = sup.spawn(async (self, msg, ctx) => {
          self.send('working');
          while (!ctx.isCancelled) await new Promise((r) => setTimeout(r, 5));
          self.send('noticed');
        });
        const probe = sup.spawn(worker);
        a.receive('work');
        b.receive('work');
        await waitFor(() => emitted(seen, 'working').length === 2, 10000, 'both working');
        await within(sup.terminateActor(a.id), 10000, 'stop a');
        await within(sup.terminateActor(b.id), 10000, 'stop b');
        await hostDrained(probe); // a 'noticed' emitted before the kills would have been handled by now
        assert.deepEqual(names(seen), ['working', 'working']);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'terminated'], [b.id, 'terminated']]);
      });
    });

    k.needs(['shutdown', 'onTerminate'], 'bad shutdown values are TypeError/RangeError naming options.shutdown', 30000, async () => {
      await withSup({}, async (sup) => {
        const b = patient();
        await faults(() => sup.spawn(b, { shutdown: 'soft' }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: 'Brutal' }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: null }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: {} }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: true }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: NaN }), TypeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: -1 }), RangeError, /options\.shutdown/);
        await faults(() => sup.spawn(b, { shutdown: Infinity }), RangeError, /options\.shutdown/);
        const g = sup.createGroup({});
        await faults(() => g.spawn(b, { shutdown: 'later' }), TypeError, /options\.shutdown/);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
      });
    });
  });

  // ---- 5. onCrash policies -----------------------------------------------------------------

  /** A stateful actor for the policy tests: numbers add up; { boom } throws (async when asked). */
  const accumulator = () => ({
    init: () => ({ n: 0, token: Math.random() }),
    handle: async (state, msg) => {
      if (msg !== null && typeof msg === 'object' && msg.boom) {
        if (msg.async) await new Promise((r) => setTimeout(r, 5));
        throw new Error(`bad ${msg.boom}`);
      }
      return { ...state, n: state.n + msg };
    },
  });

  describe('onCrash policies', () => {
    slowTest("'resume' keeps the thread and state, drops the message; a failing call rejects", 30000, async () => {
      const calls = [];
      await withSup(
        {
          onCrash: (error, msg, info) => {
            calls.push({ error, msg, id: info.id, reason: info.reason, incarnation: info.incarnation });
            return 'resume';
          },
        },
        async (sup) => {
          const ev = record(sup);
          const a = sup.spawn(accumulator());
          const first = await a.call(1);
          a.receive({ boom: 'one' });
          a.receive(2);
          const r = await a.call(3);
          assert.deepEqual(r, { n: 6, token: first.token }, 'same state, same incarnation, message dropped');
          const err = await faults(() => a.call({ boom: 'two', async: true }), Error, /bad two/);
          assert.equal(err.constructor, Error);
          assert.deepEqual(await a.call(0), { n: 6, token: first.token });
          assert.equal(a.incarnation, 0);
          assert.equal(ev.exit.length + ev.restart.length + ev.error.length, 0);
          assert.deepEqual(
            calls.map((c) => [c.error instanceof Error, c.error.message, c.msg, c.id, c.reason, c.incarnation]),
            [
              [true, 'bad one', { boom: 'one' }, a.id, 'error: bad one', 0],
              [true, 'bad two', { boom: 'two', async: true }, a.id, 'error: bad two', 0],
            ],
          );
          assert.equal(a.getDiagnostics().value.restarts, 0);
        },
      );
    });

    slowTest("'resume' for a callback actor keeps its thread (globalThis survives)", 30000, async () => {
      await withSup({ onCrash: async () => 'resume' }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(worker);
        const t0 = await a.call('t');
        a.receive('boom');
        assert.equal(await a.call('t'), t0);
        await faults(() => a.call('boom'), Error, /boom/);
        assert.equal(await a.call('t'), t0);
        assert.equal(a.incarnation, 0);
        assert.equal(ev.exit.length, 0);
      });
    });

    slowTest('an async policy: the decision is awaited', 30000, async () => {
      const seen = [];
      await withSup(
        {
          onCrash: async (error, msg) => {
            await sleep(30);
            seen.push([error.message, msg]);
            return msg.boom === 'restart-me' ? 'restart' : 'resume';
          },
        },
        async (sup) => {
          const ev = record(sup);
          const a = sup.spawn(accumulator());
          await a.call(4);
          a.receive({ boom: 'keep' });
          assert.equal((await a.call(1)).n, 5);
          a.receive({ boom: 'restart-me' });
          await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
          assert.equal(a.incarnation, 1);
          assert.equal((await a.call(1)).n, 1);
          assert.deepEqual(seen, [
            ['bad keep', { boom: 'keep' }],
            ['bad restart-me', { boom: 'restart-me' }],
          ]);
          assert.equal(ev.exit[0].reason, 'error: bad restart-me');
        },
      );
    });

    slowTest("'restart' restarts only that actor, even in a one-for-all group", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const group = sup.createGroup({ strategy: 'one-for-all', onCrash: () => 'restart' });
        const a = group.spawn(worker);
        const b = group.spawn(worker);
        const [ta, tb] = [await a.call('t'), await b.call('t')];
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
        // the plan's stops come before its starts: a sibling stopped by it would have exited by now,
        // and b still answering from its first thread proves it was neither stopped nor restarted
        assert.notEqual(await a.call('t'), ta);
        assert.equal(await b.call('t'), tb);
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'error: boom']]);
        assert.deepEqual(ev.restart.map((e) => [e.id, e.incarnation]), [[a.id, 1]]);
        assert.equal(a.incarnation, 1);
        assert.equal(b.incarnation, 0);
      });
    });

    slowTest("'stop' ends the actor for good, even with restart: 'permanent'", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const group = sup.createGroup({ onCrash: () => 'stop' });
        const a = group.spawn(worker, { restart: 'permanent' });
        const b = group.spawn(worker);
        const tb = await b.call('t');
        await a.call('t');
        a.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'the exit');
        await deadForGood(a);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive('t'), false);
        assert.equal(await b.call('t'), tb, 'the sibling is untouched');
      });
    });

    slowTest("'restartAll' restarts the whole group once (incarnations of all siblings +1)", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const outside = sup.spawn(worker);
        const group = sup.createGroup({ strategy: 'one-for-one', onCrash: () => 'restartAll' });
        const refs = [group.spawn(worker), group.spawn(worker), group.spawn(worker)];
        const before = await Promise.all(refs.map((r) => r.call('t')));
        const tOut = await outside.call('t');
        refs[1].receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        // each answers from its second thread: the one plan has run to its end
        const after = await Promise.all(refs.map((r) => r.call('t')));
        after.forEach((t, i) => assert.notEqual(t, before[i]));
        assert.equal(ev.restart.length, 3, 'no over-spawning');
        assert.deepEqual(refs.map((r) => r.incarnation), [1, 1, 1]);
        assert.equal(await outside.call('t'), tOut);
        assert.equal(outside.incarnation, 0);
        assert.equal(ev.error.length, 0);
      });
    });

    slowTest("'stopAll' stops the whole group for good", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const outside = sup.spawn(worker);
        const group = sup.createGroup({ onCrash: async () => 'stopAll' }); // an async group policy
        const a = group.spawn(worker, { restart: 'permanent' });
        const b = group.spawn(worker, { restart: 'permanent' });
        await a.call('t');
        await b.call('t');
        const tOut = await outside.call('t');
        a.receive('boom');
        await waitFor(() => ev.exit.length === 2, 10000, 'both exits');
        await deadForGood(a);
        await deadForGood(b);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive('t'), false);
        assert.equal(b.receive('t'), false);
        assert.equal(await outside.call('t'), tOut);
        assert.equal(sup.getDiagnostics().value.activeActors, 1);
      });
    });

    slowTest("'escalate' at the root: the supervisor emits error with intensity_exceeded", 30000, async () => {
      await withSup({ onCrash: () => 'escalate' }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        await a.call('t');
        await b.call('t');
        a.receive('boom');
        await waitFor(() => ev.error.length === 1, 10000, 'the error event');
        assert.equal(ev.error[0].reason, 'intensity_exceeded');
        await waitFor(() => !a.receive('t') && !b.receive('t'), 10000, 'both stopped');
        assert.equal(ev.restart.length, 0);
        // the supervisor itself keeps working
        const c = sup.spawn((self, msg) => msg);
        assert.equal(await c.call('still here'), 'still here');
      });
    });

    slowTest("'escalate' from a nested group: the parent handles it as the group's failure", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const group = sup.createGroup({ onCrash: () => 'escalate' });
        const a = group.spawn(worker);
        const b = group.spawn(worker);
        await a.call('t');
        await b.call('t');
        a.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'the group restarted by the root');
        assert.deepEqual(ev.escalate.map((e) => e.id), [group.id]);
        assert.deepEqual([a.incarnation, b.incarnation], [1, 1]);
        assert.equal(ev.error.length, 0);
      });
    });

    slowTest('an invalid decision or a throwing policy: an error event, then the default strategy', 30000, async () => {
      const cases = ['banana', 'undefined', 'throw', 'reject'];
      await withSup(
        {
          retry: { max: Infinity }, // four restarts in a row must not trip the intensity limit
          onCrash: (error, msg) => {
            if (msg.boom === 'throw') throw new Error('policy broke');
            if (msg.boom === 'reject') return Promise.reject(new Error('policy rejected'));
            return msg.boom === 'undefined' ? undefined : msg.boom;
          },
        },
        async (sup) => {
          const ev = record(sup);
          const a = sup.spawn(accumulator());
          for (const [i, boom] of cases.entries()) {
            await a.call(1);
            a.receive({ boom });
            await waitFor(() => ev.restart.length === i + 1, 10000, `restart after ${boom}`);
            assert.equal(a.incarnation, i + 1, 'the default (transient: restart) applied');
            assert.equal((await a.call(2)).n, 2);
          }
          assert.equal(ev.error.length, cases.length);
          assert.match(ev.error[0].reason, /banana/);
          assert.match(ev.error[1].reason, /undefined/);
          assert.equal(ev.error[2].reason, 'onCrash threw');
          assert.equal(ev.error[2].error.message, 'policy broke');
          assert.equal(ev.error[3].reason, 'onCrash threw');
          assert.equal(ev.error[3].error.message, 'policy rejected');
          for (const e of ev.error) assert.equal(e.id, a.id);
        },
      );
    });

    slowTest('a group policy applies to its own children only', 30000, async () => {
      await withSup({ onCrash: () => 'resume' }, async (sup) => {
        const ev = record(sup);
        const group = sup.createGroup({ onCrash: () => 'stop' });
        const rootChild = sup.spawn(worker);
        const groupChild = group.spawn(worker, { restart: 'permanent' });
        const t = await rootChild.call('t');
        await groupChild.call('t');
        rootChild.receive('boom');
        groupChild.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'the group child exit');
        assert.equal(await rootChild.call('t'), t, 'resumed by the root policy');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[groupChild.id, 'error: boom']]);
        assert.equal(groupChild.receive('t'), false, 'stopped by the group policy');
      });
    });

    slowTest('a non-function onCrash is a TypeError naming it', 30000, async () => {
      for (const bad of ['resume', 5, null, {}, true]) {
        await faults(() => k.createSupervisor({ onCrash: bad }), TypeError, /onCrash/);
      }
      await withSup({}, async (sup) => {
        for (const bad of ['resume', 5, null, {}]) {
          await faults(() => sup.createGroup({ onCrash: bad }), TypeError, /onCrash/);
        }
        const g = sup.createGroup({});
        await faults(() => g.createGroup({ onCrash: 'stop' }), TypeError, /onCrash/);
      });
    });
  });

  // ---- 6. heartbeat watchdog ---------------------------------------------------------------

  describe('heartbeat watchdog (heartbeatMs)', () => {
    slowTest('an actor that heartbeats stays alive; when it stops it is killed with timeout and restarted', 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const seen = collector();
        const t0 = Date.now();
        const a = sup.spawn(
          {
            onStart: (ctx) => {
              globalThis.beat = setInterval(() => ctx.heartbeat(), 20);
              ctx.self.send('up');
            },
            handle: (state, msg) => {
              if (msg === 'stop beating') clearInterval(globalThis.beat);
              return state;
            },
          },
          { heartbeatMs: 500 },
        );
        a.subscribe(seen);
        await waitFor(() => emitted(seen, 'up').length === 1, 10000, 'up');
        // the actor's own beats show three watchdog periods passing (not a sleep on this thread)
        const beatsFrom = (d) => a.getDiagnostics().value.lastHeartbeatAt - d;
        const up = Date.now();
        await waitFor(() => beatsFrom(up) >= 1500, 20000, 'heartbeats spanning three watchdog periods');
        assert.equal(ev.exit.length, 0, 'a heartbeating actor is not killed');
        assert.equal(a.incarnation, 0);
        const d1 = a.getDiagnostics().value;
        assert.ok(d1.heartbeatCount > 5, `heartbeatCount grows (${d1.heartbeatCount})`);
        assert.equal(typeof d1.lastHeartbeatAt, 'number');
        assert.ok(d1.lastHeartbeatAt >= t0 && d1.lastHeartbeatAt <= Date.now() + 1, 'lastHeartbeatAt is a wall-clock time');
        await waitFor(() => a.getDiagnostics().value.heartbeatCount > d1.heartbeatCount, 10000, 'more heartbeats');
        const d2 = a.getDiagnostics().value;

        a.receive('stop beating');
        await waitFor(() => ev.restart.length === 1, 10000, 'the restart after the watchdog fired');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'timeout']]);
        assert.equal(a.incarnation, 1);
        await waitFor(() => emitted(seen, 'up').length === 2, 10000, 'up again');
        // the new incarnation beats again (its onStart) and stays alive for two watchdog periods
        const again = Date.now();
        await waitFor(() => beatsFrom(again) >= 1000, 20000, 'the new incarnation beating for two periods');
        assert.equal(ev.exit.length, 1);
        assert.ok(a.getDiagnostics().value.heartbeatCount > d2.heartbeatCount);
      });
    });

    slowTest("an actor spinning in while(true){} is killed with timeout (restart: 'temporary': not restarted)", 30000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const sibling = sup.spawn(worker);
        const a = sup.spawn(
          (self, msg, ctx) => {
            ctx.heartbeat();
            if (msg === 'spin') for (;;);
            return 'pong';
          },
          { heartbeatMs: 2000, restart: 'temporary' },
        );
        assert.equal(await a.call('ping'), 'pong');
        a.receive('spin');
        await waitFor(() => ev.exit.some((e) => e.id === a.id), 15000, 'the watchdog kill');
        const exit = ev.exit.find((e) => e.id === a.id);
        assert.equal(exit.reason, 'timeout');
        assert.equal(exit.message.message, 'spin', 'the in-flight message is reported');
        // a pooled sibling shares the spinning actor's worker, which is replaced
        assert.deepEqual(ev.exit.filter((e) => e.id !== a.id).map((e) => [e.id, e.reason]), k.pooled ? [[sibling.id, 'worker_lost']] : []);
        await deadForGood(a);
        assert.equal(ev.restart.filter((r) => r.id === a.id).length, 0);
        assert.equal(a.receive('ping'), false);
        assert.match(await sibling.call('x'), /^actor-/);
      });
    });

    slowTest('bad heartbeatMs values are TypeError/RangeError naming the option', 30000, async () => {
      await withSup({}, async (sup) => {
        await faults(() => sup.spawn(worker, { heartbeatMs: 0 }), RangeError, /options\.heartbeatMs/);
        await faults(() => sup.spawn(worker, { heartbeatMs: -1 }), RangeError, /options\.heartbeatMs/);
        await faults(() => sup.spawn(worker, { heartbeatMs: Infinity }), RangeError, /options\.heartbeatMs/);
        await faults(() => sup.spawn(worker, { heartbeatMs: '100' }), TypeError, /options\.heartbeatMs/);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
      });
    });
  });

  // ---- 7. per-actor heap limit -------------------------------------------------------------

  describe('per-actor heap limit (resourceLimits)', () => {
    const hog = (self, msg) => {
      globalThis.token ??= Math.random();
      if (msg === 'eat') {
        const hoard = [];
        for (;;) hoard.push(new Array(100000).fill({ n: hoard.length }));
      }
      return globalThis.token;
    };

    // Bun does not enforce Worker resourceLimits (DESIGN.md 5): nothing to assert there.
    slowTestUnless(runtime === 'bun' || (k.pooled && POOLED_REFUSES.resourceLimits), k.pooled && POOLED_REFUSES.resourceLimits ? POOLED_REFUSES.resourceLimits : 'Bun does not enforce Worker resourceLimits', 'an actor that allocates forever dies alone with out_of_memory and is restarted', 60000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const sibling = sup.spawn(worker);
        const a = sup.spawn(hog, { resourceLimits: { maxOldGenerationSizeMb: 32 } });
        const t0 = await a.call('t', { timeoutMs: 20000 });
        const ts = await sibling.call('t');
        a.receive('eat');
        await waitFor(() => ev.restart.length === 1, 40000, 'the restart after OOM');
        assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'out_of_memory']]);
        assert.equal(a.incarnation, 1);
        const t1 = await a.call('t', { timeoutMs: 20000 });
        assert.notEqual(t1, t0, 'a new thread');
        assert.equal(await sibling.call('t'), ts, 'the sibling kept its thread and answers');
        assert.equal(sibling.incarnation, 0);
      });
    });

    // Bun does not enforce Worker resourceLimits (DESIGN.md 5): nothing to assert there.
    slowTestUnless(runtime === 'bun' || (k.pooled && POOLED_REFUSES.resourceLimits), k.pooled && POOLED_REFUSES.resourceLimits ? POOLED_REFUSES.resourceLimits : 'Bun does not enforce Worker resourceLimits', "restart: 'temporary': an out-of-memory actor is not restarted", 60000, async () => {
      await withSup({}, async (sup) => {
        const ev = record(sup);
        const sibling = sup.spawn(worker);
        const a = sup.spawn(hog, { restart: 'temporary', resourceLimits: { maxOldGenerationSizeMb: 32 } });
        await a.call('t', { timeoutMs: 20000 });
        a.receive('eat');
        await waitFor(() => ev.exit.length === 1, 40000, 'the OOM exit');
        assert.equal(ev.exit[0].reason, 'out_of_memory');
        await deadForGood(a);
        assert.equal(ev.restart.length, 0);
        assert.equal(a.receive('t'), false);
        assert.match(await sibling.call('t'), /^actor-/);
      });
    });
  });
});
