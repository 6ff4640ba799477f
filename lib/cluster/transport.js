'use strict';
// How cluster code reaches other nodes: a small publish/subscribe interface with two
// implementations — NATS (the `nats` npm package) and an in-process loopback for unit tests.
//   publish(subject, bytes)                  fire and forget (at-most-once, FIFO per publisher)
//   subscribe(subject, fn(bytes)) → unsubscribe
//   flush() → Promise                        what was published has reached the server
//   close() → Promise
//   onStatus(fn(state))                      'connected' | 'reconnecting' | 'closed'

const fs = require('node:fs');
const { natsOptions } = require('./config.js');

const CLOSE_DRAIN_MS = 1000; // longest a close waits for a drain (the server may be gone)

/** Connects to NATS with the cluster's servers and credentials. Resolves with a transport. */
async function connectNats(config, name) {
  const nats = require('nats');
  const opts = natsOptions(config, name);
  if (config.credsFile !== undefined) opts.authenticator = nats.credsAuthenticator(fs.readFileSync(config.credsFile));
  const nc = await nats.connect(opts);
  const listeners = new Set();
  let state = 'connected';
  const setState = (s) => {
    if (s === state) return;
    state = s;
    for (const fn of listeners) fn(s);
  };
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') setState('reconnecting');
      else if (s.type === 'reconnect') setState('connected');
    }
  })().catch(() => {});
  nc.closed().then(() => setState('closed'));
  return {
    nc,
    get state() {
      return state;
    },
    publish(subject, bytes) {
      nc.publish(subject, bytes);
    },
    subscribe(subject, fn) {
      const sub = nc.subscribe(subject, { callback: (err, m) => err || fn(m.data) });
      return () => sub.unsubscribe();
    },
    flush: () => nc.flush(),
    /** Drains (what was published leaves first) unless the server is away: then closes at once. */
    async close() {
      if (nc.isClosed()) return;
      let timer;
      const away = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_DRAIN_MS)));
      await Promise.race([nc.drain().catch(() => {}), away]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close().catch(() => {});
    },
    onStatus(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/**
 * An in-process bus: every transport made by `bus.connect()` sees what the others publish,
 * delivered asynchronously in publish order (as a NATS server would). `bus.cut(t)` silences a
 * transport both ways (a partition or a frozen process), `bus.heal(t)` ends that.
 */
class Loopback {
  constructor() {
    this.subs = new Map(); // subject → Set<{ fn, owner }>
    this.cutOff = new Set();
    this.queue = [];
    this.scheduled = false;
  }

  connect() {
    const bus = this;
    const t = {
      state: 'connected',
      publish(subject, bytes) {
        if (bus.cutOff.has(t)) return;
        bus.queue.push([subject, Buffer.from(bytes)]);
        bus._schedule();
      },
      subscribe(subject, fn) {
        let set = bus.subs.get(subject);
        if (!set) bus.subs.set(subject, (set = new Set()));
        const s = { fn, owner: t };
        set.add(s);
        return () => set.delete(s);
      },
      flush: () => bus.settled(),
      async close() {
        for (const set of bus.subs.values()) for (const s of set) if (s.owner === t) set.delete(s);
        t.state = 'closed';
      },
      onStatus: () => () => {},
    };
    return t;
  }

  cut(t) {
    this.cutOff.add(t);
  }

  heal(t) {
    this.cutOff.delete(t);
  }

  /** Resolves once everything published so far has been delivered. */
  settled() {
    return new Promise((resolve) => setImmediate(() => (this.queue.length ? this.settled().then(resolve) : resolve())));
  }

  _schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.queue;
      this.queue = [];
      for (const [subject, bytes] of batch) {
        for (const s of this.subs.get(subject) ?? []) if (!this.cutOff.has(s.owner)) s.fn(bytes);
      }
    });
  }
}

module.exports = { connectNats, Loopback };
