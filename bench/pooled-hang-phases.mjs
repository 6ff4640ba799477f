// Where the time goes when a hang costs a pool worker its 100k co-located actors (the `hang` row
// of bench/pooled.mjs, taken apart): one JSON line with, from the moment the hang is sent, the
// wall time (ms) and the host thread's CPU time (ms, 10 ms ticks, Linux) at which the watchdog
// found the hang (`detect`), the stuck worker was killed (`killed`), every lost actor's exit was
// handled (`exits`), their restarts were placed on the new worker (`placed`), `workerLost` was
// emitted, and the first and the last of a round of 100k calls answered; beside it, the same
// round of calls without a hang. Reads the supervisor's internals (it wraps `_workerLost`,
// `_restartPooled` and the thread's `kill`): a diagnostic, not a row to compare across versions
// of those internals.
//   node bench/pooled-hang-phases.mjs [actors]     (default 100000; Bun: bun bench/pooled-hang-phases.mjs)

import { createRequire } from 'node:module';
import { mainThreadCpuMs as hostCpuMs } from './common.mjs';

const require = createRequire(import.meta.url);
const { createSupervisor, Supervisor } = require('../lib/host/supervisor.js');
const { Thread } = require('../lib/host/threads.js');

const N = Number(process.argv[2] ?? 100_000);
const bun = typeof process.versions.bun === 'string';

let t0 = 0;
let h0 = 0;
const wall = {};
const cpu = {};
const mark = (k) => {
  if (t0 === 0 || wall[k] !== undefined) return;
  wall[k] = Math.round(performance.now() - t0);
  cpu[k] = hostCpuMs() - h0;
};
const lost = Supervisor.prototype._workerLost;
Supervisor.prototype._workerLost = function (...args) {
  mark('detect');
  return lost.apply(this, args);
};
const kill = Thread.prototype.kill;
Thread.prototype.kill = function () {
  const p = kill.call(this);
  if (t0 !== 0) p.then(() => mark('killed'));
  return p;
};
const restart = Supervisor.prototype._restartPooled;
Supervisor.prototype._restartPooled = function (list) {
  mark('exits');
  const r = restart.call(this, list);
  mark('placed');
  return r;
};

const sup = createSupervisor({ pool: { workers: 1, maxBlockMs: 50 }, retry: { max: Infinity } });
const refs = sup.spawnMany(N, (self, msg) => {
  if (msg === 'hang') for (;;);
  return msg;
});
const round = () => Promise.all(refs.map((r) => r.call(0, { timeoutMs: 600000 })));
await round();
const r0 = performance.now();
await round();
const roundMs = Math.round(performance.now() - r0);
const culprit = refs[N >> 1];
const over = new Promise((resolve) => {
  sup.on('workerLost', () => {
    mark('workerLost');
    resolve('workerLost');
  });
  // where the worker interrupts the hang itself (pool.interrupt, Bun's default) only the culprit
  // restarts (no listener elsewhere: 100k restart events would cost their own time)
  if (bun) {
    sup.on('restart', (e) => {
      if (e.id === culprit.id) {
        mark('culpritRestarted');
        resolve('culprit restarted');
      }
    });
  }
});
const c0 = process.cpuUsage();
h0 = hostCpuMs();
t0 = performance.now();
culprit.receive('hang');
const event = await over;
await Promise.all(refs.map((r) => r.call(1, { timeoutMs: 600000 }).then(() => mark('firstAnswer'))));
mark('allAnswer');
const c = process.cpuUsage(c0);
console.log(JSON.stringify({
  runtime: bun ? 'bun' : 'node',
  actors: N,
  event,
  wallMs: wall,
  hostCpuMs: cpu,
  processCpuMs: Math.round((c.user + c.system) / 1000),
  roundWithoutHangMs: roundMs,
}));
await sup.shutdown();
