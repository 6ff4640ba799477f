'use strict';
// The failure detector of one node (DESIGN.md 9): which other nodes are up, from their
// heartbeats. A functional core — it is given the time and returns what happened — so it is
// unit-tested without threads, clocks or NATS (lib/cluster/beat.js drives it).
//
// - A node is up from its first heartbeat and down after `downAfterMs` without one, or at once
//   when it says goodbye. Down is said once per (node, epoch).
// - A (node, epoch) declared down stays dead: its later heartbeats are ignored and answered with
//   `stale`, so that a node that was only frozen or cut off learns it must rejoin as a new epoch.
// - A heartbeat of a known node with a new epoch is a restart: the old epoch goes down first.
// - When this node's own clock jumps by more than `downAfterMs` between ticks (the process was
//   stopped), the others have declared it down: `frozen` tells the caller to take a new epoch.

const TOMBSTONES_KEPT = 16; // dead epochs remembered per node

class Detector {
  constructor({ self, downAfterMs, now }) {
    this.self = self;
    this.downAfterMs = downAfterMs;
    this.peers = new Map(); // node → { epoch, seen, since }
    this.dead = new Map(); // node → epochs declared down (oldest first)
    this.lastTick = now;
  }

  /** A heartbeat of `node` at `epoch`, received at `now`. Returns events. */
  beat(node, epoch, now) {
    if (node === this.self) return [];
    if (this.isDead(node, epoch)) return [{ type: 'stale', node, epoch }];
    const p = this.peers.get(node);
    if (p && p.epoch === epoch) {
      p.seen = now;
      return [];
    }
    const events = [];
    if (p) events.push(this._down(node, p.epoch, 'restarted'));
    this.peers.set(node, { epoch, seen: now, since: now });
    events.push({ type: 'up', node, epoch });
    return events;
  }

  /** `node` left on purpose (shutdown). */
  bye(node, epoch) {
    const p = this.peers.get(node);
    if (!p || p.epoch !== epoch) {
      if (!this.isDead(node, epoch)) this._bury(node, epoch);
      return [];
    }
    return [this._down(node, epoch, 'left')];
  }

  /** Time passes: nodes silent for longer than `downAfterMs` go down. */
  tick(now) {
    const events = [];
    const gap = now - this.lastTick;
    this.lastTick = now;
    // Frozen: the silence was this node's own; the caller resets (nobody is buried for it).
    if (gap > this.downAfterMs) return [{ type: 'frozen', gapMs: gap }];
    for (const [node, p] of this.peers) {
      if (now - p.seen > this.downAfterMs) events.push(this._down(node, p.epoch, 'silent'));
    }
    return events;
  }

  /**
   * This node took a new epoch: every peer is forgotten (down, as far as this node is
   * concerned) without being buried — their next heartbeat brings them up again.
   */
  reset() {
    const events = [];
    for (const [node, p] of this.peers) events.push({ type: 'down', node, epoch: p.epoch, why: 'rejoined' });
    this.peers.clear();
    return events;
  }

  /** True if (`node`, `epoch`) was declared down. */
  isDead(node, epoch) {
    return this.dead.get(node)?.includes(epoch) ?? false;
  }

  /** Live peers: `[{ node, epoch, since }]`. */
  nodes() {
    return [...this.peers].map(([node, p]) => ({ node, epoch: p.epoch, since: p.since }));
  }

  _down(node, epoch, why) {
    this.peers.delete(node);
    this._bury(node, epoch);
    return { type: 'down', node, epoch, why };
  }

  _bury(node, epoch) {
    let list = this.dead.get(node);
    if (!list) this.dead.set(node, (list = []));
    list.push(epoch);
    if (list.length > TOMBSTONES_KEPT) list.shift();
  }
}

module.exports = { Detector };
