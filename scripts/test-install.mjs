// warden as its users get it: the root package and this platform's addon package packed to
// tarballs (scripts/platforms.js pack), installed with npm into an empty folder with no Rust on
// PATH and install scripts off (npm 11, Bun and pnpm block them), then used from Node (ESM and
// CommonJS) and Bun. Then the same folder without the addon package: importing warden must say
// what to do, and the build command it gives must say where to get Rust, without a stack trace.
//
// A step of `npm test` (scripts/test.js), run once by Node: it drives both runtimes itself.
// Needs npm's cache to hold warden's dependencies (true after `npm ci` in this checkout).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { fromRustTarget, hostName, addonName, packageName } = require('../lib/platform.js');
const { problems } = require('./platforms.js');

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const host = hostName();
const hostPkg = packageName(host);
const platforms = pkg.napi.targets.map((t) => fromRustTarget(t).name);
const others = platforms.filter((n) => n !== host);
// Elsewhere there is no prebuilt addon to pack (the checkout's own build is not one).
const skip = !platforms.includes(host) && `no prebuilt addon for ${host}`;
const bun = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'bun.cmd' : 'bun');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-install-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const packs = path.join(work, 'packs');
const app = path.join(work, 'app');

// The environment of a user without Rust: no PATH entry holding cargo or rustc (node comes from a
// folder of its own in case it shares one with them), and none of the npm_* variables that the
// `npm test` running us set, which would steer the inner npm.
function withoutRust() {
  const exe = (d, n) => ['', '.exe', '.cmd'].some((x) => fs.existsSync(path.join(d, n + x)));
  const shim = path.join(work, 'bin');
  fs.mkdirSync(shim, { recursive: true });
  const node = path.join(shim, process.platform === 'win32' ? 'node.exe' : 'node');
  if (!fs.existsSync(node)) fs.symlinkSync(process.execPath, node);
  const rust = (d) => exe(d, 'cargo') || exe(d, 'rustc');
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !rust(d));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|registry|userconfig|cafile)$/i.test(k)) continue;
    if (k === 'CARGO' || k === 'RUSTC' || k === 'PATH') continue;
    env[k] = v;
  }
  env.PATH = [shim, ...dirs].join(path.delimiter);
  return env;
}
const env = withoutRust();

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: app,
    env,
    encoding: 'utf8',
    timeout: 60_000,
    shell: process.platform === 'win32',
    ...opts,
  });
  if (r.error) throw r.error;
  return r;
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('npm/ is in step with package.json (versions, names, platforms)', () => {
  assert.deepEqual(problems(), []);
  // The check notices a platform package left at an older version.
  const copy = path.join(work, 'npm-copy');
  fs.cpSync(path.join(root, 'npm'), copy, { recursive: true });
  const f = path.join(copy, host, 'package.json');
  const text = fs.readFileSync(f, 'utf8');
  fs.writeFileSync(f, text.replace(`"version": "${pkg.version}"`, '"version": "0.0.0-old"'));
  assert.deepEqual(problems({ dir: copy }), [
    `npm/${host}/package.json is out of step (version 0.0.0-old, package.json says ${pkg.version})`,
  ]);
});

test('cargo and rustc are out of reach in the install environment', () => {
  for (const tool of ['cargo', 'rustc']) {
    const r = spawnSync(tool, ['--version'], { env, encoding: 'utf8' });
    assert.ok(r.error?.code === 'ENOENT', `${tool} still runs: ${r.stdout}`);
  }
});

test('the packed tarballs install with npm, no Rust and no install scripts', { skip }, () => {
  const script = path.join(root, 'scripts', 'platforms.js');
  const args = ['pack', '--out', packs, '--allow-missing', '--platform', host];
  ok(run(process.execPath, [script, ...args], { cwd: root }), 'pack');
  const rootTgz = path.join(packs, `warden-${pkg.version}.tgz`);
  const hostTgz = path.join(packs, `${hostPkg}-${pkg.version}.tgz`);
  assert.deepEqual(fs.readdirSync(packs).sort(), [hostTgz, rootTgz].map((f) => path.basename(f)).sort());

  // The other platforms' packages, without their addons: npm must skip them by os/cpu/libc as
  // it would skip the published ones. Each is packed from its manifest in npm/.
  fs.mkdirSync(app, { recursive: true });
  const overrides = { ...pkg.overrides, [hostPkg]: `file:${hostTgz}` };
  for (const name of others) {
    const dir = path.join(work, 'stubs', name);
    fs.mkdirSync(dir, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', name, 'package.json'), 'utf8'));
    delete manifest.files;
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
    const stubs = path.join(work, 'stubs');
    const r = ok(run('npm', ['pack', '--json', '--pack-destination', stubs], { cwd: dir }), 'npm pack (stub)');
    overrides[packageName(name)] = `file:${path.join(stubs, JSON.parse(r.stdout)[0].filename)}`;
  }
  // The platform packages are not on any registry: overrides point warden's optional
  // dependencies at the tarballs (the dependency edges are the ones the published root has).
  const manifest = { name: 'app', private: true, dependencies: { warden: `file:${rootTgz}` }, overrides };
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest));
  const flags = ['--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'];
  ok(run('npm', ['install', ...flags]), 'npm install');

  const installed = path.join(app, 'node_modules', 'warden');
  const published = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
  const optional = Object.fromEntries(platforms.map((n) => [packageName(n), pkg.version]));
  assert.deepEqual(published.optionalDependencies, optional);
  assert.deepEqual(Object.keys(published.scripts), ['build:source'], 'no install script');
  assert.ok(fs.existsSync(path.join(app, 'node_modules', hostPkg, addonName(host))));
  for (const name of others) {
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', packageName(name))), `${name} installed`);
  }
  // The root package carries sources for a fallback build, never an addon, tests or build output.
  const files = fs.readdirSync(installed, { recursive: true }).map(String);
  const unwanted = (f) => f.endsWith('.node') || /^(__test__|bench|target|npm|examples)\b/.test(f);
  assert.deepEqual(files.filter(unwanted), []);
  for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'Cargo.lock', 'scripts/build-native.js']) {
    assert.ok(files.includes(f), `${f} missing from the tarball`);
  }
});

const smoke = `
const sup = createSupervisor();
const doubler = sup.spawn((self, msg) => msg * 2, { name: 'doubler' });
const reply = await doubler.call(21);
await sup.shutdown();
console.log('smoke', reply, runtimeStats().threads);
`;

test('an installed warden runs under Node (ESM, CommonJS) and Bun and exits on its own', { skip }, () => {
  const names = '{ createSupervisor, runtimeStats }';
  fs.writeFileSync(path.join(app, 'smoke.mjs'), `import ${names} from 'warden';\n${smoke}`);
  fs.writeFileSync(
    path.join(app, 'smoke.cjs'),
    `const ${names} = require('warden');\n(async () => {${smoke}})();\n`,
  );
  for (const [rt, file] of [
    [process.execPath, 'smoke.mjs'],
    [process.execPath, 'smoke.cjs'],
    [bun, 'smoke.mjs'],
    [bun, 'smoke.cjs'],
  ]) {
    const r = ok(run(rt, [file]), `${path.basename(rt)} ${file}`);
    assert.equal(r.stdout.trim(), 'smoke 42 0', `${path.basename(rt)} ${file}`);
  }
});

test('without the addon package and without cargo, both messages say what to do', { skip }, () => {
  fs.rmSync(path.join(app, 'node_modules', hostPkg), { recursive: true });
  const installed = path.join(app, 'node_modules', 'warden');
  for (const rt of [process.execPath, bun]) {
    const r = run(rt, ['smoke.cjs']);
    assert.notEqual(r.status, 0, `${path.basename(rt)} ran without an addon`);
    assert.match(r.stderr, new RegExp(`no native addon for this platform \\(${host}\\)`));
    assert.match(r.stderr, new RegExp(`npm install ${hostPkg}@${pkg.version.replaceAll('.', '\\.')}`));
    assert.ok(r.stderr.includes(`node "${path.join(installed, 'scripts', 'build-native.js')}"`), r.stderr);
  }
  // On a CPU with no prebuilt addon at all, the error lists the platforms that have one.
  fs.writeFileSync(path.join(app, 'riscv.cjs'), "Object.defineProperty(process, 'arch', { value: 'riscv64' });\n");
  const odd = run(process.execPath, ['--require', './riscv.cjs', 'smoke.cjs']);
  assert.notEqual(odd.status, 0);
  assert.match(odd.stderr, /no native addon for this platform \(linux-riscv64-(gnu|musl)\)/);
  assert.ok(odd.stderr.includes(`Prebuilt addons exist for: ${platforms.join(', ')}.`), odd.stderr);
  assert.ok(odd.stderr.includes('build-native.js'), odd.stderr);
  // The command the message gives, run as given.
  const { stderr } = run(process.execPath, ['smoke.cjs']);
  const given = stderr.match(/build it from source \(.*\): (node ".+")/)[1];
  const r = run(given, [], { shell: true });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cargo was not found/);
  assert.match(r.stderr, /Install Rust from https:\/\/rustup\.rs/);
  assert.ok(r.stderr.includes(`use a supported platform: ${platforms.join(', ')}.`), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  assert.equal(r.stdout, '');
});
