'use strict';
// `npm test`: the Rust core's unit tests and loom models, lints, then every JS suite under Node
// and under Bun.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const testDir = path.join(root, '__test__');
const files = fs.readdirSync(testDir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join('__test__', f));
const bun = path.join(root, 'node_modules', '.bin', 'bun');

const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

// The loom models of the port's wake-up protocol and the outbox drain (crate/src/sync.rs): the
// core built with `--cfg loom` in its own target directory, so the normal build stays cached.
// A debug build: about 30 s to build from nothing on 2 cores, 1 s to run (a release build runs
// in 0.2 s but takes 90 s to build).
const loomEnv = { RUSTFLAGS: '--cfg loom' };
const loomArgs = ['test', '-p', 'warden-core', '--lib', '--quiet', '--target-dir', 'target/loom', 'loom_model'];

const steps = [
  ['rust core (cargo test)', 'cargo', ['test', '-p', 'warden-core', '--quiet']],
  ['rust core model checks (loom)', 'cargo', loomArgs, loomEnv],
  ['cargo fmt --check', 'cargo', ['fmt', '--all', '--', '--check']],
  ['cargo clippy -D warnings', 'cargo', ['clippy', '--workspace', '--all-targets', '--quiet', '--', '-D', 'warnings']],
  ['type check (index.d.ts against examples/typed.ts)', tsc, ['-p', 'examples/tsconfig.json']],
  // The type tests: lines marked `@ts-expect-error` must stay errors (tsc fails on an unused one).
  ['type tests (__test__/types, strict, expected errors)', tsc, ['-p', '__test__/types/tsconfig.json']],
  ['TSDoc of index.d.ts (every export and member, defaults, examples)', process.execPath, ['__test__/types/tsdoc.mjs']],
  // Packs the root and platform packages, installs them with no Rust on PATH and runs them
  // under Node and Bun itself, so it runs once, not once per runtime like the suites below.
  ['install from the packed tarballs (no Rust on PATH)', process.execPath, ['--test', 'scripts/test-install.mjs']],
  ['node', process.execPath, ['--test', '--test-concurrency=1', ...files]],
  ['bun', bun, ['test', '--timeout', '60000', ...files.map((f) => `./${f}`)]],
];

let failed = 0;
const summary = [];
for (const [name, cmd, args, env = {}] of steps) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0', ...env } });
  const ok = r.status === 0;
  if (!ok) failed++;
  summary.push(`${ok ? 'ok  ' : 'FAIL'} ${name}${r.error ? ` (${r.error.message})` : ''}`);
}
console.log(`\n${summary.join('\n')}`);
console.log(`${steps.length - failed} passed, ${failed} failed (test steps)`);
process.exit(failed ? 1 : 0);
