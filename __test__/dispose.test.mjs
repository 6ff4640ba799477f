import assert from 'node:assert/strict';
import { describe, slowTest, slowTestUnless, faults, NO_LEAKS } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

// Explicit resource management: a supervisor is an AsyncDisposable whose dispose is shutdown().
// The method exists only where the runtime defines Symbol.asyncDispose (no polyfill).
const hasSymbol = typeof Symbol.asyncDispose === 'symbol';

/** Whether this runtime parses `await using` (Bun does; Node 20 does not). */
function parsesAwaitUsing() {
  try {
    const AsyncFunction = (async () => {}).constructor;
    new AsyncFunction('{ await using x = null; }');
    return true;
  } catch {
    return false;
  }
}

describe('Symbol.asyncDispose on the supervisor', () => {
  slowTestUnless(!hasSymbol, 'no Symbol.asyncDispose in this runtime', 'dispose shuts the supervisor down and is the same promise as shutdown()', 30000, async () => {
    const sup = createSupervisor({ warmWorkers: 0 });
    assert.equal(typeof sup[Symbol.asyncDispose], 'function');
    const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(sup), Symbol.asyncDispose);
    assert.equal(d.enumerable, false); // like the class's own methods
    const ref = sup.spawn((self, n) => n * 2);
    assert.equal(await ref.call(21), 42);
    const disposing = sup[Symbol.asyncDispose]();
    assert.equal(disposing, sup.shutdown()); // idempotent: one shutdown
    await disposing;
    assert.equal(ref.getDiagnostics().isErr, true);
    await faults(() => sup.spawn(() => 1), Error, /shut down/);
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });

  slowTest('without the symbol nothing is defined under an odd key', 10000, async () => {
    const sup = createSupervisor({ warmWorkers: 0 });
    try {
      assert.equal(Object.hasOwn(Object.getPrototypeOf(sup), 'undefined'), false);
      if (hasSymbol) assert.equal(Object.hasOwn(Object.getPrototypeOf(sup), Symbol.asyncDispose), true);
    } finally {
      await sup.shutdown();
    }
  });

  slowTestUnless(!hasSymbol || !parsesAwaitUsing(), 'this runtime does not parse `await using`', 'await using: the block end shuts down, also after a throw', 30000, async () => {
    const { inBlock, throwingBlock } = await import('./fixtures/await-using.mjs');
    const a = await inBlock();
    assert.equal(a.answer, 42);
    await faults(() => a.sup.spawn(() => 1), Error, /shut down/);
    assert.deepEqual(runtimeStats(), NO_LEAKS);
    const b = await throwingBlock();
    assert.equal(b.error.message, 'boom');
    await faults(() => b.sup.spawn(() => 1), Error, /shut down/);
    assert.deepEqual(runtimeStats(), NO_LEAKS);
  });
});
