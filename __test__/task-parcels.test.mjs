import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, slowTest, faults, waitFor, withSup } from './harness.mjs';

// Large task inputs and results travel as parcels (lib/tasks/transfer.js): strings, and values
// whose JSON text is long, copied as UTF-16 code units through process memory, with or without
// `transfer`. Bytes results with `transfer` come back as the caller's own buffer (moved or copied).
const native = createRequire(import.meta.url)('../lib/native.js'); // parcelCount
const T = 60000;
const MiB = 1024 * 1024;
const noParcels = (label) => waitFor(() => native.parcelCount() === 0, 10000, `${label}: no parcel left`);

/** A long string of every kind of code unit: ASCII, Latin-1, BMP, astral pairs, lone surrogates. */
function mixed(n) {
  const parts = ['a', 'é', 'ÿ', '€', '漢', '😀', '\ud800', '\udfff', '\u0000', '"\\\n'];
  let s = '';
  for (let i = 0; s.length < n; i++) s += parts[i % parts.length] + String(i % 97);
  return s;
}

describe('tasks: large inputs and results as parcels', () => {
  slowTest('a long string input round-trips exactly (non-ASCII, astral pairs, lone surrogates), with and without transfer', T, async () => {
    await withSup({ tasks: { maxThreads: 1 } }, async (sup) => {
      const ascii = 'x'.repeat(MiB);
      const latin = 'é'.repeat(40000) + 'ÿ';
      const wide = mixed(MiB / 2);
      const echo = (s) => s;
      for (const s of [ascii, latin, wide]) {
        const back = await sup.task(echo, s);
        assert.equal(back.length, s.length);
        assert.ok(back === s, 'the same code units came back');
        assert.equal(await sup.task((x) => x.length, s), s.length);
      }
      // lone surrogates at the ends and code unit by code unit
      const lone = '\udc00' + 'y'.repeat(70000) + '\ud83d';
      assert.deepEqual(await sup.task((x) => [x.charCodeAt(0), x.charCodeAt(x.length - 1), x.length], lone), [0xdc00, 0xd83d, lone.length]);
      assert.ok((await sup.task(echo, lone)) === lone);
      // a string read from a parcel (on Node: a string over the parcel's own memory) outlives
      // the parcel: the task keeps it, its job ends and drops the parcel, a later task reads it
      assert.equal(await sup.task((x) => { globalThis.__kept = x; return x.length; }, wide), wide.length);
      await noParcels('after the keeping task');
      const tail = await sup.task(() => {
        for (let i = 0; i < 20; i++) new Array(100000).fill({}); // some garbage for a collection
        return globalThis.__kept.slice(-5000) + globalThis.__kept.slice(0, 5000);
      });
      assert.ok(tail === wide.slice(-5000) + wide.slice(0, 5000), 'unchanged after its parcel was dropped');
      // just below and at the threshold
      for (const n of [32 * 1024 - 1, 32 * 1024]) assert.ok((await sup.task(echo, 'é'.repeat(n))) === 'é'.repeat(n));
      await noParcels('after the string tasks');
    });
    await withSup({ memory: { poolSize: 2, boxSize: '64kb' }, tasks: { maxThreads: 1 } }, async (sup) => {
      // with transfer a long string needs no box (it is larger than one here)
      const wide = mixed(MiB / 4);
      assert.ok((await sup.task((s) => s, wide, { transfer: true })) === wide);
      assert.equal(await sup.task((s) => s.length, wide, { transfer: true }), wide.length);
      assert.equal(sup.getDiagnostics().value.memoryPool.boxesInUse, 0);
      await noParcels('after the transfer tasks');
    });
  });

  slowTest('a large JSON input and result round-trip, and keep the codec refusal rules', T, async () => {
    await withSup({ tasks: { maxThreads: 1 } }, async (sup) => {
      const rows = Array.from({ length: 20000 }, (_, i) => ({ i, name: `row ${i} é 漢 \ud800`, ok: i % 2 === 0, tags: ['a', 'b'] }));
      const doubled = await sup.task((r) => r.map((x) => ({ ...x, i: x.i * 2 })), rows);
      assert.equal(doubled.length, rows.length);
      assert.deepEqual(doubled[12345], { ...rows[12345], i: 24690 });
      assert.equal(doubled[7].name, rows[7].name, 'a lone surrogate inside JSON survives');
      assert.deepEqual(await sup.task((r) => r.length, rows, { transfer: false }), rows.length);
      // what JSON would lose is refused however large the rest is
      await faults(() => sup.task((x) => x, { rows, when: new Date() }), TypeError, /task: input: a Date cannot be sent/);
      await faults(() => sup.task((x) => x, [...rows, { n: NaN }]), TypeError, /task: input: NaN cannot be sent/);
      // a large result JSON would alter is refused the usual way
      await assert.rejects(sup.task(() => ({ big: 'z'.repeat(100000), f: () => 1 })), /function/);
      await assert.rejects(sup.task(() => ({ big: 'z'.repeat(100000), n: 1n })), /bigint/);
      await noParcels('after the JSON tasks');
    });
  });

  slowTest('a long string result of a task that is stopped never stays behind; shutdown drops what is left', T, async () => {
    const sup0 = native.parcelCount();
    await withSup({ tasks: { maxThreads: 2 } }, async (sup) => {
      const big = 'q'.repeat(200000);
      // a task that hangs with a parcel input: its timeout kills the thread, the job ends, the parcel goes
      await assert.rejects(sup.task((s) => { for (;;) s.length; }, big, { timeoutMs: 200 }), /timed out/);
      await noParcels('after a timed-out task');
      // an abort while queued: the input was never put into a parcel, or is dropped
      const ac = new AbortController();
      const running = sup.task((s) => s.length, big);
      const aborted = sup.task((s) => s.length, big, { signal: ac.signal });
      ac.abort();
      await assert.rejects(aborted);
      assert.equal(await running, big.length);
      await noParcels('after an abort');
    });
    assert.equal(native.parcelCount(), sup0);
  });

  slowTest('a bytes result with transfer comes back as an owned copy; the box is free at once', T, async () => {
    await withSup({ memory: { poolSize: 1, boxSize: '2mb' }, tasks: { maxThreads: 1 } }, async (sup) => {
      const out = await sup.task((n) => {
        const u = new Uint8Array(n);
        for (let i = 0; i < n; i++) u[i] = (i * 31) & 0xff;
        return u;
      }, MiB + 3, { transfer: true });
      assert.ok(out instanceof Uint8Array);
      assert.equal(out.byteLength, MiB + 3);
      assert.equal(out.buffer.byteLength, MiB + 3);
      assert.equal(out[MiB + 2], ((MiB + 2) * 31) & 0xff);
      assert.equal(sup.getDiagnostics().value.memoryPool.boxesInUse, 0, 'the result box went back when the host took its copy');
      // the copy is the host's own: the next task writing the same (only) box does not change it
      const again = await sup.task((n) => new Uint8Array(n).fill(9), 16, { transfer: true });
      assert.deepEqual(Array.from(again), new Array(16).fill(9));
      assert.equal(out[0], 0);
      assert.equal(out[1], 31);
      out[0] = 5; // writable
      assert.equal(out[0], 5);
      const empty = await sup.task(() => new Uint8Array(0), undefined, { transfer: true });
      assert.equal(empty.byteLength, 0);
      // without transfer a bytes result is still refused
      await faults(() => sup.task(() => new Uint8Array(4)), TypeError, /run the task with \{ transfer: true \}/);
    });
  });

  slowTest('parcel natives refuse what is not theirs to read', T, async () => {
    assert.equal(native.parcelRead(123456789), null);
    assert.equal(native.parcelTake(123456789), null);
    assert.equal(native.parcelDrop(123456789), false);
    assert.throws(() => native.parcelPut(1, 42), /parcelPut: text must be a string/);
    const id = native.parcelPut(987654321, 'abc\ud800');
    assert.equal(native.parcelRead(id), 'abc\ud800');
    assert.equal(native.parcelDropOwner(987654321), 1);
    assert.equal(native.parcelTake(id), null);
    // a string made from a parcel stays whole after the parcel is gone
    const long = 'é'.repeat(50000) + '漢'.repeat(50000);
    const id2 = native.parcelPut(987654321, long);
    const read = native.parcelRead(id2);
    assert.equal(native.parcelDrop(id2), true);
    for (let i = 0; i < 20; i++) new Array(100000).fill({});
    globalThis.gc?.();
    assert.ok(read === long);
    assert.ok(read.slice(49990, 50010) === long.slice(49990, 50010));
  });
});

describe('tasks: bytes results moved with transfer', () => {
  const moves = typeof Bun === 'undefined'; // Node moves large whole buffers; Bun copies every result

  slowTest('a large bytes result that is a whole buffer is moved on Node (the task\'s buffer is detached) and copied on Bun; returning it again fails', T, async () => {
    await withSup({ memory: { poolSize: 1, boxSize: '2mb' }, tasks: { maxThreads: 1 } }, async (sup) => {
      const before = native.parcelCount();
      const out = await sup.task((n) => {
        const u = new Uint8Array(n);
        for (let i = 0; i < n; i++) u[i] = (i * 13) & 0xff;
        globalThis.kept = u;
        return u;
      }, MiB + 5, { transfer: true });
      assert.ok(out instanceof Uint8Array);
      assert.equal(out.byteLength, MiB + 5);
      assert.equal(out[MiB + 4], ((MiB + 4) * 13) & 0xff);
      const left = await sup.task(() => globalThis.kept.byteLength);
      assert.equal(left, moves ? 0 : MiB + 5, moves ? 'the task\'s buffer was moved away (detached)' : 'Bun copies: the task keeps its buffer');
      if (moves) {
        await faults(() => sup.task(() => globalThis.kept, undefined, { transfer: true }), TypeError, /task result: this buffer was already handed to the caller by an earlier task with `transfer`/);
      }
      // the moved memory is the host's own: writable, and it stays as it was
      out[0] = 99;
      await sup.task((n) => new Uint8Array(n).fill(1), MiB, { transfer: true });
      assert.equal(out[0], 99);
      assert.equal(out[1], 13);
      // other kinds keep their kind
      const f = await sup.task((k) => new Float64Array(k).fill(0.5), 20000, { transfer: true });
      assert.ok(f instanceof Float64Array);
      assert.deepEqual([f.length, f[19999]], [20000, 0.5]);
      const b = await sup.task((k) => Buffer.alloc(k, 7), 100000, { transfer: true });
      assert.ok(Buffer.isBuffer(b));
      assert.deepEqual([b.length, b[99999]], [100000, 7]);
      assert.equal(native.parcelCount(), before, 'every parcel was taken');
      assert.equal(sup.getDiagnostics().value.memoryPool.boxesInUse, 0);
    });
  });

  slowTest('parcelMoveBytes moves a fresh buffer (Node) and never box memory', T, async () => {
    await withSup({ memory: { poolSize: 1, boxSize: '1mb' }, tasks: { maxThreads: 1 } }, async (sup) => {
      const fresh = new Uint8Array(100000).fill(3);
      const id = native.parcelMoveBytes(sup._sid, fresh.buffer);
      if (moves) {
        assert.ok(id > 0);
        assert.equal(fresh.byteLength, 0, 'the moved buffer is detached');
        const back = new Uint8Array(native.parcelTakeBytes(id));
        assert.deepEqual([back.byteLength, back[0], back[99999]], [100000, 3, 3]);
      } else {
        assert.equal(id, 0, 'Bun moves nothing');
        assert.equal(fresh.byteLength, 100000);
      }
      // a view of a box, even handed to the native call directly, stays where it is
      const w = sup.spawn(async (self, msg, ctx) => (await ctx.write({ msg: 'b', type: 'binary', data: new Uint8Array(200000).fill(5) })).value);
      const h = await w.call({});
      const view = sup.read(h).bytes();
      assert.equal(native.parcelMoveBytes(sup._sid, view.buffer), 0, 'box memory is never moved');
      assert.equal(view.byteLength, 200000);
      assert.equal(sup.release(h), true);
      assert.equal(view.byteLength, 0);
    });
  });

  slowTest('part of a buffer, a buffer Node marked untransferable, small results and the input box are copied, never moved', T, async () => {
    await withSup({ memory: { poolSize: 2, boxSize: '2mb' }, tasks: { maxThreads: 1 } }, async (sup) => {
      // part of a larger buffer the task keeps
      const part = await sup.task((n) => {
        globalThis.whole = new Uint8Array(n).fill(4);
        return globalThis.whole.subarray(0, n / 2);
      }, 512 * 1024, { transfer: true });
      assert.equal(part.byteLength, 256 * 1024);
      assert.equal(part[0], 4);
      assert.equal(await sup.task(() => globalThis.whole.byteLength), 512 * 1024, 'the task still has its buffer');
      // a buffer marked untransferable (as Node marks its Buffer pool and memory an addon owns)
      const marked = await sup.task(async (n) => {
        const { markAsUntransferable } = await import('node:worker_threads');
        globalThis.marked = new Uint8Array(n).fill(6);
        markAsUntransferable?.(globalThis.marked.buffer);
        return globalThis.marked;
      }, 300000, { transfer: true });
      assert.deepEqual([marked.byteLength, marked[299999]], [300000, 6]);
      if (moves) assert.equal(await sup.task(() => globalThis.marked.byteLength), 300000, 'an untransferable buffer stays with the task');
      // a small result
      const small = await sup.task(() => {
        globalThis.small = new Uint8Array(1000).fill(2);
        return globalThis.small;
      }, undefined, { transfer: true });
      assert.equal(small[999], 2);
      assert.equal(await sup.task(() => globalThis.small.byteLength), 1000, 'small results are copied');
      // the input box itself, returned whole
      const input = new Uint8Array(300000).fill(8);
      const echoed = await sup.task((x) => x, input, { transfer: true });
      assert.deepEqual([echoed.byteLength, echoed[0], echoed[299999]], [300000, 8, 8]);
      await waitFor(() => sup.getDiagnostics().value.memoryPool.boxesInUse === 0, 10000, 'the input box back in the pool');
      const next = await sup.task((x) => x.length, new Uint8Array(300000).fill(1), { transfer: true });
      assert.equal(next, 300000);
      assert.equal(echoed[1], 8, 'the echoed input is a copy: the box was reused without changing it');
    });
  });
});
