// Real components for the cluster tests: nats-server processes on loopback ports (one, or a
// cluster of three with JetStream and routes) and cluster nodes in child processes (Node or
// Bun) driven through __test__/fixtures/cluster-node.mjs. Everything started here is recorded
// and stopped by `stopAll()`, which the tests call in `after` and in their own `finally`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE_SCRIPT = path.join(here, 'fixtures', 'cluster-node.mjs');
const running = new Set(); // child processes: nats servers and nodes
const dirs = new Set(); // the servers' config and JetStream directories

export const BUN = path.join(here, '..', 'node_modules', '.bin', 'bun');
export const NODE = process.versions.bun ? 'node' : process.execPath;

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function track(child) {
  running.add(child);
  child.exitedP = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.exitedP.then(() => running.delete(child));
  return child;
}

/**
 * Starts `count` nats-servers with JetStream (routes between them when count > 1). Resolves
 * with `{ urls, servers: [{ child, port, url }], kill(i, signal), stop() }` once every server
 * takes connections and JetStream answers.
 */
export async function startNats(count = 1, { auth, tls, client = {} } = {}, attempt = 1) {
  const nats = (await import('nats')).default ?? (await import('nats'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-nats-'));
  dirs.add(dir);
  const ports = [];
  const routes = [];
  for (let i = 0; i < count; i++) {
    ports.push(await freePort());
    routes.push(await freePort());
  }
  const servers = [];
  for (let i = 0; i < count; i++) {
    const conf = path.join(dir, `n${i}.conf`);
    const lines = [
      `server_name: n${i}`,
      `listen: 127.0.0.1:${ports[i]}`,
      `jetstream { store_dir: "${path.join(dir, `js${i}`)}", max_memory_store: 64MB, max_file_store: 256MB }`,
    ];
    if (auth) lines.push(`authorization { ${auth} }`);
    if (tls) lines.push(`tls { cert_file: "${tls.cert}", key_file: "${tls.key}", timeout: 5 }`);
    if (count > 1) {
      const others = routes.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
      lines.push(`cluster { name: wardentest, listen: 127.0.0.1:${routes[i]}, routes: [${others.join(', ')}] }`);
    }
    writeFileSync(conf, lines.join('\n'));
    servers.push({ conf, port: ports[i], url: `nats://127.0.0.1:${ports[i]}` });
    launch(servers[i]);
  }
  try {
    for (const s of servers) await listening(s);
  } catch (err) {
    // A port picked as free can be taken by another process before the server binds it: start
    // over on new ports (a few times), after stopping what did start.
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.child.exitedP));
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    if (attempt >= 3 || !err.exitedEarly) throw err;
    return startNats(count, { auth, tls, client }, attempt + 1);
  }
  // JetStream is ready (a meta leader elected, in a cluster) when an account info answers.
  const nc = await nats.connect({ servers: servers.map((s) => s.url), ...client });
  try {
    const ask = () => nc.jetstreamManager({ timeout: 1000 }).then((jsm) => jsm.getAccountInfo());
    await waitFor(() => ask().then(() => true, () => false), 20000, `JetStream (${servers[0].child.log.slice(-400)})`);
  } finally {
    await nc.close();
  }
  return {
    urls: servers.map((s) => s.url),
    servers,
    kill(i, signal = 'SIGKILL') {
      servers[i].child.kill(signal);
      return servers[i].child.exitedP;
    },
    /** Starts server `i` again (same port and config) after a kill; resolves once it listens. */
    async restart(i) {
      launch(servers[i]);
      await listening(servers[i]);
    },
    async stop() {
      for (const s of servers) {
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        await s.child.exitedP;
      }
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

/**
 * Resolves once `server` takes connections; rejects at once, with its log, if it exits first
 * (`exitedEarly`), and after 30 s otherwise (a loaded machine starts it slowly).
 */
async function listening(server) {
  const start = Date.now();
  for (;;) {
    if (await portOpen(server.port)) return;
    const { child } = server;
    if (child.exitCode !== null || child.signalCode !== null) {
      const err = new Error(`nats-server on ${server.port} exited before listening: ${child.log.slice(-400)}`);
      err.exitedEarly = true;
      throw err;
    }
    if (Date.now() - start > 30000) throw new Error(`timed out waiting for nats-server on ${server.port}: ${child.log.slice(-400)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function launch(server) {
  const child = track(spawn('nats-server', ['-c', server.conf], { stdio: ['ignore', 'ignore', 'pipe'] }));
  child.log = '';
  child.stderr.on('data', (d) => (child.log += d));
  server.child = child;
}

/**
 * A CA and a server certificate for 127.0.0.1, made with openssl in a fresh directory:
 * `{ ca, cert, key }` file paths, or null when openssl is not installed.
 */
export function makeCerts() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-tls-'));
  dirs.add(dir);
  const f = (name) => path.join(dir, name);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=warden-test-ca'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')],
  ];
  for (const args of steps) if (spawnSync('openssl', args, { stdio: 'ignore' }).status !== 0) return null;
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

/** A cluster node in a child process of runtime `exe` (NODE or BUN) with cluster `config`. */
export class ChildNode {
  constructor(exe, config) {
    this.config = config;
    this.child = track(spawn(exe, [NODE_SCRIPT, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.events = [];
    this.waiters = new Set();
    this.replies = new Map();
    this.seq = 0;
    this.stderr = '';
    let buf = '';
    this.child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let m;
        try {
          m = JSON.parse(line);
        } catch {
          continue;
        }
        if (m.seq !== undefined) {
          this.replies.get(m.seq)?.(m);
          this.replies.delete(m.seq);
        } else {
          this.events.push(m);
          for (const w of this.waiters) w();
        }
      }
    });
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.exited = this.child.exitedP;
  }

  get node() {
    return this.config.node;
  }

  /** Resolves when the node is connected (its `ready` event), with `{ node, epoch }`. */
  ready() {
    return this.event((e) => e.ev === 'ready', 20000, 'ready');
  }

  /** Sends a command and resolves with its answer. */
  cmd(op, fields = {}, timeoutMs = 15000) {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.node}: no answer to ${op} in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.replies.set(seq, (m) => {
        clearTimeout(timer);
        if (m.error) reject(new Error(`${this.node}: ${op}: ${m.error}`));
        else resolve(m);
      });
      this.child.stdin.write(`${JSON.stringify({ seq, op, ...fields })}\n`);
    });
  }

  /** Resolves with the first event (past or future) matching `pred`. */
  event(pred, timeoutMs = 15000, label = 'event') {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.events.find(pred);
        if (!e) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(e);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.node}: no ${label} within ${timeoutMs} ms; events: ${JSON.stringify(this.events).slice(-600)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  kill(signal = 'SIGKILL') {
    this.child.kill(signal);
  }

  /** Shuts the node down politely; kills it if it does not exit. */
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Kills every server and node still running (used in `after` and `finally`). */
export async function stopAll() {
  for (const child of [...running]) {
    if (child.signalCode === 'SIGSTOP') child.kill('SIGCONT');
    child.kill('SIGKILL');
    await child.exitedP;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

let clusters = 0;
/** A fresh cluster config (its own subjects and bucket, so tests never see each other). */
export function clusterConfig(node, servers, extra = {}) {
  return { node, servers, secret: 'test-cluster-secret', prefix: `wt${process.pid}x${clusters}`, bucket: `wt${process.pid}x${clusters}`, ...extra };
}

/** Starts a new cluster namespace: configs made after this call share it. */
export function nextCluster() {
  clusters++;
}
