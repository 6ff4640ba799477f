'use strict';
// `ctx.fmt`: the byte encoders an actor gets (isolated and pooled actors share this one object).
// `encode` follows Future: bytes stay bytes, a string becomes its UTF-8 text, anything else its
// JSON text — so what it returns can be handed to `ctx.write` as `data` with the matching
// `type`. `json`, `string` and `cbor` are the single-format pairs; `cbor` uses cbor-x (loaded
// on first use), the same library `reader.cbor()` decodes with.

const { encode: jsonText } = require('./codec.js');

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
let cborX = null;

function cborLib() {
  cborX ??= require('cbor-x');
  return cborX;
}

/** A Uint8Array over the same memory for any binary value, or null for anything else. */
function bytesOf(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

/** Bytes to decode: a TypeError naming `param` for anything that is not binary. */
function input(bytes, param) {
  const b = bytesOf(bytes);
  if (b === null) throw new TypeError(`${param} must be a Uint8Array, an ArrayBuffer or a view`);
  return b;
}

/** JSON text as bytes; values JSON would change or lose are refused, as in messages. */
function jsonEncode(value, param) {
  if (value === undefined) throw new TypeError(`${param}: undefined has no JSON text`);
  return textEncoder.encode(jsonText(value, param));
}

const json = Object.freeze({
  encode: (value) => jsonEncode(value, 'fmt.json.encode: value'),
  decode: (bytes) => JSON.parse(textDecoder.decode(input(bytes, 'fmt.json.decode: bytes'))),
});

const string = Object.freeze({
  encode: (s) => textEncoder.encode(String(s)),
  decode: (bytes) => textDecoder.decode(input(bytes, 'fmt.string.decode: bytes')),
});

const cbor = Object.freeze({
  encode: (value) => {
    const out = cborLib().encode(value);
    // cbor-x returns a Buffer on Node; hand out a plain Uint8Array over the same bytes
    return out.constructor === Uint8Array ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
  decode: (bytes) => cborLib().decode(input(bytes, 'fmt.cbor.decode: bytes')),
});

const DECODERS = { json: json.decode, string: string.decode, cbor: cbor.decode, binary: (b) => input(b, 'fmt.decode: bytes') };

const fmt = Object.freeze({
  /** Bytes (any binary value, as a Uint8Array over the same memory) as they are; a string as its UTF-8 text; anything else as JSON. */
  encode(value) {
    const b = bytesOf(value);
    if (b !== null) return b;
    if (typeof value === 'string') return textEncoder.encode(value);
    return jsonEncode(value, 'fmt.encode: value');
  },
  /** Decodes bytes written as `type` (default `json`; `string`, `cbor`, or `binary`: the bytes themselves). */
  decode(bytes, type = 'json') {
    const d = typeof type === 'string' && Object.hasOwn(DECODERS, type) ? DECODERS[type] : null;
    if (d === null) throw new RangeError(`fmt.decode: type must be one of: ${Object.keys(DECODERS).join(', ')}`);
    return d(bytes);
  },
  json,
  string,
  cbor,
  alloc(size) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new RangeError('fmt.alloc: size must be an integer >= 0');
    return new Uint8Array(size);
  },
});

module.exports = { fmt };
