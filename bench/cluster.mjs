// Cluster benchmark (DESIGN.md 9, issue 13): two processes on this machine through one local
// nats-server. Remote send throughput and remote `call` p50/p99 between two warden nodes,
// against the same traffic with the bare `nats` client (the floor: a subscriber that counts, a
// responder that echoes), and the time from SIGKILL of a node to `nodeDown` on the other.
// CPU time is reported beside each: this process, the peer process and the nats-server together
// (peer and server read from /proc, so Linux only), per message sent and per call.
//
//   node bench/cluster.mjs        bun bench/cluster.mjs        (options: --n 100000 --calls 2000)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { procCpuMs, processCpuMs } from './common.mjs';

const here = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('n', 100000);
const CALLS = arg('calls', 2000);
const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;

const nats = await import('nats').then((m) => m.default ?? m);
const { createSupervisor } = await import('../index.mjs');

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

// CPU milliseconds of this process plus the processes in `others` (user + system; /proc ticks).
const others = new Set();
function cpuMs() {
  let ms = processCpuMs();
  for (const pid of others) {
    const other = procCpuMs(`/proc/${pid}/stat`);
    if (other === null) throw new Error(`cannot read the CPU time of process ${pid}`);
    ms += other;
  }
  return ms;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// ---- the peer process -------------------------------------------------------------------
if (process.argv[2] === '--peer') {
  const [, , , mode, url] = process.argv;
  if (mode === 'floor') {
    const nc = await nats.connect({ servers: url });
    let n = 0;
    nc.subscribe('floor.t', {
      callback: (_e, m) => {
        JSON.parse(new TextDecoder().decode(m.data));
        if (++n === N) nc.publish('floor.done', new TextEncoder().encode(String(n)));
      },
    });
    nc.subscribe('floor.r', { callback: (_e, m) => m.respond(m.data) });
    await nc.flush();
    process.stdout.write('ready\n');
    process.stdin.on('end', async () => {
      await nc.close();
      process.exit(0);
    });
    process.stdin.resume();
  } else {
    const sup = createSupervisor({ warmWorkers: 0, cluster: { node: 'peer', servers: url, secret: 'bench-secret-cookie', outboundQueue: N + 10 } });
    sup.spawn((self, msg) => {
      globalThis.n = (globalThis.n ?? 0) + 1;
      return msg === 'get' ? globalThis.n - 1 : msg;
    }, { name: 'sink', global: true });
    sup.cluster.on('registered', () => process.stdout.write('ready\n'));
    process.stdin.on('end', async () => {
      await sup.shutdown();
      process.exit(0);
    });
    process.stdin.resume();
  }
} else {
  await main();
}

function startPeer(mode, url) {
  const child = spawn(process.execPath, [here, '--peer', mode, url, '--n', String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()));
  others.add(child.pid);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => others.delete(child.pid));
  return { child, ready, exited };
}

async function floor(url) {
  const peer = startPeer('floor', url);
  await peer.ready;
  const nc = await nats.connect({ servers: url });
  const enc = new TextEncoder();
  const done = new Promise((resolve) => nc.subscribe('floor.done', { max: 1, callback: () => resolve() }));
  await nc.flush();
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) nc.publish('floor.t', enc.encode(JSON.stringify(i)));
  await done;
  const rate = N / ((performance.now() - t0) / 1000);
  const c1 = cpuMs();
  const lat = [];
  for (let i = 0; i < CALLS + 200; i++) {
    const s = performance.now();
    await nc.request('floor.r', enc.encode('"get"'), { timeout: 5000 });
    if (i >= 200) lat.push((performance.now() - s) * 1000);
  }
  const c2 = cpuMs();
  lat.sort((a, b) => a - b);
  await nc.close();
  peer.child.stdin.end();
  await peer.exited;
  return { rate, p50: pct(lat, 50), p99: pct(lat, 99), cpuSend: ((c1 - c0) * 1000) / N, cpuCall: ((c2 - c1) * 1000) / (CALLS + 200) };
}

async function warden(url) {
  const peer = startPeer('warden', url);
  const sup = createSupervisor({ warmWorkers: 0, cluster: { node: 'bench', servers: url, secret: 'bench-secret-cookie', outboundQueue: N + 10 } });
  await peer.ready;
  const ref = await sup.whereis('sink', { wait: 10000 });
  if (!ref) throw new Error('the peer node was not found');
  await ref.call('get');
  const before = await ref.call('get');
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) ref.receive(i);
  const got = (await ref.call('get', { timeoutMs: 60000 })) - before - 1;
  const rate = N / ((performance.now() - t0) / 1000);
  if (got !== N) throw new Error(`only ${got} of ${N} messages arrived`);
  const c1 = cpuMs();
  const lat = [];
  for (let i = 0; i < CALLS + 200; i++) {
    const s = performance.now();
    await ref.call('ping');
    if (i >= 200) lat.push((performance.now() - s) * 1000);
  }
  const c2 = cpuMs();
  lat.sort((a, b) => a - b);
  // SIGKILL of the peer → nodeDown here.
  const down = new Promise((resolve) => sup.cluster.on('nodeDown', resolve));
  const k0 = performance.now();
  peer.child.kill('SIGKILL');
  await down;
  const killToDown = performance.now() - k0;
  await peer.exited;
  await sup.shutdown();
  return { rate, p50: pct(lat, 50), p99: pct(lat, 99), killToDown, cpuSend: ((c1 - c0) * 1000) / N, cpuCall: ((c2 - c1) * 1000) / (CALLS + 200) };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-nats-'));
  const port = await freePort();
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  others.add(server.pid);
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise((r) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
        s.on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const f = await floor(url);
    const w = await warden(url);
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`cluster bench (${runtime}; ${N} sends, ${CALLS} calls; loadavg ${load})`);
    console.log(`  send throughput  floor ${Math.round(f.rate)} msg/s   warden ${Math.round(w.rate)} msg/s   ratio ${(w.rate / f.rate).toFixed(2)}x (target >= 0.8x)`);
    console.log(`  call p50         floor ${f.p50.toFixed(0)} us   warden ${w.p50.toFixed(0)} us   ratio ${(w.p50 / f.p50).toFixed(2)}x (target <= 1.3x)`);
    console.log(`  call p99         floor ${f.p99.toFixed(0)} us   warden ${w.p99.toFixed(0)} us   ratio ${(w.p99 / f.p99).toFixed(2)}x`);
    console.log(`  CPU per send     floor ${f.cpuSend.toFixed(1)} us   warden ${w.cpuSend.toFixed(1)} us   (this process + peer + nats-server)`);
    console.log(`  CPU per call     floor ${f.cpuCall.toFixed(1)} us   warden ${w.cpuCall.toFixed(1)} us`);
    console.log(`  SIGKILL -> nodeDown  ${Math.round(w.killToDown)} ms (heartbeat 1 s, down after 5 s)`);
  } finally {
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
