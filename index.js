'use strict';
// warden: Erlang-style actors for Node.js and Bun, each in its own killable thread.
const { createSupervisor } = require('./lib/host/supervisor.js');
const { Ok, Err, matchAll, println, isSystemMessage } = require('./lib/result.js');
const { TimeoutError, ActorExitError } = require('./lib/errors.js');
const { parseSize } = require('./lib/host/config.js');
const { liveThreads } = require('./lib/host/threads.js');
const native = require('./lib/native.js');

/** Process-wide counts for leak checks: live actor threads, core ports, live actors. */
function runtimeStats() {
  const s = native.coreStats();
  return { threads: liveThreads(), ports: s.ports, actors: s.actors };
}

module.exports = {
  createSupervisor,
  Ok,
  Err,
  matchAll,
  println,
  isSystemMessage,
  TimeoutError,
  ActorExitError,
  parseSize,
  runtimeStats,
};
