// Resources as the README configures and calls them: Standard Schema validators (zod) or JSON
// Schema on the host, `ctx.resources.<name>.<method>(...)` in actors, the spawn option
// `resources` limiting them. A declaration merged into `Resources` types one resource's methods.
import { z } from 'zod';
import { createSupervisor } from 'warden';
import { expectType } from './assert.mjs';

type Row = { id: number };
declare const pool: { query(sql: string): Promise<Row[]>; end(): Promise<void> };

declare module 'warden' {
  interface Resources {
    /** The typed resource of this test. */
    db: {
      query(q: { sql: string }): Promise<Row[]>;
      add(a: number, b: number): Promise<number>;
    };
  }
}

export async function resources(): Promise<void> {
  const sup = createSupervisor({
    resources: {
      db: {
        query: { input: z.object({ sql: z.string() }), output: z.array(z.any()), handler: ({ sql }) => pool.query(sql) },
        add: { input: { type: 'array', items: { type: 'number' } }, handler: (a, b) => a + b, timeoutMs: 100 },
        release: () => pool.end(),
      },
      clock: { now: { handler: () => Date.now() } },
    },
  });
  // @ts-expect-error a method needs a handler
  createSupervisor({ resources: { db: { query: { input: z.string() } } } });
  // @ts-expect-error a misspelt method option
  createSupervisor({ resources: { db: { query: { handler: () => 1, timeout: 5 } } } });

  const reader = sup.spawn(async (self, sql: string, ctx) => ctx.resources.db.query({ sql }), { resources: ['db'] });
  expectType<Promise<Row[]>>()(reader.call('select 1'));
  sup.spawn(async (self, msg: number, ctx) => {
    const sum = await ctx.resources.db.add(msg, 1);
    expectType<number>()(sum);
    // @ts-expect-error the declared method takes numbers
    await ctx.resources.db.add('1', 2);
    // an undeclared resource is untyped
    const t = await ctx.resources.clock.now();
    expectType<unknown>()(t);
    return sum;
  });
  // @ts-expect-error the spawn option is a list of names
  sup.spawn((self, m: string) => m, { resources: 'db' });
  await sup.shutdown();
}
