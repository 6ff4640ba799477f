'use strict';
// Rebuilds an actor's behaviour inside its thread from the start descriptor: a callback, a
// behaviour object (`{ init, handle, onStart, onTerminate, onExit, onIdle }`, stateful), or a
// module (default export: a handler function or a behaviour object; hooks may also be named
// exports).

const { withTypeScriptHint } = require('./ts-hint.js');

const HOOKS = ['init', 'onStart', 'onTerminate', 'onExit', 'onIdle'];

/**
 * Evaluates serialised function source in the thread's global scope (an actor's callback or
 * hook, a task's function); `what` names it in the error when it is not a function.
 */
function compile(code, what = 'actor callback') {
  let fn;
  try {
    fn = (0, eval)(`(${code})`);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const holder = (0, eval)(`({${code}})`); // method shorthand: name(...) { … }
    fn = holder[Object.keys(holder)[0]];
  }
  if (typeof fn !== 'function') throw new TypeError(`${what} did not evaluate to a function`);
  return fn;
}

function fromObject(obj, where) {
  if (typeof obj.handle !== 'function') throw new TypeError(`${where} has no handle function`);
  const b = { handle: obj.handle, stateful: true };
  for (const h of HOOKS) {
    if (obj[h] !== undefined) {
      if (typeof obj[h] !== 'function') throw new TypeError(`${where}: ${h} must be a function`);
      b[h] = obj[h];
    }
  }
  return b;
}

/** Synchronously built behaviour for callback sources; null for modules (see loadModule). */
function buildSync(source) {
  if (source.kind === 'fn') return { handle: compile(source.code), stateful: false };
  if (source.kind === 'behaviour') {
    const obj = {};
    for (const [k, code] of Object.entries(source.fns)) obj[k] = compile(code);
    return fromObject(obj, 'behaviour');
  }
  return null;
}

/**
 * The exports of an imported module, as actor and task loaders read them. An ES module's
 * namespace is used as it is. A CommonJS module compiled from ESM (tsc and Babel write
 * `exports.default = …` and mark `exports.__esModule`) is imported by Node as
 * `{ default: module.exports }`: its `module.exports` object is the namespace then, so its
 * `default` and named hooks are found the same way on Node and Bun (Bun unwraps it itself).
 */
function moduleExports(ns) {
  const d = ns.default;
  if (d === null || typeof d !== 'object') return ns;
  if (d.__esModule === true || (d.default !== undefined && typeof d.handle !== 'function')) return d;
  return ns;
}

/** Behaviour of a module actor. */
async function loadModule(url) {
  const ns = await import(url).catch((err) => {
    throw withTypeScriptHint(err, url); // Node cannot load TypeScript without a loader
  });
  const mod = moduleExports(ns);
  const d = mod.default;
  if (typeof d === 'function') {
    const b = { handle: d, stateful: false };
    for (const h of HOOKS) if (typeof mod[h] === 'function') b[h] = mod[h];
    return b;
  }
  if (d !== null && typeof d === 'object') return fromObject(d, `module ${url}`);
  throw new TypeError(`module ${url} has no default export function (or { handle } object)`);
}

module.exports = { buildSync, loadModule, moduleExports, compile, HOOKS };
