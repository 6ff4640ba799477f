import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, collector, faults, forEachKind } from './harness.mjs';
import { worker, timeline, exits, restarts, quiet, snapshot, untouched } from './supervision-helpers.mjs';
import { isSystemMessage } from '../index.mjs';

const probe = new URL('./fixtures/link-probe.mjs', import.meta.url);

/** Emits of `ref` named `name` (collects from now on). */
function emitted(ref, name) {
  const got = collector();
  ref.subscribe((m) => {
    if (m.msg === name) got(m);
  });
  return got.items;
}

forEachKind((k) => {
  describe('links', () => {
    slowTest('an abnormal exit stops the linked actor with "linked: <reason>"; both are restarted', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const refs = [sup.spawn(worker), sup.spawn(worker), sup.spawn(worker)];
        const [a, b, bystander] = refs;
        await Promise.all(refs.map((r) => r.call('warm')));
        assert.equal(a.link(b), undefined);

        a.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'both restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [b.id, 'linked: error: boom'],
        ]);
        assert.equal(ev.exit[1].message, undefined, 'b was idle');
        assert.deepEqual(restarts(ev).sort(), [
          [a.id, 1],
          [b.id, 1],
        ].sort());
        assert.deepEqual(snapshot(sup, refs), { incarnations: [1, 1, 0], restarts: 2, activeActors: 3, threads: 3 });
        assert.equal(typeof (await bystander.call('x')), 'string');
      });
    });

    slowTest('ctx.link by registered name and by id, from inside an actor', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const p = sup.spawn(probe);
        const bee = sup.spawn(worker, { name: 'bee' });
        const cee = sup.spawn(worker);
        assert.deepEqual(await p.call({ op: 'link', to: 'bee' }), { ok: true });
        assert.deepEqual(await p.call({ op: 'link', to: cee.id }), { ok: true });

        bee.receive('boom');
        await waitFor(() => ev.exit.length === 3, 10000, 'bee, p and cee exit');
        await waitFor(() => ev.restart.length === 3, 10000, 'three restarts');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [bee.id, 'error: boom'],
          [p.id, 'linked: error: boom'],
          [cee.id, 'linked: linked: error: boom'],
        ]);
        assert.deepEqual([p.incarnation, bee.incarnation, cee.incarnation], [1, 1, 1]);
      });
    });

    slowTest("'terminated' and a custom terminate reason propagate; 'normal' does not", 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const c = sup.spawn(worker);
        const d = sup.spawn(worker);
        const e = sup.spawn(worker);
        const f = sup.spawn(worker);
        await Promise.all([a, b, c, d, e, f].map((r) => r.call('warm')));
        a.link(b);
        c.link(d);
        e.link(f);

        await a.terminate();
        await waitFor(() => ev.restart.length === 1, 10000, 'b restarted');
        assert.deepEqual(exits(ev), [
          [a.id, 'terminated'],
          [b.id, 'linked: terminated'],
        ]);
        assert.deepEqual(restarts(ev), [[b.id, 1]], 'a linked exit is abnormal: transient b restarts; a does not');

        c.receive('stop'); // normal exit
        await waitFor(() => ev.exit.length === 3, 10000, 'c exits');
        await e.terminate('bye');
        await waitFor(() => ev.restart.length === 2, 10000, 'f restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev).slice(2), [
          [c.id, 'normal'],
          [e.id, 'bye'],
          [f.id, 'linked: bye'],
        ]);
        assert.equal(d.incarnation, 0, 'a normal exit does not propagate');
        assert.equal(typeof (await d.call('alive')), 'string');
        assert.deepEqual(
          [a, b, c, d, e, f].map((r) => r.getDiagnostics().isOk),
          [false, true, false, true, false, true],
        );
      });
    });

    slowTest("'shutdown' propagates: group.terminateAll() and a sibling stopped by one-for-all", 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const g = sup.createGroup({ strategy: 'one-for-one' });
        const inG = g.spawn(worker);
        const x = sup.spawn(worker);
        const h = sup.createGroup({ strategy: 'one-for-all', retry: { max: 10, withinMs: 60000 } });
        const h1 = h.spawn(worker);
        const h2 = h.spawn(worker);
        const y = sup.spawn(worker);
        await Promise.all([inG, x, h1, h2, y].map((r) => r.call('warm')));
        inG.link(x);
        h2.link(y);

        await g.terminateAll();
        await waitFor(() => ev.restart.length === 1, 10000, 'x restarted');
        assert.deepEqual(exits(ev), [
          [inG.id, 'shutdown'],
          [x.id, 'linked: shutdown'],
        ]);
        assert.ok(inG.getDiagnostics().isErr, 'terminateAll is final');
        assert.equal(x.incarnation, 1);

        h1.receive('boom');
        await waitFor(() => ev.restart.length === 4, 10000, 'h1, h2 and y restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev).slice(2), [
          [h1.id, 'error: boom'],
          [h2.id, 'shutdown'],
          [y.id, 'linked: shutdown'],
        ]);
        assert.deepEqual([h1.incarnation, h2.incarnation, y.incarnation], [1, 1, 1]);
      });
    });

    slowTest('a chain of links: each hop prefixes "linked: "; a temporary hop is not restarted', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker, { restart: 'permanent' });
        const c = sup.spawn(worker, { restart: 'temporary' });
        await Promise.all([a, b, c].map((r) => r.call('warm')));
        a.link(b);
        b.link(c);
        a.receive('boom');
        await waitFor(() => ev.exit.length === 3 && ev.restart.length === 2, 10000, 'the cascade');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [b.id, 'linked: error: boom'],
          [c.id, 'linked: linked: error: boom'],
        ]);
        assert.deepEqual(ev.restart.map((r) => r.id).sort(), [a.id, b.id].sort());
        assert.ok(c.getDiagnostics().isErr);
        assert.equal(sup.getDiagnostics().value.activeActors, 2);
      });
    });

    slowTest('unlink (host and ctx) removes the link', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const p = sup.spawn(probe);
        const q = sup.spawn(worker, { name: 'q' });
        await Promise.all([a, b, p, q].map((r) => r.call('warm')));
        a.link(b);
        b.unlink(a); // either side can unlink
        assert.deepEqual(await p.call({ op: 'link', to: 'q' }), { ok: true });
        assert.deepEqual(await p.call({ op: 'unlink', to: q.id }), { ok: true });

        a.receive('boom');
        q.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'a and q restarted');
        const qq = await quiet(ev);
        assert.deepEqual(qq.after, qq.before);
        assert.deepEqual(exits(ev).map((e) => e[0]).sort(), [a.id, q.id].sort());
        assert.deepEqual([b.incarnation, p.incarnation], [0, 0]);
      });
    });

    slowTest('links end with the incarnation: after a restart neither side is linked any more', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        await Promise.all([a, b].map((r) => r.call('warm')));
        a.link(b);
        b.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'both restarted');
        assert.deepEqual(exits(ev), [
          [b.id, 'error: boom'],
          [a.id, 'linked: error: boom'],
        ]);

        b.receive('boom');
        await waitFor(() => ev.restart.length === 3, 10000, 'b restarted alone');
        a.receive('boom');
        await waitFor(() => ev.restart.length === 4, 10000, 'a restarted alone');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev).slice(2), [
          [b.id, 'error: boom'],
          [a.id, 'error: boom'],
        ]);
        assert.deepEqual([a.incarnation, b.incarnation], [2, 2]);
      });
    });

    slowTest('linking to a dead actor throws: RangeError on the host, Error in ctx', 30000, async () => {
      await k.withSup({}, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const dead = sup.spawn(worker, { name: 'dead' });
        const p = sup.spawn(probe);
        await Promise.all([a, dead, p].map((r) => r.call('warm')));
        await dead.terminate();

        await faults(() => a.link(dead), RangeError, /noproc|not alive/);
        await faults(() => dead.link(a), RangeError, /noproc|not alive/);
        await faults(() => a.link('dead'), RangeError, /dead/, 'a name freed by the death');
        await faults(() => a.link('actor-999999999'), RangeError, /noproc|not alive/);
        await faults(() => a.link(42), TypeError, /link/);

        const byId = await p.call({ op: 'link', to: dead.id });
        assert.equal(byId.error, 'Error');
        assert.match(byId.message, /noproc|not alive/);
        const byName = await p.call({ op: 'link', to: 'dead' });
        assert.ok(byName.error, 'ctx.link to a freed name must throw');

        // nothing was linked: a crash of a does not touch p
        a.receive('boom');
        await waitFor(() => ev.restart.length === 1, 10000, 'a restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.equal(p.incarnation, 0);
      });
    });

    slowTest('a link made while an actor is between incarnations does not bind its next incarnation', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000, backoff: 'fixed', delayMs: 300, jitter: 0 } }, async (sup) => {
        const ev = timeline(sup);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const [ta] = await Promise.all([a, b].map((r) => r.call('warm')));
        b.receive('boom');
        await waitFor(() => ev.exit.length === 1, 10000, 'b crashed');
        let threw = null;
        try {
          a.link(b); // b has no running incarnation now
        } catch (err) {
          threw = err;
        }
        if (threw) assert.ok(threw instanceof RangeError, `expected RangeError, got ${threw}`);
        await waitFor(() => ev.restart.length === 1, 10000, 'b restarted');
        b.receive('boom'); // b's new incarnation made no link: a must not be stopped
        await waitFor(() => ev.restart.length >= 2, 10000, 'b restarted again');
        await untouched(a, ta);
        assert.deepEqual(
          exits(ev),
          [
            [b.id, 'error: boom'],
            [b.id, 'error: boom'],
          ],
          'a restarted child starts with no links it did not make',
        );
        assert.equal(a.incarnation, 0);
        assert.equal(ev.restart.length, 2);
      });
    });
  });

  describe('trapping exits', () => {
    slowTest('a trapping actor gets an EXIT system message instead of dying', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const t = sup.spawn(probe);
        const system = emitted(t, 'system');
        const forged = emitted(t, 'forged');
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const c = sup.spawn(worker);
        const token = await t.call({ op: 'token' });
        await Promise.all([a, b, c].map((r) => r.call('warm')));
        assert.deepEqual(await t.call({ op: 'trap', on: true }), { ok: true });
        t.link(a);
        assert.deepEqual(await t.call({ op: 'link', to: b.id }), { ok: true });
        t.link(c);

        a.receive('boom');
        await waitFor(() => system.length === 1, 10000, 'EXIT for a');
        await b.terminate();
        await waitFor(() => system.length === 2, 10000, 'EXIT for b');
        c.receive('stop'); // normal: no EXIT message
        await waitFor(() => ev.exit.length === 3, 10000, 'c exits');
        await t.call({ op: 'token' }); // anything queued before this has been handled
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);

        assert.deepEqual(system, [
          {
            msg: 'system',
            data: { msg: 'EXIT', data: { id: a.id, reason: 'error: boom' }, from: 'system', isSystem: true, frozen: true },
            from: t.id,
          },
          {
            msg: 'system',
            data: { msg: 'EXIT', data: { id: b.id, reason: 'terminated' }, from: 'system', isSystem: true, frozen: true },
            from: t.id,
          },
        ]);
        assert.deepEqual(forged, []);
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [b.id, 'terminated'],
          [c.id, 'normal'],
        ]);
        assert.equal(t.incarnation, 0);
        assert.equal(await t.call({ op: 'token' }), token, 'the trapping actor kept its thread');
      });
    });

    slowTest('an EXIT reports the reason the linked actor ended with, including a linked one', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const t = sup.spawn(probe);
        const system = emitted(t, 'system');
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        await Promise.all([t, a, b].map((r) => r.call('warm')));
        assert.deepEqual(await t.call({ op: 'trap' }), { ok: true });
        a.link(b);
        b.link(t);
        a.receive('boom');
        await waitFor(() => system.length === 1, 10000, 'EXIT for b');
        assert.deepEqual(system[0].data.data, { id: b.id, reason: 'linked: error: boom' });
        await waitFor(() => ev.restart.length === 2, 10000, 'a and b restarted');
        assert.deepEqual([t.incarnation, a.incarnation, b.incarnation], [0, 1, 1]);
      });
    });

    slowTest('trapExits(false) and a restart both end trapping', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const t = sup.spawn(probe);
        const u = sup.spawn(probe);
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        await Promise.all([t, u, a, b].map((r) => r.call('warm')));
        // t: on, then off again
        assert.deepEqual(await t.call({ op: 'trap', on: true }), { ok: true });
        assert.deepEqual(await t.call({ op: 'trap', on: false }), { ok: true });
        t.link(a);
        a.receive('boom');
        await waitFor(() => ev.restart.length === 2, 10000, 'a and t restarted');
        assert.deepEqual(exits(ev), [
          [a.id, 'error: boom'],
          [t.id, 'linked: error: boom'],
        ]);

        // u traps, then restarts: its new incarnation does not trap
        assert.deepEqual(await u.call({ op: 'trap', on: true }), { ok: true });
        u.receive({ op: 'boom' });
        await waitFor(() => ev.restart.length === 3, 10000, 'u restarted');
        await u.call({ op: 'token' });
        u.link(b);
        b.receive('boom');
        await waitFor(() => ev.restart.length === 5, 10000, 'b and u restarted');
        const q = await quiet(ev);
        assert.deepEqual(q.after, q.before);
        assert.deepEqual(exits(ev).slice(3), [
          [b.id, 'error: boom'],
          [u.id, 'linked: error: boom'],
        ]);
        assert.equal(u.incarnation, 2);
      });
    });
  });

  describe('monitors', () => {
    slowTest('DOWN reaches the watcher\'s handler and its host-side subscribers, once per monitor', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const w = sup.spawn(probe);
        const seen = emitted(w, 'system');
        const host = emitted(w, 'DOWN');
        const t = sup.spawn(worker);
        await Promise.all([w, t].map((r) => r.call('warm')));
        const ref = w.monitor(t);
        assert.match(ref, /^ref-\d+$/);

        t.receive('boom');
        await waitFor(() => host.length === 1 && seen.length === 1, 10000, 'DOWN');
        const data = { id: t.id, reason: 'error: boom', ref, incarnation: 0 };
        assert.deepEqual({ ...host[0] }, { msg: 'DOWN', data, from: 'system' });
        assert.ok(isSystemMessage(host[0]), 'the host-side DOWN is a system message');
        assert.ok(Object.isFrozen(host[0]));
        assert.deepEqual(seen[0].data, { msg: 'DOWN', data, from: 'system', isSystem: true, frozen: true });

        await waitFor(() => ev.restart.length === 1, 10000, 't restarted');
        assert.equal(w.demonitor(ref), false, 'a fired monitor is gone');
        t.receive('boom'); // the monitor watched incarnation 0 only
        await waitFor(() => ev.restart.length === 2, 10000, 't restarted again');
        await w.call({ op: 'token' });
        await quiet(ev);
        assert.equal(host.length, 1);
        assert.equal(seen.length, 1);
        assert.equal(w.incarnation, 0, 'a monitor never stops the watcher');

        // a new monitor watches the current incarnation, and DOWN says which one it was
        assert.equal(t.incarnation, 2);
        const ref2 = w.monitor(t.id);
        t.receive('boom');
        await waitFor(() => host.length === 2, 10000, 'DOWN for incarnation 2');
        assert.deepEqual(host[1].data, { id: t.id, reason: 'error: boom', ref: ref2, incarnation: 2 });
      });
    });

    slowTest('ctx.monitor stacks; ctx.demonitor cancels one; DOWN carries each ref', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const w = sup.spawn(probe);
        const seen = emitted(w, 'system');
        const host = emitted(w, 'DOWN');
        const t = sup.spawn(worker, { name: 'target' });
        await Promise.all([w, t].map((r) => r.call('warm')));
        const r1 = (await w.call({ op: 'monitor', to: 'target' })).ok;
        const r2 = (await w.call({ op: 'monitor', to: t.id })).ok;
        const r3 = (await w.call({ op: 'monitor', to: t.id })).ok;
        for (const r of [r1, r2, r3]) assert.match(r, /^ref-\d+$/);
        assert.equal(new Set([r1, r2, r3]).size, 3);
        assert.deepEqual(await w.call({ op: 'demonitor', ref: r2 }), { ok: true });
        assert.deepEqual(await w.call({ op: 'demonitor', ref: r2 }), { ok: false }, 'twice: false');

        t.receive('stop'); // a normal exit is reported too
        await waitFor(() => host.length === 2 && seen.length === 2, 10000, 'two DOWNs');
        await w.call({ op: 'token' });
        await quiet(ev);
        assert.equal(host.length, 2);
        assert.equal(seen.length, 2);
        assert.deepEqual(
          host.map((m) => m.data.ref).sort(),
          [r1, r3].sort(),
        );
        for (const m of host) {
          assert.equal(m.data.id, t.id);
          assert.equal(m.data.reason, 'normal');
          assert.equal(m.data.incarnation, 0);
        }
        assert.deepEqual(
          seen.map((m) => m.data.data.ref).sort(),
          [r1, r3].sort(),
        );
        assert.deepEqual(await w.call({ op: 'demonitor', ref: r1 }), { ok: false });
      });
    });

    slowTest("monitoring a dead actor gives DOWN with 'noproc' at once (host and ctx)", 30000, async () => {
      await k.withSup({}, async (sup) => {
        const w = sup.spawn(probe);
        const seen = emitted(w, 'system');
        const host = emitted(w, 'DOWN');
        const dead = sup.spawn(worker);
        await Promise.all([w, dead].map((r) => r.call('warm')));
        await dead.terminate();

        const ref1 = w.monitor(dead);
        const ref2 = (await w.call({ op: 'monitor', to: dead.id })).ok;
        assert.match(ref1, /^ref-\d+$/);
        assert.match(ref2, /^ref-\d+$/);
        await waitFor(() => host.length === 2 && seen.length === 2, 10000, 'two noproc DOWNs');
        assert.deepEqual(
          host.map((m) => [m.msg, m.data.id, m.data.reason, m.data.ref]),
          [
            ['DOWN', dead.id, 'noproc', ref1],
            ['DOWN', dead.id, 'noproc', ref2],
          ],
        );
        assert.deepEqual(
          seen.map((m) => [m.data.msg, m.data.data.reason, m.data.data.ref, m.data.isSystem]),
          [
            ['DOWN', 'noproc', ref1, true],
            ['DOWN', 'noproc', ref2, true],
          ],
        );
        assert.equal(w.demonitor(ref1), false);
      });
    });

    slowTest('DOWN reports terminated and linked reasons; a restarted watcher has no monitors', 30000, async () => {
      await k.withSup({ retry: { max: 10, withinMs: 60000 } }, async (sup) => {
        const ev = timeline(sup);
        const w = sup.spawn(probe);
        const host = emitted(w, 'DOWN');
        const a = sup.spawn(worker);
        const b = sup.spawn(worker);
        const c = sup.spawn(worker);
        await Promise.all([w, a, b, c].map((r) => r.call('warm')));
        a.link(b);
        const ra = w.monitor(a);
        const rb = w.monitor(b);
        a.receive('boom');
        await waitFor(() => host.length === 2, 10000, 'two DOWNs');
        assert.deepEqual(
          host.map((m) => [m.data.id, m.data.reason, m.data.ref]),
          [
            [a.id, 'error: boom', ra],
            [b.id, 'linked: error: boom', rb],
          ],
        );
        const rc = w.monitor(c);
        await c.terminate();
        await waitFor(() => host.length === 3, 10000, 'DOWN for c');
        assert.deepEqual([host[2].data.reason, host[2].data.ref], ['terminated', rc]);

        // the watcher restarts: the monitors of its old incarnation are gone
        await waitFor(() => ev.restart.length === 2, 10000, 'a and b restarted');
        w.monitor(a);
        assert.equal(typeof (await w.call({ op: 'monitor', to: b.id })).ok, 'string');
        w.receive({ op: 'boom' });
        await waitFor(() => ev.restart.length === 3, 10000, 'w restarted');
        a.receive('boom');
        b.receive('boom');
        await waitFor(() => ev.restart.length === 5, 10000, 'a and b restarted again');
        await w.call({ op: 'token' });
        await quiet(ev);
        assert.equal(host.length, 3, 'no DOWN for monitors of a dead incarnation of the watcher');
      });
    });
  });
});
