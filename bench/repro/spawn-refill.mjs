// Repro (bottleneck): with a warm pool, spawn → first reply includes the pool refill, because
// ThreadPool.acquire() schedules `new Worker` (≈0.5–1 ms synchronous on the host thread, plus a
// starting thread competing for the 2 CPUs) in a setImmediate that runs before the first reply is
// handled. Deferring the refill until after the reply (done here by patching the private
// `_pool.scheduleRefill`, for measurement only) removes ~0.6–0.8 ms of the ~2.2 ms p50.
// Run: node bench/repro/spawn-refill.mjs
import { createSupervisor } from '../../index.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const deferRefill of [false, true]) {
  const sup = createSupervisor({ warmWorkers: 2, maxActors: 1000 });
  if (deferRefill) sup._pool.scheduleRefill = () => {};
  await sleep(400);
  const res = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const a = sup.spawn((self, m) => m);
    await a.call(1);
    res.push(performance.now() - t0);
    await a.terminate();
    if (deferRefill) sup._pool.refill();
    await sleep(150);
  }
  console.log(`${deferRefill ? 'refill after the reply' : 'library as is         '}: spawn → first reply p50 ${med(res).toFixed(2)} ms`);
  await sup.shutdown();
}
