'use strict';
// Optional sampled metrics (diagnostics.track + sampleRate). The host thread measures the
// metrics it sees happen (calls, resource calls, restarts, resource authorisations); the Rust
// core measures the rest where they happen (mail waiting, mailbox depths, Tier 2 write waits,
// heartbeat intervals, box references, box read authorisations). Each metric keeps its most
// recent samples and reports count, p50, p99 and max; `authorization` reports counts.

const HOST_METRICS = ['callLatency', 'resourceLatency', 'restartLatency'];
const CORE_METRICS = ['messageLatency', 'inboxDepth', 'writeQueueWait', 'heartbeatInterval', 'refCounts'];
const METRICS = [...HOST_METRICS, ...CORE_METRICS, 'authorization'];
const KEEP = 1024;

class Metrics {
  constructor({ enabled, sampleRate, track }) {
    this.rate = enabled ? sampleRate : 0;
    this.tracked = Object.fromEntries(METRICS.map((m) => [m, enabled && track[m] === true]));
    this.on = Object.fromEntries(METRICS.map((m) => [m, this.tracked[m] && this.rate > 0]));
    this.samples = Object.fromEntries(HOST_METRICS.map((m) => [m, { count: 0, values: [] }]));
    this.granted = 0; // resource calls an actor was allowed to make
    this.denied = 0; // … and refused
  }

  /** Names of the tracked metrics the core measures (passed to it at creation). */
  coreTracked() {
    return METRICS.filter((m) => this.tracked[m] && !HOST_METRICS.includes(m));
  }

  /** True if a sample of `name` should be taken now (sampling decided once per event). */
  sample(name) {
    return this.on[name] && (this.rate >= 1 || Math.random() < this.rate);
  }

  /** Records one value (ms). */
  record(name, value) {
    const s = this.samples[name];
    s.count++;
    if (s.values.length >= KEEP) s.values.shift();
    s.values.push(value);
  }

  /** Counts a resource authorisation (granted or refused by the actor's `resources` list). */
  authorised(granted) {
    if (!this.sample('authorization')) return;
    if (granted) this.granted++;
    else this.denied++;
  }

  /**
   * `{ [metric]: { count, p50, p99, max } }` for tracked metrics and `authorization: { granted,
   * denied }` (resource calls and Tier 2 reads together); `core` is the core's part.
   */
  summary(core) {
    const out = {};
    for (const m of HOST_METRICS) {
      if (!this.tracked[m]) continue;
      const { count, values } = this.samples[m];
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
      out[m] = { count, p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1] : null };
    }
    const empty = { count: 0, p50: null, p99: null, max: null };
    for (const m of CORE_METRICS) if (this.tracked[m]) out[m] = core?.[m] ?? { ...empty };
    if (this.tracked.authorization) {
      const boxes = core?.authorization ?? { granted: 0, denied: 0 };
      out.authorization = { granted: this.granted + boxes.granted, denied: this.denied + boxes.denied };
    }
    return out;
  }
}

module.exports = { Metrics, METRICS };
