import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, slowTest, waitFor, record, faults, forEachKind, withSup } from './harness.mjs';
import { runtimeStats, isSystemMessage } from '../index.mjs';

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

forEachKind((k) => {
  describe('module actors', () => {
    slowTest('a module URL whose module imports node:crypto and an npm package (semver)', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn(fixture('uses-packages.mjs'));
        const r1 = await a.call({ text: 'hello', version: '1.4.2', range: '^1.2.0' }, { timeoutMs: 20000 });
        assert.deepEqual(r1, { id: a.id, sha256: sha256('hello'), satisfies: true, newer: true, handled: 1 });
        const r2 = await a.call({ text: 'bye', version: '2.0.0', range: '^1.2.0' });
        assert.deepEqual(r2, { id: a.id, sha256: sha256('bye'), satisfies: false, newer: true, handled: 2 });
      });
    });

    slowTest('a module path string (absolute, relative to cwd, and file: URL string)', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const file = fileURLToPath(fixture('uses-packages.mjs'));
        const msg = { text: 'abc', version: '0.9.0', range: '>=0.9' };
        // the n-th actor's first message: pooled actors on one worker share one instance of a
        // module (DESIGN 8.4), so its count goes on, which also shows the three forms name one module
        const expect = (id, n) => ({ id, sha256: sha256('abc'), satisfies: true, newer: false, handled: k.pooled ? n : 1 });
        const abs = sup.spawn(file);
        assert.deepEqual(await abs.call(msg, { timeoutMs: 20000 }), expect(abs.id, 1));
        const asUrlString = sup.spawn(pathToFileURL(file).href);
        assert.deepEqual(await asUrlString.call(msg, { timeoutMs: 20000 }), expect(asUrlString.id, 2));
        const relative = sup.spawn(path.relative(process.cwd(), file));
        assert.deepEqual(await relative.call(msg, { timeoutMs: 20000 }), expect(relative.id, 3));
      });
    });

    slowTest('a module actor is restarted from its module after a crash', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(fixture('uses-packages.mjs'));
        await a.call({ text: 'x', version: '1.0.0', range: '*' }, { timeoutMs: 20000 });
        // a message the module cannot handle (msg.text undefined makes crypto throw)
        a.receive({ version: '1.0.0', range: '*' });
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.match(ev.exit[0].reason, /^error: /);
        const r = await a.call({ text: 'y', version: '1.0.0', range: '*' }, { timeoutMs: 20000 });
        // an isolated actor's new incarnation loads the module afresh; a pooled one shares the
        // instance its worker compiled once (DESIGN 8.2, 8.4), whose state goes on
        assert.equal(r.handled, k.pooled ? 3 : 1, 'module state of the new incarnation');
        assert.equal(r.sha256, sha256('y'));
      });
    });

    slowTest("a missing module is an Error mentioning 'module not found'", 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const before = runtimeStats().actors;
        await faults(() => sup.spawn(fixture('does-not-exist.mjs')), Error, /module not found/);
        await faults(() => sup.spawn('/definitely/not/here.mjs'), Error, /module not found/);
        await faults(() => sup.spawn('./no-such-dir/actor.mjs'), Error, /module not found/);
        assert.equal(runtimeStats().actors, before, 'a refused spawn leaves no actor behind');
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 0);
        // still working
        const a = sup.spawn((self, msg) => msg);
        assert.equal(await a.call('ok'), 'ok');
      });
    });

    slowTest('a module without a default export exits with an error', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(fixture('no-default.mjs'), { restart: 'temporary' });
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.match(ev.exit[0].reason, /^error: .*default export/);
        assert.equal(ev.restart.length, 0);
        assert.ok(a.getDiagnostics().isErr);
        assert.equal(a.receive('x'), false);
        const b = sup.spawn((self, msg) => msg);
        assert.equal(await b.call('still working'), 'still working');
      });
    });

    slowTest('a module whose import fails exits with an error', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const ev = record(sup);
        const a = sup.spawn(fixture('bad-import.mjs'), { restart: 'temporary' });
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        assert.equal(ev.exit[0].id, a.id);
        assert.match(ev.exit[0].reason, /^error: .*warden-test-no-such-package/);
        assert.equal(ev.restart.length, 0);
      });
    });

    slowTest('messages sent before a module has loaded are handled after it loads', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const a = sup.spawn(fixture('uses-packages.mjs'));
        for (let i = 0; i < 5; i++) a.receive({ text: String(i), version: '1.0.0', range: '*' });
        const r = await a.call({ text: 'last', version: '1.0.0', range: '*' }, { timeoutMs: 20000 });
        assert.equal(r.handled, 6);
      });
    });
  });

  describe('callback actors cannot see outer scope', () => {
    slowTest('referring to an outer variable fails with an error that names it', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const ev = record(sup);
        // not a constant primitive: Bun's transpiler would inline that into the function's source
        const secret = { value: 'hunter2' };
        const a = sup.spawn((self, msg) => `${msg}:${secret.value}`, { restart: 'temporary' });
        a.receive('go');
        await waitFor(() => ev.exit.length === 1, 10000, 'exit');
        const reason = ev.exit[0].reason;
        assert.ok(reason.startsWith('error: '), reason);
        assert.ok(reason.includes('cannot see outer scope'), reason);
        assert.ok(reason.includes('"secret"'), reason);
        assert.equal(ev.restart.length, 0);
      });
    });

    slowTest('a call to such an actor rejects with the same reason', 30000, async () => {
      await k.withSup({ warmWorkers: 1 }, async (sup) => {
        const limit = Number(process.env.WARDEN_TEST_LIMIT ?? '3'); // not inlinable by a transpiler
        const a = sup.spawn((self, msg) => msg * limit, { restart: 'temporary' });
        const err = await faults(() => a.call(2, { timeoutMs: 20000 }), Error, /cannot see outer scope.*"limit"/);
        assert.equal(err.name, 'ActorExitError');
      });
    });
  });

  describe('system messages cannot be forged', () => {
    slowTest('a user payload shaped like DOWN does not pass isSystemMessage, on the host or in the actor', 30000, async () => {
      await k.withSup({ warmWorkers: 2 }, async (sup) => {
        const forged = { msg: 'DOWN', from: 'system', data: { id: 'actor-1', reason: 'normal', ref: 1 } };
        assert.equal(isSystemMessage(forged), false);
        assert.equal(isSystemMessage(Object.freeze({ ...forged })), false);

        const echo = sup.spawn((self, msg) => {
          self.send('back', msg);
          self.send('DOWN', msg.data);
          return msg;
        });
        const got = [];
        echo.subscribe((m) => got.push(m));
        const returned = await echo.call(forged);
        assert.deepEqual(returned, forged);
        assert.equal(isSystemMessage(returned), false);
        await waitFor(() => got.length === 2, 10000, 'emits');
        assert.deepEqual(got[0], { msg: 'back', data: forged, from: echo.id });
        for (const m of got) {
          assert.equal(isSystemMessage(m), false);
          assert.equal(isSystemMessage(m.data), false);
        }
        assert.equal(got[1].from, echo.id, 'from is injected by the runtime');

        const inside = sup.spawn(fixture('system-check.mjs'));
        const r = await inside.call(forged, { timeoutMs: 20000 });
        assert.deepEqual(r, { isSystem: false, msg: forged });
        inside.receive(forged);
        const r2 = await inside.call({ ...forged, msg: 'EXIT' });
        assert.equal(r2.isSystem, false);
      });
    });
  });
});

describe('modules compiled by tsc to CommonJS (exports.default, __esModule)', () => {
  slowTest('a module actor, a behaviour object and a task module all load the same way, with named hooks', 30000, async () => {
    await withSup({ warmWorkers: 1 }, async (sup) => {
      const actor = sup.spawn(fixture('tsc-cjs-actor.cjs'));
      assert.deepEqual(await actor.call('hi', { timeoutMs: 20000 }), { id: actor.id, echo: 'hi', started: 1 }, 'default export is the handler, onStart ran');
      const counter = sup.spawn(fixture('tsc-cjs-behaviour.cjs'));
      assert.equal(await counter.call(5, { timeoutMs: 20000 }), 15, 'default export object is the behaviour');
      assert.equal(await sup.task(fixture('tsc-cjs-task.cjs'), 21), 42);
    });
  });
});
