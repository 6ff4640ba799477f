'use strict';
// Task inputs and results through boxes of the supervisor's memory pool (Tier 2), for tasks run
// with `transfer`.
//
// With `transfer`, the input does not travel as JSON: when the task is handed to a thread, the
// host writes it into a box of the supervisor's memory pool shared with that thread only, and
// releases its own reference at once, so the box lives exactly as long as the thread holds it
// (the thread releases it when the task ends; the core releases it if the thread dies). If no
// box is free, the thread is reserved and the write waits in the pool's FIFO. A bytes result
// comes back in a box the thread wrote: the host copies it once, then tells the thread to let go.
//
// These functions do that for a TaskPool (lib/task-pool.js), which calls them.

const native = require('./native.js');
const { encode } = require('./codec.js');
const tier2 = require('./tier2.js');
const { QUEUED, RUNNING } = require('./task-queue.js');

const textEncoder = new TextEncoder();

/**
 * The bytes a `transfer` task's input is written as, and how the thread gets it back: bytes as
 * they are (read when the task starts, not copied now), other values as JSON text. Throws at
 * once when the supervisor has no pool or the input cannot fit in a box.
 */
function transferInput(sup, input, param) {
  const { poolSize, boxSize } = sup._config.memory;
  if (!(poolSize > 0)) {
    throw new TypeError(`${param}.transfer needs the supervisor's memory pool, and this supervisor has none (memory.poolSize is 0)`);
  }
  if (input === undefined) return { bytes: null, kind: '' };
  let bytes;
  let kind;
  if (tier2.isBytes(input)) {
    bytes = tier2.asBytes(input);
    kind = tier2.bytesKind(input);
  } else {
    bytes = textEncoder.encode(encode(input, 'task: input'));
    kind = 'json';
  }
  if (bytes.byteLength > boxSize) {
    throw new RangeError(
      `${param}.transfer: the input is ${bytes.byteLength} bytes${kind === 'json' ? ' as JSON' : ''}, more than a box of the memory pool holds (memory.boxSize: ${boxSize} bytes)`,
    );
  }
  return { bytes, kind };
}

/**
 * Sends a `transfer` job to idle thread `t`: its input is written into a box shared with `t`
 * first. Without a free box, `t` is reserved and the write waits (FIFO) for one.
 */
function sendTransfer(pool, t, job) {
  if (job.bytes !== null && job.box === null) {
    const sid = pool.sup._sid;
    const corr = ++pool.corr;
    const r = native.boxAcquire(sid, job.bytes.byteLength, true, 0, pool.port, corr);
    if (r.status === 1) {
      job.state = RUNNING;
      job.thread = t;
      job.boxCorr = corr;
      t.jobs.push(job);
      pool.running++;
      pool.boxWaits.set(corr, job);
      return;
    }
    if (r.status !== 0) {
      job.fail(new Error(`task: transfer: ${r.error}`));
      pool.makeIdle(t);
      return;
    }
    if (!publish(pool, t, job, { boxIndex: r.index, epoch: r.epoch })) return;
  }
  const x = job.box === null ? '{}' : `{"box":[${job.box.boxIndex},${job.box.epoch}],"kind":"${job.kind}"}`;
  pool.dispatch(t, job, `${pool.head(t, job.def)},null,${x}]`);
}

/**
 * Writes `job`'s input into box `h` (granted to the host) and shares it with thread `t` only
 * (the host, its writer, holds no reference once it commits). False if the job could not go on
 * (handled here).
 */
function publish(pool, t, job, h) {
  const sid = pool.sup._sid;
  if (!native.boxWrite(sid, h.boxIndex, h.epoch, job.bytes)) {
    native.boxAbort(sid, h.boxIndex, h.epoch);
    job.fail(new Error('task: transfer: the box for the input was lost before it was written'));
    pool.makeIdle(t);
    return false;
  }
  const meta = job.kind === 'json' ? '{"msg":"task input","type":"json"}' : '{"msg":"task input","type":"binary"}';
  const err = native.boxCommit(sid, h.boxIndex, h.epoch, job.bytes.byteLength, meta, `[${t.num}]`);
  if (err !== null) {
    // the thread's actor is gone: the task goes back to the queue for another thread
    native.boxAbort(sid, h.boxIndex, h.epoch);
    pool.requeue(t, job);
    return false;
  }
  job.box = h;
  return true;
}

/** Takes a job waiting for a box off its reserved thread (it goes on, or is cancelled). */
function unreserve(pool, t, job) {
  const i = t.jobs.indexOf(job);
  if (i >= 0) {
    t.jobs.splice(i, 1);
    pool.running--;
  }
  job.boxCorr = 0;
  job.state = QUEUED;
  job.thread = null;
}

/** A box for a job's input became free (`g`: `[boxIndex, epoch]`, or null if the wait gave up). */
function granted(pool, corr, g) {
  const job = pool.boxWaits.get(corr);
  pool.boxWaits.delete(corr);
  const waiting = job !== undefined && job.boxCorr === corr && job.state === RUNNING;
  if (!Array.isArray(g)) {
    if (!waiting) return;
    const t = job.thread;
    unreserve(pool, t, job);
    job.fail(new Error('task: transfer: no box of the memory pool became free'));
    pool.makeIdle(t);
    pool.pump();
    return;
  }
  if (!waiting) {
    native.boxAbort(pool.sup._sid, g[0], g[1]); // its task was cancelled meanwhile
    return;
  }
  const t = job.thread;
  unreserve(pool, t, job);
  if (publish(pool, t, job, { boxIndex: g[0], epoch: g[1] })) sendTransfer(pool, t, job);
}

/**
 * A bytes result a thread wrote into a box (`[boxIndex, epoch, kind]`): copied once into this
 * thread's heap, then the host's reference goes, which frees the box (its writer, the thread,
 * holds none once it committed).
 */
function takeResult(pool, t, [boxIndex, epoch, kind]) {
  const sid = pool.sup._sid;
  const h = { boxIndex, epoch };
  const r = tier2.read(sid, h, pool.views); // the host may read any box, and holds it now
  if (r === null) throw new Error('task: the box holding the result was lost');
  const copy = r.bytes().slice().buffer;
  tier2.release(sid, h, pool.views);
  return tier2.viewOf(kind, copy);
}

module.exports = { transferInput, sendTransfer, unreserve, granted, takeResult };
