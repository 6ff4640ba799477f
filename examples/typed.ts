// Typed usage of the public API; `npm run typecheck` compiles it against index.d.ts. Refs are
// typed by what they were spawned from: annotate `msg`, and `call` resolves with the reply type.
// (__test__/types/ holds the lines that must stay compile errors.)
import {
  createSupervisor,
  matchAll,
  println,
  isSystemMessage,
  TimeoutError,
  type ActorRef,
  type ActorKind,
  type ActorGroup,
  type ChainableReader,
  type Message,
  type Result,
  type SupervisorDiagnostics,
} from 'warden';

async function main(): Promise<void> {
  const sup = createSupervisor({
    maxActors: 10,
    memory: { poolSize: 4, boxSize: '1mb' },
    timeouts: { defaultLeaseMs: 5000, actorTimeouts: { parser: 200 } },
    strategy: 'one-for-one',
    retry: { max: 3, withinMs: 5000 },
    diagnostics: { sampleRate: 0.1, track: { messageLatency: true, inboxDepth: true, authorization: true } },
    warmWorkers: 2,
    tasks: { minThreads: 1, maxThreads: 2 },
  });

  const doubler: ActorRef<number, number> = sup.spawn(async (self, msg: number, ctx) => {
    self.send('seen', msg);
    ctx.heartbeat();
    return msg * 2;
  }, { name: 'doubler', timeoutMs: 1000, restart: 'transient' });

  const unsubscribe = doubler.subscribe((m: Message) => {
    matchAll(m, {
      seen: (x: Message<number>) => println('seen', x.data, 'from', x.from),
      _: () => undefined,
    });
    if (isSystemMessage(m)) println('system', m.msg);
  });

  const ok: boolean = doubler.receive(21);
  const four: number = await doubler.call(2, { timeoutMs: 500 });
  println(ok, four, doubler.incarnation);

  sup.on('exit', (e) => println(e.id, e.reason, e.message?.message));
  sup.on('restart', (e) => println(e.id, e.incarnation));

  try {
    await doubler.call(1e9, { timeoutMs: 1 });
  } catch (err) {
    if (err instanceof TimeoutError) println('timed out');
  }

  const workers: ActorGroup = sup.createGroup({
    strategy: 'one-for-all',
    retry: { max: 5, withinMs: 1000, backoff: 'exponential', delayMs: 50 },
    onCrash: (error, msg) => (msg === 'skip' ? 'resume' : 'restart'),
  });
  const counter = workers.spawn({
    init: () => 0,
    handle: (n, m: number) => n + m,
    onTerminate: (reason, ctx) => {
      ctx.self.send('bye', reason);
    },
  }, { shutdown: 1000, idleTimeoutMs: 5000 });
  const total: number = await counter.call(5);
  const ref: string = counter.monitor(doubler);
  counter.demonitor(ref);
  counter.link(doubler);
  await workers.terminateAll();
  println(total);

  const producer = sup.spawn(async (self, msg: number, ctx) => {
    const w = await ctx.alloc(msg);
    if (w.isErr) return w.error;
    w.value.bytes.fill(7);
    const lock = await w.value.commit({ msg: 'blob', type: 'binary', share: 'all' });
    self.send('blob', lock.isOk ? { handle: lock.value } : lock.error);
    const json = await ctx.write({ msg: 'doc', type: 'json', data: { n: msg }, share: ['parser'] });
    return json.isOk ? json.value.epoch : -1;
  });
  producer.subscribe((m) => {
    const reader: ChainableReader | null = sup.read(m);
    if (reader) {
      const view: Uint8Array = reader.bytes();
      println(view.length, reader.type);
      sup.release(reader.handle);
    }
  });

  // tasks: large inputs and bytes results through the memory pool with `transfer`
  const sum: number = await sup.task((x: Uint8Array) => x.reduce((a, b) => a + b, 0), new Uint8Array(1024), { transfer: true, timeoutMs: 1000 });
  const made: Uint8Array = await sup.task((n: number) => new Uint8Array(n).fill(1), 16, { transfer: true });
  const lengths: number[] = await sup.map([new Uint8Array(2), new Uint8Array(3)], (x: Uint8Array) => x.length, { transfer: true });
  println(sum, made.length, lengths);

  // shared regions: one Atomics counter that the host and granted actors update in place
  const hits = new Int32Array(sup.region('hits', 64));
  const counting = sup.spawn((self, n: number, ctx) => {
    const shared: SharedArrayBuffer = ctx.region('hits');
    return Atomics.add(new Int32Array(shared), 0, n) + n;
  }, { regions: ['hits'] });
  const after: number = await counting.call(3);
  println(after, Atomics.load(hits, 0));

  const diag: Result<SupervisorDiagnostics, string> = sup.getDiagnostics();
  if (diag.isOk) {
    println(diag.value.activeActors, diag.value.restarts);
    const waited: number | null | undefined = diag.value.metrics.messageLatency?.p99;
    const refused: number | undefined = diag.value.metrics.authorization?.denied;
    println(waited, refused);
  }
  const summary = sup.getDiagnostics({ actors: 'summary' });
  if (summary.isOk) println(summary.value.actorsByState.running);
  const page = sup.getDiagnostics({ actors: { offset: 0, limit: 10 } });
  if (page.isOk) println(page.value.actors.length);
  const counts = sup.getDiagnostics({ actors: false });
  if (counts.isOk) println(counts.value.activeActors);

  // pooled actors: many on a few shared worker threads, same refs and supervision
  const sessions: ActorRef<string, { hits: number }>[] = sup.spawnMany(1000, {
    init: () => ({ hits: 0 }),
    handle: (s, msg: string) => ({ hits: s.hits + 1 }),
  }, { kind: 'pooled' });
  const hit: { hits: number } = await sessions[999].call('hit');
  const room = sup.spawn((self, msg: string) => msg, { kind: 'pooled', name: 'lobby' });
  const lostOff = sup.on('workerLost', (e) => println(e.worker, e.cause, e.culprit, e.actors.length));
  const kind: ActorKind | undefined = room.getDiagnostics().isOk ? room.getDiagnostics().value?.kind : undefined;
  println(hit.hits, kind);
  lostOff();

  // actors talking to actors: a child's ref carries its types to ctx.call and ctx.send
  type Cmd = { msg: 'add'; n: number } | { msg: 'reset' };
  const parent = sup.spawn(async (self, cmds: Cmd[], ctx) => {
    const acc = await ctx.spawn({
      init: () => 0,
      handle: (total, cmd: Cmd) => matchAll(cmd, { add: (c) => total + c.n, reset: () => 0 }) ?? total,
    });
    let last = 0;
    for (const cmd of cmds) last = await ctx.call(acc, cmd, { timeoutMs: 1000 });
    return last;
  });
  const sum3: number = await parent.call([{ msg: 'add', n: 1 }, { msg: 'add', n: 2 }]);
  println(sum3);

  // module actors and module tasks, typed by their module's type (or untyped without one)
  const moduleActor = sup.spawn<{ default: (self: unknown, text: string) => number }>('./length.mjs');
  const len: number = await moduleActor.call('four').catch(() => 4);
  const hashed = await sup.task<string>('./hash.mjs', 'text').catch(() => '');
  println(len, hashed.length);

  const byName: ActorRef | undefined = sup.whereis('doubler');
  await byName?.terminate();
  unsubscribe();
  await sup.shutdown();
}

/** A node of a cluster on NATS (never run here: it needs a nats-server). */
export async function clusterNode(): Promise<void> {
  const node = createSupervisor({ cluster: { node: 'b', servers: ['nats://127.0.0.1:4222'], secret: 'a-shared-cookie' } });
  const cluster = node.cluster!;
  const offUp = cluster.on('nodeUp', (n) => println(n.node, n.epoch));
  const counter = await node.whereis<number, number>('counter', { wait: 5000 });
  if (counter) {
    counter.receive(1);
    const n: number = await counter.call(1);
    const watcher = node.spawn((self, msg, ctx) => undefined);
    const ref: string = watcher.monitor(counter);
    println(n, ref, cluster.nodes().map((x) => `${x.node}/${x.epoch}`));
  }
  offUp();
  await node.shutdown();
}

/** `await using`: the supervisor shuts down when the block ends, also after a throw. */
async function scoped(): Promise<number> {
  await using sup = createSupervisor({ warmWorkers: 0 });
  return sup.spawn((self, n: number) => n + 1).call(41);
}

void main().then(scoped);
