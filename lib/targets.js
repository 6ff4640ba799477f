'use strict';
// Resolves what an API was given as a target (ActorRef, "actor-N" id, registered name) to the
// numeric id the core uses.
const native = require('./native.js');

const ID = /^actor-(\d+)$/;
const ids = new Map(); // "actor-N" → N, memoised: ids are never reused
const MAX_IDS = 10000;

/** Numeric id of `target` in supervisor `supId`, or a TypeError/RangeError naming `param`. */
function resolveTarget(target, supId, param) {
  let key = target;
  if (target !== null && typeof target === 'object' && typeof target.id === 'string') key = target.id;
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`${param} must be an ActorRef, an actor id or a registered name`);
  }
  const known = ids.get(key);
  if (known !== undefined) return known;
  const m = ID.exec(key);
  if (m) {
    const n = Number(m[1]);
    if (ids.size >= MAX_IDS) ids.clear();
    ids.set(key, n);
    return n;
  }
  if (/^actor-\d+@/.test(key)) throw new RangeError(`${param}: ${key} is an actor of another node; this operation is local only`);
  const n = native.whereis(supId, key);
  if (n === null || n === undefined) throw new RangeError(`${param}: no actor registered as "${key}"`);
  return n;
}

/**
 * Numeric id of `target` if it is an `actor-N` id (or a ref carrying one) resolved before,
 * else undefined: the hot path of `ctx.send`, with no pattern matched per message.
 */
function knownId(target) {
  const key = target !== null && typeof target === 'object' ? target.id : target;
  return typeof key === 'string' ? ids.get(key) : undefined;
}

/** Number of a monitor reference `ref-N`, or a TypeError naming `param`. */
function monitorRef(ref, param) {
  const m = typeof ref === 'string' ? /^ref-(\d+)$/.exec(ref) : null;
  if (!m) throw new TypeError(`${param} must be a monitor reference ("ref-N")`);
  return Number(m[1]);
}

module.exports = { resolveTarget, knownId, monitorRef };
