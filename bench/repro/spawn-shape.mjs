// What a ctx.spawn-shaped call costs in plain JS, with no warden code: a closure made per call,
// the actor's toString, JSON.stringify of its options, one Promise per call and a Promise.all
// over a turn's calls — the floor under the `ctx.spawn inside a worker` row of bench/pooled.mjs.
//   node --expose-gc bench/repro/spawn-shape.mjs [calls per turn] [turns]   (Bun: bun bench/repro/spawn-shape.mjs)
const PER_TURN = Number(process.argv[2] ?? 20_000);
const TURNS = Number(process.argv[3] ?? 5);
const actor = (self, msg) => msg;
const options = { kind: 'pooled', restart: 'permanent' };

async function turn() {
  const pending = [];
  for (let i = 0; i < PER_TURN; i++) {
    const settle = (v) => v; // the per-call closure a spawn keeps
    const text = actor.toString();
    const opts = JSON.stringify(options);
    pending.push(new Promise((resolve) => resolve(settle(text.length + opts.length + i))));
  }
  await Promise.all(pending);
}

const usPerCall = [];
for (let t = 0; t < TURNS; t++) {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await turn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  usPerCall.push({ wallUs: (wall * 1000) / PER_TURN, cpuUs: (cpu.user + cpu.system) / PER_TURN });
}
const fmt = (k) => usPerCall.map((r) => r[k].toFixed(2)).join(', ');
console.log(`${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`}: ${PER_TURN} calls per turn, µs per call, wall [${fmt('wallUs')}], CPU [${fmt('cpuUs')}]`);
