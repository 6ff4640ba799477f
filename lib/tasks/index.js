'use strict';
// Tasks: killable one-off computations on a pool of task threads. Each task thread is a
// runtime-internal actor (outside maxActors and the actor counters) running lib/tasks/runner.js,
// so tasks and their results travel through the Rust core like every other message. A thread
// runs one task at a time: the timeout clock starts when the task is handed to an idle thread,
// and a task that must be stopped (timeout, AbortSignal) is stopped by killing its thread, which
// the pool then replaces. Tasks wait in a FIFO queue in JS; an aborted queued task just leaves
// the queue, and its input is never serialised.
//
// This is the entry point (sup.task, and the pool's start and close); the parts:
//   functions.js  what a thread compiles a task function from
//   options.js    validation of task options, and the pool's defaults
//   errors.js     the errors tasks fail with
//   queue.js      a job (one task until it settles) and the FIFO jobs wait in
//   pool.js       the pool: threads, dispatch, replies
//   transfer.js   inputs and results through boxes of the memory pool (`transfer`), long ones in parcels
//   channel.js    long inputs and results on a side channel per task thread (Bun)
//   map.js        sup.map and sup.mapStream
//   helpers.js    sup.tasks: all, allSettled, race, any, stats

const { defOf } = require('./functions.js');
const { taskOptions } = require('./options.js');
const { closedError } = require('./errors.js');
const { pools, poolOf } = require('./pool.js');
const { map, mapStream } = require('./map.js');
const { tasksOf } = require('./helpers.js');

/** `sup.task(fn, input, options)`. */
function task(sup, fn, input, options) {
  let pool = pools.get(sup);
  if (pool === undefined) {
    if (sup._closing) {
      defOf(fn, 'task: fn');
      if (options !== undefined) taskOptions(options, 'task: options');
      return Promise.reject(closedError(sup));
    }
    pool = poolOf(sup);
  }
  return pool.task(fn, input, options);
}

/** Starts `sup`'s task pool now if it keeps threads (`tasks.minThreads`), so they are ready for the first task. */
function start(sup) {
  if (sup._config.tasks.minThreads > 0 && !sup._closing) poolOf(sup);
}

/** Stops the task threads of `sup` (queued tasks reject, running ones reject with `shutdown`). */
function close(sup) {
  const pool = pools.get(sup);
  return pool === undefined ? Promise.resolve() : pool.close();
}

module.exports = { task, start, close, map, mapStream, helpers: tasksOf };
