// Repro (bottleneck, not a crash): back-to-back `call()` latency depends on the adaptive spinner
// being engaged. After any idle gap the first ~15–20 calls take 60–100 µs (the wake-up path, slower
// than a postMessage ping-pong), and under light background load some 200-call bursts never engage
// the spinner at all (p50 ≈ 20 µs instead of ≈ 5 µs), with 0.2–4 ms stalls (~0.5% of calls).
// Run: node bench/repro/spin-warmup.mjs   (or node_modules/.bin/bun bench/repro/spin-warmup.mjs)
import { createSupervisor } from '../../index.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const p50 = (l) => [...l].sort((x, y) => x - y)[l.length >> 1];
const sup = createSupervisor({ warmWorkers: 1 });
const a = sup.spawn((self, m) => m);
await a.call(0);
for (let burst = 0; burst < 6; burst++) {
  const lat = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await a.call(i);
    lat.push((performance.now() - t0) * 1000);
  }
  const slow = lat.filter((v) => v > 200).length;
  console.log(
    `burst ${burst}: p50 ${p50(lat).toFixed(1)} µs, max ${Math.max(...lat).toFixed(0)} µs, >200 µs: ${slow}; ` +
      `first 20 (µs): ${lat.slice(0, 20).map((v) => v.toFixed(0)).join(' ')}`,
  );
  await sleep(5); // idle gap: the spinner parks
}
await sup.shutdown();
