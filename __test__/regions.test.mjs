// Shared regions (DESIGN.md 3.5, last bullet; 7): `sup.region(name, size)` makes a
// SharedArrayBuffer on the host; actors spawned with `regions: [name]` get it with
// `ctx.region(name)` for Atomics-based coordination. Grants, bad input, restarts, children,
// the first message racing the hand-over, and teardown.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, slowTest, waitFor, record, faults, exitsOnItsOwn, NO_LEAKS, forEachKind } from './harness.mjs';
import { runtimeStats } from '../index.mjs';

const CALL = { timeoutMs: 20000 };
const EXIT_FIXTURE = fileURLToPath(new URL('./fixtures/regions-exit.mjs', import.meta.url));

/** Adds 1 to word `msg.at` of region `msg.region` `msg.n` times; answers the word's value. */
const counting = (self, msg, ctx) => {
  const a = new Int32Array(ctx.region(msg.region));
  for (let i = 0; i < msg.n; i++) Atomics.add(a, msg.at ?? 0, 1);
  return Atomics.load(a, msg.at ?? 0);
};

/** Answers what `ctx.region(msg)` did: `{ bytes }` or `{ error, name }`. */
const probing = (self, msg, ctx) => {
  try {
    return { bytes: ctx.region(msg).byteLength };
  } catch (err) {
    return { error: err.message, name: err.name };
  }
};

forEachKind((k) => {
  describe('shared regions: Atomics across threads', () => {
    slowTest('two actors add 10,000 each to one counter: the host sees 20,000, and actors see the host', 30000, async () => {
      await k.withSup({ warmWorkers: 2 }, async (sup) => {
        const buf = sup.region('counter', 64);
        assert.ok(buf instanceof SharedArrayBuffer);
        assert.equal(buf.byteLength, 64);
        const host = new Int32Array(buf);
        Atomics.store(host, 1, 42); // written before the actors start
        const a = sup.spawn(counting, { regions: ['counter'] });
        const b = sup.spawn(counting, { regions: ['counter'] });
        const ends = await Promise.all([a, b].map((r) => r.call({ region: 'counter', n: 10000 }, CALL)));
        assert.equal(Math.max(...ends), 20000, 'the last to finish saw both');
        assert.equal(Atomics.load(host, 0), 20000);
        assert.equal(await a.call({ region: 'counter', n: 0, at: 1 }, CALL), 42, 'a host write before spawn');
        Atomics.store(host, 1, 7);
        assert.equal(await b.call({ region: 'counter', n: 0, at: 1 }, CALL), 7, 'a host write after spawn');
        assert.equal(await b.call({ region: 'counter', n: 3, at: 1 }, CALL), 10);
        assert.equal(Atomics.load(host, 1), 10);
      });
    });

    // Atomics.wait blocks the thread it runs on: an isolated actor's own, or a pool worker with every
    // actor on it (README, pooled actors: a wait is a synchronous block like any other).
    const blocks = k.pooled ? 'and its co-located neighbour runs only after the wait' : 'while its neighbour runs on';
    slowTest(`an actor blocked in Atomics.wait is woken by the host, ${blocks}`, 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const flags = new Int32Array(sup.region('flags', '1kb'));
        const waiter = sup.spawn(
          (self, msg, ctx) => {
            const f = new Int32Array(ctx.region('flags'));
            Atomics.store(f, 1, 1); // about to wait
            return Atomics.wait(f, 0, 0, 15000);
          },
          { regions: ['flags'] },
        );
        const neighbour = sup.spawn((self, msg, ctx) => Atomics.load(new Int32Array(ctx.region('flags')), 0), { regions: ['flags'] });
        assert.equal(await neighbour.call('warm', CALL), 0);
        const answer = waiter.call('wait', CALL);
        answer.catch(() => {}); // awaited below; a failure must not surface while we wait
        await waitFor(() => Atomics.load(flags, 1) === 1, 15000, 'the actor to wait');
        const seen = neighbour.call('during the wait', CALL);
        // isolated: the neighbour's thread answers while the waiter still waits (word 0 is 0);
        // pooled (one worker): the call waits behind the wait and sees the word the host set
        if (!k.pooled) assert.equal(await seen, 0);
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        assert.equal(await answer, 'ok');
        if (k.pooled) assert.equal(await seen, 1);
      });
    });

    slowTest('Atomics.waitAsync waits for the host without blocking the actor\'s neighbour', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const flags = new Int32Array(sup.region('flags', 64));
        const waiter = sup.spawn(
          async (self, msg, ctx) => {
            const f = new Int32Array(ctx.region('flags'));
            const w = Atomics.waitAsync(f, 0, 0, 15000);
            Atomics.store(f, 1, 1); // waiting from now on
            return w.async ? await w.value : w.value;
          },
          { regions: ['flags'] },
        );
        const neighbour = sup.spawn((self, msg, ctx) => Atomics.load(new Int32Array(ctx.region('flags')), 0), { regions: ['flags'] });
        const answer = waiter.call('wait', CALL);
        answer.catch(() => {});
        await waitFor(() => Atomics.load(flags, 1) === 1, 15000, 'the actor to wait');
        assert.equal(await neighbour.call('during the wait', CALL), 0, 'the neighbour answered while the waiter waited');
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        assert.equal(await answer, 'ok');
      });
    });

    const lost = k.pooled ? 'its worker is replaced (its neighbour exits worker_lost)' : 'its neighbour is untouched';
    slowTest(`an Atomics.wait past the actor's timeoutMs is a hang: the waiter exits timeout, ${lost}, both answer again`, 30000, async () => {
      await k.withSup({ warmWorkers: 1, retry: { max: 1, withinMs: 60000 } }, async (sup) => {
        const ev = record(sup, ['exit', 'restart', 'error']);
        sup.region('never', 64);
        const waiter = sup.spawn((self, msg, ctx) => (msg === 'wait' ? Atomics.wait(new Int32Array(ctx.region('never')), 0, 0) : msg), {
          regions: ['never'],
          timeoutMs: 300,
        });
        const neighbour = sup.spawn((self, msg) => msg);
        assert.equal(await neighbour.call('warm', CALL), 'warm');
        await assert.rejects(waiter.call('wait', CALL), /timeout/);
        await waitFor(() => ev.restart.length === (k.pooled ? 2 : 1), 15000, 'the restarts');
        assert.deepEqual(
          ev.exit.map((e) => [e.id, e.reason]).sort(),
          (k.pooled ? [[waiter.id, 'timeout'], [neighbour.id, 'worker_lost']] : [[waiter.id, 'timeout']]).sort(), // ids are not in spawn order
        );
        assert.equal(await waiter.call('again', CALL), 'again');
        assert.equal(await neighbour.call('again', CALL), 'again');
        assert.equal(ev.error.length, 0, 'a collateral worker_lost does not count toward intensity (retry.max 1)');
      });
    });
  });

  describe('shared regions: grants and bad input', () => {
    slowTest('an actor not granted a region is refused by ctx.region, naming the region and the actor', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        sup.region('a', 8);
        sup.region('b', 16);
        const none = sup.spawn(probing);
        const onlyA = sup.spawn(probing, { regions: ['a'] });
        const empty = sup.spawn(probing, { regions: [] });
        assert.deepEqual(await none.call('a', CALL), { error: `region "a" is not granted to ${none.id}`, name: 'Error' });
        assert.deepEqual(await empty.call('a', CALL), { error: `region "a" is not granted to ${empty.id}`, name: 'Error' });
        assert.deepEqual(await onlyA.call('a', CALL), { bytes: 8 });
        assert.deepEqual(await onlyA.call('b', CALL), { error: `region "b" is not granted to ${onlyA.id}`, name: 'Error' });
        assert.deepEqual(await onlyA.call('toString', CALL), { error: `region "toString" is not granted to ${onlyA.id}`, name: 'Error' });
        const typed = sup.spawn((self, msg, ctx) => {
          try {
            ctx.region(1);
          } catch (err) {
            return { error: err.message, name: err.name };
          }
        });
        assert.deepEqual(await typed.call('x', CALL), { error: 'ctx.region: name must be a string', name: 'TypeError' });
      });
    });

    slowTest('spawn refuses unknown region names and a regions option that is not a list of names', 30000, async () => {
      await k.withSup({}, async (sup) => {
        sup.region('a', 8);
        await faults(() => sup.spawn(probing, { regions: ['a', 'nope'] }), RangeError, /^options\.regions: unknown region "nope"$/);
        await faults(() => sup.spawn(probing, { regions: 'a' }), TypeError, /^options\.regions must be an array of region names$/);
        await faults(() => sup.spawn(probing, { regions: [1] }), TypeError, /^options\.regions must be an array of region names$/);
        await faults(() => sup.spawn(probing, { regions: null }), TypeError, /^options\.regions must be an array of region names$/);
        const other = k.createSupervisor({ warmWorkers: 0 });
        try {
          other.region('elsewhere', 8);
          await faults(() => sup.spawn(probing, { regions: ['elsewhere'] }), RangeError, /unknown region "elsewhere"/, 'regions belong to one supervisor');
        } finally {
          await other.shutdown();
        }
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0, 'nothing was spawned');
        const ok = sup.spawn(probing, { regions: ['a', 'a'] });
        assert.deepEqual(await ok.call('a', CALL), { bytes: 8 }, 'the supervisor keeps working');
      });
    });

    slowTest('region() validates name and size, returns the same buffer for the same name and size, and throws after shutdown', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 0 });
      try {
        for (const name of ['', 1, undefined, null, {}, Symbol('x')]) {
          await faults(() => sup.region(name, 8), TypeError, /^region: name must be a non-empty string$/, `name ${String(name)}`);
        }
        for (const size of [0, -1, 1.5, Infinity, -Infinity, '0b', '0.5b', 'lots', '12 parsecs', '', 2 * 1024 ** 3 + 1, '3gb']) {
          await faults(() => sup.region('r', size), RangeError, /^region: size/, `size ${size}`);
        }
        for (const size of [NaN, undefined, null, {}, [8], true]) {
          await faults(() => sup.region('r', size), TypeError, /^region: size/, `size ${String(size)}`);
        }
        const a = sup.region('r', 1024);
        assert.equal(sup.region('r', 1024), a, 'same name and size: the same buffer');
        assert.equal(sup.region('r', '1kb'), a, 'a size string means the same bytes');
        assert.equal(sup.region('r', '1 KiB'), a);
        await faults(() => sup.region('r', 2048), Error, /"r" already exists with 1024 bytes \(asked for 2048\)/);
        assert.equal(sup.region('r', 1024), a, 'a refused size leaves the region alone');
        assert.equal(sup.region('half', '1.5kb').byteLength, 1536, 'decimals as in memory.boxSize');
        assert.equal(sup.region('mib', '1mb').byteLength, 1024 * 1024);
        assert.notEqual(sup.region('other', 1024), a, 'another name: another buffer');
      } finally {
        await sup.shutdown();
      }
      await faults(() => sup.region('r', 1024), Error, /^region: supervisor sup-\d+ is shut down$/);
      await faults(() => sup.region('new', 8), Error, /is shut down/);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('shared regions: restarts and children', () => {
    slowTest('a restarted actor gets the same buffer: values written before the crash are still there', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      const ev = record(sup);
      try {
        const host = new Int32Array(sup.region('state', 8));
        const actor = sup.spawn(
          (self, msg, ctx) => {
            const a = new Int32Array(ctx.region('state'));
            if (msg === 'crash') throw new Error('boom');
            return Atomics.add(a, 0, msg) + msg;
          },
          { regions: ['state'] },
        );
        assert.equal(await actor.call(5, CALL), 5);
        actor.receive('crash');
        await waitFor(() => ev.restart.length === 1, 15000, 'restart');
        assert.equal(actor.incarnation, 1);
        assert.equal(ev.exit[0].reason, 'error: boom');
        assert.equal(await actor.call(1, CALL), 6, 'the new incarnation sees the value written before the crash');
        assert.equal(Atomics.load(host, 0), 6);
        // killed from the host this time (a different exit path), still the same memory
        await actor.terminate();
        const again = sup.spawn(counting, { regions: ['state'] });
        assert.equal(await again.call({ region: 'state', n: 1 }, CALL), 7, 'regions outlive the actors that use them');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest(`ctx.spawn grants a child (${k.kind}) a region its parent has, and refuses one it has not`, 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const host = new Int32Array(sup.region('shared', 8));
        sup.region('secret', 8);
        const parent = sup.spawn(
          async (self, msg, ctx) => {
            try {
              const child = await ctx.spawn(
                (self2, m, c) => {
                  try {
                    const a = new Int32Array(c.region(m));
                    return { value: Atomics.add(a, 0, 1) + 1 };
                  } catch (err) {
                    return { error: err.message };
                  }
                },
                msg.regions === undefined ? { kind: msg.kind } : { kind: msg.kind, regions: msg.regions },
              );
              return { id: child.id, answer: await ctx.call(child.id, msg.use, { timeoutMs: 15000 }) };
            } catch (err) {
              return { refused: `${err.constructor.name}: ${err.message}` };
            }
          },
          { regions: ['shared'] },
        );
        // (actor code sees no outer scope: the child's kind travels in the message)
        const granted = await parent.call({ kind: k.kind, regions: ['shared'], use: 'shared' }, CALL);
        assert.deepEqual(granted.answer, { value: 1 });
        assert.equal(sup.getDiagnostics({ actors: true }).value.actors.find((a) => a.id === granted.id)?.kind, k.kind, 'a child of the suite\'s kind');
        assert.equal(Atomics.load(host, 0), 1, 'the child wrote the host-visible region');
        const notAsked = await parent.call({ kind: k.kind, use: 'shared' }, CALL);
        assert.deepEqual(notAsked.answer, { error: `region "shared" is not granted to ${notAsked.id}` }, 'a child gets regions only when asked');
        assert.deepEqual(await parent.call({ kind: k.kind, regions: ['shared', 'secret'], use: 'secret' }, CALL), {
          refused: `RangeError: ctx.spawn: options.regions: "secret" is not granted to ${parent.id}`,
        });
        assert.deepEqual(await parent.call({ kind: k.kind, regions: ['ghost'], use: 'ghost' }, CALL), {
          refused: 'RangeError: options.regions: unknown region "ghost"',
        });
        assert.deepEqual(await parent.call({ kind: k.kind, regions: 'shared', use: 'shared' }, CALL), {
          refused: 'TypeError: options.regions must be an array of region names',
        });
        // an actor with no regions can grant none
        const bare = sup.spawn(async (self, msg, ctx) => {
          try {
            await ctx.spawn((s, m) => m, { kind: msg, regions: ['shared'] }); // msg: the kind
            return 'spawned';
          } catch (err) {
            return `${err.constructor.name}: ${err.message}`;
          }
        });
        assert.equal(await bare.call(k.kind, CALL), `RangeError: ctx.spawn: options.regions: "shared" is not granted to ${bare.id}`);
      });
    });
  });

  describe('shared regions: the first message never races the hand-over', () => {
    for (const warmWorkers of [2, 0]) {
      slowTest(`a message sent right after spawn sees the region (warmWorkers: ${warmWorkers})`, 60000, async () => {
        await k.withSup({ warmWorkers, maxActors: 100 }, async (sup) => {
          const host = new Int32Array(sup.region('r', 64));
          Atomics.store(host, 0, 99);
          const refs = [];
          const firsts = [];
          for (let i = 0; i < 8; i++) {
            // a plain callback (ready without a turn of the event loop), a module-like async
            // start (a behaviour with onStart) and a stateful init
            const cb = sup.spawn((self, msg, ctx) => Atomics.load(new Int32Array(ctx.region('r')), 0), { regions: ['r'] });
            const beh = sup.spawn(
              {
                init: () => 0,
                onStart: (ctx) => {
                  Atomics.add(new Int32Array(ctx.region('r')), 1, 1);
                },
                handle: (state, msg, ctx) => Atomics.load(new Int32Array(ctx.region('r')), 0),
              },
              { regions: ['r'] },
            );
            firsts.push(cb.call('first', CALL), beh.call('first', CALL));
            refs.push(cb, beh);
          }
          // and a fire-and-forget first message that writes
          const writer = sup.spawn((self, msg, ctx) => Atomics.add(new Int32Array(ctx.region('r')), 2, msg), { regions: ['r'] });
          assert.equal(writer.receive(5), true);
          assert.deepEqual(await Promise.all(firsts), Array(16).fill(99));
          assert.equal(Atomics.load(host, 1), 8, 'every onStart saw the region');
          await waitFor(() => Atomics.load(host, 2) === 5, 15000, 'the writer');
          assert.equal(refs.every((r) => r.incarnation === 0), true, 'no actor crashed');
        });
      });
    }

    // An isolated incarnation gets its regions in one postMessage to its thread; a pool worker gets
    // each region once, for every pooled actor it will ever run.
    const perIncarnation = k.pooled ? 'one per pool worker and region' : 'one per incarnation that has them';
    slowTest(`regions cost ${perIncarnation}, and none for actors without`, 30000, async () => {
      let posts = 0;
      const original = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (...args) {
        posts++;
        return original.apply(this, args);
      };
      const sup = k.createSupervisor({ warmWorkers: 1 });
      const ev = record(sup);
      try {
        sup.region('r', 8);
        const plain = sup.spawn(probing);
        assert.equal((await plain.call('r', CALL)).name, 'Error');
        assert.equal(posts, 0, 'no regions, no postMessage');
        const granted = sup.spawn(counting, { regions: ['r'] });
        assert.equal(await granted.call({ region: 'r', n: 1 }, CALL), 1);
        assert.equal(posts, 1);
        granted.receive({ region: 'r', n: 1, at: 99 }); // out of range index: the handler throws
        await waitFor(() => ev.restart.length === 1, 15000, 'restart');
        assert.equal(await granted.call({ region: 'r', n: 1 }, CALL), 2);
        assert.equal(posts, k.pooled ? 1 : 2, k.pooled ? 'the worker has the region already' : 'one per incarnation');
        const second = sup.spawn(counting, { regions: ['r'] });
        assert.equal(await second.call({ region: 'r', n: 1 }, CALL), 3);
        assert.equal(posts, k.pooled ? 1 : 3, k.pooled ? 'a co-located actor granted the same region' : 'one per incarnation');
      } finally {
        Worker.prototype.postMessage = original;
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('shared regions: teardown', () => {
    slowTest('a process using regions (with a restart and an Atomics.wait) exits on its own after shutdown', 60000, async () => {
      const report = await exitsOnItsOwn(EXIT_FIXTURE, { args: [k.kind] });
      assert.deepEqual(report.answers.slice(0, 2), [1000, 2000]);
      assert.notEqual(report.answers[2], 'timed-out');
      assert.equal(report.answers[3], 2000);
      assert.deepEqual(report.stats, { threads: 0, ports: 0, actors: 0 });
    });
  });
});
