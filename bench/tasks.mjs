// Tasks benchmark: warden's `sup.task` side by side with piscina in the same process and run,
// medians over several runs, printed as a markdown table (DESIGN.md section 6: tiny-task
// throughput ≥ piscina, stretch 1.5×).
//
//   node bench/tasks.mjs                      # or: npm run bench:tasks
//   node_modules/.bin/bun bench/tasks.mjs
//
// Options (env): BENCH_REPS (default 5), BENCH_TINY (tiny tasks per run, default 50000),
// BENCH_CPU (hash tasks per run, default 4000), BENCH_BIG (1 MiB tasks per run, default 40);
// each run also times 2000 tiny tasks awaited one at a time. The 1 MiB cases: a string input,
// with and without `transfer` (for warden a parcel on Node, the task thread's side channel, a
// MessagePort, on Bun; structured clone for piscina); ≈ 1 MiB of
// JSON input (32000 small objects) and result; a 1 MiB string result; a Uint8Array input with `transfer: true`
// (one copy into a pool box, the task reads the box in place) against piscina's clone and its
// transferList (of a fresh copy, so the caller keeps its bytes, as with warden); a Uint8Array
// result with `transfer: true` (written into a box, copied once on the host) against piscina's
// clone and Piscina.move.
// Both pools get the same number of threads: os.availableParallelism(), all started up front.

import os from 'node:os';
import fs from 'node:fs';
import { Piscina } from 'piscina';
import { createSupervisor, runtimeStats } from '../index.mjs';
import { median, processCpuMs, within, watchLoad, provenance } from './common.mjs';

const isBun = typeof Bun !== 'undefined';
const RUNTIME = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const N_TINY = Number(process.env.BENCH_TINY ?? 50_000);
const N_CPU = Number(process.env.BENCH_CPU ?? 4000);
const N_BIG = Number(process.env.BENCH_BIG ?? 40);
const N_RTT = 2000;
const THREADS = os.availableParallelism?.() ?? os.cpus().length;
const STEP_LIMIT_MS = 120_000;

const ADD = new URL('./workers/task-add.mjs', import.meta.url);
const SHA = new URL('./workers/task-sha.mjs', import.meta.url);
const LEN = new URL('./workers/task-len.mjs', import.meta.url);
const BYTES = new URL('./workers/task-bytes.mjs', import.meta.url);
const BYTES_MOVE = new URL('./workers/task-bytes-move.mjs', import.meta.url);
const STR = new URL('./workers/task-str.mjs', import.meta.url);
const ROWS = new URL('./workers/task-rows.mjs', import.meta.url);
const add = ({ a, b }) => a + b;

const now = () => performance.now();
const fmtRate = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M tasks/s` : `${(v / 1e3).toFixed(1)} k tasks/s`);
const fmtMs = (v) => (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(2)} ms`);

/** Process CPU time (user + system, every thread: both pools run in this process) in µs. */
const cpuNow = () => processCpuMs() * 1000;
const cpuPerTask = Object.create(null); // case → CPU µs per task, one value per run

/** Runs `measure` for case `k`, recording the CPU time per task it cost next to its figure. */
async function sampled(k, n, measure) {
  const c0 = cpuNow();
  const v = await measure();
  (cpuPerTask[k] ??= []).push((cpuNow() - c0) / n);
  return v;
}

/** Tasks per second for `n` tasks submitted at once. */
async function throughput(run, n, label) {
  const t0 = now();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = run(i);
  const results = await within(Promise.all(ps), STEP_LIMIT_MS, label);
  const dt = now() - t0;
  if (results.length !== n) throw new Error(`${label}: ${results.length} results`);
  return n / (dt / 1000);
}

/** Median latency of `n` sequential tasks. */
async function latency(run, n, label) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await within(run(i), STEP_LIMIT_MS, label);
    samples.push(now() - t0);
  }
  return median(samples);
}

const started = now();
const load = watchLoad();
console.error(`warden tasks bench on ${RUNTIME}, ${THREADS} threads per pool, reps ${REPS}`);

const sup = createSupervisor({ tasks: { minThreads: THREADS, maxThreads: THREADS, idleTimeoutMs: Infinity } });
const pool = new Piscina({ filename: ADD.href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000 });

const MiB = 1024 * 1024;
const big = 'x'.repeat(MiB);
const bytes = new Uint8Array(MiB).fill(7); // fits a box of the default pool (8 × 1 MiB)
const N_ROWS = 32000; // rows of ≈ 33 bytes of JSON: ≈ 1 MiB
const rowsInput = Array.from({ length: N_ROWS }, (_, i) => ({ i, name: `row ${i}`, ok: true }));
const cases = {
  tinyFn: { label: 'warden, function task', run: (i) => sup.task(add, { a: i, b: 1 }) },
  tinyMod: { label: 'warden, module task', run: (i) => sup.task(ADD, { a: i, b: 1 }) },
  tinyPiscina: { label: 'piscina', run: (i) => pool.run({ a: i, b: 1 }) },
  cpuMod: { label: 'warden', run: (i) => sup.task(SHA, i) },
  cpuPiscina: { label: 'piscina', run: (i) => pool.run(i, { filename: SHA.href }) },
  rttFn: { label: 'warden', run: (i) => sup.task(add, { a: i, b: 1 }) },
  rttPiscina: { label: 'piscina', run: (i) => pool.run({ a: i, b: 1 }) },
  bigMod: { label: 'warden', run: () => sup.task(LEN, big) },
  bigPiscina: { label: 'piscina', run: () => pool.run(big, { filename: LEN.href }) },
  bigXfer: { label: 'warden', run: () => sup.task(LEN, big, { transfer: true }) },
  jsonIn: { label: 'warden', run: () => sup.task(LEN, rowsInput) },
  jsonInPiscina: { label: 'piscina', run: () => pool.run(rowsInput, { filename: LEN.href }) },
  strOut: { label: 'warden', run: () => sup.task(STR, MiB) },
  strOutPiscina: { label: 'piscina', run: () => pool.run(MiB, { filename: STR.href }) },
  jsonOut: { label: 'warden', run: () => sup.task(ROWS, N_ROWS) },
  jsonOutPiscina: { label: 'piscina', run: () => pool.run(N_ROWS, { filename: ROWS.href }) },
  inXfer: { label: 'warden', run: () => sup.task(LEN, bytes, { transfer: true }) },
  inPiscinaClone: { label: 'piscina', run: () => pool.run(bytes, { filename: LEN.href }) },
  inPiscinaMove: {
    label: 'piscina',
    run: () => {
      const copy = bytes.slice();
      return pool.run(copy, { filename: LEN.href, transferList: [copy.buffer] });
    },
  },
  outXfer: { label: 'warden', run: () => sup.task(BYTES, MiB, { transfer: true }) },
  outPiscinaClone: { label: 'piscina', run: () => pool.run(MiB, { filename: BYTES.href }) },
  outPiscinaMove: { label: 'piscina', run: () => pool.run(MiB, { filename: BYTES_MOVE.href }) },
};

// warm-up: every thread has loaded every task
for (const c of Object.values(cases)) await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => c.run(i)));
const checks = [await sup.task(add, { a: 2, b: 3 }), await pool.run({ a: 2, b: 3 }), await sup.task(LEN, big), await pool.run(big, { filename: LEN.href })];
if (checks.join() !== `5,5,${big.length},${big.length}`) throw new Error(`wrong results: ${checks}`);
if ((await sup.task(SHA, 7)) !== (await pool.run(7, { filename: SHA.href }))) throw new Error('hash results differ');
const sizes = [await sup.task(LEN, bytes, { transfer: true }), await pool.run(bytes, { filename: LEN.href }), (await sup.task(BYTES, MiB, { transfer: true })).byteLength, (await pool.run(MiB, { filename: BYTES_MOVE.href })).byteLength];
if (sizes.some((n) => n !== MiB)) throw new Error(`wrong 1 MiB results: ${sizes}`);
const more = [await sup.task(LEN, big, { transfer: true }), await sup.task(LEN, rowsInput), await pool.run(rowsInput, { filename: LEN.href }), (await sup.task(STR, MiB)).length, (await pool.run(MiB, { filename: STR.href })).length];
if (more.join() !== `${MiB},${N_ROWS},${N_ROWS},${MiB},${MiB}`) throw new Error(`wrong large results: ${more}`);
if (JSON.stringify(await sup.task(ROWS, N_ROWS)) !== JSON.stringify(rowsInput)) throw new Error('wrong rows result');

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < REPS; r++) {
  console.error(`- run ${r + 1}/${REPS}`);
  // alternate which side goes first, so neither always runs on a warmer or cooler machine
  const order = r % 2 === 0 ? ['tinyFn', 'tinyMod', 'tinyPiscina'] : ['tinyPiscina', 'tinyMod', 'tinyFn'];
  for (const k of order) samples[k].push(await sampled(k, N_TINY, () => throughput(cases[k].run, N_TINY, k)));
  for (const k of r % 2 === 0 ? ['cpuMod', 'cpuPiscina'] : ['cpuPiscina', 'cpuMod']) samples[k].push(await sampled(k, N_CPU, () => throughput(cases[k].run, N_CPU, k)));
  for (const k of r % 2 === 0 ? ['rttFn', 'rttPiscina'] : ['rttPiscina', 'rttFn']) samples[k].push(await sampled(k, N_RTT, () => latency(cases[k].run, N_RTT, k)));
  const big4 = ['bigMod', 'bigXfer', 'bigPiscina', 'jsonIn', 'jsonInPiscina', 'strOut', 'strOutPiscina', 'jsonOut', 'jsonOutPiscina'];
  for (const k of r % 2 === 0 ? big4 : [...big4].reverse()) samples[k].push(await sampled(k, N_BIG, () => latency(cases[k].run, N_BIG, k)));
  const inOut = ['inXfer', 'inPiscinaClone', 'inPiscinaMove', 'outXfer', 'outPiscinaClone', 'outPiscinaMove'];
  for (const k of r % 2 === 0 ? inOut : [...inOut].reverse()) samples[k].push(await sampled(k, N_BIG, () => latency(cases[k].run, N_BIG, k)));
}

await sup.shutdown();
await pool.destroy();
const leaks = runtimeStats();

const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const rows = [
  [`tiny tasks \`({a,b}) => a+b\`, ${N_TINY} at once — function task`, fmtRate(m.tinyFn), fmtRate(m.tinyPiscina), m.tinyFn / m.tinyPiscina, '≥ 1× piscina (stretch 1.5×)', true, 'tinyFn', 'tinyPiscina'],
  [`tiny tasks, ${N_TINY} at once — module task (same file as piscina's)`, fmtRate(m.tinyMod), fmtRate(m.tinyPiscina), m.tinyMod / m.tinyPiscina, '≥ 1× piscina (stretch 1.5×)', true, 'tinyMod', 'tinyPiscina'],
  [`CPU: SHA-256 over 64 KiB (node:crypto, module task), ${N_CPU} at once`, fmtRate(m.cpuMod), fmtRate(m.cpuPiscina), m.cpuMod / m.cpuPiscina, '—', false, 'cpuMod', 'cpuPiscina'],
  [`tiny task, one at a time (await each), p50 of ${N_RTT}`, fmtMs(m.rttFn), fmtMs(m.rttPiscina), m.rttFn / m.rttPiscina, '—', false, 'rttFn', 'rttPiscina'],
  [`1 MiB string input → its length, sequential, p50 of ${N_BIG}`, fmtMs(m.bigMod), fmtMs(m.bigPiscina), m.bigMod / m.bigPiscina, '≤ 1× piscina', false, 'bigMod', 'bigPiscina'],
  [`1 MiB string input, \`transfer: true\` (piscina: clone), p50 of ${N_BIG}`, fmtMs(m.bigXfer), fmtMs(m.bigPiscina), m.bigXfer / m.bigPiscina, '≤ 1× piscina', false, 'bigXfer', 'bigPiscina'],
  [`≈ 1 MiB JSON input (${N_ROWS} small objects) → its length, p50 of ${N_BIG}`, fmtMs(m.jsonIn), fmtMs(m.jsonInPiscina), m.jsonIn / m.jsonInPiscina, '≤ 1× piscina', false, 'jsonIn', 'jsonInPiscina'],
  [`1 MiB string result, p50 of ${N_BIG}`, fmtMs(m.strOut), fmtMs(m.strOutPiscina), m.strOut / m.strOutPiscina, '≤ 1× piscina', false, 'strOut', 'strOutPiscina'],
  [`≈ 1 MiB JSON result (${N_ROWS} small objects made by the task), p50 of ${N_BIG}`, fmtMs(m.jsonOut), fmtMs(m.jsonOutPiscina), m.jsonOut / m.jsonOutPiscina, '≤ 1× piscina', false, 'jsonOut', 'jsonOutPiscina'],
  [`1 MiB Uint8Array input, \`transfer: true\` vs piscina's structured clone, p50 of ${N_BIG}`, fmtMs(m.inXfer), fmtMs(m.inPiscinaClone), m.inXfer / m.inPiscinaClone, '≤ 1× piscina', false, 'inXfer', 'inPiscinaClone'],
  [`1 MiB Uint8Array input, \`transfer: true\` vs piscina's transferList (of a fresh copy), p50 of ${N_BIG}`, fmtMs(m.inXfer), fmtMs(m.inPiscinaMove), m.inXfer / m.inPiscinaMove, '—', false, 'inXfer', 'inPiscinaMove'],
  [`1 MiB Uint8Array result, \`transfer: true\` vs piscina's structured clone, p50 of ${N_BIG}`, fmtMs(m.outXfer), fmtMs(m.outPiscinaClone), m.outXfer / m.outPiscinaClone, '≤ 1× piscina', false, 'outXfer', 'outPiscinaClone'],
  [`1 MiB Uint8Array result, \`transfer: true\` vs Piscina.move, p50 of ${N_BIG}`, fmtMs(m.outXfer), fmtMs(m.outPiscinaMove), m.outXfer / m.outPiscinaMove, '—', false, 'outXfer', 'outPiscinaMove'],
];

const piscinaVersion = JSON.parse(fs.readFileSync(new URL('../node_modules/piscina/package.json', import.meta.url), 'utf8')).version;
console.log(`\n### ${RUNTIME} — ${THREADS} threads per pool, ${os.cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(`${provenance()}; piscina ${piscinaVersion}; median of ${REPS} runs; total ${((now() - started) / 1000).toFixed(1)} s`);
console.log(`${load.report()}\n`);
console.log('| benchmark | warden | piscina | ratio (warden / piscina) | CPU per task: warden / piscina | target | status |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const cpuText = (k) => `${median(cpuPerTask[k]).toFixed(1)} µs`;
for (const [name, w, p, ratio, target, higherBetter, wKey, pKey] of rows) {
  const met = higherBetter ? ratio >= 1 : ratio <= 1;
  const status = target === '—' ? '—' : higherBetter && ratio >= 1.5 ? 'met (stretch met)' : met ? 'met' : 'not met';
  console.log(`| ${name} | ${w} | ${p} | ${ratio.toFixed(2)}× | ${cpuText(wKey)} / ${cpuText(pKey)} | ${target} | ${status} |`);
}
console.log('');
console.log('Throughput ratios above 1× favour warden; latency ratios below 1× favour warden. CPU per task is the whole');
console.log('process (host and pool threads: both pools live in it), measured around each case, median of the runs.');
const runs = (k, f) => samples[k].map(f).join(', ');
console.log(`- tiny runs (k tasks/s): warden fn [${runs('tinyFn', (v) => (v / 1e3).toFixed(1))}], warden module [${runs('tinyMod', (v) => (v / 1e3).toFixed(1))}], piscina [${runs('tinyPiscina', (v) => (v / 1e3).toFixed(1))}]`);
console.log(`- CPU runs (k tasks/s): warden [${runs('cpuMod', (v) => (v / 1e3).toFixed(2))}], piscina [${runs('cpuPiscina', (v) => (v / 1e3).toFixed(2))}]`);
console.log(`- one-at-a-time p50 per run (µs): warden [${runs('rttFn', (v) => (v * 1000).toFixed(0))}], piscina [${runs('rttPiscina', (v) => (v * 1000).toFixed(0))}]`);
const ms2 = (v) => v.toFixed(2);
console.log(`- 1 MiB string input p50 per run (ms): warden [${runs('bigMod', ms2)}], warden transfer [${runs('bigXfer', ms2)}], piscina [${runs('bigPiscina', ms2)}]`);
console.log(`- ≈ 1 MiB JSON input p50 per run (ms): warden [${runs('jsonIn', ms2)}], piscina [${runs('jsonInPiscina', ms2)}]`);
console.log(`- 1 MiB string result p50 per run (ms): warden [${runs('strOut', ms2)}], piscina [${runs('strOutPiscina', ms2)}]`);
console.log(`- ≈ 1 MiB JSON result p50 per run (ms): warden [${runs('jsonOut', ms2)}], piscina [${runs('jsonOutPiscina', ms2)}]`);
console.log(`- 1 MiB bytes input p50 per run (ms): warden transfer [${runs('inXfer', ms2)}], piscina clone [${runs('inPiscinaClone', ms2)}], piscina transferList [${runs('inPiscinaMove', ms2)}]`);
console.log(`- 1 MiB bytes result p50 per run (ms): warden transfer [${runs('outXfer', ms2)}], piscina clone [${runs('outPiscinaClone', ms2)}], Piscina.move [${runs('outPiscinaMove', ms2)}]`);
console.log(`- runtimeStats after shutdown: ${JSON.stringify(leaks)}`);
