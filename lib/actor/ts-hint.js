'use strict';
// The hint a TypeScript module gets when the runtime cannot load it. Bun runs TypeScript as it
// is; Node 20 has no type stripping, so a `.ts`/`.mts`/`.cts` module actor or task needs a
// loader in its thread (`execArgv: ['--import', '<loader>']`, see lib/host/threads.js) or
// compiling first.

const { fileURLToPath } = require('node:url');

const TS_FILE = /\.[cm]?tsx?$/i;

/**
 * `err` as it is, or — when `url` names a TypeScript file the runtime refused to load — an
 * Error that says what to do, keeping the original's `code` and message.
 */
function withTypeScriptHint(err, url) {
  if (typeof process.versions.bun === 'string' || typeof url !== 'string') return err;
  let file = url;
  try {
    if (url.startsWith('file:')) file = fileURLToPath(url);
  } catch {
    return err;
  }
  if (!TS_FILE.test(file) || err === null || typeof err !== 'object' || err.code !== 'ERR_UNKNOWN_FILE_EXTENSION') return err;
  const major = process.versions.node.split('.')[0];
  const hinted = new Error(
    `Node ${major} cannot load TypeScript (${file}): pass execArgv: ['--import', '<loader>'] ` +
      `(a TypeScript loader such as tsx) or compile it first [${err.message}]`,
    { cause: err },
  );
  hinted.code = err.code;
  return hinted;
}

module.exports = { withTypeScriptHint };
