'use strict';
// The one loop that reads a thread's port, used by every kind of thread that has one: the host
// (the supervisor's port and the task pool's reply port), isolated actor threads (and so task
// threads, which are actor threads running lib/tasks/runner.js) and pool workers.
//
// A port has urgent envelopes (replies, start and stop orders, grants, events for the host)
// and, for actor threads, mail. One pass of `drain` handles urgent envelopes first, then one
// unit of mail (`work`), and repeats. With nothing left it asks its spin policy (lib/port/spin.js)
// whether to keep the port claimed — waiting in the core (`wait`) or taking an event-loop turn
// and looking again — or to park, after which the next sender wakes the thread through its
// registered callback. The thread-specific parts are passed in; everything else is here once.

/** What `work()` returns: nothing was there, */
const IDLE = 0;
/** a unit of work ran to completion, */
const DONE = 1;
/** or a unit of work ran and left JS to run (an async handler's continuation). */
const QUEUED_JS = 2;

const always = () => true;
const never = () => false;

class PortReader {
  /**
   * - `take()`: JSON text of the urgent envelopes waiting (an array), or null;
   * - `onEnvelope(env)`: handles one of them;
   * - `work()` (optional): handles one unit of mail; IDLE, DONE or QUEUED_JS;
   * - `urgentFirst`: after urgent envelopes, take again before any mail (otherwise mail next);
   * - `rounds`: passes with mail per call before yielding an event-loop turn (port kept);
   * - `park()`: releases the port; true if work arrived meanwhile (read on), false if parked;
   * - `wait(pollUs, sleepUs)` (optional): waits in the core with the port claimed; true if
   *   something arrived; `mayWait(awaiting)`: whether waiting is allowed right now;
   * - `open()`: false once the thread stops reading; `awaiting()`: replies are expected soon;
   * - `policy`: `arrived(now)`, `shouldSpin(awaiting, waits)`, `pollUs()`, `sleepUs()`, `parked()`
   *   (a Spinner of lib/port/spin.js, or the same shape);
   * - `setImmediate`: the runtime's own (user code may have replaced the global one);
   * - `parkAfterJs`: when the pass ran something that queued JS (a settled reply), park in a
   *   microtask queued behind it rather than now, so the caller's `await` resumes one native
   *   call sooner (the port stays claimed meanwhile: what arrives is found by that park).
   */
  constructor(o) {
    this.take = o.take;
    this.onEnvelope = o.onEnvelope;
    this.work = o.work ?? null;
    this.urgentFirst = o.urgentFirst ?? false;
    this.rounds = o.rounds ?? Infinity;
    this.park = o.park;
    this.wait = o.wait ?? null;
    this.mayWait = o.mayWait ?? always;
    this.open = o.open ?? always;
    this.awaiting = o.awaiting ?? never;
    this.policy = o.policy;
    this.setImmediate = o.setImmediate ?? setImmediate;
    this.parkAfterJs = o.parkAfterJs ?? false;
    this.spinQueued = false;
    this.recheckQueued = false;
    this.parkQueued = false;
    /** `drain` as a callback (for registerPort and settled handlers). */
    this.read = () => this.drain();
    /** `drain` as a host port's wake callback, which brings the batch its native side took. */
    this.wakeWith = (batch) => this.drain(batch);
    this.spinTurn = () => {
      this.spinQueued = false;
      this.drain();
    };
    // A recheck continues the drain that queued it: it counts on from that drain's `rounds`,
    // so a chain of them (work, microtasks, a wait woken by more work, ...) still yields an
    // event-loop turn every `rounds` passes.
    this.carried = 0;
    this.recheck = () => {
      this.recheckQueued = false;
      this.drain(undefined, this.carried);
    };
    this.parkSoon = () => {
      // A drain since it was queued took the port over (and spun, waited or parked itself).
      if (!this.parkQueued) return;
      this.parkQueued = false;
      if (this.open() && this.park()) this.drain();
    };
  }

  /**
   * Mail was found now (for `work` to call, with `now` if it read the clock already; urgent
   * envelopes are counted here).
   */
  arrived(now = performance.now()) {
    this.policy.arrived(now);
  }

  /** Looks again on the next event-loop turn (once, however often asked before it). */
  spinSoon() {
    if (!this.spinQueued) {
      this.spinQueued = true;
      this.setImmediate(this.spinTurn);
    }
  }

  /**
   * Handles everything the port has, then spins, waits or parks (see the file comment).
   * `taken` (a host port's wake): what a first `take()` would return, already taken;
   * `rounds`: passes with mail already made since the event loop last turned.
   */
  drain(taken, rounds = 0) {
    // Whether this call ran something that may have queued JS (a settled reply, a handler still
    // running): then the thread must not wait in the core before its microtasks and event loop
    // have run, since that JS may be what sends the next message.
    let queuedJs = false;
    this.parkQueued = false;
    while (this.open()) {
      let text;
      if (taken === undefined) text = this.take();
      else {
        text = taken;
        taken = undefined;
      }
      if (text !== null) {
        this.arrived();
        queuedJs = true;
        const envs = JSON.parse(text);
        for (let i = 0; i < envs.length; i++) this.onEnvelope(envs[i]);
        if (this.urgentFirst) continue;
        if (!this.open()) return;
        // A port with no mail (the host's): no second take to find it empty. Whatever came
        // since is found by what follows anyway — `park` and `wait` look at the queue before
        // the thread sleeps, and a spin turn or recheck drains again — so a sparse reply costs
        // one native call fewer.
      }
      if (this.work !== null) {
        if (rounds++ === this.rounds) {
          // Timers, I/O and continuations get a turn; the port stays claimed.
          this.setImmediate(this.read);
          return;
        }
        const r = this.work();
        if (r !== IDLE) {
          if (r === QUEUED_JS) queuedJs = true;
          continue;
        }
      }
      const awaiting = this.awaiting();
      const waitable = this.wait !== null && this.mayWait(awaiting);
      if (this.policy.shouldSpin(awaiting, waitable)) {
        if (this.wait !== null) {
          if (!queuedJs && waitable && this.wait(this.policy.pollUs(), this.policy.sleepUs())) continue;
          if (queuedJs && !this.recheckQueued) {
            // Look again once the microtasks queued so far have run (a reply's continuation
            // may have sent the next request); then waiting for its reply is allowed.
            this.recheckQueued = true;
            this.carried = rounds;
            queueMicrotask(this.recheck);
            return;
          }
        }
        this.spinSoon();
        return;
      }
      this.policy.parked();
      if (queuedJs && this.parkAfterJs) {
        this.parkQueued = true;
        queueMicrotask(this.parkSoon);
        return;
      }
      if (!this.park()) return;
    }
  }
}

module.exports = { PortReader, IDLE, DONE, QUEUED_JS };
