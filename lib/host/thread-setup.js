'use strict';
// What a thread is started with beyond the runtime's defaults: `execArgv` (runtime flags, e.g.
// `['--import', 'tsx']` to load TypeScript on Node 20) and `env` (variables added to a copy of
// the host's `process.env`). Validated here, for the spawn option and the task pool alike; the
// thread itself is made in threads.js. A thread started with either is never handed to another
// actor (see ThreadPool there).

const { Worker } = require('node:worker_threads');

const isBun = typeof process.versions.bun === 'string';
const checked = new Map(); // JSON of execArgv → null (accepted) or the error text (refused)

/**
 * Node refuses some flags in a worker (per-process ones, V8 heap flags): `new Worker` throws
 * before starting a thread. Finding out at spawn, not at the first restart, costs one short
 * thread per distinct list, once per process. Bun accepts any list (and applies none of it).
 */
function refusal(execArgv) {
  if (isBun || execArgv.length === 0) return null;
  const key = JSON.stringify(execArgv);
  if (checked.has(key)) return checked.get(key);
  let why = null;
  try {
    const w = new Worker('', { eval: true, execArgv, stdout: true, stderr: true });
    w.unref();
    w.terminate().catch(() => {});
  } catch (err) {
    why = err.message;
  }
  checked.set(key, why);
  return why;
}

function execArgvOf(v, field) {
  if (!Array.isArray(v) || v.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError(`${field} must be an array of non-empty strings`);
  }
  const why = refusal(v);
  if (why !== null) {
    const heap = /max-old-space-size|max-semi-space-size|stack-size/.test(why) ? ' (heap and stack sizes: use resourceLimits)' : '';
    throw new RangeError(`${field}: a worker thread cannot start with these flags: ${why}${heap}`);
  }
  return [...v];
}

function envOf(v, field) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${field} must be an object of strings`);
  const out = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new TypeError(`${field}.${k} must be a string`);
    out[k] = s;
  }
  return out;
}

/**
 * `{ execArgv?, env?, key }` for options that set `execArgv` and/or `env` (`param`: what names
 * them in errors, e.g. `options` or `tasks`), or undefined when they set neither.
 */
function threadSetup(execArgv, env, param) {
  if (execArgv === undefined && env === undefined) return undefined;
  const out = {};
  if (execArgv !== undefined) out.execArgv = execArgvOf(execArgv, `${param}.execArgv`);
  if (env !== undefined) out.env = envOf(env, `${param}.env`);
  out.key = JSON.stringify([out.execArgv ?? null, out.env ?? null]);
  return Object.freeze(out);
}

/** The options of `new Worker` for `setup` (the env over a copy of the host's, read now). */
function workerOptions(setup) {
  if (setup === undefined) return {};
  const o = {};
  if (setup.execArgv) o.execArgv = setup.execArgv;
  if (setup.env) o.env = { ...process.env, ...setup.env };
  return o;
}

module.exports = { threadSetup, workerOptions };
