'use strict';
// Finds the native addon file: the one the thread that started this thread found (passed in
// workerData, so no thread looks twice), else one built from source next to this package
// (scripts/build-native.js, or `npm run build` in a checkout), else the prebuilt one in the
// per-platform package npm installed as an optional dependency (warden-linux-x64-gnu...).
// Naming the platform exactly (glibc or musl) costs a few ms on Node, so only the package
// lookup and the error pay for it.

const path = require('node:path');
const fs = require('node:fs');
const { isMainThread, workerData } = require('node:worker_threads');
const { hostName, supported, addonName, packageName } = require('./platform.js');

const root = path.join(__dirname, '..');
let file = null;

/** The command that builds the addon from source in this installed copy of warden. */
function buildCommand() {
  return `node ${JSON.stringify(path.join(root, 'scripts', 'build-native.js'))}`;
}

function missing(name, cause) {
  const { version } = require('../package.json');
  const prebuilt = supported();
  const pkg = packageName(name);
  const lines = [`warden: no native addon for this platform (${name}).`];
  if (prebuilt.includes(name)) {
    lines.push(
      `A prebuilt one comes in the optional dependency ${pkg}, which is not installed ` +
        `(an install with --omit=optional or --no-optional leaves it out). ` +
        `Install it with: npm install ${pkg}@${version}`,
    );
  } else {
    lines.push(`Prebuilt addons exist for: ${prebuilt.join(', ')}.`);
  }
  lines.push(`Or build it from source (needs Rust and cargo, https://rustup.rs): ${buildCommand()}`);
  const err = new Error(lines.join('\n'));
  err.code = 'WARDEN_NO_ADDON';
  // "Cannot find module" only repeats the first line; anything else is worth keeping.
  if (cause?.code !== 'MODULE_NOT_FOUND') err.cause = cause;
  return err;
}

function fromPackage(name) {
  const pkg = packageName(name);
  let found;
  try {
    found = require.resolve(pkg);
  } catch (err) {
    throw missing(name, err);
  }
  // A prebuilt addon from another release speaks another protocol to this JS: refuse it.
  const want = require('../package.json').version;
  const have = require(`${pkg}/package.json`).version;
  if (have !== want) {
    throw new Error(
      `warden: warden ${want} found ${pkg} ${have}; both must be the same version. ` +
        `Install the matching one with: npm install ${pkg}@${want}`,
    );
  }
  return found;
}

function find() {
  if (!isMainThread && typeof workerData?.wardenAddon === 'string') return workerData.wardenAddon;
  const { platform, arch } = process;
  const builds = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [hostName()];
  for (const b of builds) {
    const local = path.join(root, addonName(b));
    if (fs.existsSync(local)) return local;
  }
  return fromPackage(hostName());
}

/** Path of the addon this process uses (looked up once per thread). */
function addonFile() {
  file ??= find();
  return file;
}

module.exports = { addonFile, buildCommand };
