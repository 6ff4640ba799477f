'use strict';
// The host's mail ring: `ActorRef.receive` to a pooled actor appends a record to a byte ring in
// core memory (the layout of an actor thread's outbox, lib/actor/outbox.js) instead of making a
// native call and a wake per message. The core delivers the ring, in order, before any later
// native call of this thread (every native entry point does it first, so a `call`, a
// `terminate` or a `receive` with options never overtakes it), at the end of the JS task that
// wrote it (a microtask), and when it is full. A record with target 0 names the supervisor
// that reports dead letters of the records after it.

const native = require('../native.js');
const { Outbox } = require('../actor/outbox.js');

let ring = null; // the Outbox over this thread's ring (created on the first send)
let named = 0; // the supervisor the last supervisor record named
const ALWAYS_SWEPT = new Uint32Array([1]); // no timer sweep to restart (see Outbox)

/**
 * Queues JSON `body` for actor `num` of supervisor `sid`. False if it cannot go through the
 * ring (too large, id out of range): the caller sends it by a native call, which delivers the
 * ring first, so order is kept.
 */
function queue(sid, num, body) {
  ring ??= new Outbox(native.hostMailControl(), native.hostMailView(), native.flushHostMail, ALWAYS_SWEPT);
  if (named !== sid) {
    if (!ring.put(0, String(sid))) return false;
    named = sid;
  }
  return ring.put(num, body);
}

module.exports = { queue };
