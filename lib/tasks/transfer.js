'use strict';
// Task inputs and results through boxes of the supervisor's memory pool (Tier 2), for tasks run
// with `transfer`.
//
// With `transfer`, the input does not travel as JSON: when the task is handed to a thread, the
// host writes it into a box of the supervisor's memory pool shared with that thread only, and
// releases its own reference at once, so the box lives exactly as long as the thread holds it
// (the thread releases it when the task ends; the core releases it if the thread dies). If no
// box is free, the thread is reserved and the write waits in the pool's FIFO. A bytes result
// comes back in a parcel: on Node, a large one that is the whole of its ArrayBuffer is moved
// there without a copy (the task's buffer is detached, as a postMessage transfer list leaves
// it); otherwise the thread copies it once. The host takes the parcel's memory as its own.
//
// Long strings (an input or result that is a string, or whose JSON text is, of `BIG_TEXT` code
// units or more; `CHANNEL_TEXT` for results and inputs without `transfer` where the pool has
// side channels) travel beside the call, with or
// without `transfer`: on the thread's side channel (lib/tasks/channel.js: Bun) or as parcels
// (Node). A parcel holds the UTF-16 code units, copied once into process memory by the sender;
// the receiver reads them as a string over that memory, with no JSON and no UTF-8 transcoding
// on the way (JSON costs ≈ 1 ms per MiB each way on Node, and the text goes through UTF-8 twice
// more between the threads). An input's parcel lives as long as its job: the host drops it
// when the job settles, however it settles, so a task sent again (its thread restarted, or
// gone before it got it) reads the same one; on a side channel it is posted again each time
// the job is sent. A result's parcel is made by the task thread and taken (read and dropped) by
// the host; the supervisor's shutdown drops any left.
//
// These functions do that for a TaskPool (lib/tasks/pool.js), which calls them.

const native = require('../native.js');
const { encode } = require('../codec.js');
const tier2 = require('../tier2/index.js');
const { QUEUED, RUNNING } = require('./queue.js');

const textEncoder = new TextEncoder();

/** Strings (or JSON texts) at least this long, in UTF-16 code units, travel as parcels. */
const BIG_TEXT = 32 * 1024;

/** Bytes results from this size up are moved rather than copied, where they can be. */
const MOVE_FROM = 64 * 1024;
const isBun = typeof Bun !== 'undefined';
const movedOut = new WeakSet(); // buffers whose memory this thread moved to the host

/**
 * Puts a task's bytes result (`bytes`, a Uint8Array over all or part of the returned value's
 * memory) into a parcel for supervisor `owner`; returns the parcel's id. On Node, a result of
 * at least `MOVE_FROM` bytes that covers all of its ArrayBuffer is moved without a copy (its
 * buffer is detached in this thread), unless it is box memory or Node marked it untransferable
 * (its Buffer pool, memory an addon owns: a structured clone with a transfer list copies those
 * and leaves them attached); anything else is copied once. Returning a buffer that an earlier
 * result moved away throws a TypeError rather than resolving with an empty one.
 */
function bytesParcel(owner, bytes) {
  const buffer = bytes.buffer;
  if (movedOut.has(buffer)) {
    throw new TypeError(
      'task result: this buffer was already handed to the caller by an earlier task with `transfer` (a returned buffer is moved, not copied); return a new buffer each time',
    );
  }
  const whole = buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
  if (!isBun && whole && bytes.byteLength >= MOVE_FROM && !tier2.isBoxView(buffer)) {
    let own = null;
    try {
      own = structuredClone(buffer, { transfer: [buffer] });
    } catch {
      // (newer Node refuses an untransferable buffer in a transfer list: copied below)
    }
    if (own !== null && buffer.byteLength === 0) {
      movedOut.add(buffer);
      const id = native.parcelMoveBytes(owner, own);
      return id !== 0 ? id : native.parcelPutBytes(owner, new Uint8Array(own));
    }
  }
  return native.parcelPutBytes(owner, bytes);
}

/**
 * The JSON text of `job`'s input ('' for no input) when it is short; null when it is long (a
 * string, or JSON text, of `BIG_TEXT` code units or more), which is then kept in `job.big`
 * (`job.bigJson`: whether it is JSON text) until the job is sent, beside its call (`bigTail`).
 * Throws the codec's TypeError for inputs JSON would lose or alter.
 */
function inputText(job, input, limit) {
  if (typeof input === 'string' && input.length >= limit) {
    job.big = input;
    job.bigJson = false;
    return null;
  }
  const text = encode(input, 'task: input');
  if (text.length < limit) return text;
  job.big = text;
  job.bigJson = true;
  return null;
}

/**
 * What a call to thread `t` carries about `job`'s long input (its 4th element; `extra`: other
 * fields first, e.g. '"t":1,'): the id of a payload posted now on `t`'s side channel (where the
 * pool has one for `t`, lib/tasks/channel.js), else the job's parcel, made the first time.
 */
function bigTail(pool, t, job, extra) {
  const j = job.bigJson ? 1 : 0;
  const ch = t.chan;
  if (ch !== null && !job.noChannel) {
    const id = ch.post(job.big); // before the call goes: the thread usually finds it waiting
    job.sentOn = ch.gen;
    return `{${extra}"q":${id},"g":${ch.gen},"w":${ch.tid},"j":${j}}`;
  }
  if (job.parcel === 0) job.parcel = native.parcelPut(pool.sup._sid, job.big);
  return `{${extra}"p":${job.parcel},"j":${j}}`;
}

/**
 * The bytes a `transfer` task's input is written as, and how the thread gets it back: bytes as
 * they are (read when the task starts, not copied now), other values as JSON text. Throws at
 * once when the supervisor has no pool or the input cannot fit in a box.
 */
function transferInput(sup, job, input, param) {
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
    // (the same threshold as parcels on every runtime, so that what fits in a box does not
    // depend on whether the pool has side channels)
    const text = inputText(job, input, BIG_TEXT);
    if (text === null) return { bytes: null, kind: '' }; // a long text: beside the call, no box
    bytes = textEncoder.encode(text);
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
  const x =
    job.box !== null
      ? `{"t":1,"box":[${job.box.boxIndex},${job.box.epoch}],"kind":"${job.kind}"}`
      : job.big !== null
        ? bigTail(pool, t, job, '"t":1,')
        : '{"t":1}';
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
  // the host may read any box: one native call copies the bytes out and gives the reference
  // back (no view of the box is made, so none needs detaching)
  const copy = native.boxTakeCopy(pool.sup._sid, boxIndex, epoch);
  if (copy === null) throw new Error('task: the box holding the result was lost');
  return tier2.viewOf(kind, copy);
}

/** A bytes result a thread put into a parcel (`[id, kind]`): taken as the host's own buffer. */
function takeBytesParcel([id, kind]) {
  const buffer = native.parcelTakeBytes(id);
  if (buffer === null) throw new Error('task: the parcel holding the result was lost');
  return tier2.viewOf(kind, buffer);
}

/** A large result a thread put into a parcel (`[id, json]`): taken (read and dropped). */
function takeParcel([id, json]) {
  const text = native.parcelTake(id);
  if (text === null) throw new Error('task: the parcel holding the result was lost');
  return json === 1 ? JSON.parse(text) : text;
}

module.exports = { BIG_TEXT, bytesParcel, inputText, bigTail, transferInput, sendTransfer, unreserve, granted, takeResult, takeParcel, takeBytesParcel };
