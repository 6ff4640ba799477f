'use strict';
// Tier 2 in JS threads: encoding writes, readers over views of box memory, and the table of
// views this thread holds so they are detached before it gives a box back.

const native = require('../native.js');
const { markAsUntransferable } = require('node:worker_threads');
const { Ok, Err } = require('../result.js');
const { encode } = require('../codec.js');
const { resolveTarget } = require('../targets.js');

const TYPES = ['json', 'string', 'binary', 'cbor'];
const SHARES = ['owner', 'group', 'linked', 'all'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let cbor = null; // loaded on first use

function cborLib() {
  cbor ??= require('cbor-x');
  return cbor;
}

function isBytes(v) {
  return v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function asBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

const VIEW_KINDS = [
  'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView',
];

/** What kind of bytes `v` is (`ArrayBuffer`, `Buffer`, a typed array's name, `DataView`), for `viewOf`. */
function bytesKind(v) {
  if (v instanceof ArrayBuffer) return 'ArrayBuffer';
  if (typeof Buffer === 'function' && Buffer.isBuffer(v)) return 'Buffer';
  for (const name of VIEW_KINDS) {
    const C = globalThis[name];
    if (typeof C === 'function' && v instanceof C) return name;
  }
  return 'Uint8Array';
}

/** A view of that kind over all of `buffer` (no copy); unknown kinds are a Uint8Array. */
function viewOf(kind, buffer) {
  if (kind === 'ArrayBuffer') return buffer;
  if (kind === 'Buffer' && typeof Buffer === 'function') return Buffer.from(buffer);
  const C = VIEW_KINDS.includes(kind) ? globalThis[kind] : undefined;
  return typeof C === 'function' ? new C(buffer) : new Uint8Array(buffer);
}

/** The bytes a write stores for `data` of `type` (bytes given as such are stored as they are). */
function encodeData(type, data) {
  if (data === undefined) throw new TypeError('write.data is required');
  if (isBytes(data)) return asBytes(data);
  switch (type) {
    case 'json':
      return encoder.encode(encode(data, 'write.data'));
    case 'string':
      if (typeof data !== 'string') throw new TypeError('write: data of type "string" must be a string');
      return encoder.encode(data);
    case 'cbor':
      return cborLib().encode(data);
    default:
      throw new TypeError('write: data of type "binary" must be a Uint8Array, an ArrayBuffer or a view');
  }
}

/**
 * Validated `{ msg, type, share }` of a write or commit; throws a TypeError naming the field.
 * Share list entries (refs, ids, registered names) are resolved in supervisor `supId`.
 */
function writeOptions(o, param, supId) {
  if (o === null || typeof o !== 'object') throw new TypeError(`${param} must be an object`);
  if (typeof o.msg !== 'string' || o.msg.length === 0) throw new TypeError(`${param}.msg must be a non-empty string`);
  const type = o.type ?? 'json';
  if (!TYPES.includes(type)) throw new RangeError(`${param}.type must be one of: ${TYPES.join(', ')}`);
  return { msg: o.msg, type, share: shareText(o.share ?? 'owner', `${param}.share`, supId) };
}

function shareText(share, param, supId) {
  if (typeof share === 'string' && SHARES.includes(share)) return share;
  if (Array.isArray(share)) {
    // refs, ids and registered names, like every other target (docs/ARCHITECTURE.md, Tier 2)
    return JSON.stringify(share.map((t) => resolveTarget(t, supId, `${param}: list entry`)));
  }
  throw new TypeError(`${param} must be one of ${SHARES.join(', ')} or a list of actors`);
}

/** The `{ boxIndex, epoch }` a message carries (`m.handle`, `m.data.handle`), or a Lock itself. */
function handleOf(m) {
  if (m === null || typeof m !== 'object') return null;
  const h = m.handle ?? m.data?.handle ?? m;
  if (h === null || typeof h !== 'object') return null;
  const { boxIndex, epoch } = h;
  if (!Number.isInteger(boxIndex) || boxIndex < 0 || !Number.isInteger(epoch) || epoch < 1) return null;
  if (boxIndex > 0xffffffff || epoch > 0xffffffff) return null;
  return { boxIndex, epoch };
}

// On Node, views of box memory are made through V8's own API (src/v8view.cc: V8 does not count
// them as external memory), and Node does not mark such buffers untransferable as it marks the
// ones Node-API makes. Marked here, so that postMessage copies a view instead of moving the box
// memory out of this thread, where nothing would detach it (Bun refuses to transfer them).
const untransferable = typeof Bun === 'undefined' && typeof markAsUntransferable === 'function' ? markAsUntransferable : null;

/** Every view of box memory this thread was given (so that nothing moves one elsewhere). */
const boxViews = new WeakSet();

/** A view from the addon, made so that postMessage never moves it to another thread. */
function boxView(buffer) {
  if (buffer === null) return null;
  if (untransferable !== null) untransferable(buffer);
  boxViews.add(buffer);
  return buffer;
}

/** Whether `buffer` is a view of box memory (its memory is the pool's, never to be moved). */
function isBoxView(buffer) {
  return boxViews.has(buffer);
}

/** Views of box memory held by this thread, by box generation. */
class Views {
  constructor() {
    this.byBox = new Map();
  }

  add(h, buffer) {
    const key = `${h.boxIndex}:${h.epoch}`;
    const list = this.byBox.get(key);
    if (list) list.push(buffer);
    else this.byBox.set(key, [buffer]);
  }

  /** Detaches every view of that box generation (byteLength becomes 0). */
  detach(h) {
    const key = `${h.boxIndex}:${h.epoch}`;
    const list = this.byBox.get(key);
    if (!list) return;
    this.byBox.delete(key);
    for (const b of list) if (b.byteLength > 0) native.detach(b);
  }

  /** Detaches every view this thread holds (an incarnation ended in a thread that goes on). */
  detachAll() {
    for (const list of this.byBox.values()) for (const b of list) if (b.byteLength > 0) native.detach(b);
    this.byBox.clear();
  }

  size() {
    let n = 0;
    for (const list of this.byBox.values()) n += list.length;
    return n;
  }
}

/** A reader over a view of the committed bytes (no copy until asked for one). */
function makeReader(buffer, meta, handle) {
  const view = () => {
    if (buffer.byteLength === 0 && meta.len !== 0) throw new Error('read: the box was released (its view is detached)');
    return new Uint8Array(buffer);
  };
  return Object.freeze({
    msg: meta.msg,
    type: meta.type,
    handle,
    get length() {
      return buffer.byteLength;
    },
    /** The box memory itself (zero-copy). */
    bytes: view,
    /** An owned copy. */
    copy: () => view().slice(),
    /** An owned copy (Future compatibility). */
    binary: () => view().slice(),
    /** An owned copy (Future compatibility: a Uint8Array, as Future's raw() returns). */
    raw: () => view().slice(),
    string: () => decoder.decode(view()),
    json: () => JSON.parse(decoder.decode(view())),
    cbor: () => cborLib().decode(view()),
  });
}

/**
 * Reads a box from this thread: a reader, or null for Tier 1 messages and stale, forged or
 * unauthorised handles. `actor`: the actor a pool worker reads for (see `writer`).
 */
function read(sup, m, views, actor) {
  const h = handleOf(m);
  if (!h) return null;
  const metaText = native.boxMeta(sup, h.boxIndex, h.epoch, actor);
  const buffer = metaText === null ? null : boxView(native.boxRead(sup, h.boxIndex, h.epoch, actor));
  if (buffer === null) return null;
  views.add(h, buffer);
  const meta = JSON.parse(metaText);
  meta.len = buffer.byteLength;
  return makeReader(buffer, meta, Object.freeze({ ...h }));
}

/** Gives this thread's reference back after detaching its views; false if it held none. */
function release(sup, handle, views, actor) {
  const h = handleOf(handle);
  if (!h) return false;
  views.detach(h);
  return native.boxRelease(sup, h.boxIndex, h.epoch, actor);
}

/**
 * Tier 2 writes of one actor incarnation (`ctx.write`, `ctx.alloc`). `who`: `{ sup, actor,
 * port, leaseMs, views, corr(), granted(c) }` — `actor` is the actor's id in a pool worker (which
 * acts for many) and undefined in an isolated actor's thread (which acts for its bound actor);
 * `port` and a fresh `corr()` address a queued write's answer, which `granted(c)` awaits
 * (`[boxIndex, epoch]`, or null when the wait timed out); `views` holds the views it makes.
 */
function writer(who) {
  /** A box to write `size` bytes into: `Ok({ boxIndex, epoch })`, or `Err` (too large, timeout…). */
  function acquireBox(size, options, param) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      return Promise.resolve(Err(`${param}: options must be an object`));
    }
    if (options?.wait !== undefined && typeof options.wait !== 'boolean') {
      return Promise.resolve(Err(`${param}: wait must be a boolean`)); // not read as "wait" if truthy
    }
    const wait = options?.wait !== false;
    const timeoutMs = options?.timeoutMs ?? who.leaseMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.resolve(Err(`${param}: timeoutMs must be a positive finite number`));
    }
    const c = who.corr();
    const r = native.boxAcquire(who.sup, size, wait, timeoutMs, who.port, c, who.actor);
    if (r.status === 0) return Promise.resolve(Ok({ boxIndex: r.index, epoch: r.epoch }));
    if (r.status === 2) return Promise.resolve(Err(`${param}: ${r.error}`));
    return who.granted(c).then((grant) =>
      grant === null || grant === undefined
        ? Err(`${param}: no box became free within ${timeoutMs} ms`)
        : Ok({ boxIndex: grant[0], epoch: grant[1] }),
    );
  }

  function commitBox(h, len, opts, param) {
    const meta = JSON.stringify({ msg: opts.msg, type: opts.type });
    const err = native.boxCommit(who.sup, h.boxIndex, h.epoch, len, meta, opts.share, who.actor);
    if (err !== null) {
      native.boxAbort(who.sup, h.boxIndex, h.epoch, who.actor);
      return Err(`${param}: ${err}`);
    }
    return Ok(Object.freeze({ boxIndex: h.boxIndex, epoch: h.epoch }));
  }

  /** Tier 2 write with one copy: `Ok(Lock)` once committed and delivered to the readers. */
  async function writeBox(o) {
    let opts;
    let bytes;
    try {
      opts = writeOptions(o, 'write', who.sup);
      bytes = encodeData(opts.type, o.data);
    } catch (err) {
      return Err(err.message);
    }
    const g = await acquireBox(bytes.byteLength, o, 'write');
    if (g.isErr) return g;
    const h = g.value;
    if (!native.boxWrite(who.sup, h.boxIndex, h.epoch, bytes, who.actor)) return Err('write: the box was lost (lease expired)');
    return commitBox(h, bytes.byteLength, opts, 'write');
  }

  /** Tier 2 write with no copy: a view into the box to fill, then `commit` or `abort`. */
  async function allocBox(size, options) {
    if (!Number.isInteger(size) || size < 0) return Err('alloc: size must be a non-negative integer');
    const g = await acquireBox(size, options, 'alloc');
    if (g.isErr) return g;
    const h = g.value;
    const buffer = boxView(native.boxWritable(who.sup, h.boxIndex, h.epoch, size, who.actor));
    if (buffer === null) return Err('alloc: the box was lost (lease expired)');
    who.views.add(h, buffer);
    let done = false;
    return Ok(
      Object.freeze({
        bytes: new Uint8Array(buffer),
        /** Publishes the box; `bytes` is detached. */
        async commit(c) {
          if (done) return Err('commit: already committed or aborted');
          let opts;
          try {
            opts = writeOptions(c, 'commit', who.sup);
          } catch (err) {
            return Err(err.message);
          }
          done = true;
          who.views.detach(h);
          return commitBox(h, size, opts, 'commit');
        },
        /** Gives the box back unwritten; `bytes` is detached. */
        abort() {
          if (done) return;
          done = true;
          who.views.detach(h);
          native.boxAbort(who.sup, h.boxIndex, h.epoch, who.actor);
        },
      }),
    );
  }

  return { write: writeBox, alloc: allocBox };
}

module.exports = { writer, encodeData, writeOptions, handleOf, Views, read, release, isBytes, isBoxView, asBytes, bytesKind, viewOf, Ok, Err };
