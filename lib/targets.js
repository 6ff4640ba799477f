'use strict';
// Resolves what an API was given as a target (ActorRef, "actor-N" id, registered name) to the
// numeric id the core uses.
const native = require('./native.js');

const ID = /^actor-(\d+)$/;

/** Numeric id of `target` in supervisor `supId`, or a TypeError/RangeError naming `param`. */
function resolveTarget(target, supId, param) {
  let key = target;
  if (target !== null && typeof target === 'object' && typeof target.id === 'string') key = target.id;
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`${param} must be an ActorRef, an actor id or a registered name`);
  }
  const m = ID.exec(key);
  if (m) return Number(m[1]);
  const n = native.whereis(supId, key);
  if (n === null || n === undefined) throw new RangeError(`${param}: no actor registered as "${key}"`);
  return n;
}

module.exports = { resolveTarget };
