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

module.exports = { TimeoutError, ActorExitError };
