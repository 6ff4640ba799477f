// Pooled actors (DESIGN.md 8.5): one JSON line per row.
//   node --expose-gc bench/pooled.mjs [actors]        (default 1000000; Bun: bun bench/pooled.mjs)
// Rows: host → pooled call p50/p99 (with CPU time per call: the process, and the host thread;
// beside it, the same loop as a postMessage ping-pong with one worker thread, same run);
// actor → actor on one worker (messages per second and CPU time per message); ctx.spawn inside
// a worker; a hang among co-located actors (HANG actors, default 100000; beside it, one round of
// calls to all of them without a hang); then, with [actors] live: spawnMany rate per chunk of
// 100k (the first and the last), one message to each (with CPU time per message: the process,
// and the host thread while it sends), memory per actor by layer (whole-process RSS; the host's
// JS heap; the pool workers' JS heaps, measured from inside them), and call p50/p99 to random
// actors with all of them resident (with CPU time per call as in the first row); last,
// `shutdown()` of 100k and of [actors] live pooled actors on 2 workers (wall time, the
// process's CPU time and the host thread's).
// BENCH_ROWS=call,a2a,ctxspawn,hang,many,shutdown picks rows (default: all).

import { Worker } from 'node:worker_threads';
import { createSupervisor } from '../index.mjs';
import { mainThreadCpuMs as hostCpuMs, onceMessage, percentile, processCpuMs as cpuMs, within } from './common.mjs';

const N = Number(process.argv[2] ?? 1_000_000);
const HANG = Number(process.env.HANG ?? 100_000);
const ROWS = new Set((process.env.BENCH_ROWS ?? 'call,a2a,ctxspawn,hang,many,shutdown').split(','));
const bun = typeof process.versions.bun === 'string';
const out = (row) => console.log(JSON.stringify({ runtime: bun ? 'bun' : 'node', ...row }));
const gc = () => (bun ? globalThis.Bun.gc(true) : globalThis.gc?.());

/**
 * `n` calls one after the other (`call(i)` makes the i-th): their latency p50/p99 (µs), and the
 * CPU time per call of the whole process (workers included) and of the host thread alone (10 ms
 * ticks; null where /proc is missing), over the same `n` calls.
 */
async function calls(n, call) {
  const lat = [];
  const c0 = cpuMs();
  const h0 = hostCpuMs();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(i);
    lat.push((performance.now() - t) * 1000);
  }
  const h1 = hostCpuMs();
  return {
    p50us: Math.round(percentile(lat, 50)),
    p99us: Math.round(percentile(lat, 99)),
    processCpuNsPerCall: Math.round(((cpuMs() - c0) * 1e6) / n),
    hostCpuNsPerCall: h0 === null ? null : Math.round(((h1 - h0) * 1e6) / n),
  };
}

async function callLatency() {
  const sup = createSupervisor({ pool: { workers: 1 } });
  const [a] = sup.spawnMany(1, (self, msg) => msg);
  for (let i = 0; i < 2000; i++) await a.call(i);
  const warden = await calls(20000, (i) => a.call(i));
  await sup.shutdown();
  // baseline, same run: a postMessage ping-pong with one worker thread (bench/workers/echo.mjs)
  const w = new Worker(new URL('./workers/echo.mjs', import.meta.url));
  const ping = (i) => {
    const p = onceMessage(w);
    w.postMessage(i);
    return p;
  };
  for (let i = 0; i < 2000; i++) await ping(i);
  const postMessage = await calls(20000, ping);
  await w.terminate();
  out({ row: 'call host → pooled', ...warden, postMessage, ratioP50: +(warden.p50us / postMessage.p50us).toFixed(2) });
}

async function actorToActor() {
  // (the sender's one handler sends everything: far past the default maxBlockMs of 50 ms)
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 60000 } });
  const total = 1_000_000;
  const [sink] = sup.spawnMany(1, {
    init: () => 0,
    handle: (n, msg, ctx) => {
      if (n + 1 === msg.total) ctx.self.send('done');
      return n + 1;
    },
  });
  const [source] = sup.spawnMany(1, (self, msg, ctx) => {
    for (let i = 0; i < msg.count; i++) ctx.send(msg.to, { total: msg.total });
  });
  await sink.call({ total: 0 }); // the worker is up
  await sink.call({ total: 0 });
  await source.call({ to: sink.id, count: 0, total: 0 });
  const done = new Promise((resolve) => sink.subscribe(resolve));
  const c0 = cpuMs();
  const t0 = performance.now();
  source.receive({ to: sink.id, count: total, total: total + 2 }); // the sink counted 2 calls
  await within(done, 300000, 'actor → actor stream');
  const ms = performance.now() - t0;
  out({
    row: 'actor → actor on one worker',
    messages: total,
    perSecond: Math.round(total / (ms / 1000)),
    processCpuNsPerMessage: Math.round(((cpuMs() - c0) * 1e6) / total),
  });
  await sup.shutdown();
}

async function ctxSpawn() {
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 60000 } });
  const children = 20_000;
  const [parent] = sup.spawnMany(1, async (self, n, ctx) => {
    const t = performance.now();
    await Promise.all(Array.from({ length: n }, () => ctx.spawn((s, m) => m, { kind: 'pooled' })));
    return performance.now() - t;
  });
  await parent.call(1);
  const ms = await parent.call(children, { timeoutMs: 300000 });
  out({ row: 'ctx.spawn inside a worker', children, perSecond: Math.round(children / (ms / 1000)) });
  await sup.shutdown();
}

async function hangRecovery() {
  const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 50 }, retry: { max: Infinity } });
  let intensity = 0;
  sup.on('escalate', () => intensity++);
  const refs = sup.spawnMany(HANG, (self, msg) => {
    if (msg === 'hang') for (;;);
    return msg;
  });
  await within(Promise.all(refs.map((r) => r.call(0, { timeoutMs: 600000 }))), 600000, 'warm-up calls');
  // the same round of calls without a hang: what "all answer again" costs by itself
  const r0 = performance.now();
  await within(Promise.all(refs.map((r) => r.call(0, { timeoutMs: 600000 }))), 600000, 'a round of calls');
  const roundMs = performance.now() - r0;
  // Where the worker interrupts a hang (pool.interrupt, the default on Bun and only there) only
  // the culprit exits (timeout) and restarts; otherwise the whole worker is lost and replaced
  const culprit = refs[HANG >> 1];
  const over = new Promise((resolve) => {
    sup.on('workerLost', () => resolve('workerLost'));
    if (bun) sup.on('restart', (e) => e.id === culprit.id && resolve('culprit restarted'));
  });
  const t0 = performance.now();
  culprit.receive('hang');
  const how = await within(over, 60000, 'the workerLost or restart event');
  const event = performance.now() - t0; // workerLost: emitted once every actor on the lost worker was restarted
  await within(Promise.all(refs.map((r) => r.call(1, { timeoutMs: 600000 }))), 600000, 'calls after the hang');
  out({
    row: 'hang among co-located actors (maxBlockMs 50): the event, all answer again',
    actors: HANG,
    event: how,
    eventMs: Math.round(event),
    allAnswerMs: Math.round(performance.now() - t0),
    roundWithoutHangMs: Math.round(roundMs),
    escalations: intensity,
  });
  await sup.shutdown();
}

/** One probe actor per pool worker: its JS heap after a full collection, and what it counted. */
async function probes(sup, workers) {
  const refs = sup.spawnMany(8 * workers, (self, msg) => {
    if (msg === 'gc') {
      if (typeof Bun === 'object') Bun.gc(true);
      else globalThis.gc?.();
      const m = process.memoryUsage();
      return [m.heapUsed, m.heapTotal];
    }
    return globalThis.__wardenBenchHits ?? 0;
  });
  const byWorker = new Map();
  for (const r of refs) {
    await r.call('hits');
    const w = r.getDiagnostics().value?.worker;
    if (!byWorker.has(w)) byWorker.set(w, r);
  }
  if (byWorker.size !== workers) throw new Error(`probes reached ${byWorker.size} of ${workers} workers`);
  const all = [...byWorker.values()];
  return {
    heap: async () => (await Promise.all(all.map((r) => r.call('gc')))).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]),
    hits: async () => (await Promise.all(all.map((r) => r.call('hits')))).reduce((a, b) => a + b, 0),
  };
}

async function many() {
  const workers = 2;
  const sup = createSupervisor({ pool: { workers, maxBlockMs: 5000, maxActors: N + 100 } });
  const probe = await probes(sup, workers);
  gc();
  const m0 = process.memoryUsage();
  const [heap0, total0] = await probe.heap();
  const actor = {
    init: () => ({ hits: 0 }),
    handle: (s) => {
      globalThis.__wardenBenchHits = (globalThis.__wardenBenchHits ?? 0) + 1;
      return { hits: s.hits + 1 };
    },
  };
  const CHUNK = 100_000;
  const rates = [];
  const refs = [];
  const t0 = performance.now();
  for (let done = 0; done < N; ) {
    const n = Math.min(CHUNK, N - done);
    const t = performance.now();
    const chunk = sup.spawnMany(n, actor);
    rates.push(Math.round(n / ((performance.now() - t) / 1000)));
    for (const r of chunk) refs.push(r);
    done += n;
  }
  const spawnMs = performance.now() - t0;
  out({ row: 'spawn rate (spawnMany, host)', actors: N, perSecond: Math.round(N / (spawnMs / 1000)), firstChunkPerSecond: rates[0], lastChunkPerSecond: rates.at(-1), chunk: CHUNK });
  // wait for every start-up (the probes run after the start orders queued before them)
  await probe.hits();
  const c1 = cpuMs();
  const h1 = hostCpuMs();
  const t1 = performance.now();
  for (const r of refs) r.receive('hit');
  const sentMs = performance.now() - t1;
  const h2 = hostCpuMs();
  while ((await probe.hits()) < N) await new Promise((r) => setTimeout(r, 1));
  out({
    row: 'one message to each',
    actors: N,
    ms: Math.round(performance.now() - t1),
    hostSendMs: Math.round(sentMs),
    // CPU per message: the whole process until all were handled (workers included), and the
    // host thread during its send loop (10 ms ticks)
    processCpuNsPerMessage: Math.round(((cpuMs() - c1) * 1e6) / N),
    hostSendCpuNsPerMessage: h1 === null ? null : Math.round(((h2 - h1) * 1e6) / N),
  });
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const m1 = process.memoryUsage();
  const [heap1, total1] = await probe.heap();
  const per = (a, b) => Math.round((b - a) / N);
  const rss = per(m0.rss, m1.rss);
  out({
    row: 'memory per live pooled actor (after GC)',
    actors: N,
    rssBytes: rss,
    hostHeapUsedBytes: per(m0.heapUsed, m1.heapUsed),
    hostHeapCommittedBytes: per(m0.heapTotal, m1.heapTotal),
    workerHeapUsedBytes: per(heap0, heap1),
    workerHeapCommittedBytes: per(total0, total1),
    // RSS less both JS heaps' committed growth: the core's records, allocator arenas, code
    restBytes: rss - per(m0.heapTotal, m1.heapTotal) - per(total0, total1),
    gc: bun || typeof globalThis.gc === 'function',
  });
  const pick = () => refs[(Math.random() * N) | 0];
  out({ row: 'call to a random actor with all resident', actors: N, ...(await calls(20000, () => pick().call('x'))) });
  await sup.shutdown();
}

/** `shutdown()` of `n` live pooled actors on 2 workers, every one started and idle. */
async function shutdownOf(n) {
  const workers = 2;
  const sup = createSupervisor({ pool: { workers, maxBlockMs: 5000, maxActors: n + 100 } });
  sup.spawnMany(n, { init: () => ({ hits: 0 }), handle: (s) => ({ hits: s.hits + 1 }) });
  await (await probes(sup, workers)).hits(); // (their start orders come after every actor's)
  gc();
  const c0 = cpuMs();
  const h0 = hostCpuMs();
  const t0 = performance.now();
  await sup.shutdown();
  const ms = performance.now() - t0;
  const h1 = hostCpuMs();
  out({
    row: 'shutdown() of live pooled actors',
    actors: n,
    ms: Math.round(ms),
    processCpuMs: Math.round(cpuMs() - c0),
    hostCpuMs: h0 === null ? null : h1 - h0,
  });
}

if (ROWS.has('call')) await callLatency();
if (ROWS.has('a2a')) await actorToActor();
if (ROWS.has('ctxspawn')) await ctxSpawn();
if (ROWS.has('hang')) await hangRecovery();
if (ROWS.has('many')) await many();
if (ROWS.has('shutdown')) for (const n of new Set([100_000, N])) await shutdownOf(n);
