'use strict';
// Turns what spawn() was given into a start descriptor a worker thread can rebuild.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');

const BEHAVIOUR_KEYS = ['init', 'handle', 'onStart', 'onTerminate', 'onExit', 'onIdle'];

function source(fn, param) {
  const code = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(code)) {
    throw new TypeError(`${param}: native or bound functions cannot be serialised; pass a plain function or a module URL`);
  }
  return code;
}

/**
 * `{ kind: 'fn', code }` for a callback, `{ kind: 'behaviour', fns }` for a behaviour object
 * `{ init?, handle, onStart?, onTerminate?, onExit?, onIdle? }`, `{ kind: 'module', url }` for a
 * module path or URL.
 */
function actorSource(actor, param = 'actor') {
  if (typeof actor === 'function') return { kind: 'fn', code: source(actor, param) };
  if (actor !== null && typeof actor === 'object' && !(actor instanceof URL)) {
    if (typeof actor.handle !== 'function') throw new TypeError(`${param}: a behaviour object needs a handle function`);
    const fns = {};
    for (const [k, v] of Object.entries(actor)) {
      if (!BEHAVIOUR_KEYS.includes(k)) {
        throw new TypeError(`${param}: unknown behaviour key "${k}" (expected: ${BEHAVIOUR_KEYS.join(', ')})`);
      }
      if (v === undefined) continue;
      if (typeof v !== 'function') throw new TypeError(`${param}.${k} must be a function`);
      fns[k] = source(v, `${param}.${k}`);
    }
    return { kind: 'behaviour', fns };
  }
  let file;
  if (actor instanceof URL) {
    if (actor.protocol !== 'file:') throw new TypeError(`${param}: only file: URLs can be spawned (got ${actor.protocol})`);
    file = fileURLToPath(actor);
  } else if (typeof actor === 'string' && actor.length > 0) {
    file = actor.startsWith('file:') ? fileURLToPath(actor) : path.resolve(actor);
  } else {
    throw new TypeError(`${param} must be a function, a behaviour object, a module URL or a module path`);
  }
  if (!fs.existsSync(file)) throw new Error(`${param}: module not found: ${file}`);
  return { kind: 'module', url: pathToFileURL(file).href };
}

module.exports = { actorSource };
