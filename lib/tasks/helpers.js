'use strict';
// sup.tasks: all, allSettled, race and any over a list of task descriptors `{ fn, input,
// ...options }` (and other values, taken as they are), which cancel the tasks they started once
// those are no longer needed; and stats, the counters of the supervisor's task pool.

const { defOf } = require('./functions.js');
const { isObject, taskOptions } = require('./options.js');
const { abortError, closedError } = require('./errors.js');
const { DONE } = require('./queue.js');
const { pools, poolOf } = require('./pool.js');

const DESCRIPTOR_KEYS = ['fn', 'input'];

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** Promises for each element: task descriptors `{ fn, input, ...options }` are started. */
function startAll(sup, list, param) {
  if (!isObject(list) || typeof list[Symbol.iterator] !== 'function') throw new TypeError(`${param} must be an iterable`);
  const items = Array.from(list);
  const specs = items.map((x, i) => {
    if (isObject(x) && !isThenable(x) && Object.prototype.hasOwnProperty.call(x, 'fn')) {
      const def = defOf(x.fn, `${param}[${i}].fn`);
      const o = taskOptions(x, `${param}[${i}]`, DESCRIPTOR_KEYS);
      return { def, input: x.input, o };
    }
    return null;
  });
  if (sup._closing && !pools.has(sup)) {
    const err = closedError(sup);
    return { promises: items.map((x, i) => (specs[i] ? Promise.reject(err) : x)), jobs: [] };
  }
  const pool = specs.some((s) => s !== null) ? poolOf(sup) : null;
  const jobs = [];
  const promises = items.map((x, i) => {
    const s = specs[i];
    if (s === null) return x;
    const job = pool.submit(s.def, s.input, s.o, true);
    jobs.push(job);
    return job.promise;
  });
  return { promises, jobs };
}

function cancelAll(jobs) {
  const err = abortError('no longer needed');
  for (const job of jobs) if (job.state !== DONE) job.pool.cancel(job, err);
}

function helpers(sup) {
  return Object.freeze({
    /** Like Promise.all; on the first rejection, the tasks it started that are still queued or running are cancelled. */
    all(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.all: list');
      return Promise.all(promises).catch((err) => {
        cancelAll(jobs);
        throw err;
      });
    },
    /** Like Promise.allSettled. */
    allSettled(list) {
      return Promise.allSettled(startAll(sup, list, 'tasks.allSettled: list').promises);
    },
    /** Like Promise.race; the tasks it started that lost are cancelled. */
    race(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.race: list');
      const p = Promise.race(promises);
      p.then(
        () => cancelAll(jobs),
        () => cancelAll(jobs),
      );
      return p;
    },
    /** Like Promise.any; once one fulfils, the tasks it started that are still going are cancelled. */
    any(list) {
      const { promises, jobs } = startAll(sup, list, 'tasks.any: list');
      const p = Promise.any(promises);
      p.then(
        () => cancelAll(jobs),
        () => {},
      );
      return p;
    },
    /** Counters of this supervisor's task pool. */
    stats() {
      const pool = pools.get(sup);
      if (pool !== undefined) return pool.stats();
      return { threads: 0, idle: 0, starting: 0, running: 0, queued: 0, completed: 0, failed: 0, killed: 0, crashed: 0, recycled: 0, reaped: 0, spawned: 0 };
    },
  });
}

const helperCache = new WeakMap();

function tasksOf(sup) {
  let h = helperCache.get(sup);
  if (h === undefined) {
    h = helpers(sup);
    helperCache.set(sup, h);
  }
  return h;
}

module.exports = { tasksOf };
