'use strict';
// Adaptive polling after a drain. While messages arrive densely (smoothed gap under
// DENSE_GAP_MS), or while the thread awaits replies it asked for, a thread keeps its port
// claimed and polls again on the next event-loop turn (setImmediate) instead of parking, which
// saves the cross-thread wake-up on every message of a request-reply exchange. It polls at most
// MAX_TURNS idle turns, then parks; sparse traffic parks at once, so an idle thread costs no CPU.

const DENSE_GAP_MS = 0.2;
const MAX_TURNS = 200;

class Spinner {
  constructor() {
    this.last = 0;
    this.gap = Infinity;
    this.turns = 0;
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
   * Nothing to do: true if the thread should poll again instead of parking. `awaiting`: the
   * thread has requests in flight whose replies will arrive soon.
   */
  shouldSpin(awaiting = false) {
    return (awaiting || this.gap < DENSE_GAP_MS) && this.turns++ < MAX_TURNS;
  }

  /** Parking: the next arrival starts a fresh measurement of density. */
  parked() {
    this.turns = 0;
  }
}

module.exports = { Spinner };
