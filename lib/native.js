'use strict';
// Loads the native addon: the locally built binary first, then the per-platform package.
const path = require('node:path');
const fs = require('node:fs');

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  return `${platform}-${arch}`;
}

function load() {
  // A locally built binary first. Its name gives the libc away, so the costly libc probe
  // (process.report, ≈ 4 ms on Node, paid by every new thread) is only needed without one.
  const { platform, arch } = process;
  const builds = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`] : [`${platform}-${arch}`];
  for (const b of builds) {
    const local = path.join(__dirname, '..', `warden.${b}.node`);
    if (fs.existsSync(local)) return require(local);
  }
  const triple = platformTriple();
  try {
    return require(`warden-${triple}`);
  } catch (err) {
    throw new Error(
      `warden: no native binary for ${triple}. Build it with \`npm run build\` ` +
        `(needs Rust and cargo). Cause: ${err.message}`,
    );
  }
}

module.exports = load();
