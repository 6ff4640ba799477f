'use strict';
// Optional sampled metrics kept on the host thread (diagnostics.track + sampleRate). Each
// tracked metric keeps its most recent samples and reports count, p50, p99 and max.

const METRICS = ['callLatency', 'resourceLatency', 'restartLatency'];
const KEEP = 1024;

class Metrics {
  constructor({ enabled, sampleRate, track }) {
    this.rate = enabled ? sampleRate : 0;
    this.tracked = Object.fromEntries(METRICS.map((m) => [m, enabled && track[m] === true]));
    this.on = Object.fromEntries(METRICS.map((m) => [m, this.tracked[m] && this.rate > 0]));
    this.samples = Object.fromEntries(METRICS.map((m) => [m, { count: 0, values: [] }]));
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

  /** `{ [metric]: { count, p50, p99, max } }` for tracked metrics. */
  summary() {
    const out = {};
    for (const m of METRICS) {
      if (!this.tracked[m]) continue;
      const { count, values } = this.samples[m];
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
      out[m] = { count, p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1] : null };
    }
    return out;
  }
}

module.exports = { Metrics, METRICS };
