// The chaos soak, short: every fault at once (throws, hangs past timeoutMs, heap exhaustion on
// Node, external kills, async handlers, ctx.call chains, ctx.send fan-out, Tier 2 writes under
// short leases, restarts under every strategy) and not one message lost or handled twice
// (bench/soak.mjs explains the accounting). It runs in a child process of this runtime, which
// must exit on its own after shutdown: nothing keeps it alive. It runs once per kind of actor
// (bench/soak.mjs --kind): isolated, pooled (where a hang may cost a whole worker, and its
// neighbours exit worker_lost with their in-flight messages), and a mix of both.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, slowTest, exitsOnItsOwn } from './harness.mjs';

const script = fileURLToPath(new URL('../bench/soak.mjs', import.meta.url));
const isBun = typeof globalThis.Bun !== 'undefined';

/** Runs the soak with `args`; its JSON report, once the process exited on its own with code 0. */
function soak(args) {
  const flags = isBun ? [] : ['--expose-gc'];
  return exitsOnItsOwn(script, { args: [...args, '--json'], flags, timeoutMs: 50000 });
}

/** How many of the 8 soak actors are of each kind, per `--kind`. */
const KINDS = {
  isolated: { isolated: 8, pooled: 0 },
  pooled: { isolated: 0, pooled: 8 },
  mixed: { isolated: 4, pooled: 4 },
};

for (const [kind, kinds] of Object.entries(KINDS)) {
  describe(`chaos soak (--kind ${kind})`, () => {
    slowTest('every accepted message is handled, in flight at an exit, or dead-lettered, exactly once', 60000, async () => {
      const report = await soak(['--phase', 'chaos', '--duration', '4000', '--rate', '4000', '--drain', '30000', '--kind', kind]);
      const c = report.chaos;
      const summary = JSON.stringify({ ...c, lostSample: c.lostSample, duplicateSample: c.duplicateSample });
      assert.equal(c.kind, kind);
      assert.deepEqual(c.kinds, kinds, 'the actors are of the kinds asked for');
      assert.equal(c.lost, 0, `lost messages: ${summary}`);
      assert.equal(c.duplicated, 0, `duplicated messages: ${summary}`);
      assert.deepEqual(c.leftover, { threads: 0, ports: 0, actors: 0 }, 'nothing left after shutdown');
      assert.equal(c.boxesInUseAfterDrain, 0, 'every box came back');
      // The storm really happened: each kind of fault was injected and showed as an exit.
      assert.ok(c.sent > 5000, `sent ${c.sent}`);
      assert.ok(c.handled > 0 && c.inFlightAtExit > 0, summary);
      assert.ok(c.injected.throw > 0 && c.exitsByReason['error: chaos'] > 0, `throws: ${summary}`);
      assert.ok(c.injected.kill > 0 && c.exitsByReason.killed > 0, `kills: ${summary}`);
      assert.ok(c.injected.hang === 0 || c.exitsByReason.timeout > 0, `hangs: ${summary}`);
      assert.ok(c.exitsByReason.shutdown > 0, `strategy stops: ${summary}`);
      assert.ok(c.restarts > 0, summary);
      // heap exhaustion needs an isolated actor with resourceLimits (Node only)
      if (isBun || kind === 'pooled') assert.equal(c.injected.oom, 0, summary);
      if (kind === 'pooled') assert.equal(c.exitsByReason.out_of_memory, undefined, summary);
    });
  });
}
