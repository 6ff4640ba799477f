'use strict';
// Envelope kinds shared with the Rust core (crate/src/envelope.rs). Envelopes reach JS as
// `[kind, from, corr, body]`.
module.exports = Object.freeze({
  USER: 0,
  CALL: 1,
  SYSTEM: 2,
  REPLY: 3,
  INIT: 4,
  STOP: 5,
  EMIT: 10,
  EXIT: 11,
  TIMEOUT: 12,
  REQUEST: 13,
  DEAD_LETTER: 14,
  DOWN: 15,
  BOX_GRANT: 16,
  LEASE_EXPIRED: 17,
  REVOKE: 18,
  THREAD_ENDED: 19,
  PANIC: 20, // the core caught a panic of its own; body: the reason
  UNDEFINED_BODY: 64, // added to the kind when the body is `undefined`
  // `send` / `call` result codes
  QUEUED: 0,
  DEAD: 1,
  FULL: 2,
  STALE: 3,
  NOPROC: 5,
  // reply tags: [tag, value]
  REPLY_ERR_EXIT: 0,
  REPLY_OK: 1,
  REPLY_ERR: 2,
});
