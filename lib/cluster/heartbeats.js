'use strict';
// Node heartbeats over a transport (DESIGN.md 9): every `heartbeatMs` this node publishes a
// sealed `{ k: 'hb', n, e }` on the cluster's heartbeat subject, feeds what it hears to its
// failure detector, and reports `up`/`down`/`epoch` events. The caller drives the clock with
// tick(now) — the cluster thread (lib/cluster/beat.js) from a timer, unit tests by hand.

const crypto = require('node:crypto');
const { Detector } = require('./detector.js');
const { seal, open } = require('./envelope.js');

/** A fresh epoch: random per start (and per rejoin), so a restarted node is a new node. */
function newEpoch() {
  return crypto.randomBytes(6).toString('hex');
}

class Heartbeats {
  /**
   * `transport`, MAC `key`, `subject` (shared by the cluster), this `node` and its first
   * `epoch`, `heartbeatMs`, `downAfterMs`, a monotonic `clock()` in ms, and `emit(event)`.
   */
  constructor({ transport, key, subject, node, epoch, heartbeatMs, downAfterMs, clock, emit }) {
    Object.assign(this, { transport, key, subject, node, epoch, heartbeatMs, clock, emit });
    this.detector = new Detector({ self: node, downAfterMs, now: clock() });
    this.lastBeat = -Infinity;
    this.refused = 0; // frames that did not prove the secret
    this.unsubscribe = transport.subscribe(subject, (bytes) => this.receive(bytes, this.clock()));
  }

  /** Publishes a heartbeat now (and at start, so that others see this node at once). */
  beat(now) {
    this.lastBeat = now;
    this.transport.publish(this.subject, seal(this.key, { k: 'hb', n: this.node, e: this.epoch }));
  }

  /** Time passes: beats when due, declares silent nodes down, rejoins after a freeze. */
  tick(now) {
    for (const ev of this.detector.tick(now)) {
      if (ev.type === 'frozen') this._rejoin(`frozen for ${Math.round(ev.gapMs)} ms`);
      else this.emit(ev);
    }
    if (now - this.lastBeat >= this.heartbeatMs) this.beat(now);
  }

  /** A frame heard on the heartbeat subject. */
  receive(bytes, now) {
    const env = open(this.key, bytes);
    if (env === null) {
      this.refused++;
      this.emit({ type: 'refused' });
      return;
    }
    if (env.k === 'hb') {
      for (const ev of this.detector.beat(env.n, env.e, now)) {
        if (ev.type === 'stale') {
          this.transport.publish(this.subject, seal(this.key, { k: 'stale', n: this.node, e: this.epoch, to: env.n, te: env.e }));
        } else {
          this.emit(ev);
          if (ev.type === 'up') this.beat(now); // a newcomer learns of this node at once
        }
      }
    } else if (env.k === 'bye') {
      for (const ev of this.detector.bye(env.n, env.e)) this.emit(ev);
    } else if (env.k === 'stale' && env.to === this.node && env.te === this.epoch) {
      this._rejoin('declared down by the others');
    }
  }

  /** Leaves the cluster on purpose: the others see this node down at once. */
  bye() {
    this.transport.publish(this.subject, seal(this.key, { k: 'bye', n: this.node, e: this.epoch }));
    this.unsubscribe();
  }

  /** The live peers. */
  nodes() {
    return this.detector.nodes();
  }

  _rejoin(why) {
    for (const ev of this.detector.reset()) this.emit(ev);
    this.epoch = newEpoch();
    this.emit({ type: 'epoch', epoch: this.epoch, why });
    this.lastBeat = -Infinity;
  }
}

module.exports = { Heartbeats, newEpoch };
