// matchAll: handlers are typed by the message (a union discriminated by `msg` narrows each
// handler's parameter), and its result is the handlers' results.
import { createSupervisor, matchAll, isSystemMessage, Ok, Err, type Message, type Result } from 'warden';
import { expectType, type Equal, type Expect } from './assert.mjs';

type Cmd = { msg: 'add'; n: number } | { msg: 'scale'; by: number } | { msg: 'reset' };

export function unions(cmd: Cmd, total: number): void {
  const next = matchAll(cmd, {
    add: (c) => total + c.n,
    scale: (c) => total * c.by,
    reset: () => 0,
  });
  // every name handled but no `_`: undefined stays possible only for unknown names at run time
  expectType<number | undefined>()(next);
  const withDefault = matchAll(cmd, { add: (c) => c.n, _: (c) => -1 });
  expectType<number>()(withDefault);
  // @ts-expect-error c is the 'add' member: it has no `by`
  matchAll(cmd, { add: (c) => c.by });
  // @ts-expect-error a name that is not in the union
  matchAll(cmd, { sub: () => 0 });
  matchAll(cmd, {
    _: (c) => {
      type _ = Expect<Equal<typeof c, Cmd>>;
    },
  });
}

export function emitted(): void {
  const sup = createSupervisor();
  const ref = sup.spawn((self, m: string) => {
    self.send('seen', m);
  });
  ref.subscribe((m) => {
    expectType<Message>()(m);
    const r = matchAll(m, {
      seen: (x) => {
        expectType<Message>()(x);
        return x.from;
      },
      // a handler may say what it knows of `data`
      size: (x: Message<number>) => x.data,
      _: () => null,
    });
    expectType<string | number | undefined | null>()(r);
    // @ts-expect-error a handler's parameter must relate to the message type
    matchAll(m, { seen: (x: number) => x });
    if (isSystemMessage(m)) expectType<Message>()(m);
  });
}

export function unknownMessages(msg: unknown): void {
  // an unknown message: handlers get unknown unless they annotate
  matchAll(msg, {
    a: (m) => {
      type _ = Expect<Equal<typeof m, unknown>>;
    },
    b: (m: { msg: 'b'; n: number }) => m.n,
  });
}

export function results(): void {
  const ok: Result<number> = Ok(1);
  const err: Result<number> = Err('no');
  if (ok.isOk) expectType<number>()(ok.value);
  else expectType<string>()(ok.error);
  // @ts-expect-error value may be undefined until narrowed
  const v: number = err.value;
}
