// Latency and tails of the paths a message takes, side by side with the same postMessage shapes
// in one run: p50 / p99 / p99.9 of
//   - `await ref.call()` back-to-back, and sparse (1 ms idle before each), vs ping-pong with a
//     worker that echoes (postMessage both ways);
//   - host → actor → host echo (`receive` + `self.send` + `subscribe`), one at a time, vs the
//     same ping-pong; and its throughput (a burst of messages, all echoed) vs a postMessage burst;
//   - a lap of a ring of 4 actors (host → a0 → a1 → a2 → a3 → host, `ctx.send` between actors)
//     vs 4 workers joined by MessageChannels;
// idle, and under load (a background actor streaming to another one, about 100k msg/s); with
// the process CPU time (user + system, all threads) per message when idle. Then the idle cost:
// 100 idle actors for 10 s against 100 idle workers (process CPU time, % of one core), and the
// floor: 100 workers blocked in Atomics.wait.
//
//   node bench/latency.mjs
//   node_modules/.bin/bun bench/latency.mjs
//
// Options (env): BENCH_REPS (default 5), BENCH_ONLY (comma list of: idle-latency, load-latency,
// idle-cost), IDLE_SECONDS (default 10), IDLE_SETTLE_S (default 2: seconds between the actors'
// first answer and the idle window; the runtimes' own GC timers run for the first ~30 s after
// start-up, so a later window shows what is left once they slowed down). Not part of `npm test`.
// Targets: DESIGN.md 6.

import { Worker, MessageChannel } from 'node:worker_threads';
import os from 'node:os';
import { createSupervisor } from '../index.mjs';
import { percentile, median, within, onceMessage, watchLoad, provenance, processCpuMs } from './common.mjs';

const isBun = typeof Bun !== 'undefined';
const RUNTIME = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 10);
const IDLE_SETTLE_S = Number(process.env.IDLE_SETTLE_S ?? 2); // from start-up to the idle window
const CHUNKS = 5; // each run is cut in slices and the paths take turns, so both sides share the noise
const ITERS = { call: 2000, sparse: 200, echo: 2000, lap: 1000, burst: 4 }; // per run
const BURST = 20_000; // messages per echo-throughput burst
const RING = 4;
const LIMIT_MS = 60_000;
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuMs = processCpuMs; // all threads of this process, ms
const workerUrl = (name) => new URL(`./workers/${name}.mjs`, import.meta.url);

const member = {
  init: () => ({ next: null }),
  handle: (state, m, ctx) => {
    if (m.next !== undefined) return { next: m.next };
    if (m.h > 0) ctx.send(state.next, { t: m.t, h: m.h - 1 });
    else ctx.self.send('done', m.t);
    return state;
  },
};

/** Everything both sides need: a callee, an echo actor, a ring; an echo worker, a worker ring. */
async function setUp() {
  const sup = createSupervisor({ maxActors: 32, warmWorkers: 1 });
  const callee = sup.spawn((self, msg) => msg);
  const echo = sup.spawn((self, msg) => {
    self.send('e', msg);
  });
  const ring = [];
  for (let i = 0; i < RING; i++) ring.push(sup.spawn(member));
  for (let i = 0; i < RING; i++) await ring[i].call({ next: ring[(i + 1) % RING].id });
  let onEcho = null;
  echo.subscribe((e) => onEcho(e.data));
  let onLap = null;
  for (const a of ring) a.subscribe((e) => e.msg === 'done' && onLap(e.data));

  const pw = new Worker(workerUrl('echo'));
  let onPong = null;
  pw.on('message', (m) => onPong(m));
  const rw = [];
  for (let i = 0; i < RING; i++) rw.push(new Worker(workerUrl('ring')));
  const channels = rw.map(() => new MessageChannel());
  await Promise.all(
    rw.map((w, i) => {
      const ready = onceMessage(w);
      const next = channels[i].port1;
      const prev = channels[(i + RING - 1) % RING].port2;
      w.postMessage({ setup: true, next, prev }, [next, prev]);
      return ready;
    }),
  );
  let onWLap = null;
  for (const w of rw) w.on('message', (m) => onWLap(m));

  /** `n` sequential round trips of `send(i)` answered through `set(resolve)`; latencies in ms. */
  const seq = (set, send) => async (n, gapMs = 0) => {
    const lat = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (gapMs) await sleep(gapMs);
      const p = new Promise((r) => set(r));
      const t0 = now();
      send(i);
      const v = await p;
      lat[i] = now() - t0;
      if (v !== i) throw new Error(`round trip returned ${v}, expected ${i}`);
    }
    return lat;
  };
  const wardenCall = async (n, gapMs = 0) => {
    const lat = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (gapMs) await sleep(gapMs);
      const t0 = now();
      const v = await callee.call(i);
      lat[i] = now() - t0;
      if (v !== i) throw new Error(`call returned ${v}, expected ${i}`);
    }
    return lat;
  };
  const ping = seq((r) => (onPong = r), (i) => pw.postMessage(i));
  /** A burst of BURST messages, all echoed; one "latency" sample = the burst's duration. */
  const burst = (set, send) => async (n) => {
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let left = BURST;
      const done = new Promise((r) => set(() => --left === 0 && r()));
      const t0 = now();
      for (let i = 0; i < BURST; i++) send(i);
      await within(done, LIMIT_MS, 'echo burst');
      out[k] = now() - t0;
    }
    return out;
  };
  const paths = {
    call: { warden: (n) => wardenCall(n), base: (n) => ping(n) },
    sparse: { warden: (n) => wardenCall(n, 1), base: (n) => ping(n, 1) },
    echo: { warden: seq((r) => (onEcho = r), (i) => echo.receive(i)), base: ping },
    lap: {
      warden: seq((r) => (onLap = r), (i) => ring[0].receive({ t: i, h: RING - 1 })),
      base: seq((r) => (onWLap = r), (i) => rw[0].postMessage({ t: i, h: RING - 1 })),
    },
    burst: {
      warden: burst((f) => (onEcho = f), (i) => echo.receive(i)),
      base: burst((f) => (onPong = f), (i) => pw.postMessage(i)),
    },
  };
  return {
    sup,
    paths,
    async close() {
      await pw.terminate();
      await Promise.all(rw.map((w) => w.terminate()));
      await within(sup.shutdown(), 20_000, 'shutdown');
    },
  };
}

/** A background actor streaming to another one, ~100 messages per ms, until stopped. */
function startLoad(sup) {
  const sink = sup.spawn(() => {});
  const source = sup.spawn(async (self, m, ctx) => {
    if (m === 'stop') {
      globalThis.stopped = true;
      return;
    }
    if (globalThis.stopped) return;
    for (let i = 0; i < 100; i++) ctx.send(m.to, { i, v: 'load' });
    await new Promise((r) => setTimeout(r, 1));
    ctx.send(self.id, m);
  });
  source.receive({ to: sink.id });
  return async () => {
    source.receive('stop');
    await sleep(20);
    await source.terminate();
    await sink.terminate();
  };
}

const fmtUs = (ms) => (ms >= 10 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(1)} µs`);

async function latency(label, loaded) {
  const s = await setUp();
  const stopLoad = loaded ? startLoad(s.sup) : null;
  const names = Object.keys(s.paths);
  const res = {};
  for (const name of names) res[name] = { warden: [], base: [], cpu: { warden: [0, 0], base: [0, 0] } };
  try {
    for (const name of names) {
      // warm-up
      await s.paths[name].warden(Math.min(200, ITERS[name]));
      await s.paths[name].base(Math.min(200, ITERS[name]));
    }
    if (loaded) await sleep(100);
    for (let r = 0; r < REPS; r++) {
      const lat = Object.fromEntries(names.map((n) => [n, { warden: [], base: [] }]));
      for (let c = 0; c < CHUNKS; c++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(k + c + r) % names.length];
          const n = Math.max(1, Math.ceil(ITERS[name] / CHUNKS));
          const sides = (c + r) % 2 === 0 ? ['warden', 'base'] : ['base', 'warden'];
          for (const side of sides) {
            const c0 = cpuMs();
            const part = await within(s.paths[name][side](n), LIMIT_MS, `${name} ${side}`);
            const cpu = res[name].cpu[side];
            cpu[0] += cpuMs() - c0;
            cpu[1] += name === 'burst' ? n * BURST : n;
            for (const v of part) lat[name][side].push(v);
          }
        }
      }
      for (const name of names) {
        for (const side of ['warden', 'base']) {
          const a = lat[name][side];
          res[name][side].push({ p50: percentile(a, 50), p99: percentile(a, 99), p999: percentile(a, 99.9) });
        }
      }
    }
  } finally {
    if (stopLoad) await stopLoad();
    await s.close();
  }
  const m = (name, side, p) => median(res[name][side].map((x) => x[p]));
  const lines = [];
  const cpuPer = (name, side) => {
    if (loaded) return '—';
    const [ms, count] = res[name].cpu[side];
    return `${((ms * 1000) / count).toFixed(1)} µs`;
  };
  const targets = {
    call: ['≤ 0.2× (p50), ≤ 1× (p99)', (r50, r99) => r50 <= 0.2 && r99 <= 1],
    sparse: ['≤ 1× (p50)', (r50) => r50 <= 1],
    echo: ['—', null],
    lap: ['≥ 1.5× hops/s: ≤ 0.67× (p50)', (r50) => r50 <= 1 / 1.5],
  };
  for (const name of ['call', 'sparse', 'echo', 'lap']) {
    const w = ['p50', 'p99', 'p999'].map((p) => m(name, 'warden', p));
    const b = ['p50', 'p99', 'p999'].map((p) => m(name, 'base', p));
    const [target, ok] = targets[name];
    const status = ok ? (ok(w[0] / b[0], w[1] / b[1]) ? 'met' : 'not met') : '—';
    const title = {
      call: '`await call()` back-to-back vs ping-pong',
      sparse: '`await call()` sparse (1 ms idle before each) vs sparse ping-pong',
      echo: '`receive` + `self.send` + `subscribe` echo vs ping-pong',
      lap: `ring lap, host → ${RING} actors (\`ctx.send\`) → host vs ${RING} workers + MessageChannels`,
    }[name];
    lines.push(
      `| ${title} | ${w.map(fmtUs).join(' / ')} | ${b.map(fmtUs).join(' / ')} | ${(w[0] / b[0]).toFixed(2)}× / ${(w[1] / b[1]).toFixed(2)}× / ${(w[2] / b[2]).toFixed(2)}× | ${cpuPer(name, 'warden')} | ${cpuPer(name, 'base')} | ${target} | ${status} |`,
    );
  }
  const wb = (BURST / m('burst', 'warden', 'p50')) * 1000;
  const bb = (BURST / m('burst', 'base', 'p50')) * 1000;
  lines.push(
    `| echo throughput (bursts of ${BURST}, all echoed) | ${(wb / 1e6).toFixed(2)} M msg/s | ${(bb / 1e6).toFixed(2)} M msg/s | ${(wb / bb).toFixed(2)}× (throughput) | ${cpuPer('burst', 'warden')} | ${cpuPer('burst', 'base')} | ≥ 2× | ${wb / bb >= 2 ? 'met' : 'not met'} |`,
  );
  const runs = (name, p) =>
    `warden [${res[name].warden.map((x) => fmtUs(x[p])).join(', ')}], postMessage [${res[name].base.map((x) => fmtUs(x[p])).join(', ')}]`;
  const notes = ['call', 'sparse', 'echo', 'lap'].map((n) => `- ${n} p50 per run: ${runs(n, 'p50')}; p99: ${runs(n, 'p99')}`);
  notes.push(`- echo burst duration per run (ms): ${runs('burst', 'p50')}`);
  return { label, lines, notes };
}

/** Process CPU time (ms) over IDLE_SECONDS, IDLE_SETTLE_S after `up` resolved. */
async function idleWindow(up) {
  await up;
  await sleep(IDLE_SETTLE_S * 1000); // settle: every thread parks
  const c0 = cpuMs();
  await sleep(IDLE_SECONDS * 1000);
  return cpuMs() - c0;
}

async function idleWorkers(COUNT, name) {
  const workers = [];
  for (let i = 0; i < COUNT; i++) workers.push(new Worker(workerUrl(name)));
  const ms = await idleWindow(Promise.all(workers.map((w) => onceMessage(w))));
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

async function idleCost() {
  const COUNT = 100;
  const sup = createSupervisor({ maxActors: COUNT + 4, warmWorkers: 0 });
  const actors = [];
  for (let i = 0; i < COUNT; i++) actors.push(sup.spawn((self, msg) => msg));
  const up = within(Promise.all(actors.map((a) => a.call(1, { timeoutMs: 60_000 }))), 120_000, 'idle actors up');
  const warden = await idleWindow(up);
  await within(sup.shutdown(), 60_000, 'shutdown idle actors');
  const base = await idleWorkers(COUNT, 'idle');
  const floor = await idleWorkers(COUNT, 'idle-wait');
  const pct = (ms) => (ms / (IDLE_SECONDS * 1000)) * 100;
  const window = `${IDLE_SECONDS} s from ${IDLE_SETTLE_S} s after start-up`;
  return [
    `| ${COUNT} idle actors, ${window}: process CPU time | ${warden.toFixed(0)} ms (${pct(warden).toFixed(2)}% of one core) | ${base.toFixed(0)} ms (${pct(base).toFixed(2)}%, ${COUNT} idle workers) | ${(warden / Math.max(base, 1e-9)).toFixed(2)}× | ≤ 1% of one core | ${pct(warden) <= 1 ? 'met' : 'not met'} |`,
    `| floor: ${COUNT} workers blocked in \`Atomics.wait\`, same window | ${floor.toFixed(0)} ms (${pct(floor).toFixed(2)}%) | — | — | — | — |`,
  ];
}

const load = watchLoad();
const sections = [];
if (!ONLY || ONLY.has('idle-latency')) sections.push(await latency('idle machine (no other actor traffic)', false));
if (!ONLY || ONLY.has('load-latency')) sections.push(await latency('under load (a background actor streaming ~100k msg/s to another)', true));
const idle = !ONLY || ONLY.has('idle-cost') ? await idleCost() : null;

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\n### ${RUNTIME} — ${os.availableParallelism?.() ?? os.cpus().length} CPUs (${cpu}), ${os.platform()} ${os.arch()}`);
console.log(provenance());
console.log(`${load.report()}\n`);
for (const s of sections) {
  console.log(`#### Latency, ${s.label}: median of ${REPS} runs\n`);
  console.log('| path | warden p50 / p99 / p99.9 | postMessage p50 / p99 / p99.9 | ratio p50 / p99 / p99.9 | warden CPU/msg | postMessage CPU/msg | target | status |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const l of s.lines) console.log(l);
  console.log('');
  for (const n of s.notes) console.log(n);
  console.log('');
}
if (idle) {
  console.log('#### Idle cost\n');
  console.log('| what | warden | baseline | ratio | target | status |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const l of idle) console.log(l);
}
