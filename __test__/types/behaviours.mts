// Behaviour objects: the state is checked against `init`'s return type and `handle`'s, the
// reply of `call` is the new state, and hooks see the typed state through `ctx.state`.
import { createSupervisor, type ActorRef, type Behaviour } from 'warden';
import { expectType, type Equal, type Expect } from './assert.mjs';

export async function behaviours(): Promise<void> {
  const sup = createSupervisor();

  // the state from init, the message from handle's annotation
  const counter = sup.spawn({
    init: () => 0,
    handle: (n, add: number) => n + add,
    onStart: (ctx) => ctx.register('counter'),
    onTerminate: (reason, ctx) => {
      expectType<string>()(reason);
      expectType<number>()(ctx.state);
    },
    onExit: (id, reason, ctx) => ctx.state,
    onIdle: (ctx) => ctx.self.send('idle'),
  }, { idleTimeoutMs: 1000, shutdown: 2000 });
  expectType<ActorRef<number, number>>()(counter);
  expectType<Promise<number>>()(counter.call(5));
  // @ts-expect-error a wrong message
  counter.receive('5');

  // an object state; async init and handle
  const sessions = sup.spawn({
    init: async () => ({ hits: 0, user: 'anon' }),
    handle: async (s, msg: 'hit') => ({ ...s, hits: s.hits + 1 }),
  });
  expectType<Promise<{ hits: number; user: string }>>()(sessions.call('hit'));

  // @ts-expect-error handle returns a state of another shape than init's
  sup.spawn({ init: () => ({ hits: 0 }), handle: (s, m: string) => ({ count: 1 }) });
  // @ts-expect-error handle's state annotation disagrees with init
  sup.spawn({ init: () => 0, handle: (s: string, m: string) => s });
  // @ts-expect-error handle must return the next state, not nothing
  sup.spawn({ init: () => ({ n: 0 }), handle: (s, m: number) => { s.n += m; } });
  // @ts-expect-error a misspelt hook is not a behaviour member
  sup.spawn({ init: () => 0, handle: (s, m: number) => s + m, onstart: () => {} });
  // @ts-expect-error a behaviour needs handle
  sup.spawn({ init: () => 0 });

  // an unannotated message is unknown
  sup.spawn({
    init: () => [] as string[],
    handle: (list, msg) => {
      type _ = Expect<Equal<typeof msg, unknown>>;
      return typeof msg === 'string' ? [...list, msg] : list;
    },
  });

  // a discriminated union of messages and a declared Behaviour type
  type Cmd = { msg: 'add'; n: number } | { msg: 'reset' };
  const acc: Behaviour<{ total: number }, Cmd> = {
    init: () => ({ total: 0 }),
    handle: (s, cmd) => (cmd.msg === 'add' ? { total: s.total + cmd.n } : { total: 0 }),
  };
  const accRef = sup.spawn(acc);
  expectType<ActorRef<Cmd, { total: number }>>()(accRef);
  accRef.receive({ msg: 'add', n: 1 });
  // @ts-expect-error 'add' needs n
  accRef.receive({ msg: 'add' });
  // @ts-expect-error init must return the declared state
  const bad: Behaviour<{ total: number }, Cmd> = { init: () => ({ sum: 0 }), handle: (s) => s };

  // pooled behaviours from spawnMany
  const many = sup.spawnMany(10, { init: () => ({ hits: 0 }), handle: (s, m: 'hit') => ({ hits: s.hits + 1 }) }, { kind: 'pooled' });
  expectType<ActorRef<'hit', { hits: number }>[]>()(many);
  await sup.shutdown();
}

export function withoutInit(): void {
  const sup = createSupervisor();
  // without init the first state is undefined: handle must take it
  const lazy = sup.spawn({ handle: (s: number | undefined, add: number) => (s ?? 0) + add });
  expectType<ActorRef<number, number | undefined>>()(lazy);
  // (without init nothing else says what the state is: annotate it)
  // @ts-expect-error without init the state starts undefined, not a number
  sup.spawn({ handle: (s: number, add: number) => s + add });
  // @ts-expect-error the same for a pooled one
  sup.spawnMany(2, { handle: (s: { n: number }, m: string) => ({ n: s.n + 1 }) });
  // a declared Behaviour without init is fine when its state includes undefined
  const b: Behaviour<string[] | undefined, string> = { handle: (list, item) => [...(list ?? []), item] };
  expectType<Promise<string[] | undefined>>()(sup.spawn(b).call('x'));
}
