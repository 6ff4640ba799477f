// Panics never take the process down (DESIGN.md 4 and 7): a Rust panic in a native call throws
// an Error, and one on the core's own threads (the timer, an outbox drain) is reported as the
// supervisor's `error` event while deadlines and delivery go on. The panics are made on demand
// by the internal test hook `testPanic(site)`, which refuses unless WARDEN_TEST_HOOKS is '1'.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test, slowTest, waitFor, collector, record, faults, withSup } from './harness.mjs';

const native = createRequire(import.meta.url)('../lib/native.js');

/** Makes warden panic once at `site`, with the test hooks on only for this call. */
function panicAt(site) {
  const before = process.env.WARDEN_TEST_HOOKS;
  process.env.WARDEN_TEST_HOOKS = '1';
  try {
    return native.testPanic(site);
  } finally {
    if (before === undefined) delete process.env.WARDEN_TEST_HOOKS;
    else process.env.WARDEN_TEST_HOOKS = before;
  }
}

describe('the test hook', () => {
  test('refuses unless WARDEN_TEST_HOOKS is 1, and names the sites it knows', async () => {
    const before = process.env.WARDEN_TEST_HOOKS;
    delete process.env.WARDEN_TEST_HOOKS;
    try {
      await faults(() => native.testPanic('entry'), Error, /^testPanic: test hooks are off/);
      process.env.WARDEN_TEST_HOOKS = 'yes';
      await faults(() => native.testPanic('entry'), Error, /^testPanic: test hooks are off/);
    } finally {
      if (before === undefined) delete process.env.WARDEN_TEST_HOOKS;
      else process.env.WARDEN_TEST_HOOKS = before;
    }
    await faults(() => panicAt('elsewhere'), Error, /^testPanic: site must be 'entry', 'timer' or 'drain', got "elsewhere"$/);
    assert.equal(typeof (await import('../index.mjs')).testPanic, 'undefined', 'not part of the public API');
  });
});

describe('a panic in a native call', () => {
  slowTest('throws an Error naming the call and the panic, and the supervisor keeps working', 30000, async () => {
    await withSup({ warmWorkers: 1 }, async (sup) => {
      const ev = record(sup);
      const a = sup.spawn((self, msg) => msg + 1);
      assert.equal(await a.call(1), 2);
      const err = await faults(
        () => panicAt('entry'),
        Error,
        /^internal panic: testPanic: test hook: entry panics on demand$/,
      );
      assert.equal(err.constructor, Error);
      // the same actor, and a new one, still answer
      assert.equal(await a.call(41), 42);
      const b = sup.spawn((self, msg) => msg * 2);
      assert.equal(await b.call(21), 42);
      assert.equal(sup.getDiagnostics().value.activeActors, 2);
      assert.deepEqual(ev.error, [], 'a panic thrown to the caller is not also an error event');
    });
  });

  slowTest('on an actor thread is a throw in its handler: the actor exits with it as its reason and is restarted', 30000, async () => {
    await withSup({ warmWorkers: 1 }, async (sup) => {
      const ev = record(sup);
      const a = sup.spawn(new URL('./fixtures/panic-in-actor.mjs', import.meta.url));
      assert.equal(await a.call('1'), 'ok:1');
      a.receive('panic');
      await waitFor(() => ev.restart.length === 1, 10000, 'the restart after the panic');
      const reason = 'error: internal panic: testPanic: test hook: entry panics on demand';
      assert.deepEqual(
        ev.exit.map((e) => [e.id, e.reason, e.message.message]),
        [[a.id, reason, 'panic']],
      );
      assert.deepEqual(ev.restart[0], { id: a.id, incarnation: 1, reason });
      assert.equal(await a.call('2'), 'ok:2');
      assert.deepEqual(ev.error, []);
    });
  });
});

describe('a panic on the timer thread', () => {
  slowTest('is reported as an error event, and a later deadline still kills and restarts a hung actor', 30000, async () => {
    await withSup({ warmWorkers: 2 }, async (sup) => {
      const ev = record(sup);
      const hung = sup.spawn(
        (self, msg) => {
          if (msg === 'hang') while (true) {}
          return msg;
        },
        { timeoutMs: 100 },
      );
      assert.equal(await hung.call('ready'), 'ready');
      const inc = hung.incarnation;
      panicAt('timer');
      await waitFor(() => ev.error.length === 1, 10000, 'the error event of the timer panic');
      assert.deepEqual(ev.error[0], { reason: 'internal panic: timer tick: test hook: Timer panics on demand' });

      hung.receive('hang');
      await waitFor(() => ev.restart.length === 1, 10000, 'the deadline to kill and restart the hung actor');
      assert.deepEqual(
        ev.exit.map((e) => [e.id, e.reason, e.incarnation]),
        [[hung.id, 'timeout', inc]],
      );
      assert.deepEqual(ev.restart[0], { id: hung.id, incarnation: inc + 1, reason: 'timeout' });
      assert.equal(await hung.call('after'), 'after');
      assert.equal(ev.error.length, 1, 'the timer panicked once');
    });
  });
});

describe('a panic in an outbox drain', () => {
  slowTest('is reported as an error event naming what it lost, and later ctx.send mail is delivered', 30000, async () => {
    await withSup({ warmWorkers: 2 }, async (sup) => {
      const ev = record(sup);
      const sink = sup.spawn((self, msg) => {
        self.send('got', msg);
      });
      const got = collector();
      sink.subscribe(got);
      const sender = sup.spawn((self, msg, ctx) => ctx.send(msg.to, msg.payload));
      assert.equal(await sender.call({ to: sink.id, payload: 'before' }), true);
      await waitFor(() => got.items.length === 1, 10000, 'the first mail');

      panicAt('drain');
      // the drain of this send panics (on the sender's thread or the timer's sweep): the
      // sender's call still answers
      assert.equal(await sender.call({ to: sink.id, payload: 'during' }), true);
      await waitFor(() => ev.error.length === 1, 10000, 'the error event of the drain panic');
      assert.deepEqual(ev.error[0], {
        reason: `internal panic: outbox drain: test hook: Drain panics on demand (1 message(s) to ${sink.id} lost)`,
      });

      assert.equal(await sender.call({ to: sink.id, payload: 'after' }), true);
      await waitFor(() => got.items.some((m) => m.data === 'after'), 10000, 'mail sent after the panic');
      assert.deepEqual(
        got.items.map((m) => m.data),
        ['before', 'after'],
        'the run the panic interrupted is lost (as reported), the rest arrives in order',
      );
      assert.equal(ev.error.length, 1);
      assert.deepEqual(ev.exit, [], 'no actor died of it');
    });
  });
});

describe('every native entry point', () => {
  test('catches panics: each #[napi] function is catch_unwind and runs its body under a guard named after it', () => {
    const src = new URL('../src/', import.meta.url);
    const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    const unguarded = [];
    let entries = 0;
    for (const file of fs.readdirSync(src).filter((f) => f.endsWith('.rs'))) {
      const text = fs.readFileSync(new URL(file, src), 'utf8');
      const fns = /#\[napi(?:\(([^)]*)\))?\]\s*pub fn (\w+)\([^{]*\{\s*(\w+)\("(\w+)"/g;
      for (const m of text.matchAll(/#\[napi(?:\(([^)]*)\))?\]\s*pub (fn|struct) (\w+)/g)) {
        if (m[2] !== 'fn') continue;
        entries++;
        fns.lastIndex = m.index;
        const g = fns.exec(text);
        const ok =
          g?.index === m.index &&
          /\bcatch_unwind\b/.test(g[1] ?? '') &&
          (g[3] === 'guard' || g[3] === 'guard_try') &&
          g[4] === camel(m[3]);
        if (!ok) unguarded.push(`${file}: ${m[3]}`);
      }
    }
    assert.ok(entries >= 50, `found only ${entries} entry points`);
    assert.deepEqual(unguarded, []);
  });
});
