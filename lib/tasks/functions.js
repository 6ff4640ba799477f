'use strict';
// Task functions: the definition a task thread compiles `fn` from (a plain function's source
// text, or a module's file: URL), each with a number (`fid`) so that the pool sends it only to
// threads that do not know it yet. The same function, source or module gets the same `fid`.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');

const MAX_CODE_DEFS = 10000;

/** What a thread needs to run a task function: `fid` and the JSON it is defined by. */
class Def {
  constructor(fid, def) {
    this.fid = fid;
    this.text = JSON.stringify(def);
    this.resetText = JSON.stringify({ ...def, reset: true });
  }
}

let nextFid = 1;
const byFunction = new WeakMap(); // function → Def
const byCode = new Map(); // source text → Def
const byModule = new Map(); // URL href or path string → Def

function defOf(fn, param) {
  if (typeof fn === 'function') {
    let d = byFunction.get(fn);
    if (d !== undefined) return d;
    const code = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(code)) {
      throw new TypeError(`${param}: native or bound functions cannot be serialised; pass a plain function or a module URL`);
    }
    d = byCode.get(code);
    if (d === undefined) {
      if (byCode.size >= MAX_CODE_DEFS) byCode.clear();
      d = new Def(nextFid++, { code });
      byCode.set(code, d);
    }
    byFunction.set(fn, d);
    return d;
  }
  let key;
  if (fn instanceof URL) key = fn.href;
  else if (typeof fn === 'string' && fn.length > 0) key = fn;
  else throw new TypeError(`${param} must be a function or a module URL/path`);
  let d = byModule.get(key);
  if (d !== undefined) return d;
  let file;
  if (fn instanceof URL || key.startsWith('file:')) {
    const url = fn instanceof URL ? fn : new URL(key);
    if (url.protocol !== 'file:') throw new TypeError(`${param}: only file: URLs can run as tasks (got ${url.protocol})`);
    file = fileURLToPath(url);
  } else {
    file = path.resolve(key);
  }
  if (!fs.existsSync(file)) throw new RangeError(`${param}: module not found: ${file}`);
  d = new Def(nextFid++, { url: pathToFileURL(file).href });
  byModule.set(key, d);
  return d;
}

module.exports = { defOf };
