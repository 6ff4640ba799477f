import assert from 'node:assert/strict';
import { describe, test, slowTest, waitFor, collector, record, faults, TypeOrRangeError, NO_LEAKS, forEachKind } from './harness.mjs';
import { createSupervisor, runtimeStats, parseSize, matchAll, Ok, Err, isSystemMessage } from '../index.mjs';

/** Creates a supervisor that must be valid, and shuts it down at once. */
async function accepted(config) {
  const sup = createSupervisor(config);
  await sup.shutdown();
}

/** After faults, the supervisor must still spawn and answer. */
async function stillWorks(sup) {
  const probe = sup.spawn((self, msg) => ({ pong: msg }));
  assert.deepEqual(await probe.call('ping', { timeoutMs: 20000 }), { pong: 'ping' });
  await probe.terminate();
}

forEachKind((k) => {
  describe('createSupervisor validation', () => {
    test('maxActors: wrong types and values throw naming the field', async () => {
      for (const bad of [-1, 0, 1.5, NaN, Infinity, -Infinity]) {
        await faults(() => k.createSupervisor({ maxActors: bad }), TypeOrRangeError, /maxActors/, `maxActors ${bad}`);
      }
      await faults(() => k.createSupervisor({ maxActors: -1 }), RangeError, /maxActors/);
      await faults(() => k.createSupervisor({ maxActors: 1.5 }), RangeError, /maxActors/);
      await faults(() => k.createSupervisor({ maxActors: Infinity }), RangeError, /maxActors/);
      for (const bad of ['x', '10', null, true, {}, []]) {
        await faults(() => k.createSupervisor({ maxActors: bad }), TypeError, /maxActors/, `maxActors ${JSON.stringify(bad)}`);
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS, 'a refused config creates nothing');
    });

    test('strategy, unknown keys, nested objects', async () => {
      await faults(() => k.createSupervisor({ strategy: 'bogus' }), RangeError, /strategy.*bogus/);
      await faults(() => k.createSupervisor({ strategy: 1 }), TypeError, /strategy/);
      await faults(() => k.createSupervisor({ maxActorz: 3 }), TypeError, /maxActorz/);
      await faults(() => k.createSupervisor(null), TypeError, /config/);
      await faults(() => k.createSupervisor('x'), TypeError, /config/);
      await faults(() => k.createSupervisor({ memory: 5 }), TypeError, /memory/);
      await faults(() => k.createSupervisor({ memory: { boxsize: '1mb' } }), TypeError, /boxsize/);
      await faults(() => k.createSupervisor({ retry: { max: -1 } }), RangeError, /retry\.max/);
      await faults(() => k.createSupervisor({ retry: { backoff: 'random' } }), RangeError, /retry\.backoff/);
      await faults(() => k.createSupervisor({ retry: { jitter: 2 } }), RangeError, /retry\.jitter/);
      await faults(() => k.createSupervisor({ retry: { withinMs: NaN } }), TypeOrRangeError, /retry\.withinMs/);
      await faults(() => k.createSupervisor({ timeouts: { defaultLeaseMs: -5 } }), RangeError, /defaultLeaseMs/);
      await faults(
        () => k.createSupervisor({ timeouts: { actorTimeouts: { parser: 0 } } }),
        RangeError,
        /actorTimeouts\.parser/,
      );
      await faults(() => k.createSupervisor({ diagnostics: { enabled: 'yes' } }), TypeError, /diagnostics\.enabled/);
      await faults(() => k.createSupervisor({ diagnostics: { sampleRate: 2 } }), RangeError, /diagnostics\.sampleRate/);
      await faults(() => k.createSupervisor({ diagnostics: { sampleRate: -0.5 } }), RangeError, /diagnostics\.sampleRate/);
      await faults(() => k.createSupervisor({ diagnostics: { sampleRate: NaN } }), TypeOrRangeError, /diagnostics\.sampleRate/);
      await faults(() => k.createSupervisor({ diagnostics: { track: { queueDepth: true } } }), TypeOrRangeError, /diagnostics\.track/);
      await faults(() => k.createSupervisor({ diagnostics: { track: { inboxDepth: 1 } } }), TypeError, /diagnostics\.track\.inboxDepth/);
      await faults(() => k.createSupervisor({ diagnostics: { track: 'all' } }), TypeError, /diagnostics\.track/);
      await faults(() => k.createSupervisor({ warmWorkers: -1 }), RangeError, /warmWorkers/);
      await faults(() => k.createSupervisor({ warmWorkers: 1.5 }), RangeError, /warmWorkers/);
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    test('memory.boxSize: units parse, bad sizes throw naming the field', async () => {
      assert.equal(parseSize('1mb'), 1024 * 1024);
      assert.equal(parseSize('1MB'), 1024 * 1024);
      assert.equal(parseSize('1MiB'), 1024 * 1024);
      assert.equal(parseSize('2kb'), 2048);
      assert.equal(parseSize('1.5kb'), 1536);
      assert.equal(parseSize('1gib'), 1024 ** 3);
      assert.equal(parseSize('100b'), 100);
      assert.equal(parseSize('100'), 100);
      assert.equal(parseSize(4096), 4096);
      assert.equal(parseSize(10.9), 10);
      await accepted({ memory: { boxSize: '1mb' } });
      await accepted({ memory: { poolSize: 4, boxSize: '64KiB' } });
      await accepted({ memory: { boxSize: 1024 } });
      for (const bad of ['abc', '1xb', '-1mb', '', 'mb', '0', '0.1b']) {
        await faults(
          () => k.createSupervisor({ memory: { boxSize: bad } }),
          RangeError,
          /memory\.boxSize/,
          `boxSize ${JSON.stringify(bad)}`,
        );
      }
      for (const bad of [0, -1, NaN, Infinity]) {
        await faults(() => k.createSupervisor({ memory: { boxSize: bad } }), TypeOrRangeError, /memory\.boxSize/, `boxSize ${bad}`);
      }
      for (const bad of [{}, null, true]) {
        await faults(() => k.createSupervisor({ memory: { boxSize: bad } }), TypeError, /memory\.boxSize/, `boxSize ${bad}`);
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('bad input to a live supervisor', () => {
    slowTest('ctx.send and ctx.call to null or undefined, as the first target an actor names, throw naming the target', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const events = [];
        sup.on('deadLetter', (d) => events.push(d));
        for (const target of ['null', 'undefined']) {
          const a = sup.spawn(new Function('self', 'msg', 'ctx', `
            const out = [];
            for (const op of ['send', 'call']) {
              try { const r = ctx[op](${target}, 'x'); out.push(op + ' returned ' + typeof r); if (r?.catch) r.catch(() => {}); }
              catch (err) { out.push(op + ' ' + err.name + ': ' + err.message); }
            }
            return out;
          `));
          const out = await a.call('go');
          assert.match(out[0], /^send TypeError: ctx\.send: target/, `${target}: ${out[0]}`);
          assert.match(out[1], /^call TypeError: ctx\.call: target/, `${target}: ${out[1]}`);
        }
        assert.deepEqual(events, [], 'nothing was sent anywhere');
      });
    });

    slowTest('spawn: non-functions and bad options throw naming the parameter', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const before = runtimeStats().actors;
        for (const bad of [42, null, undefined, {}, [], true, '']) {
          await faults(() => sup.spawn(bad), TypeError, /spawn: actor/, `spawn(${JSON.stringify(bad)})`);
        }
        await faults(() => sup.spawn(Math.max), TypeError, /spawn: actor/);
        await faults(() => sup.spawn(new URL('https://example.com/actor.mjs')), TypeError, /spawn: actor/);
        const fn = (self, msg) => msg;
        await faults(() => sup.spawn(fn, 'opts'), TypeError, /options/);
        await faults(() => sup.spawn(fn, { timeoutMs: -1 }), RangeError, /timeoutMs/);
        await faults(() => sup.spawn(fn, { timeoutMs: 0 }), RangeError, /timeoutMs/);
        await faults(() => sup.spawn(fn, { timeoutMs: NaN }), TypeOrRangeError, /timeoutMs/);
        await faults(() => sup.spawn(fn, { timeoutMs: Infinity }), RangeError, /timeoutMs/);
        await faults(() => sup.spawn(fn, { timeoutMs: '100' }), TypeError, /timeoutMs/);
        await faults(() => sup.spawn(fn, { name: '' }), TypeError, /name/);
        await faults(() => sup.spawn(fn, { name: 7 }), TypeError, /name/);
        await faults(() => sup.spawn(fn, { restart: 'x' }), RangeError, /restart/);
        await faults(() => sup.spawn(fn, { restrat: 'temporary' }), TypeError, /restrat/);
        await faults(() => sup.spawn(fn, { mailbox: { capacity: 0 } }), RangeError, /mailbox\.capacity/);
        await faults(() => sup.spawn(fn, { mailbox: { overflow: 'drop-newest' } }), RangeError, /mailbox\.overflow/);
        assert.equal(runtimeStats().actors, before, 'refused spawns leave no actors behind');
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);

        // a duplicate name is refused, the first holder keeps it
        const first = sup.spawn(fn, { name: 'dup' });
        await faults(() => sup.spawn(fn, { name: 'dup' }), Error, /dup/);
        assert.equal(sup.whereis('dup'), first);
        assert.equal(runtimeStats().actors, before + 1);
        await stillWorks(sup);
      });
    });

    slowTest('ctx.spawn: bad options reject with a TypeError or RangeError naming the option, as sup.spawn throws', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const parent = sup.spawn(async (self, msg, ctx) => {
          const out = [];
          for (const options of [{ name: 5 }, { timeoutMs: -1 }, { restart: 'sometimes' }, { bogus: 1 }]) {
            try {
              await ctx.spawn((s, m) => m, { ...options, kind: msg }); // a child of the suite's kind
              out.push('spawned');
            } catch (err) {
              out.push([err.constructor.name, err.message]);
            }
          }
          return out;
        });
        const out = await parent.call(k.kind, { timeoutMs: 20000 });
        const expected = [
          ['TypeError', /^options\.name /],
          ['RangeError', /^options\.timeoutMs /],
          ['RangeError', /^options\.restart .*sometimes/],
          ['TypeError', /^options: unknown option "bogus"/],
        ];
        assert.equal(out.length, expected.length);
        for (const [i, [cls, re]] of expected.entries()) {
          assert.ok(Array.isArray(out[i]) && out[i][0] === cls && re.test(out[i][1]), `case ${i}: expected ${cls} matching ${re}, got ${JSON.stringify(out[i])}`);
        }
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 1, 'only the parent');
        await stillWorks(sup);
      });
    });

    slowTest("receive: values JSON cannot carry throw a TypeError naming 'receive: msg', and nothing is sent", 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn((self, msg) => {
          self.send('got', msg);
        });
        const got = collector();
        a.subscribe(got);
        const cycle = { name: 'loop' };
        cycle.self = cycle;
        const bads = [
          ['a function', () => 1],
          ['a symbol', Symbol('s')],
          ['a BigInt', 10n],
          ['a cycle', cycle],
          ['a Map', new Map([[1, 2]])],
          ['a Set', new Set([1])],
          ['a nested function', { ok: 1, nested: { fn() {} } }],
          ['a nested BigInt', [1, 2, 3n]],
          ['a nested symbol', { s: Symbol('x') }],
          ['a typed array', { bytes: new Uint8Array(4) }],
          ['a Date (JSON would turn it into a string)', { at: new Date(0) }],
          ['an Error (JSON would keep none of its fields)', [new RangeError('x')]],
        ];
        for (const [label, bad] of bads) {
          await faults(() => a.receive(bad), TypeError, /receive: msg/, `receive(${label})`);
        }
        await faults(() => a.receive(1, null), TypeError, /receive: options/);
        await faults(() => a.receive(1, { incarnation: -1 }), RangeError, /incarnation/);
        await faults(() => a.receive(1, { incarnation: 0.5 }), RangeError, /incarnation/);
        assert.equal(ev.deadLetter.length, 0);
        assert.equal(a.receive({ fine: [1, 'two', null, { three: true }] }), true);
        await waitFor(() => got.items.length === 1, 10000, 'the valid message');
        assert.deepEqual(got.items[0].data, { fine: [1, 'two', null, { three: true }] });
        assert.equal(a.getDiagnostics().value.messageCount, 1, 'none of the refused messages was delivered');
        await stillWorks(sup);
      });
    });

    slowTest('call: bad timeoutMs, bad options and bad messages are refused naming the parameter', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn((self, msg) => msg);
        for (const bad of [-1, 0, NaN, Infinity, -Infinity]) {
          await faults(() => a.call('x', { timeoutMs: bad }), TypeOrRangeError, /call: options\.timeoutMs/, `timeoutMs ${bad}`);
        }
        for (const bad of ['100', null, true]) {
          await faults(() => a.call('x', { timeoutMs: bad }), TypeError, /call: options\.timeoutMs/, `timeoutMs ${bad}`);
        }
        await faults(() => a.call('x', null), TypeError, /call: options/);
        await faults(() => a.call('x', 100), TypeError, /call: options/);
        await faults(() => a.call(() => 1), TypeError, /call: msg/);
        await faults(() => a.call({ n: 1n }), TypeError, /call: msg/);
        assert.equal(a.getDiagnostics().value.messageCount, 0);
        assert.equal(await a.call('fine'), 'fine');
        await stillWorks(sup);
      });
    });

    slowTest('subscribe, on, whereis and terminate refuse bad arguments', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn((self, msg) => msg);
        for (const bad of [undefined, null, 5, 'fn', {}]) {
          await faults(() => a.subscribe(bad), TypeError, /subscribe/, `ref.subscribe(${bad})`);
          await faults(() => sup.subscribe(bad), TypeError, /subscribe/, `sup.subscribe(${bad})`);
        }
        await faults(() => sup.on('bogus', () => {}), RangeError, /bogus/);
        await faults(() => sup.on('Exit', () => {}), RangeError, /Exit/);
        await faults(() => sup.on('exit', 'not a function'), TypeError, /on: fn/);
        await faults(() => sup.whereis(5), TypeError, /whereis/);
        assert.equal(sup.whereis('nobody'), undefined);
        await faults(() => a.terminate(5), TypeError, /terminate: reason/);
        await faults(() => sup.terminateActor(42), TypeError, /terminateActor: id/);
        await faults(() => sup.terminateActor(null), TypeError, /terminateActor: id/);
        await faults(() => sup.terminateActor(a.id, 5), TypeError, /terminateActor: reason/);
        await faults(() => sup.terminateActor('nobody-by-that-name'), RangeError, /terminateActor: id/);
        assert.equal(await a.call('alive'), 'alive');
        await stillWorks(sup);
      });
    });

    slowTest('terminateActor of an unknown actor id is a RangeError, not a silent no-op', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn((self, msg) => msg);
        await faults(() => sup.terminateActor('actor-999999'), RangeError, /actor-999999/);
        assert.equal(await a.call('alive'), 'alive');
        await stillWorks(sup);
      });
    });

    slowTest('after shutdown: spawn throws, receive returns false, call rejects, shutdown resolves again', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 1 });
      let a;
      try {
        a = sup.spawn((self, msg) => msg);
        assert.equal(await a.call(1), 1);
      } finally {
        await sup.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
      await faults(() => sup.spawn((self, msg) => msg), Error, /shut down/);
      await faults(() => sup.spawn(new URL('./fixtures/uses-packages.mjs', import.meta.url)), Error, /shut down/);
      assert.equal(a.receive('late'), false);
      await faults(() => a.call('late', { timeoutMs: 20000 }), Error, /noproc|shut ?down/);
      await sup.shutdown();
      await a.terminate();
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });
  });

  describe('exported helpers', () => {
    test('matchAll dispatches on msg, falls back to _, ignores inherited keys', () => {
      const handlers = { ping: (m) => `pong:${m.data}`, _: (m) => `other:${m?.msg}` };
      assert.equal(matchAll({ msg: 'ping', data: 1 }, handlers), 'pong:1');
      assert.equal(matchAll({ msg: 'pong' }, handlers), 'other:pong');
      assert.equal(matchAll({ msg: 'toString' }, handlers), 'other:toString');
      assert.equal(matchAll({ msg: '__proto__' }, handlers), 'other:__proto__');
      assert.equal(matchAll('not an object', handlers), 'other:undefined');
      assert.equal(matchAll({ msg: 'nope' }, { ping: () => 1 }), undefined);
      assert.throws(() => matchAll({ msg: 'x' }, null), TypeError);
      assert.throws(() => matchAll({ msg: 'x' }, { x: 'not a function' }), TypeError);
    });

    test('Ok and Err have the Result shape and are frozen', () => {
      const ok = Ok(42);
      assert.deepEqual({ ...ok }, { isOk: true, isErr: false, value: 42, error: undefined });
      assert.ok(Object.isFrozen(ok));
      const err = Err('bad');
      assert.deepEqual({ ...err }, { isOk: false, isErr: true, value: undefined, error: 'bad' });
      assert.ok(Object.isFrozen(err));
    });

    test('isSystemMessage is false for anything a user can build', () => {
      for (const v of [
        null,
        undefined,
        'DOWN',
        { msg: 'DOWN', from: 'system' },
        Object.freeze({ msg: 'EXIT', from: 'system', data: { id: 'actor-1', reason: 'x' } }),
        { msg: 'INBOX', from: 'system', [Symbol.for('warden.system')]: true },
        { msg: 'DOWN', from: 'system', [Symbol('warden.system')]: true },
      ]) {
        assert.equal(isSystemMessage(v), false, JSON.stringify(v));
      }
    });
  });

  describe('values JSON would change', () => {
    test('NaN and Infinity are refused with a TypeError naming the parameter, at any depth', async () => {
      const sup = k.createSupervisor({ warmWorkers: 0 });
      try {
        const a = sup.spawn((self, msg) => msg);
        for (const bad of [NaN, Infinity, -Infinity, { x: NaN }, [1, Infinity]]) {
          assert.throws(() => a.receive(bad), (e) => e instanceof TypeError && /receive: msg/.test(e.message));
          assert.throws(() => a.call(bad), (e) => e instanceof TypeError && /call: msg/.test(e.message));
        }
        assert.equal(await a.call({ x: 1.5 }).then((v) => v.x), 1.5);
      } finally {
        await sup.shutdown();
      }
    });
  });

  describe('a pool the machine cannot map', () => {
    test('is a RangeError naming memory, and leaves nothing native behind', async () => {
      const before = runtimeStats();
      await faults(() => k.createSupervisor({ memory: { poolSize: 1000000, boxSize: '1gb' } }), RangeError, /memory/);
      assert.deepEqual(runtimeStats(), before);
    });
  });
});
