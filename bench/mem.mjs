// Memory per idle actor vs per idle bare Worker, measured in a fresh process so one side's
// heap does not pollute the other. Usage: <runtime> bench/mem.mjs warden|worker <count>
// Prints one JSON line: { mode, count, baseRss, rss, perMiB }.
import { Worker } from 'node:worker_threads';

const mode = process.argv[2];
const count = Number(process.argv[3] ?? 50);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const gc = () => {
  if (typeof Bun !== 'undefined') Bun.gc(true);
  else globalThis.gc?.();
};
const MiB = 1024 * 1024;

async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(150);
  }
  return process.memoryUsage().rss;
}

let rss;
let baseRss;
if (mode === 'warden') {
  const { createSupervisor } = await import('../index.mjs');
  const sup = createSupervisor({ warmWorkers: 0, maxActors: count + 10 });
  // One actor first (loads everything the host side needs), then measure the other count.
  const first = sup.spawn((self, msg) => msg);
  await first.call(0);
  baseRss = await settle();
  const actors = [];
  for (let i = 0; i < count; i++) actors.push(sup.spawn((self, msg) => msg));
  await Promise.all(actors.map((a, i) => a.call(i, { timeoutMs: 30000 })));
  rss = await settle();
  console.log(JSON.stringify({ mode, count, baseRss, rss, perMiB: (rss - baseRss) / count / MiB }));
  await sup.shutdown();
} else if (mode === 'worker') {
  const url = new URL('./workers/idle.mjs', import.meta.url);
  const start = () =>
    new Promise((resolve, reject) => {
      const w = new Worker(url);
      w.once('message', () => resolve(w));
      w.once('error', reject);
    });
  const first = await start();
  baseRss = await settle();
  const workers = await Promise.all(Array.from({ length: count }, start));
  rss = await settle();
  console.log(JSON.stringify({ mode, count, baseRss, rss, perMiB: (rss - baseRss) / count / MiB }));
  await Promise.all([first, ...workers].map((w) => w.terminate()));
} else {
  console.error('usage: mem.mjs warden|worker <count>');
  process.exit(2);
}
process.exit(0);
