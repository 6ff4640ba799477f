// Chaos soak: actors under a storm of faults, and the accounting of every message.
//
//   node --expose-gc bench/soak.mjs [--phase chaos|storm|blast|leak|all] [--duration ms]
//        [--actors n] [--rate msgs/s] [--json]        (Bun: bun bench/soak.mjs …)
//
// Phases:
// - chaos: `actors` actors in three groups (one-for-one root, a one-for-all and a rest-for-one
//   group), `restart: 'permanent'`, `retry.max: Infinity`, `timeoutMs: 200`. The host sends
//   `rate` messages/s (a tenth of them as `call`s) for `duration` ms. Faults, each at its own
//   rate (see FAULTS): throw, sync hang past timeoutMs, heap exhaustion (Node: one actor has
//   resourceLimits), async handlers, ctx.call chains, ctx.send fan-out, Tier 2 writes read and
//   released by a peer under short leases, and external kills (ref.kill) from the host. Then
//   it waits for the backlog to drain, shuts down, and accounts for every accepted message:
//   handled (acked by a handler), the in-flight message of an exit, or a dead letter — exactly
//   once. Exit code 1 on any loss or duplicate, or anything left after shutdown.
// - storm: restarts/s of one actor that throws on every message, then of 8 at once.
// - blast: the call p99 of healthy actors in a calm run, then while one actor crash-loops.
// - leak: RSS (after GC) from the 100th to the last of `--restarts` (10,000) crash restarts.
//
// Accounting rules. Each message has a unique id; a handler acks it with `self.send('ack',
// { id, inc })` as its last act. Mail an actor sends (fan-out, calls) gets a child id, which the
// sender announces with `self.send('sent', id)` right after the send was accepted; a child seen
// before its announcement (its sender died in between) counts as sent. An id that is acked by
// incarnation k and also reported in flight at the exit of incarnation k was handled: the kill
// landed between its last statement and the runtime marking it handled (counted apart as
// `ackedThenExited`). Anything else seen twice is a duplicate.
import { createSupervisor, runtimeStats } from '../index.mjs';

const isBun = typeof globalThis.Bun !== 'undefined';

/** Fault rates per message (chaos phase). */
export const FAULTS = Object.freeze({
  throw: 1 / 500,
  hang: 1 / 2000,
  oom: 1 / 4000, // only sent to the actor with resourceLimits (Node)
  async: 1 / 100,
  fan: 1 / 100, // ctx.send to 3 peers
  call: 1 / 200, // ctx.call down the chain
  write: 1 / 400, // Tier 2 write shared with a peer
  kill: 2, // external kills per second
});

/** The soak actor (serialised: it sees no outer scope). */
function soakActor(self, msg, ctx) {
  if (msg !== null && typeof msg === 'object' && msg.from === 'system') {
    if (msg.msg === 'blob') {
      const r = ctx.read(msg);
      if (r) r.bytes();
      ctx.release(msg.handle);
    }
    return undefined;
  }
  const f = msg.f;
  if (f === 'throw') throw new Error(`chaos ${msg.id}`);
  if (f === 'hang') for (;;);
  if (f === 'oom') {
    const hog = [];
    for (;;) hog.push(new Array(1e5).fill(hog.length));
  }
  const finish = () => {
    self.send('ack', { id: msg.id, inc: self.incarnation });
    return msg.id;
  };
  if (f !== 'async' && !msg.fan && !msg.call && !msg.write) return finish();
  return (async () => {
    if (f === 'async') await new Promise((r) => setTimeout(r, 5));
    if (msg.fan) {
      msg.fan.forEach((to, k) => {
        const id = `${msg.id}.${k}`;
        if (ctx.send(to, { id, f: 'ok' })) self.send('sent', id);
      });
    }
    if (msg.call) {
      const id = `${msg.id}.c`;
      const p = ctx.call(msg.call, { id, f: 'ok' }, { timeoutMs: 150 });
      self.send('sent', id);
      try {
        await p;
      } catch (err) {
        if (err.message === 'noproc' || err.message === 'mailbox full') self.send('unsent', id);
      }
    }
    if (msg.write) {
      const bytes = new Uint8Array(256).fill(7);
      await ctx.write({ msg: 'blob', type: 'bytes', data: bytes, share: [msg.write], timeoutMs: 50, wait: false });
    }
    return finish();
  })();
}

/** A handler that throws on every message (storm, blast and leak phases). */
function thrower(self, msg) {
  if (msg === 'ping') return 'pong';
  throw new Error('always');
}

/** A healthy echo (blast phase). */
function echo(self, msg) {
  return msg;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function gc() {
  if (isBun) globalThis.Bun.gc(true);
  else globalThis.gc?.();
}

function rssMiB() {
  gc();
  return process.memoryUsage().rss / 1048576;
}

/** The chaos phase: returns its report (see the header). */
export async function chaos({ actors = 8, durationMs = 10000, rate = 30000, drainMs = 60000, faults = FAULTS, log = () => {} } = {}) {
  const rssBefore = rssMiB();
  const sup = createSupervisor({
    maxActors: actors + 8,
    warmWorkers: 2,
    retry: { max: Infinity },
    memory: { poolSize: 8, boxSize: 4096 },
    timeouts: { defaultLeaseMs: 100 },
  });
  const ofa = sup.createGroup({ strategy: 'one-for-all', retry: { max: Infinity } });
  const rfo = sup.createGroup({ strategy: 'rest-for-one', retry: { max: Infinity } });
  const opts = { restart: 'permanent', timeoutMs: 200 };
  const refs = [];
  for (let i = 0; i < actors; i++) {
    const where = i % 4 === 1 ? ofa : i % 4 === 2 ? rfo : sup;
    const limited = !isBun && i === actors - 1;
    refs.push(where.spawn(soakActor, limited ? { ...opts, resourceLimits: { maxOldGenerationSizeMb: 24 } } : opts));
  }
  const oomTarget = isBun ? -1 : actors - 1;

  const sent = new Set(); // accepted ids
  const handled = new Map(); // id → incarnation that acked it
  const inFlight = new Map(); // id → [actor, incarnation]
  const dead = new Map(); // id → reason
  const duplicates = [];
  let ackedThenExited = 0;
  const injected = { throw: 0, hang: 0, oom: 0, async: 0, fan: 0, call: 0, write: 0, kill: 0 };
  const exitsByReason = {};
  const deadByReason = {};
  let restarts = 0;
  let errors = 0;

  const seen = (id) => handled.has(id) || inFlight.has(id) || dead.has(id);
  const note = (id) => {
    if (typeof id === 'string' && id.includes('.')) sent.add(id); // a child seen before it was announced
  };
  sup.subscribe((m) => {
    if (m.msg === 'sent') sent.add(m.data);
    else if (m.msg === 'unsent') sent.delete(m.data);
    else if (m.msg === 'ack') {
      const { id, inc } = m.data;
      note(id);
      const fl = inFlight.get(id);
      if (fl && fl[0] === m.from && fl[1] === inc && !handled.has(id) && !dead.has(id)) {
        inFlight.delete(id); // acked, then the kill landed before it was marked handled
        ackedThenExited++;
      } else if (seen(id)) duplicates.push(['ack', id]);
      handled.set(id, [m.from, inc]);
    }
  });
  sup.on('exit', (e) => {
    const kind = e.reason.replace(/^error: chaos .*/, 'error: chaos').replace(/^linked: .*/, 'linked');
    exitsByReason[kind] = (exitsByReason[kind] ?? 0) + 1;
    const id = e.message?.message?.id;
    if (id === undefined) return;
    note(id);
    const h = handled.get(id);
    if (h && h[0] === e.id && h[1] === e.incarnation && !inFlight.has(id) && !dead.has(id)) {
      ackedThenExited++;
      return;
    }
    if (seen(id)) duplicates.push(['exit', id]);
    inFlight.set(id, [e.id, e.incarnation]);
  });
  sup.on('deadLetter', (d) => {
    const id = d.message?.id;
    deadByReason[d.reason] = (deadByReason[d.reason] ?? 0) + 1;
    if (id === undefined) return;
    note(id);
    if (seen(id)) duplicates.push(['deadLetter', id]);
    dead.set(id, d.reason);
  });
  sup.on('restart', () => restarts++);
  sup.on('error', () => errors++);

  // Sending: `rate` messages/s in slices of 1 ms of work.
  let next = 0;
  const pick = (p) => Math.random() < p;
  const message = (i) => {
    const id = `m${next++}`;
    const m = { id, f: 'ok' };
    if (i === oomTarget && pick(faults.oom * actors)) m.f = 'oom';
    else if (pick(faults.throw)) m.f = 'throw';
    else if (pick(faults.hang)) m.f = 'hang';
    else if (pick(faults.async)) m.f = 'async';
    if (m.f === 'ok' || m.f === 'async') {
      if (pick(faults.fan)) m.fan = [1, 2, 3].map((k) => refs[(i + k) % actors].id);
      else if (pick(faults.call) && i + 1 < actors) m.call = refs[i + 1].id; // a chain, no cycles
      else if (pick(faults.write)) m.write = refs[(i + 1) % actors].id;
    }
    for (const k of ['fan', 'call', 'write']) if (m[k]) injected[k]++;
    if (m.f !== 'ok') injected[m.f]++;
    return m;
  };
  const t0 = performance.now();
  const killer = setInterval(() => {
    injected.kill++;
    refs[Math.floor(Math.random() * actors)].kill();
  }, 1000 / faults.kill);
  const calls = [];
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (next < due) {
      const i = next % actors;
      const m = message(i);
      if (next % 10 === 0) {
        sent.add(m.id);
        calls.push(
          refs[i].call(m, { timeoutMs: 30000 }).catch((err) => {
            if (err.message === 'noproc' || err.message === 'mailbox full') sent.delete(m.id);
          }),
        );
      } else if (refs[i].receive(m)) sent.add(m.id);
    }
    await new Promise((r) => setImmediate(r));
  }
  clearInterval(killer);
  const sendMs = performance.now() - t0;
  log(`sent ${sent.size} in ${(sendMs / 1000).toFixed(1)} s; draining…`);

  // Drain: until every accepted message is accounted for (or drainMs passes).
  const d0 = performance.now();
  const open = () => {
    let n = 0;
    for (const id of sent) if (!seen(id)) n++;
    return n;
  };
  while (open() > 0 && performance.now() - d0 < drainMs) await sleep(50);
  const drainedMs = performance.now() - d0;
  const openBeforeShutdown = open();
  const rssPeak = process.memoryUsage().rss / 1048576;
  await sleep(250); // leases (100 ms) of boxes whose holders died run out
  const boxesInUse = sup.getDiagnostics().value.memoryPool.boxesInUse;
  await sup.shutdown();
  await Promise.allSettled(calls);
  await sleep(10);

  const lost = [];
  for (const id of sent) if (!seen(id)) lost.push(id);
  const leftover = runtimeStats();
  const report = {
    runtime: isBun ? `bun ${globalThis.Bun.version}` : `node ${process.versions.node}`,
    actors,
    durationMs,
    rate,
    sent: sent.size,
    sendRate: Math.round(sent.size / (sendMs / 1000)),
    handled: handled.size,
    inFlightAtExit: inFlight.size,
    ackedThenExited,
    deadLetters: dead.size,
    deadByReason,
    lost: lost.length,
    lostSample: lost.slice(0, 10),
    duplicated: duplicates.length,
    duplicateSample: duplicates.slice(0, 10),
    openBeforeShutdown,
    drainMs: Math.round(drainedMs),
    injected,
    exitsByReason,
    restarts,
    errorEvents: errors,
    rssMiB: { before: +rssBefore.toFixed(1), peak: +rssPeak.toFixed(1), after: +rssMiB().toFixed(1) },
    boxesInUseAfterDrain: boxesInUse,
    leftover,
  };
  report.ok =
    report.lost === 0 && report.duplicated === 0 && boxesInUse === 0 && leftover.threads === 0 && leftover.ports === 0 && leftover.actors === 0;
  return report;
}

/** Restarts per second of `n` actors that throw on every message, over `ms`. */
export async function storm({ n = 1, ms = 3000 } = {}) {
  const sup = createSupervisor({ warmWorkers: 2, retry: { max: Infinity }, maxActors: n + 2 });
  let restarts = 0;
  sup.on('restart', () => restarts++);
  const refs = Array.from({ length: n }, () => sup.spawn(thrower, { restart: 'permanent' }));
  await Promise.all(refs.map((r) => r.call('ping')));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Keep every mailbox fed: each restart handles (and throws at) the next message.
  const feeder = setInterval(() => {
    for (const r of refs) for (let i = 0; i < 50; i++) r.receive('boom');
  }, 5);
  await sleep(ms);
  clearInterval(feeder);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const perSec = restarts / elapsed;
  await sup.shutdown();
  return { actors: n, restarts, perSec: Math.round(perSec), cpuSecPerSec: +((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2) };
}

/** p99 of healthy actors' calls, calm and while one actor crash-loops. */
export async function blast({ healthy = 4, calls = 3000 } = {}) {
  const run = async (crashLoop) => {
    const sup = createSupervisor({ warmWorkers: 2, retry: { max: Infinity } });
    const refs = Array.from({ length: healthy }, () => sup.spawn(echo));
    const bad = crashLoop ? sup.spawn(thrower, { restart: 'permanent' }) : null;
    await Promise.all(refs.map((r) => r.call(0)));
    const feeder = bad ? setInterval(() => { for (let i = 0; i < 20; i++) bad.receive('boom'); }, 2) : null;
    await sleep(200);
    const lat = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await refs[i % healthy].call(i);
      lat.push((performance.now() - t) * 1000);
    }
    if (feeder) clearInterval(feeder);
    await sup.shutdown();
    lat.sort((a, b) => a - b);
    return { p50: +lat[Math.floor(lat.length * 0.5)].toFixed(1), p99: +lat[Math.floor(lat.length * 0.99)].toFixed(1) };
  };
  const calm = await run(false);
  const storming = await run(true);
  return { calmUs: calm, crashLoopUs: storming, p99Ratio: +(storming.p99 / calm.p99).toFixed(2) };
}

/** RSS drift (after GC) per 1000 crash restarts, from the 100th to the `restarts`th. */
export async function leak({ restarts = 10000 } = {}) {
  const sup = createSupervisor({ warmWorkers: 1, retry: { max: Infinity } });
  let count = 0;
  let waiter = null;
  sup.on('restart', () => {
    count++;
    if (waiter && count >= waiter.n) waiter.resolve();
  });
  const ref = sup.spawn(thrower, { restart: 'permanent' });
  const until = (n) => new Promise((resolve) => (waiter = { n, resolve }));
  const feeder = setInterval(() => {
    for (let i = 0; i < 100; i++) ref.receive('boom');
  }, 2);
  await until(100);
  await sleep(100);
  const at100 = rssMiB();
  const t0 = performance.now();
  await until(restarts);
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(feeder);
  await sleep(100);
  const atEnd = rssMiB();
  await sup.shutdown();
  return {
    restarts: count,
    rssAt100MiB: +at100.toFixed(1),
    rssAtEndMiB: +atEnd.toFixed(1),
    mibPer1000: +(((atEnd - at100) / (count - 100)) * 1000).toFixed(3),
    restartsPerSec: Math.round((count - 100) / elapsed),
  };
}

function args(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) o[key] = true;
    else {
      o[key] = Number.isNaN(Number(v)) ? v : Number(v);
      i++;
    }
  }
  return o;
}

async function main() {
  const o = args(process.argv.slice(2));
  const phase = o.phase ?? 'chaos';
  const log = o.json ? () => {} : (s) => console.error(s);
  const out = {};
  if (phase === 'chaos' || phase === 'all') {
    out.chaos = await chaos({ actors: o.actors, durationMs: o.duration, rate: o.rate, drainMs: o.drain, log });
  }
  if (phase === 'storm' || phase === 'all') out.storm = [await storm({ n: 1 }), await storm({ n: 8 })];
  if (phase === 'blast' || phase === 'all') out.blast = await blast();
  if (phase === 'leak' || phase === 'all') out.leak = await leak({ restarts: o.restarts });
  const ok = out.chaos ? out.chaos.ok : true;
  if (o.json) console.log(JSON.stringify(out));
  else console.log(JSON.stringify(out, null, 2));
  process.exitCode = ok ? 0 : 1;
}

const invoked = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invoked) await main();
