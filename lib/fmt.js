'use strict';
// `ctx.fmt`: the encoders an actor gets for bytes (isolated and pooled actors share them).

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const fmt = Object.freeze({
  encode: (value) => textEncoder.encode(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(textDecoder.decode(bytes)),
  json: Object.freeze({
    encode: (value) => textEncoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(textDecoder.decode(bytes)),
  }),
  string: Object.freeze({
    encode: (s) => textEncoder.encode(String(s)),
    decode: (bytes) => textDecoder.decode(bytes),
  }),
  alloc: (size) => new Uint8Array(size),
});

module.exports = { fmt };
