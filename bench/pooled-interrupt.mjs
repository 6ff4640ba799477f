// The cost of `pool.interrupt` (DESIGN.md 8.3, layer 1): batches run under a `vm` time limit so
// that a synchronous hang ends only its actor. Measured with it off and on, in one sitting, on
// the pooled paths it touches: a host → pooled call (a batch of one message: the worst case), a
// stream of messages from one pooled actor to another on the same worker (batches of `perActor`
// messages), and one message to each of many actors (batches of up to `batch.maxActors` actors).
// Each row also gives the process CPU time per message (all threads), steadier than wall time on
// a shared machine. Usage: `node bench/pooled-interrupt.mjs`; Bun: `bun bench/pooled-interrupt.mjs`.
// One JSON line per row.

import { createSupervisor } from '../index.mjs';
import { percentile } from './common.mjs';

const out = (row) => console.log(JSON.stringify({ runtime: process.versions.bun ? 'bun' : 'node', ...row }));

/** Process CPU time (user + system, all threads) since `c0`, in µs. */
function cpuUs(c0) {
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

async function callLatency(interrupt) {
  const sup = createSupervisor({ pool: { workers: 1, interrupt } });
  const [a] = sup.spawnMany(1, (self, msg) => msg);
  for (let i = 0; i < 2000; i++) await a.call(i);
  const lat = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < 10000; i++) {
    const t = performance.now();
    await a.call(i);
    lat.push((performance.now() - t) * 1000);
  }
  const cpu = cpuUs(c0) / 10000;
  await sup.shutdown();
  return { p50us: +percentile(lat, 50).toFixed(1), p99us: +percentile(lat, 99).toFixed(1), cpuUsPerCall: +cpu.toFixed(2) };
}

async function actorToActor(interrupt) {
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 60000, interrupt } });
  const total = 200_000;
  const [sink] = sup.spawnMany(1, {
    init: () => 0,
    handle: (n, msg, ctx) => {
      if (n + 1 === msg.total) ctx.self.send('done');
      return n + 1;
    },
  });
  const [source] = sup.spawnMany(1, (self, msg, ctx) => {
    for (let i = 0; i < msg.total; i++) ctx.send(msg.to, { total: msg.total });
  });
  await sink.call({ total: -1 });
  const done = new Promise((resolve) => sink.subscribe(resolve));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  source.receive({ to: sink.id, total: total + 1 });
  await done;
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuUs(c0) / total;
  await sup.shutdown();
  return { perSecond: Math.round(total / s), cpuUsPerMsg: +cpu.toFixed(3) };
}

async function fanOut(interrupt) {
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 5000, interrupt } });
  const n = 20_000;
  const rounds = 5;
  const refs = sup.spawnMany(n, (self, msg) => msg);
  await Promise.all(refs.map((r) => r.call(0, { timeoutMs: 60000 })));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let k = 0; k < rounds; k++) await Promise.all(refs.map((r) => r.call(k, { timeoutMs: 60000 })));
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuUs(c0) / (n * rounds);
  await sup.shutdown();
  return { callsPerSecond: Math.round((n * rounds) / s), cpuUsPerCall: +cpu.toFixed(2) };
}

for (const [row, fn] of [['call host → pooled', callLatency], ['actor → actor, one worker', actorToActor], ['one call to each of 20,000 actors', fanOut]]) {
  const off = await fn(false);
  const on = await fn(true);
  out({ row, off, on });
}
