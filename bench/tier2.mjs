// Tier 2 benchmark: 1, 16 and 64 MiB delivered to 1 and 4 readers, side by side in one run.
//
//   node bench/tier2.mjs                    # or: npm run bench:tier2
//   node_modules/.bin/bun bench/tier2.mjs
//
// Options (env): BENCH_REPS (runs per median, default 7), BENCH_SIZES (MiB, default 1,16,64).
// Not part of `npm test`. Target (DESIGN.md 6): 64 MiB to 4 readers ≥ 100× faster than
// postMessage with structured clone.
//
// Every method times the same thing in the sending thread: from the send (ctx.write, ctx.alloc,
// postMessage) until every reader has looked at the data (its length and first byte) and its
// reply has come back to the sender.
// - warden write: a writer actor calls ctx.write({ type: 'binary', data, share: readers }) with
//   bytes it built beforehand (one copy into the box). Each reader actor gets an INBOX, reads
//   `bytes().length` and `bytes()[0]`, releases, and ctx.send's a reply to the writer.
// - warden alloc+commit: the writer calls ctx.alloc(size), sets the first and last byte in the
//   box itself (the data is produced in place, so there is no copy), and commits to the readers.
// - postMessage clone: a writer worker posts the Uint8Array to each reader worker over its own
//   MessageChannel; each reader replies { len, first }.
// - postMessage transfer: the same, with the ArrayBuffer in the transfer list. One buffer can go
//   to one reader only, so the writer holds one ready-made copy per reader (making those copies
//   is not timed); readers send their buffer back after replying, outside the timed part.
// This file is also the script of the baseline workers (see the end).

import { Worker, MessageChannel, isMainThread, parentPort, workerData } from 'node:worker_threads';
import os from 'node:os';
import { median, within, onceMessage, watchLoad, provenance } from './common.mjs';

const MiB = 1024 * 1024;

if (!isMainThread && workerData?.tier2Bench === 'reader') baselineReader();
else if (!isMainThread && workerData?.tier2Bench === 'writer') baselineWriter();
else if (isMainThread) await main();

// ---- the benchmark (main thread) ------------------------------------------------------------

async function main() {
  const { createSupervisor, runtimeStats } = await import('../index.mjs');
  const isBun = typeof Bun !== 'undefined';
  const RUNTIME = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
  const REPS = Number(process.env.BENCH_REPS ?? 7);
  const SIZES = (process.env.BENCH_SIZES ?? '1,16,64').split(',').map(Number);
  const READERS = [1, 4];
  const MAX_READERS = Math.max(...READERS);
  const STEP_LIMIT_MS = 60_000;
  const METHODS = ['write', 'alloc', 'clone', 'transfer'];
  const now = () => performance.now();

  const fmtMs = (v) => (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(2)} ms`);
  const fmtX = (r) => (r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);

  // ---- warden: one writer actor, MAX_READERS reader actors -----------------------------------
  const maxSize = Math.max(...SIZES) * MiB;
  const sup = createSupervisor({ memory: { poolSize: 2, boxSize: maxSize }, warmWorkers: 2 });
  const writer = sup.spawn(async (self, msg, ctx) => {
    const g = globalThis;
    if (msg.op === 'setup') {
      g.size = msg.size;
      g.data = new Uint8Array(msg.size).fill(7);
      g.data[0] = 42;
      return true;
    }
    if (msg.op === 'go') {
      g.left = msg.readers.length;
      g.bad = null;
      g.t0 = performance.now();
      if (msg.mode === 'write') {
        const r = await ctx.write({ msg: 'blob', type: 'binary', data: g.data, share: msg.readers });
        if (r.isErr) throw new Error(`write: ${r.error}`); // the writer keeps no reference
      } else {
        const a = await ctx.alloc(g.size);
        if (a.isErr) throw new Error(`alloc: ${a.error}`);
        const bytes = a.value.bytes;
        bytes[0] = 42;
        bytes[g.size - 1] = 7;
        const c = await a.value.commit({ msg: 'blob', type: 'binary', share: msg.readers });
        if (c.isErr) throw new Error(`commit: ${c.error}`);
      }
      g.committed = performance.now() - g.t0;
      return undefined;
    }
    if (msg.op === 'reply') {
      if (msg.len !== g.size || msg.first !== 42) g.bad = msg;
      if (--g.left === 0) {
        const t = performance.now() - g.t0; // the box went back with the last reader's release
        self.send('done', { t, committed: g.committed, bad: g.bad });
      }
    }
    return undefined;
  });
  const readers = Array.from({ length: MAX_READERS }, () =>
    sup.spawn((self, msg, ctx) => {
      const r = ctx.read(msg);
      if (r === null) return;
      const b = r.bytes(); // zero-copy view of the box
      const len = b.length;
      const first = b[0];
      ctx.release(msg.handle);
      ctx.send(msg.from, { op: 'reply', len, first });
    }),
  );
  let onDone = null;
  writer.subscribe((m) => {
    if (m.msg === 'done' && onDone) onDone(m.data);
  });
  for (const r of readers) await r.call({ ping: true }).catch(() => {}); // started (INBOX-less message: read is null)

  async function wardenRun(mode, size, n) {
    const done = new Promise((r) => (onDone = r));
    writer.receive({ op: 'go', mode, readers: readers.slice(0, n).map((r) => r.id) });
    const d = await within(done, STEP_LIMIT_MS, `warden ${mode} ${size / MiB} MiB to ${n}`);
    if (d.bad) throw new Error(`warden ${mode}: a reader saw ${JSON.stringify(d.bad)}`);
    return d.t;
  }

  // ---- baseline: one writer worker, MAX_READERS reader workers, a MessageChannel to each -----
  const self = new URL(import.meta.url);
  const bWriter = new Worker(self, { workerData: { tier2Bench: 'writer' } });
  await onceMessage(bWriter);
  const bReaders = [];
  const ports = [];
  for (let i = 0; i < MAX_READERS; i++) {
    const w = new Worker(self, { workerData: { tier2Bench: 'reader' } });
    await onceMessage(w);
    const { port1, port2 } = new MessageChannel();
    const ready = onceMessage(w);
    w.postMessage({ port: port2 }, [port2]);
    await ready;
    bReaders.push(w);
    ports.push(port1);
  }
  const portsReady = onceMessage(bWriter);
  bWriter.postMessage({ op: 'ports', ports }, ports);
  await portsReady;

  function baselineCall(msg) {
    const reply = onceMessage(bWriter);
    bWriter.postMessage(msg);
    return within(reply, STEP_LIMIT_MS, `postMessage ${msg.op}`);
  }

  async function baselineRun(mode, size, n) {
    const r = await baselineCall({ op: 'go', mode, readers: n });
    if (r.bad) throw new Error(`postMessage ${mode}: a reader saw ${JSON.stringify(r.bad)}`);
    return r.t;
  }

  const run = (method, size, n) => (method === 'write' || method === 'alloc' ? wardenRun(method, size, n) : baselineRun(method, size, n));

  // ---- measure --------------------------------------------------------------------------------
  const load = watchLoad();
  const t0 = now();
  console.error(`warden tier 2 bench on ${RUNTIME}, ${os.availableParallelism?.() ?? os.cpus().length} CPUs, reps ${REPS}, sizes ${SIZES.join(', ')} MiB`);
  const results = []; // { size, n, times: { method: [ms…] } }
  for (const mib of SIZES) {
    const size = mib * MiB;
    await writer.call({ op: 'setup', size }, { timeoutMs: STEP_LIMIT_MS });
    await baselineCall({ op: 'setup', size, copies: MAX_READERS });
    for (const n of READERS) {
      const times = Object.fromEntries(METHODS.map((m) => [m, []]));
      for (const m of METHODS) await run(m, size, n); // warm-up
      for (let rep = 0; rep < REPS; rep++) {
        // rotate the order so no method always runs right after the same other one
        for (let k = 0; k < METHODS.length; k++) {
          const m = METHODS[(k + rep) % METHODS.length];
          times[m].push(await run(m, size, n));
        }
      }
      results.push({ mib, n, times });
      const md = Object.fromEntries(METHODS.map((m) => [m, median(times[m])]));
      console.error(
        `  ${mib} MiB → ${n}: write ${fmtMs(md.write)}, alloc ${fmtMs(md.alloc)}, clone ${fmtMs(md.clone)}, transfer ${fmtMs(md.transfer)}`,
      );
    }
  }
  const elapsed = (now() - t0) / 1000;
  const poolAfter = sup.getDiagnostics().value.memoryPool;

  await sup.shutdown();
  for (const w of [bWriter, ...bReaders]) await w.terminate();

  // ---- report -----------------------------------------------------------------------------------
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n### ${RUNTIME} — ${os.availableParallelism?.() ?? os.cpus().length} CPUs (${cpu}), ${os.platform()} ${os.arch()}`);
  console.log(provenance());
  console.log(`${load.report()}\n`);
  console.log(`Medians of ${REPS} runs (after one warm-up run each). Time from the send until every reader has read the length and first byte and its reply is back.\n`);
  console.log('| size → readers | warden `write` | warden `alloc`+`commit` | postMessage clone | postMessage transfer | clone ÷ alloc | clone ÷ write | transfer ÷ alloc |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const md = (r, m) => median(r.times[m]);
  for (const r of results) {
    console.log(
      `| ${r.mib} MiB → ${r.n} | ${fmtMs(md(r, 'write'))} | ${fmtMs(md(r, 'alloc'))} | ${fmtMs(md(r, 'clone'))} | ${fmtMs(md(r, 'transfer'))} | ` +
        `${fmtX(md(r, 'clone') / md(r, 'alloc'))} | ${fmtX(md(r, 'clone') / md(r, 'write'))} | ${fmtX(md(r, 'transfer') / md(r, 'alloc'))} |`,
    );
  }
  const target = results.find((r) => r.mib === 64 && r.n === 4);
  if (target) {
    const viaAlloc = md(target, 'clone') / md(target, 'alloc');
    const viaWrite = md(target, 'clone') / md(target, 'write');
    console.log(
      `\nTarget (DESIGN.md 6), 64 MiB to 4 readers ≥ 100× faster than structured clone: alloc+commit ${fmtX(viaAlloc)} ` +
        `(${viaAlloc >= 100 ? 'met' : 'not met'}), write ${fmtX(viaWrite)} (${viaWrite >= 100 ? 'met' : 'not met'}).`,
    );
  }
  console.log('');
  for (const r of results) {
    const runs = METHODS.map((m) => `${m} [${r.times[m].map((t) => t.toFixed(2)).join(', ')}]`).join('; ');
    console.log(`- ${r.mib} MiB → ${r.n} runs (ms): ${runs}`);
  }
  console.log(`- pool after the runs: ${JSON.stringify(poolAfter)}; total bench time ${elapsed.toFixed(1)} s; runtimeStats after shutdown: ${JSON.stringify(runtimeStats())}`);
  process.exit(0);
}

function baselineReader() {
  parentPort.once('message', ({ port }) => {
    port.on('message', (m) => {
      const u8 = m.data;
      port.postMessage({ len: u8.length, first: u8[0] });
      if (m.back) port.postMessage({ back: u8 }, [u8.buffer]);
    });
    parentPort.postMessage('ready');
  });
  parentPort.postMessage('started');
}

/** Posts the data to the first `readers` ports (cloned or transferred) and times the replies. */
function baselineWriter() {
  let ports = [];
  let size = 0;
  let data = null; // what clone posts
  let copies = []; // one buffer per reader for transfer
  let run = null;

  function onReply(i, m) {
    if (m.back) {
      copies[i] = m.back;
      run.backs--;
    } else {
      if (m.len !== size || m.first !== 42) run.bad = m;
      if (--run.left === 0) run.t = performance.now() - run.t0;
    }
    if (run.left === 0 && run.backs === 0) {
      const { t, bad } = run;
      run = null;
      parentPort.postMessage({ t, bad });
    }
  }

  parentPort.on('message', (m) => {
    if (m.op === 'ports') {
      ports = m.ports;
      ports.forEach((p, i) => p.on('message', (r) => onReply(i, r)));
      parentPort.postMessage('ports');
    } else if (m.op === 'setup') {
      size = m.size;
      data = new Uint8Array(size).fill(7);
      data[0] = 42;
      copies = Array.from({ length: m.copies }, () => data.slice());
      parentPort.postMessage('setup');
    } else if (m.op === 'go') {
      const transfer = m.mode === 'transfer';
      run = { left: m.readers, backs: transfer ? m.readers : 0, t0: performance.now(), t: 0, bad: null };
      for (let i = 0; i < m.readers; i++) {
        if (transfer) {
          const b = copies[i];
          copies[i] = null;
          ports[i].postMessage({ data: b, back: true }, [b.buffer]);
        } else {
          ports[i].postMessage({ data });
        }
      }
    }
  });
  parentPort.postMessage('started');
}
