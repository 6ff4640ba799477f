'use strict';
// The behaviour of a task thread (an internal module actor, see lib/tasks.js). It handles one
// `call` at a time: `[fid, def, input]`, where `fid` names a task function, `def` is 0 when this
// thread already has it, or `{ code }` (a function's source) / `{ url }` (a module whose default
// export is the function) the first time. It replies `[1, ms, value]`, `[2, ms]` (undefined) or
// `[0, ms, error]` (`ms`: how long the task ran), so that a task that throws does not end the
// thread, or `[3]` when it does not know `fid` (a restarted incarnation); a 4th element, the heap
// in MiB, comes now and then if the host asked for it. A bare number is a ping (and says how
// often to report the heap).

const OK = 1;
const UNDEF = 2;
const FAIL = 0;
const LOST = 3;

const fns = new Map(); // fid → function (or the promise of a module's function)

function compile(code) {
  let fn;
  try {
    fn = (0, eval)(`(${code})`);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const holder = (0, eval)(`({${code}})`); // method shorthand: name(input) { … }
    fn = holder[Object.keys(holder)[0]];
  }
  if (typeof fn !== 'function') throw new TypeError('task source did not evaluate to a function');
  return fn;
}

async function load(url) {
  const mod = await import(url);
  let fn = mod.default;
  if (fn !== null && typeof fn === 'object' && typeof fn.default === 'function') fn = fn.default; // CJS interop
  if (typeof fn !== 'function') throw new TypeError(`task module ${url} has no default export function`);
  return fn;
}

/** What travels back about a failure: enough to rebuild the error on the host. */
function failure(err, fromSource) {
  if (err instanceof Error) {
    const out = { name: err.name, message: String(err.message), stack: err.stack };
    if (fromSource && err instanceof ReferenceError) {
      const m = /^(\S+) is not defined/.exec(err.message) || /Can't find variable: (\S+)/.exec(err.message);
      out.message =
        `task function cannot see outer scope: "${m ? m[1] : 'a variable'}" is not defined in the task's thread ` +
        '(functions are serialised with toString(); pass values in the input or use a module task)';
    }
    const props = {};
    let any = false;
    for (const k of Object.keys(err)) {
      const v = err[k];
      const t = typeof v;
      if (v === null || t === 'string' || t === 'number' || t === 'boolean') {
        props[k] = v;
        any = true;
      }
    }
    if (any) out.props = props;
    return out;
  }
  let value;
  try {
    value = JSON.parse(JSON.stringify(err === undefined ? null : err));
  } catch {
    value = String(err);
  }
  return { thrown: true, value };
}

/** How long the task ran (ms, 3 decimals): the host sizes its pipelining and polling on it. */
function took(t0) {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

let heapEvery = 0; // report the heap every this many tasks (0: never); the host's ping sets it
let counted = 0;
let v8 = null;

function heapMb() {
  try {
    v8 ??= require('node:v8');
    return Math.round(v8.getHeapStatistics().used_heap_size / 1024 / 1024);
  } catch {
    return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
  }
}

/** `[tag, ms, value]`, plus the heap in MiB now and then when the host recycles on heap size. */
function reply(tag, t0, value) {
  const ms = took(t0);
  if (heapEvery > 0 && (ms >= 1 || ++counted % heapEvery === 0)) return [tag, ms, value ?? null, heapMb()];
  return tag === UNDEF ? [UNDEF, ms] : [tag, ms, value];
}

function invoke(fn, input, fromSource) {
  const t0 = performance.now();
  let r;
  try {
    r = fn(input);
  } catch (err) {
    return reply(FAIL, t0, failure(err, fromSource));
  }
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
    return Promise.resolve(r).then(
      (v) => (v === undefined ? reply(UNDEF, t0) : reply(OK, t0, v)),
      (err) => reply(FAIL, t0, failure(err, fromSource)),
    );
  }
  return r === undefined ? reply(UNDEF, t0) : reply(OK, t0, r);
}

module.exports = function runTask(self, msg) {
  if (typeof msg === 'number') {
    heapEvery = msg; // ping: the thread is up
    return 0;
  }
  const fid = msg[0];
  let fn = fns.get(fid);
  if (fn === undefined) {
    const def = msg[1];
    if (def === 0) return [LOST]; // this incarnation never got it (the thread was restarted): the host sends it again
    if (def.reset) fns.clear(); // the host forgets what this thread knows at the same time
    if (def.url !== undefined) {
      const url = def.url;
      const p = load(url); // a failed import stays cached, as the module loader caches it
      fns.set(fid, p);
      return p.then(
        (f) => {
          if (fns.get(fid) === p) fns.set(fid, f);
          return invoke(f, msg[2], false);
        },
        (err) => [FAIL, 0, failure(err, false)],
      );
    }
    try {
      fn = compile(def.code);
      fn.fromSource = true;
    } catch (err) {
      fn = () => {
        throw err;
      };
    }
    fns.set(fid, fn);
  } else if (typeof fn.then === 'function') {
    return fn.then((f) => invoke(f, msg[2], false), (err) => [FAIL, 0, failure(err, false)]);
  }
  return invoke(fn, msg[2], fn.fromSource === true);
};
