'use strict';
// The behaviour of a task thread (an internal module actor, see lib/tasks/index.js). It handles one
// `call` at a time: `[fid, def, input]`, where `fid` names a task function, `def` is 0 when this
// thread already has it, or `{ code }` (a function's source) / `{ url }` (a module whose default
// export is the function) the first time. It replies `[1, ms, value]`, `[2, ms]` (undefined) or
// `[0, ms, error]` (`ms`: how long the task ran), so that a task that throws does not end the
// thread, or `[3, threadId]` when it does not know `fid` (a restarted incarnation); a 4th element, the heap
// in MiB, comes now and then if the host asked for it. `{ ping, sup, box, chan }` is a ping: it
// says how often to report the heap, which supervisor the thread works for, the size of its
// pool's boxes and whether the host opens a side channel to it; the answer is the thread's
// `threadId` (a bare number is a ping that only says the first, answered 0).
//
// With `transfer`, the call has a 4th element `{ t: 1, box: [boxIndex, epoch], kind }` (`{ t: 1 }` when
// there is no input): the input is a box of the supervisor's pool the host wrote and shared with
// this thread only. Bytes reach the task as a view of the box itself (`kind`: ArrayBuffer,
// Buffer, a typed array or DataView), JSON as its decoded value; the box is released (its views
// detached) when the task ends. A bytes result is written into a box readable by the host and
// the reply is `[4, ms, [boxIndex, epoch, kind]]`; the host reads, copies and releases it (this
// thread, its writer, holds no reference once it committed). The INBOX notices the core
// delivers for input boxes are ignored (the call carries the handle).
//
// A task function is called as `fn(input, { progress })`. When the host listens (`onProgress`),
// the call comes wrapped as `[-2, port, corr, call]`: each `progress(value)` is then sent at
// once to the pool's `port` as a reply `[5, value]` to `corr` (ahead of the final reply, in
// order), encoded like a result; once the task has settled, progress is dropped.
//
// Long strings travel beside the call (lib/tasks/transfer.js), with or without `transfer`: a 4th
// element `{ p, j }` (or `{ t: 1, p, j }` with `transfer`, whose other calls carry `t: 1` too)
// names a parcel holding the input, the string itself (`j` 0) or its JSON text (`j` 1), which
// the host drops when the task settles; `{ q, g, w, j }` names payload `q` on side channel `g`
// of thread `w` (lib/tasks/channel.js): taken from the channel, waited for if it is not there
// yet, or answered `[3, threadId]` (lost: the host sends it again) when the call was meant for
// another thread. A result that is a long string, or whose JSON text is long, goes on this
// thread's side channel if it has one (`[8, ms, [gen, id, j]]`; the ping says whether the host
// opens one, and the ping's answer is this thread's `threadId`), else into a parcel of the
// supervisor the ping named (`[6, ms, [parcel, j]]`), which the host takes. With `transfer`, a
// bytes result is copied into a bytes parcel (`[7, ms, [parcel, kind]]`), which the host takes
// as an ArrayBuffer of its own; it may be as large as a box of the pool.

const { parentPort, threadId } = require('node:worker_threads');
const native = require('../native.js');
const tier2 = require('../tier2/index.js');
const { moduleExports, compile } = require('../actor/behaviour.js');
const { encode } = require('../codec.js');
const { BIG_TEXT, bytesParcel } = require('./transfer.js');
const { ThreadEnd, CHANNEL_TEXT, NOT_HERE, GONE } = require('./channel.js');
const { withTypeScriptHint } = require('../actor/ts-hint.js');

const { FAIL, OK, UNDEF, LOST, BOX, PROGRESS, PARCEL, BYTES_PARCEL, CHANNEL, WITH_PROGRESS } = require('./tags.js');
const K_REPLY_OK = require('../port/kinds.js').REPLY_OK;
const RESULT_META = { msg: 'task result', type: 'binary', share: 'owner' };

const fns = new Map(); // fid → function (or the promise of a module's function)

async function load(url) {
  const mod = await import(url).catch((err) => {
    throw withTypeScriptHint(err, url); // Node cannot load TypeScript without a loader
  });
  const fn = moduleExports(mod).default; // the same rule as module actors
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
let owner = 0; // the supervisor whose parcels large results go into (0: none; the ping sets it)
let boxSize = 0; // the bytes a result may have with transfer (a box of the supervisor's pool)
let wantChannel = false; // the host opens a side channel to this thread (the ping says so)
let side = null; // this thread's end of its side channels (lib/tasks/channel.js), once used
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

/**
 * The reply for a value that travels as JSON or, when it is a long string or its JSON text is
 * long, beside the reply: on this thread's side channel if it has one, else in a parcel. A
 * value JSON would lose or alter goes back as it is, so that the reply's own encoding refuses
 * it the usual way.
 */
function valueReply(t0, v) {
  if (typeof v === 'string') {
    if (v.length >= CHANNEL_TEXT && v.length >= bigText()) return bigReply(t0, v, v, 0);
  } else if (v !== null && typeof v === 'object') {
    let text = '';
    try {
      text = encode(v, 'task result');
    } catch {
      return reply(OK, t0, v);
    }
    if (text.length >= CHANNEL_TEXT && text.length >= bigText()) return bigReply(t0, v, text, 1);
  }
  return reply(OK, t0, v);
}

/** How long a result must be to go beside its reply: shorter on a side channel than in a parcel. */
const bigText = () => (resultChannel() !== null ? CHANNEL_TEXT : BIG_TEXT);

/** The reply for a long result `text` (`v` itself, or its JSON text: `json` 1). */
function bigReply(t0, v, text, json) {
  const box = resultChannel();
  if (box !== null) return reply(CHANNEL, t0, [box.gen, box.post(text), json]); // posted before the reply goes
  if (owner !== 0) return reply(PARCEL, t0, [native.parcelPut(owner, text), json]);
  return reply(OK, t0, v);
}

/** The side channel results go on, if this thread has one. */
function resultChannel() {
  if (side === null) {
    if (!wantChannel) return null;
    side = new ThreadEnd(parentPort, threadId);
  }
  if (side.box === null && wantChannel) side.pull();
  return side.box;
}

const LOST_INPUT = Symbol('lost input');

/** What a thread replies when it cannot run a call: the host sends it again. */
const lost = () => [LOST, threadId];

/**
 * The long input a call names (`x`: `{ q, g, w, j }` on a side channel, or `{ p, j }` in a
 * parcel; `j` 1 for JSON text): the value, LOST_INPUT if it cannot be had (its task settled
 * meanwhile, or the call was meant for another thread's channel), or a promise of either while
 * a payload is still on its way.
 */
function bigInput(x) {
  if (x.q === undefined) {
    const text = native.parcelRead(x.p);
    if (text === null) return LOST_INPUT; // its task settled meanwhile: nobody waits for this reply
    return x.j === 1 ? JSON.parse(text) : text;
  }
  if (x.w !== threadId) return LOST_INPUT; // posted to the thread of another incarnation
  side ??= new ThreadEnd(parentPort, threadId);
  const box = side.channel(x.g);
  if (box === null) return LOST_INPUT;
  if (box instanceof Promise) return box.then((b) => (b === null ? LOST_INPUT : fromChannel(b, x)));
  return fromChannel(box, x);
}

function fromChannel(box, x) {
  const v = box.take(x.q);
  if (v === NOT_HERE) return box.wait(x.q).then((w) => decoded(w, x.j));
  return decoded(v, x.j);
}

const decoded = (v, json) => (v === GONE ? LOST_INPUT : json === 1 ? JSON.parse(v) : v);

/** A call that will not run here drops its payload if it is waiting on this thread's channel. */
function dropInput(x) {
  if (x.q === undefined || x.w !== threadId || side === null || side.box === null || side.box.gen !== x.g) return;
  side.box.take(x.q);
}

/** The reply for a value a task returned without `transfer`. */
function plain(t0, v) {
  if (v === undefined) return reply(UNDEF, t0);
  if (tier2.isBytes(v)) {
    const err = new TypeError(
      `task result: a ${v.constructor?.name ?? 'binary value'} cannot be sent as JSON; ` +
        'run the task with { transfer: true } to return bytes through the memory pool',
    );
    return reply(FAIL, t0, failure(err, false));
  }
  return valueReply(t0, v);
}

/** Progress of a task nobody listens to: checked like a result, then dropped. */
const UNHEARD = Object.freeze({
  progress(value) {
    encode(value, 'progress: value');
  },
});

/**
 * The second argument of a task whose host listens for progress: `progress(value)` replies to
 * `corr` on `port` at once, until `close()` (the task settled).
 */
function reporter(port, corr) {
  let open = true;
  const head = `[${K_REPLY_OK},[${PROGRESS}`;
  const helpers = Object.freeze({
    progress(value) {
      const text = encode(value, 'progress: value');
      if (open) native.replyTo(port, corr, text === '' ? `${head}]]` : `${head},${text}]]`);
    },
  });
  return { helpers, close: () => (open = false) };
}

function invoke(fn, input, fromSource, helpers, t0 = performance.now()) {
  let r;
  try {
    r = fn(input, helpers);
  } catch (err) {
    return reply(FAIL, t0, failure(err, fromSource));
  }
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
    return Promise.resolve(r).then(
      (v) => plain(t0, v),
      (err) => reply(FAIL, t0, failure(err, fromSource)),
    );
  }
  return plain(t0, r);
}

const handleOf = (box) => ({ boxIndex: box[0], epoch: box[1] });

/**
 * Runs a task with `transfer` (`x`: `{ t: 1, box?, kind? }`, or a long input already had,
 * `big`): input from a box, or beside the call; bytes results into a parcel.
 */
function invokeTransfer(fn, x, ctx, fromSource, helpers, big, t0 = performance.now()) {
  let input = big;
  let handle = null; // the input box, until released
  let buffer = null; // the input view's memory (bytes inputs)
  if (x.box !== undefined) {
    handle = handleOf(x.box);
    const r = ctx.read(handle);
    if (r === null) return lost(); // the box went with a previous incarnation: the host writes it again
    if (x.kind === 'json') {
      try {
        input = r.json();
      } catch (err) {
        return reply(FAIL, t0, failure(err, false));
      } finally {
        ctx.release(handle);
        handle = null;
      }
    } else {
      buffer = r.bytes().buffer;
      input = tier2.viewOf(x.kind, buffer);
    }
  }
  const releaseInput = () => {
    if (handle === null) return;
    ctx.release(handle); // detaches every view of it first
    handle = null;
  };
  const finish = (v) => {
    if (!tier2.isBytes(v)) {
      releaseInput();
      return v === undefined ? reply(UNDEF, t0) : valueReply(t0, v);
    }
    const kind = tier2.bytesKind(v);
    let bytes = tier2.asBytes(v);
    if (owner !== 0 && boxSize > 0) {
      // copied once into a parcel the host takes as its own ArrayBuffer (no box, no second copy);
      // the same size limit as a box, so results behave the same whichever way they go
      if (bytes.byteLength > boxSize) {
        releaseInput();
        const err = new RangeError(`task result: write of ${bytes.byteLength} bytes exceeds the box size of ${boxSize} bytes (transfer)`);
        return reply(FAIL, t0, failure(err, false));
      }
      let id;
      try {
        id = bytesParcel(owner, bytes); // (moved or copied; a view of the input box is copied before it goes)
      } catch (err) {
        releaseInput();
        return reply(FAIL, t0, failure(err, false));
      }
      releaseInput();
      return reply(BYTES_PARCEL, t0, [id, kind]);
    }
    if (buffer !== null && bytes.buffer === buffer) bytes = bytes.slice(); // a view of the input box, which goes now
    releaseInput();
    return ctx.write({ ...RESULT_META, data: bytes }).then((w) => {
      if (w.isErr) {
        const why = String(w.error).replace(/^write: /, '');
        const E = /exceeds the box size/.test(why) ? RangeError : Error;
        return reply(FAIL, t0, failure(new E(`task result: ${why} (transfer)`), false));
      }
      return reply(BOX, t0, [w.value.boxIndex, w.value.epoch, kind]);
    });
  };
  const failed = (err) => {
    releaseInput();
    return reply(FAIL, t0, failure(err, fromSource));
  };
  let r;
  try {
    r = fn(input, helpers);
  } catch (err) {
    return failed(err);
  }
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') return Promise.resolve(r).then(finish, failed);
  return finish(r);
}

function run(fn, msg, ctx, fromSource, helpers) {
  if (msg.length <= 3) return invoke(fn, msg[2], fromSource, helpers);
  const x = msg[3];
  if (x.p === undefined && x.q === undefined) return invokeTransfer(fn, x, ctx, fromSource, helpers, undefined);
  // taking a long input counts as running the task (the host sizes its polling on that time)
  const t0 = performance.now();
  const go = (input) => {
    if (input === LOST_INPUT) return lost();
    return x.t === 1 ? invokeTransfer(fn, x, ctx, fromSource, helpers, input, t0) : invoke(fn, input, fromSource, helpers, t0);
  };
  const input = bigInput(x);
  return input instanceof Promise ? input.then(go) : go(input);
}

module.exports = function runTask(self, msg, ctx) {
  if (typeof msg === 'number') {
    heapEvery = msg; // ping: the thread is up
    return 0;
  }
  if (msg !== null && typeof msg === 'object' && typeof msg.ping === 'number') {
    // ping: the thread is up, which supervisor it works for, its box size, whether the host
    // opens a side channel to it; the answer says which thread it is (for that channel)
    heapEvery = msg.ping;
    owner = msg.sup;
    boxSize = msg.box;
    wantChannel = msg.chan === 1;
    return threadId;
  }
  if (!Array.isArray(msg)) return undefined; // an INBOX notice of an input box
  if (msg[0] !== WITH_PROGRESS) return runCall(msg, ctx, UNHEARD);
  const { helpers, close } = reporter(msg[1], msg[2]);
  const r = runCall(msg[3], ctx, helpers);
  if (r === null || typeof r !== 'object' || typeof r.then !== 'function') {
    close();
    return r;
  }
  return r.then(
    (v) => {
      close();
      return v;
    },
    (err) => {
      close();
      throw err;
    },
  );
};

/** Runs one task call `[fid, def, input?, transfer?]` with `helpers` (its second argument). */
function runCall(msg, ctx, helpers) {
  const fid = msg[0];
  let fn = fns.get(fid);
  if (fn === undefined) {
    const def = msg[1];
    if (def === 0) {
      // this incarnation never got it (the thread was restarted): the host sends it again
      if (msg.length > 3) {
        if (msg[3].box !== undefined) ctx.release(handleOf(msg[3].box));
        dropInput(msg[3]);
      }
      return lost();
    }
    if (def.reset) fns.clear(); // the host forgets what this thread knows at the same time
    if (def.url !== undefined) {
      const url = def.url;
      const p = load(url); // a failed import stays cached, as the module loader caches it
      fns.set(fid, p);
      return p.then(
        (f) => {
          if (fns.get(fid) === p) fns.set(fid, f);
          return run(f, msg, ctx, false, helpers);
        },
        (err) => failedLoad(err, msg, ctx),
      );
    }
    try {
      fn = compile(def.code, 'task source');
      fn.fromSource = true;
    } catch (err) {
      fn = () => {
        throw err;
      };
    }
    fns.set(fid, fn);
  } else if (typeof fn.then === 'function') {
    return fn.then((f) => run(f, msg, ctx, false, helpers), (err) => failedLoad(err, msg, ctx));
  }
  return run(fn, msg, ctx, fn.fromSource === true, helpers);
}

/** A module task that failed to load: its input box (if any) goes back at once. */
function failedLoad(err, msg, ctx) {
  if (msg.length > 3) {
    if (msg[3].box !== undefined) ctx.release(handleOf(msg[3].box));
    dropInput(msg[3]);
  }
  return [FAIL, 0, failure(err, false)];
}
