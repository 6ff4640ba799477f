// Pooled actors (DESIGN.md 8.5), the rows measurable today: spawn rate with spawnMany, RSS per
// live pooled actor, host → pooled call p50, actor → actor messages per second on one worker,
// and how long after a hang among N co-located actors all of them answer again. Usage: `node bench/pooled.mjs [actors]` (default 100000); Bun: `bun bench/pooled.mjs`.
// Prints one JSON line per row.

import { createSupervisor } from '../index.mjs';
import { percentile, within } from './common.mjs';

const N = Number(process.argv[2] ?? 100_000);
const out = (row) => console.log(JSON.stringify({ runtime: process.versions.bun ? 'bun' : 'node', ...row }));

async function spawnAndMemory() {
  const sup = createSupervisor({ pool: { workers: 2, maxBlockMs: 5000 } });
  const warm = sup.spawnMany(1, (self, msg) => msg);
  await warm[0].call(0); // both the addon and a worker are started
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const refs = sup.spawnMany(N, { init: () => ({ hits: 0 }), handle: (s) => ({ hits: s.hits + 1 }) });
  const spawnMs = performance.now() - t0;
  await within(Promise.all(refs.map((r) => r.call('hit', { timeoutMs: 600000 }))), 600000, 'one call to each');
  const allMs = performance.now() - t0;
  globalThis.gc?.();
  const rss1 = process.memoryUsage().rss;
  out({ row: 'spawn rate (spawnMany, host)', actors: N, perSecond: Math.round(N / (spawnMs / 1000)) });
  out({ row: 'spawn + one call to each', actors: N, ms: Math.round(allMs) });
  out({ row: 'RSS per live pooled actor (whole process, host refs included)', actors: N, bytes: Math.round((rss1 - rss0) / N) });
  await sup.shutdown();
}

async function callLatency() {
  const sup = createSupervisor({ pool: { workers: 1 } });
  const [a] = sup.spawnMany(1, (self, msg) => msg);
  for (let i = 0; i < 2000; i++) await a.call(i);
  const lat = [];
  for (let i = 0; i < 20000; i++) {
    const t = performance.now();
    await a.call(i);
    lat.push((performance.now() - t) * 1000);
  }
  out({ row: 'call host → pooled', p50us: Math.round(percentile(lat, 50)), p99us: Math.round(percentile(lat, 99)) });
  await sup.shutdown();
}

async function actorToActor() {
  // (the sender's one handler sends everything: far past the default maxBlockMs of 50 ms)
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 60000 } });
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
  const done = new Promise((resolve) => sink.subscribe(resolve));
  const t0 = performance.now();
  source.receive({ to: sink.id, total });
  await within(done, 120000, 'actor → actor stream');
  out({ row: 'actor → actor on one worker', messages: total, perSecond: Math.round(total / ((performance.now() - t0) / 1000)) });
  await sup.shutdown();
}

async function hangRecovery() {
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 50 }, retry: { max: Infinity } });
  const refs = sup.spawnMany(N, (self, msg) => {
    if (msg === 'hang') for (;;);
    return msg;
  });
  await within(Promise.all(refs.map((r) => r.call(0, { timeoutMs: 600000 }))), 600000, 'warm-up calls');
  const lost = new Promise((resolve) => sup.on('workerLost', resolve));
  const t0 = performance.now();
  refs[N >> 1].receive('hang');
  await within(lost, 60000, 'the workerLost event');
  const event = performance.now() - t0; // emitted once every actor on the lost worker was restarted
  await within(Promise.all(refs.map((r) => r.call(1, { timeoutMs: 600000 }))), 600000, 'calls after the hang');
  out({ row: 'hang among co-located actors (maxBlockMs 50): workerLost event, all answer again', actors: N, workerLostEventMs: Math.round(event), allAnswerMs: Math.round(performance.now() - t0) });
  await sup.shutdown();
}

await callLatency();
await actorToActor();
await hangRecovery();
await spawnAndMemory();
