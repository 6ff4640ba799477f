import assert from 'node:assert/strict';
import { MessagePort, Worker } from 'node:worker_threads';
import { describe, slowTest, waitFor, collector, record, NO_LEAKS, forEachKind, actorThreads } from './harness.mjs';
import { runtimeStats } from '../index.mjs';

/** Counts postMessage calls on the host thread until restored. */
function instrumentHost() {
  const counts = { calls: 0, where: [] };
  const patched = [];
  const wrap = (proto) => {
    if (!proto || typeof proto.postMessage !== 'function' || patched.some(([p]) => p === proto)) return;
    const original = proto.postMessage;
    proto.postMessage = function (...args) {
      counts.calls++;
      if (counts.where.length < 5) counts.where.push(new Error('postMessage').stack);
      return original.apply(this, args);
    };
    patched.push([proto, original]);
  };
  wrap(MessagePort.prototype);
  wrap(globalThis.MessagePort?.prototype);
  wrap(Worker.prototype);
  wrap(globalThis.Worker?.prototype);
  counts.restore = () => {
    for (const [proto, original] of patched) proto.postMessage = original;
  };
  counts.reset = () => {
    counts.calls = 0;
    counts.where.length = 0;
  };
  return counts;
}

forEachKind((k) => {
  describe('no postMessage on the message path', () => {
    slowTest('1,000 receives, calls, emits and actor-to-actor sends use no postMessage, on the host or in actors', 60000, async () => {
      const host = instrumentHost();
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        // the instrumentation sees a real postMessage
        host.reset();
        const { port1, port2 } = new MessageChannel();
        port1.postMessage('self-test');
        assert.equal(host.calls, 1, 'host instrumentation must count a real postMessage');
        port1.close();
        port2.close();

        const ev = record(sup);
        const probe = new URL('./fixtures/postmessage-probe.mjs', import.meta.url);
        const p1 = sup.spawn(probe, { name: 'p1' });
        const p2 = sup.spawn(probe, { name: 'p2' });
        const plain = sup.spawn((self, msg, ctx) => {
          if (msg.op === 'forward') ctx.send('p2', { op: 'tick' });
          else if (msg.op === 'emit') self.send('plain', msg.n);
          return msg.n;
        });
        // start-up: threads are created (that may use postMessage internally); wait until every
        // actor answers and the warm pool is full again before counting
        for (const r of [p1, p2]) {
          const c = await r.call({ op: 'count' }, { timeoutMs: 20000 });
          assert.deepEqual(c, { calls: 0, selfTest: true }, 'actor instrumentation must work');
          assert.equal(r.getDiagnostics().value.kind, k.kind);
        }
        assert.equal(await plain.call({ op: 'x', n: 0 }), 0);
        await waitFor(() => actorThreads(sup) === 4, 10000, 'warm pool refill');
        host.reset(); // (the host posts to a thread or a pool worker only to hand it regions, which these actors have none of)

        // traffic
        const emits = collector();
        sup.subscribe(emits);
        for (let i = 0; i < 1000; i++) assert.equal(p1.receive({ op: 'relay', to: p2.id, n: i }), true);
        for (let i = 0; i < 100; i++) assert.equal(p1.receive({ op: 'relay', to: 'p2', n: i }), true);
        for (let i = 0; i < 100; i++) assert.equal(plain.receive({ op: 'forward', n: i }), true);
        for (let i = 0; i < 100; i++) p2.receive({ op: 'emit', n: i });
        for (let i = 0; i < 100; i++) plain.receive({ op: 'emit', n: i });
        const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => p2.call({ op: 'echo', v: i })));
        answers.forEach((v, i) => assert.equal(v, i));
        for (let i = 0; i < 20; i++) assert.equal(await p1.call({ op: 'callPeer', to: 'p2', v: i }), i);
        for (let i = 0; i < 20; i++) assert.equal(await plain.call({ op: 'x', n: i }), i);
        await waitFor(async () => (await p2.call({ op: 'ticks' })) === 1200, 20000, 'all 1,200 relayed ticks');
        await waitFor(() => emits.items.length >= 200, 10000, 'all 200 emits');
        assert.equal(emits.items.length, 200);

        assert.equal(host.calls, 0, `host postMessage calls during traffic:\n${host.where.join('\n---\n')}`);
        for (const r of [p1, p2]) {
          const c = await r.call({ op: 'count' });
          assert.equal(c.calls, 0, `postMessage calls inside ${r.id}${k.pooled ? ' (its pool worker)' : ''}`);
        }
        assert.equal(ev.exit.length, 0);
        assert.equal(ev.deadLetter.length, 0);
      } finally {
        host.restore();
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});
