// Chaos soak: actors under a storm of faults, and the accounting of every message.
//
//   node --expose-gc bench/soak.mjs [--phase chaos|storm|blast|leak|all] [--duration ms]
//        [--actors n] [--rate msgs/s] [--kind isolated|pooled|mixed] [--json]
//        (Bun: bun bench/soak.mjs …)
//
// Phases:
// - chaos: `actors` actors in three groups (one-for-one root, a one-for-all and a rest-for-one
//   group), `restart: 'permanent'`, `retry.max: Infinity`, `timeoutMs: 200`. The host sends
//   `rate` messages/s (a tenth of them as `call`s) for `duration` ms. Faults, each at its own
//   rate (see FAULTS): throw, sync hang past timeoutMs, heap exhaustion (Node: one actor has
//   resourceLimits), async handlers, ctx.call chains, ctx.send fan-out, Tier 2 writes read and
//   released by a peer under short leases, and external kills (ref.kill) from the host.
//   `--kind` says what the actors are (DESIGN.md 8.1): `isolated` (the default: a thread each),
//   `pooled` (on 2 pool workers, `maxBlockMs` 100, under `timeoutMs`: a hang is unwound in its
//   worker where `pool.interrupt` is on (Bun's default), else it costs its worker, whose other
//   actors exit `worker_lost` with their in-flight messages; no heap exhaustion: pooled actors
//   refuse `resourceLimits`, and an out-of-memory would lose a worker as a hang does), or `mixed` (every other actor pooled; the
//   heap-exhaustion actor stays isolated), so the fan-out, calls and Tier 2 shares cross kinds. Then
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

/** The values of `--kind` (chaos phase). */
export const KINDS = Object.freeze(['isolated', 'pooled', 'mixed']);

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
        const id = msg.id + 1 + k;
        if (ctx.send(to, { id, f: 'ok' })) self.send('sent', id);
      });
    }
    if (msg.call) {
      const id = msg.id + 1;
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

const HANDLED = 1;
const IN_FLIGHT = 2;
const DEAD = 3;
const PAIRED = 8; // flag: acked and reported in flight by the same incarnation (see the header)

/**
 * What became of each message id, in typed arrays (a 10-minute run accounts for tens of
 * millions): whether it was accepted, its outcome, and the actor and incarnation that handled
 * it or had it in flight. Host messages have ids 4n; the mail their handler sends, 4n+1..4n+3.
 */
class Ledger {
  constructor() {
    this.cap = 0;
    this.grow(1 << 20);
    this.count = { sent: 0, open: 0, [HANDLED]: 0, [IN_FLIGHT]: 0, [DEAD]: 0 };
    this.ackedThenExited = 0;
    this.duplicates = [];
    this.max = 0;
  }

  grow(min) {
    let cap = this.cap || 1;
    while (cap <= min) cap *= 2;
    const resize = (Type, old) => {
      const a = new Type(cap);
      if (old) a.set(old);
      return a;
    };
    this.accepted = resize(Uint8Array, this.accepted);
    this.result = resize(Uint8Array, this.result);
    this.actor = resize(Float64Array, this.actor); // actor ids fit in 53 bits (DESIGN.md 8.2)
    this.inc = resize(Int32Array, this.inc);
    this.cap = cap;
  }

  at(id) {
    if (id >= this.cap) this.grow(id);
    if (id > this.max) this.max = id;
    return id;
  }

  sent(id) {
    const i = this.at(id);
    if (this.accepted[i]) return;
    this.accepted[i] = 1;
    this.count.sent++;
    if (this.result[i] === 0) this.count.open++;
  }

  unsent(id) {
    const i = this.at(id);
    if (!this.accepted[i]) return;
    this.accepted[i] = 0;
    this.count.sent--;
    if (this.result[i] === 0) this.count.open--;
  }

  outcome(id, what, actor, inc, event) {
    const i = this.at(id);
    const r = this.result[i];
    if (r === 0) {
      this.result[i] = what;
      this.actor[i] = actor;
      this.inc[i] = inc;
      this.count[what]++;
      if (this.accepted[i]) this.count.open--;
      else if (id % 4 !== 0) this.sent(id); // mail seen before its sender announced it
      return;
    }
    const pair = (r === IN_FLIGHT && what === HANDLED) || (r === HANDLED && what === IN_FLIGHT);
    if (pair && this.actor[i] === actor && this.inc[i] === inc) {
      // Acked by the incarnation that then had it in flight: handled, once.
      this.result[i] = HANDLED | PAIRED;
      this.count[r]--;
      this.count[HANDLED]++;
      this.ackedThenExited++;
      return;
    }
    this.duplicates.push([event, id]);
  }

  lost() {
    const out = [];
    for (let i = 0; i <= this.max; i++) if (this.accepted[i] && this.result[i] === 0) out.push(i);
    return out;
  }
}

/** The chaos phase: returns its report (see the header). */
export async function chaos({ actors = 8, durationMs = 10000, rate = 30000, drainMs = 60000, kind = 'isolated', faults = FAULTS, log = () => {} } = {}) {
  if (!KINDS.includes(kind)) throw new RangeError(`chaos: kind must be one of ${KINDS.join(', ')} (got ${String(kind)})`);
  const rssBefore = rssMiB();
  const sup = createSupervisor({
    maxActors: actors + 8,
    warmWorkers: kind === 'pooled' ? 0 : 2,
    pool: { workers: 2, maxBlockMs: 100 },
    retry: { max: Infinity },
    memory: { poolSize: 8, boxSize: 4096 },
    timeouts: { defaultLeaseMs: 100 },
  });
  const ofa = sup.createGroup({ strategy: 'one-for-all', retry: { max: Infinity } });
  const rfo = sup.createGroup({ strategy: 'rest-for-one', retry: { max: Infinity } });
  const opts = { restart: 'permanent', timeoutMs: 200 };
  const refs = [];
  // the heap-exhaustion actor (Node: resourceLimits) is the last one, and always isolated
  const oomTarget = isBun || kind === 'pooled' ? -1 : actors - 1;
  for (let i = 0; i < actors; i++) {
    const where = i % 4 === 1 ? ofa : i % 4 === 2 ? rfo : sup;
    const pooled = i !== oomTarget && (kind === 'pooled' || (kind === 'mixed' && i % 2 === 0));
    const o = { ...opts, kind: pooled ? 'pooled' : 'isolated' };
    refs.push(where.spawn(soakActor, i === oomTarget ? { ...o, resourceLimits: { maxOldGenerationSizeMb: 24 } } : o));
  }
  const kinds = { isolated: 0, pooled: 0 };
  for (const r of refs) kinds[r.getDiagnostics().value.kind]++;

  const book = new Ledger();
  const injected = { throw: 0, hang: 0, oom: 0, async: 0, fan: 0, call: 0, write: 0, kill: 0 };
  const exitsByReason = {};
  const deadByReason = {};
  let restarts = 0;
  let errors = 0;
  const num = (actorId) => Number(actorId.slice(6)); // 'actor-N' → N

  sup.subscribe((m) => {
    if (m.msg === 'sent') book.sent(m.data);
    else if (m.msg === 'unsent') book.unsent(m.data);
    else if (m.msg === 'ack') book.outcome(m.data.id, HANDLED, num(m.from), m.data.inc, 'ack');
  });
  sup.on('exit', (e) => {
    const kind = e.reason.replace(/^error: chaos .*/, 'error: chaos').replace(/^linked: .*/, 'linked');
    exitsByReason[kind] = (exitsByReason[kind] ?? 0) + 1;
    const id = e.message?.message?.id;
    if (typeof id === 'number') book.outcome(id, IN_FLIGHT, num(e.id), e.incarnation, 'exit');
  });
  sup.on('deadLetter', (d) => {
    deadByReason[d.reason] = (deadByReason[d.reason] ?? 0) + 1;
    const id = d.message?.id;
    if (typeof id === 'number') book.outcome(id, DEAD, 0, -1, 'deadLetter');
  });
  sup.on('restart', () => restarts++);
  sup.on('error', () => errors++);

  // Sending: `rate` messages/s in slices of 1 ms of work.
  let next = 0;
  const pick = (p) => Math.random() < p;
  const message = (i) => {
    const id = 4 * next++; // children get id + 1..3 (see soakActor)
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
        book.sent(m.id);
        calls.push(
          refs[i].call(m, { timeoutMs: 30000 }).catch((err) => {
            if (err.message === 'noproc' || err.message === 'mailbox full') book.unsent(m.id);
          }),
        );
      } else if (refs[i].receive(m)) book.sent(m.id);
    }
    await new Promise((r) => setImmediate(r));
  }
  clearInterval(killer);
  const sendMs = performance.now() - t0;
  log(`sent ${book.count.sent} in ${(sendMs / 1000).toFixed(1)} s; draining…`);

  // Drain: until every accepted message is accounted for (or drainMs passes).
  const d0 = performance.now();
  while (book.count.open > 0 && performance.now() - d0 < drainMs) await sleep(50);
  const drainedMs = performance.now() - d0;
  const openBeforeShutdown = book.count.open;
  // what still held mail when the drain ended (empty when everything was accounted for)
  const stuck = [];
  if (openBeforeShutdown > 0) {
    refs.forEach((r, i) => {
      const d = r.getDiagnostics();
      const v = d.isOk ? d.value : null;
      if (v === null || v.mailboxDepth > 0 || v.state !== 'running') {
        const group = i % 4 === 1 ? 'one-for-all' : i % 4 === 2 ? 'rest-for-one' : 'root';
        stuck.push({ id: r.id, group, kind: v?.kind, state: v?.state ?? String(d.error), incarnation: v?.incarnation, mailboxDepth: v?.mailboxDepth, lastError: v?.lastError });
      }
    });
  }
  const rssPeak = process.memoryUsage().rss / 1048576;
  await sleep(250); // leases (100 ms) of boxes whose holders died run out
  const boxesInUse = sup.getDiagnostics().value.memoryPool.boxesInUse;
  await sup.shutdown();
  await Promise.allSettled(calls);
  await sleep(10);

  const lost = book.lost();
  const leftover = runtimeStats();
  const report = {
    runtime: isBun ? `bun ${globalThis.Bun.version}` : `node ${process.versions.node}`,
    actors,
    kind,
    kinds,
    durationMs,
    rate,
    sent: book.count.sent,
    sendRate: Math.round(book.count.sent / (sendMs / 1000)),
    handled: book.count[HANDLED],
    inFlightAtExit: book.count[IN_FLIGHT],
    ackedThenExited: book.ackedThenExited,
    deadLetters: book.count[DEAD],
    deadByReason,
    lost: lost.length,
    lostSample: lost.slice(0, 10),
    duplicated: book.duplicates.length,
    duplicateSample: book.duplicates.slice(0, 10),
    openBeforeShutdown,
    stuck,
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
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await refs[i % healthy].call(i);
      lat.push((performance.now() - t) * 1000);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (feeder) clearInterval(feeder);
    await sup.shutdown();
    lat.sort((a, b) => a - b);
    return {
      p50: +lat[Math.floor(lat.length * 0.5)].toFixed(1),
      p99: +lat[Math.floor(lat.length * 0.99)].toFixed(1),
      cpuSecPerSec: +((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2),
    };
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
  const cpu0 = process.cpuUsage();
  await until(restarts);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
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
    cpuSecPerSec: +((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2),
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
    out.chaos = await chaos({ actors: o.actors, durationMs: o.duration, rate: o.rate, drainMs: o.drain, kind: o.kind, log });
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
