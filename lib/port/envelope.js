'use strict';
// Decoding what a port delivers, shared by every thread that reads one. Envelopes reach JS as
// `[kind, from, corr, body]` (kinds: lib/port/kinds.js); a reply's body is `[tag, value?]`.

const K = require('./kinds.js');
const { ActorExitError } = require('../errors.js');

/**
 * The kind of `env`, with the "body is undefined" flag taken off: `env` is rewritten in place
 * (its kind without the flag, its body `undefined`) so later readers of it see plain values.
 */
function envelopeKind(env) {
  const kind = env[0];
  if (kind < K.UNDEFINED_BODY) return kind;
  env[0] = kind - K.UNDEFINED_BODY;
  env[3] = undefined;
  return env[0];
}

/**
 * Settles `p` ({ resolve, reject }) with the reply body `body`: its value, the handler's error
 * (made by `toError(reason)`), or an ActorExitError when the callee exited before answering.
 */
function settleReply(p, body, toError) {
  const tag = body[0];
  if (tag === K.REPLY_OK) p.resolve(body.length > 1 ? body[1] : undefined);
  else if (tag === K.REPLY_ERR) p.reject(toError(body[1]));
  else p.reject(new ActorExitError(body[1]));
}

/**
 * Answers request `corr` of `pending` (corr → { resolve, reject, timer?, unlisten? }) with the
 * reply body `body`: the entry leaves the map, its timer (cleared with `clearTimer`) and abort
 * listener go, and its promise settles. Returns the entry, or undefined for a late reply (its
 * request timed out or was aborted), which is dropped.
 */
function settlePending(pending, corr, body, toError, clearTimer) {
  const p = pending.get(corr);
  if (p === undefined) return undefined;
  pending.delete(corr);
  if (p.timer) clearTimer(p.timer);
  p.unlisten?.();
  settleReply(p, body, toError);
  return p;
}

module.exports = { envelopeKind, settlePending };
