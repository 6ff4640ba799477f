// CPU time per child of ctx.spawn inside a pool worker, by thread: R rounds of N ctx.spawn calls
// by one pooled parent (the shape of bench/pooled.mjs's ctxspawn row, warm after the first
// round), and per round the parent's wall time per child, the whole process's CPU per child,
// and that of the host thread and of the busiest other thread (the pool worker) from
// /proc/self/task (10 ms ticks: N of 50,000 or more gives them a few percent). Each round
// waits 300 ms after the parent's answer so that the host's adoption of the children counts.
//   R=5 N=50000 node --expose-gc bench/repro/ctx-spawn-cpu.mjs      (Bun: bun bench/repro/ctx-spawn-cpu.mjs)
//   ROOT=/path/to/another/checkout ... measures that checkout instead (A/B in one sitting)
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = process.env.ROOT ?? fileURLToPath(new URL('../..', import.meta.url));
const { createSupervisor } = await import(`${root}/index.mjs`);
const R = Number(process.env.R ?? 5);
const N = Number(process.env.N ?? 50000);

/** CPU ms of each thread of this process, by thread id. */
function threads() {
  const m = new Map();
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(t, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // (a thread that ended meanwhile)
    }
  }
  return m;
}

const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 60000 } });
const [parent] = sup.spawnMany(1, async (self, n, ctx) => {
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, () => ctx.spawn((s, m) => m, { kind: 'pooled' })));
  return performance.now() - t;
});
await parent.call(1); // through the host: the template
const rows = [];
for (let r = 0; r < R; r++) {
  const a = threads();
  const c0 = process.cpuUsage();
  const ms = await parent.call(N, { timeoutMs: 300000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const c = process.cpuUsage(c0);
  const b = threads();
  let host = 0;
  let worker = 0;
  for (const [t, v] of b) {
    const d = v - (a.get(t) ?? 0);
    if (t === String(process.pid)) host = d;
    else worker = Math.max(worker, d);
  }
  const us = (x) => +((x * 1000) / N).toFixed(2);
  rows.push({ perSecond: Math.round(N / (ms / 1000)), wallUs: us(ms), processCpuUs: us((c.user + c.system) / 1000), hostCpuUs: us(host), workerCpuUs: us(worker) });
}
await sup.shutdown();
const med = (k) => rows.map((x) => x[k]).sort((x, y) => x - y)[rows.length >> 1];
const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`;
console.log(JSON.stringify({ runtime, root, children: N, rounds: R, median: Object.fromEntries(Object.keys(rows[0]).map((k) => [k, med(k)])), rows }));
