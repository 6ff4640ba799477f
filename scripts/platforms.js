#!/usr/bin/env node
'use strict';
// The per-platform packages under npm/ (warden-linux-x64-gnu, ...), each holding one prebuilt
// addon, and the root package that depends on them.
//
//   node scripts/platforms.js sync      write npm/<platform>/package.json for every napi.targets
//                                       entry, at the root's version (`npm version` runs it)
//   node scripts/platforms.js check     exit 1 if npm/ is not in step with package.json
//   node scripts/platforms.js build [platform...]
//                                       build addons into npm/<platform>/ (this machine's with
//                                       cargo, others with cargo-zigbuild and rustup targets)
//   node scripts/platforms.js pack [--out DIR] [--allow-missing] [--platform NAME...]
//                                       npm pack every platform package and the root into DIR
//
// The root package.json in the repository has no optionalDependencies: the platform packages
// exist only as tarballs until they are published, and a clean checkout's `npm ci` must not go
// looking for them on a registry. `pack` writes them, at the exact version, into the package.json
// of the root tarball it makes (what `napi prepublish` does to the working tree, done in a copy).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fromRustTarget, hostName, addonName, packageName } = require('../lib/platform.js');
const { build, BuildError } = require('./build-native.js');

const root = path.join(__dirname, '..');
const npmDir = path.join(root, 'npm');
const rootPkg = () => JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** What npm/<platform>/package.json must contain for one Rust target. */
function platformManifest(target, pkg = rootPkg()) {
  const p = fromRustTarget(target);
  const file = addonName(p.name);
  const libc = p.abi === 'gnu' ? ['glibc'] : p.abi === 'musl' ? ['musl'] : undefined;
  const label = `${p.platform} ${p.arch}${p.abi ? ` (${p.abi === 'gnu' ? 'glibc' : p.abi})` : ''}`;
  return {
    name: packageName(p.name),
    version: pkg.version,
    description: `The prebuilt native addon of warden for ${label} (an optional dependency of warden).`,
    license: pkg.license,
    repository: pkg.repository,
    homepage: pkg.homepage,
    bugs: pkg.bugs,
    os: [p.platform],
    cpu: [p.arch],
    ...(libc ? { libc } : {}),
    main: file,
    files: [file],
    engines: pkg.engines,
  };
}

function readme(target, pkg = rootPkg()) {
  const p = fromRustTarget(target);
  return [
    `# ${packageName(p.name)}`,
    '',
    `The prebuilt native addon of [warden](${pkg.homepage})`,
    `for the Rust target \`${target}\` (the file \`${addonName(p.name)}\`).`,
    '`npm install warden` installs it as an optional dependency on the platform it was built for',
    'and skips it elsewhere; it is not meant to be installed or used on its own. Its version is',
    'always the version of warden that depends on it.',
    '',
  ].join('\n');
}

function targets(pkg = rootPkg()) {
  return pkg.napi.targets;
}

function json(v) {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/** Differences between npm/ (or `dir`) and what package.json says it should hold ([] when in step). */
function problems({ pkg = rootPkg(), dir = npmDir } = {}) {
  const out = [];
  const want = new Set();
  for (const t of targets(pkg)) {
    const { name } = fromRustTarget(t);
    want.add(name);
    const here = path.join(dir, name);
    for (const [file, text] of [
      ['package.json', json(platformManifest(t, pkg))],
      ['README.md', readme(t, pkg)],
    ]) {
      const f = path.join(here, file);
      if (!fs.existsSync(f)) out.push(`npm/${name}/${file} is missing`);
      else if (fs.readFileSync(f, 'utf8') !== text) {
        const have = file === 'package.json' ? JSON.parse(fs.readFileSync(f, 'utf8')).version : null;
        out.push(
          `npm/${name}/${file} is out of step` +
            (have && have !== pkg.version ? ` (version ${have}, package.json says ${pkg.version})` : ''),
        );
      }
    }
  }
  for (const d of fs.readdirSync(dir)) {
    if (!want.has(d)) out.push(`npm/${d} is not in package.json napi.targets`);
  }
  if (pkg.optionalDependencies) {
    out.push('package.json has optionalDependencies: only the tarball `pack` makes may have them');
  }
  return out;
}

function sync() {
  const pkg = rootPkg();
  for (const t of targets(pkg)) {
    const { name } = fromRustTarget(t);
    const dir = path.join(npmDir, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), json(platformManifest(t, pkg)));
    fs.writeFileSync(path.join(dir, 'README.md'), readme(t, pkg));
  }
  console.log(`npm/: ${targets(pkg).length} platform packages at version ${pkg.version}`);
}

function check() {
  const p = problems();
  for (const line of p) console.error(line);
  if (p.length) {
    console.error('run: node scripts/platforms.js sync');
    process.exitCode = 1;
  } else console.log('npm/ is in step with package.json');
}

function buildPlatforms(names) {
  const all = targets().map(fromRustTarget);
  const known = (n) => all.find((p) => p.name === n) ?? fail(`unknown platform ${n}`);
  const chosen = names.length ? names.map(known) : all;
  const host = hostName();
  for (const p of chosen) {
    const out = path.join(npmDir, p.name, addonName(p.name));
    const native = p.name === host;
    build({ target: native ? null : p.target, zig: !native, out });
    console.log(`built ${path.relative(root, out)}`);
  }
}

function fail(msg) {
  throw new BuildError(msg);
}

function npmPack(dir, out) {
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) fail(`npm pack failed in ${dir}`);
  return path.join(out, JSON.parse(r.stdout)[0].filename);
}

/** The files `npm pack` would put in the root tarball (package.json `files` and npm's rules). */
function rootFiles() {
  const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) fail('npm pack --dry-run failed');
  return JSON.parse(r.stdout)[0].files.map((f) => f.path);
}

// The one script that works in an installed package (the others need the checkout's tests,
// benchmarks or dev dependencies, or are its lifecycle: `prepare` building, the publish guard).
const PUBLISHED_SCRIPTS = ['build:source'];

/**
 * Packs the platform packages that have an addon and the root package, whose package.json gets
 * `optionalDependencies` naming every platform package at exactly its version. The addon of this
 * machine's platform comes from npm/<platform>/ or, failing that, from the one built at the root.
 * Without --allow-missing, every napi.targets platform must have its addon.
 */
function pack({ out, allowMissing, only }) {
  const pkg = rootPkg();
  const p = problems();
  if (p.length) {
    fail(`npm/ is out of step with package.json:\n  ${p.join('\n  ')}\nrun: node scripts/platforms.js sync`);
  }
  fs.mkdirSync(out, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-pack-'));
  const made = [];
  try {
    const optional = {};
    for (const t of targets(pkg)) {
      const { name } = fromRustTarget(t);
      optional[packageName(name)] = pkg.version;
      if (only.length && !only.includes(name)) continue;
      const file = addonName(name);
      const candidates = [path.join(npmDir, name, file)];
      if (name === hostName()) candidates.push(path.join(root, file));
      const addon = candidates.find((f) => fs.existsSync(f));
      if (!addon) {
        if (allowMissing) continue;
        fail(`no addon for ${name}: build it with node scripts/platforms.js build ${name}`);
      }
      const dir = path.join(stage, name);
      fs.mkdirSync(dir);
      for (const f of ['package.json', 'README.md']) {
        fs.copyFileSync(path.join(npmDir, name, f), path.join(dir, f));
      }
      fs.copyFileSync(addon, path.join(dir, file));
      made.push(npmPack(dir, out));
    }
    const dir = path.join(stage, 'warden');
    for (const f of rootFiles()) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(root, f), path.join(dir, f));
    }
    const published = { ...pkg, optionalDependencies: optional };
    const scripts = Object.entries(pkg.scripts ?? {}).filter(([k]) => PUBLISHED_SCRIPTS.includes(k));
    published.scripts = Object.fromEntries(scripts);
    fs.writeFileSync(path.join(dir, 'package.json'), json(published));
    made.push(npmPack(dir, out));
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return made;
}

function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'sync') return sync();
  if (cmd === 'check') return check();
  if (cmd === 'build') return buildPlatforms(rest);
  if (cmd === 'pack') {
    const opts = { out: path.join(root, 'npm-packs'), allowMissing: false, only: [] };
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--out') opts.out = path.resolve(rest[++i]);
      else if (rest[i] === '--allow-missing') opts.allowMissing = true;
      else if (rest[i] === '--platform') opts.only.push(rest[++i]);
      else fail(`unknown argument ${rest[i]}`);
    }
    for (const f of pack(opts)) console.log(f);
    return;
  }
  fail(
    'usage: node scripts/platforms.js sync | check | build [platform...]\n' +
      '       node scripts/platforms.js pack [--out DIR] [--allow-missing] [--platform NAME]...',
  );
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

module.exports = { platformManifest, problems, pack, npmDir };
