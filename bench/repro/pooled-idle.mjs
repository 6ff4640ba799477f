// Idle cost of pooled actors after traffic (branch bunp99): 10,000 pooled actors on 2 workers
// answer a burst of calls, then the process's CPU time over IDLE seconds (default 5) of nothing,
// as a share of one core. The argument is the checkout to load warden from (to compare two).
//   node bench/repro/pooled-idle.mjs "$PWD"
//   node_modules/.bin/bun bench/repro/pooled-idle.mjs "$PWD"
const dir = process.argv[2] ?? new URL('../..', import.meta.url).pathname;
const { createSupervisor } = await import(`${dir}/index.mjs`);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sup = createSupervisor({ pool: { workers: 2 } });
const refs = sup.spawnMany(10000, (s, m) => m);
for (let i = 0; i < 5000; i++) await refs[i % 10000].call(i);
await Promise.all(refs.map((r) => r.call(1)));
await new Promise((r) => setTimeout(r, 1000));
const c0 = cpu();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, Number(process.env.IDLE ?? 5) * 1000));
const ms = cpu() - c0;
const wall = performance.now() - t0;
console.log(`${dir} idle: ${ms.toFixed(1)} ms CPU over ${(wall / 1000).toFixed(1)} s = ${((ms / wall) * 100).toFixed(2)}% of a core`);
await sup.shutdown();
