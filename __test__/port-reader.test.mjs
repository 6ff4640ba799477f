// The loop every thread reads its port with (lib/port/reader.js) and its spin policy
// (lib/port/spin.js), driven by fake hooks: no threads, no clock. What a thread that waits in the
// core between messages relies on — a pool worker since it stopped spinning on setImmediate
// turns alone: it waits only after the microtasks its work queued, and its event loop still
// turns every `rounds` passes however often a wait is woken by more work.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const require = createRequire(import.meta.url);
const { PortReader, IDLE, QUEUED_JS } = require('../lib/port/reader.js');
const { Spinner } = require('../lib/port/spin.js');

/** A policy that always asks to wait (dense traffic), with no clock. */
const denseForever = () => ({ arrived() {}, shouldSpin: () => true, pollUs: () => 0, sleepUs: () => 0, parked() {} });

/** Resolves once every microtask queued so far, and those they queue, has run. */
const microtasksDone = () => new Promise((r) => setImmediate(r));

describe('port reader', () => {
  test('a wait woken by more work each time still yields an event-loop turn every `rounds` passes', async () => {
    const log = [];
    let mail = 1;
    let passes = 0;
    let turnAt = null;
    const reader = new PortReader({
      take: () => null,
      onEnvelope: () => assert.fail('no urgent envelopes here'),
      rounds: 8,
      work: () => {
        if (mail === 0) return IDLE;
        mail--;
        passes++;
        log.push('work');
        return QUEUED_JS; // as a pool worker's batch: handlers ran
      },
      // every wait is woken by a new message at once (a caller that never pauses), up to a bound
      // so that a reader that never yields ends instead of looping forever
      wait: () => {
        log.push('wait');
        if (passes > 100) return false;
        mail++;
        return true;
      },
      park: () => false,
      policy: denseForever(),
      setImmediate: () => {
        turnAt ??= passes;
        log.push('turn');
      },
    });
    reader.drain();
    await microtasksDone();
    assert.ok(turnAt !== null, 'the event loop got a turn');
    assert.ok(turnAt <= 8, `the first turn came after ${turnAt} passes with mail (rounds: 8)`);
    assert.ok(log.indexOf('wait') > 0 && log.indexOf('wait') < log.indexOf('turn'), `waits between the passes: ${log.slice(0, 6)}`);
  });

  test('work that queued JS is followed by a recheck from a microtask, which then waits', async () => {
    const order = [];
    let mail = 1;
    const reader = new PortReader({
      take: () => null,
      onEnvelope: () => {},
      work: () => {
        if (mail === 0) return IDLE;
        mail--;
        queueMicrotask(() => order.push('continuation')); // what a handler queued
        return QUEUED_JS;
      },
      wait: () => {
        order.push('wait');
        return false; // ran out: the reader takes an event-loop turn
      },
      park: () => false,
      policy: denseForever(),
      setImmediate: () => order.push('turn'),
    });
    reader.drain();
    assert.deepEqual(order, [], 'no wait in the pass that ran the work');
    await microtasksDone();
    assert.deepEqual(order, ['continuation', 'wait', 'turn']);
  });

  test('no wait while `mayWait` says no: the reader looks again on event-loop turns instead', async () => {
    let waits = 0;
    let turns = 0;
    const reader = new PortReader({
      take: () => null,
      onEnvelope: () => {},
      work: () => IDLE,
      wait: () => {
        waits++;
        return false;
      },
      mayWait: () => false, // some actor's code awaits
      park: () => false,
      policy: denseForever(),
      setImmediate: () => turns++,
    });
    reader.drain();
    await microtasksDone();
    assert.equal(waits, 0);
    assert.equal(turns, 1);
  });
});

describe('spin policy', () => {
  test('parks after maxTurns turns when it may wait between them, after maxSpinTurns when it may not', () => {
    const turnsUntilPark = (s, waits) => {
      let n = 0;
      while (s.shouldSpin(false, waits)) n++;
      return n;
    };
    const dense = () => {
      const s = new Spinner(200, 0.2, 16, 200);
      s.arrived(1);
      s.arrived(1.01); // 10 µs apart: dense
      return s;
    };
    assert.equal(turnsUntilPark(dense(), true), 16);
    assert.equal(turnsUntilPark(dense(), false), 200);
    const sparse = new Spinner(200, 0.2, 16, 200);
    sparse.arrived(1);
    sparse.arrived(3); // 2 ms apart: not dense, nothing awaited
    assert.equal(turnsUntilPark(sparse, true), 0);
    assert.equal(new Spinner().maxSpinTurns, 16, 'one limit unless told otherwise');
    const s = dense();
    assert.ok(s.sleepUs() <= 200 && s.pollUs() > 0, 'dense: polls first, sleeps at most maxSleepUs');
  });
});
