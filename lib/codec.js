'use strict';
// Encoding of Tier 1 messages: JSON text, refusing values JSON would silently lose or change
// (functions, symbols, bigints, cycles, NaN and ±Infinity, Maps, Sets, binary views, Dates,
// Errors). Object fields whose value is `undefined` are omitted and symbol keys are ignored, as
// JSON does. An object with a toJSON method of its own class (an ActorRef travels as `{ id }`)
// is sent as what it returns, on purpose; an instance of another class arrives as a plain object
// of its own enumerable fields. Only objects whose prototype is not Object's reach these checks,
// so plain messages cost nothing more.

const MAX_DEPTH = 512;

function refuse(param, what, hint) {
  return new TypeError(`${param}: ${what} cannot be sent (messages must be JSON-serialisable)${hint ? `: ${hint}` : ''}`);
}

function checkValue(x, param, depth) {
  switch (typeof x) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (x - x !== 0) throw refuse(param, `${x}`); // NaN, Infinity, -Infinity
      return;
    case 'object':
      if (x !== null) checkObject(x, param, depth + 1);
      return;
    default:
      throw refuse(param, `a ${typeof x}`);
  }
}

function checkObject(v, param, depth) {
  if (depth > MAX_DEPTH) throw new TypeError(`${param}: nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkValue(v[i], param, depth);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) {
      throw refuse(param, `a ${v.constructor.name}`);
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Promise || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) {
      throw refuse(param, `a ${v.constructor.name}`);
    }
    if (v instanceof Date) throw refuse(param, 'a Date', 'it would arrive as a string; send date.toISOString() or date.getTime()');
    if (v instanceof Error) throw refuse(param, `an Error (${v.constructor?.name ?? 'Error'})`, 'JSON keeps none of its fields; send { name, message }');
    if (typeof v.toJSON === 'function') return; // its class chose its JSON form
  }
  for (const k in v) checkValue(v[k], param, depth);
}

/** JSON text of `value`; a TypeError naming `param` if it is not faithfully serialisable. */
function encode(value, param) {
  if (value === undefined) return '';
  const t = typeof value;
  if (t === 'string' || t === 'boolean' || value === null) return JSON.stringify(value);
  if (t === 'number') {
    if (value - value !== 0) throw refuse(param, `${value}`);
    return JSON.stringify(value);
  }
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    const what = /circular|cyclic/i.test(err.message)
      ? 'a circular structure'
      : /bigint/i.test(err.message)
        ? 'a bigint'
        : `a value (${err.message})`;
    throw refuse(param, what);
  }
  checkValue(value, param, -1);
  return text;
}

/**
 * The reply body of a call whose handler returned `value`: `[REPLY_OK,value]`, or
 * `[REPLY_ERR,reason]` when `value` cannot be sent (`K`: the envelope kinds of lib/port/kinds.js).
 */
function replyText(value, K) {
  try {
    const text = encode(value, 'call reply');
    return text === '' ? `[${K.REPLY_OK}]` : `[${K.REPLY_OK},${text}]`;
  } catch (err) {
    return JSON.stringify([K.REPLY_ERR, err.message]);
  }
}

module.exports = { encode, replyText };
