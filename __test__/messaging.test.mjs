import assert from 'node:assert/strict';
import { test, describe, slowTest, waitFor, collector, record, faults, NO_LEAKS, forEachKind } from './harness.mjs';
import { createRequire } from 'node:module';
import { createSupervisor, runtimeStats, ActorExitError } from '../index.mjs';

const native = createRequire(import.meta.url)('../lib/native.js');

forEachKind((k) => {
  describe('Tier 1 messaging', () => {
    test('message shape and from injection', async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          self.send('echo', { from: 'fake', value: msg.value });
        });
        const got = collector();
        a.subscribe(got);
        assert.equal(a.receive({ value: 7, from: 'fake' }), true);
        await waitFor(() => got.items.length === 1);
        assert.deepEqual(got.items[0], { msg: 'echo', data: { from: 'fake', value: 7 }, from: a.id });
        assert.ok(Object.isFrozen(got.items[0]));
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), { threads: 0, ports: 0, actors: 0 });
    });

    test('FIFO order of 10,000 messages', async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          self.send('n', msg);
        });
        const got = collector();
        a.subscribe(got);
        for (let i = 0; i < 10000; i++) assert.equal(a.receive(i), true);
        await waitFor(() => got.items.length === 10000);
        got.items.forEach((m, i) => assert.equal(m.data, i));
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('subscribers', () => {
    slowTest('several subscribers per actor and per supervisor; unsubscribe stops delivery', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          self.send('a', msg);
        });
        const b = sup.spawn((self, msg) => {
          self.send('b', msg);
        });
        const [a1, a2, b1, all1, all2] = [collector(), collector(), collector(), collector(), collector()];
        const unA1 = a.subscribe(a1);
        a.subscribe(a2);
        b.subscribe(b1);
        const unAll1 = sup.subscribe(all1);
        sup.subscribe(all2);
        assert.equal(typeof unA1, 'function');
        assert.equal(typeof unAll1, 'function');

        a.receive(1);
        b.receive(2);
        await waitFor(() => all2.items.length === 2 && a2.items.length === 1 && b1.items.length === 1);
        assert.deepEqual(a1.items, [{ msg: 'a', data: 1, from: a.id }]);
        assert.deepEqual(a2.items, [{ msg: 'a', data: 1, from: a.id }]);
        assert.deepEqual(b1.items, [{ msg: 'b', data: 2, from: b.id }], "an actor's subscribers only see that actor");
        assert.deepEqual(all1.items.map((m) => [m.msg, m.data, m.from]).sort(), [
          ['a', 1, a.id],
          ['b', 2, b.id],
        ]);
        assert.deepEqual(all2.items.map((m) => m.from).sort(), [a.id, b.id].sort());

        unA1();
        unA1(); // idempotent
        unAll1();
        a.receive(3);
        // subscribers of one message are called together: once a2 and all2 have it, a1 and all1
        // would have it too if they were still subscribed
        await waitFor(() => a2.items.length === 2 && all2.items.length === 3);
        assert.equal(a1.items.length, 1);
        assert.equal(all1.items.length, 2);
        assert.deepEqual(a2.items[1], { msg: 'a', data: 3, from: a.id });

        // the same function subscribed to an actor and to the supervisor sees each message twice
        const both = collector();
        const unBoth1 = a.subscribe(both);
        const unBoth2 = sup.subscribe(both);
        a.receive(4);
        await waitFor(() => both.items.length === 2);
        unBoth1();
        unBoth2();
        assert.deepEqual(both.items[0], both.items[1]);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a throwing subscriber does not stop the others and is reported as an error event', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup, ['error']);
        const a = sup.spawn((self, msg) => {
          self.send('m', msg);
        });
        const after = collector();
        a.subscribe(() => {
          throw new Error('subscriber bug');
        });
        a.subscribe(after);
        const all = collector();
        sup.subscribe(all);
        a.receive('x');
        await waitFor(() => all.items.length === 1);
        assert.equal(after.items.length, 1);
        assert.equal(ev.error.length, 1);
        assert.equal(ev.error[0].reason, 'listener threw');
        assert.equal(ev.error[0].error.message, 'subscriber bug');
        assert.equal(await a.call('still'), undefined);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('actor to actor', () => {
    slowTest('a target object whose id changes between sends reaches the actor it names now (ids are remembered, objects are not)', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 3 });
      try {
        const sink = (self, msg) => void self.send('got', msg);
        const a = sup.spawn(sink);
        const b = sup.spawn(sink, { name: 'moving' });
        const gotA = collector();
        const gotB = collector();
        a.subscribe(gotA);
        b.subscribe(gotB);
        const relay = sup.spawn((self, msg, ctx) => {
          const t = { id: msg.a };
          ctx.send(t, 1);
          ctx.send(t, 2); // the same object, twice
          t.id = msg.b;
          ctx.send(t, 3); // now naming the other actor
          ctx.send(msg.a, 4); // an id, then a name
          ctx.send('moving', 5);
          return true;
        });
        assert.equal(await relay.call({ a: a.id, b: b.id }), true);
        await waitFor(() => gotA.items.length === 3 && gotB.items.length === 2, 10000, 'five messages');
        assert.deepEqual(gotA.items.map((m) => m.data), [1, 2, 4]);
        assert.deepEqual(gotB.items.map((m) => m.data), [3, 5]);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('ctx.send by ref id and by registered name; ctx.call by name', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const sink = sup.spawn(
          (self, msg) => {
            if (msg && msg.op === 'double') return msg.n * 2;
            self.send('got', msg);
            return undefined;
          },
          { name: 'sink' },
        );
        const relay = sup.spawn(async (self, msg, ctx) => {
          if (msg.op === 'send') return ctx.send(msg.to, msg.payload);
          if (msg.op === 'call') return ctx.call(msg.to, { op: 'double', n: msg.n }, { timeoutMs: 10000 });
          if (msg.op === 'whereis') return { found: ctx.whereis(msg.name) ?? false };
          return undefined;
        });
        const got = collector();
        sink.subscribe(got);
        assert.equal(await relay.call({ op: 'send', to: sink.id, payload: { via: 'id' } }), true);
        assert.equal(await relay.call({ op: 'send', to: 'sink', payload: { via: 'name' } }), true);
        await waitFor(() => got.items.length === 2);
        assert.deepEqual(got.items, [
          { msg: 'got', data: { via: 'id' }, from: sink.id },
          { msg: 'got', data: { via: 'name' }, from: sink.id },
        ]);
        assert.equal(await relay.call({ op: 'call', to: 'sink', n: 21 }), 42);
        assert.equal(await relay.call({ op: 'call', to: sink.id, n: 5 }), 10);
        assert.deepEqual(await relay.call({ op: 'whereis', name: 'sink' }), { found: { id: sink.id } });
        assert.deepEqual(await relay.call({ op: 'whereis', name: 'nobody' }), { found: false });

        // FIFO between one sender and one receiver
        const many = Array.from({ length: 500 }, (_, i) => i);
        for (const i of many) relay.receive({ op: 'send', to: 'sink', payload: i });
        await waitFor(() => got.items.length === 2 + many.length);
        assert.deepEqual(
          got.items.slice(2).map((m) => m.data),
          many,
        );
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('ctx.send to an unknown name or a bad target throws in the actor', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const relay = sup.spawn(async (self, msg, ctx) => {
          try {
            return { sent: ctx.send(msg.to, 'hello') };
          } catch (err) {
            return { threw: err.name, message: err.message };
          }
        });
        const r1 = await relay.call({ to: 'nobody' });
        assert.equal(r1.threw, 'RangeError');
        assert.match(r1.message, /ctx\.send: target.*nobody/);
        const r2 = await relay.call({ to: 42 });
        assert.equal(r2.threw, 'TypeError');
        assert.match(r2.message, /ctx\.send: target/);
        const r3 = await relay.call({ to: '' });
        assert.equal(r3.threw, 'TypeError');
        assert.equal(await relay.call({ to: relay.id }).then((r) => r.sent), true);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('ctx.send to an actor that is dead for good is a dead letter, not a silent loss', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const ev = record(sup);
        const relay = sup.spawn(async (self, msg, ctx) => ({ sent: ctx.send(msg.to, msg.payload) }));
        const dead = sup.spawn((self, msg) => msg);
        await dead.terminate();
        assert.equal(ev.deadLetter.length, 0);
        await relay.call({ to: dead.id, payload: 'first' });
        // the actor learns that the target is dead; a later send says so at once
        await waitFor(async () => (await relay.call({ to: dead.id, payload: 'probe' })).sent === false, 10000, 'send to return false');
        await waitFor(() => ev.deadLetter.length >= 1, 10000, 'a deadLetter event for the message to a dead actor');
        assert.equal(ev.deadLetter[0].to, dead.id);
        assert.equal(ev.deadLetter[0].message, 'first');
        assert.equal(ev.deadLetter[0].from, relay.id);
        assert.equal(sup.getDiagnostics().value.deadLetters, ev.deadLetter.length);
        const err = await faults(() => dead.call('x', { timeoutMs: 20000 }), ActorExitError, /noproc/);
        assert.equal(err.reason, 'noproc');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('ctx.send through the outbox', () => {
    slowTest('20,000 sends from one handler wrap the ring and arrive in order and intact (non-ASCII, long, over-size, undefined)', 60000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        // message i, as both sides compute it
        const MAKE = `(i) => {
          if (i % 997 === 0) return 'big:' + i + ':' + 'x'.repeat(20000);
          if (i % 101 === 0) return undefined;
          if (i % 7 === 0) return { i, s: 'héllo ✓ 🎉 ' + i };
          if (i % 5 === 0) return { i, s: 'a'.repeat(70 + (i % 13)) };
          return { i };
        }`;
        const consumer = sup.spawn(
          new Function(`return (self, m) => {
            const make = ${MAKE};
            globalThis.n ??= 0;
            const want = make(globalThis.n);
            if (JSON.stringify(m) !== JSON.stringify(want) && !globalThis.bad) globalThis.bad = { at: globalThis.n, got: JSON.stringify(m)?.slice(0, 80) };
            globalThis.n++;
            if (globalThis.n === 20000) self.send('done', { n: globalThis.n, bad: globalThis.bad ?? null });
          }`)(),
          { mailbox: { capacity: 100000 } },
        );
        const producer = sup.spawn(
          new Function(`return (self, m, ctx) => {
            const make = ${MAKE};
            let ok = 0;
            for (let i = 0; i < 20000; i++) ok += ctx.send(m.to, make(i)) ? 1 : 0;
            return ok;
          }`)(),
        );
        const done = new Promise((resolve) => consumer.subscribe((m) => m.msg === 'done' && resolve(m.data)));
        assert.equal(await producer.call({ to: consumer.id }, { timeoutMs: 30000 }), 20000);
        assert.deepEqual(await done, { n: 20000, bad: null });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('mail sent just before a hang arrives without a kill; a call after sends arrives after them', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 3 });
      try {
        const sink = sup.spawn((self, m) => {
          globalThis.n = (globalThis.n ?? 0) + 1;
          if (m === 'count?') return globalThis.n - 1;
          self.send('got', m);
        });
        const got = collector();
        sink.subscribe(got);
        const sender = sup.spawn((self, m, ctx) => {
          if (m.op === 'burst') {
            for (let i = 0; i < 100; i++) ctx.send(m.to, i);
            return ctx.call(m.to, 'count?');
          }
          ctx.send(m.to, 'before the hang');
          for (;;);
        });
        assert.equal(await sender.call({ op: 'burst', to: sink.id }, { timeoutMs: 20000 }), 100, 'the call saw every send made before it');
        sender.receive({ op: 'hang', to: sink.id });
        await waitFor(() => got.items.some((m) => m.data === 'before the hang'), 10000, 'mail sent before the hang');
        assert.equal(sender.getDiagnostics().value.state, 'running', 'still hung, never killed');
        await sender.terminate();
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('mail sent just before a hang arrives even when the outbox sweep had stopped (every outbox idle)', 30000, async () => {
      const sweeping = native.outboxSweepWord(); // [0]: 1 while the core's timer sweeps outboxes
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const sink = sup.spawn((self, m) => self.send('got', m));
        const got = collector();
        sink.subscribe(got);
        const sender = sup.spawn((self, m, ctx) => {
          ctx.send(m.to, m.op);
          if (m.op === 'hang') for (;;);
        });
        sender.receive({ op: 'first', to: sink.id }); // the sender's outbox exists from here on
        await waitFor(() => got.items.some((m) => m.data === 'first'), 10000, 'the first mail');
        await waitFor(() => sweeping[0] === 0, 10000, 'the sweep stopping once every outbox stayed empty');
        sender.receive({ op: 'hang', to: sink.id });
        await waitFor(() => got.items.some((m) => m.data === 'hang'), 10000, 'mail sent before the hang');
        assert.equal(sender.getDiagnostics().value.state, 'running', 'still hung, never killed');
        await sender.terminate();
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('null and undefined', () => {
    slowTest('a handler that returns null resolves the call with null', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => (msg === 'null' ? null : undefined));
        assert.equal(await a.call('undefined'), undefined);
        assert.equal(await a.call('null'), null);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('null reaches the handler as null and is emitted as null', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          self.send('type', msg === null ? 'null' : typeof msg);
          self.send('echo', msg);
        });
        const got = collector();
        a.subscribe(got);
        a.receive(null);
        await waitFor(() => got.items.length === 2);
        assert.deepEqual(got.items[0], { msg: 'type', data: 'null', from: a.id });
        assert.equal(got.items[1].data, null, 'self.send(msg, null) must carry null');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('receive(undefined) reaches the handler as undefined', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          self.send('type', msg === null ? 'null' : typeof msg);
        });
        const got = collector();
        a.subscribe(got);
        assert.equal(a.receive(undefined), true);
        await waitFor(() => got.items.length === 1);
        assert.equal(got.items[0].data, 'undefined');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});

describe('values JSON would change are refused everywhere a message travels', () => {
  slowTest('a Date or an Error in a message, an emit, a reply, a task input or a task result is a TypeError saying what to send; refs still travel as { id }', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const a = sup.spawn(async (self, msg, ctx) => {
        const attempt = (f) => {
          try {
            f();
            return 'accepted';
          } catch (e) {
            return `${e.constructor.name}: ${e.message}`;
          }
        };
        if (msg === 'reply a date') return { when: new Date(0) };
        if (msg === 'inside') {
          return {
            send: attempt(() => ctx.send(self.id, { when: new Date(0) })),
            emit: attempt(() => self.send('when', new Date(0))),
            error: attempt(() => ctx.send(self.id, { failure: new Error('lost') })),
          };
        }
        return msg;
      });
      await faults(() => a.call({ when: new Date(0) }), TypeError, /^call: msg: a Date cannot be sent .*toISOString/);
      await faults(() => a.receive([new Date(0)]), TypeError, /^receive: msg: a Date/);
      await faults(() => a.call('reply a date', { timeoutMs: 20000 }), Error, /^call reply: a Date cannot be sent/);
      const inside = await a.call('inside', { timeoutMs: 20000 });
      assert.match(inside.send, /^TypeError: ctx\.send: msg: a Date cannot be sent/);
      assert.match(inside.emit, /^TypeError: self\.send: data: a Date cannot be sent/);
      assert.match(inside.error, /^TypeError: ctx\.send: msg: an Error \(Error\) cannot be sent .*\{ name, message \}/);
      await faults(() => sup.task((x) => x, { when: new Date(0) }), TypeError, /^task: input: a Date/);
      await faults(() => sup.task(() => new Date(0)), TypeError, /^task result: a Date/);
      assert.deepEqual(await a.call({ ref: a, iso: new Date(0).toISOString() }), { ref: { id: a.id }, iso: '1970-01-01T00:00:00.000Z' });
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});

describe('self.send through the outbox (isolated actors)', () => {
  slowTest('an event emitted just before a hang reaches subscribers, in order, without a kill', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 2 });
    try {
      const a = sup.spawn((self, m) => {
        for (let i = 0; i < 3; i++) self.send('before', i);
        if (m === 'hang') for (;;);
      });
      const got = collector();
      a.subscribe(got);
      a.receive('hang');
      await waitFor(() => got.items.length === 3, 10000, 'events emitted before the hang');
      assert.deepEqual(
        got.items.map((e) => [e.msg, e.data, e.from]),
        [0, 1, 2].map((i) => ['before', i, a.id]),
      );
      assert.equal(a.getDiagnostics().value.state, 'running', 'still hung, never killed');
      await a.terminate();
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
