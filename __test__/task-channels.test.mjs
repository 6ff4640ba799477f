import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { describe, slowTest, waitFor, withSup, exitsOnItsOwn } from './harness.mjs';

// Long task inputs and results (strings, JSON texts) travel beside the task's call: through a
// side channel per task thread (lib/tasks/channel.js; Bun's default) or in parcels (Node's).
// Both paths run here on both runtimes; spies on the host's end show which one a test took.
const require = createRequire(import.meta.url);
const native = require('../lib/native.js');
const { settings, Mailbox, NOT_HERE, GONE } = require('../lib/tasks/channel.js');
const { pools } = require('../lib/tasks/pool.js');

const T = 90000;
const KiB = 1024;
const noParcels = (label) => waitFor(() => native.parcelCount() === 0, 10000, `${label}: no parcel left`);

/** A long string of every kind of code unit: ASCII, Latin-1, BMP, astral pairs, lone surrogates. */
function mixed(n, seed = 0) {
  const parts = ['a', 'é', 'ÿ', '€', '漢', '😀', '\ud800', '\udfff', '\u0000', '"\\\n'];
  const out = [];
  let len = 0;
  for (let i = seed; len < n; i++) {
    const p = parts[i % parts.length] + String(i % 997);
    out.push(p);
    len += p.length;
  }
  return out.join('');
}

/** Counts what the host does on either path while `fn` runs. */
async function spied(fn) {
  const seen = { posted: 0, taken: 0, parcels: 0, closed: new Set() };
  const { post, take, close } = Mailbox.prototype;
  const parcelPut = native.parcelPut;
  Mailbox.prototype.post = function (v) {
    seen.posted++;
    return post.call(this, v);
  };
  Mailbox.prototype.take = function (id) {
    seen.taken++;
    return take.call(this, id);
  };
  Mailbox.prototype.close = function () {
    seen.closed.add(this);
    return close.call(this);
  };
  native.parcelPut = (...args) => {
    seen.parcels++;
    return parcelPut(...args);
  };
  try {
    await fn(seen);
  } finally {
    Object.assign(Mailbox.prototype, { post, take, close });
    native.parcelPut = parcelPut;
  }
  return seen;
}

/** Runs `fn(sup, pool)` with task pools sending long payloads through side channels or not. */
async function withPath(channels, config, fn) {
  const before = settings.channels;
  settings.channels = channels;
  let pool;
  try {
    await withSup(config, async (sup) => {
      await sup.task((x) => x, 0); // starts the pool (with the path chosen above)
      pool = pools.get(sup);
      assert.equal(pool.channels, channels);
      await fn(sup, pool);
    });
  } finally {
    settings.channels = before;
  }
  // after shutdown: every side channel closed, none waiting, no parcel left
  assert.equal(pool.lingering.size, 0);
  for (const t of pool.threads) assert.equal(t.chan, null);
  await noParcels('after shutdown');
  return pool;
}

/**
 * That the path chosen was the one taken (the host's side of it). `fallback`: tasks sent again
 * to a restarted thread before it has a channel go in parcels.
 */
function tookPath(channels, seen, pool, fallback = false) {
  if (channels) {
    assert.ok(seen.posted > 0, 'long inputs were posted on side channels');
    assert.ok(seen.taken > 0, 'long results were taken from side channels');
    if (!fallback) assert.equal(seen.parcels, 0, 'no parcel was made by the host');
    assert.ok(pool.chanGen > 0);
  } else {
    assert.equal(seen.posted + seen.taken, 0, 'no side channel was used');
    assert.ok(seen.parcels > 0, 'long inputs went in parcels');
    assert.equal(pool.chanGen, 0);
  }
}

for (const channels of [true, false]) {
  describe(`tasks: long payloads ${channels ? 'through side channels' : 'in parcels'}`, () => {
    slowTest('long strings of every kind of code unit, JSON and bytes go in and come back intact, with and without transfer', T, async () => {
      let pool;
      const seen = await spied(async () => {
        pool = await withPath(channels, { memory: { poolSize: 4, boxSize: '1mb' }, tasks: { maxThreads: 2 } }, async (sup, pool) => {
          const ascii = 'x'.repeat(1024 * KiB - 7) + 'tail!!!';
          const latin = 'é'.repeat(40000) + 'ÿ';
          const wide = mixed(512 * KiB);
          const lone = '\udc00' + 'y'.repeat(70000) + '\ud83d';
          for (const transfer of [false, true]) {
            for (const s of [ascii, latin, wide, lone]) {
              const back = await sup.task((x) => x, s, { transfer });
              assert.ok(back === s, `the same code units came back (${s.length} units, transfer ${transfer})`);
              const probe = await sup.task((x) => [x.length, x.charCodeAt(0), x.charCodeAt(x.length - 1), x.slice(1000, 1040)], s, { transfer });
              assert.deepEqual(probe, [s.length, s.charCodeAt(0), s.charCodeAt(s.length - 1), s.slice(1000, 1040)]);
            }
            // around the thresholds (a side channel's, a parcel's), both ways
            for (const n of [1023, 1024, 32 * KiB - 1, 32 * KiB]) {
              const s = '\ud83d'.repeat(1) + 'é'.repeat(n - 2) + '\u0000';
              assert.ok((await sup.task((x) => x, s, { transfer })) === s, `${n} units`);
              assert.ok((await sup.task(([k, c]) => c.repeat(k), [n, 'ÿ'], { transfer })) === 'ÿ'.repeat(n));
            }
            // a result made in the thread, longer than its input
            const made = await sup.task((n) => {
              let out = '';
              for (let i = 0; out.length < n; i++) out += String.fromCharCode(0x20 + (i % 0x7fe0));
              return out;
            }, 300 * KiB, { transfer });
            let expected = '';
            for (let i = 0; expected.length < 300 * KiB; i++) expected += String.fromCharCode(0x20 + (i % 0x7fe0));
            assert.ok(made === expected);
            // JSON in and out (≈ 1 MiB of text), content compared
            const rows = Array.from({ length: 20000 }, (_, i) => ({ i, name: `row ${i} é 漢 \ud800`, ok: i % 3 === 0, tags: ['a', String(i)] }));
            const doubled = await sup.task((r) => r.map((x) => ({ ...x, i: x.i * 2 })), rows, { transfer });
            assert.deepEqual(doubled, rows.map((x) => ({ ...x, i: x.i * 2 })));
            assert.deepEqual(await sup.task((n) => Array.from({ length: n }, (_, i) => ({ i, s: `r${i}` })), 30000, { transfer }), Array.from({ length: 30000 }, (_, i) => ({ i, s: `r${i}` })));
          }
          // bytes with transfer (through boxes and bytes parcels, whichever path strings take)
          const bytes = new Uint8Array(1024 * KiB);
          for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
          const sum = await sup.task((u) => {
            let h = 0;
            for (let i = 0; i < u.length; i++) h = (h * 31 + u[i]) >>> 0;
            return [u.length, h];
          }, bytes, { transfer: true });
          let h = 0;
          for (let i = 0; i < bytes.length; i++) h = (h * 31 + bytes[i]) >>> 0;
          assert.deepEqual(sum, [bytes.length, h]);
          const out = await sup.task((n) => {
            const u = new Uint8Array(n);
            for (let i = 0; i < n; i++) u[i] = (i * 13) & 0xff;
            return u;
          }, 1024 * KiB - 5, { transfer: true });
          assert.equal(out.byteLength, 1024 * KiB - 5);
          for (let i = 0; i < out.length; i += 4093) assert.equal(out[i], (i * 13) & 0xff);
          assert.equal(out[out.length - 1], ((out.length - 1) * 13) & 0xff);
          assert.equal(sup.getDiagnostics().value.memoryPool.boxesInUse, 0);
          await noParcels('after the tasks');
        });
      });
      tookPath(channels, seen, pool);
      assert.equal(seen.closed.size, pool.chanGen, 'every side channel opened was closed');
    });

    slowTest('many tasks in flight, each with its own long input, each get their own result', T, async () => {
      let pool;
      const seen = await spied(async () => {
        pool = await withPath(channels, { memory: { poolSize: 4, boxSize: '256kb' }, tasks: { maxThreads: 2 } }, async (sup, pool) => {
          const base = mixed(80 * KiB);
          const input = (i) => `${i}:${base.slice(i % 997)}`;
          const jobs = [];
          for (let i = 0; i < 160; i++) {
            const s = input(i);
            if (i % 4 === 3) jobs.push(sup.task((x) => ({ n: Number(x.slice(0, x.indexOf(':'))), echo: x }), s)); // a long JSON result
            else jobs.push(sup.task((x) => `${x}|${x.length}`, s, { transfer: i % 4 === 1 }));
          }
          const results = await Promise.all(jobs);
          results.forEach((r, i) => {
            const s = input(i);
            if (i % 4 === 3) assert.deepEqual(r, { n: i, echo: s }, `task ${i}`);
            else assert.ok(r === `${s}|${s.length}`, `task ${i} got its own result`);
          });
          await noParcels('after the tasks in flight');
        });
      });
      tookPath(channels, seen, pool);
    });

    slowTest('cancelled, timed-out and killed tasks with long inputs: the others get theirs, nothing stays behind', T, async () => {
      let pool;
      const seen = await spied(async (live) => {
        pool = await withPath(channels, { tasks: { maxThreads: 2 } }, async (sup, pool) => {
          const hang = (s) => {
            if (s.startsWith('hang')) for (;;);
            return `${s}|${s.length}`; // a long result
          };
          const long = (tag, i) => `${tag}${String(i).padStart(4, '0')}${mixed(50 * KiB, i)}`;
          for (let round = 0; round < 3; round++) {
            const ac = new AbortController();
            const doomed = [];
            const kept = [];
            for (let i = 0; i < 12; i++) {
              // hanging tasks are running (or queued) when the abort comes; the rest queue behind
              doomed.push(sup.task(hang, long('hang', i), { signal: ac.signal }));
              kept.push(sup.task(hang, long('okay', i)));
            }
            // bytes in and out with transfer, among them
            const bytesOf = (i) => Uint8Array.from({ length: 300 * KiB + i }, (_, k) => (k * 7 + i) & 0xff);
            const reversed = Array.from({ length: 4 }, (_, i) => sup.task((u) => u.slice().reverse(), bytesOf(i), { transfer: true }));
            await waitFor(() => pool.running > 0, 10000, 'a task to run');
            ac.abort(new Error(`stop ${round}`));
            for (const p of doomed) await assert.rejects(p, (err) => err.name === 'AbortError' && err.cause?.message === `stop ${round}`);
            const got = await Promise.all(kept);
            got.forEach((r, i) => assert.ok(r === `${long('okay', i)}|${long('okay', i).length}`, `kept task ${i}`));
            (await Promise.all(reversed)).forEach((r, i) => assert.deepEqual(r, bytesOf(i).reverse(), `bytes task ${i}`));
            // a timeout kills the thread of a task that is reading its long input
            await assert.rejects(sup.task(hang, long('hang', 99), { timeoutMs: 100 }), /timed out/);
            assert.ok((await sup.task(hang, long('okay', 7))) === `${long('okay', 7)}|${long('okay', 7).length}`);
            await noParcels(`after round ${round}`);
          }
          assert.ok(sup.tasks.stats().killed >= 3);
          if (channels) {
            // each killed thread's channel was closed with it; every live thread has its own
            await waitFor(() => [...pool.threads].every((t) => !t.ready || t.chan !== null), 10000, 'channels of the new threads');
            const open = [...pool.threads].filter((t) => t.chan !== null).map((t) => t.chan);
            assert.equal(new Set(open.map((c) => c.gen)).size, open.length);
            assert.equal(live.closed.size, pool.chanGen - open.length, 'the channels of killed threads were closed');
          }
        });
      });
      tookPath(channels, seen, pool);
      assert.equal(seen.closed.size, pool.chanGen, 'every side channel opened was closed');
    });

    slowTest('a thread replaced after a crash (while running, or while idle) gets a new channel; tasks sent before it reach the new one', T, async () => {
      let pool;
      const seen = await spied(async () => {
        pool = await withPath(channels, { tasks: { maxThreads: 1 } }, async (sup, pool) => {
          const long = (i) => `${String(i).padStart(3, '0')}${mixed(40 * KiB, i)}`;
          const echo = (s) => s;
          // short tasks first, so the pool queues the next ones in the thread's mailbox behind a
          // running one (they then reach the incarnation started after the crash)
          for (let i = 0; i < 20; i++) assert.ok((await sup.task(echo, long(i))) === long(i));
          const crash = sup.task((s) => process.exit(s.length % 7), long(1));
          const after = Array.from({ length: 6 }, (_, i) => sup.task(echo, long(100 + i)));
          await assert.rejects(crash, /process\.exit|exit/i);
          (await Promise.all(after)).forEach((r, i) => assert.ok(r === long(100 + i), `task ${i} after the crash`));
          const gen = pool.chanGen;
          // a crash while idle (a stray timer): the host learns of it when the next task comes back as lost
          const t = [...pool.threads][0];
          const worker = () => sup._entries.get(t.num)?.thread?.worker;
          const before = worker();
          assert.equal(await sup.task(() => setTimeout(() => { throw new Error('stray'); }, 0) && 1), 1);
          await waitFor(() => worker() !== undefined && worker() !== before, 10000, 'the thread to be restarted');
          for (let i = 0; i < 5; i++) assert.ok((await sup.task(echo, long(200 + i))) === long(200 + i));
          if (channels) assert.ok(pool.chanGen > gen, 'the restarted thread got a channel of its own');
          await noParcels('after the crashes');
        });
      });
      tookPath(channels, seen, pool, true);
      assert.equal(seen.closed.size, pool.chanGen, 'every side channel opened was closed');
    });

    slowTest('neither idle task threads nor their channels keep the process alive', T, async () => {
      const report = await exitsOnItsOwn(new URL('./fixtures/task-channels-then-exit.mjs', import.meta.url).pathname, { args: [channels ? '1' : '0'], timeoutMs: 30000 });
      assert.deepEqual(report, { len: 100001, back: 70001, last: '!', rows: 5000, r: 4999 });
    });
  });
}

describe('tasks: side channel payloads that reach the thread after their call', () => {
  slowTest('a thread waits for its channel and for each payload; a task killed while it waits leaves nothing behind', T, async () => {
    settings.delayMs = 15; // the host posts channels and payloads this much after the calls naming them
    let pool;
    try {
      const seen = await spied(async () => {
        pool = await withPath(true, { tasks: { maxThreads: 2 } }, async (sup, pool) => {
          const long = (i) => `${i}:${mixed(20 * KiB, i)}`;
          for (let i = 0; i < 6; i++) assert.ok((await sup.task((s) => s, long(i))) === long(i), `task ${i}`);
          const many = await Promise.all(Array.from({ length: 40 }, (_, i) => sup.task((s) => `${s.length}:${s}`, long(i))));
          many.forEach((r, i) => assert.ok(r === `${long(i).length}:${long(i)}`, `task ${i} in flight`));
          // killed while it waits for its payload: the next task on the replaced thread is fine
          settings.delayMs = 2000;
          await assert.rejects(sup.task((s) => s.length, long(1), { timeoutMs: 50 }), /timed out/);
          settings.delayMs = 15;
          assert.ok((await sup.task((s) => s, long(2))) === long(2));
          const gens = [...pool.threads].map((t) => t.chan?.gen);
          assert.ok(gens.every((g) => g !== undefined), 'every thread has a channel');
          assert.equal(sup.tasks.stats().killed, 1);
        });
      });
      tookPath(true, seen, pool);
      assert.equal(seen.closed.size, pool.chanGen, 'every side channel opened was closed');
    } finally {
      settings.delayMs = 0;
    }
  });
});

describe('tasks: side channel mailboxes', () => {
  slowTest('a payload is taken whether it came before or after its call; one that will not come is GONE', 30000, async () => {
    const { port1, port2 } = new MessageChannel();
    const a = new Mailbox(port1, 1, 0);
    const b = new Mailbox(port2, 1, 0);
    try {
      // came before
      const id1 = a.post('one');
      assert.equal(b.take(id1), 'one');
      // not yet: taken later, from the port's events
      assert.equal(b.take(2), NOT_HERE);
      const later = b.wait(2);
      setTimeout(() => a.post('two'), 5);
      assert.equal(await later, 'two');
      // payloads nobody took are dropped when a later one is taken
      a.post('three');
      const id4 = a.post('four');
      assert.equal(b.take(id4), 'four');
      assert.equal(b.take(3), GONE, 'an earlier payload is gone once a later one was taken');
      // a later payload seen first means the one asked for is not coming
      a.post('five');
      const id6 = a.post('six');
      assert.equal(b.take(id6 + 1), NOT_HERE); // (five and six were dropped on the way)
      const id7 = a.post('seven');
      assert.equal(id7, 7);
      const missing = b.wait(8);
      const skipped = b.wait(9);
      a.post('eight');
      a.post('nine');
      assert.equal(await missing, 'eight');
      assert.equal(await skipped, 'nine');
      a.next = 10; // 10 is never posted
      const ten = b.wait(10);
      a.post('eleven');
      assert.equal(await ten, GONE);
      assert.equal(b.take(11), 'eleven');
      // one awaited, then taken past synchronously before its event came: the wait still gets it
      const w12 = b.wait(12);
      a.post('twelve');
      a.post('thirteen');
      assert.equal(b.take(13), 'thirteen');
      assert.equal(await w12, 'twelve');
      // both directions
      const back = b.post('back');
      assert.equal(a.take(back), 'back');
      // closing while a payload is awaited: it is GONE; closing is once
      const pending = b.wait(99);
      let closed = 0;
      assert.equal(b.closeWhenIdle(() => closed++), false, 'not while a payload is awaited');
      b.close();
      assert.equal(await pending, GONE);
      assert.equal(closed, 1);
      b.close();
      assert.equal(closed, 1);
      assert.equal(b.take(1), GONE);
      assert.equal(await b.wait(1), GONE);
      assert.equal(a.closeWhenIdle(() => closed++), true);
      assert.equal(closed, 1, 'nothing awaited: closed at once, without the callback');
    } finally {
      a.close();
      b.close();
    }
  });
});
