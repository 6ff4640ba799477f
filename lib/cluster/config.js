'use strict';
// Validation of `createSupervisor({ cluster })` (DESIGN.md 9). Every error names the field, as
// lib/host/config.js does for the other fields.

const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/; // one NATS subject token, readable in `actor-N@node`
const FIELDS = [
  'node', 'servers', 'secret', 'user', 'pass', 'token', 'credsFile', 'tls', 'prefix', 'bucket',
  'heartbeatMs', 'downAfterMs', 'outboundQueue', 'window',
];

function positive(v, field, { integer = false } = {}) {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${field} must be a number`);
  if (!Number.isFinite(v)) throw new RangeError(`${field} must be finite`);
  if (integer && !Number.isInteger(v)) throw new RangeError(`${field} must be an integer`);
  if (v < 1) throw new RangeError(`${field} must be >= 1`);
  return v;
}

function text(v, field) {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${field} must be a non-empty string`);
  return v;
}

/** The validated, defaulted `cluster` field, or undefined when there is none. */
function clusterConfig(v) {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError('cluster must be an object');
  for (const k of Object.keys(v)) {
    if (!FIELDS.includes(k)) throw new TypeError(`cluster: unknown option "${k}" (expected one of: ${FIELDS.join(', ')})`);
  }
  const out = {
    node: undefined,
    servers: undefined,
    secret: undefined,
    user: undefined,
    pass: undefined,
    token: undefined,
    credsFile: undefined,
    tls: undefined,
    prefix: 'warden',
    bucket: 'warden_names',
    heartbeatMs: 1000,
    downAfterMs: 5000,
    outboundQueue: 10_000,
    window: 4096,
  };
  out.node = text(v.node, 'cluster.node');
  if (!NODE_NAME.test(out.node)) throw new RangeError(`cluster.node must be 1-64 letters, digits, "_" or "-" (got "${out.node}")`);
  const servers = typeof v.servers === 'string' ? [v.servers] : v.servers;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('cluster.servers must be a URL string or a non-empty array of URL strings');
  }
  out.servers = [...servers];
  if (typeof v.secret !== 'string' && !(v.secret instanceof Uint8Array)) {
    throw new TypeError('cluster.secret must be a string or a Uint8Array (the cookie every node of the cluster shares)');
  }
  if (v.secret.length < 8) throw new RangeError('cluster.secret must be at least 8 characters or bytes long');
  out.secret = typeof v.secret === 'string' ? v.secret : Buffer.from(v.secret).toString('base64');
  for (const k of ['user', 'pass', 'token', 'credsFile']) if (v[k] !== undefined) out[k] = text(v[k], `cluster.${k}`);
  if ((out.user === undefined) !== (out.pass === undefined)) throw new TypeError('cluster.user and cluster.pass go together');
  if (v.tls !== undefined) {
    if (v.tls === null || typeof v.tls !== 'object' || Array.isArray(v.tls)) throw new TypeError('cluster.tls must be an object (the nats client\'s TLS options)');
    for (const k of Object.keys(v.tls)) {
      if (!['caFile', 'certFile', 'keyFile', 'ca', 'cert', 'key', 'handshakeFirst'].includes(k)) {
        throw new TypeError(`cluster.tls: unknown option "${k}" (expected one of: caFile, certFile, keyFile, ca, cert, key, handshakeFirst)`);
      }
    }
    out.tls = { ...v.tls };
  }
  if (v.prefix !== undefined) {
    out.prefix = text(v.prefix, 'cluster.prefix');
    if (!/^[A-Za-z0-9_-]+$/.test(out.prefix)) throw new RangeError('cluster.prefix must be letters, digits, "_" or "-"');
  }
  if (v.bucket !== undefined) {
    out.bucket = text(v.bucket, 'cluster.bucket');
    if (!/^[A-Za-z0-9_-]+$/.test(out.bucket)) throw new RangeError('cluster.bucket must be letters, digits, "_" or "-"');
  }
  if (v.heartbeatMs !== undefined) out.heartbeatMs = positive(v.heartbeatMs, 'cluster.heartbeatMs');
  if (v.downAfterMs !== undefined) out.downAfterMs = positive(v.downAfterMs, 'cluster.downAfterMs');
  if (out.downAfterMs <= out.heartbeatMs) throw new RangeError('cluster.downAfterMs must be greater than cluster.heartbeatMs');
  if (v.outboundQueue !== undefined) out.outboundQueue = positive(v.outboundQueue, 'cluster.outboundQueue', { integer: true });
  if (v.window !== undefined) out.window = positive(v.window, 'cluster.window', { integer: true });
  return out;
}

/** The `nats` client's connection options for a validated cluster config. */
function natsOptions(c, name) {
  const o = { servers: c.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2000, timeout: 5000 };
  if (c.user !== undefined) Object.assign(o, { user: c.user, pass: c.pass });
  if (c.token !== undefined) o.token = c.token;
  if (c.tls !== undefined) o.tls = c.tls;
  return o;
}

module.exports = { clusterConfig, natsOptions };
