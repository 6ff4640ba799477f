'use strict';
// Task options: validation of the options a task takes (`timeoutMs`, `signal`, `resourceLimits`,
// `transfer`, `onProgress`), whether passed to task(), map/mapStream or in a sup.tasks descriptor. The pool's
// own settings (`tasks` of createSupervisor) are validated, with their defaults, in config.js.

const NO_TIMEOUT = 2 ** 31 - 1; // setTimeout's largest delay
const OPTION_KEYS = ['timeoutMs', 'signal', 'resourceLimits', 'transfer', 'onProgress'];
const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'];

function isObject(v) {
  return v !== null && typeof v === 'object';
}

function timeoutOf(v, field) {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${field} must be a number`);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${field} must be a positive finite number`);
  if (v > NO_TIMEOUT) throw new RangeError(`${field} must be at most ${NO_TIMEOUT} ms`);
  return v;
}

function signalOf(v, field) {
  if (v === undefined) return undefined;
  if (!isObject(v) || typeof v.aborted !== 'boolean' || typeof v.addEventListener !== 'function' || typeof v.removeEventListener !== 'function') {
    throw new TypeError(`${field} must be an AbortSignal`);
  }
  return v;
}

function limitsOf(v, field) {
  if (v === undefined) return undefined;
  if (!isObject(v) || Array.isArray(v)) throw new TypeError(`${field} must be an object`);
  const out = {};
  for (const k of Object.keys(v).sort()) {
    if (!LIMIT_KEYS.includes(k)) throw new TypeError(`${field}: unknown option "${k}" (expected one of: ${LIMIT_KEYS.join(', ')})`);
    const n = v[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || Number.isNaN(n)) throw new TypeError(`${field}.${k} must be a number`);
    if (!Number.isFinite(n) || n < 1) throw new RangeError(`${field}.${k} must be a finite number >= 1`);
    out[k] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function transferOf(v, field) {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${field} must be a boolean`);
  return v;
}

function progressOf(v, field) {
  if (v === undefined) return null;
  if (typeof v !== 'function') throw new TypeError(`${field} must be a function`);
  return v;
}

/** `{ timeoutMs, signal, limits, key, transfer, onProgress }` of validated task options (`extra`: other keys allowed). */
function taskOptions(o, param, extra = []) {
  if (!isObject(o) || Array.isArray(o)) throw new TypeError(`${param} must be an object`);
  for (const k of Object.keys(o)) {
    if (OPTION_KEYS.includes(k) || extra.includes(k)) continue;
    throw new TypeError(`${param}: unknown option "${k}" (expected one of: ${[...OPTION_KEYS, ...extra].join(', ')})`);
  }
  const limits = limitsOf(o.resourceLimits, `${param}.resourceLimits`);
  return {
    timeoutMs: timeoutOf(o.timeoutMs, `${param}.timeoutMs`),
    signal: signalOf(o.signal, `${param}.signal`),
    limits,
    key: limits ? JSON.stringify(limits) : '',
    transfer: transferOf(o.transfer, `${param}.transfer`),
    onProgress: progressOf(o.onProgress, `${param}.onProgress`),
    param,
  };
}

const NO_OPTIONS = Object.freeze({ timeoutMs: 0, signal: undefined, limits: undefined, key: '', transfer: false, onProgress: null, param: 'task: options' });

module.exports = { NO_TIMEOUT, NO_OPTIONS, isObject, taskOptions };
