'use strict';
// Decoding what a port delivers, shared by every thread that reads one. Envelopes reach JS as
// `[kind, from, corr, body]` (kinds: lib/port/kinds.js); a reply's body is `[tag, value?]`.

const K = require('./kinds.js');
const { ActorExitError, TimeoutError } = require('../errors.js');
const { listenAbort } = require('../call-options.js');

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

/**
 * Registers request `corr` in `pending` and sends it with `send(corr)` (which returns an Error
 * when it could not be sent); resolves when `settlePending` answers it. After `timeoutMs` it
 * rejects with a TimeoutError carrying `timeoutMessage`; an aborted `signal` rejects with its
 * reason. Either way the entry leaves `pending`, so a late reply is dropped. `timers` is the
 * runtime's own { setTimeout, clearTimeout } (user code may wrap the globals); `extra` fields
 * (e.g. the pooled actor the request is for) are kept on the entry.
 */
function awaitReply(pending, corr, send, { timeoutMs, timeoutMessage, signal, timers, extra }) {
  return new Promise((resolve, reject) => {
    const entry = { resolve, reject, timer: null, unlisten: null, ...extra };
    if (timeoutMs !== undefined) {
      entry.timer = timers.setTimeout(() => {
        pending.delete(corr);
        entry.unlisten?.();
        reject(new TimeoutError(timeoutMessage));
      }, timeoutMs);
    }
    pending.set(corr, entry);
    const err = send(corr);
    if (err) {
      pending.delete(corr);
      timers.clearTimeout(entry.timer);
      reject(err);
      return;
    }
    if (signal) {
      entry.unlisten = listenAbort(signal, (reason) => {
        if (!pending.delete(corr)) return;
        timers.clearTimeout(entry.timer);
        reject(reason);
      });
    }
  });
}

module.exports = { envelopeKind, settlePending, awaitReply };
