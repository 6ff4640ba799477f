'use strict';
// When to wait for more work instead of parking, after a thread drained its port.
//
// Parking costs the next sender a wake-up through the thread's event loop (as dear as a
// postMessage). While messages arrive densely (smoothed gap under a few ms), or while the
// thread awaits replies it asked for, the thread keeps its port claimed and waits in native
// code instead (`workerWait`/`hostWait`): when messages come every few µs it first polls (at
// most one poller per core, each yielding its core between looks, so pollers never take a core
// from a thread that has work), then sleeps in the kernel until a sender wakes it directly, for
// at most about twice the usual gap. Between waits the event loop gets a turn (timers, I/O);
// after a few turns without work the thread parks, so an idle thread costs no CPU and a
// sleeping one burns none. A thread that may not wait right now (a pool worker while some
// actor's code awaits) only looks again on event-loop turns, more of them before it parks.

const POLL_GAP_MS = 0.1; // poll first only when messages come closer than this
const MAX_POLL_US = 100;
const MIN_SLEEP_US = 50;

class Spinner {
  /**
   * `maxSleepUs`: longest single wait (a wait blocks the thread's event loop); `denseGapMs`:
   * arrivals closer than this on average count as dense traffic; `maxTurns`: event-loop turns
   * without work before parking, when the thread may wait in the core between them;
   * `maxSpinTurns`: the same when it may not (each turn is then a look and nothing else, so
   * more of them fit in the same time).
   */
  constructor(maxSleepUs = 2000, denseGapMs = 2, maxTurns = 16, maxSpinTurns = maxTurns) {
    this.denseGapMs = denseGapMs;
    this.maxTurns = maxTurns;
    this.maxSpinTurns = maxSpinTurns;
    this.last = 0;
    this.gap = Infinity;
    this.turns = 0;
    this.maxSleepUs = maxSleepUs;
  }

  /** Work was found at `now` (ms). */
  arrived(now) {
    if (this.last !== 0) {
      const g = now - this.last;
      this.gap = this.gap === Infinity ? g : this.gap * 0.75 + g * 0.25;
    }
    this.last = now;
    this.turns = 0;
  }

  /**
   * Nothing to do: true if the thread should wait for work instead of parking. `awaiting`:
   * the thread has requests in flight whose replies will arrive soon; `waits`: it may wait in
   * the core now (else it can only look again on the next event-loop turn).
   */
  shouldSpin(awaiting = false, waits = true) {
    return (awaiting || this.gap < this.denseGapMs) && this.turns++ < (waits ? this.maxTurns : this.maxSpinTurns);
  }

  /** How long to poll before sleeping (µs). */
  pollUs() {
    return this.gap < POLL_GAP_MS ? Math.min(MAX_POLL_US, this.gap * 2000) : 0;
  }

  /** How long to sleep at most in one wait (µs): about twice the usual gap. */
  sleepUs() {
    const us = this.gap === Infinity ? this.maxSleepUs : this.gap * 2000;
    return Math.min(this.maxSleepUs, Math.max(MIN_SLEEP_US, us));
  }

  /** Parking: the next arrival starts a fresh measurement of density. */
  parked() {
    this.turns = 0;
  }
}

module.exports = { Spinner };
