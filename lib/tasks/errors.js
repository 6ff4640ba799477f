'use strict';
// The errors tasks fail with, made on the host: aborted, thread exited, supervisor shut down,
// and the error a task threw, rebuilt from what its thread sent.

const { ActorExitError } = require('../errors.js');

const ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function abortError(reason) {
  const err = new DOMException('The task was aborted', 'AbortError');
  if (reason !== undefined) {
    Object.defineProperty(err, 'cause', { value: reason, writable: true, configurable: true, enumerable: false });
  }
  return err;
}

function exitError(reason) {
  const err = new ActorExitError(reason);
  err.message = `task thread exited: ${reason}`;
  return err;
}

function closedError(sup) {
  return new Error(`task: supervisor ${sup.id} is shut down`);
}

/** The error (or thrown value) a task failed with, rebuilt on the host. */
function rebuild(e) {
  if (e.thrown) return e.value;
  const C = ERRORS[e.name] ?? Error;
  const err = new C(e.message);
  if (err.name !== e.name) {
    Object.defineProperty(err, 'name', { value: e.name, writable: true, configurable: true, enumerable: false });
  }
  if (typeof e.stack === 'string') err.stack = e.stack;
  if (e.props) Object.assign(err, e.props);
  return err;
}

module.exports = { abortError, exitError, closedError, rebuild };
