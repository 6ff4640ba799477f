// Where a `call` round trip's time goes: the two legs of `await ref.call()`, measured with one
// clock across threads (performance.timeOrigin + performance.now(), µs resolution):
//   out  = host calls → the actor's handler starts (host send, core, wake of the actor thread,
//          its drain, decode);
//   back = the handler returns → the host's `await` resumes (reply, wake of the host thread,
//          its drain, settling the promise, the continuation's microtask);
// back-to-back and sparse (1 ms idle before each call), p50 and p99 of each leg, with the
// process CPU time per call.
//
//   node bench/call-legs.mjs
//   node_modules/.bin/bun bench/call-legs.mjs
//
// Options (env): LEGS_N (calls per case, default 2000; sparse ones a tenth). Not part of `npm test`.

import { createSupervisor } from '../index.mjs';
import { percentile, watchLoad } from './common.mjs';

const RUNTIME = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`;
const N = Number(process.env.LEGS_N ?? 2000);
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const load = watchLoad();
const sup = createSupervisor({ maxActors: 4, warmWorkers: 1 });
const callee = sup.spawn(() => performance.timeOrigin + performance.now());
await callee.call(0);

async function legs(n, gapMs) {
  const out = new Float64Array(n);
  const back = new Float64Array(n);
  const c0 = cpuMs(); // the idle gaps count too: what the threads burn waiting is part of the price
  for (let i = 0; i < n; i++) {
    if (gapMs) await sleep(gapMs);
    const t0 = clock();
    const t1 = await callee.call(i);
    const t2 = clock();
    out[i] = (t1 - t0) * 1000;
    back[i] = (t2 - t1) * 1000;
  }
  return { out, back, cpu: ((cpuMs() - c0) * 1000) / n };
}

await legs(500, 0); // warm-up
const cases = [
  ['back-to-back', N, 0],
  ['sparse (1 ms idle before each)', Math.ceil(N / 10), 1],
];
const rows = [];
for (const [name, n, gap] of cases) {
  const r = await legs(n, gap);
  const f = (a, p) => percentile(a, p).toFixed(1);
  rows.push(`| ${name} | ${f(r.out, 50)} / ${f(r.out, 99)} µs | ${f(r.back, 50)} / ${f(r.back, 99)} µs | ${r.cpu.toFixed(1)} µs |`);
}
await sup.shutdown();
console.log(`\n### ${RUNTIME}: legs of a call (p50 / p99, ${N} calls back-to-back, ${Math.ceil(N / 10)} sparse)`);
console.log(`${load.report()}\n`);
console.log('| case | out: host → handler | back: handler → host resumes | CPU per call |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(r);
