// Runs the same suites under `node --test` and `bun test`: picks the runtime's own runner.
const isBun = typeof globalThis.Bun !== 'undefined';
const runner = isBun ? await import('bun:test') : await import('node:test');

export const { test, describe } = runner;
export const after = isBun ? runner.afterAll : runner.after;
export const runtime = isBun ? 'bun' : 'node';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; rejects after `timeoutMs` (only to avoid hanging). */
export async function waitFor(fn, timeoutMs = 10000, label = 'condition') {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await sleep(2);
  }
}

/** Collects what a subscribe-style API delivers. */
export function collector() {
  const items = [];
  const fn = (m) => items.push(m);
  fn.items = items;
  return fn;
}
