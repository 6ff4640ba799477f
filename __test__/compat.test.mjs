// Future compatibility (docs/ARCHITECTURE.md, README "Inside an actor"): what code written for
// Future sees — reader.raw() is a Uint8Array, self.send is an implicit heartbeat, ctx.fmt.encode
// passes bytes through, encodes strings as text and the rest as JSON, and ctx.fmt.cbor exists.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { decode as cborDecode } from 'cbor-x';
import { describe, test, slowTest, waitFor, withSup } from './harness.mjs';

const { fmt } = createRequire(import.meta.url)('../lib/fmt.js');
const T = 60000;

const bytes = (u8) => Array.from(u8);
const text = (s) => Array.from(new TextEncoder().encode(s));

describe('Future compatibility', () => {
  slowTest('reader.raw() is an owned Uint8Array copy: it stays intact after release and reuse of the box, while views are detached', T, async () => {
    await withSup({ memory: { poolSize: 1, boxSize: '4kb' } }, async (sup) => {
      const writer = sup.spawn(async (self, msg, ctx) => {
        // (a writer that still holds a reference after commit gives it back when asked)
        if (msg.release) return ctx.release(msg.release);
        const w = await ctx.write({ msg: 'data', type: 'binary', data: new Uint8Array(msg), share: 'owner' });
        return w.isOk ? w.value : w.error;
      });
      const first = await writer.call([1, 2, 3, 4]);
      const r = sup.read(first);
      const raw = r.raw();
      const view = r.bytes();
      assert.ok(raw instanceof Uint8Array, 'raw() is a Uint8Array');
      assert.ok(!(raw.buffer instanceof SharedArrayBuffer));
      assert.deepEqual(bytes(raw), [1, 2, 3, 4]);
      assert.equal(raw.byteLength, 4, 'the committed length, no padding');
      raw[0] = 99; // an owned copy: changing it changes nothing in the box
      assert.equal(r.bytes()[0], 1);
      assert.equal(sup.release(first), true);
      // detach-before-reuse: the view is gone, the copy is not
      assert.equal(view.byteLength, 0, 'the zero-copy view is detached at release');
      assert.throws(() => r.raw(), /released/, 'no copy of a released box');
      assert.deepEqual(bytes(raw), [99, 2, 3, 4]);
      await writer.call({ release: first });
      // the only box is reused for the next write; the copy still shows the old bytes
      const second = await writer.call([7, 7, 7, 7]);
      assert.equal(second.boxIndex, first.boxIndex, 'the same box was reused');
      assert.notEqual(second.epoch, first.epoch);
      const r2 = sup.read(second);
      assert.deepEqual(bytes(r2.raw()), [7, 7, 7, 7]);
      assert.deepEqual(bytes(raw), [99, 2, 3, 4]);
      assert.equal(sup.release(second), true);
    });
  });

  slowTest('reader.raw() inside an actor is a Uint8Array too', T, async () => {
    await withSup({ memory: { poolSize: 2, boxSize: '4kb' } }, async (sup) => {
      const a = sup.spawn(async (self, msg, ctx) => {
        const w = await ctx.write({ msg: 'x', type: 'string', data: 'top', share: 'owner' });
        const r = ctx.read(w.value);
        const raw = r.raw();
        const out = { isU8: raw instanceof Uint8Array, text: new TextDecoder().decode(raw), ownBuffer: raw.buffer !== r.bytes().buffer };
        ctx.release(w.value);
        return out;
      });
      assert.deepEqual(await a.call('go'), { isU8: true, text: 'top', ownBuffer: true });
    });
  });

  for (const kind of ['isolated', 'pooled']) {
    slowTest(`self.send is an implicit heartbeat (${kind}): lastHeartbeatAt and heartbeatCount move with each emit`, T, async () => {
      await withSup({}, async (sup) => {
        const a = sup.spawn((self, msg) => {
          if (msg === 'emit') self.send('tick', 1);
          return 'ok';
        }, { kind });
        assert.equal(await a.call('quiet'), 'ok');
        const before = a.getDiagnostics().value;
        assert.equal(before.lastHeartbeatAt, null, 'no heartbeat before any emit');
        assert.equal(before.heartbeatCount, 0);
        const t0 = Date.now();
        const seen = [];
        a.subscribe((m) => seen.push(m));
        assert.equal(await a.call('emit'), 'ok');
        await waitFor(() => seen.length === 1, 10000, 'the emit');
        const after = a.getDiagnostics().value;
        assert.equal(after.heartbeatCount, 1);
        assert.equal(typeof after.lastHeartbeatAt, 'number');
        assert.ok(after.lastHeartbeatAt >= t0 - 1000 && after.lastHeartbeatAt <= Date.now() + 1000, 'a wall-clock time in ms, like Date.now()');
        assert.equal(await a.call('emit'), 'ok');
        await waitFor(() => seen.length === 2, 10000, 'the second emit');
        assert.equal(a.getDiagnostics().value.heartbeatCount, 2);
      });
    });
  }

  slowTest('an emit recorded as a heartbeat is visible to the subscriber that gets the message', T, async () => {
    await withSup({}, async (sup) => {
      const a = sup.spawn((self) => {
        self.send('hello');
      });
      const at = [];
      a.subscribe(() => at.push(a.getDiagnostics().value.lastHeartbeatAt));
      a.receive('go');
      await waitFor(() => at.length === 1, 10000, 'the emit');
      assert.equal(typeof at[0], 'number', 'recorded before the message left the actor');
    });
  });

  slowTest('self.send keeps the heartbeat watchdog quiet: an actor that emits within heartbeatMs is not killed', T, async () => {
    await withSup({}, async (sup) => {
      const exits = [];
      sup.on('exit', (e) => exits.push(e.reason));
      // 40 emits 50 ms apart (2 s at least) under a 1 s watchdog: only the emits keep it alive
      const a = sup.spawn(async (self, n) => {
        for (let i = 0; i < n; i++) {
          self.send('step', i);
          await new Promise((r) => setTimeout(r, 50));
        }
        return 'finished';
      }, { heartbeatMs: 1000, restart: 'temporary' });
      assert.equal(await a.call(40, { timeoutMs: 30000 }), 'finished');
      assert.deepEqual(exits, []);
      assert.ok(a.getDiagnostics().value.heartbeatCount >= 40);
    });
  });

  slowTest('self.send extends the leases of the boxes an actor holds, as ctx.heartbeat() does', T, async () => {
    await withSup({ memory: { poolSize: 2, boxSize: '1kb' }, timeouts: { defaultLeaseMs: 400 } }, async (sup) => {
      const expired = [];
      sup.on('leaseExpired', (e) => expired.push(e));
      // it holds the box for about 1.2 s (three leases), sending every 50 ms
      const reader = sup.spawn(async (self, msg, ctx) => {
        if (!msg || !msg.handle) return;
        for (let i = 0; i < 24; i++) {
          self.send('working', i);
          await new Promise((r) => setTimeout(r, 50));
        }
        self.send('released', ctx.release(msg.handle));
      }, { name: 'holder' });
      const done = new Promise((resolve) => reader.subscribe((m) => m.msg === 'released' && resolve(m.data)));
      const writer = sup.spawn(async (self, msg, ctx) => {
        const w = await ctx.write({ msg: 'data', type: 'string', data: 'held', share: ['holder'] });
        if (w.isOk) ctx.release(w.value); // (a writer that still holds a reference gives it back)
        return w.isOk;
      });
      assert.equal(await writer.call('go'), true);
      assert.equal(await done, true, 'the reader still had its reference when it released');
      assert.deepEqual(expired.filter((e) => e.id === reader.id), [], 'no lease of the reader expired');
    });
  });
});

describe('ctx.fmt', () => {
  test('encode: bytes pass through, a string is its UTF-8 text, anything else is JSON', () => {
    const u8 = new Uint8Array([1, 2, 3]);
    assert.equal(fmt.encode(u8), u8, 'a Uint8Array is returned as it is');
    assert.deepEqual(bytes(fmt.encode(new Uint16Array([0x0201]).buffer)), [1, 2]);
    const dv = new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2);
    assert.deepEqual(bytes(fmt.encode(dv)), [8, 7], 'a view: its own bytes, over the same memory');
    assert.deepEqual(bytes(fmt.encode('top')), text('top'), "'top' is the bytes of top, not of \"top\"");
    assert.deepEqual(bytes(fmt.encode('é')), [0xc3, 0xa9]);
    assert.deepEqual(bytes(fmt.encode({ text: 'x' })), text('{"text":"x"}'));
    assert.deepEqual(bytes(fmt.encode(42)), text('42'));
    assert.deepEqual(bytes(fmt.encode(null)), text('null'));
    assert.deepEqual(bytes(fmt.encode([1, 'a'])), text('[1,"a"]'));
    assert.ok(fmt.encode({}) instanceof Uint8Array);
    assert.throws(() => fmt.encode(new Map()), (e) => e instanceof TypeError && /fmt\.encode: value/.test(e.message));
    assert.throws(() => fmt.encode(undefined), (e) => e instanceof TypeError && /fmt\.encode: value/.test(e.message));
    assert.throws(() => fmt.encode(1n), TypeError);
  });

  test('decode: JSON by default; string, cbor and binary by type', () => {
    assert.deepEqual(fmt.decode(fmt.encode({ a: [1, 2] })), { a: [1, 2] });
    assert.equal(fmt.decode(fmt.encode('top'), 'string'), 'top');
    const u8 = new Uint8Array([5]);
    assert.equal(fmt.decode(u8, 'binary'), u8);
    assert.deepEqual(fmt.decode(fmt.cbor.encode({ n: 1 }), 'cbor'), { n: 1 });
    assert.throws(() => fmt.decode(u8, 'xml'), (e) => e instanceof RangeError && /fmt\.decode: type/.test(e.message));
    assert.throws(() => fmt.decode('not bytes'), (e) => e instanceof TypeError && /bytes/.test(e.message));
  });

  test('cbor: real CBOR (cbor-x), as a plain Uint8Array, round trips what JSON cannot', () => {
    const value = { when: new Date(0), big: 2n ** 70n, map: new Map([['k', 1]]), bin: new Uint8Array([1, 2]) };
    const enc = fmt.cbor.encode(value);
    assert.equal(enc.constructor, Uint8Array);
    assert.equal(enc[0] >> 5, 5, 'a CBOR map (major type 5) at the top');
    const back = fmt.cbor.decode(enc);
    assert.equal(back.when.getTime(), 0);
    assert.equal(back.big, 2n ** 70n);
    assert.deepEqual(bytes(back.bin), [1, 2]);
    assert.deepEqual(cborDecode(enc).big, 2n ** 70n, 'decodable by cbor-x itself');
    assert.throws(() => fmt.cbor.decode(42), (e) => e instanceof TypeError && /fmt\.cbor\.decode: bytes/.test(e.message));
  });

  slowTest('inside isolated and pooled actors: ctx.fmt.encode output written as a box reads back; ctx.fmt.cbor exists', T, async () => {
    await withSup({ memory: { poolSize: 2, boxSize: '4kb' } }, async (sup) => {
      const a = sup.spawn(async (self, msg, ctx) => {
        const w = await ctx.write({ msg: 'done', type: 'json', data: ctx.fmt.encode({ text: msg }), share: 'owner' });
        const r = ctx.read(w.value);
        const out = {
          json: r.json(),
          top: Array.from(ctx.fmt.encode('top')),
          cbor: ctx.fmt.cbor.decode(ctx.fmt.cbor.encode({ n: 3 })),
          frozen: Object.isFrozen(ctx.fmt) && Object.isFrozen(ctx.fmt.cbor),
        };
        ctx.release(w.value);
        return out;
      });
      assert.deepEqual(await a.call('hi'), { json: { text: 'hi' }, top: text('top'), cbor: { n: 3 }, frozen: true });
      const p = sup.spawn((self, msg, ctx) => [Array.from(ctx.fmt.encode(msg)), ctx.fmt.cbor.decode(ctx.fmt.cbor.encode([msg]))], { kind: 'pooled' });
      assert.deepEqual(await p.call('top'), [text('top'), ['top']]);
    });
  });
});
