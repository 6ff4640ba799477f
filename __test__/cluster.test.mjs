// A cluster on NATS (DESIGN.md 9): envelope framing and the failure detector against an
// in-process loopback transport, then real nats-servers (a cluster of three with JetStream) and
// real child processes (Node and Bun) as nodes. Every server and child is stopped here.
import assert from 'node:assert/strict';
import { describe, test, after, slowTestUnless, withSup, waitFor, collector, runtime, exitsOnItsOwn } from './harness.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { ChildNode, NODE, BUN, startNats, stopAll, clusterConfig, nextCluster, makeCerts } from './cluster-helpers.mjs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const EXIT_FIXTURE = new URL('./fixtures/cluster-exit.mjs', import.meta.url).pathname;
const { seal, open, deriveKey, MAC_CHARS } = require('../lib/cluster/envelope.js');
const { Detector } = require('../lib/cluster/detector.js');
const { Heartbeats } = require('../lib/cluster/heartbeats.js');
const { Loopback } = require('../lib/cluster/transport.js');
const { clusterConfig: validate } = require('../lib/cluster/config.js');
const { createSupervisor } = require('../index.js');

after(stopAll);

// .ci/run installs nats-server; elsewhere the tests that need it are reported as skipped.
const NO_NATS = spawnSync('nats-server', ['--version']).status !== 0;
const slowTest = (name, ms, fn) => slowTestUnless(NO_NATS, 'nats-server is not installed (apt-get install nats-server)', name, ms, fn);

describe('envelope framing', () => {
  const key = deriveKey('the-cluster-secret');

  test('a sealed envelope opens with the same key, field for field', () => {
    const env = { k: 's', n: 'a', e: 'ep1', te: 'ep2', q: 7, t: 3, f: 0, b: '{"x":[1,"é"]}' };
    assert.deepEqual(open(key, seal(key, env)), env);
  });

  test('a frame sealed with another secret, or altered in one byte, does not open', () => {
    const frame = seal(key, { k: 's', n: 'a', e: 'x', b: '1' });
    assert.equal(open(deriveKey('another-secret'), frame), null);
    assert.equal(open(deriveKey('the-cluster-secret'), seal(deriveKey('another-secret'), { k: 's', n: 'a', e: 'x' })), null);
    for (const i of [0, MAC_CHARS, frame.length - 2]) {
      const bad = Buffer.from(frame);
      bad[i] ^= 1;
      assert.equal(open(key, bad), null, `byte ${i} altered`);
    }
  });

  test('short frames, non-objects and envelopes without a sender are refused', () => {
    assert.equal(open(key, Buffer.from('x')), null);
    assert.equal(open(key, 'not bytes'), null);
    assert.equal(open(key, seal(key, [1, 2])), null);
    assert.equal(open(key, seal(key, { k: 's' })), null);
  });
});

describe('failure detector', () => {
  test('a node is up from its first heartbeat and down once after downAfterMs of silence', () => {
    const d = new Detector({ self: 'a', downAfterMs: 5000, now: 0 });
    assert.deepEqual(d.beat('b', 'e1', 0), [{ type: 'up', node: 'b', epoch: 'e1' }]);
    assert.deepEqual(d.beat('b', 'e1', 1000), []);
    assert.deepEqual(d.tick(2000), []);
    assert.deepEqual(d.tick(6000), []);
    assert.deepEqual(d.tick(6001), [{ type: 'down', node: 'b', epoch: 'e1', why: 'silent' }]);
    assert.deepEqual(d.tick(6500), [], 'down is said once');
    assert.deepEqual(d.nodes(), []);
  });

  test('a buried epoch stays dead: its heartbeats are answered with stale', () => {
    const d = new Detector({ self: 'a', downAfterMs: 5000, now: 0 });
    d.beat('b', 'e1', 0);
    d.tick(3000);
    assert.deepEqual(d.tick(5500), [{ type: 'down', node: 'b', epoch: 'e1', why: 'silent' }]);
    assert.deepEqual(d.beat('b', 'e1', 5600), [{ type: 'stale', node: 'b', epoch: 'e1' }]);
    assert.deepEqual(d.beat('b', 'e2', 5700), [{ type: 'up', node: 'b', epoch: 'e2' }]);
  });

  test('a new epoch of a live node is a restart: the old epoch goes down first', () => {
    const d = new Detector({ self: 'a', downAfterMs: 5000, now: 0 });
    d.beat('b', 'e1', 0);
    assert.deepEqual(d.beat('b', 'e2', 100), [
      { type: 'down', node: 'b', epoch: 'e1', why: 'restarted' },
      { type: 'up', node: 'b', epoch: 'e2' },
    ]);
  });

  test('a goodbye is down at once; its own heartbeats are ignored; a clock jump says frozen', () => {
    const d = new Detector({ self: 'a', downAfterMs: 5000, now: 0 });
    assert.deepEqual(d.beat('a', 'mine', 0), []);
    d.beat('b', 'e1', 0);
    assert.deepEqual(d.bye('b', 'e1'), [{ type: 'down', node: 'b', epoch: 'e1', why: 'left' }]);
    d.beat('c', 'e1', 0);
    assert.deepEqual(d.tick(9000), [{ type: 'frozen', gapMs: 9000 }], 'not a down: the silence was its own');
    assert.deepEqual(d.reset(), [{ type: 'down', node: 'c', epoch: 'e1', why: 'rejoined' }]);
    assert.deepEqual(d.beat('c', 'e1', 9100), [{ type: 'up', node: 'c', epoch: 'e1' }], 'c was not buried');
  });

  test('heartbeats over a loopback transport: up, cut off → down, healed → rejoins as a new epoch', async () => {
    const bus = new Loopback();
    let now = 0;
    const clock = () => now;
    const key = deriveKey('loopback-secret');
    const make = (node) => {
      const events = [];
      const transport = bus.connect();
      const hb = new Heartbeats({ transport, key, subject: 'hb', node, epoch: `${node}1`, heartbeatMs: 1000, downAfterMs: 5000, clock, emit: (e) => events.push(e) });
      return { hb, events, transport };
    };
    const a = make('a');
    const b = make('b');
    a.hb.tick(now);
    b.hb.tick(now);
    await bus.settled();
    assert.deepEqual(a.events, [{ type: 'up', node: 'b', epoch: 'b1' }]);
    assert.deepEqual(b.events, [{ type: 'up', node: 'a', epoch: 'a1' }]);
    bus.cut(b.transport); // b can neither send nor hear
    for (now = 1000; now <= 6000; now += 250) {
      a.hb.tick(now);
      b.hb.tick(now);
      await bus.settled();
    }
    assert.deepEqual(a.events.slice(1), [{ type: 'down', node: 'b', epoch: 'b1', why: 'silent' }]);
    assert.deepEqual(b.events.slice(1), [{ type: 'down', node: 'a', epoch: 'a1', why: 'silent' }]);
    bus.heal(b.transport);
    now += 1000;
    b.hb.tick(now); // its heartbeat at the buried epoch is answered with stale…
    await bus.settled();
    a.hb.tick(now);
    await bus.settled();
    const rejoin = b.events.find((e) => e.type === 'epoch');
    assert.ok(rejoin, `b took a new epoch: ${JSON.stringify(b.events)}`);
    assert.notEqual(b.hb.epoch, 'b1');
    b.hb.tick(now + 1000); // …and its next one brings it up as a new node
    await bus.settled();
    assert.deepEqual(a.events.at(-1), { type: 'up', node: 'b', epoch: b.hb.epoch });
    assert.ok(a.hb.nodes().some((n) => n.node === 'b' && n.epoch === b.hb.epoch));
    assert.equal(a.hb.refused, 0);
  });

  test('frames that do not prove the secret are counted and ignored', async () => {
    const bus = new Loopback();
    const events = [];
    const t = bus.connect();
    const hb = new Heartbeats({ transport: t, key: deriveKey('good-secret'), subject: 'hb', node: 'a', epoch: 'a1', heartbeatMs: 1000, downAfterMs: 5000, clock: () => 0, emit: (e) => events.push(e) });
    bus.connect().publish('hb', seal(deriveKey('wrong-secret'), { k: 'hb', n: 'x', e: 'x1' }));
    await bus.settled();
    assert.equal(hb.refused, 1);
    assert.deepEqual(events, [{ type: 'refused' }]);
    assert.deepEqual(hb.nodes(), []);
  });
});

describe('cluster config', () => {
  const base = { node: 'a', servers: 'nats://127.0.0.1:4222', secret: 'a-long-secret' };

  test('defaults, and servers as a string or a list', () => {
    const c = validate(base);
    assert.equal(c.heartbeatMs, 1000);
    assert.equal(c.downAfterMs, 5000);
    assert.deepEqual(c.servers, ['nats://127.0.0.1:4222']);
    assert.deepEqual(validate({ ...base, servers: ['nats://x:1', 'nats://y:2'] }).servers, ['nats://x:1', 'nats://y:2']);
  });

  test('every wrong field is a TypeError or RangeError naming it', () => {
    const cases = [
      [{ ...base, node: undefined }, TypeError, /cluster\.node/],
      [{ ...base, node: 'a.b' }, RangeError, /cluster\.node/],
      [{ ...base, servers: [] }, TypeError, /cluster\.servers/],
      [{ ...base, servers: 42 }, TypeError, /cluster\.servers/],
      [{ ...base, secret: undefined }, TypeError, /cluster\.secret/],
      [{ ...base, secret: 'short' }, RangeError, /cluster\.secret/],
      [{ ...base, user: 'u' }, TypeError, /cluster\.user and cluster\.pass/],
      [{ ...base, token: 3 }, TypeError, /cluster\.token/],
      [{ ...base, tls: { caFile: 'x', bogus: 1 } }, TypeError, /cluster\.tls: unknown option "bogus"/],
      [{ ...base, heartbeatMs: -1 }, RangeError, /cluster\.heartbeatMs/],
      [{ ...base, heartbeatMs: 2000, downAfterMs: 1000 }, RangeError, /cluster\.downAfterMs/],
      [{ ...base, outboundQueue: 1.5 }, RangeError, /cluster\.outboundQueue/],
      [{ ...base, nope: 1 }, TypeError, /cluster: unknown option "nope"/],
      ['a', TypeError, /cluster must be an object/],
    ];
    for (const [v, Cls, re] of cases) assert.throws(() => validate(v), (e) => e instanceof Cls && re.test(e.message), JSON.stringify(v));
    assert.throws(() => createSupervisor({ cluster: { ...base, node: '' } }), /cluster\.node/);
  });

  test('global needs a name and a cluster; whereis options need a cluster; remote targets of local-only APIs are refused', async () => {
    await withSup({}, async (sup) => {
      assert.throws(() => sup.spawn(() => 1, { name: 'x', global: true }), /options\.global needs a cluster/);
      assert.throws(() => sup.spawn(() => 1, { global: 'yes' }), /options\.global must be a boolean/);
      assert.throws(() => sup.whereis('x', { wait: 10 }), /whereis: options apply to cluster names/);
      assert.throws(() => sup.terminateActor('actor-3@b'), /actor-3@b is an actor of another node/);
      // Tier 2 stays on one machine: a remote id in a share list is refused, naming the field.
      const writer = sup.spawn(async (self, msg, ctx) => {
        try {
          const r = await ctx.write({ msg: 'big', data: 'x', share: ['actor-3@b'] });
          return r.isErr ? `Err: ${r.error}` : 'accepted';
        } catch (err) {
          return `${err.name}: ${err.message}`;
        }
      });
      assert.match(await writer.call('go'), /share.*actor-3@b is an actor of another node/);
    });
  });
});

describe('nodes on real NATS servers', () => {
  let nats;
  const children = [];
  const child = (exe, config) => {
    const c = new ChildNode(exe, config);
    children.push(c);
    return c;
  };
  const stopChildren = async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
  };

  slowTest('a cluster of three nats-servers with JetStream starts', 30000, async () => {
    nats = await startNats(3);
    assert.equal(nats.urls.length, 3);
  });

  slowTest('remote send, call and reply between this process, a Node node and a Bun node; refs travel inside messages', 40000, async () => {
    nextCluster();
    const servers = nats.urls;
    try {
      await withSup({ cluster: clusterConfig('host', servers) }, async (sup) => {
        const up = collector();
        sup.cluster.on('nodeUp', up);
        const nn = child(NODE, clusterConfig('nodejs', [servers[1], servers[0]]));
        const bn = child(BUN, clusterConfig('bun', [servers[2], servers[0]]));
        await Promise.all([nn.ready(), bn.ready(), sup.cluster.ready]);
        await waitFor(() => up.items.length === 2, 10000, 'both nodes up');
        assert.equal(sup.cluster.state, 'connected');
        assert.deepEqual(sup.cluster.nodes().map((n) => n.node).sort(), ['bun', 'host', 'nodejs']);

        const sink = sup.spawn((self, msg) => {
          self.send('got', msg);
          return msg;
        });
        const got = collector();
        sink.subscribe(got);
        for (const [c, name] of [[nn, 'counter-n'], [bn, 'counter-b']]) {
          const { id } = await c.cmd('spawn', { kind: 'counter', name, global: true });
          assert.match(id, /^actor-\d+$/);
          await c.event((e) => e.ev === 'registered' && e.name === name && e.ok, 10000, 'registered');
          const ref = await sup.whereis(name, { wait: 5000 });
          assert.equal(ref.id, `${id}@${c.node}`);
          assert.equal(ref.node, c.node);
          assert.equal(ref.receive(2), true);
          assert.equal(ref.receive(3), true);
          assert.equal(await ref.call('sum'), 5, 'FIFO: both sends arrived before the call');
          assert.equal(await ref.call('get'), 3, 'it had three messages before this one');
        }
        // From actors of the child nodes: ctx.call and ctx.send to an actor of this process,
        // whose id travels inside the message and comes back as a local id.
        const { id: relayN } = await nn.cmd('spawn', { kind: 'relay', name: 'relay-n', global: true });
        const { id: relayB } = await bn.cmd('spawn', { kind: 'relay', name: 'relay-b', global: true });
        const rn = await sup.whereis('relay-n', { wait: 5000 });
        const rb = await sup.whereis('relay-b', { wait: 5000 });
        assert.deepEqual(await rn.call({ op: 'call', to: sink.id, msg: { from: 'node' } }), { from: 'node' });
        assert.equal(await rb.call({ op: 'send', to: sink.id, msg: 'hello from bun' }), true);
        await waitFor(() => got.items.some((m) => m.data === 'hello from bun'), 10000, 'the Bun actor’s ctx.send');
        // A pooled actor does the same from its shared worker thread.
        const { id: pooledRelay } = await bn.cmd('spawn', { kind: 'relay', pooled: true });
        const rp = sup.cluster.ref(`${pooledRelay}@bun`);
        assert.deepEqual(await rp.call({ op: 'call', to: sink.id, msg: 'from a pooled actor' }), 'from a pooled actor');
        assert.equal(await rp.call({ op: 'send', to: sink.id, msg: 'pooled send' }), true);
        await waitFor(() => got.items.some((m) => m.data === 'pooled send'), 10000, 'the pooled actor’s ctx.send');
        // Node relays to Bun through a call chain: this process → nodejs → bun.
        assert.deepEqual(await rn.call({ op: 'call', to: `${relayB}@bun`, msg: ['x', 1] }), ['x', 1]);
        // A ref of this process inside a message reaches the relay as `actor-N@host`.
        const echoed = await rb.call({ hold: sink, id: sink.id });
        assert.deepEqual(echoed, { hold: { id: sink.id }, id: sink.id }, 'ids of this node come back local');
        await waitFor(() => bn.events.some((e) => e.ev === 'emit' && e.m.data?.id === `${sink.id}@host`), 10000, 'the id as the Bun node saw it');
        // Call options as for local refs: a signal aborts, an unknown option is refused.
        const ac = new AbortController();
        const aborted = rn.call('slow?', { signal: ac.signal });
        ac.abort();
        await assert.rejects(aborted, (e) => e.name === 'AbortError');
        assert.throws(() => rn.call('x', { timeout: 10 }), /call: options: unknown option "timeout"/);
        // A handler's throw rejects the remote call with its message; unknown actors are noproc.
        await assert.rejects(rn.call({ op: 'throw', text: 'boom over there' }), /boom over there/);
        const ghost = sup.cluster.ref(`actor-999999@nodejs`);
        await assert.rejects(ghost.call('x'), (e) => e.name === 'ActorExitError' && e.reason === 'noproc');
        assert.equal(relayN.startsWith('actor-'), true);
        // A call to a node nobody runs rejects at once with noconnection.
        await assert.rejects(sup.cluster.ref('actor-1@nowhere').call('x'), (e) => e.reason === 'noconnection');
        const dead = collector();
        sup.on('deadLetter', dead);
        assert.equal(sup.cluster.ref('actor-1@nowhere').receive('lost'), false);
        assert.deepEqual(dead.items, [{ to: 'actor-1@nowhere', from: 'host', message: 'lost', reason: 'noconnection' }]);
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('global names: two nodes race for one name and exactly one wins; whereis waits for a name', 30000, async () => {
    nextCluster();
    try {
      await withSup({ cluster: clusterConfig('host', nats.urls) }, async (sup) => {
        const a = child(NODE, clusterConfig('ra', [nats.urls[0]]));
        const b = child(runtime === 'bun' ? BUN : NODE, clusterConfig('rb', [nats.urls[1]]));
        await Promise.all([a.ready(), b.ready(), sup.cluster.ready]);
        const late = sup.whereis('late', { wait: 10000 });
        for (let round = 0; round < 3; round++) {
          const name = `race-${round}`;
          await Promise.all([a.cmd('spawn', { kind: 'counter', name, global: true }), b.cmd('spawn', { kind: 'counter', name, global: true })]);
          const ra = await a.event((e) => e.ev === 'registered' && e.name === name, 10000, 'claim result');
          const rb = await b.event((e) => e.ev === 'registered' && e.name === name, 10000, 'claim result');
          assert.equal(ra.ok !== rb.ok, true, `exactly one wins ${JSON.stringify([ra, rb])}`);
          const winner = ra.ok ? a : b;
          const ref = await sup.whereis(name, { wait: 5000 });
          assert.equal(ref.node, winner.node);
          for (const c of [a, b]) {
            const { id } = await c.cmd('whereis', { name, wait: 5000 });
            assert.equal(c === winner ? `${id}@${c.node}` : id, ref.id, `${c.node} finds the winner`);
          }
        }
        const local = sup.spawn(() => 'here', { name: 'late', global: true });
        assert.equal(await late, local, 'a waiting whereis finds the local ActorRef');
        const found = await a.cmd('whereis', { name: 'late', wait: 5000 });
        assert.equal(found.id, `${local.id}@host`);
        await local.terminate();
        await waitFor(async () => (await a.cmd('whereis', { name: 'late' })).id === null, 10000, 'the name freed when its actor died');
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('SIGKILL of a node: every watcher gets DOWN noconnection exactly once within 6 s; its names are freed; calls reject at once', 30000, async () => {
    nextCluster();
    try {
      await withSup({ cluster: clusterConfig('host', nats.urls) }, async (sup) => {
        const victim = child(runtime === 'bun' ? BUN : NODE, clusterConfig('victim', [nats.urls[2]]));
        const other = child(runtime === 'bun' ? NODE : BUN, clusterConfig('other', [nats.urls[1]]));
        await Promise.all([victim.ready(), other.ready(), sup.cluster.ready]);
        await victim.cmd('spawn', { kind: 'counter', name: 'doomed', global: true });
        const ref = await sup.whereis('doomed', { wait: 5000 });
        const { id: watcherO } = await other.cmd('spawn', { kind: 'relay' });
        await waitFor(async () => (await other.cmd('whereis', { name: 'doomed' })).id === ref.id, 10000, 'the other node sees the name');
        // Watchers: two actors of this process (one by handler, one from the host) and one on the other node.
        const w1 = sup.spawn((self, msg, ctx) => (msg?.watch ? ctx.monitor(msg.watch) : self.send('saw', msg)));
        const w2 = sup.spawn(() => undefined);
        const d1 = collector();
        const d2 = collector();
        w1.subscribe(d1);
        w2.subscribe(d2);
        const linked = sup.spawn((self, msg, ctx) => (msg?.link ? ctx.link(msg.link) : undefined), { restart: 'temporary' });
        const exits = collector();
        sup.on('exit', exits);
        assert.match(await w1.call({ watch: ref.id }), /^ref-.*@victim$/);
        const ref2 = w2.monitor(ref);
        await linked.call({ link: ref.id });
        assert.match(await other.cmd('call', { to: watcherO, msg: { op: 'monitor', to: ref.id } }).then((r) => r.value), /@victim$/);
        assert.equal(await ref.call('get'), 0, 'the monitors were set up before the kill (FIFO)');
        // Another node cannot speak for the victim: a DOWN it forges for the victim's actor is ignored.
        const forged = { k: 'd', q: 1, t: Number(ref.id.slice(6, ref.id.indexOf('@'))), c: ref2, r: 'forged' };
        await other.cmd('forge', { node: 'host', secret: 'test-cluster-secret', env: forged, te: sup.cluster.epoch });
        await sup.cluster.ref(`${watcherO}@other`).call('after the forged frame'); // FIFO per pair: it was handled
        const downs = collector();
        sup.cluster.on('nodeDown', downs);
        const killedAt = performance.now();
        victim.kill('SIGKILL');
        await waitFor(() => downs.items.length === 1, 8000, 'nodeDown');
        const elapsed = performance.now() - killedAt;
        assert.deepEqual(downs.items, [{ node: 'victim', epoch: ref.epoch, reason: 'noconnection' }]);
        assert.ok(elapsed < 6000, `DOWN ${Math.round(elapsed)} ms after SIGKILL`);
        await waitFor(() => d1.items.filter((m) => m.msg === 'DOWN').length >= 1 && d2.items.length >= 1, 5000, 'DOWN at both watchers');
        await waitFor(() => exits.items.some((e) => e.id === linked.id), 5000, 'the linked actor stopped');
        assert.equal(exits.items.find((e) => e.id === linked.id).reason, 'linked: noconnection');
        await other.event((e) => e.ev === 'emit' && e.m.data?.msg === 'DOWN', 8000, 'DOWN on the other node');
        await assert.rejects(ref.call('get'), (e) => e.reason === 'noconnection');
        assert.equal(await sup.whereis('doomed', { wait: 0 }), undefined);
        await waitFor(async () => (await other.cmd('whereis', { name: 'doomed' })).id === null, 10000, 'the name freed by survivors');
        // Exactly once, everywhere: a probe call through each watcher's mailbox is answered after any duplicate.
        await w1.call('probe');
        const downMsgs = d1.items.filter((m) => m.msg === 'DOWN');
        assert.equal(downMsgs.length, 1);
        assert.deepEqual(downMsgs[0].data, { id: ref.id, reason: 'noconnection', ref: downMsgs[0].data.ref });
        assert.equal(d2.items.length, 1);
        assert.deepEqual(d2.items[0].data, { id: ref.id, reason: 'noconnection', ref: ref2 });
        await other.cmd('call', { to: watcherO, msg: 'probe' });
        assert.equal(other.events.filter((e) => e.ev === 'emit' && e.m.data?.msg === 'DOWN').length, 1);
        assert.equal(other.events.filter((e) => e.ev === 'nodeDown').length, 1);
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('a node with a wrong secret is refused: its envelopes are dropped and counted, never delivered', 20000, async () => {
    nextCluster();
    try {
      await withSup({ cluster: clusterConfig('host', nats.urls) }, async (sup) => {
        const intruder = child(NODE, clusterConfig('intruder', [nats.urls[0]], { secret: 'not-the-cluster-secret' }));
        await Promise.all([intruder.ready(), sup.cluster.ready]);
        const target = sup.spawn((self, msg) => {
          globalThis.n = (globalThis.n ?? 0) + (msg === 'count?' ? 0 : 1);
          return globalThis.n;
        });
        const refused = collector();
        sup.cluster.on('refused', refused);
        const num = Number(target.id.slice(6));
        const env = { k: 's', q: 1, t: num, f: 1, b: '"forged"' };
        const te = sup.cluster.epoch;
        await intruder.cmd('forge', { node: 'host', secret: 'not-the-cluster-secret', env, te });
        await waitFor(() => refused.items.length >= 2, 10000, 'the forged envelope and a heartbeat refused');
        assert.equal(await target.call('count?'), 0, 'nothing from the intruder arrived');
        assert.ok(!sup.cluster.nodes().some((n) => n.node === 'intruder'));
        const st = await intruder.cmd('status');
        assert.ok(!st.nodes.some((n) => n.node === 'host'), 'the intruder cannot see the cluster either');
        // The same envelope sealed with the right secret is delivered: the refusal was the secret.
        await intruder.cmd('forge', { node: 'host', secret: 'test-cluster-secret', env: { ...env, q: 2 }, te });
        await waitFor(async () => (await target.call('count?')) === 1, 5000, 'the well-sealed envelope');
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('SIGSTOP past the deadline: declared down; after SIGCONT it rejoins with a new epoch and old refs are noproc', 30000, async () => {
    nextCluster();
    const fast = { heartbeatMs: 250, downAfterMs: 1500 };
    try {
      await withSup({ cluster: clusterConfig('host', nats.urls, fast) }, async (sup) => {
        const sleeper = child(runtime === 'bun' ? BUN : NODE, clusterConfig('sleeper', [nats.urls[1]], fast));
        const first = await sleeper.ready();
        await sup.cluster.ready;
        await sleeper.cmd('spawn', { kind: 'counter', name: 'napper', global: true });
        const old = await sup.whereis('napper', { wait: 5000 });
        assert.equal(old.epoch, first.epoch);
        const downs = collector();
        const ups = collector();
        sup.cluster.on('nodeDown', downs);
        sup.cluster.on('nodeUp', ups);
        sleeper.kill('SIGSTOP');
        await waitFor(() => downs.items.length === 1, 10000, 'declared down');
        assert.equal(downs.items[0].epoch, first.epoch);
        sleeper.kill('SIGCONT');
        await waitFor(() => ups.items.length === 1, 10000, 'back up');
        assert.notEqual(ups.items[0].epoch, first.epoch, 'a new epoch');
        await assert.rejects(old.call('get'), (e) => {
          assert.equal(e.reason, 'noproc', `a ref to the old epoch is stale (${e.message}) ${JSON.stringify([downs.items, ups.items, sup.cluster.nodes(), sleeper.events])}`);
          return true;
        });
        const again = await sup.whereis('napper', { wait: 10000 });
        assert.equal(again.epoch, ups.items[0].epoch, 'its global name is claimed again under the new epoch');
        assert.equal(typeof (await again.call('get')), 'number');
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('a flood to a slow node becomes dead letters, not a disconnect', 30000, async () => {
    nextCluster();
    const small = { outboundQueue: 2000, window: 256 };
    try {
      await withSup({ cluster: clusterConfig('host', nats.urls, small) }, async (sup) => {
        const slow = child(NODE, clusterConfig('slow', [nats.urls[0]], small));
        await Promise.all([slow.ready(), sup.cluster.ready]);
        await slow.cmd('spawn', { kind: 'counter', name: 'sink', global: true });
        const ref = await sup.whereis('sink', { wait: 5000 });
        const dead = collector();
        sup.on('deadLetter', dead);
        await slow.cmd('busy', { ms: 3000 }); // from now its host thread cannot read NATS for 3 s
        let accepted = 0;
        for (let i = 0; i < 20000; i++) {
          if (ref.receive(i)) accepted++;
          if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // acks could come in between
        }
        assert.ok(dead.items.length > 0, 'overflow became dead letters');
        assert.equal(dead.items[0].reason, 'overflow');
        assert.equal(accepted + dead.items.length, 20000, 'every message accepted or dead-lettered, once');
        // No disconnect: both sides stay up, and the queue drains into the slow node.
        await waitFor(() => sup.cluster.stats().queued === 0, 10000, 'the outbound queue drained');
        assert.equal(await ref.call('get', { timeoutMs: 10000 }), accepted);
        assert.equal(sup.cluster.state, 'connected');
        assert.ok(!slow.events.some((e) => e.ev === 'nodeDown' || (e.ev === 'state' && e.state !== 'connected')));
        assert.ok(sup.cluster.nodes().some((n) => n.node === 'slow'));
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('SIGKILL of one nats-server of three: no node is declared down and traffic resumes', 30000, async () => {
    nextCluster();
    const cfg = { heartbeatMs: 250, downAfterMs: 2500 };
    try {
      // This process uses the two servers that live on.
      await withSup({ cluster: clusterConfig('host', [nats.urls[1], nats.urls[2]], cfg) }, async (sup) => {
        // It is given only the server about to die: it must move to one it learnt of from the cluster.
        const n = child(runtime === 'bun' ? BUN : NODE, clusterConfig('survivor', [nats.urls[0]], cfg));
        await Promise.all([n.ready(), sup.cluster.ready]);
        const { id } = await n.cmd('spawn', { kind: 'counter' });
        await waitFor(() => sup.cluster.nodes().some((x) => x.node === 'survivor'), 10000, 'survivor up');
        const up = collector();
        sup.cluster.on('nodeUp', up);
        const ref = sup.cluster.ref(`${id}@survivor`);
        assert.equal(await ref.call('get'), 0);
        const downs = collector();
        sup.cluster.on('nodeDown', downs);
        await nats.kill(0);
        // Traffic resumes, and keeps flowing for longer than the failure detector's deadline.
        await n.event((e) => e.ev === 'state' && e.state === 'connected', 10000, 'reconnected').catch(() => {});
        const until = performance.now() + cfg.downAfterMs + 1000;
        let calls = 0;
        while (performance.now() < until) {
          try {
            await ref.call('get', { timeoutMs: 1000 });
            calls++;
          } catch (err) {
            if (err.name !== 'TimeoutError') throw err;
          }
        }
        assert.ok(calls > 0, 'calls answered after the server died');
        assert.ok((await ref.call('get')) > calls, 'still answering');
        assert.deepEqual(downs.items, [], 'no node declared down');
        assert.deepEqual(up.items, []);
        await stopChildren();
      });
    } finally {
      await stopChildren();
    }
  });

  slowTest('NATS credentials pass through; a NATS outage: calls fail fast, sends queue, the node reconnects by itself', 40000, async () => {
    nextCluster();
    const creds = { user: 'warden', pass: 'right-password' };
    const single = await startNats(1, { auth: 'user: warden, password: right-password', client: creds });
    try {
      await withSup({ cluster: clusterConfig('host', single.urls, creds) }, async (sup) => {
        const states = collector();
        sup.cluster.on('state', states);
        const wrong = child(NODE, clusterConfig('badpass', single.urls, { user: 'warden', pass: 'wrong-password' }));
        const good = child(runtime === 'bun' ? BUN : NODE, clusterConfig('goodpass', single.urls, creds));
        await Promise.all([good.ready(), sup.cluster.ready]);
        const refusal = await wrong.event((e) => e.ev === 'error', 15000, 'the refused connection reported');
        assert.match(refusal.reason, /cannot connect to NATS|Authorization/i);
        assert.ok(!wrong.events.some((e) => e.ev === 'ready'));
        const { id } = await good.cmd('spawn', { kind: 'counter' });
        await waitFor(() => sup.cluster.nodes().some((n) => n.node === 'goodpass'), 10000, 'goodpass up');
        const ref = sup.cluster.ref(`${id}@goodpass`);
        assert.equal(await ref.call('get'), 0);
        await single.kill(0);
        await waitFor(() => sup.cluster.state === 'reconnecting', 10000, 'reconnecting');
        await assert.rejects(ref.call('get'), (e) => e.name === 'ActorExitError' && e.reason === 'noconnection', 'a call fails fast');
        assert.equal(ref.receive('queued while NATS is away'), true, 'a send queues within the bound');
        await single.restart(0);
        await waitFor(() => sup.cluster.state === 'connected', 15000, 'reconnected');
        await good.event((e) => e.ev === 'state' && e.state === 'connected', 15000, 'the child reconnected');
        await waitFor(async () => {
          try {
            return (await ref.call('get', { timeoutMs: 1000 })) >= 1;
          } catch {
            return false;
          }
        }, 15000, 'traffic after the outage');
        assert.deepEqual(states.items.slice(-2), ['reconnecting', 'connected']);
        await stopChildren();
      });
    } finally {
      await stopChildren();
      await single.stop();
    }
  });

  slowTest('a token and TLS options pass through to NATS; a node without TLS cannot join', 40000, async () => {
    const certs = makeCerts();
    assert.ok(certs, 'openssl made a test CA and certificate');
    nextCluster();
    const secure = { token: 'a-test-token', tls: { caFile: certs.ca } };
    const server = await startNats(1, { auth: 'token: "a-test-token"', tls: certs, client: secure });
    try {
      await withSup({ cluster: clusterConfig('host', server.urls, secure) }, async (sup) => {
        const peer = child(runtime === 'bun' ? NODE : BUN, clusterConfig('tlspeer', server.urls, secure));
        const plain = child(NODE, clusterConfig('plain', server.urls, { token: 'a-test-token' }));
        await Promise.all([peer.ready(), sup.cluster.ready]);
        const { id } = await peer.cmd('spawn', { kind: 'relay' });
        await waitFor(() => sup.cluster.nodes().some((n) => n.node === 'tlspeer'), 15000, 'the TLS peer up');
        assert.deepEqual(await sup.cluster.ref(`${id}@tlspeer`).call({ over: 'tls' }), { over: 'tls' });
        await plain.event((e) => e.ev === 'error', 15000, 'the plain connection refused');
        assert.ok(!plain.events.some((e) => e.ev === 'ready'));
        await stopChildren();
      });
    } finally {
      await stopChildren();
      await server.stop();
    }
  });

  slowTest('after shutdown nothing of the cluster keeps the process alive', 30000, async () => {
    const own = await startNats(1); // JetStream of its own: the cluster above lost a server
    try {
      const report = await exitsOnItsOwn(EXIT_FIXTURE, { args: [own.urls[0]] });
      assert.deepEqual(report, { state: 'closed', same: true, answer: 42 });
    } finally {
      await own.stop();
    }
  });

  slowTest("the README's two-process example runs as documented: examples/cluster.mjs a on Node, b on Bun, one nats-server", 60000, async () => {
    const own = await startNats(1);
    const EXAMPLE = new URL('../examples/cluster.mjs', import.meta.url).pathname;
    const env = { ...process.env, NATS_URL: own.urls[0], WARDEN_SECRET: 'readme-example-secret' };
    const start = (exe, role) => {
      const child = spawn(exe, [EXAMPLE, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.out = '';
      child.stdout.on('data', (d) => (child.out += d));
      child.stderr.on('data', (d) => (child.out += d));
      child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      return child;
    };
    const a = start(NODE, 'a');
    let b;
    try {
      await waitFor(() => a.out.includes('counter registered cluster-wide'), 20000, `node a to register (${a.out})`);
      b = start(BUN, 'b');
      await waitFor(() => b.out.includes('watching it'), 20000, `node b to find, call and monitor the counter (${b.out})`);
      assert.match(b.out, /\[b\] found actor-\d+@a/);
      assert.match(b.out, /\[b\] counter is now 1/);
      a.kill('SIGINT'); // A shuts down: B's monitor sees DOWN and B ends on its own
      assert.equal(await a.exited, 0, a.out);
      assert.equal(await b.exited, 0, b.out);
      // B's monitor request is in flight when A gets SIGINT: it reaches A before the counter
      // stops (DOWN shutdown), or after (DOWN noproc, as a monitor of an ended actor in Erlang)
      assert.match(b.out, /\[b\] DOWN .*"reason":"(shutdown|noconnection|noproc)"/);
    } finally {
      for (const child of [a, b]) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all([a.exited, b?.exited]);
      await own.stop();
    }
  });

  slowTest('the nats-servers stop', 10000, async () => {
    await nats?.stop();
  });
});
