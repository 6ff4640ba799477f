// execArgv and env for the threads actors and tasks run on (spawn options; `tasks` config), and
// TypeScript modules: Bun runs them as they are, Node 20 needs a loader passed with execArgv and
// otherwise fails with a hint saying so.
import assert from 'node:assert/strict';
import { describe, slowTest, slowTestUnless, waitFor, withSup, runtime } from './harness.mjs';
import { createRequire } from 'node:module';
import { createSupervisor, runtimeStats } from '../index.mjs';

const require = createRequire(import.meta.url);
const { ThreadPool } = require('../lib/host/threads.js');
const { threadSetup } = require('../lib/host/thread-setup.js');

const T = 60000;
const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);
const LOADER = ['--import', fixture('ts-loader.mjs').href];
const isBun = runtime === 'bun';
const nodeRunsTs = !isBun && Boolean(process.features?.typescript);
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));

/** What a thread sees of its environment and flags. */
const probe = () => ({
  var: process.env.WARDEN_TEST_VAR ?? null,
  hasPath: typeof process.env.PATH === 'string',
  noDeprecation: process.noDeprecation === true,
  execArgv: process.execArgv,
});

describe('execArgv and env for actor threads', () => {
  slowTest('env is added to a copy of the host environment; execArgv reaches the thread', T, async () => {
    await withSup({ warmWorkers: 1 }, async (sup) => {
      const a = sup.spawn(probe, { env: { WARDEN_TEST_VAR: 'a' }, execArgv: ['--no-deprecation'] });
      const got = await a.call(null);
      assert.equal(got.var, 'a');
      assert.equal(got.hasPath, true, 'the host variables are still there');
      assert.deepEqual(got.execArgv, ['--no-deprecation']);
      // Node applies the flag in the thread; Bun accepts execArgv and ignores it
      assert.equal(got.noDeprecation, !isBun);
      const plain = await sup.spawn(probe).call(null);
      assert.equal(plain.var, null, 'an actor without env does not see it');
      assert.equal(plain.noDeprecation, false);
      assert.equal(process.env.WARDEN_TEST_VAR, undefined, 'the host environment is unchanged');
    });
  });

  slowTest('a restarted actor keeps its env; its thread is never handed to another actor', T, async () => {
    await withSup({ warmWorkers: 2 }, async (sup) => {
      const handler = (self, msg) => {
        if (msg === 'crash') throw new Error('boom');
        return process.env.WARDEN_TEST_VAR ?? null;
      };
      // permanent: restarted at once (on its own scrubbed thread)
      const kept = sup.spawn(handler, { env: { WARDEN_TEST_VAR: 'kept' }, restart: 'permanent' });
      assert.equal(await kept.call('who'), 'kept');
      kept.receive('crash');
      await waitFor(() => kept.incarnation === 1, 10000, 'the restart');
      assert.equal(await kept.call('who'), 'kept', 'the next incarnation has the same env');
      // temporary: not restarted; a healthy default thread would go back to the warm pool
      const gone = sup.spawn(handler, { env: { WARDEN_TEST_VAR: 'secret' }, restart: 'temporary' });
      assert.equal(await gone.call('who'), 'secret');
      const exits = [];
      sup.on('exit', (e) => exits.push(e));
      gone.receive('crash');
      await waitFor(() => exits.some((e) => e.id === gone.id), 10000, 'its exit');
      for (let i = 0; i < 4; i++) {
        assert.equal(await sup.spawn(handler).call('who'), null, `spawn ${i} after it did not get its thread`);
      }
    });
  });

  slowTest('the warm pool never takes back a thread made with its own env or flags (it gives out only default threads)', T, async () => {
    const pool = new ThreadPool(1);
    const made = new Set();
    const take = (setup) => {
      const t = pool.acquire(undefined, setup);
      made.add(t);
      return t;
    };
    try {
      const setup = threadSetup(['--no-deprecation'], { WARDEN_TEST_VAR: 'x' }, 'options');
      const plain = take(); // the pool is below its size until its refill runs
      const own = take(setup);
      assert.notEqual(own, plain);
      assert.equal(own.dedicated, true);
      assert.equal(plain.dedicated, false);
      pool.adopt(own); // e.g. its actor threw and was not restarted
      assert.notEqual(take(), own, 'a default acquire must not get the dedicated thread');
      assert.equal(pool.retiring.has(own), true, 'it is being stopped');
      pool.adopt(plain); // a default thread is taken back
      assert.equal(take(), plain);
    } finally {
      await Promise.all([...[...made].map((t) => t.kill()), pool.close()]);
    }
    assert.deepEqual(runtimeStats(), { threads: 0, ports: 0, actors: 0 });
  });

  slowTest('task threads get the tasks config execArgv and env', T, async () => {
    await withSup({ tasks: { env: { WARDEN_TEST_VAR: 't' }, execArgv: ['--no-deprecation'] } }, async (sup) => {
      const got = await sup.task(probe, null);
      assert.equal(got.var, 't');
      assert.equal(got.hasPath, true);
      assert.deepEqual(got.execArgv, ['--no-deprecation']);
      assert.equal(got.noDeprecation, !isBun);
      assert.equal((await sup.spawn(probe).call(null)).var, null, 'actors do not get the tasks env');
    });
  });

  slowTest('bad execArgv and env: a TypeError naming the option; pooled actors refuse both', T, async () => {
    await withSup({}, async (sup) => {
      const cases = [
        [{ execArgv: '--no-deprecation' }, /options\.execArgv must be an array of non-empty strings/],
        [{ execArgv: [1] }, /options\.execArgv must be an array/],
        [{ execArgv: [''] }, /options\.execArgv must be an array/],
        [{ env: 'A=1' }, /options\.env must be an object of strings/],
        [{ env: null }, /options\.env must be an object of strings/],
        [{ env: ['A'] }, /options\.env must be an object of strings/],
        [{ env: { A: 1 } }, /options\.env\.A must be a string/],
        [{ kind: 'pooled', env: {} }, /options\.env cannot apply to a pooled actor/],
        [{ kind: 'pooled', execArgv: [] }, /options\.execArgv cannot apply to a pooled actor/],
      ];
      for (const [o, re] of cases) assert.throws(() => sup.spawn(() => 1, o), (e) => e instanceof TypeError && re.test(e.message), JSON.stringify(o));
      assert.throws(() => createSupervisor({ tasks: { execArgv: 'x' } }), (e) => e instanceof TypeError && /tasks\.execArgv must be an array/.test(e.message));
      assert.throws(() => createSupervisor({ tasks: { env: { A: true } } }), (e) => e instanceof TypeError && /tasks\.env\.A must be a string/.test(e.message));
      assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
    });
  });

  slowTestUnless(isBun, 'Bun accepts any execArgv', 'flags Node refuses in a worker are refused at spawn with a RangeError naming execArgv', T, async () => {
    await withSup({}, async (sup) => {
      assert.throws(
        () => sup.spawn(() => 1, { execArgv: ['--max-old-space-size=64'] }),
        (e) => e instanceof RangeError && /options\.execArgv: .*--max-old-space-size=64.*use resourceLimits/.test(e.message),
      );
      assert.throws(() => sup.spawn(() => 1, { execArgv: ['--no-such-flag'] }), (e) => e instanceof RangeError && /options\.execArgv:.*--no-such-flag/.test(e.message));
      assert.throws(() => createSupervisor({ tasks: { execArgv: ['--no-such-flag'] } }), (e) => e instanceof RangeError && /tasks\.execArgv:/.test(e.message));
      assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0, 'nothing was half-spawned');
    });
  });
});

describe('TypeScript modules', () => {
  slowTestUnless(!isBun, 'Node needs a loader (tested below)', 'Bun runs .ts and .mts module actors and tasks as they are', T, async () => {
    await withSup({}, async (sup) => {
      for (const f of ['ts-actor.ts', 'ts-actor.mts']) {
        assert.deepEqual(await sup.spawn(fixture(f)).call({ n: 21 }), { doubled: 42, preloaded: false }, f);
      }
      const seen = [];
      assert.equal(await sup.task(fixture('ts-progress.mts'), 2, { onProgress: (v) => seen.push(v) }), 2);
      assert.deepEqual(seen, [{ step: 1, of: 2 }, { step: 2, of: 2 }]);
    });
  });

  slowTestUnless(isBun || nodeRunsTs, 'this runtime loads TypeScript', 'Node without a loader: a TypeScript actor or task fails with a hint naming execArgv', T, async () => {
    await withSup({}, async (sup) => {
      const exits = [];
      sup.on('exit', (e) => exits.push(e));
      sup.on('error', () => {}); // (the load failure is also an error event; the exit says it)
      const hint = /^error: Node \d+ cannot load TypeScript \(.*ts-actor\.mts\): pass execArgv: \['--import', '<loader>'\].* or compile it first/;
      const a = sup.spawn(fixture('ts-actor.mts'), { restart: 'temporary' });
      const r = await settle(a.call({ n: 1 }));
      assert.equal(r.error?.name, 'ActorExitError');
      await waitFor(() => exits.length === 1, 10000, 'the exit');
      assert.match(exits[0].reason, hint);
      const t = await settle(sup.task(fixture('ts-progress.mts'), 1));
      assert.match(t.error.message, /^Node \d+ cannot load TypeScript \(.*ts-progress\.mts\): pass execArgv/);
      assert.equal(t.error.code, 'ERR_UNKNOWN_FILE_EXTENSION', 'the original code is kept');
      assert.equal(await sup.task(() => 'js still works'), 'js still works');
    });
  });

  slowTestUnless(isBun, 'Bun loads TypeScript itself', 'Node with a loader passed in execArgv runs TypeScript module actors and tasks', T, async () => {
    await withSup({ tasks: { execArgv: LOADER } }, async (sup) => {
      for (const f of ['ts-actor.ts', 'ts-actor.mts']) {
        assert.deepEqual(await sup.spawn(fixture(f), { execArgv: LOADER }).call({ n: 21 }), { doubled: 42, preloaded: true }, f);
      }
      const seen = [];
      assert.equal(await sup.task(fixture('ts-progress.mts'), 2, { onProgress: (v) => seen.push(v) }), 2);
      assert.deepEqual(seen, [{ step: 1, of: 2 }, { step: 2, of: 2 }]);
    });
  });
});
