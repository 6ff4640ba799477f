'use strict';
// Platform names. A prebuilt addon is named twice: by the Rust target cargo builds it for
// (`x86_64-unknown-linux-gnu`) and by the Node platform it loads on (`linux-x64-gnu`, also the
// suffix of its npm package `warden-linux-x64-gnu` and of its file `warden.linux-x64-gnu.node`).
// The list of platforms with a prebuilt addon is `napi.targets` in package.json;
// scripts/platforms.js keeps the packages under npm/ in step with it.

const ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' };
const OS = { linux: 'linux', darwin: 'darwin', windows: 'win32', freebsd: 'freebsd' };

/**
 * Splits a Rust target triple into the Node names of its parts: `aarch64-unknown-linux-musl` →
 * `{ platform: 'linux', arch: 'arm64', abi: 'musl', name: 'linux-arm64-musl' }`.
 */
function fromRustTarget(target) {
  const parts = target.split('-');
  const arch = ARCH[parts[0]];
  const os = parts.find((p) => OS[p]);
  if (!arch || !os) throw new RangeError(`unknown Rust target "${target}"`);
  const platform = OS[os];
  // linux-gnu, linux-musl, linux-gnueabihf, windows-msvc; darwin and freebsd have no ABI suffix.
  const abi = platform === 'linux' || platform === 'win32' ? parts[parts.length - 1] : null;
  const name = [platform, arch, abi].filter(Boolean).join('-');
  return { target, platform, arch, abi, name };
}

/** The Rust targets warden publishes a prebuilt addon for (package.json `napi.targets`). */
function rustTargets() {
  return require('../package.json').napi.targets;
}

/** The platforms warden publishes a prebuilt addon for, by their Node names. */
function supported() {
  return rustTargets().map((t) => fromRustTarget(t).name);
}

/**
 * This process's platform in the same naming. On Linux the C library decides between the gnu
 * and musl builds; asking process.report costs a few milliseconds, so callers do it once.
 */
function hostName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** File name of the addon for a platform: warden.linux-x64-gnu.node. */
function addonName(name) {
  return `warden.${name}.node`;
}

/** npm package holding the prebuilt addon for a platform: warden-linux-x64-gnu. */
function packageName(name) {
  return `warden-${name}`;
}

module.exports = { fromRustTarget, rustTargets, supported, hostName, addonName, packageName };
