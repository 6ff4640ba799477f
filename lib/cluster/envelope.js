'use strict';
// Cluster envelopes on the wire: JSON text behind a MAC that proves the sender knows the cluster
// secret (DESIGN.md 9, "who may join"). A frame is 22 characters of base64url (the first 128
// bits of HMAC-SHA256 over the JSON, keyed with a key derived from the secret) followed by the
// JSON text. A frame whose MAC does not check out is never parsed.
//
// A data frame is `{ n, e, te, m: [envelope, …] }`: the sender node and epoch, the epoch of the
// destination it addressed, and the envelopes gathered in one turn of the sender's event loop (one
// MAC and one NATS message for many). Heartbeat frames are `{ k, n, e }`.
// Envelope fields (short names: they cross the wire once per message):
//   k  kind (KINDS below)        q  sequence number (per pair of nodes, for flow control)
//   t  target actor number       f  sender actor number (0: the host)
//   c  correlation id (calls, replies, monitors)         b  body: the message as JSON text ('' = undefined)
//   r  reason or reply tag       x  extra (kind-specific)

const crypto = require('node:crypto');

const KINDS = Object.freeze({
  SEND: 's', // b to actor t
  CALL: 'c', // b to actor t; the reply comes back as REPLY with the same c
  REPLY: 'r', // r: 'ok' | 'err' | 'exit'; b the value (ok) or the message (err, exit)
  ACK: 'a', // x: highest q received from the addressee (flow control)
  MONITOR: 'm', // f watches t under reference c
  DEMONITOR: 'dm',
  DOWN: 'd', // the actor t of the sender (watched) ended with r; c the reference; x the watcher
  LINK: 'l', // f links to t
  UNLINK: 'ul',
  EXIT: 'x', // the actor f of the sender ended with r; t the linked actor of the addressee
});

const MAC_CHARS = 22; // 16 bytes in base64url, no padding

/** The MAC key derived from a cluster secret (never the secret itself). */
function deriveKey(secret) {
  return crypto.createHmac('sha256', secret).update('warden cluster envelope key v1').digest();
}

function mac(key, json) {
  return crypto.createHmac('sha256', key).update(json).digest().subarray(0, 16).toString('base64url');
}

/** The frame of envelope `env` (a plain object) under `key`. */
function seal(key, env) {
  const json = JSON.stringify(env);
  return Buffer.from(mac(key, json) + json);
}

/**
 * The envelope in `frame` (bytes), or null when it is not one: too short, a wrong MAC (the
 * sender does not know the secret, or the frame was altered), or not a JSON object with a
 * known kind and a sender node.
 */
function open(key, frame) {
  if (!(frame instanceof Uint8Array) || frame.length <= MAC_CHARS) return null;
  const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  const json = buf.toString('utf8', MAC_CHARS);
  const claimed = buf.toString('latin1', 0, MAC_CHARS);
  const expected = mac(key, json);
  if (!crypto.timingSafeEqual(Buffer.from(claimed), Buffer.from(expected))) return null;
  let env;
  try {
    env = JSON.parse(json);
  } catch {
    return null;
  }
  if (env === null || typeof env !== 'object' || typeof env.n !== 'string' || typeof env.e !== 'string') return null;
  return env;
}

module.exports = { KINDS, deriveKey, seal, open, MAC_CHARS };
