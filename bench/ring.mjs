// Hop latency: a token passed around a ring of N actors with ctx.send (stateful behaviour),
// side by side in one run with N worker_threads joined by MessageChannels doing the same work.
// Prints hops/s for both, the ratio, and the process CPU time (user + system, all threads) per
// hop for both, so a speed-up bought with burnt CPU shows.
//
//   node bench/ring.mjs
//   node_modules/.bin/bun bench/ring.mjs
//
// Options (env): RING_N (comma list of ring sizes, default 4,32), RING_TOKENS (comma list of
// tokens in flight, default 1,4), RING_HOPS (hops per run, default 20000), BENCH_REPS (runs per
// shape, default 5). Not part of `npm test`. Target (DESIGN.md 6): ≥ 1.5× the baseline's hops/s.

import { Worker, MessageChannel } from 'node:worker_threads';
import os from 'node:os';
import { createSupervisor } from '../index.mjs';
import { median, within, onceMessage, watchLoad, provenance } from './common.mjs';

const isBun = typeof Bun !== 'undefined';
const RUNTIME = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
const list = (v, d) => (v ?? d).split(',').map(Number);
const SIZES = list(process.env.RING_N, '4,32');
const TOKENS = list(process.env.RING_TOKENS, '1,4');
const HOPS = Number(process.env.RING_HOPS ?? 20_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const LIMIT_MS = 60_000;
const now = () => performance.now();
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000; // ms
};

/** The ring member: remembers its successor, forwards tokens while hops remain. */
const member = {
  init: () => ({ next: null }),
  handle: (state, m, ctx) => {
    if (m.next !== undefined) return { next: m.next };
    if (m.h > 0) ctx.send(state.next, { t: m.t, h: m.h - 1 });
    else ctx.self.send('done', m.t);
    return state;
  },
};

/** A ring of `n` warden actors; `run(tokens, hops)` resolves with { ms, cpu }. */
async function wardenRing(n) {
  const sup = createSupervisor({ maxActors: n + 4, warmWorkers: 2 });
  const actors = [];
  for (let i = 0; i < n; i++) actors.push(sup.spawn(member));
  for (let i = 0; i < n; i++) await within(actors[i].call({ next: actors[(i + 1) % n].id }), LIMIT_MS, 'ring set-up');
  let left = 0;
  let onDone = null;
  sup.subscribe((e) => {
    if (e.msg === 'done' && --left === 0) onDone();
  });
  return {
    async run(tokens, hops) {
      const per = Math.floor(hops / tokens);
      left = tokens;
      const done = new Promise((r) => (onDone = r));
      const c0 = cpuNow();
      const t0 = now();
      for (let t = 0; t < tokens; t++) actors[Math.floor((t * n) / tokens)].receive({ t, h: per });
      await within(done, LIMIT_MS, `warden ring of ${n}, ${tokens} tokens`);
      return { hops: per * tokens, ms: now() - t0, cpu: cpuNow() - c0 };
    },
    close: () => within(sup.shutdown(), 20_000, 'shutdown'),
  };
}

/** The same ring of `n` workers joined by MessageChannels. */
async function workerRing(n) {
  const workers = [];
  for (let i = 0; i < n; i++) workers.push(new Worker(new URL('./workers/ring.mjs', import.meta.url)));
  const channels = workers.map(() => new MessageChannel()); // channel i: member i → member i+1
  await Promise.all(
    workers.map((w, i) => {
      const ready = onceMessage(w);
      const next = channels[i].port1;
      const prev = channels[(i + n - 1) % n].port2;
      w.postMessage({ setup: true, next, prev }, [next, prev]);
      return ready;
    }),
  );
  let left = 0;
  let onDone = null;
  for (const w of workers) w.on('message', () => --left === 0 && onDone());
  return {
    async run(tokens, hops) {
      const per = Math.floor(hops / tokens);
      left = tokens;
      const done = new Promise((r) => (onDone = r));
      const c0 = cpuNow();
      const t0 = now();
      for (let t = 0; t < tokens; t++) workers[Math.floor((t * n) / tokens)].postMessage({ t, h: per });
      await within(done, LIMIT_MS, `worker ring of ${n}, ${tokens} tokens`);
      return { hops: per * tokens, ms: now() - t0, cpu: cpuNow() - c0 };
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

const rate = (r) => (r.hops / r.ms) * 1000;
const cpuPerHop = (r) => (r.cpu * 1000) / r.hops; // µs
const k = (v) => `${(v / 1000).toFixed(1)}k`;

const load = watchLoad();
const rows = [];
for (const n of SIZES) {
  const w = await wardenRing(n);
  const b = await workerRing(n);
  try {
    for (const tokens of TOKENS) {
      await w.run(tokens, Math.min(HOPS, 4000)); // warm-up
      await b.run(tokens, Math.min(HOPS, 4000));
      const wr = [];
      const br = [];
      for (let r = 0; r < REPS; r++) {
        // alternate which side goes first so drift does not favour one
        if (r % 2 === 0) {
          wr.push(await w.run(tokens, HOPS));
          br.push(await b.run(tokens, HOPS));
        } else {
          br.push(await b.run(tokens, HOPS));
          wr.push(await w.run(tokens, HOPS));
        }
      }
      const row = {
        n,
        tokens,
        w: median(wr.map(rate)),
        b: median(br.map(rate)),
        wc: median(wr.map(cpuPerHop)),
        bc: median(br.map(cpuPerHop)),
        ratios: wr.map((x, i) => rate(x) / rate(br[i])),
        wRuns: wr.map(rate),
        bRuns: br.map(rate),
      };
      rows.push(row);
      console.error(`  ring ${n} × ${tokens}: warden ${k(row.w)} hops/s, workers ${k(row.b)} hops/s, ${(row.w / row.b).toFixed(2)}×`);
    }
  } finally {
    await w.close();
    await b.close();
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\n### ${RUNTIME} — ${os.availableParallelism?.() ?? os.cpus().length} CPUs (${cpu}), ${os.platform()} ${os.arch()}`);
console.log(provenance());
console.log(`${load.report()}\n`);
console.log(`Ring of N, ${HOPS} hops per run, median of ${REPS} runs (CPU: process user + system time per hop, all threads).\n`);
console.log('| ring | warden hops/s | workers hops/s | ratio (median of run ratios) | warden CPU/hop | workers CPU/hop | target | status |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const ratio = median(r.ratios);
  console.log(
    `| N = ${r.n}, ${r.tokens} token${r.tokens > 1 ? 's' : ''} | ${k(r.w)} | ${k(r.b)} | ${ratio.toFixed(2)}× | ${r.wc.toFixed(1)} µs | ${r.bc.toFixed(1)} µs | ≥ 1.5× | ${ratio >= 1.5 ? 'met' : 'not met'} |`,
  );
}
console.log('');
for (const r of rows) {
  console.log(`- N = ${r.n}, ${r.tokens} tokens: warden [${r.wRuns.map(k).join(', ')}], workers [${r.bRuns.map(k).join(', ')}] hops/s`);
}
