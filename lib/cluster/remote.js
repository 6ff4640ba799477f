'use strict';
// Actor-thread side of remote targets: `ctx.send`, `ctx.call`, `ctx.link`, `ctx.monitor`… given
// an `actor-N@node` id (or a ref carrying one) become requests to the host, whose cluster
// (lib/cluster/index.js) carries them. Loaded by lib/actor/worker.js and lib/pool/worker.js.

const REMOTE = /^actor-\d+@([A-Za-z0-9_-]{1,64})$/;
let refs = 0;

/** The remote id `t` names (`actor-N@node`), or null for a local target. */
function remoteId(t) {
  const key = typeof t === 'string' ? t : t !== null && typeof t === 'object' ? t.id : undefined;
  return typeof key === 'string' && key.includes('@') && REMOTE.test(key) ? key : null; // a local id has no '@': no regex
}

/** The body of a request to the host for `what` (send, call, link, unlink, monitor, demonitor). */
function remoteRequest(what, fields) {
  return JSON.stringify({ op: 'cluster', what, ...fields });
}

/** A monitor reference made in an actor thread, unique in the process: `ref-<actor>.<k>@node`. */
function remoteMonitorRef(actorId, rid) {
  return `ref-${actorId}.${++refs}@${REMOTE.exec(rid)[1]}`;
}

/** True for a reference `remoteMonitorRef` or the host's cluster made. */
function isRemoteMonitorRef(ref) {
  return typeof ref === 'string' && ref.startsWith('ref-') && ref.includes('@');
}

module.exports = { remoteId, remoteRequest, remoteMonitorRef, isRemoteMonitorRef };
