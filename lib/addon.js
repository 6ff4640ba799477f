'use strict';
// Finds the native addon file: the one the thread that started this thread found (passed in
// workerData, so no thread looks twice), else a locally built binary, else the per-platform
// package. Probing the libc (process.report, ≈ 4 ms on Node) is only needed for the package.

const path = require('node:path');
const fs = require('node:fs');
const { isMainThread, workerData } = require('node:worker_threads');

let file = null;

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  return `${platform}-${arch}`;
}

function find() {
  if (!isMainThread && typeof workerData?.wardenAddon === 'string') return workerData.wardenAddon;
  const { platform, arch } = process;
  const builds = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [`${platform}-${arch}`];
  for (const b of builds) {
    const local = path.join(__dirname, '..', `warden.${b}.node`);
    if (fs.existsSync(local)) return local;
  }
  const triple = platformTriple();
  try {
    return require.resolve(`warden-${triple}`);
  } catch (err) {
    throw new Error(
      `warden: no native binary for ${triple}. Build it with \`npm run build\` ` +
        `(needs Rust and cargo). Cause: ${err.message}`,
    );
  }
}

/** Path of the addon this process uses (looked up once per thread). */
function addonFile() {
  file ??= find();
  return file;
}

module.exports = { addonFile };
