'use strict';
// Error classes users can test with instanceof.

/** A call or task did not finish within its timeout. */
class TimeoutError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** The actor a call was waiting on ended before replying; `reason` is its exit reason. */
class ActorExitError extends Error {
  constructor(reason) {
    super(`actor exited: ${reason}`);
    this.name = 'ActorExitError';
    this.reason = reason;
  }
}

/**
 * The text of an exit reason for what a handler threw. `callback`: the actor's code was
 * serialised, so a ReferenceError means it used its outer scope, which is said in full.
 */
function describeError(err, callback) {
  if (err instanceof ReferenceError && callback) {
    const m = /^(\S+) is not defined/.exec(err.message) || /Can't find variable: (\S+)/.exec(err.message);
    const name = m ? m[1] : 'a variable';
    return (
      `actor callback cannot see outer scope: "${name}" is not defined in the actor's thread ` +
      '(callbacks are serialised with toString(); pass values in messages or spawn a module actor)'
    );
  }
  if (err instanceof Error) return err.message;
  try {
    return typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** The error a host answer carries: the host names a TypeError or RangeError in front of its message. */
function replyError(text) {
  const m = /^(TypeError|RangeError): /.exec(text);
  return m ? new (m[1] === 'TypeError' ? TypeError : RangeError)(text.slice(m[0].length)) : new Error(text);
}

module.exports = { TimeoutError, ActorExitError, describeError, replyError };
