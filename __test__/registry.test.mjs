import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, collector, faults, NO_LEAKS, forEachKind } from './harness.mjs';
import { worker, timeline, quiet } from './supervision-helpers.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

const probe = new URL('./fixtures/link-probe.mjs', import.meta.url);

forEachKind((k) => {
  describe('registry', () => {
    slowTest('a spawn name follows the child across restarts (sup.whereis, ctx.whereis, ctx.send by name)', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const named = sup.spawn(worker, { name: 'svc' });
        const p = sup.spawn(probe);
        const got = collector();
        named.subscribe(got);
        assert.equal(sup.whereis('svc'), named);
        assert.deepEqual(await p.call({ op: 'whereis', name: 'svc' }), { ok: { id: named.id } });
        const before = await named.call('token');

        named.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(sup.whereis('svc'), named, 'the same ref after the restart');
        assert.equal(named.incarnation, 1);
        assert.deepEqual(await p.call({ op: 'whereis', name: 'svc' }), { ok: { id: named.id } });
        assert.equal(named.getDiagnostics().value.name, 'svc');

        assert.deepEqual(await p.call({ op: 'send', to: 'svc', body: { op: 'count', n: 1 } }), { ok: true });
        const after = await named.call('token');
        await waitFor(() => got.items.length === 1, 10000, 'counted');
        assert.notEqual(after, before);
        assert.deepEqual(got.items[0].data, { n: 1, token: after }, 'reached the new incarnation by name');
      });
    });

    slowTest('names are unique per supervisor: a duplicate spawn or ctx.register throws; two supervisors may share a name', 30000, async () => {
      const sup = k.createSupervisor({ warmWorkers: 0 });
      const other = k.createSupervisor({ warmWorkers: 0 });
      try {
        const first = sup.spawn(worker, { name: 'one' });
        const actorsBefore = runtimeStats().actors;
        await faults(() => sup.spawn(worker, { name: 'one' }), Error, /Name already registered: one/);
        assert.equal(runtimeStats().actors, actorsBefore, 'the refused spawn left nothing behind');
        assert.equal(sup.getDiagnostics().value.totalActorsSpawned, 1);
        assert.equal(sup.whereis('one'), first);

        const p = sup.spawn(probe);
        const q = sup.spawn(probe);
        assert.deepEqual(await p.call({ op: 'register', name: 'two' }), { ok: true });
        assert.equal(sup.whereis('two'), p, 'ctx.register makes the host-side ref findable');
        assert.equal(p.getDiagnostics().value.name, 'two');
        assert.deepEqual(await p.call({ op: 'register', name: 'two' }), { ok: true }, 'registering its own name again is harmless');
        const dupCtx = await q.call({ op: 'register', name: 'two' });
        assert.equal(dupCtx.error, 'Error');
        assert.match(dupCtx.message, /already registered/);
        const dupSpawnName = await q.call({ op: 'register', name: 'one' });
        assert.equal(dupSpawnName.error, 'Error');
        await faults(() => sup.spawn(worker, { name: 'two' }), Error, /Name already registered: two/);
        assert.equal(sup.whereis('two'), p);
        assert.equal(sup.whereis('one'), first);

        const elsewhere = other.spawn(worker, { name: 'one' });
        assert.equal(other.whereis('one'), elsewhere);
        assert.equal(sup.whereis('one'), first);
        assert.notEqual(elsewhere.id, first.id);
      } finally {
        await sup.shutdown();
        await other.shutdown();
      }
      assert.deepEqual(runtimeStats(), NO_LEAKS);
    });

    slowTest('a ctx.register name follows the child across restarts', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const p = sup.spawn(probe);
        assert.deepEqual(await p.call({ op: 'register', name: 'late' }), { ok: true });
        p.receive({ op: 'boom' });
        await waitFor(() => ev.restart.length === 1, 10000, 'restart');
        assert.equal(sup.whereis('late'), p);
        assert.deepEqual(await p.call({ op: 'register', name: 'late' }), { ok: true }, 'the new incarnation may register it again');
        assert.equal(sup.whereis('late'), p);
        const q = sup.spawn(probe);
        assert.deepEqual(await q.call({ op: 'whereis', name: 'late' }), { ok: { id: p.id } });
      });
    });

    slowTest('a name is freed when its child dies for good and can be reused', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const watcher = sup.spawn(probe);

        // terminated
        const a = sup.spawn(worker, { name: 'a' });
        await a.call('warm');
        await a.terminate();
        assert.equal(sup.whereis('a'), undefined);
        assert.deepEqual(await watcher.call({ op: 'whereis', name: 'a' }), { ok: null });
        const a2 = sup.spawn(worker, { name: 'a' });
        assert.equal(sup.whereis('a'), a2);
        assert.notEqual(a2.id, a.id);

        // normal exit of a transient child, name taken with ctx.register
        const b = sup.spawn(probe);
        assert.deepEqual(await b.call({ op: 'register', name: 'b' }), { ok: true });
        b.receive({ op: 'stop' });
        await waitFor(() => ev.exit.some((e) => e.id === b.id), 10000, 'b exits');
        assert.equal(sup.whereis('b'), undefined);
        assert.deepEqual(await watcher.call({ op: 'register', name: 'b' }), { ok: true }, 'another actor can take it');
        assert.equal(sup.whereis('b'), watcher);

        // a temporary child stopped through a link
        const c = sup.spawn(worker, { name: 'c', restart: 'temporary' });
        const killer = sup.spawn(worker);
        await Promise.all([c.call('warm'), killer.call('warm')]);
        c.link(killer);
        killer.receive('boom');
        await waitFor(() => ev.exit.some((e) => e.id === c.id), 10000, 'c exits');
        await waitFor(() => c.getDiagnostics().isErr, 10000, 'c is dead for good');
        assert.equal(sup.whereis('c'), undefined);
        const c2 = sup.spawn(worker, { name: 'c' });
        assert.equal(typeof (await c2.call('x')), 'string');
        assert.equal(sup.whereis('c'), c2);

        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
      });
    });
  });
});
