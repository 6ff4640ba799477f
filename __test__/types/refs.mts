// Refs are typed by what they were spawned from; wrong messages and wrong uses of replies are
// compile errors (each `@ts-expect-error` must stay an error: tsc fails on an unused one).
import { createSupervisor, type ActorRef, type ActorRefOf, type ChildRef, type Context, type Self } from 'warden';
import { expectType, type Equal, type Expect } from './assert.mjs';

export async function handlers(): Promise<void> {
  const sup = createSupervisor();

  // a handler: the message type from `msg`'s annotation, the reply from the awaited return
  const doubler = sup.spawn(async (self, n: number, ctx) => {
    ctx.heartbeat();
    return n * 2;
  });
  expectType<ActorRef<number, number>>()(doubler);
  expectType<Promise<number>>()(doubler.call(2));
  expectType<boolean>()(doubler.receive(2));
  // @ts-expect-error a wrong message to receive
  doubler.receive('two');
  // @ts-expect-error a wrong message to call
  await doubler.call({ n: 2 });
  // @ts-expect-error the reply is a number, not a string
  const s: string = await doubler.call(2);
  // @ts-expect-error call takes no type argument: the reply type is known, not asserted
  await doubler.call<string>(2);
  // @ts-expect-error a misspelt call option
  await doubler.call(2, { timeout: 10 });
  expectType<Promise<number>>()(doubler.call(2, { timeoutMs: 100, signal: AbortSignal.timeout(50) }));
  // @ts-expect-error a misspelt receive option
  doubler.receive(2, { incarnaton: 1 });

  // an unannotated handler: msg is unknown (not any), so it must be narrowed before use
  const loose = sup.spawn((self, msg) => {
    type _ = Expect<Equal<typeof msg, unknown>>;
    // @ts-expect-error msg is unknown
    msg.toUpperCase();
    return typeof msg === 'string' ? msg.toUpperCase() : null;
  });
  expectType<ActorRef<unknown, string | null>>()(loose);
  loose.receive({ anything: true }); // unknown takes any message
  // @ts-expect-error the reply may be null
  const up: string = await loose.call('x');

  // a typed ref can be stored where an untyped one is expected (lists of refs, targets)
  const anyRef: ActorRef = doubler;
  const refs: ActorRef[] = [doubler, loose];
  doubler.link(loose);
  doubler.monitor('some-name');
  // @ts-expect-error but an untyped ref's reply is not a number
  const typedAgain: ActorRef<number, number> | undefined = sup.whereis('doubler');

  // void handlers reply undefined
  const sink = sup.spawn((self, m: string) => {
    self.send('got', m);
  });
  expectType<Promise<void>>()(sink.call('x'));

  // spawn options are checked
  // @ts-expect-error a misspelt spawn option
  sup.spawn((self, m: string) => m, { timeOutMs: 10 });
  // @ts-expect-error an unknown kind
  sup.spawn((self, m: string) => m, { kind: 'shared' });
  // @ts-expect-error restart types are literal
  sup.spawn((self, m: string) => m, { restart: 'always' });
  sup.spawn((self, m: string) => m, { name: 'x', kind: 'pooled', restart: 'permanent', mailbox: { capacity: 10, overflow: 'drop-oldest' } });

  // groups spawn the same way
  const group = sup.createGroup({ strategy: 'rest-for-one', retry: { max: 1, backoff: 'linear' } });
  const g = group.spawn((self, m: { a: number }) => m.a);
  expectType<ActorRef<{ a: number }, number>>()(g);
  // @ts-expect-error a message missing its field
  g.receive({});
  // @ts-expect-error an unknown strategy
  sup.createGroup({ strategy: 'all-for-one' });

  // whereis: untyped unless told
  const found = sup.whereis('doubler');
  expectType<ActorRef<unknown, unknown> | undefined>()(found);
  const told = sup.whereis<number, number>('doubler');
  if (told) expectType<Promise<number>>()(told.call(1));

  // spawnMany: an array of typed refs
  const many = sup.spawnMany(3, (self, m: 'ping') => 'pong' as const, { kind: 'pooled' });
  expectType<ActorRef<'ping', 'pong'>[]>()(many);
  // @ts-expect-error only 'ping' is accepted
  many[0].receive('pong');
  // options that can never apply to spawnMany are compile errors
  // @ts-expect-error one name cannot name many actors
  sup.spawnMany(2, (self, m: string) => m, { name: 'x' });
  // @ts-expect-error spawnMany spawns pooled actors
  sup.spawnMany(2, (self, m: string) => m, { kind: 'isolated' });
  // @ts-expect-error no per-actor heap limit for pooled actors
  sup.spawnMany(2, (self, m: string) => m, { resourceLimits: { maxOldGenerationSizeMb: 64 } });
  // @ts-expect-error runtime flags belong to a thread, and pooled actors share one
  sup.spawnMany(2, (self, m: string) => m, { execArgv: ['--no-warnings'] });
  sup.spawnMany(2, (self, m: string) => m, { kind: 'pooled', restart: 'permanent', shutdown: 'brutal', mailbox: { capacity: 8 } });
  await sup.shutdown();
}

export async function modules(): Promise<void> {
  const sup = createSupervisor();
  // a module actor typed by its module's type
  const echo = sup.spawn<typeof import('./echo-actor.mjs')>(new URL('./echo-actor.mjs', import.meta.url));
  expectType<ActorRef<{ text: string }, number>>()(echo);
  expectType<Promise<number>>()(echo.call({ text: 'hi' }));
  // @ts-expect-error the module's handler takes { text }
  echo.receive('hi');
  const counter = sup.spawn<typeof import('./counter-behaviour.mjs')>('./counter-behaviour.mjs');
  expectType<Promise<{ total: number }>>()(counter.call({ msg: 'add', n: 1 }));
  // @ts-expect-error not a message of the module's union
  counter.receive({ msg: 'sub', n: 1 });
  // without a type argument: untyped
  const plain = sup.spawn(new URL('./echo-actor.mjs', import.meta.url));
  expectType<ActorRef<unknown, unknown>>()(plain);
  // the same ref type by name, e.g. for a field
  type Echo = ActorRefOf<typeof import('./echo-actor.mjs')>;
  type _ = Expect<Equal<Echo, ActorRef<{ text: string }, number>>>;
  // a module compiled to CommonJS: its default export one level deeper
  const shout = sup.spawn<typeof import('./cjs-actor.cjs')>('./cjs-actor.cjs');
  expectType<ActorRef<string, string>>()(shout);
  const pooled = sup.spawnMany<typeof import('./echo-actor.mjs')>(2, './echo-actor.mjs');
  expectType<Echo[]>()(pooled);
  await sup.shutdown();
}

export async function cluster(): Promise<void> {
  const node = createSupervisor({ cluster: { node: 'a', servers: 'nats://127.0.0.1:4222', secret: 'a-shared-cookie' } });
  // a name looked up cluster-wide: untyped unless told, local or remote
  const any = await node.whereis('counter', { wait: 100 });
  if (any) expectType<Promise<unknown>>()(any.call('get'));
  const counter = await node.whereis<'get', number>('counter', { wait: 100 });
  if (counter) {
    expectType<Promise<number>>()(counter.call('get'));
    // @ts-expect-error a wrong message to a typed remote (or local) ref
    counter.receive('put');
  }
  const remote = await node.cluster?.whereis<string, string>('echo');
  if (remote) expectType<Promise<string>>()(remote.call('x', { timeoutMs: 100 }));
  await node.shutdown();
}

export function insideActors(): void {
  const sup = createSupervisor();
  sup.spawn(async (self, msg: string, ctx) => {
    // refs from ctx.spawn carry their types to ctx.call and ctx.send
    const child = await ctx.spawn((s, n: number) => String(n));
    expectType<ChildRef<number, string>>()(child);
    expectType<Promise<string>>()(ctx.call(child, 1, { timeoutMs: 100 }));
    ctx.send(child, 2);
    // @ts-expect-error a wrong message to a typed child
    ctx.send(child, 'two');
    // @ts-expect-error a wrong message to a typed child
    await ctx.call(child, 'two');
    // @ts-expect-error the reply is a string
    const n: number = await ctx.call(child, 1);
    // @ts-expect-error a misspelt call option
    await ctx.call(child, 1, { timeout: 5 });
    // ids and names are untyped targets
    expectType<Promise<unknown>>()(ctx.call('doubler', { anything: 1 }));
    ctx.send(child.id, 'anything');
    const named = ctx.whereis('doubler');
    expectType<ChildRef<unknown, unknown> | undefined>()(named);
    const typedByName = ctx.whereis<number, number>('doubler');
    if (typedByName) expectType<Promise<number>>()(ctx.call(typedByName, 1));
    // behaviour and module children
    const beh = await ctx.spawn({ init: () => [] as string[], handle: (list, item: string) => [...list, item] });
    expectType<Promise<string[]>>()(ctx.call(beh, 'a'));
    const mod = await ctx.spawn<typeof import('./echo-actor.mjs')>('./echo-actor.mjs');
    expectType<Promise<number>>()(ctx.call(mod, { text: 'x' }));
    // many pooled children of one source, typed like ctx.spawn
    const many = await ctx.spawnMany(100, (s, n: number) => n > 0);
    expectType<ChildRef<number, boolean>[]>()(many);
    const counters = await ctx.spawnMany(10, { init: () => 0, handle: (c, add: number) => c + add }, { restart: 'permanent' });
    expectType<Promise<number>>()(ctx.call(counters[0], 1));
    // @ts-expect-error spawnMany children cannot be named
    await ctx.spawnMany(2, (s, n: number) => n, { name: 'twins' });
    ctx.link(child);
    ctx.monitor(mod);
    await ctx.terminate(child);
    // self and ctx
    expectType<Self>()(self);
    expectType<Context>()(ctx);
    expectType<unknown>()(ctx.state);
    return msg.length;
  });
}
