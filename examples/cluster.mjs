// Two cluster nodes on one NATS (README "Cluster"). Start a nats-server with JetStream, then:
//   node examples/cluster.mjs a            # process A: owns the global "counter"
//   node examples/cluster.mjs b            # process B (or `bun examples/cluster.mjs b`)
// Environment: NATS_URL (default nats://127.0.0.1:4222), WARDEN_SECRET (shared by all nodes).
import { createSupervisor, println } from '../index.mjs';

const role = process.argv[2];
if (role !== 'a' && role !== 'b') throw new Error('usage: cluster.mjs a|b');
const servers = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',');
const secret = process.env.WARDEN_SECRET ?? 'change-me-cluster-cookie';
const sup = createSupervisor({ cluster: { node: role, servers, secret } });
sup.cluster.on('nodeUp', (n) => println(`[${role}] node up: ${n.node} (epoch ${n.epoch})`));
sup.cluster.on('nodeDown', (n) => println(`[${role}] node down: ${n.node} (${n.reason})`));

if (role === 'a') {
  sup.spawn((self, msg, ctx) => {
    globalThis.total = (globalThis.total ?? 0) + (typeof msg === 'number' ? msg : 0);
    return globalThis.total;
  }, { name: 'counter', global: true });
  println('[a] counter registered cluster-wide; Ctrl-C stops A (B sees DOWN shutdown, or noproc if its monitor arrives after the stop; kill -9 gives noconnection)');
  process.on('SIGINT', () => sup.shutdown().then(() => process.exit(0)));
} else {
  const c = await sup.whereis('counter', { wait: 10000 });
  if (!c) throw new Error('no "counter" in the cluster: start `cluster.mjs a` first');
  println(`[b] found ${c.id}`);
  c.receive(1);
  println('[b] counter is now', await c.call('get'));
  const watcher = sup.spawn((self, msg, ctx) => (msg?.watch ? ctx.monitor(msg.watch) : self.send('seen', msg)));
  watcher.subscribe((m) => m.msg === 'DOWN' && println('[b] DOWN', JSON.stringify(m.data)));
  await watcher.call({ watch: c.id });
  println('[b] watching it; stop or kill process A to see DOWN, or Ctrl-C here');
  await new Promise((resolve) => {
    watcher.subscribe((m) => m.msg === 'DOWN' && resolve());
    process.on('SIGINT', resolve);
  });
  await sup.shutdown();
}
