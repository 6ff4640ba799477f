// Restart latency per strategy: a crash in one actor of a group of 4 → every restarted actor
// answering a call again. Measured from the crashing message's send, minus nothing: the actor
// throws at once, so this is detection + plan + thread replacement + first reply. The baseline
// is a bare Worker that throws and is replaced by a pre-started spare Worker (one-for-one) or
// by 4 spare Workers (all-for-one), each answering a postMessage ping.
//
//   node bench/supervision.mjs
//   node_modules/.bin/bun bench/supervision.mjs

import { Worker } from 'node:worker_threads';
import { createSupervisor } from '../index.mjs';
import { median, percentile } from './common.mjs';

const isBun = typeof Bun !== 'undefined';
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const p99 = (a) => percentile(a, 99);

async function warden(strategy) {
  const sup = createSupervisor({ warmWorkers: 4, strategy, retry: { max: Infinity } });
  const refs = [];
  for (let i = 0; i < 4; i++) {
    refs.push(sup.spawn((self, msg) => {
      if (msg === 'crash') throw new Error('crash');
      return msg;
    }, { restart: 'permanent' }));
  }
  for (const r of refs) await r.call('warm');
  await new Promise((r) => setTimeout(r, 200)); // let the warm pool fill
  const times = [];
  for (let s = 0; s < SAMPLES; s++) {
    const victim = refs[1];
    const before = refs.map((r) => r.incarnation);
    const t0 = performance.now();
    victim.receive('crash');
    const affected = strategy === 'one-for-one' ? [1] : strategy === 'rest-for-one' ? [1, 2, 3] : [0, 1, 2, 3];
    await Promise.all(
      affected.map(async (i) => {
        while (refs[i].incarnation === before[i]) await new Promise((r) => setImmediate(r));
        await refs[i].call('ping', { timeoutMs: 5000 });
      }),
    );
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 30)); // refill
  }
  await sup.shutdown();
  return times;
}

const SRC = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => { if (m === 'crash') throw new Error('crash'); parentPort.postMessage(m); });
parentPort.postMessage('ready');`;

function spare() {
  const w = new Worker(SRC, { eval: true });
  const ready = new Promise((r) => w.once('message', r));
  return { w, ready };
}

async function baseline(n) {
  const times = [];
  let spares = Array.from({ length: n }, spare);
  for (let s = 0; s < SAMPLES; s++) {
    await Promise.all(spares.map((x) => x.ready));
    const victim = spare();
    await victim.ready;
    const t0 = performance.now();
    const exited = new Promise((r) => victim.w.once('exit', r));
    victim.w.on('error', () => {});
    victim.w.postMessage('crash');
    await exited;
    await Promise.all(
      spares.map(async (x) => {
        const reply = new Promise((r) => x.w.once('message', r));
        x.w.postMessage('ping');
        await reply;
      }),
    );
    times.push(performance.now() - t0);
    for (const x of spares) await x.w.terminate();
    spares = Array.from({ length: n }, spare);
  }
  for (const x of spares) await x.w.terminate();
  return times;
}

console.log(`runtime: ${isBun ? `Bun ${Bun.version}` : `Node ${process.version}`}, samples: ${SAMPLES}`);
console.log('| strategy (4 actors, 1 crash) | warden p50 / p99 | baseline p50 (crash → spare Worker(s) answer) |');
console.log('| --- | --- | --- |');
const base1 = await baseline(1);
const base4 = await baseline(4);
for (const strategy of ['one-for-one', 'rest-for-one', 'one-for-all']) {
  const t = await warden(strategy);
  const b = strategy === 'one-for-one' ? base1 : base4;
  console.log(`| ${strategy} | ${median(t).toFixed(2)} / ${p99(t).toFixed(2)} ms | ${median(b).toFixed(2)} ms |`);
}
