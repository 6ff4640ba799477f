#!/usr/bin/env node
'use strict';
// Builds the native addon from source with plain cargo (no napi CLI) and puts it where
// lib/addon.js looks first: warden.<platform>.node at the package root. It is the fallback for a
// platform without a prebuilt addon, and works both in a checkout and inside an installed
// package (node_modules/warden ships the Rust sources and Cargo.lock for it).
//
//   node scripts/build-native.js               build for this machine
//   node scripts/build-native.js --if-missing  only if no addon is there yet (`prepare` in a checkout)
//
// scripts/platforms.js uses build() to cross-build the per-platform packages.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { hostName, supported, addonName } = require('../lib/platform.js');

const root = path.join(__dirname, '..');

class BuildError extends Error {}

/** The cdylib cargo names for a platform: libwarden.so, libwarden.dylib or warden.dll. */
function isCdylib(file) {
  return /(^|[\\/])(lib)?warden\.(so|dylib|dll)$/.test(file);
}

/** Why `cargo` cannot build here (null when it runs): missing, or present but not working. */
function cargoProblem(cargo) {
  const r = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') return `${cargo} was not found on PATH`;
  if (r.error) return `${cargo} could not be started (${r.error.message})`;
  if (r.status !== 0) {
    const said = (r.stderr || '').trim().split('\n')[0];
    return `\`${cargo} --version\` exited with ${r.status}${said ? ` (${said})` : ''}`;
  }
  return null;
}

/**
 * Runs cargo (or `cargo zigbuild` when `zig` is set) for the binding crate in release mode and
 * copies the library to `out`. Returns the path written. Throws BuildError with a message meant
 * for people (no stack trace needed) when cargo is missing or the build fails.
 */
function build({ target = null, zig = false, out }) {
  const cargo = process.env.CARGO || 'cargo';
  const problem = cargoProblem(cargo);
  if (problem) {
    throw new BuildError(
      `warden: cannot build the native addon from source: ${problem}.\n` +
        'Install Rust from https://rustup.rs (then run this command again), ' +
        `or use a supported platform: ${supported().join(', ')}.`,
    );
  }
  const args = [zig ? 'zigbuild' : 'build', '--release', '--locked', '-p', 'warden', '--lib'];
  if (target) args.push('--target', target);
  args.push('--message-format=json-render-diagnostics');
  const env = { ...process.env };
  // Rust links musl statically by default, and a static C runtime cannot make a shared library.
  if ((target ?? hostName()).includes('musl')) {
    env.RUSTFLAGS = `${env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim();
  }
  console.error(`warden: ${cargo} ${args.join(' ')} (a release build takes a few minutes)`);
  const r = spawnSync(cargo, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (r.error) throw new BuildError(`warden: could not run ${cargo}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BuildError(`warden: the native build failed (cargo exited with ${r.status}); see above.`);
  }
  // cargo names each artifact it produced in its JSON messages; target/ may be anywhere
  // (CARGO_TARGET_DIR, a workspace above us), so ask rather than guess.
  let lib = null;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.target?.name === 'warden') {
      lib = m.filenames.find(isCdylib) ?? lib;
    }
  }
  if (!lib) throw new BuildError('warden: cargo reported no library for the warden crate.');
  // Copy then rename: a process that has the old file mapped keeps a valid mapping.
  const tmp = `${out}.${process.pid}.tmp`;
  fs.copyFileSync(lib, tmp);
  fs.renameSync(tmp, out);
  return out;
}

function main(argv) {
  const ifMissing = argv.includes('--if-missing');
  const unknown = argv.filter((a) => a !== '--if-missing');
  if (unknown.length) throw new BuildError(`warden: unknown argument ${unknown[0]} (known: --if-missing)`);
  const name = hostName();
  const out = path.join(root, addonName(name));
  if (ifMissing && fs.existsSync(out)) return;
  build({ out });
  console.error(`warden: built ${out}`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  }
}

module.exports = { build, BuildError };
