'use strict';
// Options of a call (`ref.call`, `ctx.call` in isolated and pooled actors): `{ timeoutMs, signal }`,
// validated the same way everywhere, and the abort wiring that rejects a pending call with its
// signal's reason. An unknown option is refused, as task options are (a misspelt `timeout`
// must not silently mean "the default 5 s").

const DEFAULT_TIMEOUT_MS = 5000;
const KEYS = ['timeoutMs', 'signal'];
const DEFAULTS = Object.freeze({ timeoutMs: DEFAULT_TIMEOUT_MS, signal: undefined });

/** `{ timeoutMs, signal }` of a call's options; a TypeError/RangeError naming `param` otherwise. */
function callOptions(options, param) {
  if (options === undefined) return DEFAULTS;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${param} must be an object`);
  for (const k of Object.keys(options)) {
    if (!KEYS.includes(k)) throw new TypeError(`${param}: unknown option "${k}" (expected one of: ${KEYS.join(', ')})`);
  }
  let timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined) timeoutMs = DEFAULT_TIMEOUT_MS;
  else if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError(`${param}.timeoutMs must be a number`);
  else if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`${param}.timeoutMs must be a positive finite number`);
  const signal = options.signal;
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function' || typeof signal.removeEventListener !== 'function')) {
    throw new TypeError(`${param}.signal must be an AbortSignal`);
  }
  return signal === undefined && options.timeoutMs === undefined ? DEFAULTS : { timeoutMs, signal };
}

/** What a call aborted by `signal` rejects with: the signal's reason (an AbortError unless given one). */
function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Calls `abort(reason)` once when `signal` aborts; returns the function that stops listening
 * (call it when the call settles otherwise, so a long-lived signal keeps no reference to it).
 */
function listenAbort(signal, abort) {
  const onAbort = () => abort(abortReason(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

module.exports = { callOptions, abortReason, listenAbort, DEFAULT_TIMEOUT_MS };
