'use strict';
// Resources: host-thread services actors call through `ctx.resources.<name>.<method>(...args)`.
// Arguments and results are validated with Standard Schema validators (zod, valibot, arktype)
// or plain JSON Schema (ajv); every failure names the resource, the method and the problem.

let ajv = null; // loaded on first JSON Schema

function isStandard(schema) {
  return schema !== null && typeof schema === 'object' && typeof schema['~standard']?.validate === 'function';
}

function isJsonSchema(schema) {
  return schema !== null && typeof schema === 'object' && !Array.isArray(schema) && !isStandard(schema);
}

function compileJson(schema, where) {
  if (!ajv) {
    const Ajv = require('ajv');
    ajv = new (Ajv.default ?? Ajv)({ allErrors: true, strict: false });
  }
  try {
    return ajv.compile(schema);
  } catch (err) {
    throw new TypeError(`${where}: invalid JSON Schema (${err.message})`);
  }
}

/** A function `(value) => Promise<{ value } | { problem }>` for a schema, or null for none. */
function validator(schema, where) {
  if (schema === undefined) return null;
  if (isStandard(schema)) {
    return async (value) => {
      const r = await schema['~standard'].validate(value);
      if (r.issues) {
        const problem = r.issues
          .map((i) => {
            const path = (i.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)).join('.');
            return path ? `${path}: ${i.message}` : i.message;
          })
          .join('; ');
        return { problem };
      }
      return { value: r.value };
    };
  }
  if (isJsonSchema(schema)) {
    const check = compileJson(schema, where);
    return async (value) =>
      check(value) ? { value } : { problem: ajv.errorsText(check.errors, { dataVar: 'value' }) };
  }
  throw new TypeError(`${where} must be a Standard Schema validator or a JSON Schema object`);
}

/** Validates `config.resources` and prepares the validators. */
function prepareResources(resources) {
  const out = new Map();
  for (const [name, res] of Object.entries(resources)) {
    const where = `resources.${name}`;
    if (res === null || typeof res !== 'object') throw new TypeError(`${where} must be an object of methods`);
    const methods = new Map();
    let release;
    for (const [method, spec] of Object.entries(res)) {
      if (method === 'release') {
        if (typeof spec !== 'function') throw new TypeError(`${where}.release must be a function`);
        release = spec;
        continue;
      }
      const w = `${where}.${method}`;
      if (spec === null || typeof spec !== 'object') throw new TypeError(`${w} must be { input, output, handler }`);
      for (const k of Object.keys(spec)) {
        if (!['input', 'output', 'handler', 'timeoutMs'].includes(k)) {
          throw new TypeError(`${w}: unknown option "${k}" (expected input, output, handler, timeoutMs)`);
        }
      }
      if (typeof spec.handler !== 'function') throw new TypeError(`${w}.handler must be a function`);
      if (spec.timeoutMs !== undefined && !(typeof spec.timeoutMs === 'number' && spec.timeoutMs > 0 && Number.isFinite(spec.timeoutMs))) {
        throw new RangeError(`${w}.timeoutMs must be a positive finite number`);
      }
      methods.set(method, {
        handler: spec.handler,
        input: validator(spec.input, `${w}.input`),
        output: validator(spec.output, `${w}.output`),
        timeoutMs: spec.timeoutMs,
      });
    }
    out.set(name, { methods, release });
  }
  return out;
}

/**
 * Runs `resource.method(...args)` for an actor `who = { id, granted, timeoutMs, authorised }`:
 * capability check (reported to `authorised(bool)`), input validation (no argument as undefined, one as itself, several as an array), the
 * handler with a timeout (the method's `timeoutMs`, else the actor's lease), output validation.
 * Resolves with the result or rejects with an Error naming resource and method.
 */
async function invoke(resources, who, name, method, args) {
  const res = resources.get(name);
  if (!res) throw new Error(`unknown resource "${name}"`);
  const granted = !who.granted || who.granted.includes(name);
  who.authorised(granted);
  if (!granted) throw new Error(`resource "${name}" is not granted to ${who.id}`);
  if (method === 'release') throw new Error(`resource "${name}": release is called by the supervisor at shutdown, not by actors`);
  const m = res.methods.get(method);
  if (!m) throw new Error(`resource "${name}" has no method "${method}"`);
  const where = `resource ${name}.${method}`;
  if (m.input) {
    // No argument is validated as undefined, one as itself, several as an array.
    const single = args.length <= 1;
    const checked = await m.input(single ? args[0] : args);
    if ('problem' in checked) throw new Error(`${where}: invalid input: ${checked.problem}`);
    if (single) args = args.length === 1 ? [checked.value] : [];
    else if (Array.isArray(checked.value)) args = checked.value;
  }
  const timeoutMs = m.timeoutMs ?? who.timeoutMs;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${where} timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.(); // a dropped request never keeps the process alive
  });
  let result;
  try {
    result = await Promise.race([
      (async () => m.handler(...args))().catch((err) => {
        throw new Error(`${where} failed: ${err?.message ?? String(err)}`);
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  if (m.output) {
    const checked = await m.output(result);
    if ('problem' in checked) throw new Error(`${where}: invalid output: ${checked.problem}`);
    result = checked.value;
  }
  return result;
}

/** Runs every resource's `release` (in declaration order), awaiting each; failures are reported, not fatal. */
async function releaseAll(resources, report) {
  for (const [name, res] of resources) {
    if (!res.release) continue;
    try {
      await res.release();
    } catch (err) {
      report(name, err);
    }
  }
}

module.exports = { prepareResources, invoke, releaseAll };
