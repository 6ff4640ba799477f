// Cost of diagnostics on the message path: the same call round trips and actor-to-actor stream
// with diagnostics disabled, enabled (default), and every tracked metric on at sampleRate 0.01
// and 1, interleaved in one run; medians of several runs.
//
//   node bench/diagnostics.mjs
//   node_modules/.bin/bun bench/diagnostics.mjs

import { createSupervisor } from '../index.mjs';
import { median } from './common.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const CALLS = 5000;
const N = 100_000;

const EVERY_METRIC = ['callLatency', 'resourceLatency', 'restartLatency', 'messageLatency', 'inboxDepth', 'writeQueueWait', 'heartbeatInterval', 'refCounts', 'authorization'];
const track = Object.fromEntries(EVERY_METRIC.map((m) => [m, true]));
const CONFIGS = {
  disabled: { enabled: false },
  enabled: { enabled: true },
  'all tracked, rate 0.01': { enabled: true, sampleRate: 0.01, track },
  'all tracked, rate 1': { enabled: true, sampleRate: 1, track },
};

async function measure(diagnostics) {
  const sup = createSupervisor({ warmWorkers: 2, diagnostics });
  try {
    const echo = sup.spawn((self, m) => m);
    const consumer = sup.spawn((self, m) => {
      globalThis.n = (globalThis.n ?? 0) + 1;
      if (m === -1) self.send('done', globalThis.n);
    });
    const producer = sup.spawn((self, m, ctx) => {
      for (let i = 0; i < m.n; i++) ctx.send(m.to, i);
      ctx.send(m.to, -1);
    });
    for (let i = 0; i < 500; i++) await echo.call(i);
    const rtts = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await echo.call(i);
      rtts.push(performance.now() - t0);
    }
    const rttUs = median(rtts) * 1000;
    const done = new Promise((r) => consumer.subscribe(r));
    const t1 = performance.now();
    producer.receive({ n: N, to: consumer.id });
    await done;
    const rate = N / ((performance.now() - t1) / 1000);
    return { rttUs, rate };
  } finally {
    await sup.shutdown();
  }
}

const results = Object.fromEntries(Object.keys(CONFIGS).map((k) => [k, { rtt: [], rate: [] }]));
for (let r = 0; r < REPS; r++) {
  for (const [name, cfg] of Object.entries(CONFIGS)) {
    const m = await measure(cfg);
    results[name].rtt.push(m.rttUs);
    results[name].rate.push(m.rate);
  }
}
console.log(`runtime: ${typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`}, medians of ${REPS}`);
console.log('| diagnostics | call round trip p50 (5000 back-to-back) | actor→actor stream (100k msgs) |');
console.log('| --- | --- | --- |');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${median(r.rtt).toFixed(2)} µs | ${(median(r.rate) / 1e6).toFixed(2)} M msg/s |`);
}
