'use strict';
// sup.map and sup.mapStream: a task function run over an iterable (or async iterable), at most
// `concurrency` tasks at once, items pulled as there is room; map resolves with every result,
// mapStream yields them in order. `onProgress(value, index)` hears each item's progress.

const { defOf } = require('./functions.js');
const { isObject, taskOptions } = require('./options.js');
const { abortError, closedError } = require('./errors.js');
const { pools, poolOf } = require('./pool.js');

const MAP_KEYS = ['concurrency', 'settle'];

function mapOptions(sup, options, param) {
  const o = options === undefined ? {} : options;
  const t = taskOptions(o, param, MAP_KEYS);
  let concurrency;
  if (o.concurrency === undefined) {
    concurrency = sup._config.tasks.maxThreads;
  } else {
    const c = o.concurrency;
    if (typeof c !== 'number' || Number.isNaN(c)) throw new TypeError(`${param}.concurrency must be a number`);
    if (c !== Infinity && (!Number.isInteger(c) || c < 1)) throw new RangeError(`${param}.concurrency must be an integer >= 1 (or Infinity)`);
    concurrency = c;
  }
  if (o.settle !== undefined && typeof o.settle !== 'boolean') throw new TypeError(`${param}.settle must be a boolean`);
  return {
    concurrency,
    settle: o.settle === true,
    signal: t.signal,
    onProgress: t.onProgress,
    job: { timeoutMs: t.timeoutMs, signal: undefined, limits: t.limits, key: t.key, transfer: t.transfer, onProgress: null, param },
  };
}

function iteratorOf(items, param) {
  if (isObject(items) || typeof items === 'string') {
    if (typeof items[Symbol.asyncIterator] === 'function') return { it: items[Symbol.asyncIterator](), async: true };
    if (typeof items[Symbol.iterator] === 'function') return { it: items[Symbol.iterator](), async: false };
  }
  throw new TypeError(`${param} must be an iterable or an async iterable`);
}

/**
 * Runs `fn` over `items` with at most `concurrency` tasks at once, pulling items lazily. Every
 * result is reported with `onResult(index, ok, value)`; `stop()` cancels what is still queued or
 * running and closes the iterator.
 */
class MapRun {
  constructor(sup, items, fn, options, param, windowFactor) {
    const { it, async } = iteratorOf(items, `${param}: items`);
    this.def = defOf(fn, `${param}: fn`);
    const o = mapOptions(sup, options, `${param}: options`);
    this.pool = poolOf(sup);
    this.sup = sup;
    this.it = it;
    this.async = async;
    this.concurrency = o.concurrency;
    this.window = o.concurrency * windowFactor; // in flight + finished but not consumed
    this.settle = o.settle;
    this.signal = o.signal;
    this.jobOptions = o.job;
    this.onProgress = o.onProgress; // (value, index) => void, or null
    this.active = new Set();
    this.index = 0; // items pulled
    this.consumed = 0; // results consumed (mapStream) or 0 (map)
    this.exhausted = false;
    this.pulling = false;
    this.stopped = false;
    this.onResult = null;
    this.onEnd = null;
    this.onAbort = null;
  }

  begin() {
    if (this.signal !== undefined) {
      if (this.signal.aborted) {
        this.fail(abortError(this.signal.reason));
        return;
      }
      this.onAbort = () => this.fail(abortError(this.signal.reason));
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.fill();
  }

  fill() {
    while (!this.stopped && !this.exhausted && !this.pulling && this.active.size < this.concurrency && this.index - this.consumed < this.window) {
      if (this.async) {
        this.pulling = true;
        let p;
        try {
          p = Promise.resolve(this.it.next());
        } catch (err) {
          this.pulling = false;
          this.fail(err);
          return;
        }
        p.then(
          (r) => {
            this.pulling = false;
            if (this.stopped) return;
            if (r.done) this.exhausted = true;
            else this.submit(r.value);
            this.fill();
          },
          (err) => {
            this.pulling = false;
            this.fail(err);
          },
        );
        return;
      }
      let r;
      try {
        r = this.it.next();
      } catch (err) {
        this.fail(err);
        return;
      }
      if (r.done) this.exhausted = true;
      else this.submit(r.value);
    }
    if (!this.stopped && this.exhausted && !this.pulling && this.active.size === 0) this.finish();
  }

  submit(item) {
    const i = this.index++;
    const cb = this.onProgress;
    const o = cb === null ? this.jobOptions : { ...this.jobOptions, onProgress: (value) => cb(value, i) };
    const job = this.pool.submit(this.def, item, o, true);
    this.active.add(job);
    job.promise.then(
      (v) => this.done(job, i, true, v),
      (e) => this.done(job, i, false, e),
    );
  }

  done(job, i, ok, v) {
    this.active.delete(job);
    if (this.stopped) return;
    this.onResult(i, ok, v);
    this.fill();
  }

  /** Stops listening to the caller's `signal` (if it listened). */
  unlisten() {
    if (this.onAbort === null) return;
    this.signal.removeEventListener('abort', this.onAbort);
    this.onAbort = null;
  }

  /** Stops everything this run started; the iterator is closed. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    const err = abortError('map stopped');
    for (const job of this.active) this.pool.cancel(job, err);
    this.active.clear();
    if (!this.exhausted) {
      this.exhausted = true;
      try {
        const r = this.it.return?.();
        if (r && typeof r.then === 'function') r.then(undefined, () => {});
      } catch {
        // closing the source is best effort
      }
    }
  }

  fail(err) {
    if (this.stopped) return;
    this.stop();
    this.onEnd(false, err);
  }

  finish() {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    this.onEnd(true);
  }
}

/** `sup.map(items, fn, { concurrency, settle, timeoutMs, signal, resourceLimits })`. */
function map(sup, items, fn, options) {
  if (sup._closing && !pools.has(sup)) {
    iteratorOf(items, 'map: items');
    defOf(fn, 'map: fn');
    mapOptions(sup, options, 'map: options');
    return Promise.reject(closedError(sup));
  }
  const run = new MapRun(sup, items, fn, options, 'map', Infinity);
  const results = [];
  return new Promise((resolve, reject) => {
    run.onResult = (i, ok, v) => {
      if (run.settle) results[i] = ok ? { status: 'fulfilled', value: v } : { status: 'rejected', reason: v };
      else if (ok) results[i] = v;
      else run.fail(v);
    };
    run.onEnd = (ok, err) => (ok ? resolve(results) : reject(err));
    run.begin();
  });
}

/** `sup.mapStream(items, fn, options)`: an async iterator of the results, in order. */
function mapStream(sup, items, fn, options) {
  if (sup._closing && !pools.has(sup)) {
    iteratorOf(items, 'mapStream: items');
    defOf(fn, 'mapStream: fn');
    mapOptions(sup, options, 'mapStream: options');
    const err = closedError(sup);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => Promise.reject(err),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
  const run = new MapRun(sup, items, fn, options, 'mapStream', 2);
  const buffer = new Map(); // index → [ok, value]
  let next = 0; // index of the next result to yield
  let ended = false; // the run ended (all results in, or a failure)
  let failure = null; // [err] once the run itself failed (signal, source error)
  let finished = false; // the consumer got done (or an error that ends the stream)
  let waiter = null;
  let started = false;

  const take = () => {
    if (finished) return { value: undefined, done: true };
    if (buffer.has(next)) {
      const [ok, v] = buffer.get(next);
      buffer.delete(next);
      next++;
      run.consumed = next;
      if (ok || run.settle) {
        run.fill();
        return { value: run.settle ? (ok ? { status: 'fulfilled', value: v } : { status: 'rejected', reason: v }) : v, done: false };
      }
      finished = true;
      run.stop();
      throw v;
    }
    if (failure !== null) {
      finished = true;
      throw failure[0];
    }
    if (ended) {
      finished = true;
      return { value: undefined, done: true };
    }
    return null;
  };

  const wake = () => {
    if (waiter === null) return;
    const w = waiter;
    waiter = null; // take() may end the run, which wakes again
    let r;
    try {
      r = take();
    } catch (err) {
      w.reject(err);
      return;
    }
    if (r !== null) w.resolve(r);
    else waiter = w;
  };

  run.onResult = (i, ok, v) => {
    buffer.set(i, [ok, v]);
    if (i === next) wake();
  };
  run.onEnd = (ok, err) => {
    ended = true;
    if (!ok) failure = [err];
    wake();
  };

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (!started) {
        started = true;
        run.begin();
      }
      if (waiter !== null) return Promise.reject(new Error('mapStream: next() called while a previous next() is pending'));
      let r;
      try {
        r = take();
      } catch (err) {
        return Promise.reject(err);
      }
      if (r !== null) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return() {
      finished = true;
      run.stop();
      buffer.clear();
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w.resolve({ value: undefined, done: true });
      }
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}

module.exports = { map, mapStream };
