// Where the slow 1% of back-to-back calls spend their time, seen by the kernel scheduler: for
// each call, how long every thread of this process ran and how long it waited in a run queue
// (/proc/self/task/*/schedstat, read between calls, outside the timed window), then the mean of
// those per thread for the fastest 99% and for the slowest 1%, and the slowest calls one by one.
// Linux only (branch bunp99, issue 11).
//
//   node_modules/.bin/bun bench/repro/call-sched.mjs [pooled|isolated|postMessage] [calls]
//   node bench/repro/call-sched.mjs pooled
//
// "host" is the main thread (the caller); the other threads are named by the runtime (on Bun:
// Worker, JITWorker, HeapHelper, ...; Node names them all "node").
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createSupervisor } from '../../index.mjs';
import { onceMessage, percentile } from '../common.mjs';

const MODE = process.argv[2] ?? 'pooled';
const N = Number(process.argv[3] ?? 20000);
let call;
let close;
if (MODE === 'postMessage') {
  const w = new Worker(new URL('../workers/echo.mjs', import.meta.url));
  call = (i) => {
    const p = onceMessage(w);
    w.postMessage(i);
    return p;
  };
  close = () => w.terminate();
} else {
  const sup = createSupervisor(MODE === 'pooled' ? { pool: { workers: 1 } } : { warmWorkers: 1 });
  const [a] = MODE === 'pooled' ? sup.spawnMany(1, (self, msg) => msg) : [sup.spawn((self, msg) => msg)];
  call = (i) => a.call(i);
  close = () => sup.shutdown();
}
for (let i = 0; i < 3000; i++) await call(i); // warm-up, and every thread started

const tids = fs.readdirSync('/proc/self/task');
const names = tids.map((t) => (Number(t) === process.pid ? 'host' : fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()));
const fds = tids.map((t) => fs.openSync(`/proc/self/task/${t}/schedstat`, 'r'));
const buf = Buffer.alloc(128);
/** [run, run-queue wait] in ns of every thread (a thread that ended reads as its last values). */
const read = (into) =>
  fds.map((fd, k) => {
    try {
      const n = fs.readSync(fd, buf, 0, 128, 0);
      const f = buf.toString('latin1', 0, n).split(' ');
      return [Number(f[0]), Number(f[1])];
    } catch {
      return into[k];
    }
  });

const rec = [];
let prev = read([]);
for (let i = 0; i < N; i++) {
  const t = performance.now();
  await call(i);
  const us = (performance.now() - t) * 1000;
  const cur = read(prev);
  rec.push({ us, d: cur.map((c, k) => [(c[0] - prev[k][0]) / 1000, (c[1] - prev[k][1]) / 1000]) });
  prev = cur;
}
await close();

const p99 = percentile(rec.map((r) => r.us), 99);
const fmt = (x) => x.toFixed(1);
console.log(`${typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`}, ${MODE}, ${N} calls: p50 ${fmt(percentile(rec.map((r) => r.us), 50))} µs, p99 ${fmt(p99)} µs`);
const table = (rs, label) => {
  const cells = names
    .map((name, k) => {
      const run = rs.reduce((s, r) => s + r.d[k][0], 0) / rs.length;
      const wait = rs.reduce((s, r) => s + r.d[k][1], 0) / rs.length;
      return run + wait < 0.5 ? null : `${name} ${fmt(run)} / ${fmt(wait)}`;
    })
    .filter(Boolean);
  console.log(`${label} (${rs.length} calls), per call, µs ran / µs waited to run: ${cells.join('; ')}`);
};
table(rec.filter((r) => r.us <= p99), 'fastest 99%');
table(rec.filter((r) => r.us > p99), 'slowest 1%');
const slowest = rec.filter((r) => r.us > p99).sort((a, b) => b.us - a.us);
for (const r of slowest.slice(0, Number(process.env.SHOW ?? 10))) {
  const who = r.d.map((x, k) => (x[0] + x[1] >= 5 ? `${names[k]} ${x[0].toFixed(0)}/${x[1].toFixed(0)}` : null)).filter(Boolean);
  console.log(`  ${r.us.toFixed(0)} µs: ${who.join(', ')}`);
}
