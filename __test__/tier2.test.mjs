// Tier 2: zero-copy shared-memory boxes (DESIGN.md 3.5, issue 4). Most actors here are the
// module fixture fixtures/t2-probe.mjs, which reports what it reads (with the address of the
// memory behind `bytes()`) and keeps its views so the tests can see them detached.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { decode as cborDecode } from 'cbor-x';
import { describe, slowTest, waitFor, within, record, faults, TypeOrRangeError, NO_LEAKS, runtime, forEachKind, POOL_DEFAULTS } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';
import { sample, plain } from './fixtures/t2-samples.mjs';

const native = createRequire(import.meta.url)('../lib/native.js'); // test-only addressOf
const PROBE = new URL('./fixtures/t2-probe.mjs', import.meta.url);
const KiB = 1024;
const MiB = 1024 * 1024;
const TYPES = ['json', 'string', 'binary', 'cbor'];
const CALL = { timeoutMs: 30000 };

const addressOf = (u8) => native.addressOf(u8.buffer) + u8.byteOffset;
/** The pool counters, without `leaseExpiries` (checked on its own where leases expire). */
const pool = (sup) => {
  const { leaseExpiries, ...rest } = sup.getDiagnostics().value.memoryPool;
  assert.equal(typeof leaseExpiries, 'number');
  return rest;
};
const leaseExpiries = (sup) => sup.getDiagnostics().value.memoryPool.leaseExpiries;

/**
 * Spawns `n` probe actors (in `where`: the supervisor or a group) and waits until they answer;
 * checks that they are of the `kind` the suite runs with.
 */
async function spawnProbes(kind, where, n, options) {
  const refs = Array.from({ length: n }, () => where.spawn(PROBE, options));
  for (const r of refs) {
    assert.equal(await r.call({ op: 'ping' }, CALL), 'probe');
    assert.equal(r.getDiagnostics().value.kind, kind);
  }
  return refs;
}

/** The INBOX reports of a probe actor, as they arrive. */
function inboxes(ref) {
  const items = [];
  ref.subscribe((m) => {
    if (m.msg === 'inbox') items.push(m.data);
  });
  return items;
}

const inboxFor = (items, msg, label = msg) => waitFor(() => items.find((i) => i.msg === msg), 10000, `INBOX ${label}`);

/** A write from a probe actor; asserts it succeeded and returns its Lock. */
async function written(writer, args) {
  const r = await writer.call({ op: 'write', ...args }, CALL);
  assert.equal(r.ok, true, `write ${args.msg}: ${r.error}`);
  return r.value;
}

/** Asserts that `ref` got no INBOX at all (its mailbox is FIFO: anything delivered earlier was handled first). */
async function noInbox(ref, label) {
  assert.equal(await ref.call({ op: 'inboxes' }, CALL), 0, `${label} must get no INBOX`);
}

async function releaseAll(holders, lock) {
  for (const h of holders) assert.equal(await h.call({ op: 'release', handle: lock }, CALL), true);
}

forEachKind((k) => {
  const probes = (where, n, options) => spawnProbes(k.kind, where, n, options);

  describe('tier 2: writing and reading each type', () => {
    slowTest('round trip of json, string, binary and cbor (actor → actor, and the host reads the same bytes)', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 4, boxSize: '64kb' } });
      try {
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await writer.call({ op: 'mode', readBack: false });
        for (const type of TYPES) {
          const lock = await written(writer, { msg: `t-${type}`, type, sample: type, share: [reader.id] });
          assert.deepEqual(Object.keys(lock).sort(), ['boxIndex', 'epoch']);
          const seen = await inboxFor(got, `t-${type}`);
          assert.equal(seen.type, type);
          assert.equal(seen.from, writer.id, 'INBOX names the writer');
          assert.deepEqual(seen.handle, lock);
          assert.equal(seen.read.msg, `t-${type}`);
          assert.equal(seen.read.isUint8Array, true);
          assert.deepEqual(seen.read.value, plain(sample(type)), `${type} decoded by the reader`);

          // The host can read every box; it holds a reference until it releases.
          const r = sup.read(lock);
          assert.ok(r, `host read of ${type}`);
          assert.equal(r.msg, `t-${type}`);
          assert.equal(r.type, type);
          const bytes = r.bytes();
          assert.equal(r.length, bytes.byteLength, 'a box knows its committed length (no padding)');
          if (type === 'json') {
            assert.deepEqual(r.json(), sample('json'));
            assert.equal(r.length, Buffer.byteLength(JSON.stringify(sample('json'))));
          } else if (type === 'string') {
            assert.equal(r.string(), sample('string'));
            assert.equal(r.length, Buffer.byteLength(sample('string')));
          } else if (type === 'binary') {
            assert.deepEqual(r.bytes(), sample('binary'));
            assert.deepEqual(r.copy(), sample('binary'));
            assert.deepEqual(r.binary(), sample('binary'));
            const raw = r.raw();
            assert.ok(raw instanceof Uint8Array, "raw() is a Uint8Array, as Future's");
            assert.notEqual(raw.buffer, bytes.buffer, 'raw() is a copy, not the box memory');
            assert.deepEqual(raw, sample('binary'));
          } else {
            assert.deepEqual(plain(r.cbor()), plain(sample('cbor')));
            assert.equal(bytes[0] >> 5, 5, 'real CBOR: a map (major type 5) at the top');
            assert.deepEqual(plain(cborDecode(r.copy())), plain(sample('cbor')), 'decodable by cbor-x itself');
          }
          assert.equal(sup.release(lock), true);
          assert.equal(pool(sup).boxesInUse, 1, 'the reader still holds its reference');
          assert.equal(await writer.call({ op: 'release', handle: lock }), false, 'the writer holds no reference after commit');
          await releaseAll([reader], lock);
          assert.equal(pool(sup).boxesInUse, 0, 'freed at the last release');
        }
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('an INBOX is a frozen system message { msg, type, handle, from } and ref.read / group.read work from the host', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const seen = [];
        const reader = sup.spawn(async (self, msg, ctx) => {
          if (msg && msg.handle) {
            self.send('inbox', {
              keys: Object.keys(msg).sort(),
              msg: msg.msg,
              type: msg.type,
              from: msg.from,
              frozen: Object.isFrozen(msg),
              handleFrozen: Object.isFrozen(msg.handle),
              text: ctx.read(msg)?.string(),
            });
          }
          if (msg?.release) return ctx.release(msg.release);
          return 'ok';
        });
        reader.subscribe((m) => seen.push(m.data));
        const group = sup.createGroup({ strategy: 'one-for-one' });
        const [writer] = await probes(group, 1);
        await writer.call({ op: 'mode', readBack: false });
        await reader.call('ready');
        const lock = await written(writer, { msg: 'hello', type: 'string', data: 'hi there', share: [reader] });
        const got = await waitFor(() => seen[0], 10000, 'INBOX');
        assert.deepEqual(got, {
          keys: ['data', 'from', 'handle', 'msg', 'type'],
          msg: 'hello',
          type: 'string',
          from: writer.id,
          frozen: true,
          handleFrozen: true,
          text: 'hi there',
        });
        assert.equal(writer.read(lock).string(), 'hi there');
        assert.equal(group.read(lock).string(), 'hi there', 'a second host read shares the host reference');
        assert.equal(writer.release(lock), true);
        assert.equal(group.release(lock), false, 'the host holds one reference');
        assert.equal(pool(sup).boxesInUse, 1, 'the reader still holds it');
        assert.equal(await reader.call({ release: lock }), true);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: zero copy', () => {
    slowTest('bytes() is the memory the writer filled through alloc (same address, no copy)', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '1mb' } });
      try {
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await reader.call({ op: 'mode', decode: false, positions: [0, 1, 2047, -1] });
        const a = await writer.call(
          {
            op: 'alloc',
            size: 256 * KiB,
            fill: { byte: 0x5a, at: [[0, 1], [1, 2], [-1, 3]] },
            commit: { msg: 'zc', type: 'binary', share: [reader.id] },
          },
          CALL,
        );
        assert.equal(a.ok, true, a.error);
        assert.equal(a.byteLength, 256 * KiB, 'alloc hands out exactly the size asked for');
        assert.equal(a.commit.ok, true, a.commit.error);
        assert.equal(a.afterCommitByteLength, 0, 'commit detaches the writable view');
        const seen = await inboxFor(got, 'zc');
        assert.equal(seen.read.length, 256 * KiB);
        assert.deepEqual(seen.read.at, { 0: 1, 1: 2, 2047: 0x5a, '-1': 3 });
        assert.equal(seen.read.address, a.address, 'the reader sees the very bytes the writer filled');
        assert.ok(a.address > 0);

        const r = sup.read(a.commit.value);
        assert.equal(addressOf(r.bytes()), a.address, 'the host view is the same memory');
        const copy = r.copy();
        assert.notEqual(addressOf(copy), a.address, 'copy() is an owned copy');
        assert.equal(copy[0], 1);
        assert.equal(sup.release(a.commit.value), true);
        await releaseAll([writer, reader], a.commit.value);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a 64 MiB box shared with 4 readers: one memory, each reader sees its length and bytes', 120000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '64mb' } });
      try {
        const [writer, ...readers] = await probes(sup, 5);
        const logs = readers.map(inboxes);
        const positions = [0, 1, 32 * MiB, -2, -1];
        for (const r of readers) await r.call({ op: 'mode', decode: false, positions });
        const a = await writer.call(
          {
            op: 'alloc',
            size: 64 * MiB,
            fill: { byte: 0x11, at: [[0, 0xa1], [32 * MiB, 0xb2], [-1, 0xc3]] },
            commit: { msg: 'big', type: 'binary', share: readers.map((r) => r.id) },
          },
          { timeoutMs: 60000 },
        );
        assert.equal(a.ok, true, a.error);
        assert.equal(a.commit.ok, true, a.commit.error);
        for (const log of logs) {
          const seen = await inboxFor(log, 'big');
          assert.equal(seen.from, writer.id);
          assert.equal(seen.read.length, 64 * MiB);
          assert.equal(seen.read.byteLength, 64 * MiB);
          assert.deepEqual(seen.read.at, { 0: 0xa1, 1: 0x11, [32 * MiB]: 0xb2, '-2': 0x11, '-1': 0xc3 });
          assert.equal(seen.read.address, a.address);
        }
        assert.equal(pool(sup).boxesInUse, 1);
        await releaseAll([...readers, writer], a.commit.value);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: views and the engine\'s memory accounting', () => {
    /** External memory of this thread's engine, after a collection where the runtime offers one. */
    const external = () => {
      if (runtime === 'bun') Bun.gc(true);
      else globalThis.gc?.();
      const m = process.memoryUsage();
      return m.external;
    };

    slowTest('reading and releasing a 64 MiB box 100 times leaves the engine\'s external memory where it was', 120000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '64mb' } });
      try {
        const [writer] = await probes(sup, 1);
        // the probe reads its box back after the commit, so it holds it while the host reads
        const a = await writer.call({ op: 'alloc', size: 64 * MiB, fill: { at: [[0, 7], [-1, 9]] }, commit: { msg: 'big', type: 'binary' } }, { timeoutMs: 60000 });
        assert.equal(a.ok, true, a.error);
        assert.equal(a.commit.ok, true, a.commit.error);
        const lock = a.commit.value;
        const before = external();
        const views = [];
        for (let i = 0; i < 100; i++) {
          const r = sup.read(lock);
          const b = r.bytes();
          assert.equal(b.length, 64 * MiB);
          assert.equal(b[0] + b[b.length - 1], 16);
          if (i === 0) {
            assert.equal(addressOf(b), a.address, 'the view is the box memory itself');
            if (runtime === 'node') {
              // Node-API views count their length as external memory, and V8 collects garbage
              // whenever that count grows by 64 MiB: a view of box memory allocates nothing
              assert.ok(process.memoryUsage().external - before < MiB, 'a live view is not counted as external memory on Node');
            }
          }
          views.push(b);
          assert.equal(sup.release(lock), true);
        }
        assert.ok(views.every((b) => b.byteLength === 0), 'every view was detached at its release');
        const grown = external() - before;
        assert.ok(grown < 64 * MiB, `external memory grew by ${grown} bytes over 100 reads of a 64 MiB box`);
        await releaseAll([writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('postMessage copies a view or refuses it, and never moves box memory out of its thread', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '64kb' } });
      try {
        const [writer] = await probes(sup, 1);
        const lock = await written(writer, { msg: 'x', type: 'binary', fill: { size: 1000, byte: 5 } });
        const b = sup.read(lock).bytes();
        const { port1, port2 } = new MessageChannel();
        try {
          let moved = null;
          try {
            port1.postMessage(b.buffer, [b.buffer]);
            moved = b.byteLength === 0;
          } catch (err) {
            assert.match(String(err.message), /transfer/i); // Bun refuses
          }
          assert.notEqual(moved, true, 'the view was moved to the port');
          assert.equal(b.byteLength, 1000);
          let clone = null;
          try {
            clone = structuredClone(b.buffer, { transfer: [b.buffer] });
          } catch (err) {
            assert.match(String(err.message), /transfer/i);
          }
          assert.equal(b.byteLength, 1000, 'structuredClone with transfer left the view in place');
          if (clone !== null) assert.notEqual(native.addressOf(clone), addressOf(b), 'the clone is a copy');
        } finally {
          port1.close();
          port2.close();
        }
        assert.equal(sup.release(lock), true);
        assert.equal(b.byteLength, 0, 'release detached the view');
        await releaseAll([writer], lock);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: share modes', () => {
    slowTest('"owner" (also the default): only the writer and the host may read', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, other] = await probes(sup, 2);
        for (const share of ['owner', undefined]) {
          const lock = await written(writer, { msg: `own-${share}`, data: { s: share ?? 'default' }, share });
          await noInbox(other, 'another actor');
          assert.equal(await other.call({ op: 'read', target: lock }), null, 'not authorised: read is null');
          assert.equal(await other.call({ op: 'release', handle: lock }), false);
          const mine = await writer.call({ op: 'read', target: lock });
          assert.deepEqual(mine.value, { s: share ?? 'default' }, 'the writer reads its own box');
          assert.deepEqual(sup.read(lock).json(), { s: share ?? 'default' });
          assert.equal(sup.release(lock), true);
          await releaseAll([writer], lock);
        }
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('"group": the writer\'s group and its subgroups, not actors outside it', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const group = sup.createGroup({ strategy: 'one-for-one' });
        const sub = group.createGroup({ strategy: 'one-for-one' });
        const [writer, peer] = await probes(group, 2);
        const [nested] = await probes(sub, 1);
        const [outsider] = await probes(sup, 1);
        const peerLog = inboxes(peer);
        const nestedLog = inboxes(nested);
        const lock = await written(writer, { msg: 'g', type: 'string', data: 'group data', share: 'group' });
        assert.equal((await inboxFor(peerLog, 'g')).read.value, 'group data');
        assert.equal((await inboxFor(nestedLog, 'g')).read.value, 'group data');
        await noInbox(outsider, 'an actor outside the group');
        await noInbox(writer, 'the writer itself');
        assert.equal(await outsider.call({ op: 'read', target: lock }), null);
        assert.equal(pool(sup).boxesInUse, 1);
        await releaseAll([peer, nested, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('"linked": actors linked to the writer, not others', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, viaHost, viaCtx, stranger] = await probes(sup, 4);
        writer.link(viaHost);
        assert.equal(await viaCtx.call({ op: 'link', to: writer.id }), true);
        const logs = [inboxes(viaHost), inboxes(viaCtx)];
        const lock = await written(writer, { msg: 'l', data: [1, 2, 3], share: 'linked' });
        for (const log of logs) assert.deepEqual((await inboxFor(log, 'l')).read.value, [1, 2, 3]);
        await noInbox(stranger, 'an actor not linked to the writer');
        assert.equal(await stranger.call({ op: 'read', target: lock }), null);
        await releaseAll([viaHost, viaCtx, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('"all": every actor of the supervisor (any group) except the writer; no actor of another supervisor', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      const other = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, a, b] = await probes(sup, 3);
        const [c] = await probes(sup.createGroup({ strategy: 'one-for-all' }), 1);
        const [foreign] = await probes(other, 1);
        const logs = [a, b, c].map(inboxes);
        const lock = await written(writer, { msg: 'everyone', type: 'cbor', data: { n: 7 }, share: 'all' });
        for (const log of logs) assert.deepEqual((await inboxFor(log, 'everyone')).read.value, { n: 7 });
        await noInbox(writer, 'the writer');
        await noInbox(foreign, 'an actor of another supervisor');
        assert.equal(await foreign.call({ op: 'read', target: lock }), null);
        assert.equal(other.read(lock), null, 'another supervisor\'s host cannot read it either');
        await releaseAll([a, b, c, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await other.shutdown();
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a list of refs or ids: exactly those actors', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, byRef, byId, unlisted] = await probes(sup, 4);
        const logs = [inboxes(byRef), inboxes(byId)];
        // the ref travels as { id } (ActorRef.toJSON), which is what an actor holds for a ref
        const lock = await written(writer, { msg: 'list', data: 'x', share: [byRef, byId.id] });
        for (const log of logs) assert.equal((await inboxFor(log, 'list')).read.value, 'x');
        await noInbox(unlisted, 'an unlisted actor');
        assert.equal(await unlisted.call({ op: 'read', target: lock }), null);
        // an INBOX-shaped Tier 1 message does not authorise anyone
        const forged = { msg: 'list', type: 'json', handle: lock, from: writer.id };
        assert.equal(await unlisted.call({ op: 'read', target: forged }), null);
        assert.equal(pool(sup).boxesInUse, 1);
        await releaseAll([byRef, byId, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: share lists and internal actors', () => {
    slowTest('a share list may name actors by registered name (DESIGN.md 3.5), in write and in commit; an unknown name is Err', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer] = await probes(sup, 1);
        const [named, other] = [sup.spawn(PROBE, { name: 'named-reader' }), sup.spawn(PROBE)];
        for (const r of [named, other]) assert.equal(await r.call({ op: 'ping' }, CALL), 'probe');
        const log = inboxes(named);
        const lock = await written(writer, { msg: 'by-name', data: 'x', share: ['named-reader'] });
        assert.equal((await inboxFor(log, 'by-name')).read.value, 'x');
        await noInbox(other, 'an actor the list did not name');
        await releaseAll([named, writer], lock); // the probe writer reads back what it wrote
        const zc = await writer.call({ op: 'alloc', size: 4, commit: { msg: 'zc-by-name', type: 'binary', share: ['named-reader'] } }, CALL);
        assert.equal(zc.commit?.ok, true, `commit: ${JSON.stringify(zc)}`);
        await inboxFor(log, 'zc-by-name');
        await releaseAll([named, writer], zc.commit.value);
        const r = await writer.call({ op: 'write', msg: 'nobody', data: 1, share: ['no-such-name'] }, CALL);
        assert.equal(r.ok, false);
        assert.match(r.error, /^write\.share: list entry: no actor registered as "no-such-name"/);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a share list naming an actor of another supervisor is Err; no INBOX, nothing held', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' }, timeouts: { defaultLeaseMs: 500 } });
      const other = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const [writer] = await probes(sup, 1);
        const [foreign] = await probes(other, 1);
        const r = await writer.call({ op: 'write', msg: 'cross', data: 1, share: [foreign.id] });
        if (r.ok) await writer.call({ op: 'release', handle: r.value });
        await noInbox(foreign, 'an actor of another supervisor');
        assert.equal(r.ok, false, 'the actor is unknown to this supervisor');
        assert.match(r.error, /share/);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await other.shutdown();
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('share "group" from the root group reaches no task thread (internal actors), and tasks keep working', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const ev = record(sup, ['exit']);
        assert.equal(await sup.task((x) => x + 1, 1), 2, 'a task thread is up');
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await reader.call({ op: 'mode', onInbox: 'release' });
        await writer.call({ op: 'mode', readBack: false });
        await written(writer, { msg: 'root group', data: 'g', share: 'group' });
        assert.equal((await inboxFor(got, 'root group')).read.value, 'g');
        assert.equal(pool(sup).boxesInUse, 0, 'no task thread holds a reference');
        assert.equal(await sup.task((x) => x * 2, 21), 42, 'the task thread still runs tasks');
        assert.deepEqual(ev.exit, [], 'no thread died');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: handles', () => {
    slowTest('after release the epoch changes: the old Lock reads null everywhere and old views are detached', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        const first = await written(writer, { msg: 'first', type: 'string', data: 'generation one', share: [reader.id] });
        assert.equal((await inboxFor(got, 'first')).read.value, 'generation one');
        assert.equal((await reader.call({ op: 'read', target: first })).value, 'generation one', 'a second read');
        const before = await reader.call({ op: 'views', handle: first });
        assert.equal(before.length, 2);
        assert.ok(before.every((n) => n === Buffer.byteLength('generation one')), 'the reader holds two live views');
        assert.equal(await reader.call({ op: 'release', handle: first }), true);
        assert.deepEqual(await reader.call({ op: 'views', handle: first }), [0, 0], 'released: every view is detached');
        assert.equal(await reader.call({ op: 'read', target: first }), null, 'no reference any more');
        assert.equal(await writer.call({ op: 'release', handle: first }), true);
        assert.equal(pool(sup).boxesInUse, 0);

        const second = await written(writer, { msg: 'second', type: 'string', data: 'generation two', share: [reader.id] });
        assert.equal(second.boxIndex, first.boxIndex, 'the only box is reused');
        assert.notEqual(second.epoch, first.epoch, 'with a new epoch');
        assert.equal((await inboxFor(got, 'second')).read.value, 'generation two');
        for (const who of [reader, writer]) {
          assert.equal(await who.call({ op: 'read', target: first }), null, 'stale handle reads null');
          assert.equal(await who.call({ op: 'release', handle: first }), false, 'stale handle releases nothing');
        }
        assert.equal(sup.read(first), null);
        assert.equal(sup.release(first), false);
        assert.equal(pool(sup).boxesInUse, 1);

        // the host's views are detached on release too
        const h = sup.read(second);
        const view = h.bytes();
        assert.equal(view.byteLength, Buffer.byteLength('generation two'));
        assert.equal(sup.release(second), true);
        assert.equal(view.byteLength, 0, 'host view detached by release');
        assert.throws(() => h.bytes(), /released/);
        await releaseAll([reader, writer], second);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('forged { boxIndex, epoch } handles read null and release nothing', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, reader, other] = await probes(sup, 3);
        const got = inboxes(reader);
        const lock = await written(writer, { msg: 'real', data: 'real', share: [reader.id] });
        await inboxFor(got, 'real');
        const unused = lock.boxIndex === 0 ? 1 : 0;
        const forged = [
          { boxIndex: lock.boxIndex, epoch: lock.epoch + 1 },
          { boxIndex: lock.boxIndex, epoch: lock.epoch + 2 ** 20 },
          { boxIndex: lock.boxIndex, epoch: 0 },
          { boxIndex: unused, epoch: 1 }, // a FREE box with its current epoch
          { boxIndex: 2, epoch: lock.epoch }, // past the end of the pool
          { boxIndex: 2 ** 31, epoch: 1 },
          { boxIndex: -1, epoch: lock.epoch },
          { boxIndex: lock.boxIndex + 0.5, epoch: lock.epoch },
          { boxIndex: String(lock.boxIndex), epoch: String(lock.epoch) },
          { boxIndex: lock.boxIndex },
          { msg: 'real', handle: { boxIndex: lock.boxIndex, epoch: lock.epoch + 1 } },
        ];
        for (const f of forged) {
          for (const who of [reader, writer, other]) {
            assert.equal(await who.call({ op: 'read', target: f }), null, `read ${JSON.stringify(f)}`);
            assert.equal(await who.call({ op: 'release', handle: f }), false, `release ${JSON.stringify(f)}`);
          }
          assert.equal(sup.read(f), null, `host read ${JSON.stringify(f)}`);
          assert.equal(sup.release(f), false, `host release ${JSON.stringify(f)}`);
        }
        assert.equal(pool(sup).boxesInUse, 1, 'forged handles changed nothing');
        assert.equal((await reader.call({ op: 'read', target: lock })).value, 'real', 'the real handle still works');
        await releaseAll([reader, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('double release and foreign releases change nothing', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const [writer, reader, stranger] = await probes(sup, 3);
        const got = inboxes(reader);
        const lock = await written(writer, { msg: 'refs', data: 42, share: [reader.id] });
        await inboxFor(got, 'refs');
        assert.equal(await reader.call({ op: 'release', handle: lock }), true);
        assert.equal(await reader.call({ op: 'release', handle: lock }), false, 'double release');
        assert.equal(await stranger.call({ op: 'release', handle: lock }), false, 'foreign release by an actor');
        assert.equal(sup.release(lock), false, 'the host has not read it, so it holds nothing');
        assert.equal(pool(sup).boxesInUse, 1, 'the writer still holds it');
        assert.equal((await writer.call({ op: 'read', target: lock })).value, 42, 'the writer\'s reference is intact');
        // the host takes a reference by reading; the writer's release then does not free the box
        assert.equal(sup.read(lock).json(), 42);
        assert.equal(await writer.call({ op: 'release', handle: lock }), true);
        assert.equal(await writer.call({ op: 'release', handle: lock }), false, 'double release by the writer');
        assert.equal(pool(sup).boxesInUse, 1, 'the host reference keeps the box');
        assert.equal(sup.release(lock), true);
        assert.equal(sup.release(lock), false, 'double release by the host');
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: sizes and a full pool', () => {
    slowTest('oversize writes and allocs are Err (never truncated); exactly boxSize fits', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await reader.call({ op: 'mode', decode: false, positions: [0, -1] });
        const over = await writer.call({ op: 'write', msg: 'over', type: 'binary', fill: { size: 4 * KiB + 1, byte: 1 }, share: [reader.id] });
        assert.equal(over.ok, false);
        assert.match(over.error, /4097/);
        assert.match(over.error, /4096/);
        const json = await writer.call({ op: 'write', msg: 'overJson', type: 'json', data: 'x'.repeat(5000) });
        assert.equal(json.ok, false);
        assert.match(json.error, /exceeds|too large|box size/i);
        const alloc = await writer.call({ op: 'alloc', size: 4 * KiB + 1 });
        assert.equal(alloc.ok, false);
        assert.match(alloc.error, /4097/);
        assert.deepEqual(pool(sup), { poolSize: 1, boxSize: 4096, boxesInUse: 0, utilization: 0, waitingWrites: 0 });
        await noInbox(reader, 'the reader of a refused write');

        const lock = await written(writer, { msg: 'exact', type: 'binary', fill: { size: 4 * KiB, byte: 9 }, share: [reader.id] });
        const seen = await inboxFor(got, 'exact');
        assert.equal(seen.read.length, 4 * KiB);
        assert.deepEqual(seen.read.at, { 0: 9, '-1': 9 });
        await releaseAll([reader, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('boxSize "1mb" end to end (and other unit strings)', 60000, async () => {
      for (const [text, bytes] of [
        ['512kb', 512 * KiB],
        ['1.5 MiB', 1.5 * MiB],
        ['2MB', 2 * MiB],
      ]) {
        const s = k.createSupervisor({ memory: { poolSize: 1, boxSize: text } });
        try {
          assert.equal(pool(s).boxSize, bytes, text);
        } finally {
          await s.shutdown();
        }
      }
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '1mb' } });
      try {
        assert.deepEqual(pool(sup), { poolSize: 2, boxSize: MiB, boxesInUse: 0, utilization: 0, waitingWrites: 0 });
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await reader.call({ op: 'mode', decode: false, positions: [0, -1] });
        const lock = await written(writer, {
          msg: 'mb',
          type: 'binary',
          fill: { size: MiB, byte: 0xee },
          share: [reader.id],
        });
        const seen = await inboxFor(got, 'mb');
        assert.equal(seen.read.length, MiB);
        assert.deepEqual(seen.read.at, { 0: 0xee, '-1': 0xee });
        assert.deepEqual(pool(sup), { poolSize: 2, boxSize: MiB, boxesInUse: 1, utilization: 0.5, waitingWrites: 0 });
        const over = await writer.call({ op: 'alloc', size: MiB + 1 });
        assert.equal(over.ok, false);
        await releaseAll([reader, writer], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('pool full: waiting writes are granted in FIFO order; timeoutMs → Err; wait: false → Err at once', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '1kb' } });
      try {
        const [holder, w1, w2, w3, impatient] = await probes(sup, 5);
        const order = [];
        sup.subscribe((m) => {
          if (m.msg === 'granted') order.push(m.data);
        });
        const held = await written(holder, { msg: 'hold', data: 'holding' });
        assert.equal(pool(sup).boxesInUse, 1);
        // queue in an order unrelated to spawn order
        const pending = [];
        for (const [i, w] of [w3, w1, w2].entries()) {
          const tag = w === w1 ? 'w1' : w === w2 ? 'w2' : 'w3';
          pending.push(w.call({ op: 'write', msg: tag, data: tag, tag, release: true, timeoutMs: 30000 }, CALL));
          await waitFor(() => pool(sup).waitingWrites === i + 1, 10000, `${tag} queued`);
        }
        const noWait = await within(impatient.call({ op: 'write', msg: 'nowait', data: 1, wait: false, timeoutMs: 60000 }), 5000, 'wait:false');
        assert.equal(noWait.ok, false);
        assert.match(noWait.error, /no free box/);
        const noWaitAlloc = await within(impatient.call({ op: 'alloc', size: 10, options: { wait: false } }), 5000, 'alloc wait:false');
        assert.equal(noWaitAlloc.ok, false);
        assert.match(noWaitAlloc.error, /no free box/);
        const timedOut = await impatient.call({ op: 'write', msg: 'late', data: 1, timeoutMs: 150 }, CALL);
        assert.equal(timedOut.ok, false);
        assert.match(timedOut.error, /150 ms/);
        assert.equal(pool(sup).waitingWrites, 3, 'a timed-out write leaves the queue');
        assert.equal(order.length, 0, 'nothing granted while the box is held');

        assert.equal(await holder.call({ op: 'release', handle: held }), true);
        const results = await Promise.all(pending);
        for (const r of results) assert.equal(r.ok, true, r.error);
        await waitFor(() => order.length === 3, 10000, 'three grants');
        assert.deepEqual(
          order.map((g) => g.tag),
          ['w3', 'w1', 'w2'],
          'FIFO',
        );
        const epochs = order.map((g) => g.value.epoch);
        assert.deepEqual(epochs, [...epochs].sort((x, y) => x - y), 'each grant is a later generation of the box');
        assert.equal(pool(sup).boxesInUse, 0);
        assert.equal(pool(sup).waitingWrites, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a waiting writer that dies leaves the queue; the box goes to the next one', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '1kb' } });
      try {
        const [holder, doomed, next] = await probes(sup, 3);
        const held = await written(holder, { msg: 'hold', data: 1 });
        const lost = doomed.call({ op: 'write', msg: 'lost', data: 1, timeoutMs: 30000 }, CALL).catch((e) => e);
        await waitFor(() => pool(sup).waitingWrites === 1, 10000, 'first waiter');
        const granted = next.call({ op: 'write', msg: 'next', data: 'n', timeoutMs: 30000 }, CALL);
        await waitFor(() => pool(sup).waitingWrites === 2, 10000, 'second waiter');
        await doomed.terminate();
        assert.equal(pool(sup).waitingWrites, 1, 'the dead waiter left the queue');
        assert.ok((await lost) instanceof Error);
        assert.equal(await holder.call({ op: 'release', handle: held }), true);
        const r = await granted;
        assert.equal(r.ok, true, r.error);
        assert.equal(pool(sup).boxesInUse, 1);
        await releaseAll([next], r.value);
        assert.equal(pool(sup).boxesInUse, 0);
        assert.equal(pool(sup).waitingWrites, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('two writes in flight in one actor (write+write and alloc+alloc)', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } });
      try {
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        await reader.call({ op: 'mode', onInbox: 'release', positions: [0, -1] });
        await writer.call({ op: 'mode', readBack: false });
        const [one, two] = await writer.call({
          op: 'writeTwo',
          writes: [
            { msg: 'one', type: 'string', data: 'first write', share: [reader.id] },
            { msg: 'two', type: 'json', data: { second: true }, share: [reader.id] },
          ],
        });
        assert.equal(one.ok, true, one.error);
        assert.equal(two.ok, true, two.error);
        assert.notEqual(one.value.boxIndex, two.value.boxIndex);
        assert.equal((await inboxFor(got, 'one')).read.value, 'first write');
        assert.deepEqual((await inboxFor(got, 'two')).read.value, { second: true });
        assert.equal(pool(sup).boxesInUse, 0, 'the reader released both; the writer holds nothing after commit');

        await reader.call({ op: 'mode', decode: false });
        const both = await writer.call({ op: 'allocTwo', size: 1000, share: [reader.id] });
        assert.equal(both.ok, true, both.error);
        assert.equal(both.first.ok, true, both.first.error);
        assert.equal(both.second.ok, true, both.second.error);
        assert.notEqual(both.first.value.boxIndex, both.second.value.boxIndex);
        const first = await inboxFor(got, 'first');
        const second = await inboxFor(got, 'second');
        assert.deepEqual([first.read.length, first.read.at], [1000, { 0: 0xaa, '-1': 0xaa }]);
        assert.deepEqual([second.read.length, second.read.at], [1000, { 0: 0xbb, '-1': 0xbb }]);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: the writer holds no reference after commit (DESIGN.md 3.5)', () => {
    slowTest('actor writes, host reads and releases: 40 boxes through a pool of 2 with wait: false, never short of a box', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' } }); // default 5 s lease
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1);
        await writer.call({ op: 'mode', readBack: false });
        for (let i = 0; i < 40; i++) {
          // wait: false makes a stall visible at once: "no free box" instead of waiting for a lease
          const lock = await written(writer, { msg: `n${i}`, data: { i }, wait: false });
          assert.equal(await writer.call({ op: 'release', handle: lock }), false, 'the writer has nothing to give back');
          const r = sup.read(lock);
          assert.deepEqual(r.json(), { i });
          assert.equal(sup.release(lock), true);
          assert.equal(pool(sup).boxesInUse, 0, `box ${i} is free at the host's release`);
        }
        assert.deepEqual(ev.leaseExpired, []);
        assert.deepEqual(ev.exit, []);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a box nobody reads is freed when the writer\'s lease passes, with no lease event calling the writer a reader', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { shortLease: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1, { name: 'shortLease', timeoutMs: 60000 });
        await writer.call({ op: 'mode', readBack: false });
        const lock = await written(writer, { msg: 'unread', data: 1 });
        assert.equal(pool(sup).boxesInUse, 1, 'kept for a reader that may still come');
        // a write waiting for the only box gets it when the unread one goes at the lease (300 ms)
        const next = await written(writer, { msg: 'next', data: 2, timeoutMs: 20000 });
        assert.equal(next.boxIndex, lock.boxIndex);
        assert.notEqual(next.epoch, lock.epoch, 'a new generation');
        assert.equal(sup.read(lock), null, 'the unread generation is gone');
        assert.deepEqual(ev.leaseExpired.filter((e) => e.role !== 'writer'), [], 'no reference expired: nobody held one');
        assert.deepEqual(ev.exit, [], 'the writer was not killed');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a writer that reads its own box holds a reference: released by it, or expired as a reader', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { rereader: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1, { name: 'rereader', timeoutMs: 60000 });
        const lock = await written(writer, { msg: 'mine', data: 'mine' }); // the probe reads it back
        const e = await waitFor(() => ev.leaseExpired.find((x) => x.id === writer.id), 10000, 'lease expiry of the read reference');
        assert.deepEqual([e.role, e.boxIndex, e.epoch], ['reader', lock.boxIndex, lock.epoch], 'a reference taken by reading is a reader\'s');
        await waitFor(() => pool(sup).boxesInUse === 0, 10000, 'box freed');
        assert.deepEqual(ev.exit, [], 'a reader past its lease is not killed');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: leases and deaths', () => {
    slowTest('a writer that does not commit within its lease (actorTimeouts) is killed with lease_expired', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { slowWriter: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired', 'restart']);
        // timeoutMs overrides the per-message deadline that actorTimeouts would also set
        const [writer] = await probes(sup, 1, { name: 'slowWriter', timeoutMs: 60000 });
        const [other] = await probes(sup, 1);
        const a = await writer.call({ op: 'alloc', size: 100, keep: 'w' });
        assert.equal(a.ok, true, a.error);
        assert.equal(pool(sup).boxesInUse, 1);
        const exit = await waitFor(() => ev.exit.find((e) => e.id === writer.id), 10000, 'writer exit');
        assert.equal(exit.reason, 'lease_expired');
        const lease = await waitFor(() => ev.leaseExpired.find((e) => e.id === writer.id), 10000, 'leaseExpired event');
        assert.equal(lease.role, 'writer');
        assert.equal(lease.boxIndex, 0);
        assert.equal(leaseExpiries(sup), 1, 'the expiry is counted in the pool diagnostics');
        await waitFor(() => pool(sup).boxesInUse === 0, 10000, 'box freed');
        assert.equal(ev.exit.filter((e) => e.id !== writer.id).length, 0, 'nobody else died');
        // a co-located (pooled) neighbour sees the writer's writable view in their shared module: detached
        const view = await other.call({ op: 'peek', id: writer.id, incarnation: 0, keep: 'w' }, CALL);
        assert.equal(view, k.pooled ? 0 : null, 'the expired writer\'s view is detached');
        const lock = await written(other, { msg: 'after', data: 'reusable' });
        assert.equal(lock.boxIndex, 0, 'the box is reusable');
        await releaseAll([other], lock);
        await waitFor(() => ev.restart.some((e) => e.id === writer.id), 10000, 'writer restarted');
        assert.equal(await writer.call({ op: 'ping' }, CALL), 'probe');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('heartbeat() extends a writer\'s lease', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { beater: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1, { name: 'beater', timeoutMs: 60000 });
        assert.equal((await writer.call({ op: 'alloc', size: 8, keep: 'w', fill: { byte: 4 } })).ok, true);
        const end = Date.now() + 1200; // four leases
        while (Date.now() < end) {
          assert.equal(await writer.call({ op: 'call', method: 'heartbeat', args: [] }).then((r) => r.returned), '(undefined)');
          await new Promise((r) => setTimeout(r, 60));
        }
        const c = await writer.call({ op: 'commit', keep: 'w', commit: { msg: 'late', type: 'binary' } });
        assert.equal(c.ok, true, c.error);
        assert.deepEqual(ev.exit, []);
        assert.deepEqual(ev.leaseExpired, []);
        await releaseAll([writer], c.value);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('heartbeat() extends a reader\'s lease: it keeps its reference and its view', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { beatingReader: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1);
        const [reader] = await probes(sup, 1, { name: 'beatingReader', timeoutMs: 60000 });
        const got = inboxes(reader);
        await writer.call({ op: 'mode', readBack: false });
        const lock = await written(writer, { msg: 'kept', type: 'string', data: 'still mine', share: [reader.id] });
        await inboxFor(got, 'kept');
        const end = Date.now() + 1200; // four of its leases
        while (Date.now() < end) {
          assert.equal(await reader.call({ op: 'call', method: 'heartbeat', args: [] }).then((r) => r.returned), '(undefined)');
          await new Promise((r) => setTimeout(r, 60));
        }
        assert.deepEqual(await reader.call({ op: 'views', handle: lock }), [Buffer.byteLength('still mine')], 'its view is live');
        assert.equal((await reader.call({ op: 'read', target: lock })).value, 'still mine');
        assert.deepEqual(ev.leaseExpired, []);
        assert.deepEqual(ev.exit, []);
        await releaseAll([reader], lock);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a reader that keeps a box past its lease loses its reference: view detached, box reusable, reader alive', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' }, timeouts: { defaultLeaseMs: 300 } });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer, reader] = await probes(sup, 2);
        const got = inboxes(reader);
        const lock = await written(writer, { msg: 'kept', type: 'string', data: 'kept too long', share: [reader.id] });
        assert.equal((await inboxFor(got, 'kept')).read.value, 'kept too long');
        await waitFor(() => ev.leaseExpired.some((e) => e.id === reader.id), 10000, 'reader lease expiry');
        const e = ev.leaseExpired.find((x) => x.id === reader.id);
        assert.deepEqual([e.role, e.boxIndex, e.epoch], ['reader', lock.boxIndex, lock.epoch]);
        await waitFor(async () => (await reader.call({ op: 'views', handle: lock }))[0] === 0, 10000, 'reader view detached');
        assert.equal(await reader.call({ op: 'read', target: lock }), null, 'the reference is gone');
        assert.equal(await reader.call({ op: 'release', handle: lock }), false);
        // the writer kept its committed box past its lease as well: it loses its reference, it is not killed
        await waitFor(() => pool(sup).boxesInUse === 0, 10000, 'box free again');
        assert.deepEqual(ev.exit, [], 'nobody was killed');
        const again = await written(writer, { msg: 'next', data: 1, release: true });
        assert.equal(again.boxIndex, lock.boxIndex, 'the box is reusable');
        assert.notEqual(again.epoch, lock.epoch);
        assert.equal(await reader.call({ op: 'ping' }), 'probe', 'the reader is alive');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a reader\'s own lease (actorTimeouts) applies to the boxes it is given', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { quickReader: 300 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [writer] = await probes(sup, 1);
        const [reader] = await probes(sup, 1, { name: 'quickReader', timeoutMs: 60000 });
        const got = inboxes(reader);
        const lock = await written(writer, { msg: 'short', data: 'short lease', share: [reader.id] });
        await inboxFor(got, 'short');
        // 300 ms lease; 5 s is only a bound against hanging
        await waitFor(() => ev.leaseExpired.some((e) => e.id === reader.id), 5000, 'reader lease expiry (its own 300 ms lease)');
        assert.equal(ev.leaseExpired.find((e) => e.id === reader.id).role, 'reader');
        await waitFor(async () => (await reader.call({ op: 'views', handle: lock }))[0] === 0, 10000, 'reader view detached');
        assert.equal(pool(sup).boxesInUse, 1, 'the writer (30 s lease) still holds it');
        await releaseAll([writer], lock);
        assert.equal(pool(sup).boxesInUse, 0, 'box reusable');
        assert.deepEqual(ev.exit, []);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a write granted from the queue runs under its writer\'s lease, not the releaser\'s', 60000, async () => {
      const sup = k.createSupervisor({
        memory: { poolSize: 1, boxSize: '4kb' },
        timeouts: { defaultLeaseMs: 30000, actorTimeouts: { quick: 200 } },
      });
      try {
        const ev = record(sup, ['exit', 'leaseExpired']);
        const [quick] = await probes(sup, 1, { name: 'quick', timeoutMs: 60000 });
        const [patient] = await probes(sup, 1);
        const held = await written(quick, { msg: 'held', data: 1 });
        const allocated = patient.call({ op: 'alloc', size: 16, keep: 'w', fill: { byte: 1 } }, CALL);
        await waitFor(() => pool(sup).waitingWrites === 1, 10000, 'queued');
        assert.equal(await quick.call({ op: 'release', handle: held }), true);
        assert.equal((await allocated).ok, true);
        // The patient writer's lease is 30 s; well past the quick actor's 200 ms it must still be alive.
        await new Promise((r) => setTimeout(r, 1000));
        assert.deepEqual(ev.exit.map((e) => [e.id === patient.id ? 'patient' : e.id, e.reason]), []);
        const c = await patient.call({ op: 'commit', keep: 'w', commit: { msg: 'in time', type: 'binary' } });
        assert.equal(c.ok, true, c.error);
        await releaseAll([patient], c.value);
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a reader killed (or crashing) while holding a box: its reference is released', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const ev = record(sup, ['exit', 'restart']);
        const [writer, doomed, crasher] = await probes(sup, 3);
        const logs = [inboxes(doomed), inboxes(crasher)];
        const lock = await written(writer, { msg: 'held', data: 'held by readers', share: [doomed.id, crasher.id] });
        for (const log of logs) await inboxFor(log, 'held');
        await releaseAll([writer], lock);
        assert.equal(pool(sup).boxesInUse, 1, 'two readers hold it');
        await doomed.terminate();
        assert.equal(pool(sup).boxesInUse, 1, 'one reader holds it');
        // Pooled probes on one worker share the probe's module, so the writer sees its neighbours'
        // views there: the ended reader's is detached, the live one's is not. (An isolated
        // writer's module knows nothing of other threads' views: null.)
        const views = (who) => writer.call({ op: 'peek', id: who.id, incarnation: 0, handle: lock }, CALL);
        const held = Buffer.byteLength(JSON.stringify('held by readers'));
        assert.deepEqual(await views(doomed), k.pooled ? [0] : null, 'the ended incarnation\'s view is detached');
        assert.deepEqual(await views(crasher), k.pooled ? [held] : null, 'its neighbour keeps its view');
        crasher.receive({ op: 'crash' });
        await waitFor(() => ev.restart.some((e) => e.id === crasher.id), 10000, 'crasher restarted');
        assert.match(ev.exit.find((e) => e.id === crasher.id).reason, /crash on purpose/);
        assert.equal(pool(sup).boxesInUse, 0, 'both references went with their incarnations');
        assert.deepEqual(await views(crasher), k.pooled ? [0] : null, 'the crashed incarnation\'s view is detached');
        assert.equal(await crasher.call({ op: 'read', target: lock }, CALL), null, 'the new incarnation holds nothing');
        const again = await written(writer, { msg: 'again', data: 2, release: true });
        assert.equal(again.boxIndex, lock.boxIndex);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: teardown', () => {
    slowTest('boxesInUse is 0 once every holder released, and shutdown with boxes held leaves nothing behind', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 3, boxSize: '64kb' } });
      try {
        const [writer, r1, r2] = await probes(sup, 3);
        const logs = [inboxes(r1), inboxes(r2)];
        const a = await written(writer, { msg: 'a', data: 'a', share: [r1.id, r2.id] });
        const b = await written(writer, { msg: 'b', type: 'binary', fill: { size: 60 * KiB, byte: 3 }, share: 'all' });
        for (const log of logs) {
          await inboxFor(log, 'a');
          await inboxFor(log, 'b');
        }
        assert.equal(sup.read(b).length, 60 * KiB);
        const w = await writer.call({ op: 'alloc', size: 10, keep: 'open' });
        assert.equal(w.ok, true);
        assert.deepEqual(pool(sup), { poolSize: 3, boxSize: 64 * KiB, boxesInUse: 3, utilization: 1, waitingWrites: 0 });
        await releaseAll([r1, r2, writer], a);
        await releaseAll([r1, r2, writer], b);
        assert.equal(pool(sup).boxesInUse, 2, 'the host reference and the open write remain');
        assert.equal(sup.release(b), true);
        assert.equal(await writer.call({ op: 'abort', keep: 'open' }), 0, 'abort detaches the writable view');
        assert.equal(pool(sup).boxesInUse, 0);
        assert.equal(pool(sup).utilization, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);

      // shutdown while boxes are held by readers, the host and an open write, with a write waiting
      const busy = k.createSupervisor({ memory: { poolSize: 2, boxSize: '64kb' } });
      let waiting;
      try {
        const [writer, reader, late] = await probes(busy, 3);
        const got = inboxes(reader);
        const lock = await written(writer, { msg: 'held', data: 'at shutdown', share: [reader.id] });
        await inboxFor(got, 'held');
        assert.equal(busy.read(lock).json(), 'at shutdown');
        assert.equal((await writer.call({ op: 'alloc', size: 10, keep: 'open' })).ok, true);
        waiting = late.call({ op: 'write', msg: 'never', data: 1, timeoutMs: 60000 }, { timeoutMs: 60000 }).catch((e) => e);
        await waitFor(() => pool(busy).waitingWrites === 1, 10000, 'a waiting write');
        assert.equal(pool(busy).boxesInUse, 2);
      } finally {
        await within(busy.shutdown(), 20000, 'shutdown');
      }
      assert.match(String((await waiting)?.reason ?? (await waiting)?.message), /shutdown/);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: bad input', () => {
    slowTest('bad write, alloc, commit, read and release arguments: Err naming the parameter (or null/false)', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const actor = sup.spawn(async (self, msg, ctx) => {
          const cases = {
            notObject: () => ctx.write(null),
            missingMsg: () => ctx.write({ type: 'json', data: 1 }),
            emptyMsg: () => ctx.write({ msg: '', data: 1 }),
            numericMsg: () => ctx.write({ msg: 7, data: 1 }),
            unknownType: () => ctx.write({ msg: 'm', type: 'xml', data: 1 }),
            unknownShareMode: () => ctx.write({ msg: 'm', data: 1, share: 'everyone' }),
            numericShare: () => ctx.write({ msg: 'm', data: 1, share: 42 }),
            badShareEntry: () => ctx.write({ msg: 'm', data: 1, share: [{}] }),
            numberInShareList: () => ctx.write({ msg: 'm', data: 1, share: [5] }),
            unknownActorInShare: () => ctx.write({ msg: 'm', data: 1, share: ['actor-987654321'] }),
            stringTypeNotString: () => ctx.write({ msg: 'm', type: 'string', data: 5 }),
            binaryTypeNotBytes: () => ctx.write({ msg: 'm', type: 'binary', data: 'text' }),
            negativeTimeout: () => ctx.write({ msg: 'm', data: 1, timeoutMs: -5 }),
            allocNegative: () => ctx.alloc(-1),
            allocFraction: () => ctx.alloc(1.5),
            allocString: () => ctx.alloc('10'),
            allocNaN: () => ctx.alloc(NaN),
            allocNegativeTimeout: () => ctx.alloc(10, { timeoutMs: -1 }),
            commitMissingMsg: async () => {
              const w = (await ctx.alloc(4)).value;
              const r = await w.commit({ type: 'binary' });
              w.abort();
              return r;
            },
            commitUnknownType: async () => {
              const w = (await ctx.alloc(4)).value;
              const r = await w.commit({ msg: 'm', type: 'yaml' });
              w.abort();
              return r;
            },
            commitBadShare: async () => {
              const w = (await ctx.alloc(4)).value;
              const r = await w.commit({ msg: 'm', type: 'binary', share: 'nobody' });
              w.abort();
              return r;
            },
            commitTwice: async () => {
              const w = (await ctx.alloc(4)).value;
              const first = await w.commit({ msg: 'm', type: 'binary' });
              const r = await w.commit({ msg: 'm', type: 'binary' });
              ctx.read(first.value); // the writer holds nothing after commit: read, then release, frees it now
              ctx.release(first.value);
              return r;
            },
          };
          const out = {};
          for (const [k, f] of Object.entries(cases)) {
            try {
              const r = await f();
              out[k] = r !== null && typeof r === 'object' && 'isErr' in r ? { isErr: r.isErr, error: r.error } : { returned: String(r) };
              if (r?.isOk && r.value?.boxIndex !== undefined) ctx.read(r.value) && ctx.release(r.value); // a wrong Ok must not hold the only box
            } catch (err) {
              out[k] = { threw: `${err.constructor.name}: ${err.message}` };
            }
          }
          out.reads = [undefined, null, 'x', 42, { msg: 'tier1', data: 1 }, { boxIndex: 0, epoch: 1 }].map((m) => ctx.read(m));
          out.releases = [undefined, null, 'x', { boxIndex: 0, epoch: 1 }].map((h) => ctx.release(h));
          return out;
        });
        const out = await actor.call('go', CALL);
        const expect = {
          notObject: /write/,
          missingMsg: /msg/,
          emptyMsg: /msg/,
          numericMsg: /msg/,
          unknownType: /type/,
          unknownShareMode: /share/,
          numericShare: /share/,
          badShareEntry: /share/,
          numberInShareList: /share/,
          unknownActorInShare: /share.*actor-987654321/,
          stringTypeNotString: /data/,
          binaryTypeNotBytes: /data/,
          negativeTimeout: /timeoutMs/,
          allocNegative: /size/,
          allocFraction: /size/,
          allocString: /size/,
          allocNaN: /size/,
          allocNegativeTimeout: /timeoutMs/,
          commitMissingMsg: /msg/,
          commitUnknownType: /type/,
          commitBadShare: /share/,
          commitTwice: /commit/,
        };
        const wrong = [];
        for (const [k, re] of Object.entries(expect)) {
          const r = out[k];
          if (!(r?.isErr === true && re.test(r.error))) wrong.push(`${k}: expected Err matching ${re}, got ${JSON.stringify(r)}`);
        }
        assert.deepEqual(wrong, []);
        assert.deepEqual(out.reads, [null, null, null, null, null, null]);
        assert.deepEqual(out.releases, [false, false, false, false]);
        assert.deepEqual(pool(sup), { poolSize: 1, boxSize: 4096, boxesInUse: 0, utilization: 0, waitingWrites: 0 }, 'nothing leaked');
        // the host side
        for (const m of [undefined, null, 'x', 0, { msg: 'tier1' }, { boxIndex: 0, epoch: 1 }]) {
          assert.equal(sup.read(m), null);
          assert.equal(sup.release(m), false);
        }
        // and everything still works
        const ok = sup.spawn(async (self, msg, ctx) => {
          const r = await ctx.write({ msg: 'fine', type: 'string', data: 'still working' });
          const text = ctx.read(r.value).string();
          ctx.release(r.value);
          return text;
        });
        assert.equal(await ok.call('go', CALL), 'still working');
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('wait that is not a boolean, and alloc options that are not an object, are Err naming them (not taken as "wait")', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const actor = sup.spawn(async (self, msg, ctx) => {
          const cases = {
            writeWaitString: () => ctx.write({ msg: 'm', data: 1, wait: 'no' }),
            writeWaitZero: () => ctx.write({ msg: 'm', data: 1, wait: 0 }),
            allocWaitZero: () => ctx.alloc(10, { wait: 0 }),
            allocWaitNull: () => ctx.alloc(10, { wait: null }),
            allocOptionsTrue: () => ctx.alloc(10, true),
            allocOptionsNumber: () => ctx.alloc(10, 1.5),
            allocOptionsNull: () => ctx.alloc(10, null),
          };
          const out = {};
          for (const [k, f] of Object.entries(cases)) {
            const r = await f();
            out[k] = r.isErr ? r.error : 'Ok';
            if (r.isOk) (r.value.abort ? r.value.abort() : ctx.release(r.value));
          }
          return out;
        });
        assert.deepEqual(await actor.call('go', CALL), {
          writeWaitString: 'write: wait must be a boolean',
          writeWaitZero: 'write: wait must be a boolean',
          allocWaitZero: 'alloc: wait must be a boolean',
          allocWaitNull: 'alloc: wait must be a boolean',
          allocOptionsTrue: 'alloc: options must be an object',
          allocOptionsNumber: 'alloc: options must be an object',
          allocOptionsNull: 'alloc: options must be an object',
        });
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('json data that JSON cannot represent (a cycle, a function) is Err naming data, never an empty box', 60000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 1, boxSize: '4kb' } });
      try {
        const actor = sup.spawn(async (self, msg, ctx) => {
          const cyclic = { name: 'loop' };
          cyclic.self = cyclic;
          const out = {};
          for (const [k, data] of [
            ['cyclic', cyclic],
            ['function', () => 1],
            ['symbol', Symbol('s')],
          ]) {
            const r = await ctx.write({ msg: 'm', type: 'json', data });
            out[k] = { isErr: r.isErr, error: r.error, stored: r.isOk ? ctx.read(r.value).length : undefined };
            if (r.isOk) ctx.release(r.value);
          }
          return out;
        });
        const out = await actor.call('go', CALL);
        for (const k of ['cyclic', 'function', 'symbol']) {
          assert.equal(out[k].isErr, true, `${k}: expected Err, got ${JSON.stringify(out[k])}`);
          assert.match(out[k].error, /data/, `${k}: the error names data`);
        }
        assert.equal(pool(sup).boxesInUse, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('memory and lease configuration is validated, naming the field', 30000, async () => {
      const bad = [
        [{ memory: { boxSize: 'lots' } }, /memory\.boxSize/],
        [{ memory: { boxSize: '1 parsec' } }, /memory\.boxSize/],
        [{ memory: { boxSize: 0 } }, /memory\.boxSize/],
        [{ memory: { boxSize: -1 } }, /memory\.boxSize/],
        [{ memory: { boxSize: {} } }, /memory\.boxSize/],
        [{ memory: { poolSize: -1 } }, /memory\.poolSize/],
        [{ memory: { poolSize: 1.5 } }, /memory\.poolSize/],
        [{ memory: { poolSize: '8' } }, /memory\.poolSize/],
        [{ memory: { boxes: 8 } }, /memory/],
        [{ timeouts: { defaultLeaseMs: -1 } }, /timeouts\.defaultLeaseMs/],
        [{ timeouts: { defaultLeaseMs: NaN } }, /timeouts\.defaultLeaseMs/],
        [{ timeouts: { actorTimeouts: { parser: 'fast' } } }, /timeouts\.actorTimeouts\.parser/],
      ];
      for (const [config, re] of bad) await faults(() => k.createSupervisor(config), TypeOrRangeError, re, JSON.stringify(config));
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('tier 2: a supervisor without a pool', () => {
    slowTest('memory.poolSize 0 is accepted (no pool); writes and allocs are Err "no memory pool … memory.poolSize 0", reads null', 30000, async () => {
      const sup = k.createSupervisor({ memory: { poolSize: 0 } });
      try {
        const a = sup.spawn(async (self, msg, ctx) => {
          const w = await ctx.write({ msg: 'x', data: 1 });
          const al = await ctx.alloc(4);
          return { write: w.error, alloc: al.error, read: ctx.read({ boxIndex: 0, epoch: 1 }) };
        });
        const r = await a.call('go', CALL);
        assert.match(r.write, /^write: no memory pool: this supervisor was created with memory\.poolSize 0$/);
        assert.match(r.alloc, /^alloc: no memory pool: this supervisor was created with memory\.poolSize 0$/);
        assert.equal(r.read, null);
        assert.equal(sup.read({ boxIndex: 0, epoch: 1 }), null);
        assert.equal(sup.getDiagnostics().value.memoryPool.poolSize, 0);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});

describe('tier 2: across kinds and pool workers', () => {
  slowTest('a box crosses kinds and workers: the same memory for an isolated reader and pooled readers on two workers, each way', 60000, async () => {
    const sup = createSupervisor({ memory: { poolSize: 2, boxSize: '64kb' }, pool: { ...POOL_DEFAULTS, workers: 2 } });
    try {
      const spawn = (kind) => spawnProbes(kind, sup, 1, { kind }).then(([r]) => r);
      const pooledWriter = await spawn('pooled');
      const pooledReader = await spawn('pooled');
      const isolatedWriter = await spawn('isolated');
      const isolatedReader = await spawn('isolated');
      const workers = [pooledWriter, pooledReader].map((r) => r.getDiagnostics().value.worker);
      assert.deepEqual(workers.sort(), [0, 1], 'the pooled writer and reader are on two workers');
      for (const [writer, readers] of [
        [pooledWriter, [pooledReader, isolatedReader, isolatedWriter]],
        [isolatedWriter, [pooledReader, pooledWriter, isolatedReader]],
      ]) {
        const logs = readers.map(inboxes);
        for (const r of readers) await r.call({ op: 'mode', decode: false, positions: [0, -1] }, CALL);
        const a = await writer.call(
          { op: 'alloc', size: 32 * KiB, fill: { byte: 0x33, at: [[0, 0x44], [-1, 0x55]] }, commit: { msg: `from-${writer.id}`, type: 'binary', share: readers.map((r) => r.id) } },
          CALL,
        );
        assert.equal(a.commit.ok, true, a.commit.error);
        for (const log of logs) {
          const seen = await inboxFor(log, `from-${writer.id}`);
          assert.equal(seen.from, writer.id);
          assert.deepEqual([seen.read.length, seen.read.at], [32 * KiB, { 0: 0x44, '-1': 0x55 }]);
          assert.equal(seen.read.address, a.address, 'zero copy: the memory the writer filled');
        }
        assert.equal(pool(sup).boxesInUse, 1);
        await releaseAll([...readers, writer], a.commit.value);
        assert.equal(pool(sup).boxesInUse, 0);
      }
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('"group" and "linked" reach both kinds; a pooled reader on another worker is refused an unshared box', 60000, async () => {
    const sup = createSupervisor({ memory: { poolSize: 2, boxSize: '4kb' }, pool: { ...POOL_DEFAULTS, workers: 2 } });
    try {
      const group = sup.createGroup({ strategy: 'one-for-one' });
      const [pooledWriter] = await spawnProbes('pooled', group, 1, { kind: 'pooled' });
      const [pooledPeer] = await spawnProbes('pooled', group, 1, { kind: 'pooled' });
      const [isolatedPeer] = await spawnProbes('isolated', group, 1, { kind: 'isolated' });
      const [pooledOutsider] = await spawnProbes('pooled', sup, 1, { kind: 'pooled' });
      const [isolatedLinked] = await spawnProbes('isolated', sup, 1, { kind: 'isolated' });
      pooledWriter.link(isolatedLinked);
      assert.equal(await pooledOutsider.call({ op: 'link', to: pooledWriter.id }, CALL), true);
      const peers = [pooledPeer, isolatedPeer];
      const linked = [isolatedLinked, pooledOutsider];
      const logs = [...peers, ...linked].map(inboxes);
      await pooledWriter.call({ op: 'mode', readBack: false }, CALL);
      const g = await written(pooledWriter, { msg: 'g', data: 'group', share: 'group' });
      for (const log of logs.slice(0, 2)) assert.equal((await inboxFor(log, 'g')).read.value, 'group');
      await noInbox(isolatedLinked, 'an isolated actor outside the group');
      assert.equal(await pooledOutsider.call({ op: 'read', target: g }, CALL), null, 'a pooled actor outside the group reads null');
      await releaseAll(peers, g);
      const l = await written(pooledWriter, { msg: 'l', data: 'linked', share: 'linked' });
      for (const log of logs.slice(2)) assert.equal((await inboxFor(log, 'l')).read.value, 'linked');
      assert.equal(await pooledPeer.call({ op: 'read', target: l }, CALL), null, 'not linked: null');
      await releaseAll(linked, l);
      assert.equal(pool(sup).boxesInUse, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
