// The message path of pooled actors under batching (DESIGN.md 3.2, 8.2): the host's mail ring
// (`ActorRef.receive` to pooled actors, lib/host/mail.js), pool workers' outboxes with their
// acknowledgement records, and ordering per sender → receiver pair when the same pair's mail
// takes different paths (the ring, a native call for a large message, a call).
import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, record, NO_LEAKS } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';
import { createRequire } from 'node:module';

const native = createRequire(import.meta.url)('../lib/native.js');

const SLOW_MACHINE = 2000; // a handler deadline far above what these handlers need

/** Counts messages `{ s, i }` per sender `s` and notes any that arrives out of order. */
const inOrder = {
  init: () => ({ last: {}, n: 0, bad: [] }),
  handle: (st, msg) => {
    if (msg === 'get') return st;
    const want = (st.last[msg.s] ?? -1) + 1;
    if (msg.i !== want) st.bad.push(`${msg.s}: ${msg.i} after ${want - 1}`);
    st.last[msg.s] = msg.i;
    st.n++;
    return st;
  },
};

describe('batched mail', () => {
  slowTest('receive to a pooled actor goes through the host ring (no native call), to an isolated or bounded one by a native call', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const control = native.hostMailControl(); // [2] head (JS), [3] tail (core)
      const [p] = sup.spawnMany(1, inOrder);
      const bounded = sup.spawn(inOrder, { kind: 'pooled', mailbox: { capacity: 10 } });
      const iso = sup.spawn(inOrder);
      await Promise.all([p, bounded, iso].map((a) => a.call('get')));
      const head = control[2];
      assert.equal(p.receive({ s: 'host', i: 0 }), true);
      assert.notEqual(control[2], head, 'a record was written');
      assert.notEqual(control[2], control[3], 'not delivered yet: no native call was made');
      const written = control[2];
      assert.equal(bounded.receive({ s: 'host', i: 0 }), true);
      assert.equal(iso.receive({ s: 'host', i: 0 }), true);
      assert.equal(control[2], written, 'the others went by native calls');
      assert.equal(control[3], written, '… which delivered the ring first');
      await Promise.resolve();
      const states = await Promise.all([p, bounded, iso].map((a) => a.call('get')));
      for (const st of states) assert.equal(st.n, 1);
    } finally {
      await sup.shutdown();
    }
  });

  slowTest('the host sends to 1,000 pooled actors in one turn: every message arrives once, in order, before a later call', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: SLOW_MACHINE } });
    try {
      const ev = record(sup, ['deadLetter', 'exit']);
      const actors = sup.spawnMany(1000, inOrder);
      // 100 rounds: 100,000 records of ~20 bytes, so the host's 64 KiB ring fills and is
      // delivered many times inside this loop, besides at the end of the turn
      for (let i = 0; i < 100; i++) for (const a of actors) assert.equal(a.receive({ s: 'host', i }), true);
      // a call is a native call: the ring is delivered before it, so it is handled after them
      const states = await Promise.all(actors.map((a) => a.call('get', { timeoutMs: 30000 })));
      for (const st of states) {
        assert.deepEqual(st.bad, []);
        assert.equal(st.n, 100);
      }
      assert.equal(ev.deadLetter.length, 0);
      assert.equal(ev.exit.length, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('host mail to one pooled actor keeps its order across the ring, receive with an incarnation, and large messages', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const [a] = sup.spawnMany(1, inOrder);
      await a.call('get');
      const pad = 'x'.repeat(40_000); // too large for a ring record: a native call
      for (let i = 0; i < 3000; i++) {
        const msg = i % 97 === 0 ? { s: 'host', i, pad } : { s: 'host', i };
        const ok = i % 10 === 3 ? a.receive(msg, { incarnation: 0 }) : a.receive(msg);
        assert.equal(ok, true, `receive ${i}`);
      }
      const st = await a.call('get');
      assert.deepEqual(st.bad, []);
      assert.equal(st.n, 3000);
    } finally {
      await sup.shutdown();
    }
  });

  slowTest('receive keeps its answer: false when a pooled mailbox is full or the actor is dead for good', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const ev = record(sup, ['deadLetter']);
      const gate = sup.spawn(
        async (self, msg) => {
          if (msg === 'block') await new Promise((r) => setTimeout(r, 300));
          return msg;
        },
        { kind: 'pooled', mailbox: { capacity: 2 } },
      );
      await gate.call('up');
      assert.equal(gate.receive('block'), true);
      await waitFor(() => gate.getDiagnostics().value.mailboxDepth === 0, 10000, 'the block taken');
      assert.equal(gate.receive(1), true);
      assert.equal(gate.receive(2), true);
      assert.equal(gate.receive(3), false, 'over capacity: refused at once');
      await waitFor(() => ev.deadLetter.length === 1, 10000, 'the dead letter');
      const [gone] = sup.spawnMany(1, (self, msg) => msg, { restart: 'temporary' });
      await gone.call('up');
      await gone.terminate();
      assert.equal(gone.receive('late'), false, 'dead for good: refused at once');
    } finally {
      await sup.shutdown();
    }
  });

  slowTest('per-pair order holds when a pooled sender mixes co-located, other-worker and isolated targets, the ring and native sends', 90000, async () => {
    const sup = createSupervisor({ warmWorkers: 1, pool: { workers: 2, maxBlockMs: 60000 } });
    try {
      const ev = record(sup, ['deadLetter', 'exit']);
      const pooled = sup.spawnMany(8, inOrder);
      await Promise.all(pooled.map((p) => p.call('get')));
      const on = (w) => pooled.filter((p) => p.getDiagnostics().value.worker === w);
      const [w0, w1] = [on(0), on(1)];
      assert.ok(w0.length >= 2 && w1.length >= 1, `placement ${w0.length}/${w1.length}`);
      const iso = sup.spawn(inOrder);
      const sender = sup.spawn(
        (self, msg, ctx) => {
          const pad = 'y'.repeat(20_000); // over the outbox's largest record: a native send
          for (let i = 0; i < msg.count; i++) {
            for (const to of msg.to) ctx.send(to, i % 50 === 7 ? { s: self.id, i, pad } : { s: self.id, i });
          }
          return msg.count;
        },
        { kind: 'pooled' },
      );
      const targets = [w0[0], w0[1], w1[0], iso];
      // the sender shares worker 0 or 1 with some of them: both cases are covered by the mix
      assert.equal(await sender.call({ to: targets.map((t) => t.id), count: 2000 }, { timeoutMs: 60000 }), 2000);
      // a second sender on the other worker, interleaved with the host's own mail
      for (let i = 0; i < 500; i++) for (const t of targets) t.receive({ s: 'host', i });
      const states = await Promise.all(targets.map((t) => t.call('get', { timeoutMs: 60000 })));
      states.forEach((st, k) => {
        assert.deepEqual(st.bad, [], `target ${k}`);
        assert.equal(st.n, 2500, `target ${k}`);
      });
      assert.equal(ev.deadLetter.length, 0);
      assert.equal(ev.exit.length, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('a worker killed by the watchdog right after co-located sends: each message handled, in flight or a dead letter, exactly once', 120000, async () => {
    // interrupt: false — the layer that replaces the whole worker (on Bun too)
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 500, interrupt: false }, retry: { max: 10, withinMs: 60000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'deadLetter', 'workerLost']);
      const HANG_AT = 2500;
      const [sender, receiver] = sup.spawnMany(2, (self, msg, ctx) => {
        if (msg.go) {
          for (let i = 0; i < msg.go; i++) ctx.send(msg.to, { n: i });
          return;
        }
        if (msg.n === 2500 && self.incarnation === 0) for (;;); // mid-batch: the rest is in hand
        if (msg.n !== undefined) ctx.self.send('handled', msg.n);
      });
      await Promise.all([sender, receiver].map((a) => a.call({})));
      const seen = new Map(); // n → times handled
      sup.subscribe((m) => {
        if (m.msg === 'handled') seen.set(m.data, (seen.get(m.data) ?? 0) + 1);
      });
      const K = 5000;
      assert.ok(sender.receive({ go: K, to: receiver.id }));
      const lost = await waitFor(() => ev.workerLost[0], 60000, 'the workerLost event');
      assert.equal(lost.culprit, receiver.id);
      const inFlight = () => ev.exit.filter((e) => e.id === receiver.id && e.message?.message?.n !== undefined).map((e) => e.message.message.n);
      const accounted = () => seen.size + inFlight().length + ev.deadLetter.length;
      await waitFor(() => accounted() >= K, 60000, 'every message accounted for');
      // the receiver's next incarnation handles what its mailbox kept; nothing more arrives
      await receiver.call({}, { timeoutMs: 30000 });
      assert.equal(accounted(), K);
      for (const [n, times] of seen) assert.equal(times, 1, `message ${n} handled ${times} times`);
      for (const n of inFlight()) assert.ok(!seen.has(n), `message ${n} both handled and in flight`);
      assert.equal(ev.deadLetter.length, 0, 'mailboxes were kept');
      assert.deepEqual(inFlight(), [HANG_AT], "the culprit's message was the one in flight");
      for (let n = 0; n < K; n++) assert.ok(seen.has(n) || n === HANG_AT, `message ${n} lost`);
      assert.equal(ev.error.length, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
