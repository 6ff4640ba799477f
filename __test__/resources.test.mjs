// Resources (DESIGN.md 1.1, 3.7, 7; issue 5): host-thread services that actors call with
// `await ctx.resources.<name>.<method>(...args)`, validated with Standard Schema (zod, or any
// object implementing `~standard`) or plain JSON Schema; capability limits; requests in flight
// when their actor dies; `release` at shutdown. Most actors are the module fixture
// fixtures/res-caller.mjs, which answers `{ ok: value }` or `{ error, name }` for each call, so
// the tests see the exact error the actor got.
import assert from 'node:assert/strict';
import { spawn as spawnProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { z } from 'zod';
import { describe, slowTest, sleep, turns, waitFor, within, record, faults, runChild, NO_LEAKS, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats, ActorExitError } from '../index.mjs';

const CALLER = new URL('./fixtures/res-caller.mjs', import.meta.url);
const STOPPING = new URL('./fixtures/res-stopping.mjs', import.meta.url);
const EXIT_PROBE = fileURLToPath(new URL('./fixtures/res-exit-probe.mjs', import.meta.url));
const CONFIG_PROBE = fileURLToPath(new URL('./fixtures/res-config-probe.mjs', import.meta.url));
const CALL = { timeoutMs: 20000 };

/** `ref` (a res-caller actor) calls `resource.method(...args)`; resolves with `{ ok }` or `{ error, name }`. */
const use = (ref, resource, method, ...args) => ref.call({ op: 'call', resource, method, args }, CALL);

/** What the actor gets when a call fails with `message` (always a plain Error, DESIGN 3.7). */
const failed = (message) => ({ error: message, name: 'Error' });

/** A promise with its resolve/reject outside. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Collects unhandled rejections and uncaught exceptions of this process while `fn` runs. */
async function noStrayFailures(fn) {
  const stray = [];
  const onRejection = (err) => stray.push(`unhandledRejection: ${err?.message ?? err}`);
  const onException = (err) => stray.push(`uncaughtException: ${err?.message ?? err}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await fn();
    await turns(); // rejections of promises already settled are reported by now
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  assert.deepEqual(stray, [], 'nothing may escape as an unhandled rejection or exception');
}

forEachKind((k) => {
  describe('resources: round trip', () => {
    slowTest('zod: input parsed (defaults applied), handler on the host thread, output parsed (unknown keys stripped)', 30000, async () => {
      const seen = [];
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          db: {
            query: {
              input: z.object({ sql: z.string().min(1), limit: z.number().int().positive().default(10) }),
              output: z.object({ rows: z.array(z.object({ id: z.number(), title: z.string() })), count: z.number() }),
              handler: async (q) => {
                seen.push({ q, onMainThread: isMainThread });
                await sleep(1);
                const rows = [
                  { id: 1, title: 'one', secret: 'not in the schema' },
                  { id: 2, title: 'two' },
                ].slice(0, q.limit);
                return { rows, count: rows.length, internal: 'stripped by the output schema' };
              },
            },
          },
        },
      });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'db', 'query', { sql: 'select * from t' }), {
          ok: {
            rows: [
              { id: 1, title: 'one' },
              { id: 2, title: 'two' },
            ],
            count: 2,
          },
        });
        assert.deepEqual(await use(a, 'db', 'query', { sql: 'select * from t', limit: 1 }), {
          ok: { rows: [{ id: 1, title: 'one' }], count: 1 },
        });
        assert.deepEqual(seen, [
          { q: { sql: 'select * from t', limit: 10 }, onMainThread: true },
          { q: { sql: 'select * from t', limit: 1 }, onMainThread: true },
        ]);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('JSON Schema: input and output checked, the values pass through unchanged', 30000, async () => {
      const users = new Map([[7, { id: 7, name: 'Ada', tags: ['admin'] }]]);
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          users: {
            get: {
              input: {
                type: 'object',
                properties: { id: { type: 'integer', minimum: 1 } },
                required: ['id'],
                additionalProperties: false,
              },
              output: {
                type: ['object', 'null'],
                properties: { id: { type: 'integer' }, name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
                required: ['id', 'name'],
              },
              handler: ({ id }) => users.get(id) ?? null,
            },
          },
        },
      });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'users', 'get', { id: 7 }), { ok: { id: 7, name: 'Ada', tags: ['admin'] } });
        assert.deepEqual(await use(a, 'users', 'get', { id: 8 }), { ok: null });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('any Standard Schema validator works, not only zod (its parsed value is used, its issues reported)', 30000, async () => {
      // A minimal hand-written Standard Schema v1 validator: doubles a positive number.
      const doubled = {
        '~standard': {
          version: 1,
          vendor: 'warden-test',
          validate: (v) =>
            typeof v === 'number' && v > 0
              ? { value: v * 2 }
              : { issues: [{ message: 'must be a positive number', path: [{ key: 'amount' }, 0] }] },
        },
      };
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: { math: { twice: { input: doubled, output: doubled, handler: (n) => n + 1 } } },
      });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'math', 'twice', 5), { ok: 22 }, 'input 5 → 10, handler 11, output 22');
        assert.deepEqual(
          await use(a, 'math', 'twice', -1),
          failed('resource math.twice: invalid input: amount.0: must be a positive number'),
        );
      } finally {
        await sup.shutdown();
      }
    });

    slowTest('multi-argument calls: every argument reaches the handler, and several are validated as an array', 30000, async () => {
      const seen = [];
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          plain: {
            // no schema: every argument as sent (JSON values)
            args: { handler: (...args) => (seen.push(args), { count: args.length, args }) },
          },
          zod: {
            between: {
              input: z.tuple([z.number(), z.number(), z.object({ inclusive: z.boolean() })]),
              handler: (lo, hi, { inclusive }) => ({ lo, hi, inclusive }),
            },
          },
          json: {
            concat: {
              input: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 3 },
              output: { type: 'string' },
              handler: (...parts) => parts.join('+'),
            },
          },
        },
      });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'plain', 'args', 1, 'two', { three: [3] }, null, true), {
          ok: { count: 5, args: [1, 'two', { three: [3] }, null, true] },
        });
        assert.deepEqual(await use(a, 'plain', 'args'), { ok: { count: 0, args: [] } }, 'no arguments');
        assert.deepEqual(await use(a, 'plain', 'args', [1, 2]), { ok: { count: 1, args: [[1, 2]] } }, 'one array argument stays one argument');
        assert.deepEqual(seen, [[1, 'two', { three: [3] }, null, true], [], [[1, 2]]]);

        assert.deepEqual(await use(a, 'zod', 'between', 1, 9, { inclusive: true }), { ok: { lo: 1, hi: 9, inclusive: true } });
        assert.deepEqual(
          await use(a, 'zod', 'between', 1, 'nine', { inclusive: true }),
          failed('resource zod.between: invalid input: 1: Invalid input: expected number, received string'),
        );
        assert.deepEqual(await use(a, 'json', 'concat', 'a', 'b', 'c'), { ok: 'a+b+c' });
        assert.deepEqual(await use(a, 'json', 'concat', 'a', 'b', 'c', 'd'), failed('resource json.concat: invalid input: value must NOT have more than 3 items'));
        // (a single argument is validated as itself, not as a one-element array)
        assert.deepEqual(await use(a, 'json', 'concat', 'a'), failed('resource json.concat: invalid input: value must be array'));
        assert.deepEqual(await use(a, 'json', 'concat', 'a', 2), failed('resource json.concat: invalid input: value/1 must be string'));
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('multi-argument calls: the handler gets the parsed arguments, as a single argument does', 30000, async () => {
      // A single argument is replaced by what its schema returns (coercion, defaults, transforms);
      // several arguments are validated as an array and must be replaced the same way.
      const seen = [];
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          calc: {
            one: { input: z.coerce.number(), handler: (x) => (seen.push(['one', x]), x) },
            add: {
              input: z.tuple([z.coerce.number(), z.coerce.number()]),
              handler: (x, y) => (seen.push(['add', x, y]), x + y),
            },
            label: {
              input: z.tuple([z.string().trim(), z.string().default('none')]),
              handler: (name, tag) => `${name}/${tag}`,
            },
          },
        },
      });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'calc', 'one', '7'), { ok: 7 }, 'a single argument is parsed');
        assert.deepEqual(await use(a, 'calc', 'add', '1', '2'), { ok: 3 }, 'both arguments parsed: 1 + 2, not "1" + "2"');
        assert.deepEqual(seen, [
          ['one', 7],
          ['add', 1, 2],
        ]);
        assert.deepEqual(await use(a, 'calc', 'label', '  report  ', 'x'), { ok: 'report/x' }, 'trimmed by its schema');
      } finally {
        await sup.shutdown();
      }
    });

    slowTest('several calls in flight from one actor each get their own answer (answers in reverse order)', 30000, async () => {
      const gates = [];
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          svc: {
            wait: {
              handler: (tag) => {
                const d = deferred();
                gates.push({ tag, d });
                return d.promise;
              },
            },
          },
        },
      });
      try {
        const a = sup.spawn(CALLER);
        const tags = ['a', 'b', 'c', 'd'];
        const all = a.call({ op: 'parallel', calls: tags.map((t) => ({ resource: 'svc', method: 'wait', args: [t] })) }, CALL);
        await waitFor(() => gates.length === tags.length, 10000, 'all four handlers running');
        for (const g of [...gates].reverse()) {
          g.d.resolve(`answer for ${g.tag}`);
          await turns(); // this answer has left before the next one is given
        }
        assert.deepEqual(
          await all,
          tags.map((t) => ({ ok: `answer for ${t}` })),
        );
      } finally {
        await sup.shutdown();
      }
    });

    slowTest('two supervisors with a resource of the same name: each actor reaches its own supervisor', 30000, async () => {
      const one = k.createSupervisor({ warmWorkers: 1, resources: { db: { who: { handler: (x) => `one:${x}` } } } });
      const two = k.createSupervisor({ warmWorkers: 1, resources: { db: { who: { handler: (x) => `two:${x}` } } } });
      try {
        const a = one.spawn(CALLER);
        const b = two.spawn(CALLER);
        assert.deepEqual(await use(a, 'db', 'who', 'a'), { ok: 'one:a' });
        assert.deepEqual(await use(b, 'db', 'who', 'b'), { ok: 'two:b' });
      } finally {
        await one.shutdown();
        await two.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('ctx.resources is a proxy: any name is an object, any method a function, neither is thenable', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await a.call({ op: 'shape' }, CALL), {
          resourceType: 'object',
          methodType: 'function',
          resourceThen: 'undefined',
          methodThen: 'undefined',
        });
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('resources: every error, with its exact message', () => {
    /** A supervisor with one resource per kind of failure; `calls` counts handler runs. */
    function failing(extra = {}) {
      const calls = {};
      // slow handlers finish only when the test opens the gate: a rejection seen before that
      // came from the timeout, not from the handler finishing
      const late = { gate: deferred(), finished: 0 };
      const finishLate = () => late.gate.promise.then(() => {
        late.finished++;
        return 'too late';
      });
      const count = (name, fn) => (...args) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return fn(...args);
      };
      const sup = k.createSupervisor({
        warmWorkers: 1,
        timeouts: { defaultLeaseMs: 200, actorTimeouts: { named: 120 } },
        resources: {
          db: {
            query: {
              input: z.object({ sql: z.string() }),
              output: z.array(z.object({ id: z.number() })),
              handler: count('query', ({ sql }) => (sql === 'bad rows' ? [{ id: 'x' }] : [{ id: 1 }])),
            },
            count: {
              input: { type: 'object', properties: { table: { type: 'string' } }, required: ['table'], additionalProperties: false },
              output: { type: 'integer', minimum: 0 },
              handler: count('count', ({ table }) => (table === 'negative' ? -1 : 3)),
            },
            fail: {
              handler: count('fail', (kind) => {
                if (kind === 'string') throw 'plain string';
                throw new Error('disk on fire');
              }),
            },
            reject: {
              handler: count('reject', async () => {
                await sleep(1);
                throw new TypeError('async failure');
              }),
            },
            slow: { timeoutMs: 50, handler: count('slow', finishLate) },
            leaseBound: { handler: count('leaseBound', finishLate) },
            fn: { handler: count('fn', () => () => 'a function') },
            big: { handler: count('big', () => ({ n: 10n })) },
            echo: { handler: count('echo', (...args) => args) },
          },
          cache: { get: { handler: count('cache', () => 'cached') }, release: async () => {} },
          ...extra,
        },
      });
      return { sup, calls, late };
    }

    slowTest('unknown resource, unknown method, release called by an actor', 30000, async () => {
      const { sup, calls } = failing();
      try {
        const ev = record(sup);
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'nope', 'get'), failed('unknown resource "nope"'));
        assert.deepEqual(await use(a, 'db', 'drop'), failed('resource "db" has no method "drop"'));
        assert.deepEqual(
          await use(a, 'cache', 'release'),
          failed('resource "cache": release is called by the supervisor at shutdown, not by actors'),
        );
        assert.deepEqual(
          await use(a, 'db', 'release'),
          failed('resource "db": release is called by the supervisor at shutdown, not by actors'),
          'also for a resource without a release function',
        );
        assert.deepEqual(calls, {});
        assert.equal(ev.exit.length, 0, 'a refused call does not hurt the actor');
        assert.equal(a.incarnation, 0);
        assert.deepEqual(await use(a, 'cache', 'get'), { ok: 'cached' });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('invalid input and invalid output (zod and JSON Schema) name resource, method and problem', 30000, async () => {
      const { sup, calls } = failing();
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(
          await use(a, 'db', 'query', { sql: 42 }),
          failed('resource db.query: invalid input: sql: Invalid input: expected string, received number'),
        );
        assert.deepEqual(
          await use(a, 'db', 'query', 'select 1'),
          failed('resource db.query: invalid input: Invalid input: expected object, received string'),
        );
        assert.deepEqual(calls, {}, 'the handler does not run when the input is invalid');
        assert.deepEqual(
          await use(a, 'db', 'query', { sql: 'bad rows' }),
          failed('resource db.query: invalid output: 0.id: Invalid input: expected number, received string'),
        );
        assert.deepEqual(await use(a, 'db', 'count', {}), failed("resource db.count: invalid input: value must have required property 'table'"));
        assert.deepEqual(
          await use(a, 'db', 'count', { table: 't', extra: 1 }),
          failed('resource db.count: invalid input: value must NOT have additional properties'),
        );
        assert.deepEqual(await use(a, 'db', 'count', { table: 5 }), failed('resource db.count: invalid input: value/table must be string'));
        assert.deepEqual(await use(a, 'db', 'count', { table: 'negative' }), failed('resource db.count: invalid output: value must be >= 0'));
        assert.deepEqual(calls, { query: 1, count: 1 }, 'the handler ran only for valid inputs');
        assert.deepEqual(await use(a, 'db', 'count', { table: 'users' }), { ok: 3 });
      } finally {
        await sup.shutdown();
      }
    });

    slowTest('handler throws (Error, non-Error, async rejection): "resource r.m failed: <message>"', 30000, async () => {
      const { sup } = failing();
      try {
        const ev = record(sup);
        const a = sup.spawn(CALLER);
        assert.deepEqual(await use(a, 'db', 'fail'), failed('resource db.fail failed: disk on fire'));
        assert.deepEqual(await use(a, 'db', 'fail', 'string'), failed('resource db.fail failed: plain string'));
        assert.deepEqual(await use(a, 'db', 'reject'), failed('resource db.reject failed: async failure'), 'always a plain Error in the actor');
        assert.equal(ev.exit.length + ev.error.length, 0, 'a failing handler hurts neither the actor nor the supervisor');
      } finally {
        await sup.shutdown();
      }
    });

    slowTest('timeouts: the method timeoutMs, else the actor lease (defaultLeaseMs, or actorTimeouts[name])', 30000, async () => {
      const { sup, calls, late } = failing();
      try {
        const a = sup.spawn(CALLER);
        await use(a, 'db', 'echo', 0); // the actor is up: what follows measures only the resource call
        // each rejects while its handler is still held at the gate (so: at the timeout), and not
        // before the timeout has passed
        const timedOut = async (ref, method, ms) => {
          const t0 = performance.now();
          assert.deepEqual(await use(ref, 'db', method), failed(`resource db.${method} timed out after ${ms} ms`));
          const waited = performance.now() - t0;
          assert.ok(waited >= ms - 2, `db.${method} rejected after ${waited.toFixed(1)} ms, before its ${ms} ms timeout`);
        };
        await timedOut(a, 'slow', 50);
        await timedOut(a, 'leaseBound', 200);
        // a named actor's lease (its message deadline is set apart so that it does not fire first)
        const named = sup.spawn(CALLER, { name: 'named', timeoutMs: 10000 });
        await use(named, 'db', 'echo', 0);
        await timedOut(named, 'leaseBound', 120);
        assert.equal(late.finished, 0, 'every handler was still running when its call was rejected');
        // the late results are dropped: once the handlers have finished, the actors keep working
        // and get their own answers
        late.gate.resolve();
        await waitFor(() => late.finished === 3, 10000, 'the three late handlers to finish');
        assert.deepEqual(await use(a, 'db', 'echo', 1), { ok: [1] });
        assert.deepEqual(await use(named, 'db', 'echo', 2), { ok: [2] });
        assert.deepEqual(calls, { slow: 1, leaseBound: 2, echo: 4 });
      } finally {
        late.gate.resolve();
        await sup.shutdown();
      }
    });

    slowTest('values that cannot cross threads: an argument is refused in the actor, a result on the host', 30000, async () => {
      const { sup, calls } = failing();
      try {
        const a = sup.spawn(CALLER);
        assert.deepEqual(await a.call({ op: 'unserialisable', resource: 'db', method: 'echo' }, CALL), {
          error: 'resources.db.echo: arguments: a function cannot be sent (messages must be JSON-serialisable)',
          name: 'TypeError',
        });
        assert.equal(calls.echo, undefined, 'the request never left the actor');
        assert.deepEqual(
          await use(a, 'db', 'fn'),
          failed('resource db.fn: result: a function cannot be sent (messages must be JSON-serialisable)'),
        );
        assert.deepEqual(await use(a, 'db', 'big'), failed('resource db.big: result: a bigint cannot be sent (messages must be JSON-serialisable)'));
        assert.deepEqual(await use(a, 'db', 'echo', 'still fine'), { ok: ['still fine'] });
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('resources: capability limits', () => {
    const config = () => ({
      warmWorkers: 1,
      resources: {
        db: { query: { handler: () => 'db' } },
        kv: { get: { handler: () => 'kv' } },
        mail: { send: { handler: () => 'mail' } },
      },
    });

    slowTest('spawn option resources: granted ones work, others are refused naming resource and actor', 30000, async () => {
      const sup = k.createSupervisor(config());
      try {
        const ev = record(sup);
        const free = sup.spawn(CALLER);
        const limited = sup.spawn(CALLER, { resources: ['db', 'mail'] });
        const none = sup.spawn(CALLER, { resources: [] });

        for (const r of ['db', 'kv', 'mail']) assert.deepEqual(await use(free, r, Object.keys(config().resources[r])[0]), { ok: r }, 'default: all');
        assert.deepEqual(await use(limited, 'db', 'query'), { ok: 'db' });
        assert.deepEqual(await use(limited, 'mail', 'send'), { ok: 'mail' });
        assert.deepEqual(await use(limited, 'kv', 'get'), failed(`resource "kv" is not granted to ${limited.id}`));
        assert.deepEqual(await use(limited, 'kv', 'nothing'), failed(`resource "kv" is not granted to ${limited.id}`), 'refused before the method is looked up');
        for (const r of ['db', 'kv', 'mail']) {
          assert.deepEqual(await use(none, r, 'x'), failed(`resource "${r}" is not granted to ${none.id}`), 'resources: [] grants nothing');
        }
        assert.deepEqual(await use(limited, 'nope', 'get'), failed('unknown resource "nope"'));
        assert.equal(ev.exit.length, 0);

        // the grant follows the child across restarts (same id, same limit)
        limited.receive({ op: 'crash' });
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(limited.incarnation, 1);
        assert.deepEqual(await use(limited, 'kv', 'get'), failed(`resource "kv" is not granted to ${limited.id}`));
        assert.deepEqual(await use(limited, 'db', 'query'), { ok: 'db' });
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a bad spawn option resources is refused naming the field (sup.spawn and ctx.spawn)', 30000, async () => {
      const sup = k.createSupervisor(config());
      try {
        await faults(() => sup.spawn(CALLER, { resources: ['db', 'nope'] }), RangeError, /^options\.resources: unknown resource "nope"$/);
        await faults(() => sup.spawn(CALLER, { resources: 'db' }), TypeError, /^options\.resources must be an array of resource names$/);
        await faults(() => sup.spawn(CALLER, { resources: [1] }), TypeError, /^options\.resources must be an array of resource names$/);
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0, 'nothing was spawned');

        const parent = sup.spawn(async (self, msg, ctx) => {
          try {
            return { ok: (await ctx.spawn((s, m) => m, { resources: msg.resources, kind: msg.kind })).id };
          } catch (err) {
            return { error: `${err.constructor.name}: ${err.message}` };
          }
        });
        // (the child is of the suite's kind: ctx.spawn's default is isolated)
        assert.deepEqual(await parent.call({ resources: ['nope'], kind: k.kind }, CALL), { error: 'RangeError: options.resources: unknown resource "nope"' });
        assert.match((await parent.call({ resources: ['kv'], kind: k.kind }, CALL)).ok, /^actor-\d+$/);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a child spawned by a restricted actor cannot call what its parent was not granted', 30000, async () => {
      const sup = k.createSupervisor(config());
      try {
        const parent = sup.spawn(
          async (self, msg, ctx) => {
            await ctx.spawn(
              async (s, m, c) => {
                try {
                  return { ok: await c.resources.kv.get() };
                } catch (err) {
                  return { error: err.message };
                }
              },
              { name: 'kid', kind: msg },
            );
            return true;
          },
          { resources: ['db'] },
        );
        assert.equal(await parent.call(k.kind, CALL), true); // a child of the suite's kind
        const kid = sup.whereis('kid');
        assert.equal(kid.getDiagnostics().value.kind, k.kind);
        const answer = await kid.call('use kv', CALL);
        assert.deepEqual(answer, { error: `resource "kv" is not granted to ${kid.id}` }, 'a grant must not be widened by spawning');
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('resources: the actor dies while its request is in flight', () => {
    slowTest('killed mid-call and restarted: the late answer is dropped, the new incarnation gets its own answers', 30000, async () => {
      await noStrayFailures(async () => {
        const gates = [];
        const sup = k.createSupervisor({
          warmWorkers: 1,
          resources: {
            svc: {
              wait: {
                timeoutMs: 20000,
                handler: (tag) => {
                  const d = deferred();
                  gates.push({ tag, d });
                  return d.promise;
                },
              },
            },
          },
        });
        try {
          const ev = record(sup);
          // its per-message deadline (300 ms) kills the actor while the handler is still waiting
          const a = sup.spawn(CALLER, { timeoutMs: 300 });
          const answered = [];
          a.subscribe((m) => m.msg === 'answered' && answered.push(m.data));
          const first = a.call({ op: 'announce', tag: 'first', resource: 'svc', method: 'wait', args: ['first'] }, CALL);
          await faults(() => first, ActorExitError, /^actor exited: timeout$/);
          await waitFor(() => ev.restart.length === 1, 10000, 'restart');
          assert.equal(gates.length, 1);
          assert.equal(a.incarnation, 1);

          // the new incarnation's first request: in a fresh thread, so likely the same request number
          const second = a.call({ op: 'announce', tag: 'second', resource: 'svc', method: 'wait', args: ['second'] }, CALL);
          await waitFor(() => gates.length === 2, 10000, 'second handler running');
          gates[0].d.resolve('LATE answer meant for the dead incarnation');
          await turns(); // the late answer has been handled (dropped) before the real one is given
          gates[1].d.resolve('answer for the second incarnation');
          assert.deepEqual(await second, { ok: 'answer for the second incarnation' });
          assert.deepEqual(answered, [{ tag: 'second', ok: 'answer for the second incarnation' }]);

          // again, with the late answer a failure this time
          const third = a.call({ op: 'call', resource: 'svc', method: 'wait', args: ['third'] }, CALL);
          await waitFor(() => gates.length === 3, 10000, 'third handler running');
          const fourth = a.call({ op: 'call', resource: 'svc', method: 'wait', args: ['fourth'] }, { timeoutMs: 20000 });
          await faults(() => third, ActorExitError, /^actor exited: timeout$/);
          await waitFor(() => ev.restart.length === 2, 10000, 'second restart');
          await waitFor(() => gates.length === 4, 10000, 'fourth handler running');
          gates[2].d.reject(new Error('LATE failure meant for the dead incarnation'));
          await turns(); // the late failure has been handled (dropped) before the real answer is given
          gates[3].d.resolve('fourth');
          assert.deepEqual(await fourth, { ok: 'fourth' });
          assert.deepEqual(ev.error, [], 'no error event');
          assert.deepEqual(
            ev.exit.map((e) => e.reason),
            ['timeout', 'timeout'],
          );
        } finally {
          await sup.shutdown();
        }
        assert.deepEqual(runtimeStats(), NO_LEAKS);
      });
    });

    slowTest('terminated mid-call: the answer (or failure) arriving later goes nowhere and breaks nothing', 30000, async () => {
      await noStrayFailures(async () => {
        const gates = [];
        const sup = k.createSupervisor({
          warmWorkers: 1,
          resources: {
            svc: {
              wait: {
                output: z.string(),
                handler: (tag) => {
                  const d = deferred();
                  gates.push({ tag, d });
                  return d.promise;
                },
              },
            },
          },
        });
        try {
          const ev = record(sup);
          const a = sup.spawn(CALLER);
          const b = sup.spawn(CALLER);
          const settled = (p) => p.then((value) => ({ value }), (error) => ({ error }));
          const pa = settled(a.call({ op: 'call', resource: 'svc', method: 'wait', args: ['a'] }, CALL));
          const pb = settled(b.call({ op: 'call', resource: 'svc', method: 'wait', args: ['b'] }, CALL));
          await waitFor(() => gates.length === 2, 10000, 'both handlers running');
          await a.terminate();
          await b.terminate();
          for (const p of [pa, pb]) {
            const { error } = await p;
            assert.ok(error instanceof ActorExitError);
            assert.equal(error.message, 'actor exited: terminated');
          }
          gates[0].d.resolve('nobody is listening');
          gates[1].d.resolve(12345); // would be an invalid output: nobody to tell either
          await turns(); // both answers (and the output check) have been handled
          assert.deepEqual(ev.error, []);
          assert.equal(ev.restart.length, 0);
          // the supervisor keeps serving other actors
          const c = sup.spawn(CALLER);
          const pc = c.call({ op: 'call', resource: 'svc', method: 'wait', args: ['c'] }, CALL);
          await waitFor(() => gates.length === 3, 10000, 'third handler running');
          gates[2].d.resolve('c');
          assert.deepEqual(await pc, { ok: 'c' });
        } finally {
          await sup.shutdown();
        }
        assert.deepEqual(runtimeStats(), NO_LEAKS);
      });
    });

    slowTest('nothing of a dropped request keeps the process alive after shutdown (no leftover timer)', 120000, async () => {
      // The handler never settles and has timeoutMs 60000; once its actor is gone and the
      // supervisor shut down, the process must be free to exit (DESIGN 7: no timers left).
      const runs = await Promise.all(
        ['terminate', 'shutdown'].map(
          (mode) =>
            new Promise((resolve, reject) => {
              const child = spawnProcess(process.execPath, [EXIT_PROBE, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
              let out = '';
              let err = '';
              let shutDown = false;
              let killer = null;
              const guard = setTimeout(() => child.kill('SIGKILL'), 80000);
              child.stdout.on('data', (d) => {
                out += d;
                if (!shutDown && out.includes('shut down')) {
                  shutDown = true;
                  // a leftover timer would hold it for the handler's 60 s: 25 s tells them apart on any machine
                  killer = setTimeout(() => child.kill('SIGKILL'), 25000);
                }
              });
              child.stderr.on('data', (d) => (err += d));
              child.on('error', reject);
              child.on('exit', (code, signal) => {
                clearTimeout(guard);
                clearTimeout(killer);
                resolve({ mode, code, signal, out, err });
              });
            }),
        ),
      );
      for (const r of runs) {
        assert.ok(r.out.includes('shut down'), `${r.mode}: the probe reached shutdown (${r.out} ${r.err})`);
        assert.equal(
          r.signal,
          null,
          `${r.mode}: the process was still alive 25 s after shutdown() resolved (the resource call's timer outlives its actor and the supervisor)`,
        );
        assert.equal(r.code, 0, `${r.mode}: exit code (${r.err})`);
      }
    });
  });

  describe('resources: release at shutdown', () => {
    k.needs('shutdown', 'every release runs after all actors stopped, in declaration order, each awaited, once', 30000, async () => {
      const log = [];
      let sup;
      const release = (name, ms) => async () => {
        const d = sup.getDiagnostics().value;
        log.push(`release ${name} start (active ${d.activeActors})`);
        await sleep(ms);
        log.push(`release ${name} end`);
      };
      sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          journal: { write: { handler: (s) => (log.push(s), true) }, release: release('journal', 40) },
          noRelease: { get: { handler: () => 1 } },
          cache: { get: { handler: () => 1 }, release: release('cache', 1) },
          db: { query: { handler: () => 1 }, release: release('db', 30) },
        },
      });
      const ev = record(sup);
      sup.on('exit', (e) => log.push(`exit ${e.id} ${e.reason}`));
      let a;
      let s;
      try {
        a = sup.spawn(CALLER);
        s = sup.spawn(STOPPING, { shutdown: 5000 }); // its onTerminate still writes to the journal
        assert.deepEqual(await use(a, 'journal', 'write', 'from a'), { ok: true });
        assert.equal(await s.call('hi', CALL), 'hi');
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(log, [
        'from a',
        'onTerminate shutdown',
        `exit ${s.id} shutdown`,
        `exit ${a.id} shutdown`,
        'release journal start (active 0)',
        'release journal end',
        'release cache start (active 0)',
        'release cache end',
        'release db start (active 0)',
        'release db end',
      ]);
      await sup.shutdown(); // idempotent: nothing runs twice
      assert.equal(log.length, 10);
      assert.deepEqual(ev.error, []);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a failing release is reported as an error event and the next ones still run', 30000, async () => {
      const ran = [];
      const sup = k.createSupervisor({
        warmWorkers: 1,
        resources: {
          first: { release: () => ran.push('first') },
          throws: {
            release: () => {
              ran.push('throws');
              throw new Error('socket already closed');
            },
          },
          rejects: {
            release: async () => {
              ran.push('rejects');
              await sleep(5);
              throw new Error('flush failed');
            },
          },
          throwsString: {
            release: () => {
              ran.push('throwsString');
              throw 'not an Error';
            },
          },
          last: {
            release: async () => {
              await sleep(5);
              ran.push('last');
            },
          },
        },
      });
      const ev = record(sup);
      try {
        const a = sup.spawn(CALLER);
        assert.equal(await a.call('hello', CALL), 'caller');
      } finally {
        await within(sup.shutdown(), 20000, 'shutdown with failing releases');
      }
      assert.deepEqual(ran, ['first', 'throws', 'rejects', 'throwsString', 'last']);
      assert.deepEqual(
        ev.error.map((e) => e.reason),
        [
          'resource throws: release failed: socket already closed',
          'resource rejects: release failed: flush failed',
          'resource throwsString: release failed: not an Error',
        ],
      );
      assert.equal(ev.error[0].error.message, 'socket already closed', 'the error itself is attached');
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('resources: bad configuration', () => {
    slowTest('each bad field throws TypeError/RangeError naming it, and leaves nothing behind', 60000, async () => {
      // In a child process: a leak found here must not disturb the other suites' leak checks.
      const r = await runChild(CONFIG_PROBE, { timeoutMs: 60000 });
      assert.equal(r.code, 0, r.stderr);
      const results = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .map((x) => [x.label, x]),
      );
      const INVALID = 'must be a Standard Schema validator or a JSON Schema object';
      const expected = {
        'resources is a number': ['TypeError', 'resources must be an object'],
        'resources is an array': ['TypeError', 'resources must be an object'],
        'a resource is null': ['TypeError', 'resources.db must be an object of methods'],
        'a resource is a function': ['TypeError', 'resources.db must be an object of methods'],
        'a method is a number': ['TypeError', 'resources.db.query must be { input, output, handler }'],
        'a method has no handler': ['TypeError', 'resources.db.query.handler must be a function'],
        'a handler is a string': ['TypeError', 'resources.db.query.handler must be a function'],
        'an input is a number': ['TypeError', `resources.db.query.input ${INVALID}`],
        'an input is an array': ['TypeError', `resources.db.query.input ${INVALID}`],
        'an input is null': ['TypeError', `resources.db.query.input ${INVALID}`],
        'an output is a string': ['TypeError', `resources.db.query.output ${INVALID}`],
        'an input is an invalid JSON Schema': ['TypeError', /^resources\.db\.query\.input: invalid JSON Schema \(schema is invalid: data\/type /],
        'an unknown method option': ['TypeError', 'resources.db.query: unknown option "retries" (expected input, output, handler, timeoutMs)'],
        'a negative timeoutMs': ['RangeError', 'resources.db.query.timeoutMs must be a positive finite number'],
        'a zero timeoutMs': ['RangeError', 'resources.db.query.timeoutMs must be a positive finite number'],
        'an infinite timeoutMs': ['RangeError', 'resources.db.query.timeoutMs must be a positive finite number'],
        'a string timeoutMs': [/^(TypeError|RangeError)$/, /^resources\.db\.query\.timeoutMs must be /],
        'release is not a function': ['TypeError', 'resources.db.release must be a function'],
        'the second resource is bad': ['TypeError', `resources.cache.get.output ${INVALID}`],
      };
      const leaks = [];
      for (const [label, [cls, message]] of Object.entries(expected)) {
        const got = results[label];
        assert.ok(got, `case "${label}" ran`);
        if (cls instanceof RegExp) assert.match(got.threw, cls, label);
        else assert.equal(got.threw, cls, label);
        if (message instanceof RegExp) assert.match(got.message, message, label);
        else assert.equal(got.message, message, label);
        if (JSON.stringify(got.stats) !== JSON.stringify(NO_LEAKS)) leaks.push(`${label}: ${JSON.stringify(got.stats)}`);
      }
      assert.equal(results['good config after bad ones'].answer, 42, 'the runtime keeps working');
      assert.deepEqual(leaks, [], 'a refused createSupervisor must leave no supervisor/port behind');
      assert.deepEqual(results.end.stats, NO_LEAKS);
    });
  });
});
