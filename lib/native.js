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
  const triple = platformTriple();
  const local = path.join(__dirname, '..', `warden.${triple}.node`);
  if (fs.existsSync(local)) return require(local);
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
