// Pooled actors (DESIGN.md 8): many actors on a few worker threads, same API and supervision.
import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, deadForGood, record, faults, NO_LEAKS, POOLED_REFUSES } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

// A handler's deadline far above what these handlers need, so a busy shared machine that
// deschedules a worker mid-handler is not mistaken for a hang (the hang test sets its own).
const SLOW_MACHINE = 2000;

/**
 * The sizes of the notes by which `sup`'s host learns of children a worker spawned alone
 * (`_adoptChildren` in lib/host/supervisor.js, spied on): one entry per note, in order.
 */
function adoptions(sup) {
  const notes = [];
  const adopt = sup._adoptChildren;
  sup._adoptChildren = function (tid, ids) {
    notes.push(ids.length / 2);
    return adopt.call(this, tid, ids);
  };
  return notes;
}

/** How many children those notes named in all. */
const total = (notes) => notes.reduce((a, b) => a + b, 0);

const counter = {
  init: () => ({ hits: 0 }),
  handle: (s, msg) => ({ hits: s.hits + 1 }),
};

describe('pooled actors', () => {
  slowTest('the example of DESIGN 8.1: spawnMany, receive, and call returning the new state', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: SLOW_MACHINE } });
    try {
      const sessions = sup.spawnMany(1000, counter, { kind: 'pooled' });
      assert.equal(sessions.length, 1000);
      assert.ok(sessions[123].receive('hit'));
      assert.deepEqual(await sessions[999].call('hit'), { hits: 1 });
      assert.deepEqual(await sessions[123].call('hit'), { hits: 2 }, 'the receive was handled first');
      const d = sessions[5].getDiagnostics().value;
      assert.equal(d.kind, 'pooled');
      assert.ok(d.worker === 0 || d.worker === 1, `worker index ${d.worker}`);
      const room = sup.spawn((self, msg) => `${self.id}:${msg}`, { kind: 'pooled', name: 'lobby' });
      assert.equal(await sup.whereis('lobby').call('hi'), `${room.id}:hi`);
      assert.equal(sup.spawn((self, msg) => msg).getDiagnostics().value.kind, 'isolated');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('100,000 pooled actors are spawned, each answers a call, and shutdown leaves nothing behind', 180000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: 2000 } });
    try {
      const actors = sup.spawnMany(100_000, (self, msg) => [self.id, msg], { kind: 'pooled' });
      const answers = await Promise.all(actors.map((a, i) => a.call(i, { timeoutMs: 120000 })));
      answers.forEach(([id, n], i) => {
        assert.equal(id, actors[i].id);
        assert.equal(n, i);
      });
      assert.equal(sup.getDiagnostics().value.activeActors, 100_000);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('pooled and isolated actors call each other both ways; self.send reaches subscribers', 60000, async () => {
    const sup = createSupervisor({ warmWorkers: 1, pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const relay = async (self, msg, ctx) => (msg.to ? ctx.call(msg.to, msg.q) : `${self.id}:${msg}`);
      const iso = sup.spawn(relay);
      const pooled = sup.spawn(relay, { kind: 'pooled' });
      assert.equal(await iso.call({ to: pooled.id, q: 'x' }), `${pooled.id}:x`);
      assert.equal(await pooled.call({ to: iso.id, q: 'y' }), `${iso.id}:y`);
      const echo = sup.spawn((self, msg, ctx) => {
        ctx.send(msg.to, `from ${self.id}`);
        self.send('sent', msg.to);
      }, { kind: 'pooled' });
      const got = [];
      echo.subscribe((m) => got.push(m));
      const sink = sup.spawn((self, msg) => self.send('got', msg), { kind: 'pooled' });
      const sunk = [];
      sink.subscribe((m) => sunk.push(m));
      echo.receive({ to: sink.id });
      await waitFor(() => sunk.length === 1 && got.length === 1, 10000, 'the relayed message');
      assert.deepEqual(sunk[0], { msg: 'got', data: `from ${echo.id}`, from: sink.id });
      assert.deepEqual(got[0], { msg: 'sent', data: sink.id, from: echo.id });
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.send between co-located actors (through their worker outbox) keeps FIFO per sender', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const sink = sup.spawn({
        init: () => ({}),
        handle: (seen, m, ctx) => {
          if (m === 'report') return seen;
          const from = m.from;
          if ((seen[from] ?? -1) + 1 !== m.i) ctx.self.send('out of order', m);
          return { ...seen, [from]: m.i };
        },
      }, { kind: 'pooled' });
      const senders = sup.spawnMany(20, (self, msg, ctx) => {
        for (let i = 0; i < msg.n; i++) ctx.send(msg.to, { from: self.id, i });
        return true;
      });
      const bad = [];
      sink.subscribe((m) => bad.push(m));
      await Promise.all(senders.map((s) => s.call({ to: sink.id, n: 500 })));
      const seen = await sink.call('report');
      assert.deepEqual(bad, []);
      assert.deepEqual(seen, Object.fromEntries(senders.map((s) => [s.id, 499])));
      const diag = sink.getDiagnostics().value;
      assert.equal(diag.messageCount, 20 * 500 + 1);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.send given ids, refs and names in turn reaches each its own target, also a name that moved to another actor', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const keep = { init: () => [], handle: (got, m) => (m === 'report' ? got : [...got, m]) };
      const [a, b, c] = sup.spawnMany(3, keep, { kind: 'pooled' });
      await b.call('report'); // (started: registered next)
      const named = sup.spawn({ init: () => [], handle: (got, m, ctx) => (m === 'report' ? got : m === 'register' ? (ctx.register('x'), got) : [...got, m]) }, { kind: 'pooled' });
      await named.call('register');
      const sender = sup.spawn((self, { b, list }, ctx) => {
        for (const [to, m] of list) ctx.send(to === 'refB' ? { id: b } : to, m);
        return true;
      }, { kind: 'pooled' });
      const plan = (tag) => [
        ['x', `${tag}x0`], [a.id, `${tag}a1`], [a.id, `${tag}a2`], ['x', `${tag}x1`], [a.id, `${tag}a3`], ['refB', `${tag}b1`], [c.id, `${tag}c1`], ['x', `${tag}x2`], [c.id, `${tag}c2`], ['x', `${tag}x3`],
      ]; // (each ends and starts with the name: the first send of the second round follows it to its new actor)
      await sender.call({ b: b.id, list: plan('1') });
      assert.deepEqual(await named.call('report'), ['1x0', '1x1', '1x2', '1x3']);
      // 'x' moves to another actor: the next sends by name follow it
      await named.terminate();
      const moved = sup.spawn({ init: () => [], handle: (got, m, ctx) => (m === 'report' ? got : m === 'register' ? (ctx.register('x'), got) : [...got, m]) }, { kind: 'pooled' });
      await moved.call('register');
      await sender.call({ b: b.id, list: plan('2') });
      assert.deepEqual(await a.call('report'), ['1a1', '1a2', '1a3', '2a1', '2a2', '2a3']);
      assert.deepEqual(await b.call('report'), ['1b1', '2b1']);
      assert.deepEqual(await c.call('report'), ['1c1', '1c2', '2c1', '2c2']);
      assert.deepEqual(await moved.call('report'), ['2x0', '2x1', '2x2', '2x3']);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('mixed mail reaches a pooled actor in order and as sent: messages, calls, undefined and null bodies (the flat batch format)', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const [a] = sup.spawnMany(1, { init: () => [], handle: (log, msg) => [...log, msg === undefined ? 'undefined' : msg] });
      const got = [];
      for (let round = 0; round < 20; round++) {
        assert.ok(a.receive(undefined));
        assert.ok(a.receive({ a: round }));
        got.push(a.call());
        assert.ok(a.receive([1, round]));
        got.push(a.call(`x${round}`));
        assert.ok(a.receive(null));
      }
      const log = await a.call('log');
      const expected = [];
      for (let round = 0; round < 20; round++) expected.push('undefined', { a: round }, 'undefined', [1, round], `x${round}`, null);
      assert.deepEqual(log, [...expected, 'log']);
      const answers = await Promise.all(got);
      // a stateful actor answers a call with its new state: the log up to that call
      for (let round = 0; round < 20; round++) {
        assert.deepEqual(answers[2 * round], expected.slice(0, 6 * round + 3));
        assert.deepEqual(answers[2 * round + 1], expected.slice(0, 6 * round + 5));
      }
    } finally {
      await sup.shutdown();
    }
  });

  slowTest('a handler that throws restarts only its actor; terminate takes effect between messages', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const ev = record(sup);
      const b = {
        init: () => 0,
        handle: (n, msg) => {
          if (msg === 'boom') throw new Error('boom');
          return n + 1;
        },
      };
      const [a, other] = sup.spawnMany(2, b);
      assert.equal(await a.call('x'), 1);
      assert.equal(await other.call('x'), 1);
      a.receive('boom');
      await waitFor(() => ev.restart.length === 1, 10000, 'the restart');
      assert.deepEqual(
        ev.exit.map((e) => [e.id, e.reason, e.message?.message]),
        [[a.id, 'error: boom', 'boom']],
      );
      assert.equal(a.incarnation, 1);
      assert.equal(await a.call('x'), 1, 'init ran again');
      assert.equal(await other.call('x'), 2, 'its neighbour kept its state');
      await other.terminate();
      assert.equal(other.receive('late'), false);
      assert.equal(await a.call('x'), 2);
      assert.equal(ev.error.length, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('a sync hang among 10,000 co-located actors: culprit timeout, the rest worker_lost or untouched, every message accounted for', 120000, async () => {
    // interrupt: false — this is the layer that replaces the worker (pooled-features tests the other)
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 1000, interrupt: false }, retry: { max: 1, withinMs: 60000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'deadLetter', 'workerLost']);
      const actors = sup.spawnMany(10_000, {
        init: () => 0,
        handle: (n, msg, ctx) => {
          if (msg === 'hang') for (;;);
          if (msg && msg.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      });
      await Promise.all(actors.map((a) => a.call('warm', { timeoutMs: 60000 })));
      const handled = new Set();
      sup.subscribe((m) => handled.add(m.data));
      const culprit = actors[5000];
      assert.ok(culprit.receive('hang'));
      actors.forEach((a, i) => assert.ok(a.receive({ n: i })));
      const lost = await waitFor(() => ev.workerLost[0], 30000, 'the workerLost event');
      assert.equal(lost.culprit, culprit.id);
      assert.equal(lost.worker, 0);
      assert.equal(lost.cause, 'maxBlockMs');
      const inFlight = () => ev.exit.filter((e) => e.message?.message?.n !== undefined).map((e) => e.message.message.n);
      // every message: handled, reported in flight by an exit, or a dead letter
      await waitFor(() => handled.size + inFlight().length + ev.deadLetter.length >= 10_000, 60000, 'every message accounted for');
      assert.equal(handled.size + inFlight().length + ev.deadLetter.length, 10_000);
      assert.equal(ev.deadLetter.length, 0, 'mailboxes were kept');
      for (const n of inFlight()) assert.ok(!handled.has(n), `message ${n} both handled and in flight`);
      const culpritExit = ev.exit.filter((e) => e.id === culprit.id);
      assert.deepEqual(culpritExit.map((e) => [e.reason, e.message?.message]), [['timeout', 'hang']]);
      const others = ev.exit.filter((e) => e.id !== culprit.id);
      assert.ok(others.every((e) => e.reason === 'worker_lost'), 'the others exit with worker_lost');
      assert.deepEqual(lost.actors.length, ev.exit.length);
      assert.equal(ev.error.length, 0, 'no intensity exceeded (retry.max is 1)');
      // all answer again, the culprit in its next incarnation (its state started over)
      const again = await Promise.all(actors.map((a) => a.call('again', { timeoutMs: 60000 })));
      assert.equal(culprit.incarnation, 1);
      assert.ok(again[5000] <= 2, `culprit's state ${again[5000]}`);
      assert.ok(again.every((n) => n >= 1));
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('a lost worker ends its 10,000 actors together: each restarts once or ends for good as its restart type says, mail kept, no intensity exceeded', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 1000, interrupt: false }, retry: { max: 1, withinMs: 60000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'deadLetter', 'workerLost']);
      const handled = new Set();
      sup.subscribe((m) => handled.add(m.data));
      const behaviour = {
        init: () => 0,
        handle: (n, msg, ctx) => {
          if (msg === 'hang') for (;;);
          if (msg && msg.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      };
      const permanent = sup.spawnMany(4000, behaviour, { restart: 'permanent' });
      const temporary = sup.spawnMany(2000, behaviour, { restart: 'temporary' });
      const transient = sup.spawnMany(4000, behaviour);
      const actors = [...permanent, ...temporary, ...transient];
      await Promise.all(actors.map((a) => a.call('warm', { timeoutMs: 60000 })));
      const culprit = transient[1234];
      assert.ok(culprit.receive('hang'));
      // two messages each behind the hang: both wait in the mailboxes the worker never took
      actors.forEach((a, i) => {
        assert.ok(a.receive({ n: 2 * i }));
        assert.ok(a.receive({ n: 2 * i + 1 }));
      });
      const lost = await waitFor(() => ev.workerLost[0], 30000, 'the workerLost event');
      assert.equal(lost.culprit, culprit.id);
      assert.equal(lost.actors.length, 10_000);
      assert.deepEqual(new Set(lost.actors), new Set(actors.map((a) => a.id)));
      // one exit each: the culprit timeout (its hang in flight), the rest worker_lost
      assert.equal(ev.exit.length, 10_000);
      assert.deepEqual(ev.exit.filter((e) => e.reason !== 'worker_lost').map((e) => [e.id, e.reason, e.message?.message]), [[culprit.id, 'timeout', 'hang']]);
      // restarted once each, in one placement, unless temporary (those end for good)
      const restarted = ev.restart.map((e) => e.id);
      assert.equal(new Set(restarted).size, restarted.length, 'no actor restarted twice');
      assert.deepEqual(new Set(restarted), new Set([...permanent, ...transient].map((a) => a.id)));
      assert.ok(ev.restart.every((e) => e.incarnation === 1 && e.reason === (e.id === culprit.id ? 'timeout' : 'worker_lost')));
      for (const a of temporary) assert.ok(a.getDiagnostics().isErr, `${a.id} (temporary) ended for good`);
      assert.equal(ev.error.length, 0, 'no intensity exceeded (retry.max is 1)');
      // every message once: in flight at its actor's exit (those the worker had taken with the
      // hang's batch), else handled by the next incarnation, or a dead letter if there is none
      const inFlight = ev.exit.filter((e) => e.message?.message?.n !== undefined).map((e) => e.message.message.n);
      const isTemporary = new Set(temporary.map((a) => a.id));
      const expectHandled = [];
      const expectDead = [];
      actors.forEach((a, i) => {
        for (const n of [2 * i, 2 * i + 1]) if (!inFlight.includes(n)) (isTemporary.has(a.id) ? expectDead : expectHandled).push(n);
      });
      await waitFor(() => handled.size >= expectHandled.length && ev.deadLetter.length >= expectDead.length, 60000, 'every message handled or dead-lettered');
      const sorted = (list) => [...list].sort((a, b) => a - b);
      assert.deepEqual(sorted(handled), expectHandled);
      assert.deepEqual(sorted(ev.deadLetter.map((d) => d.message.n)), expectDead);
      assert.equal(handled.size + inFlight.length + ev.deadLetter.length, 20_000);
      assert.ok(ev.deadLetter.every((d) => d.reason === 'worker_lost'));
      assert.equal(await culprit.call('again', { timeoutMs: 60000 }), 3, 'its state started over: its two kept messages (the hang was in flight), then this call');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest("a lost worker's culprit over its group's intensity: the group gives up, every actor exits once and ends for good", 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 1000, interrupt: false }, retry: { max: 0, withinMs: 60000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'workerLost']);
      const actors = sup.spawnMany(500, (self, msg) => {
        if (msg === 'hang') for (;;);
        return msg;
      });
      await Promise.all(actors.map((a) => a.call('warm', { timeoutMs: 60000 })));
      const culprit = actors[100];
      assert.ok(culprit.receive('hang'));
      await waitFor(() => ev.error.length > 0, 30000, 'the intensity_exceeded error');
      assert.deepEqual(ev.error.map((e) => [e.reason, e.cause, e.id]), [['intensity_exceeded', 'timeout', culprit.id]]);
      for (const a of actors) await deadForGood(a);
      const ids = ev.exit.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no actor exited twice');
      assert.deepEqual(new Set(ids), new Set(actors.map((a) => a.id)));
      assert.deepEqual(ev.exit.filter((e) => e.reason !== 'worker_lost').map((e) => [e.id, e.reason]), [[culprit.id, 'timeout']]);
      assert.equal(ev.restart.length, 0);
      assert.equal(ev.workerLost.length, 1);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('an async-continuation hang among 10,000 co-located actors: culprit timeout, the rest worker_lost or untouched, every message accounted for', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 1000 }, retry: { max: 1, withinMs: 60000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'deadLetter', 'workerLost']);
      const actors = sup.spawnMany(10_000, {
        init: () => 0,
        handle: (n, msg, ctx) => {
          // only the culprit's handler is async: it yields to the event loop, then never again
          if (msg === 'hang') {
            return (async () => {
              await new Promise((r) => setTimeout(r, 1));
              for (;;);
            })();
          }
          if (msg && msg.n !== undefined) ctx.self.send('handled', msg.n);
          return n + 1;
        },
      });
      await Promise.all(actors.map((a) => a.call('warm', { timeoutMs: 60000 })));
      const handled = new Set();
      sup.subscribe((m) => handled.add(m.data));
      const culprit = actors[5000];
      assert.ok(culprit.receive('hang'));
      actors.forEach((a, i) => assert.ok(a.receive({ n: i })));
      const lost = await waitFor(() => ev.workerLost[0], 30000, 'the workerLost event');
      assert.equal(lost.culprit, culprit.id, 'the one actor awaiting is named');
      assert.equal(lost.worker, 0);
      assert.equal(lost.cause, 'maxBlockMs');
      const inFlight = () => ev.exit.filter((e) => e.message?.message?.n !== undefined).map((e) => e.message.message.n);
      // every message: handled, reported in flight by an exit, or a dead letter
      await waitFor(() => handled.size + inFlight().length + ev.deadLetter.length >= 10_000, 60000, 'every message accounted for');
      assert.equal(handled.size + inFlight().length + ev.deadLetter.length, 10_000);
      assert.equal(ev.deadLetter.length, 0, 'mailboxes were kept');
      for (const n of inFlight()) assert.ok(!handled.has(n), `message ${n} both handled and in flight`);
      const culpritExit = ev.exit.filter((e) => e.id === culprit.id);
      assert.deepEqual(culpritExit.map((e) => [e.reason, e.message?.message]), [['timeout', 'hang']], 'the awaited message is in flight');
      const others = ev.exit.filter((e) => e.id !== culprit.id);
      assert.ok(others.every((e) => e.reason === 'worker_lost'), 'the others exit with worker_lost');
      assert.deepEqual(lost.actors.length, ev.exit.length);
      assert.equal(ev.error.length, 0, 'no intensity exceeded (retry.max is 1)');
      // all answer again, the culprit in its next incarnation (its state started over)
      const again = await Promise.all(actors.map((a) => a.call('again', { timeoutMs: 60000 })));
      assert.equal(culprit.incarnation, 1);
      assert.ok(again[5000] <= 2, `culprit's state ${again[5000]}`);
      assert.ok(again.every((n) => n >= 1));
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest("a pooled actor's timers: cancelled when its incarnation ends, a throw crashes only it, a spin costs its worker with it as the culprit", 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 1000 } });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'workerLost']);
      const a = sup.spawn((self, msg) => {
        if (msg === 'tick') setInterval(() => self.send('tick'), 5);
        if (msg === 'throw later') setTimeout(() => { throw new Error('from a timer'); }, 5);
        if (msg === 'spin later') setTimeout(() => { for (;;); }, 5);
        return msg;
      }, { kind: 'pooled' });
      const other = sup.spawn((self, msg) => msg, { kind: 'pooled' });
      const ticks = [];
      a.subscribe((m) => ticks.push(m));
      await a.call('tick');
      await waitFor(() => ticks.length >= 3, 10000, 'the interval to tick');
      await a.call('throw later');
      await waitFor(() => ev.restart.length === 1, 10000, 'the restart after the timer threw');
      assert.deepEqual(ev.exit.map((e) => [e.id, e.reason]), [[a.id, 'error: from a timer']]);
      // the interval of the ended incarnation went with it (left running, its stale self.send
      // would throw at every tick: on Bun's test runner that ends the worker)
      assert.equal(await a.call('x'), 'x');
      assert.equal(await other.call('y'), 'y');
      assert.equal(await a.call('z'), 'z');
      assert.equal(ev.workerLost.length, 0, 'the worker went on');
      await a.call('spin later');
      const lost = await waitFor(() => ev.workerLost[0], 30000, 'the workerLost event');
      assert.equal(lost.culprit, a.id, 'the actor whose timer spins is the culprit');
      assert.deepEqual(Object.fromEntries(ev.exit.slice(1).map((e) => [e.id, e.reason])), { [a.id]: 'timeout', [other.id]: 'worker_lost' });
      assert.equal(ev.error.length, 0);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('module actors: compiled once per worker, module state shared by the actors on it', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const url = new URL('./fixtures/counter.mjs', import.meta.url);
      const [a, b] = sup.spawnMany(2, url);
      assert.equal(await a.call('inc'), 1);
      assert.equal(await b.call('inc'), 2, 'one module instance per worker (DESIGN 8.4)');
      // a module's onTerminate hook runs at a polite stop (the default for actors that have one)
      const hooks = sup.spawn(new URL('./fixtures/beh-counter.mjs', import.meta.url), { kind: 'pooled', restart: 'temporary' });
      const said = [];
      hooks.subscribe((m) => said.push(m));
      hooks.receive(5);
      assert.equal((await hooks.call('state')).count, 5);
      await sup.terminateActor(hooks.id); // polite (ref.terminate() kills at once)
      assert.deepEqual(said.map((m) => [m.msg, m.data]), [['final', { reason: 'terminated', count: 5 }]]);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('a pooled parent spawns 10,000 pooled children with ctx.spawn and monitors them', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: 2000 } });
    try {
      const parent = sup.spawn({
        init: () => ({ children: [], downs: [] }),
        handle: async (s, msg, ctx) => {
          if (msg === 'spawn') {
            const kids = await Promise.all(Array.from({ length: 10_000 }, () => ctx.spawn((self, m) => `${self.id}:${m}`, { kind: 'pooled' })));
            ctx.monitor(kids[0]);
            return { ...s, children: kids.map((k) => k.id) };
          }
          if (msg === 'children') return s.children;
          if (msg?.msg === 'DOWN') {
            ctx.self.send('down', msg.data.reason);
            return s;
          }
          if (msg?.stop) {
            await ctx.terminate(msg.stop);
            return s;
          }
          if (msg?.ask) return ctx.call(msg.ask, 'x');
          return s;
        },
      }, { kind: 'pooled' });
      const downs = [];
      parent.subscribe((m) => downs.push(m));
      await parent.call('spawn', { timeoutMs: 100000 });
      const ids = await parent.call('children');
      assert.equal(ids.length, 10_000);
      assert.equal(new Set(ids).size, 10_000);
      const inspect = sup.inspect();
      assert.equal(inspect.children.length, 10_001);
      assert.ok(inspect.children.every((c) => c.kind === 'pooled' && (c.worker === 0 || c.worker === 1)));
      // placement: children go to their parent's worker while it carries at most 1.25x the
      // mean load (with 2 workers: 62.5% of the actors), the others to the less loaded of two
      const onParents = inspect.children.filter((c) => c.worker === inspect.children[0].worker).length;
      assert.ok(onParents >= 6000 && onParents <= 6252, `${onParents} of 10,001 on the parent's worker`);
      assert.equal(await parent.call({ ask: ids[1234] }), `${ids[1234]}:x`);
      await parent.call({ stop: ids[0] });
      await waitFor(() => downs.some((m) => m.msg === 'down'), 10000, 'the DOWN of the first child');
      assert.equal(downs.find((m) => m.msg === 'down').data, 'terminated');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('links and monitors between pooled and isolated actors, both ways', 60000, async () => {
    const sup = createSupervisor({ warmWorkers: 1, pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const ev = record(sup);
      const crash = (self, msg, ctx) => {
        if (msg === 'boom') throw new Error('boom');
        if (msg?.monitor) return ctx.monitor(msg.monitor);
        if (msg?.msg === 'DOWN') self.send('down', [msg.data.id, msg.data.reason]);
        return msg;
      };
      const pooled = sup.spawn(crash, { kind: 'pooled', restart: 'temporary' });
      const iso = sup.spawn(crash, { restart: 'temporary' });
      const watcherP = sup.spawn(crash, { kind: 'pooled' });
      const watcherI = sup.spawn(crash);
      const seen = [];
      watcherP.subscribe((m) => m.msg === 'down' && seen.push(['pooled watches', ...m.data]));
      watcherI.subscribe((m) => m.msg === 'down' && seen.push(['isolated watches', ...m.data]));
      await watcherP.call({ monitor: iso.id });
      await watcherI.call({ monitor: pooled.id });
      // a link across kinds: the pooled one crashes, the isolated one is stopped with `linked:`
      const linkedIso = sup.spawn(crash, { restart: 'temporary' });
      pooled.link(linkedIso);
      const linkedPooled = sup.spawn(crash, { kind: 'pooled', restart: 'temporary' });
      iso.link(linkedPooled);
      pooled.receive('boom');
      iso.receive('boom');
      await waitFor(() => ev.exit.length === 4 && seen.length === 2, 10000, 'four exits and two DOWNs');
      const reasons = Object.fromEntries(ev.exit.map((e) => [e.id, e.reason]));
      assert.deepEqual(reasons, {
        [pooled.id]: 'error: boom',
        [iso.id]: 'error: boom',
        [linkedIso.id]: 'linked: error: boom',
        [linkedPooled.id]: 'linked: error: boom',
      });
      assert.deepEqual(seen.sort(), [
        ['isolated watches', pooled.id, 'error: boom'],
        ['pooled watches', iso.id, 'error: boom'],
      ]);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('an async handler past its timeoutMs, process.exit() and onCrash end or spare only their own actor', 60000, async () => {
    const decisions = [];
    const sup = createSupervisor({
      pool: { workers: 1, maxBlockMs: SLOW_MACHINE },
      onCrash: (err, msg) => {
        decisions.push(msg);
        return msg === 'resume me' ? 'resume' : 'restart';
      },
    });
    try {
      const ev = record(sup, ['exit', 'restart', 'error', 'workerLost']);
      const slow = sup.spawn(async (self, msg) => {
        if (msg === 'wait') await new Promise(() => {});
        return msg;
      }, { kind: 'pooled', timeoutMs: 100 });
      const quitter = sup.spawn((self, msg) => {
        if (msg === 'quit') process.exit(3);
        return msg;
      }, { kind: 'pooled' });
      const b = { init: () => 0, handle: (n, msg) => { if (msg === 'resume me') throw new Error('oops'); return n + 1; } };
      const stateful = sup.spawn(b, { kind: 'pooled' });
      assert.equal(await stateful.call('x'), 1);
      slow.receive('wait');
      quitter.receive('quit');
      await faults(() => stateful.call('resume me'), Error, /^error: oops$/);
      assert.equal(await stateful.call('x'), 2, 'resumed with its state');
      await waitFor(() => ev.restart.length === 2, 10000, 'two restarts');
      const reasons = Object.fromEntries(ev.exit.map((e) => [e.id, e.reason]));
      assert.deepEqual(reasons, { [slow.id]: 'timeout', [quitter.id]: 'error: process.exit(3)' });
      assert.equal(ev.workerLost.length, 0, 'the worker went on');
      assert.equal(await slow.call('back'), 'back');
      assert.equal(await quitter.call('back'), 'back');
      assert.ok(decisions.includes('resume me'));
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.resources, ctx.fmt and ctx.heartbeat work in pooled actors', 30000, async () => {
    const sup = createSupervisor({
      pool: { workers: 1, maxBlockMs: SLOW_MACHINE },
      resources: { db: { query: { handler: async (x) => x * 2 } } },
    });
    try {
      const a = sup.spawn(async (self, msg, ctx) => {
        ctx.heartbeat();
        const doubled = await ctx.resources.db.query(msg);
        return ctx.fmt.json.decode(ctx.fmt.json.encode({ doubled }));
      }, { kind: 'pooled', resources: ['db'] });
      assert.deepEqual(await a.call(21), { doubled: 42 });
      assert.equal(a.getDiagnostics().value.heartbeatCount, 1);
      const denied = sup.spawn(async (self, msg, ctx) => ctx.resources.db.query(1), { kind: 'pooled', resources: [] });
      await faults(() => denied.call(0), Error, /db/);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('every refusal the parametrised suites skip tests for (harness POOLED_REFUSES) still holds', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 0, pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const spawnRefused = (actor, options, re) => () => assert.throws(() => sup.spawn(actor, { kind: 'pooled', ...options }), (err) => err instanceof TypeError && re.test(err.message));
      const probes = {
        resourceLimits: spawnRefused(counter, { resourceLimits: { maxOldGenerationSizeMb: 64 } }, /^options\.resourceLimits/),
      };
      // a refusal lifted must leave the table (its tests then run for pooled actors too)
      for (const feature of Object.keys(POOLED_REFUSES)) {
        assert.ok(probes[feature], `no probe for ${feature}: add one here`);
        await probes[feature]();
      }
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('bad counts, options and pool settings are refused with errors naming them', 30000, async () => {
    for (const pool of [{ workers: 0 }, { workers: 1.5 }, { maxBlockMs: -1 }, { batch: { perActor: 0 } }, { batch: { maxActors: 0 } }]) {
      const field = Object.keys(pool)[0] === 'batch' ? `pool.batch.${Object.keys(pool.batch)[0]}` : `pool.${Object.keys(pool)[0]}`;
      assert.throws(() => createSupervisor({ pool }), (err) => err instanceof RangeError && err.message.startsWith(field));
    }
    assert.throws(() => createSupervisor({ pool: { threads: 2 } }), { name: 'TypeError', message: /^pool: unknown option "threads"/ });
    assert.throws(() => createSupervisor({ pool: 3 }), { name: 'TypeError', message: /^pool must be an object/ });
    assert.throws(() => createSupervisor({ pool: { interrupt: 1 } }), { name: 'TypeError', message: /^pool.interrupt must be a boolean/ });
    const sup = createSupervisor({ warmWorkers: 0, pool: { workers: 1, maxActors: 10, maxBlockMs: SLOW_MACHINE } });
    try {
      for (const count of [-1, 1.5, NaN, Infinity, 2 ** 53, '3', undefined]) {
        assert.throws(() => sup.spawnMany(count, counter), { name: 'RangeError', message: /^spawnMany: count must be a non-negative safe integer/ });
      }
      assert.deepEqual(sup.spawnMany(0, counter), []);
      assert.throws(() => sup.spawnMany(2, counter, { kind: 'isolated' }), { name: 'TypeError', message: /^spawnMany: options.kind must be 'pooled'/ });
      assert.throws(() => sup.spawnMany(2, counter, { name: 'x' }), { name: 'TypeError', message: /^spawnMany: options.name/ });
      assert.throws(() => sup.spawnMany(2, counter, { resourceLimits: { maxOldGenerationSizeMb: 64 } }), {
        name: 'TypeError',
        message: /^options.resourceLimits cannot apply to a pooled actor/,
      });
      assert.throws(() => sup.spawn(counter, { kind: 'pooled', idleTimeoutMs: 0 }), { name: 'RangeError', message: /^options.idleTimeoutMs/ });
      assert.throws(() => sup.spawn(counter, { kind: 'pooled', shutdown: 'soon' }), { name: 'TypeError', message: /^options.shutdown/ });
      assert.throws(() => sup.spawn(counter, { kind: 'thread' }), { name: 'RangeError', message: /^options.kind must be one of: isolated, pooled/ });
      assert.throws(() => sup.spawnMany(2, 42), { name: 'TypeError', message: /^spawnMany: actor/ });
      assert.throws(() => sup.spawnMany(11, counter), { message: 'Max pooled actors limit reached: 10' });
      assert.equal(runtimeStats().threads, 0, 'nothing was started by refused spawns');
      const refs = sup.spawnMany(10, counter);
      assert.deepEqual(await refs[9].call('x'), { hits: 1 });
      await faults(async () => sup.spawn(counter, { kind: 'pooled' }), Error, /^Max pooled actors limit reached: 10$/);
    } finally {
      await sup.shutdown();
    }
    assert.throws(() => sup.spawnMany(1, counter), /^Error: spawnMany: supervisor .* is shut down/);
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.spawn calls made in one turn reach the host as one request: 10,000 children all answer, are supervised and restart', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: SLOW_MACHINE } });
    try {
      const ops = [];
      const request = sup._request; // how pooled actors' requests reach the host (lib/host/supervisor.js)
      sup._request = function (entry, corr, req) {
        ops.push(req.op);
        return request.call(this, entry, corr, req);
      };
      const ev = record(sup, ['spawn', 'restart']);
      const parent = sup.spawn(async (self, msg, ctx) => {
        if (msg === 'spawn') {
          const child = { init: () => 0, handle: (n, m) => { if (m === 'crash') throw new Error('crash'); return n + 1; } };
          const kids = await Promise.all(Array.from({ length: 10_000 }, () => ctx.spawn(child, { kind: 'pooled' })));
          return kids.map((k) => k.id);
        }
        if (msg.callAll) return Promise.all(msg.callAll.map((id) => ctx.call(id, 'x')));
        if (msg.crash) return msg.crash.map((id) => ctx.send(id, 'crash'));
        if (msg.terminate) return ctx.terminate(msg.terminate).then(() => 'terminated');
        return msg;
      }, { kind: 'pooled' });
      // a handler that spawns without waiting, then throws
      const firing = sup.spawn((self, msg, ctx) => {
        ctx.spawn((s, m) => m, { kind: 'pooled' }).catch(() => {});
        throw new Error('after the spawn');
      }, { kind: 'pooled', restart: 'temporary' });
      const ids = await parent.call('spawn', { timeoutMs: 100000 });
      assert.equal(ops.filter((op) => op === 'spawns').length, 1, `one request for 10,000 spawns (${ops.join(',')})`);
      assert.equal(new Set(ids).size, 10_000);
      assert.equal(ev.spawn.filter((e) => e.parent === parent.id).length, 10_000, 'a spawn event per child, naming its parent');
      const answers = await parent.call({ callAll: ids }, { timeoutMs: 100000 });
      assert.ok(answers.every((n) => n === 1), 'every child answered once');
      assert.equal(sup.inspect().children.length, 10_002);
      const crashed = [ids[0], ids[4321], ids[9999]];
      await parent.call({ crash: crashed });
      await waitFor(() => crashed.every((id) => ev.restart.some((e) => e.id === id)), 30000, 'the crashed children restarted');
      const again = await parent.call({ callAll: [ids[0], ids[1], ids[4321], ids[9999]] });
      assert.deepEqual(again, [1, 2, 1, 1], 'the restarted ones from init, the others kept their state');
      assert.equal(await parent.call({ terminate: ids[1] }), 'terminated', 'a child of its parent');
      // the spawns of a handler reach the host when it returns or throws, before its exit (as a
      // request of its own did): the child of one that throws right after is spawned
      firing.receive('go');
      await waitFor(() => ev.spawn.some((e) => e.parent === firing.id), 10000, 'the child of the handler that threw');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.spawn after the first alike child: the worker spawns alone, and its children are supervised, named, linked, limited and shut down as host-spawned ones', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxActors: 3000, maxBlockMs: SLOW_MACHINE }, resources: { db: {}, cache: {} } });
    try {
      const adopted = adoptions(sup); // the children the host learned of after their worker spawned them alone
      const ops = [];
      const request = sup._request;
      sup._request = function (entry, corr, req) {
        ops.push(req.op);
        return request.call(this, entry, corr, req);
      };
      const ev = record(sup, ['spawn', 'restart', 'exit']);
      const parent = sup.spawn(async (self, msg, ctx) => {
        // (a behaviour object made anew in each turn: the worker finds its template by its text)
        const child = { init: () => 0, handle: (n, m) => { if (m === 'crash') throw new Error('crash'); return n + 1; } };
        if (msg.spawn) return (await Promise.all(Array.from({ length: msg.spawn }, () => ctx.spawn(child, { kind: 'pooled' })))).map((k) => k.id);
        if (msg.mixed) {
          // alike children (the template) around a named one and two refused ones, in one turn
          const settled = await Promise.allSettled([
            ctx.spawn(child, { kind: 'pooled' }),
            ctx.spawn(child, { kind: 'pooled', name: msg.mixed }),
            ctx.spawn(child, { kind: 'pooled', restart: 'sometimes' }),
            ctx.spawn(child, { kind: 'pooled', resources: ['cache'] }),
            ctx.spawn(child, { kind: 'pooled' }),
          ]);
          return settled.map((r) => (r.status === 'fulfilled' ? r.value.id : `${r.reason.constructor.name}: ${r.reason.message}`));
        }
        if (msg.over) {
          const settled = await Promise.allSettled(Array.from({ length: msg.over }, () => ctx.spawn(child, { kind: 'pooled' })));
          return settled.map((r) => (r.status === 'fulfilled' ? 'ok' : `${r.reason.constructor.name}: ${r.reason.message}`));
        }
        if (msg.callAll) return Promise.all(msg.callAll.map((id) => ctx.call(id, 'x')));
        if (msg.crash) return msg.crash.map((id) => ctx.send(id, 'crash'));
        if (msg.link) {
          ctx.trapExits(true);
          ctx.link(msg.link);
          return 'linked';
        }
        if (msg.monitor) return ctx.monitor(msg.monitor) !== undefined;
        if (msg.terminate) return ctx.terminate(msg.terminate).then(() => 'terminated');
        if (msg?.msg === 'EXIT' || msg?.msg === 'DOWN') self.send('down', `${msg.msg} ${msg.data.id} ${msg.data.reason}`);
        return null;
      }, { kind: 'pooled', restart: 'temporary', resources: ['db'] });
      const downs = [];
      parent.subscribe((m) => m.msg === 'down' && downs.push(m.data));
      await parent.call({ spawn: 1 }); // through the host: the answer carries the template
      assert.equal(adopted.length, 0);
      const ids = await parent.call({ spawn: 2000 }, { timeoutMs: 100000 });
      assert.equal(new Set(ids).size, 2000);
      assert.equal(ops.filter((op) => op === 'spawns').length, 1, `the 2,000 children were spawned without a request (${ops.join(',')})`);
      assert.deepEqual(adopted, [2000], 'the host learned of them in one note');
      assert.equal(ev.spawn.filter((e) => e.parent === parent.id).length, 2001, 'a spawn event per child, naming its parent');
      const tree = sup.inspect();
      assert.equal(tree.children.length, 2002);
      assert.ok(tree.children.every((c) => c.kind === 'pooled' && c.worker === 0));
      const answers = await parent.call({ callAll: ids }, { timeoutMs: 100000 });
      assert.ok(answers.every((n) => n === 1), 'every child answered once, from its init state');
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 2002);

      // restarts: as host-spawned children, from init, the others keep their state
      const crashed = [ids[0], ids[777], ids[1999]];
      await parent.call({ crash: crashed });
      await waitFor(() => crashed.every((id) => ev.restart.some((e) => e.id === id)), 30000, 'the crashed children restarted');
      assert.deepEqual(await parent.call({ callAll: [ids[0], ids[1], ids[777], ids[1999]] }), [1, 2, 1, 1]);

      // links and monitors from the parent; an exit reaches it as an EXIT and a DOWN
      assert.equal(await parent.call({ link: ids[5] }), 'linked');
      assert.equal(await parent.call({ monitor: ids[6] }), true);
      assert.equal(await parent.call({ terminate: ids[6] }), 'terminated', 'a child of its parent');
      sup.terminateActor(ids[5], 'enough');
      await waitFor(() => downs.length === 2, 10000, 'the EXIT and the DOWN');
      assert.deepEqual(downs.sort(), [`DOWN ${ids[6]} terminated`, `EXIT ${ids[5]} enough`]);

      // names, refused options: through the host, with the same errors, in order with the rest
      const mixed = await parent.call({ mixed: 'kid' });
      assert.match(mixed[0], /^actor-\d+$/);
      assert.equal(mixed[1], sup.whereis('kid')?.id, 'the named child is registered');
      assert.match(mixed[2], /^RangeError: options\.restart must be one of/);
      assert.match(mixed[3], new RegExp(`^RangeError: ctx\\.spawn: options\\.resources: "cache" is not granted to ${parent.id}`));
      assert.match(mixed[4], /^actor-\d+$/);

      // pool.maxActors (3000): the parent and the 2,003 live children leave room for 996
      const live = sup.getDiagnostics({ actors: 'summary' }).value.activeActors;
      const over = await parent.call({ over: 1000 }, { timeoutMs: 100000 });
      assert.equal(over.filter((r) => r === 'ok').length, 3000 - live);
      assert.ok(over.slice(3000 - live).every((r) => r === 'Error: Max pooled actors limit reached: 3000'), over.slice(3000 - live, 3000 - live + 2).join());
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 3000);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('children a worker spawned alone and never messaged (kept compact there) are counted, inspected, linked, monitored, ended and restarted, and answer with their own ids when first messaged', 120000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const notes = adoptions(sup);
      const ev = record(sup, ['exit', 'restart']);
      const parent = sup.spawn(async (self, msg, ctx) => {
        // no init, onStart or onIdle: nothing runs for these children until their first message
        const child = (me, m) => {
          if (m === 'crash') throw new Error('crash');
          return me.id;
        };
        if (typeof msg === 'number') return (await Promise.all(Array.from({ length: msg }, () => ctx.spawn(child, { kind: 'pooled' })))).map((k) => k.id);
        if (msg.watch) {
          ctx.trapExits(true);
          ctx.link(msg.watch[0]);
          return ctx.monitor(msg.watch[1]) !== undefined;
        }
        if (msg.terminate) return ctx.terminate(msg.terminate).then(() => 'terminated');
        if (msg.call) return Promise.all(msg.call.map((id) => ctx.call(id, 'who').catch((err) => `${err.message}`)));
        if (msg.crash) return ctx.send(msg.crash, 'crash');
        if (msg?.msg === 'EXIT' || msg?.msg === 'DOWN') self.send('down', `${msg.msg} ${msg.data.id} ${msg.data.reason}`);
        return null;
      }, { kind: 'pooled' });
      const downs = [];
      parent.subscribe((m) => m.msg === 'down' && downs.push(m.data));
      await parent.call(1); // through the host: the answer carries the template
      const ids = await parent.call(3000, { timeoutMs: 100000 });
      assert.equal(total(notes), 3000, 'spawned by the worker alone');
      assert.equal(new Set(ids).size, 3000);
      const tree = sup.inspect();
      assert.equal(tree.children.length, 3002);
      assert.ok(ids.every((id) => tree.children.some((c) => c.id === id && c.kind === 'pooled' && c.worker === 0)), 'every child in the tree, on the worker');
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 3002);

      // a link and a monitor on children that never ran; their ends reach the parent
      assert.equal(await parent.call({ watch: [ids[10], ids[11]] }), true);
      sup.terminateActor(ids[10], 'enough');
      assert.equal(await parent.call({ terminate: ids[11] }), 'terminated');
      await waitFor(() => downs.length === 2, 10000, 'the EXIT and the DOWN');
      assert.deepEqual(downs.sort(), [`DOWN ${ids[11]} terminated`, `EXIT ${ids[10]} enough`]);

      // a first message that crashes: the child restarts (permanent) and answers the next one
      await parent.call({ crash: ids[20] });
      await waitFor(() => ev.restart.some((e) => e.id === ids[20]), 30000, 'the crashed child restarted');
      assert.ok(ev.exit.some((e) => e.id === ids[20] && /^error: .*crash/.test(e.reason)), JSON.stringify(ev.exit));

      // first messages: each answers as itself (its own id), the ended ones are gone
      const some = [ids[0], ids[20], ids[1500], ids[2999], ids[10], ids[11]];
      const answers = await parent.call({ call: some }, { timeoutMs: 60000 });
      assert.deepEqual(answers.slice(0, 4), some.slice(0, 4));
      assert.ok(answers.slice(4).every((a) => /noproc|not alive|stopped/i.test(a)), answers.slice(4).join());
      const all = await parent.call({ call: ids.filter((id, i) => i !== 10 && i !== 11) }, { timeoutMs: 100000 });
      assert.ok(all.every((a, i) => a === ids.filter((id, j) => j !== 10 && j !== 11)[i]), 'every other child answers as itself');
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 3000);
      // more children that never run, then shutdown: nothing is left behind
      await parent.call(2000, { timeoutMs: 100000 });
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 5000);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.spawn options are read at each call: one options object changed between calls, and alike literals, spawn as given', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE }, retry: { max: Infinity } });
    try {
      const ev = record(sup, ['exit', 'restart']);
      const parent = sup.spawn(async (self, msg, ctx) => {
        if (msg.crash) return msg.crash.map((id) => ctx.send(id, 'crash'));
        const kid = (s, m) => {
          if (m === 'crash') throw new Error('crash');
          return m;
        };
        const o = { kind: 'pooled' };
        const spawns = [ctx.spawn(kid, o), ctx.spawn(kid, { kind: 'pooled' })];
        o.restart = 'sometimes'; // (the same object, changed: refused now)
        spawns.push(ctx.spawn(kid, o));
        o.restart = 'temporary';
        spawns.push(ctx.spawn(kid, o), ctx.spawn(kid, { kind: 'pooled', restart: 'temporary' }), ctx.spawn(kid, { restart: 'temporary', kind: 'pooled' }));
        spawns.push(ctx.spawn(kid, { kind: 'pooled', restart: 'temporary', timeoutMs: -1 }));
        const settled = await Promise.allSettled(spawns);
        return settled.map((r) => (r.status === 'fulfilled' ? r.value.id : `${r.reason.constructor.name}: ${r.reason.message}`));
      }, { kind: 'pooled' });
      for (let turn = 0; turn < 2; turn++) {
        // (the second turn: the worker spawns those its templates cover by itself)
        const out = await parent.call('go', { timeoutMs: 30000 });
        assert.equal(out.length, 7);
        assert.match(out[2], /^RangeError: options\.restart must be one of/);
        assert.match(out[6], /^RangeError: .*timeoutMs/);
        const ids = [0, 1, 3, 4, 5].map((i) => out[i]);
        assert.ok(ids.every((id) => /^actor-\d+$/.test(id)), out.join());
        // restart types as given: the first two (permanent) restart after a crash, the rest not
        await parent.call({ crash: ids });
        await waitFor(() => ids.every((id) => ev.exit.some((e) => e.id === id)), 30000, 'the five exits');
        await waitFor(() => ids.slice(0, 2).every((id) => ev.restart.some((e) => e.id === id)), 30000, 'the two restarts');
        assert.deepEqual(ids.map((id) => ev.restart.some((e) => e.id === id)), [true, true, false, false, false]);
      }
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.spawn alone keeps the placement rule: with 2 workers, children stay on their parent\'s worker up to 1.25x the mean load, the rest go through the host', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: SLOW_MACHINE } });
    try {
      const notes = adoptions(sup);
      const parent = sup.spawn(async (self, n, ctx) => (await Promise.all(Array.from({ length: n }, () => ctx.spawn((s, m) => m, { kind: 'pooled' })))).map((k) => k.id), { kind: 'pooled' });
      // the host hands out a template with a child it placed on the parent's worker: the first
      // child may go to the other one; of ten, some stay
      await parent.call(1);
      await parent.call(10);
      const ids = await parent.call(4000, { timeoutMs: 60000 });
      const tree = sup.inspect();
      const home = tree.children.find((c) => c.id === parent.id).worker;
      const near = tree.children.filter((c) => c.worker === home).length;
      assert.ok(near <= Math.ceil(1.25 * (tree.children.length / 2)) + 1, `${near} of ${tree.children.length} on the parent's worker`);
      assert.ok(near >= tree.children.length / 2, `${near} of ${tree.children.length} on the parent's worker`);
      assert.ok(total(notes) > 1000, `most of those on the parent's worker were spawned there alone (${total(notes)})`);
      assert.equal(new Set(ids).size, 4000);
      assert.equal(sup.getDiagnostics({ actors: 'summary' }).value.activeActors, 4012);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('one bad spawn among the ctx.spawn calls of a turn rejects alone, with its own error class', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE, maxActors: 6 }, resources: { db: {}, cache: {} } });
    try {
      const parent = sup.spawn(async (self, msg, ctx) => {
        const echo = (s, m) => m;
        const spawns = [
          ctx.spawn(echo, { kind: 'pooled' }),
          ctx.spawn(echo, { kind: 'pooled', restart: 'sometimes' }),
          ctx.spawn({ init: () => 0 }, { kind: 'pooled' }),
          ctx.spawn(echo, { kind: 'pooled', regions: ['nowhere'] }),
          ctx.spawn(echo, { kind: 'pooled', resources: ['cache'] }),
          ctx.spawn(echo, { kind: 'pooled', timeoutMs: -1 }),
          ctx.spawn(echo, { kind: 'pooled' }),
          // pool.maxActors is 6 (the parent is one): the fifth pooled child on is over the limit
          ...Array.from({ length: 5 }, () => ctx.spawn(echo, { kind: 'pooled' })),
        ];
        const settled = await Promise.allSettled(spawns);
        const out = settled.map((r) => (r.status === 'fulfilled' ? 'ok' : `${r.reason.constructor.name}: ${r.reason.message}`));
        const ok = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value.id);
        const replies = await Promise.all(ok.map((id) => ctx.call(id, id)));
        return { out, fine: replies.every((r, i) => r === ok[i]) };
      }, { kind: 'pooled', resources: ['db'] });
      const { out, fine } = await parent.call('go', { timeoutMs: 30000 });
      assert.equal(out.length, 12);
      assert.equal(out[0], 'ok');
      assert.match(out[1], /^RangeError: options\.restart must be one of/);
      assert.match(out[2], /^TypeError: ctx\.spawn: actor: a behaviour object needs a handle function/);
      assert.match(out[3], /^(TypeError|RangeError): .*regions/);
      assert.match(out[4], new RegExp(`^RangeError: ctx\\.spawn: options\\.resources: "cache" is not granted to ${parent.id}`));
      assert.match(out[5], /^RangeError: .*timeoutMs/);
      assert.deepEqual(out.slice(6), ['ok', 'ok', 'ok', 'ok', 'Error: Max pooled actors limit reached: 6', 'Error: Max pooled actors limit reached: 6']);
      assert.ok(fine, 'every child that was spawned answers');
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('ctx.spawnMany from a pooled and from an isolated actor: children answer; bad counts and options are refused', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: SLOW_MACHINE } });
    try {
      const body = async (self, msg, ctx) => {
        const fail = (p) => p.then(() => 'resolved', (e) => `${e.constructor.name}: ${e.message}`);
        if (msg === 'bad') {
          return Promise.all([
            fail(ctx.spawnMany(-1, (s, m) => m)),
            fail(ctx.spawnMany(1.5, (s, m) => m)),
            fail(ctx.spawnMany(2, (s, m) => m, 'pooled')),
            fail(ctx.spawnMany(2, (s, m) => m, { kind: 'isolated' })),
            fail(ctx.spawnMany(2, (s, m) => m, { name: 'many' })),
            fail(ctx.spawnMany(2, 42)),
          ]);
        }
        const kids = await ctx.spawnMany(msg, { init: () => 10, handle: (n) => n + 1 });
        const none = await ctx.spawnMany(0, (s, m) => m);
        const replies = await Promise.all(kids.map((k) => ctx.call(k, 'x')));
        return { ids: kids.map((k) => k.id), none: none.length, replies };
      };
      for (const kind of ['pooled', 'isolated']) {
        const parent = sup.spawn(body, { kind });
        const { ids, none, replies } = await parent.call(2000, { timeoutMs: 60000 });
        assert.equal(new Set(ids).size, 2000, kind);
        assert.equal(none, 0);
        assert.ok(replies.every((r) => r === 11), `${kind}: every child answered from its init`);
        const kids = sup.inspect().children.filter((c) => ids.includes(c.id));
        assert.equal(kids.length, 2000);
        assert.ok(kids.every((c) => c.kind === 'pooled'), `${kind}: the children are pooled`);
        const bad = await parent.call('bad');
        assert.match(bad[0], /^RangeError: ctx\.spawnMany: count/);
        assert.match(bad[1], /^RangeError: ctx\.spawnMany: count/);
        assert.match(bad[2], /^TypeError: ctx\.spawnMany: options must be an object/);
        assert.match(bad[3], /^TypeError: ctx\.spawnMany: options\.kind must be 'pooled'/);
        assert.match(bad[4], /^TypeError: ctx\.spawnMany: options\.name/);
        assert.match(bad[5], /^TypeError: ctx\.spawnMany: actor/);
      }
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest("a module actor's onTerminate runs on a polite stop also where its worker had loaded the module before", 30000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const url = new URL('./fixtures/pooled-terminate.mjs', import.meta.url);
      const first = sup.spawn(url, { kind: 'pooled' });
      assert.equal(await first.call('x'), 'x');
      const second = sup.spawn(url, { kind: 'pooled' }); // the module is loaded on that worker now
      assert.equal(await second.call('y'), 'y');
      const said = [];
      second.subscribe((m) => said.push([m.msg, m.data]));
      await sup.terminateActor(second.id); // polite for an actor with onTerminate
      assert.deepEqual(said, [['terminating', 'terminated']]);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  // A pool worker with nothing to do waits in the core between messages while traffic is dense
  // (lib/pool/worker.js): these two check that such a wait neither swallows a wake nor keeps
  // the worker's event loop from turning.
  slowTest('calls made while the pool worker polls, sleeps in the core, turns its loop or has parked all complete', 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const [a, b] = sup.spawnMany(2, (self, msg) => msg, { kind: 'pooled' });
      const opts = { timeoutMs: 30000 }; // a lost wake would leave a call unanswered: it times out
      let n = 0;
      for (let i = 0; i < 300; i++) assert.equal(await a.call(++n, opts), n); // dense: waits woken by the next call
      // gaps of every length the worker meets: a polling look, a sleep cut short, a sleep run
      // out (then an event-loop turn and another wait), many turns and a park
      for (const gap of [0, 0, 1, 1, 2, 5, 20, 50, 0, 1, 100, 0]) {
        await new Promise((r) => setTimeout(r, gap));
        assert.equal(await (n % 2 ? a : b).call(++n, opts), n, `after ${gap} ms`);
        assert.ok(b.receive(n), 'mail through the host ring');
        assert.equal(await b.call(++n, opts), n, `after mail, ${gap} ms`);
      }
      // concurrent callers: the worker finds more than one message per wake
      const many = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).call(i, opts)));
      assert.deepEqual(many, Array.from({ length: 200 }, (_, i) => i));
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest("a pool worker that waits in the core between back-to-back calls still runs its actors' timers", 60000, async () => {
    const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: SLOW_MACHINE } });
    try {
      const [clock, echo] = sup.spawnMany(
        2,
        (self, msg) => {
          if (msg === 'arm') {
            globalThis.__timerFired = false;
            setTimeout(() => (globalThis.__timerFired = true), 1);
            return 'armed';
          }
          return msg === 'fired?' ? globalThis.__timerFired : msg;
        },
        { kind: 'pooled' },
      );
      assert.equal(await clock.call('arm'), 'armed');
      // Four callers back-to-back keep the worker busy or waiting briefly in the core: a worker
      // whose waits kept its event loop from turning would not run the timer (the reader's own
      // bound on that, a turn every `rounds` passes, is tested in port-reader.test.mjs).
      let calls = 0;
      let fired = false;
      const caller = async () => {
        while (!fired && calls < 200_000) {
          const n = ++calls;
          assert.equal(await echo.call(n), n);
          if (n % 4 === 0) fired = await clock.call('fired?');
        }
      };
      await Promise.all([caller(), caller(), caller(), caller()]);
      assert.ok(fired, `the 1 ms timer never ran during ${calls} back-to-back calls`);
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
