'use strict';
// Validation of createSupervisor() and spawn() options. Every error names the field.

const os = require('node:os');
const { threadSetup } = require('./thread-setup.js');

const STRATEGIES = ['one-for-one', 'one-for-all', 'rest-for-one'];
const BACKOFFS = ['fixed', 'linear', 'exponential'];
const RESTARTS = ['permanent', 'transient', 'temporary'];
const OVERFLOWS = ['reject', 'drop-oldest'];
const UNITS = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function objectOf(v, field, allowed) {
  if (!isObject(v)) throw new TypeError(`${field} must be an object`);
  if (allowed) {
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        throw new TypeError(`${field}: unknown option "${k}" (expected one of: ${allowed.join(', ')})`);
      }
    }
  }
  return v;
}

function number(v, field, { min = 0, integer = false, infinity = false } = {}) {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${field} must be a number`);
  if (v === Infinity && infinity) return v;
  if (!Number.isFinite(v)) throw new RangeError(`${field} must be finite`);
  if (integer && !Number.isInteger(v)) throw new RangeError(`${field} must be an integer`);
  if (v < min) throw new RangeError(`${field} must be >= ${min}`);
  return v;
}

function oneOf(v, field, values) {
  if (typeof v !== 'string') throw new TypeError(`${field} must be a string`);
  if (!values.includes(v)) throw new RangeError(`${field} must be one of: ${values.join(', ')} (got "${v}")`);
  return v;
}

/** Bytes from a number or a string with a unit (b, kb/kib, mb/mib, gb/gib; 1024-based). */
function parseSize(v, field = 'size') {
  if (typeof v === 'number') return Math.floor(number(v, field, { min: 1 }));
  if (typeof v !== 'string') throw new TypeError(`${field} must be a number or a string like "1mb"`);
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m && (m[2] || 'b').toLowerCase();
  if (!m || !(unit in UNITS)) {
    throw new RangeError(`${field}: cannot parse "${v}" (use a number of bytes or units b, kb, kib, mb, mib, gb, gib)`);
  }
  const bytes = Math.floor(Number(m[1]) * UNITS[unit]);
  if (bytes < 1) throw new RangeError(`${field} must be at least 1 byte (got "${v}")`);
  return bytes;
}

const MAX_REGION = 2 * 1024 ** 3; // 2 GiB

/** Size of a shared region: a positive integer of bytes or a size string (as `boxSize`), at most 2 GiB. */
function regionSize(v, field) {
  const bytes = typeof v === 'number' ? number(v, field, { min: 1, integer: true }) : parseSize(v, field);
  if (bytes > MAX_REGION) throw new RangeError(`${field} must be at most 2 GiB (got ${bytes} bytes)`);
  return bytes;
}

function retryConfig(v, field) {
  const r = objectOf(v, field, ['max', 'withinMs', 'backoff', 'delayMs', 'maxDelayMs', 'jitter']);
  const out = { max: 3, withinMs: 5000, backoff: undefined, delayMs: 100, maxDelayMs: 5000, jitter: 0.2 };
  if (r.max !== undefined) out.max = number(r.max, `${field}.max`, { integer: true, infinity: true });
  if (r.withinMs !== undefined) out.withinMs = number(r.withinMs, `${field}.withinMs`, { min: 1 });
  if (r.backoff !== undefined) out.backoff = oneOf(r.backoff, `${field}.backoff`, BACKOFFS);
  if (r.delayMs !== undefined) out.delayMs = number(r.delayMs, `${field}.delayMs`);
  if (r.maxDelayMs !== undefined) out.maxDelayMs = number(r.maxDelayMs, `${field}.maxDelayMs`);
  if (r.jitter !== undefined) {
    out.jitter = number(r.jitter, `${field}.jitter`);
    if (out.jitter > 1) throw new RangeError(`${field}.jitter must be between 0 and 1`);
  }
  return out;
}

/** Validated, defaulted supervisor configuration. */
function supervisorConfig(config = {}) {
  const c = objectOf(config, 'config', [
    'maxActors', 'memory', 'timeouts', 'strategy', 'retry', 'resources', 'diagnostics', 'warmWorkers', 'onCrash', 'tasks',
    'pool', 'cluster',
  ]);
  const out = {
    maxActors: 1000,
    memory: { poolSize: 8, boxSize: 1024 * 1024 },
    timeouts: { defaultLeaseMs: 5000, actorTimeouts: {} },
    strategy: 'one-for-one',
    retry: retryConfig({}, 'retry'),
    resources: {},
    diagnostics: { enabled: true, sampleRate: 1, track: {} },
    warmWorkers: Math.min(2, os.availableParallelism?.() ?? 2),
  };
  if (c.maxActors !== undefined) {
    out.maxActors = number(c.maxActors, 'maxActors', { min: 1, integer: true });
  }
  if (c.memory !== undefined) {
    const m = objectOf(c.memory, 'memory', ['poolSize', 'boxSize']);
    if (m.poolSize !== undefined) out.memory.poolSize = number(m.poolSize, 'memory.poolSize', { integer: true });
    if (m.boxSize !== undefined) out.memory.boxSize = parseSize(m.boxSize, 'memory.boxSize');
  }
  if (c.timeouts !== undefined) {
    const t = objectOf(c.timeouts, 'timeouts', ['defaultLeaseMs', 'actorTimeouts']);
    if (t.defaultLeaseMs !== undefined) {
      out.timeouts.defaultLeaseMs = number(t.defaultLeaseMs, 'timeouts.defaultLeaseMs', { min: 1 });
    }
    if (t.actorTimeouts !== undefined) {
      const a = objectOf(t.actorTimeouts, 'timeouts.actorTimeouts');
      for (const [name, ms] of Object.entries(a)) {
        out.timeouts.actorTimeouts[name] = number(ms, `timeouts.actorTimeouts.${name}`, { min: 1 });
      }
    }
  }
  if (c.strategy !== undefined) out.strategy = oneOf(c.strategy, 'strategy', STRATEGIES);
  if (c.retry !== undefined) out.retry = retryConfig(c.retry, 'retry');
  if (c.resources !== undefined) out.resources = objectOf(c.resources, 'resources');
  if (c.diagnostics !== undefined) {
    const d = objectOf(c.diagnostics, 'diagnostics', ['enabled', 'sampleRate', 'track']);
    if (d.enabled !== undefined) {
      if (typeof d.enabled !== 'boolean') throw new TypeError('diagnostics.enabled must be a boolean');
      out.diagnostics.enabled = d.enabled;
    }
    if (d.sampleRate !== undefined) {
      out.diagnostics.sampleRate = number(d.sampleRate, 'diagnostics.sampleRate');
      if (out.diagnostics.sampleRate > 1) throw new RangeError('diagnostics.sampleRate must be between 0 and 1');
    }
    if (d.track !== undefined) {
      const { METRICS } = require('./metrics.js');
      const t = objectOf(d.track, 'diagnostics.track', METRICS);
      for (const [k, v] of Object.entries(t)) {
        if (typeof v !== 'boolean') throw new TypeError(`diagnostics.track.${k} must be a boolean`);
      }
      out.diagnostics.track = { ...t };
    }
  }
  if (c.onCrash !== undefined) out.onCrash = crashPolicy(c.onCrash, 'onCrash');
  if (c.warmWorkers !== undefined) {
    out.warmWorkers = number(c.warmWorkers, 'warmWorkers', { integer: true });
  }
  out.tasks = tasksConfig(c.tasks);
  out.pool = poolConfig(c.pool);
  out.cluster = require('../cluster/config.js').clusterConfig(c.cluster);
  return out;
}

/**
 * Pooled actors' workers: `{ workers, maxActors, maxBlockMs, interrupt, batch: { maxActors,
 * perActor } }`. `maxActors` caps live pooled actors (the top-level `maxActors` counts isolated
 * ones); `maxBlockMs` is how long actor code may run synchronously; `interrupt` runs batches
 * under a time limit that unwinds such a handler alone (default: on Bun, where it costs about
 * 2 µs a batch; off on Node, where each limited run starts a watchdog thread, about 40 µs);
 * otherwise, or when the limit does not cover the code, the worker is replaced.
 */
function poolConfig(v = {}) {
  const p = objectOf(v, 'pool', ['workers', 'maxActors', 'maxBlockMs', 'interrupt', 'batch']);
  const out = {
    workers: os.availableParallelism?.() ?? os.cpus().length,
    maxActors: 1_000_000,
    maxBlockMs: 50,
    interrupt: process.versions.bun !== undefined,
    batch: { maxActors: 256, perActor: 16 },
  };
  if (p.interrupt !== undefined) {
    if (typeof p.interrupt !== 'boolean') throw new TypeError('pool.interrupt must be a boolean');
    out.interrupt = p.interrupt;
  }
  if (p.workers !== undefined) out.workers = number(p.workers, 'pool.workers', { min: 1, integer: true });
  if (out.workers > 1024) throw new RangeError('pool.workers must be <= 1024');
  if (p.maxActors !== undefined) out.maxActors = number(p.maxActors, 'pool.maxActors', { min: 1, integer: true, infinity: true });
  if (p.maxBlockMs !== undefined) out.maxBlockMs = number(p.maxBlockMs, 'pool.maxBlockMs', { min: 1 });
  if (p.batch !== undefined) {
    const b = objectOf(p.batch, 'pool.batch', ['maxActors', 'perActor']);
    if (b.maxActors !== undefined) out.batch.maxActors = number(b.maxActors, 'pool.batch.maxActors', { min: 1, integer: true });
    if (b.perActor !== undefined) out.batch.perActor = number(b.perActor, 'pool.batch.perActor', { min: 1, integer: true });
    for (const k of ['maxActors', 'perActor']) {
      if (out.batch[k] > 2 ** 20) throw new RangeError(`pool.batch.${k} must be <= ${2 ** 20}`);
    }
  }
  return out;
}

/** Spawn options that cannot apply to a pooled actor: each is a TypeError naming it. */
const NOT_POOLED = {
  resourceLimits: 'a heap limit belongs to a thread, and pooled actors share one',
  execArgv: 'runtime flags belong to a thread, and pooled actors share one',
  env: 'an environment belongs to a thread, and pooled actors share one',
};

/** The task pool: `{ minThreads, maxThreads, idleTimeoutMs, maxQueue, maxTasksPerThread, maxHeapUsedMb, execArgv?, env? }`. */
function tasksConfig(v = {}) {
  const t = objectOf(v, 'tasks', [
    'minThreads', 'maxThreads', 'idleTimeoutMs', 'maxQueue', 'maxTasksPerThread', 'maxHeapUsedMb', 'execArgv', 'env',
  ]);
  const out = {
    minThreads: 0,
    maxThreads: os.availableParallelism?.() ?? os.cpus().length,
    idleTimeoutMs: 5000,
    maxQueue: Infinity,
    maxTasksPerThread: Infinity,
    maxHeapUsedMb: Infinity,
  };
  if (t.minThreads !== undefined) out.minThreads = number(t.minThreads, 'tasks.minThreads', { integer: true });
  if (t.maxThreads !== undefined) out.maxThreads = number(t.maxThreads, 'tasks.maxThreads', { min: 1, integer: true });
  else out.maxThreads = Math.max(out.maxThreads, out.minThreads);
  if (out.minThreads > out.maxThreads) throw new RangeError('tasks.minThreads must be <= tasks.maxThreads');
  if (t.idleTimeoutMs !== undefined) out.idleTimeoutMs = number(t.idleTimeoutMs, 'tasks.idleTimeoutMs', { infinity: true });
  if (t.maxQueue !== undefined) out.maxQueue = number(t.maxQueue, 'tasks.maxQueue', { integer: true, infinity: true });
  if (t.maxTasksPerThread !== undefined) {
    out.maxTasksPerThread = number(t.maxTasksPerThread, 'tasks.maxTasksPerThread', { min: 1, integer: true, infinity: true });
  }
  if (t.maxHeapUsedMb !== undefined) out.maxHeapUsedMb = number(t.maxHeapUsedMb, 'tasks.maxHeapUsedMb', { min: 1, infinity: true });
  const thread = threadSetup(t.execArgv, t.env, 'tasks');
  if (thread !== undefined) {
    // every task thread starts with these (validated here, so spawning one cannot fail on them)
    if (thread.execArgv) out.execArgv = thread.execArgv;
    if (thread.env) out.env = thread.env;
  }
  return out;
}

function crashPolicy(fn, field) {
  if (typeof fn !== 'function') throw new TypeError(`${field} must be a function (error, msg, ctx) => decision`);
  return fn;
}

/** Validated options of `createGroup`: `{ strategy, retry, parent, onCrash }`. */
function groupOptions(options, supConfig, param = 'createGroup: options') {
  const o = objectOf(options ?? {}, param, ['strategy', 'retry', 'parent', 'onCrash']);
  return {
    strategy: o.strategy === undefined ? 'one-for-one' : oneOf(o.strategy, `${param}.strategy`, STRATEGIES),
    retry: o.retry === undefined ? { ...supConfig.retry } : retryConfig(o.retry, `${param}.retry`),
    parent: o.parent,
    onCrash: o.onCrash === undefined ? undefined : crashPolicy(o.onCrash, `${param}.onCrash`),
  };
}

/** The core's view of a group: strategy, intensity and backoff. */
function groupSpec(strategy, retry) {
  return {
    strategy,
    max: retry.max === Infinity ? -1 : retry.max,
    withinMs: retry.withinMs,
    backoff: retry.backoff,
    delayMs: retry.delayMs,
    maxDelayMs: retry.maxDelayMs,
    jitter: retry.jitter,
  };
}

/** Validated, defaulted spawn options; `regions`: the supervisor's shared regions (name → buffer). */
function spawnOptions(options = {}, supConfig, regions) {
  const o = objectOf(options, 'options', [
    'name', 'timeoutMs', 'restart', 'mailbox', 'resourceLimits', 'shutdown', 'idleTimeoutMs', 'heartbeatMs', 'resources',
    'regions', 'kind', 'global', 'execArgv', 'env',
  ]);
  const kind = o.kind === undefined ? 'isolated' : oneOf(o.kind, 'options.kind', ['isolated', 'pooled']);
  if (kind === 'pooled') {
    for (const [k, why] of Object.entries(NOT_POOLED)) {
      if (o[k] !== undefined) throw new TypeError(`options.${k} cannot apply to a pooled actor (${why}); spawn it with kind: 'isolated'`);
    }
  }
  const out = {
    kind,
    name: undefined,
    timeoutMs: 0,
    restart: 'transient',
    capacity: 0,
    overflow: 'reject',
    resourceLimits: undefined,
    shutdown: undefined, // 'brutal' | ms | 'infinity'; default: 5000 ms if it has onTerminate, else brutal
    idleTimeoutMs: 0,
    heartbeatMs: 0,
  };
  if (o.shutdown !== undefined) {
    if (o.shutdown === 'brutal' || o.shutdown === 'infinity') out.shutdown = o.shutdown;
    else if (typeof o.shutdown === 'number') out.shutdown = number(o.shutdown, 'options.shutdown', { min: 0 });
    else throw new TypeError('options.shutdown must be "brutal", "infinity" or a number of ms');
  }
  if (o.resources !== undefined) {
    if (!Array.isArray(o.resources) || o.resources.some((r) => typeof r !== 'string')) {
      throw new TypeError('options.resources must be an array of resource names');
    }
    for (const r of o.resources) {
      if (!Object.hasOwn(supConfig.resources, r)) throw new RangeError(`options.resources: unknown resource "${r}"`);
    }
    out.resources = [...o.resources];
  }
  if (o.regions !== undefined) {
    if (!Array.isArray(o.regions) || o.regions.some((r) => typeof r !== 'string')) {
      throw new TypeError('options.regions must be an array of region names');
    }
    for (const r of o.regions) {
      if (!regions?.has(r)) throw new RangeError(`options.regions: unknown region "${r}"`);
    }
    if (o.regions.length > 0) out.regions = [...new Set(o.regions)];
  }
  if (o.idleTimeoutMs !== undefined) out.idleTimeoutMs = number(o.idleTimeoutMs, 'options.idleTimeoutMs', { min: 1 });
  if (o.heartbeatMs !== undefined) out.heartbeatMs = number(o.heartbeatMs, 'options.heartbeatMs', { min: 1 });
  if (o.name !== undefined) {
    if (typeof o.name !== 'string' || o.name.length === 0) throw new TypeError('options.name must be a non-empty string');
    out.name = o.name;
  }
  if (o.global !== undefined) {
    if (typeof o.global !== 'boolean') throw new TypeError('options.global must be a boolean');
    if (o.global && out.name === undefined) throw new TypeError('options.global needs options.name (the name to register cluster-wide)');
    if (o.global && !supConfig.cluster) throw new TypeError('options.global needs a cluster (createSupervisor({ cluster }))');
    out.global = o.global;
  }
  if (o.timeoutMs !== undefined) {
    out.timeoutMs = number(o.timeoutMs, 'options.timeoutMs', { min: 1 });
  } else if (out.name !== undefined && supConfig.timeouts.actorTimeouts[out.name] !== undefined) {
    out.timeoutMs = supConfig.timeouts.actorTimeouts[out.name];
  }
  if (o.restart !== undefined) out.restart = oneOf(o.restart, 'options.restart', RESTARTS);
  if (o.mailbox !== undefined) {
    const m = objectOf(o.mailbox, 'options.mailbox', ['capacity', 'overflow']);
    if (m.capacity !== undefined) out.capacity = number(m.capacity, 'options.mailbox.capacity', { min: 1, integer: true });
    if (m.overflow !== undefined) out.overflow = oneOf(m.overflow, 'options.mailbox.overflow', OVERFLOWS);
  }
  if (o.resourceLimits !== undefined) {
    const r = objectOf(o.resourceLimits, 'options.resourceLimits', [
      'maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb',
    ]);
    for (const [k, v] of Object.entries(r)) number(v, `options.resourceLimits.${k}`, { min: 1 });
    out.resourceLimits = { ...r };
  }
  const thread = threadSetup(o.execArgv, o.env, 'options');
  if (thread !== undefined) out.thread = thread; // its own execArgv/env: a thread of its own
  return out;
}

const ACTORS_VIEW = "false, 'summary' or { offset, limit }";

/**
 * `sup.getDiagnostics(options)`: which actors to list, as `supervisorDiagnostics` takes it.
 * Absent (or `actors: true`): every actor, as before the option existed.
 */
function diagnosticsOptions(options) {
  if (options === undefined) return undefined;
  const o = objectOf(options, 'options', ['actors']);
  const v = o.actors;
  if (v === undefined || v === true) return { mode: 'all' };
  if (v === false) return { mode: 'none' };
  if (v === 'summary') return { mode: 'summary' };
  if (typeof v === 'string') throw new RangeError(`options.actors must be ${ACTORS_VIEW} (got "${v}")`);
  if (!isObject(v)) throw new TypeError(`options.actors must be ${ACTORS_VIEW}`);
  objectOf(v, 'options.actors', ['offset', 'limit']);
  const offset = v.offset === undefined ? 0 : number(v.offset, 'options.actors.offset', { integer: true });
  const limit = number(v.limit, 'options.actors.limit', { integer: true });
  return { mode: 'page', offset, limit };
}

module.exports = {
  supervisorConfig, spawnOptions, groupOptions, groupSpec, parseSize, regionSize, diagnosticsOptions,
};
