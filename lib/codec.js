'use strict';
// Encoding of Tier 1 messages: JSON text, refusing values JSON would silently lose or change
// (functions, symbols, bigints, cycles, NaN and ±Infinity, Maps, Sets, binary views). Object
// fields whose value is `undefined` are omitted, as JSON does.

const MAX_DEPTH = 512;

function refuse(param, what) {
  return new TypeError(`${param}: ${what} cannot be sent (messages must be JSON-serialisable)`);
}

function check(v, param, depth) {
  const t = typeof v;
  if (t === 'number') {
    if (!Number.isFinite(v)) throw refuse(param, `${v}`);
    return;
  }
  if (t === 'function' || t === 'symbol' || t === 'bigint') throw refuse(param, `a ${t}`);
  if (t !== 'object' || v === null) return;
  if (depth > MAX_DEPTH) throw new TypeError(`${param}: nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) check(v[i], param, depth + 1);
    return;
  }
  if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) {
    throw refuse(param, `a ${v.constructor.name}`);
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Promise) {
    throw refuse(param, `a ${v.constructor.name}`);
  }
  if (typeof v.toJSON === 'function') return;
  for (const k in v) {
    if (Object.hasOwn(v, k)) check(v[k], param, depth + 1);
  }
  for (const s of Object.getOwnPropertySymbols(v)) {
    if (Object.prototype.propertyIsEnumerable.call(v, s)) throw refuse(param, 'a symbol key');
  }
}

/** JSON text of `value`; a TypeError naming `param` if it is not faithfully serialisable. */
function encode(value, param) {
  if (value === undefined) return '';
  const t = typeof value;
  if (t === 'string' || t === 'boolean' || value === null) return JSON.stringify(value);
  if (t === 'number') {
    if (!Number.isFinite(value)) throw refuse(param, `${value}`);
    return JSON.stringify(value);
  }
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    const what = /circular/i.test(err.message)
      ? 'a circular structure'
      : /bigint/i.test(err.message)
        ? 'a bigint'
        : `a value (${err.message})`;
    throw refuse(param, what);
  }
  check(value, param, 0);
  return text;
}

module.exports = { encode };
