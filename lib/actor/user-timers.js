'use strict';
// Timers set by actor code (setTimeout, setInterval, setImmediate and their clear functions),
// recorded per owner so that the runtime can cancel what an ended incarnation left behind. An
// isolated actor's thread has one owner; a pool worker has one per actor (the actor whose code
// is running when the timer is set). The util.promisify variants of the originals are kept.

/**
 * Routes the global timer functions through owners. `owner()` names the owner of a timer being
 * set now: an object with a `timers` Map (handle → its clear function), or null to leave it
 * untracked. `call(owner, fn, self, args)` runs a tracked timer's callback (default: a plain
 * call), so a pool worker can run it as its actor. Returns `cancel(owner)`, which clears every
 * timer of that owner.
 */
function trackTimers(owner, call = (o, fn, self, args) => fn.apply(self, args)) {
  const g = globalThis;
  const original = {
    setTimeout: g.setTimeout,
    setInterval: g.setInterval,
    setImmediate: g.setImmediate,
    clearTimeout: g.clearTimeout,
    clearInterval: g.clearInterval,
    clearImmediate: g.clearImmediate,
  };
  const owners = new Map(); // handle → owner, to forget a handle cleared by user code
  const track = (set, clear, once) => {
    const wrapped = function (fn, ...args) {
      const o = typeof fn === 'function' ? owner() : null;
      if (o === null || o === undefined) return set(fn, ...args);
      const h = set(function (...a) {
        if (once) {
          o.timers.delete(h);
          owners.delete(h);
        }
        return call(o, fn, this, a);
      }, ...args);
      o.timers.set(h, clear);
      owners.set(h, o);
      return h;
    };
    for (const k of Reflect.ownKeys(set)) {
      if (typeof k === 'symbol') Object.defineProperty(wrapped, k, Object.getOwnPropertyDescriptor(set, k));
    }
    return wrapped;
  };
  const untrack = (clear) =>
    function (h) {
      const o = owners.get(h);
      if (o !== undefined) {
        o.timers.delete(h);
        owners.delete(h);
      }
      return clear(h);
    };
  g.setTimeout = track(original.setTimeout, original.clearTimeout, true);
  g.setInterval = track(original.setInterval, original.clearInterval, false);
  g.setImmediate = track(original.setImmediate, original.clearImmediate, true);
  g.clearTimeout = untrack(original.clearTimeout);
  g.clearInterval = untrack(original.clearInterval);
  g.clearImmediate = untrack(original.clearImmediate);
  return function cancel(o) {
    for (const [h, clear] of o.timers) {
      clear(h);
      owners.delete(h);
    }
    o.timers.clear();
  };
}

module.exports = { trackTimers };
