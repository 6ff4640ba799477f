'use strict';
// The cluster side of a supervisor (DESIGN.md 9): this process is one node of a cluster whose
// nodes meet on NATS. What lives where:
//   - data (sends, calls and replies, links, monitors, acks) travels on this host thread's NATS
//     connection, straight between the NATS client and the Rust core: one subject per node,
//     sealed JSON envelopes (lib/cluster/envelope.js);
//   - heartbeats and the failure detector run in a worker thread with a connection of its own
//     (lib/cluster/beat.js), so a busy host thread is not declared down;
//   - global names live in a JetStream key-value bucket (create-if-absent).
// Remote ids read `actor-N@node`. Delivery is at-most-once and FIFO per pair of nodes; a
// bounded outbound queue per destination (flow-controlled by acks) turns overflow into dead
// letters instead of a slow consumer that NATS would disconnect.

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const native = require('../native.js');
const codes = require('../port/kinds.js');
const { encode } = require('../codec.js');
const { callOptions, abortReason, listenAbort } = require('../call-options.js');
const { ActorExitError, TimeoutError } = require('../errors.js');
const { KINDS: K, deriveKey, seal, open } = require('./envelope.js');
const { connectNats } = require('./transport.js');
const { newEpoch } = require('./heartbeats.js');

const BEAT_SCRIPT = path.join(__dirname, 'beat.js');
const REMOTE_ID = /^actor-(\d+)@([A-Za-z0-9_-]{1,64})$/;
const EVENTS = ['nodeUp', 'nodeDown', 'state', 'registered', 'refused'];
const ACK_DELAY_MS = 5; // an ack waits this long for more traffic to cover
const RETRY_MS = 500; // between attempts to connect
const DEAD_KEPT = 1024; // dead (node, epoch) pairs remembered
const WHEREIS_POLL_MS = 50;
const CLOSE_WAIT_MS = 2000;
const BATCH_MAX = 256; // envelopes per frame at most
const BATCH_BYTES = 256 * 1024; // about this many body bytes per frame at most (NATS allows 1 MiB) // longest a shutdown waits for the cluster thread and the bucket

/** `{ num, node }` of a remote id (`actor-N@node`), from a string or anything with such an `id`. */
function parseRemote(target) {
  const key = typeof target === 'string' ? target : target !== null && typeof target === 'object' ? target.id : undefined;
  if (typeof key !== 'string') return null;
  const m = REMOTE_ID.exec(key);
  return m ? { num: Number(m[1]), node: m[2] } : null;
}

/** A KV key for a registered name: base64url keeps any name within NATS's key alphabet. */
function nameKey(name) {
  return `n_${Buffer.from(name).toString('base64url')}`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with true when `promise` settles within `ms`, else with false; no timer outlives it. */
function settlesWithin(promise, ms) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}

/** A handle to an actor on another node: `receive` and `call` as with a local ActorRef. */
class RemoteRef {
  constructor(cluster, num, node, epoch, name) {
    this.id = `actor-${num}@${node}`;
    this.name = name;
    this.node = node;
    this._num = num;
    this._epoch = epoch; // the node's epoch when this ref was made: a later epoch is another node
    this._cluster = cluster;
  }

  /** The epoch of the node this ref addresses. */
  get epoch() {
    return this._epoch;
  }

  /** Sends `msg` (at-most-once, FIFO per pair of nodes). False when it was dead-lettered here. */
  receive(msg, options) {
    if (options !== undefined) throw new TypeError('receive: options (incarnation) apply to local actors only');
    return this._cluster.send(this, 0, encode(msg, 'receive: msg'));
  }

  /** Request-reply across nodes; rejects at once with `noconnection` when the node is gone. */
  call(msg, options) {
    const { timeoutMs, signal } = callOptions(options, 'call: options');
    const body = encode(msg, 'call: msg');
    if (signal?.aborted) return Promise.reject(abortReason(signal)); // nothing is sent
    return this._cluster.call(this, 0, body, timeoutMs, signal);
  }

  subscribe() {
    throw new TypeError(`subscribe: ${this.id} runs on node "${this.node}"; self.send messages stay on their node`);
  }

  terminate() {
    return Promise.reject(new TypeError(`terminate: ${this.id} runs on node "${this.node}"; only its own node can stop it`));
  }

  kill() {
    return Promise.reject(new TypeError(`kill: ${this.id} runs on node "${this.node}"; only its own node can kill it`));
  }

  toJSON() {
    return { id: this.id };
  }
}

/** One other node, as this node sends to it. */
class Peer {
  constructor(cluster, node, epoch, up) {
    this.node = node;
    this.epoch = epoch;
    this.up = up; // false while only its envelopes (not yet its heartbeats) were seen
    this.subject = cluster._subjectOf(node);
    this.seq = 0; // last sequence number published to it
    this.acked = 0; // highest sequence number it acknowledged
    this.queue = []; // envelopes waiting for credit or for the connection, from queue[head] on
    this.head = 0;
    this.batch = []; // envelopes of the frame being filled (published at the end of the turn)
    this.batchBytes = 0;
    this.flushQueued = false;
  }
}

class Cluster {
  constructor(sup, config) {
    this.node = config.node;
    this.epoch = newEpoch();
    this.state = 'connecting';
    this.config = config;
    this._sup = sup;
    this._key = deriveKey(config.secret);
    this._listeners = new Map(EVENTS.map((e) => [e, new Set()]));
    this._peers = new Map(); // node → Peer
    this._dead = new Set(); // "node/epoch" declared down
    this._inbound = new Map(); // node → { epoch, high, acked, timer } (acks owed)
    this._calls = new Map(); // corr → { resolve, reject, timer, node }
    this._corr = 0;
    this._refs = 0; // monitor references made on the host
    this._watching = new Map(); // our monitor ref → { watcher, inc, node, num }
    this._watchingBy = new Map(); // watcher → Set<ref>
    this._watchers = new Map(); // local actor → Map<ref, { node, watcher }> (remote monitors of it)
    this._links = new Map(); // local actor → Map<"node/num", { node, num }>
    this._owned = new Map(); // global name → { num, rev }
    this._transport = null;
    this._kv = null; // Promise<KV>, opened on first use
    this._closed = false;
    this._connectError = undefined;
    this._stats = { sent: 0, received: 0, refused: 0, stale: 0, deadLetters: 0 };
    this._unlisten = sup.on('exit', (e) => this._localExit(e));
    this._thread = null;
    this._threadGone = null;
    this._startThread();
    this.ready = this._connect();
  }

  // ---- public API ----------------------------------------------------------------------

  /** Live nodes (this one first) with their epochs. */
  nodes() {
    const out = [{ node: this.node, epoch: this.epoch, self: true }];
    for (const p of this._peers.values()) if (p.up) out.push({ node: p.node, epoch: p.epoch, self: false });
    return out;
  }

  /** `nodeUp`, `nodeDown` ({ node, epoch, reason }), `state`, `registered`, `refused`. */
  on(event, fn) {
    const set = this._listeners.get(event);
    if (!set) throw new TypeError(`cluster.on: unknown event "${event}" (expected one of: ${EVENTS.join(', ')})`);
    if (typeof fn !== 'function') throw new TypeError('cluster.on: fn must be a function');
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Counters: envelopes sent and received, refused (bad MAC), stale (old epochs), dead letters. */
  stats() {
    let queued = 0;
    for (const p of this._peers.values()) queued += p.queue.length - p.head;
    return { ...this._stats, queued };
  }

  /**
   * A ref for an id of another node (`actor-N@node`, e.g. one that came in a message), bound
   * to that node's current epoch: if the node restarts, the ref is stale (`noproc`).
   */
  ref(id) {
    const r = parseRemote(id);
    if (r === null) throw new TypeError('cluster.ref: id must read "actor-N@node"');
    if (r.node === this.node) {
      const entry = this._sup._entries.get(r.num);
      if (!entry) throw new RangeError(`cluster.ref: no live actor ${id} on this node`);
      return entry.ref;
    }
    return new RemoteRef(this, r.num, r.node, this._peers.get(r.node)?.epoch, undefined);
  }

  /** True if `target` names an actor of another node. */
  isRemote(target) {
    if (target instanceof RemoteRef) return true;
    const r = parseRemote(target);
    return r !== null && r.node !== this.node;
  }

  /**
   * The actor registered as `name` here or cluster-wide: a local ActorRef, a RemoteRef, or
   * undefined. With `wait` (ms), keeps looking until it appears (and its node is up).
   */
  async whereis(name, options = {}) {
    if (typeof name !== 'string') throw new TypeError('whereis: name must be a string');
    if (options === null || typeof options !== 'object') throw new TypeError('whereis: options must be an object');
    for (const k of Object.keys(options)) if (k !== 'wait') throw new TypeError(`whereis: unknown option "${k}" (expected: wait)`);
    const wait = options.wait ?? 0;
    if (typeof wait !== 'number' || Number.isNaN(wait)) throw new TypeError('whereis: options.wait must be a number of ms');
    if (wait < 0 || !Number.isFinite(wait)) throw new RangeError('whereis: options.wait must be a non-negative finite number');
    const deadline = performance.now() + wait;
    for (;;) {
      const local = this._sup.whereis(name);
      // A local actor spawned with `global` counts once its claim is won.
      if (local && (!this._sup._entries.get(local._num)?.opts.global || this._owned.get(name)?.num === local._num)) return local;
      const found = await this._lookup(name);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0 || this._closed) return undefined;
      await sleep(Math.min(WHEREIS_POLL_MS, left));
    }
  }

  // ---- messages ------------------------------------------------------------------------

  /** `{ num, node, epoch }` a target addresses (epoch undefined: whatever the node's is now). */
  _address(target) {
    if (target instanceof RemoteRef) return { num: target._num, node: target.node, epoch: target._epoch };
    const r = parseRemote(target);
    return r && { num: r.num, node: r.node, epoch: undefined };
  }

  /** Sends `body` (JSON text) from local actor `from` (0: the host) to a remote target. */
  send(target, from, body) {
    const d = this._address(target);
    if (d.node === this.node) return native.send(d.num, body, -1, this._sup._sid) === codes.QUEUED;
    const peer = this._peers.get(d.node);
    const why = this._unreachable(peer, d);
    if (why) return this._deadLetter(d, from, body, why);
    if (!this._out(peer, { k: K.SEND, t: d.num, f: from, b: this._outward(body) })) return this._deadLetter(d, from, body, 'overflow');
    return true;
  }

  /** A call to a remote target from local actor `from` (0: the host); `signal` may abort it. */
  call(target, from, body, timeoutMs, signal) {
    const d = this._address(target);
    if (d.node === this.node) return this._sup._call(d.num, body, timeoutMs);
    return new Promise((resolve, reject) => {
      const peer = this._peers.get(d.node);
      // Sends queue (within the bound) while NATS reconnects; a call fails fast instead.
      const why = this._unreachable(peer, d) ?? (this.state === 'connected' ? undefined : 'noconnection');
      if (why) {
        reject(new ActorExitError(why));
        return;
      }
      const c = ++this._corr;
      if (!this._out(peer, { k: K.CALL, t: d.num, f: from, c, x: timeoutMs, b: this._outward(body) })) {
        reject(new ActorExitError('overflow'));
        return;
      }
      const call = { resolve, reject, timer: null, node: d.node, unlisten: null };
      const settle = (fn) => (value) => {
        clearTimeout(call.timer);
        call.unlisten?.();
        fn(value);
      };
      call.resolve = settle(resolve);
      call.reject = settle(reject);
      call.timer = setTimeout(() => {
        this._calls.delete(c);
        call.reject(new TimeoutError(`call to actor-${d.num}@${d.node} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      if (signal) {
        // aborted: rejected now; a late reply finds no entry and is dropped
        call.unlisten = listenAbort(signal, (reason) => this._calls.delete(c) && call.reject(reason));
      }
      this._calls.set(c, call);
    });
  }

  /** Why nothing can reach `d` now (`noconnection`, `noproc`), or undefined. */
  _unreachable(peer, d) {
    if (this._closed || !peer) return 'noconnection';
    if (d.epoch !== undefined && d.epoch !== peer.epoch) return 'noproc'; // the node restarted since
    return undefined;
  }

  _deadLetter(d, from, body, reason) {
    this._stats.deadLetters++;
    this._sup._emit('deadLetter', {
      to: `actor-${d.num}@${d.node}`,
      from: from ? `actor-${from}` : 'host',
      message: body === '' ? undefined : JSON.parse(body),
      reason,
    });
    return false;
  }

  /** Local ids in an outgoing body become `actor-N@thisnode`, so they work over there. */
  _outward(body) {
    if (!body.includes('"actor-')) return body;
    return body.replace(/(?<!\\)"actor-(\d+)"/g, `"actor-$1@${this.node}"`);
  }

  /** Ids of this node in an incoming body become local ids again. */
  _inward(body) {
    if (!body.includes(`@${this.node}"`)) return body;
    return body.replace(new RegExp(`(?<!\\\\)"actor-(\\d+)@${this.node}"`, 'g'), '"actor-$1"');
  }

  /** Queues or publishes `env` to `peer`; false on overflow of the bounded queue. */
  _out(peer, env) {
    const queued = peer.queue.length - peer.head;
    if (queued === 0 && this._canPublish(peer)) {
      this._publish(peer, env);
      return true;
    }
    if (queued >= this.config.outboundQueue) return false;
    peer.queue.push(env);
    return true;
  }

  _canPublish(peer) {
    return this._transport !== null && this.state === 'connected' && peer.seq - peer.acked < this.config.window;
  }

  /** Adds `env` to the frame being filled for `peer`; the frame leaves at the end of this turn. */
  _publish(peer, env) {
    env.q = ++peer.seq;
    this._stats.sent++;
    peer.batch.push(env);
    peer.batchBytes += env.b === undefined ? 32 : env.b.length + 32;
    if (peer.batch.length >= BATCH_MAX || peer.batchBytes >= BATCH_BYTES) this._flush(peer);
    else if (!peer.flushQueued) {
      peer.flushQueued = true;
      queueMicrotask(() => this._flush(peer));
    }
  }

  /** Seals and publishes the envelopes gathered for `peer` as one frame (one MAC, one NATS message). */
  _flush(peer) {
    peer.flushQueued = false;
    if (peer.batch.length === 0 || this._transport === null) return;
    const m = peer.batch;
    peer.batch = [];
    peer.batchBytes = 0;
    this._transport.publish(peer.subject, seal(this._key, { n: this.node, e: this.epoch, te: peer.epoch, m }));
  }

  /** Publishes what waits for `peer` as far as credit allows. */
  _pump(peer) {
    const q = peer.queue;
    while (peer.head < q.length && this._canPublish(peer)) {
      const env = q[peer.head];
      q[peer.head++] = undefined;
      this._publish(peer, env);
    }
    if (peer.head === q.length) {
      peer.queue = [];
      peer.head = 0;
    } else if (peer.head > 4096 && peer.head * 2 > q.length) {
      peer.queue = q.slice(peer.head);
      peer.head = 0;
    }
  }

  /** An envelope outside flow control (acks), straight to `node`. */
  _direct(node, epoch, env) {
    if (this._transport === null || this.state !== 'connected') return;
    this._transport.publish(this._subjectOf(node), seal(this._key, { n: this.node, e: this.epoch, te: epoch, m: [env] }));
  }

  _subjectOf(node) {
    return `${this.config.prefix}.node.${node}`;
  }

  /** Acknowledges sequence numbers of `node`, soon (one ack covers a burst). */
  _owe(env) {
    let inb = this._inbound.get(env.n);
    if (!inb || inb.epoch !== env.e) {
      if (inb) clearTimeout(inb.timer);
      inb = { epoch: env.e, high: 0, acked: 0, timer: null };
      this._inbound.set(env.n, inb);
    }
    if (env.q > inb.high) inb.high = env.q;
    const ack = () => {
      clearTimeout(inb.timer);
      inb.timer = null;
      inb.acked = inb.high;
      this._direct(env.n, inb.epoch, { k: K.ACK, x: inb.high });
    };
    if (inb.high - inb.acked >= this.config.window / 4) ack();
    else if (inb.timer === null) inb.timer = setTimeout(ack, ACK_DELAY_MS);
  }

  // ---- incoming ------------------------------------------------------------------------

  /** A frame on this node's subject: `{ n, e, te, m: [envelopes] }` behind its MAC. */
  _onFrame(bytes) {
    const frame = open(this._key, bytes);
    if (frame === null || !Array.isArray(frame.m)) {
      this._stats.refused++;
      this._emitEvent('refused', { count: this._stats.refused });
      return;
    }
    if (frame.n === this.node || this._dead.has(`${frame.n}/${frame.e}`) || this._closed) {
      this._stats.stale += frame.m.length;
      return;
    }
    let peer = this._peers.get(frame.n);
    if (!peer || peer.epoch !== frame.e) {
      // Its envelopes can come before its heartbeats reach this node's detector.
      if (peer) this._nodeDown(peer, 'restarted');
      peer = new Peer(this, frame.n, frame.e, false);
      this._peers.set(frame.n, peer);
    }
    for (const env of frame.m) {
      if (env === null || typeof env !== 'object') continue;
      env.n = frame.n;
      env.e = frame.e;
      env.te = frame.te;
      this._stats.received++;
      this._onEnvelope(peer, env);
    }
  }

  _onEnvelope(peer, env) {
    if (env.k === K.ACK) {
      if (env.te === this.epoch && env.x > peer.acked) {
        peer.acked = Math.min(env.x, peer.seq);
        this._pump(peer);
      }
      return;
    }
    if (typeof env.q === 'number') this._owe(env);
    const stale = env.te !== this.epoch; // addressed to an earlier life of this node
    switch (env.k) {
      case K.SEND: {
        if (stale || !this._local(env.t)) {
          this._stats.stale += stale ? 1 : 0;
          this._deadLetterIn(env, 'noproc');
          return;
        }
        native.send(env.t, this._inward(env.b ?? ''), -1, this._sup._sid); // refusals are dead letters
        return;
      }
      case K.CALL:
        if (stale || !this._local(env.t)) {
          this._out(peer, { k: K.REPLY, c: env.c, r: 'exit', b: 'noproc' });
          return;
        }
        this._sup._call(env.t, this._inward(env.b ?? ''), Number(env.x) || 5000).then(
          (value) => {
            const text = encode(value, 'call: reply');
            this._replyTo(env, { k: K.REPLY, c: env.c, r: 'ok', b: this._outward(text) });
          },
          (err) => {
            if (err instanceof TimeoutError) return; // the caller times out on its own
            const exit = err instanceof ActorExitError;
            this._replyTo(env, { k: K.REPLY, c: env.c, r: exit ? 'exit' : 'err', b: exit ? err.reason : err.message });
          },
        );
        return;
      case K.REPLY: {
        const c = this._calls.get(env.c);
        if (!c || c.node !== env.n) return; // late, or not the node asked
        this._calls.delete(env.c);
        clearTimeout(c.timer);
        if (env.r === 'ok') c.resolve(env.b ? JSON.parse(this._inward(env.b)) : undefined);
        else if (env.r === 'exit') c.reject(new ActorExitError(env.b));
        else c.reject(new Error(env.b));
        return;
      }
      case K.MONITOR: {
        if (stale || !this._alive(env.t)) {
          this._out(peer, { k: K.DOWN, t: env.t, c: env.c, r: 'noproc', x: env.f });
          return;
        }
        let m = this._watchers.get(env.t);
        if (!m) this._watchers.set(env.t, (m = new Map()));
        m.set(env.c, { node: env.n, watcher: env.f });
        return;
      }
      case K.DEMONITOR: {
        const m = this._watchers.get(env.t);
        if (m?.get(env.c)?.node === env.n) m.delete(env.c);
        return;
      }
      case K.DOWN: {
        const w = this._watching.get(env.c);
        if (!w || w.node !== env.n || w.num !== env.t) return; // a DOWN only from the node watched
        this._forgetWatch(env.c, w);
        this._fireDown(env.c, w, String(env.r));
        return;
      }
      case K.LINK: {
        if (stale || !this._alive(env.t)) {
          this._out(peer, { k: K.EXIT, f: env.t, t: env.f, r: 'noproc' });
          return;
        }
        this._linkSet(env.t).set(`${env.n}/${env.f}`, { node: env.n, num: env.f });
        return;
      }
      case K.UNLINK:
        this._links.get(env.t)?.delete(`${env.n}/${env.f}`);
        return;
      case K.EXIT: {
        const set = this._links.get(env.t);
        const key = `${env.n}/${env.f}`;
        if (!set?.has(key)) return; // no such link (any more): a remote cannot make one up
        set.delete(key);
        native.remoteExit(env.t, `actor-${env.f}@${env.n}`, String(env.r));
        return;
      }
      default:
        this._stats.refused++;
    }
  }

  _replyTo(env, reply) {
    const peer = this._peers.get(env.n);
    if (peer && peer.epoch === env.e) this._out(peer, reply);
  }

  _deadLetterIn(env, reason) {
    this._stats.deadLetters++;
    this._sup._emit('deadLetter', {
      to: `actor-${env.t}`,
      from: env.f ? `actor-${env.f}@${env.n}` : `host@${env.n}`,
      message: env.b ? JSON.parse(env.b) : undefined,
      reason,
    });
  }

  /** True if `num` is an actor of this supervisor (remote traffic reaches no other). */
  _local(num) {
    return Number.isSafeInteger(num) && this._sup._entries.get(num)?.opts.internal !== true && this._sup._entries.has(num);
  }

  /** True if `num` has a running incarnation (links and monitors bind incarnations). */
  _alive(num) {
    return this._local(num) && this._sup._entries.get(num).thread !== null;
  }

  // ---- links and monitors --------------------------------------------------------------

  _linkSet(num) {
    let set = this._links.get(num);
    if (!set) this._links.set(num, (set = new Map()));
    return set;
  }

  /** Links local actor `num` with a remote target. */
  link(num, target) {
    const d = this._address(target);
    const peer = this._peers.get(d.node);
    const why = this._unreachable(peer, d);
    if (why) {
      native.remoteExit(num, `actor-${d.num}@${d.node}`, why);
      return;
    }
    this._linkSet(num).set(`${d.node}/${d.num}`, { node: d.node, num: d.num });
    this._out(peer, { k: K.LINK, t: d.num, f: num });
  }

  unlink(num, target) {
    const d = this._address(target);
    this._links.get(num)?.delete(`${d.node}/${d.num}`);
    const peer = this._peers.get(d.node);
    if (peer) this._out(peer, { k: K.UNLINK, t: d.num, f: num });
  }

  /** Local actor `watcher` monitors a remote target; returns the reference (`ref-…@node`). */
  monitor(watcher, target, ref) {
    const d = this._address(target);
    ref ??= `ref-h${++this._refs}@${d.node}`;
    const w = { watcher, inc: native.incarnation(watcher), node: d.node, num: d.num };
    const peer = this._peers.get(d.node);
    const why = this._unreachable(peer, d);
    if (why) {
      this._fireDown(ref, w, why);
      return ref;
    }
    this._watching.set(ref, w);
    let set = this._watchingBy.get(watcher);
    if (!set) this._watchingBy.set(watcher, (set = new Set()));
    set.add(ref);
    this._out(peer, { k: K.MONITOR, t: d.num, f: watcher, c: ref });
    return ref;
  }

  /** Cancels a remote monitor; false if it already fired. */
  demonitor(ref) {
    const w = this._watching.get(ref);
    if (!w) return false;
    this._forgetWatch(ref, w);
    const peer = this._peers.get(w.node);
    if (peer) this._out(peer, { k: K.DEMONITOR, t: w.num, c: ref });
    return true;
  }

  _forgetWatch(ref, w) {
    this._watching.delete(ref);
    const set = this._watchingBy.get(w.watcher);
    set?.delete(ref);
    if (set?.size === 0) this._watchingBy.delete(w.watcher);
  }

  /** DOWN for the incarnation of the watcher that set the monitor (never a later one). */
  _fireDown(ref, w, reason) {
    if (native.incarnation(w.watcher) !== w.inc) return;
    const data = { id: `actor-${w.num}@${w.node}`, reason, ref };
    native.remoteDown(w.watcher, JSON.stringify({ msg: 'DOWN', data }));
  }

  /** An incarnation of a local actor ended: remote monitors and links of it fire. */
  _localExit({ id, reason }) {
    const num = Number(id.slice(6));
    const watchers = this._watchers.get(num);
    if (watchers) {
      this._watchers.delete(num);
      for (const [ref, w] of watchers) {
        const peer = this._peers.get(w.node);
        if (peer) this._out(peer, { k: K.DOWN, t: num, c: ref, r: reason, x: w.watcher });
      }
    }
    const links = this._links.get(num);
    if (links) {
      this._links.delete(num);
      for (const l of links.values()) {
        const peer = this._peers.get(l.node);
        if (peer) this._out(peer, { k: K.EXIT, f: num, t: l.num, r: reason });
      }
    }
    const held = this._watchingBy.get(num);
    if (held) {
      for (const ref of [...held]) this.demonitor(ref); // monitors it set end with it
    }
    if (this._owned.size > 0) {
      setImmediate(() => {
        if (this._sup._entries.has(num)) return; // restarted: the name follows it
        for (const [name, o] of this._owned) if (o.num === num) this._release(name, o);
      });
    }
  }

  // ---- nodes ---------------------------------------------------------------------------

  _nodeUp(node, epoch) {
    if (this._dead.has(`${node}/${epoch}`)) return;
    let peer = this._peers.get(node);
    if (peer && peer.epoch !== epoch) {
      this._nodeDown(peer, 'restarted');
      peer = undefined;
    }
    if (!peer) {
      peer = new Peer(this, node, epoch, true);
      this._peers.set(node, peer);
    } else if (peer.up) {
      return;
    }
    peer.up = true;
    this._emitEvent('nodeUp', { node, epoch });
    this._pump(peer);
  }

  /**
   * `peer` is gone: everything waiting on it ends with `noconnection`, once. `bury`: its epoch
   * is dead for good (false when this node is the one that rejoins: the peer lives on).
   */
  _nodeDown(peer, why, bury = true) {
    if (this._peers.get(peer.node) !== peer) return;
    this._peers.delete(peer.node);
    if (bury) {
      this._dead.add(`${peer.node}/${peer.epoch}`);
      if (this._dead.size > DEAD_KEPT) this._dead.delete(this._dead.values().next().value);
    }
    const inb = this._inbound.get(peer.node);
    if (inb) {
      clearTimeout(inb.timer);
      this._inbound.delete(peer.node);
    }
    for (let i = peer.head; i < peer.queue.length; i++) {
      const env = peer.queue[i];
      if (env.k === K.SEND) this._deadLetter({ num: env.t, node: peer.node }, env.f, env.b, 'noconnection');
    }
    peer.queue = [];
    peer.head = 0;
    for (const [c, call] of this._calls) {
      if (call.node !== peer.node) continue;
      this._calls.delete(c);
      clearTimeout(call.timer);
      call.reject(new ActorExitError('noconnection'));
    }
    for (const [ref, w] of this._watching) {
      if (w.node !== peer.node) continue;
      this._forgetWatch(ref, w);
      this._fireDown(ref, w, 'noconnection');
    }
    for (const [num, links] of this._links) {
      for (const [key, l] of links) {
        if (l.node !== peer.node) continue;
        links.delete(key);
        native.remoteExit(num, `actor-${l.num}@${l.node}`, 'noconnection');
      }
      if (links.size === 0) this._links.delete(num);
    }
    for (const [num, m] of this._watchers) {
      for (const [ref, w] of m) if (w.node === peer.node) m.delete(ref);
      if (m.size === 0) this._watchers.delete(num);
    }
    if (peer.up) this._emitEvent('nodeDown', { node: peer.node, epoch: peer.epoch, reason: why });
    if (bury && !this._closed) this._freeNamesOf(peer.node, peer.epoch);
  }

  /** Messages of the cluster thread. */
  _onThread(m) {
    if (m.type === 'up') this._nodeUp(m.node, m.epoch);
    else if (m.type === 'down') {
      const peer = this._peers.get(m.node);
      const rejoin = m.why === 'rejoined'; // this node rejoins: the peer is not dead
      if (peer && peer.epoch === m.epoch) this._nodeDown(peer, m.why === 'left' ? 'left' : 'noconnection', !rejoin);
      else if (!rejoin) this._dead.add(`${m.node}/${m.epoch}`);
    } else if (m.type === 'epoch') {
      // This node was declared down (frozen, or cut off): it comes back as a new node.
      for (const peer of [...this._peers.values()]) this._nodeDown(peer, 'noconnection', false);
      this.epoch = m.epoch;
      for (const [name, o] of this._owned) this._claim(name, o.num).catch(() => {});
    } else if (m.type === 'error') {
      if (m.message !== this._connectError) this._sup._emit('error', { reason: `cluster: heartbeat connection failed: ${m.message}` });
    } else if (m.type === 'refused') {
      this._stats.refused++; // a heartbeat that did not prove the secret
      this._emitEvent('refused', { count: this._stats.refused });
    }
  }

  _startThread() {
    const worker = new Worker(BEAT_SCRIPT, { workerData: { config: this.config, epoch: this.epoch } });
    this._thread = worker;
    worker.on('message', (m) => this._onThread(m));
    worker.on('error', (err) => this._sup._emit('error', { reason: `cluster: heartbeat thread failed: ${err.message}`, error: err }));
    this._threadGone = new Promise((resolve) => worker.once('exit', resolve));
  }

  async _connect() {
    while (!this._closed) {
      try {
        const t = await connectNats(this.config, `warden ${this.node}`);
        if (this._closed) {
          await t.close();
          return;
        }
        this._transport = t;
        t.subscribe(this._subjectOf(this.node), (bytes) => this._onFrame(bytes));
        t.onStatus((s) => this._setState(s));
        await t.flush();
        this._setState('connected');
        this._freeStaleOwnNames().catch(() => {});
        return;
      } catch (err) {
        if (this._closed) return;
        if (this._connectError !== err.message) {
          this._connectError = err.message; // said once per distinct cause, then retried quietly
          this._sup._emit('error', { reason: `cluster: cannot connect to NATS (${this.config.servers.join(', ')}): ${err.message}`, error: err });
        }
        await sleep(RETRY_MS);
      }
    }
  }

  _setState(s) {
    if (s === this.state) return;
    this.state = s;
    this._emitEvent('state', s);
    if (s === 'connected') for (const p of this._peers.values()) this._pump(p);
  }

  _emitEvent(event, payload) {
    for (const fn of this._listeners.get(event)) {
      try {
        fn(payload);
      } catch (err) {
        this._sup._emit('error', { reason: `cluster ${event} listener threw`, error: err });
      }
    }
  }

  // ---- requests from actors ------------------------------------------------------------

  /** `ctx.send`/`ctx.call`/`ctx.link`… of a local actor with a remote target. */
  request(entry, req, answer) {
    const from = entry.num;
    const self = parseRemote(req.to);
    if (self !== null && self.node === this.node) {
      // `actor-N@thisnode`: a local actor under its cluster-wide id.
      if (req.what === 'send') native.send(self.num, req.body, -1, this._sup._sid);
      else if (req.what === 'call') {
        this._sup._call(self.num, req.body, req.timeoutMs).then(
          (value) => answer(codes.REPLY_OK, value),
          (err) => (err instanceof ActorExitError ? answer(codes.REPLY_ERR_EXIT, err.reason) : answer(codes.REPLY_ERR, err.message)),
        );
      } else throw new RangeError(`ctx.${req.what}: use the local id actor-${self.num} for an actor of this node`);
      return;
    }
    switch (req.what) {
      case 'send':
        this.send(req.to, from, req.body);
        return;
      case 'call':
        this.call(req.to, from, req.body, req.timeoutMs).then(
          (value) => answer(codes.REPLY_OK, value),
          (err) => (err instanceof ActorExitError ? answer(codes.REPLY_ERR_EXIT, err.reason) : answer(codes.REPLY_ERR, err.message)),
        );
        return;
      case 'link':
        this.link(from, req.to);
        return;
      case 'unlink':
        this.unlink(from, req.to);
        return;
      case 'monitor':
        this.monitor(from, req.to, req.ref);
        return;
      case 'demonitor':
        this.demonitor(req.ref);
        return;
      default:
        throw new Error(`unknown cluster request "${req.what}"`);
    }
  }

  // ---- global names --------------------------------------------------------------------

  _bucket() {
    if (this._kv === null) {
      this._kv = (async () => {
        while (this._transport === null && !this._closed) await sleep(WHEREIS_POLL_MS);
        if (this._closed) throw new Error('cluster closed');
        return this._transport.nc.jetstream().views.kv(this.config.bucket, { history: 1 });
      })();
      this._kv.catch(() => {
        this._kv = null; // tried again on next use
      });
    }
    return this._kv;
  }

  /** Registers `name` cluster-wide for local actor `num` (spawn option `global`). */
  claimGlobal(name, num) {
    this._claim(name, num).then(
      (ok) => {
        this._emitEvent('registered', { name, id: `actor-${num}`, ok });
        if (!ok && this._sup._entries.has(num)) this._sup.terminateActor(`actor-${num}`, 'name_taken').catch(() => {});
      },
      (err) => this._sup._emit('error', { reason: `cluster: cannot register "${name}": ${err.message}`, id: `actor-${num}`, error: err }),
    );
  }

  /**
   * Claims `name` for local actor `num`: create-if-absent, so one node wins a race. A name held
   * by an earlier life of this node or by a node known dead is taken over (compare-and-set on
   * its revision). Each step can lose a race with another node's step, so it starts over a few
   * times before it gives up.
   */
  async _claim(name, num) {
    const kv = await this._bucket();
    const key = nameKey(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const value = JSON.stringify({ node: this.node, epoch: this.epoch, id: num });
      const e = await kv.get(key);
      try {
        let rev;
        if (!e || e.operation !== 'PUT') rev = await kv.create(key, value);
        else {
          const v = JSON.parse(e.string());
          const ours = v.node === this.node && (v.epoch !== this.epoch || v.id === num);
          if (!ours && !this._dead.has(`${v.node}/${v.epoch}`)) return false; // a live owner
          rev = await kv.update(key, value, e.revision);
        }
        this._owned.set(name, { num, rev });
        return true;
      } catch {
        // someone else wrote the key between our read and our write: look again
      }
    }
    return false;
  }

  _release(name, o) {
    this._owned.delete(name);
    return this._bucket()
      .then((kv) => kv.delete(nameKey(name), { previousSeq: o.rev }))
      .catch(() => {});
  }

  /** Looks a global name up: a RemoteRef (or a local ref) if its node is up, else undefined. */
  async _lookup(name) {
    let e;
    try {
      e = await (await this._bucket()).get(nameKey(name));
    } catch {
      return undefined;
    }
    if (!e || e.operation !== 'PUT') return undefined;
    const v = JSON.parse(e.string());
    if (v.node === this.node) return v.epoch === this.epoch ? this._sup._entries.get(v.id)?.ref : undefined;
    const peer = this._peers.get(v.node);
    if (!peer || !peer.up || peer.epoch !== v.epoch) return undefined;
    return new RemoteRef(this, v.id, v.node, v.epoch, name);
  }

  /** The names a dead node held are freed by the survivors (each tries; one delete wins). */
  async _freeNamesOf(node, epoch) {
    let kv;
    try {
      kv = await this._bucket();
      for await (const key of await kv.keys()) {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') continue;
        const v = JSON.parse(e.string());
        if (v.node === node && v.epoch === epoch) await kv.delete(key, { previousSeq: e.revision }).catch(() => {});
      }
    } catch {
      // no JetStream, or the connection closed: nothing to free here
    }
  }

  /** At start: names an earlier life of this node left behind are freed. */
  async _freeStaleOwnNames() {
    const kv = await this._bucket();
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (!e || e.operation !== 'PUT') continue;
      const v = JSON.parse(e.string());
      if (v.node === this.node && v.epoch !== this.epoch) {
        await kv.delete(key, { previousSeq: e.revision }).catch(() => {});
      }
    }
  }

  // ---- shutdown ------------------------------------------------------------------------

  /** Leaves the cluster: names released, goodbye said, connections and the thread closed. */
  async close() {
    if (this._closed) return;
    const release = [...this._owned].map(([name, o]) => this._release(name, o));
    await settlesWithin(Promise.all(release), CLOSE_WAIT_MS);
    this._closed = true;
    this._unlisten();
    for (const c of this._calls.values()) {
      clearTimeout(c.timer);
      c.reject(new ActorExitError('shutdown'));
    }
    this._calls.clear();
    for (const inb of this._inbound.values()) clearTimeout(inb.timer);
    for (const peer of this._peers.values()) {
      for (let i = peer.head; i < peer.queue.length; i++) {
        const env = peer.queue[i];
        if (env.k === K.SEND) this._deadLetter({ num: env.t, node: peer.node }, env.f, env.b, 'shutdown');
      }
      peer.queue = [];
      peer.head = 0;
    }
    this._thread.postMessage({ type: 'bye' });
    if (!(await settlesWithin(this._threadGone, CLOSE_WAIT_MS))) await this._thread.terminate();
    if (this._transport) await this._transport.close().catch(() => {});
    this._setState('closed');
  }
}

module.exports = { Cluster, RemoteRef, parseRemote };
