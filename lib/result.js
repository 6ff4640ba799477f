'use strict';
// Result values, pattern matching on message keys, printing, and system-message recognition.

const SYSTEM = Symbol('warden.system');

/** A successful Result. */
function Ok(value) {
  return Object.freeze({ isOk: true, isErr: false, value, error: undefined });
}

/** A failed Result. */
function Err(error) {
  return Object.freeze({ isOk: false, isErr: true, value: undefined, error });
}

/**
 * Calls the handler named by `message.msg`, or `handlers._` when none matches.
 * Returns the handler's value (undefined when nothing matches and there is no `_`).
 */
function matchAll(message, handlers) {
  if (handlers === null || typeof handlers !== 'object') {
    throw new TypeError('matchAll: handlers must be an object of functions');
  }
  const key = message !== null && typeof message === 'object' ? message.msg : undefined;
  const fn = typeof key === 'string' && Object.hasOwn(handlers, key) ? handlers[key] : handlers._;
  if (fn === undefined) return undefined;
  if (typeof fn !== 'function') {
    throw new TypeError(`matchAll: handler for "${typeof key === 'string' ? key : '_'}" is not a function`);
  }
  return fn(message);
}

/** Prints its arguments on one line (console.log). */
function println(...args) {
  console.log(...args);
}

/** Builds a frozen system message; only the runtime can make one that passes isSystemMessage. */
function systemMessage(msg, data, extra) {
  const m = { msg, data, from: 'system', ...extra };
  Object.defineProperty(m, SYSTEM, { value: true });
  return Object.freeze(m);
}

/** True only for notifications made by the runtime (DOWN, EXIT, INBOX). */
function isSystemMessage(m) {
  return m !== null && typeof m === 'object' && m[SYSTEM] === true;
}

module.exports = { Ok, Err, matchAll, println, systemMessage, isSystemMessage };
