'use strict';
// Turns what spawn() was given into a start descriptor a worker thread can rebuild.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');

/** `{ kind: 'fn', code }` for a callback, `{ kind: 'module', url }` for a module path or URL. */
function actorSource(actor, param = 'actor') {
  if (typeof actor === 'function') {
    const code = Function.prototype.toString.call(actor);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(code)) {
      throw new TypeError(`${param}: native or bound functions cannot be serialised; pass a plain function or a module URL`);
    }
    return { kind: 'fn', code };
  }
  let file;
  if (actor instanceof URL) {
    if (actor.protocol !== 'file:') throw new TypeError(`${param}: only file: URLs can be spawned (got ${actor.protocol})`);
    file = fileURLToPath(actor);
  } else if (typeof actor === 'string' && actor.length > 0) {
    file = actor.startsWith('file:') ? fileURLToPath(actor) : path.resolve(actor);
  } else {
    throw new TypeError(`${param} must be a function, a module URL or a module path`);
  }
  if (!fs.existsSync(file)) throw new Error(`${param}: module not found: ${file}`);
  return { kind: 'module', url: pathToFileURL(file).href };
}

module.exports = { actorSource };
