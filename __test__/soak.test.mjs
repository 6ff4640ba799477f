// The chaos soak, short: every fault at once (throws, hangs past timeoutMs, heap exhaustion on
// Node, external kills, async handlers, ctx.call chains, ctx.send fan-out, Tier 2 writes under
// short leases, restarts under every strategy) and not one message lost or handled twice
// (bench/soak.mjs explains the accounting). It runs in a child process of this runtime, which
// must exit on its own after shutdown: nothing keeps it alive.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, slowTest, exitsOnItsOwn } from './harness.mjs';

const script = fileURLToPath(new URL('../bench/soak.mjs', import.meta.url));

/** Runs the soak with `args`; its JSON report, once the process exited on its own with code 0. */
function soak(args) {
  const flags = typeof globalThis.Bun === 'undefined' ? ['--expose-gc'] : [];
  return exitsOnItsOwn(script, { args: [...args, '--json'], flags, timeoutMs: 50000 });
}

describe('chaos soak', () => {
  slowTest('every accepted message is handled, in flight at an exit, or dead-lettered, exactly once', 60000, async () => {
    const report = await soak(['--phase', 'chaos', '--duration', '4000', '--rate', '4000', '--drain', '30000']);
    const c = report.chaos;
    const summary = JSON.stringify({ ...c, lostSample: c.lostSample, duplicateSample: c.duplicateSample });
    assert.equal(c.lost, 0, `lost messages: ${summary}`);
    assert.equal(c.duplicated, 0, `duplicated messages: ${summary}`);
    assert.deepEqual(c.leftover, { threads: 0, ports: 0, actors: 0 }, 'nothing left after shutdown');
    assert.equal(c.boxesInUseAfterDrain, 0, 'every box came back');
    // The storm really happened: each kind of fault was injected and showed as an exit.
    assert.ok(c.sent > 5000, `sent ${c.sent}`);
    assert.ok(c.handled > 0 && c.inFlightAtExit > 0, summary);
    assert.ok(c.injected.throw > 0 && c.exitsByReason['error: chaos'] > 0, `throws: ${summary}`);
    assert.ok(c.injected.kill > 0 && c.exitsByReason.killed > 0, `kills: ${summary}`);
    assert.ok(c.exitsByReason.shutdown > 0, `strategy stops: ${summary}`);
    assert.ok(c.restarts > 0, summary);
  });
});
