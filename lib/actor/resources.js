'use strict';
// `ctx.resources.<name>.<method>(...args)` inside an actor, for both kinds of actor thread: a
// proxy whose calls check the arguments can travel and hand them to `call`, which asks the host
// (where they are validated against the resource's schema).

const { encode } = require('../codec.js');

/**
 * The `ctx.resources` proxy. `check()` throws when the calling incarnation is over;
 * `call(body)` sends `{ op: 'resource', resource, method, args }` to the host and returns its answer.
 */
function resourcesProxy(check, call) {
  return new Proxy(Object.create(null), {
    get(_, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return new Proxy(Object.create(null), {
        get(__, method) {
          if (typeof method !== 'string' || method === 'then') return undefined;
          return async (...args) => {
            check();
            encode(args, `resources.${name}.${method}: arguments`);
            return call({ op: 'resource', resource: name, method, args });
          };
        },
      });
    },
  });
}

module.exports = { resourcesProxy };
