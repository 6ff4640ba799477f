// Where a `call` round trip's time goes, next to the same legs of a postMessage ping-pong, with
// one clock across threads (performance.timeOrigin + performance.now(), µs resolution):
//   out      = host calls → the actor's handler starts (host send, core, wake of the actor
//              thread, its drain, decode); postMessage: host posts → the worker's listener runs;
//   wake     = the handler returns → the host's port reader starts (reply, wake of the host
//              thread: a threadsafe function, i.e. a libuv async, as postMessage's);
//              postMessage: the worker posts → the host's 'message' listener runs;
//   dispatch = the host's reader starts → the `await` resumes (take, decode, settle, the
//              continuation's microtask); postMessage: the listener runs → the `await` resumes;
// back-to-back and sparse (1 ms idle before each call), p50 of each leg, with the process CPU time
// per call (idle gaps included: what the threads burn waiting is part of the price). Warden and
// postMessage take turns in shuffled blocks of 25 calls (the first 5 of each block unrecorded, so
// the threads' own estimate of how dense traffic is has settled: the block that follows a pause
// would otherwise pay for it).
//
//   node bench/call-legs.mjs
//   node_modules/.bin/bun bench/call-legs.mjs
//
// Options (env): LEGS_ROUNDS (blocks per side and case, default 40). Not part of `npm test`.

import { Worker } from 'node:worker_threads';
import { createSupervisor } from '../index.mjs';
import { percentile, watchLoad } from './common.mjs';

const RUNTIME = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`;
const ROUNDS = Number(process.env.LEGS_ROUNDS ?? 40);
const BLOCK = 25;
const SKIP = 5;
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
// When the host's port reader starts (the supervisor's private reader: a bench may look inside).
let readerAt = 0;
const reader = sup._reader;
const drain = reader.drain.bind(reader);
reader.drain = (taken) => {
  if (readerAt === 0) readerAt = clock();
  return drain(taken);
};

const worker = new Worker(new URL('./workers/stamp.mjs', import.meta.url));
let onPong = null;
worker.on('message', (stamp) => onPong([stamp, clock()]));
const ping = () =>
  new Promise((resolve) => {
    onPong = resolve;
    worker.postMessage(0);
  });
await ping();

const sides = {
  async warden(r) {
    readerAt = 0;
    const t0 = clock();
    const t1 = await callee.call(0);
    const t3 = clock();
    r.out.push(t1 - t0);
    r.wake.push(readerAt - t1);
    r.dispatch.push(t3 - readerAt);
  },
  async postMessage(r) {
    const t0 = clock();
    const [t1, t2] = await ping();
    const t3 = clock();
    r.out.push(t1 - t0);
    r.wake.push(t2 - t1);
    r.dispatch.push(t3 - t2);
  },
};

async function legs(gapMs) {
  const res = {};
  for (const s of Object.keys(sides)) res[s] = { out: [], wake: [], dispatch: [], cpu: 0, n: 0 };
  for (let b = 0; b < ROUNDS; b++) {
    const order = Math.random() < 0.5 ? ['warden', 'postMessage'] : ['postMessage', 'warden'];
    for (const s of order) {
      const r = res[s];
      for (let i = 0; i < SKIP; i++) {
        if (gapMs) await sleep(gapMs);
        await sides[s]({ out: [], wake: [], dispatch: [] });
      }
      const c0 = cpuMs();
      for (let i = 0; i < BLOCK - SKIP; i++) {
        if (gapMs) await sleep(gapMs);
        await sides[s](r);
      }
      r.cpu += cpuMs() - c0;
      r.n += BLOCK - SKIP;
    }
  }
  return res;
}

await legs(0); // warm-up
const rows = [];
for (const [name, gap] of [
  ['back-to-back', 0],
  ['sparse (1 ms idle before each)', 1],
]) {
  const res = await legs(gap);
  for (const [side, r] of Object.entries(res)) {
    const us = (a) => `${(percentile(Float64Array.from(a), 50) * 1000).toFixed(1)} µs`;
    const total = r.out.map((x, i) => x + r.wake[i] + r.dispatch[i]);
    rows.push(`| ${name} | ${side} | ${us(r.out)} | ${us(r.wake)} | ${us(r.dispatch)} | ${us(total)} | ${((r.cpu * 1000) / r.n).toFixed(1)} µs |`);
  }
}
await worker.terminate();
await sup.shutdown();
console.log(`\n### ${RUNTIME}: legs of a call vs a postMessage ping-pong (p50, ${ROUNDS * (BLOCK - SKIP)} calls per side and case)`);
console.log(`${load.report()}\n`);
console.log('| case | side | out: host → handler | wake: handler → host reader | dispatch: reader → `await` resumes | round trip | CPU per call |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
