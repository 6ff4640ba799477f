// The one-timer queue of call deadlines (lib/port/deadlines.js), driven by a fake clock and fake
// timers: each request times out exactly once, only if still unanswered, never before its
// deadline; one timer serves them all; answered requests do not pile up.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const { Deadlines } = createRequire(import.meta.url)('../lib/port/deadlines.js');

/** A clock and timers that only move when the test says so. */
function fakeTime() {
  const t = { now: 0, timers: new Map(), nextId: 1, armed: 0 };
  t.setTimeout = (fn, ms) => {
    const id = t.nextId++;
    t.timers.set(id, { fn, at: t.now + ms });
    t.armed++;
    return id;
  };
  t.clearTimeout = (id) => t.timers.delete(id);
  /** Moves the clock to `to`, firing due timers in order. */
  t.advance = (to) => {
    for (;;) {
      const due = [...t.timers].filter(([, x]) => x.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      t.timers.delete(due[0]);
      t.now = due[1].at;
      due[1].fn();
    }
    t.now = to;
  };
  return t;
}

function queue(t) {
  const pending = new Map();
  const expired = [];
  const d = new Deadlines({
    live: (item) => pending.get(item.id) === item,
    expire: (item) => {
      pending.delete(item.id);
      expired.push(item.id);
    },
    size: () => pending.size,
    timers: t,
    now: () => t.now,
  });
  const add = (id, ms) => {
    const item = { id };
    pending.set(id, item);
    d.add(item, ms);
  };
  return { d, pending, expired, add };
}

describe('call deadlines (one timer for all calls in flight)', () => {
  test('an unanswered request expires once, not before its deadline; an answered one never', () => {
    const t = fakeTime();
    const q = queue(t);
    q.add(1, 100);
    q.add(2, 100);
    q.pending.delete(1); // answered
    t.advance(99);
    assert.deepEqual(q.expired, []);
    t.advance(150);
    assert.deepEqual(q.expired, [2]);
    t.advance(10_000);
    assert.deepEqual(q.expired, [2]);
    assert.equal(t.timers.size, 0, 'nothing left armed');
  });

  test('a shorter timeout added after a longer one still expires first', () => {
    const t = fakeTime();
    const q = queue(t);
    q.add('long', 5000);
    t.advance(10);
    q.add('short', 20);
    t.advance(40);
    assert.deepEqual(q.expired, ['short']);
    t.advance(5100);
    assert.deepEqual(q.expired, ['short', 'long']);
  });

  test('requests answered one after another share one timer and do not pile up', () => {
    const t = fakeTime();
    const q = queue(t);
    for (let i = 0; i < 10_000; i++) {
      q.add(i, 5000);
      q.pending.delete(i);
      t.now += 0.01;
    }
    assert.equal(t.armed, 1, 'later deadlines do not re-arm the timer');
    assert.ok(q.d.heap.length <= 2 * q.pending.size + 65, `heap holds ${q.d.heap.length} entries`);
    t.advance(20_000);
    assert.deepEqual(q.expired, []);
    assert.equal(t.timers.size, 0);
  });

  test('expiries come in deadline order across many timeouts, and clear() stops the timer', () => {
    const t = fakeTime();
    const q = queue(t);
    const ms = [50, 10, 40, 30, 20, 60];
    ms.forEach((m, i) => q.add(i, m));
    t.advance(45);
    assert.deepEqual(q.expired, [1, 4, 3, 2]);
    q.d.clear();
    assert.equal(t.timers.size, 0);
    t.advance(1000);
    assert.deepEqual(q.expired, [1, 4, 3, 2], 'cleared: nothing more expires');
  });
});
