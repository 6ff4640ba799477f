import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, collector, record, within, faults, NO_LEAKS, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats, TimeoutError, ActorExitError } from '../index.mjs';

forEachKind((k) => {
  describe('call', () => {
    slowTest('resolves with the return value of sync and async handlers', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const sync = sup.spawn((self, msg) => ({ sum: msg.a + msg.b, echo: msg }));
        const asyncActor = sup.spawn(async (self, msg) => {
          await new Promise((r) => setTimeout(r, 5));
          return [msg, 'later'];
        });
        const nothing = sup.spawn(() => {});
        assert.deepEqual(await sync.call({ a: 2, b: 3 }), { sum: 5, echo: { a: 2, b: 3 } });
        assert.deepEqual(await asyncActor.call('x', { timeoutMs: 10000 }), ['x', 'later']);
        assert.equal(await nothing.call('anything'), undefined);
        assert.deepEqual(await sync.call({ a: 'a', b: 'b' }), { sum: 'ab', echo: { a: 'a', b: 'b' } });
        // many calls in flight at once, answered in order and matched to their callers
        const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => sync.call({ a: i, b: 1 })));
        answers.forEach((r, i) => assert.equal(r.sum, i + 1));
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('rejects with TimeoutError when the handler takes longer than timeoutMs', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const ev = record(sup);
        const slow = sup.spawn(async (self, msg) => {
          if (msg === 'slow') await new Promise((r) => setTimeout(r, 60000));
          return msg;
        });
        assert.equal(await slow.call('warm'), 'warm');
        const err = await within(
          faults(() => slow.call('slow', { timeoutMs: 100 }), TimeoutError, /timed out/),
          10000,
          'the timeout',
        );
        assert.equal(err.name, 'TimeoutError');
        assert.ok(err instanceof Error);
        // the actor itself was not killed by a call timeout
        assert.equal(ev.exit.length, 0);
        assert.ok(slow.getDiagnostics().isOk);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest("rejects with ActorExitError('terminated') when the target is terminated mid-call", 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const spinner = sup.spawn(async (self) => {
          self.send('spinning');
          await new Promise((r) => setTimeout(r, 1)); // let the emit leave first
          for (;;) {}
        });
        const spinning = collector();
        spinner.subscribe(spinning);
        const pending = spinner.call('spin', { timeoutMs: 60000 }).then(
          (v) => ({ resolved: v }),
          (e) => e,
        );
        await waitFor(() => spinning.items.length === 1, 10000, 'spinning');
        await within(spinner.terminate(), 5000, 'terminate');
        const err = await within(pending, 5000, 'the pending call');
        assert.ok(err instanceof ActorExitError, `expected ActorExitError, got ${JSON.stringify(err)}`);
        assert.equal(err.reason, 'terminated');
        assert.match(err.message, /terminated/);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('rejects with the exit reason when the handler crashes, and queued calls go to the next incarnation', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => {
          if (msg === 'crash') throw new Error('crashed on purpose');
          return `ok:${msg}`;
        });
        const crashing = a.call('crash', { timeoutMs: 20000 }).then(
          (v) => ({ resolved: v }),
          (e) => e,
        );
        const next = a.call('next', { timeoutMs: 20000 });
        const err = await within(crashing, 20000, 'crashing call');
        assert.ok(err instanceof ActorExitError, `expected ActorExitError, got ${JSON.stringify(err)}`);
        assert.equal(err.reason, 'error: crashed on purpose');
        assert.equal(await next, 'ok:next');
        assert.equal(a.incarnation, 1);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a call to an actor that is dead for good rejects at once (noproc)', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => msg);
        assert.equal(await a.call(1), 1);
        await a.terminate();
        const err = await within(
          faults(() => a.call('anyone?', { timeoutMs: 60000 }), ActorExitError, /noproc/),
          5000,
          'a call to a dead actor',
        );
        assert.equal(err.reason, 'noproc');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a late reply after a timeout is dropped and the next call gets its own answer', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn(async (self, msg) => {
          if (msg.wait) await new Promise((r) => setTimeout(r, msg.wait));
          return msg.n;
        });
        await faults(() => a.call({ n: 1, wait: 300 }, { timeoutMs: 20 }), TimeoutError, /timed out/);
        // handled after the slow one: it must get 2, never the late 1
        assert.equal(await a.call({ n: 2 }, { timeoutMs: 20000 }), 2);
        assert.equal(await a.call({ n: 3 }), 3);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a short timeout fires while a call with a long one is still in flight', 30000, async () => {
      // the host keeps one timer for all its calls' deadlines: a later, shorter one must re-arm it
      const sup = k.createSupervisor({ warmWorkers: 2 });
      try {
        const hung = sup.spawn(() => new Promise(() => {}));
        const slow = sup.spawn(async (self, msg) => {
          await new Promise((r) => setTimeout(r, msg.wait));
          return msg.n;
        });
        const long = hung.call('never', { timeoutMs: 60000 }).catch((e) => e);
        await faults(() => slow.call({ n: 1, wait: 2000 }, { timeoutMs: 30 }), TimeoutError, /timed out after 30 ms/);
        assert.equal(await slow.call({ n: 2, wait: 0 }, { timeoutMs: 20000 }), 2);
        await hung.terminate();
        assert.ok((await long) instanceof ActorExitError, 'the long call ends with its callee, not by its timeout');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a reply that cannot be serialised rejects the call instead of losing it', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn((self, msg) => (msg === 'bad' ? { f() {} } : msg));
        await faults(() => a.call('bad', { timeoutMs: 20000 }), Error, /call reply/);
        assert.equal(await a.call('good'), 'good');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });
});

/** An AbortSignal look-alike that counts its listeners (to prove a settled call keeps none). */
function countingSignal() {
  const listeners = new Set();
  const s = {
    aborted: false,
    reason: undefined,
    addEventListener: (type, fn) => type === 'abort' && listeners.add(fn),
    removeEventListener: (type, fn) => type === 'abort' && listeners.delete(fn),
    abort(reason) {
      s.aborted = true;
      s.reason = reason;
      for (const fn of [...listeners]) fn();
    },
    get listeners() {
      return listeners.size;
    },
  };
  return s;
}

describe('call options: signal, and unknown options refused', () => {
  slowTest('ref.call rejects with the signal\'s reason when it aborts; the late reply is dropped; no listener is left', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const a = sup.spawn(async (self, msg) => {
        if (msg.wait) await new Promise((r) => setTimeout(r, msg.wait));
        return msg.n;
      });
      assert.equal(await a.call({ n: 0 }, { timeoutMs: 20000 }), 0);
      const ac = new AbortController();
      const why = new Error('no longer needed');
      const pending = a.call({ n: 1, wait: 300 }, { signal: ac.signal, timeoutMs: 20000 });
      ac.abort(why);
      await assert.rejects(pending, (err) => err === why);
      // the aborted call's reply comes later and must not answer this one
      assert.equal(await a.call({ n: 2 }, { timeoutMs: 20000 }), 2);

      const plain = new AbortController();
      const p2 = a.call({ n: 3, wait: 100 }, { signal: plain.signal });
      plain.abort();
      await assert.rejects(p2, (err) => err.name === 'AbortError');

      const pre = AbortSignal.abort(new Error('before'));
      await assert.rejects(a.call({ n: 4 }, { signal: pre }), /before/, 'an aborted signal rejects at once');

      const counted = countingSignal();
      assert.equal(await a.call({ n: 5 }, { signal: counted }), 5);
      assert.equal(counted.listeners, 0, 'a call that got its reply stops listening');
      const timedOut = countingSignal();
      await faults(() => a.call({ n: 6, wait: 300 }, { signal: timedOut, timeoutMs: 20 }), TimeoutError, /timed out/);
      assert.equal(timedOut.listeners, 0, 'a call that timed out stops listening');
      assert.equal(await a.call({ n: 7 }, { timeoutMs: 20000 }), 7);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ref.call refuses unknown options and a signal that is not an AbortSignal, naming them', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const a = sup.spawn((self, msg) => msg);
      assert.throws(() => a.call(1, { timeout: 10 }), (e) => e instanceof TypeError && /call: options: unknown option "timeout"/.test(e.message));
      assert.throws(() => a.call(1, { signal: {} }), (e) => e instanceof TypeError && /call: options\.signal must be an AbortSignal/.test(e.message));
      assert.throws(() => a.call(1, { timeoutMs: -1 }), RangeError);
      assert.equal(await a.call(1, { timeoutMs: 20000, signal: new AbortController().signal }), 1);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  for (const kind of ['isolated', 'pooled']) {
    slowTest(`ctx.call in a ${kind} actor: a signal aborts it with its reason, and an unknown option is a TypeError`, 30000, async () => {
      const sup = createSupervisor({ warmWorkers: 1, pool: { workers: 1 } });
      try {
        const slow = sup.spawn(async (self, msg) => {
          if (msg === 'slow') await new Promise((r) => setTimeout(r, 300));
          return msg;
        }, { name: 'slow' });
        const caller = sup.spawn(async (self, msg, ctx) => {
          const out = {};
          const ac = new AbortController();
          const p = ctx.call('slow', 'slow', { signal: ac.signal, timeoutMs: 20000 });
          ac.abort(new Error('changed my mind'));
          out.aborted = await p.then((v) => `resolved ${v}`, (e) => e.message);
          out.pre = await ctx.call('slow', 'x', { signal: AbortSignal.abort() }).then((v) => `resolved ${v}`, (e) => e.name);
          try {
            ctx.call('slow', 'x', { timeout: 10 });
            out.unknown = 'accepted';
          } catch (e) {
            out.unknown = `${e.constructor.name}: ${e.message}`;
          }
          out.after = await ctx.call('slow', 'after', { timeoutMs: 20000 });
          return out;
        }, { kind });
        assert.deepEqual(await caller.call('go', { timeoutMs: 20000 }), {
          aborted: 'changed my mind',
          pre: 'AbortError',
          unknown: 'TypeError: ctx.call: options: unknown option "timeout" (expected one of: timeoutMs, signal)',
          after: 'after',
        });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  }
});
