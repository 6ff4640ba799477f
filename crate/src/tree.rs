//! Supervision trees: groups of children (actors and nested groups) in start order, each group
//! with a strategy, a restart intensity and an optional backoff.
//!
//! This is pure decision logic. The host reports "actor X's incarnation ended with reason R"
//! and gets back a [`Plan`]: the operations to carry out, in order (stop these siblings in
//! reverse start order, start these actors in start order after a delay, finish those for good,
//! report an escalation). Siblings stopped by a plan are *held*: their own exits are part of the
//! plan, never new failures, so one failure causes exactly one restart of the selected set.

use crate::actor::RestartType;
use crate::slab::{slot_of, Pages};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Id of a group or an actor (they share one id space).
pub type NodeId = u64;

/// Restart intensity: more than `max` restarts within `within` gives up.
#[derive(Clone, Copy, Debug)]
pub struct RetryConfig {
    /// Restarts allowed in the window; `u32::MAX` means unlimited.
    pub max: u32,
    /// Window length.
    pub within: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max: 3,
            within: Duration::from_millis(5000),
        }
    }
}

/// True for the exit reasons that are not failures.
pub fn is_normal_exit(reason: &str) -> bool {
    matches!(reason, "normal" | "shutdown" | "terminated")
}

/// Which children restart when one fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// Every child of the group.
    OneForAll,
    /// The failed child and the children started after it.
    RestForOne,
}

impl Strategy {
    /// Parses the JS option value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "one-for-one" => Some(Self::OneForOne),
            "one-for-all" => Some(Self::OneForAll),
            "rest-for-one" => Some(Self::RestForOne),
            _ => None,
        }
    }
}

/// Exit reason of a pooled actor whose worker was killed because another actor on it hung.
pub const WORKER_LOST: &str = "worker_lost";

/// How the delay before the n-th consecutive restart grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackoffKind {
    /// `delay`.
    Fixed,
    /// `delay · (n + 1)`.
    Linear,
    /// `delay · 2ⁿ`.
    Exponential,
}

impl BackoffKind {
    /// Parses the JS option value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fixed" => Some(Self::Fixed),
            "linear" => Some(Self::Linear),
            "exponential" => Some(Self::Exponential),
            _ => None,
        }
    }
}

/// Restart delays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Growth.
    pub kind: BackoffKind,
    /// Base delay in ms.
    pub delay_ms: f64,
    /// Cap in ms.
    pub max_delay_ms: f64,
    /// Random spread, 0..1 (± this fraction of the delay).
    pub jitter: f64,
}

impl Backoff {
    /// Delay before the n-th consecutive restart (n = 0 for the first); `unit` in [0, 1)
    /// picks the jitter.
    pub fn delay(&self, n: u32, unit: f64) -> f64 {
        let factor = match self.kind {
            BackoffKind::Fixed => 1.0,
            BackoffKind::Linear => f64::from(n) + 1.0,
            BackoffKind::Exponential => 2f64.powi(n.min(60) as i32),
        };
        let base = (self.delay_ms * factor).min(self.max_delay_ms);
        let spread = base * self.jitter * (2.0 * unit - 1.0);
        (base + spread).clamp(0.0, self.max_delay_ms.max(0.0))
    }
}

/// Settings of one group.
#[derive(Clone, Copy, Debug)]
pub struct GroupConfig {
    /// Strategy.
    pub strategy: Strategy,
    /// Restart intensity.
    pub retry: RetryConfig,
    /// Restart delays; immediate when `None`.
    pub backoff: Option<Backoff>,
    /// A runtime-internal group (task threads): left out of snapshots.
    pub internal: bool,
}

/// A crash policy's decision, overriding the group's strategy for one failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Restart only the failed actor.
    Restart,
    /// The failed actor is dead for good.
    Stop,
    /// Restart every child of the group.
    RestartAll,
    /// Stop every child of the group for good.
    StopAll,
    /// The group gives up and escalates to its parent.
    Escalate,
}

impl Decision {
    /// Parses the JS value (`resume` is handled inside the actor and never reaches here).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "restart" => Some(Self::Restart),
            "stop" => Some(Self::Stop),
            "restartAll" => Some(Self::RestartAll),
            "stopAll" => Some(Self::StopAll),
            "escalate" => Some(Self::Escalate),
            _ => None,
        }
    }
}

/// One operation of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Kill the actor's thread now; its exit belongs to this plan.
    Stop {
        /// The actor.
        actor: NodeId,
        /// Exit reason to report.
        reason: String,
    },
    /// Start a new incarnation of the actor after `delay_ms`.
    Start {
        /// The actor.
        actor: NodeId,
        /// Backoff delay.
        delay_ms: f64,
    },
    /// The actor is dead for good.
    Finish {
        /// The actor.
        actor: NodeId,
        /// Exit reason.
        reason: String,
    },
    /// A group exceeded its restart intensity and stopped its children.
    Escalate {
        /// The group.
        group: NodeId,
        /// The exit reason that tipped it over.
        reason: String,
    },
    /// The root group gave up: the supervisor reports `intensity_exceeded`.
    GaveUp {
        /// The exit reason that tipped it over.
        reason: String,
    },
}

/// The operations to carry out, in order.
pub type Plan = Vec<Op>;

/// Why a tree change was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// No such group.
    NoGroup(NodeId),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoGroup(id) => write!(f, "unknown group: group-{id}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Child {
    Actor(NodeId),
    Group(NodeId),
}

/// Marks a group in a [`Link`] (ids stay below 2^53).
const GROUP_BIT: u64 = 1 << 63;

/// A child as the sibling lists store it: 0 for none, an actor's id, or a group's id with
/// [`GROUP_BIT`] set.
type Link = u64;

impl Child {
    fn link(self) -> Link {
        match self {
            Child::Actor(a) => a,
            Child::Group(g) => g | GROUP_BIT,
        }
    }

    fn from_link(link: Link) -> Option<Child> {
        match link {
            0 => None,
            l if l & GROUP_BIT != 0 => Some(Child::Group(l & !GROUP_BIT)),
            l => Some(Child::Actor(l)),
        }
    }
}

/// One actor of the tree, in the slot of its id: its group, its siblings on either side (the
/// group's children form a list threaded through their nodes: O(1) to add and remove, start
/// order kept, no per-child allocation), and what its restarts need.
struct ActorNode {
    id: NodeId,
    group: NodeId,
    prev: Link,
    next: Link,
    /// Nanoseconds after the tree's epoch of the last failure, plus one (0: none yet).
    last_failure: u64,
    consecutive: u32,
    restart: RestartType,
    held: bool,
}

struct GroupNode {
    parent: Option<NodeId>,
    config: GroupConfig,
    /// First and last child in start order.
    head: Link,
    tail: Link,
    /// Its siblings in its parent's list.
    prev: Link,
    next: Link,
    log: VecDeque<Instant>,
}

impl GroupNode {
    fn new(parent: Option<NodeId>, config: GroupConfig) -> Self {
        GroupNode {
            parent,
            config,
            head: 0,
            tail: 0,
            prev: 0,
            next: 0,
            log: VecDeque::new(),
        }
    }
}

/// The supervision tree of one supervisor.
pub struct Tree {
    root: NodeId,
    groups: HashMap<NodeId, GroupNode>,
    /// Actors by the slot of their id (see [`crate::slab`]).
    actors: Pages<ActorNode>,
    epoch: Instant,
    seed: u64,
    /// Children visited by walks over sibling lists so far (an operation count, for tests
    /// that check an exit or a restart of one actor costs O(1), not O(group size)).
    walked: u64,
}

impl Tree {
    /// A tree with only its root group.
    pub fn new(root: NodeId, config: GroupConfig) -> Self {
        let mut groups = HashMap::new();
        groups.insert(root, GroupNode::new(None, config));
        Tree {
            root,
            groups,
            actors: Pages::default(),
            epoch: Instant::now(),
            seed: 0x9E37_79B9_7F4A_7C15 ^ root,
            walked: 0,
        }
    }

    fn node(&self, actor: NodeId) -> Option<&ActorNode> {
        self.actors.get(slot_of(actor)).filter(|n| n.id == actor)
    }

    fn node_mut(&mut self, actor: NodeId) -> Option<&mut ActorNode> {
        self.actors
            .get_mut(slot_of(actor))
            .filter(|n| n.id == actor)
    }

    /// `(prev, next)` of a child in its group's list.
    fn siblings(&self, c: Child) -> Option<(Link, Link)> {
        match c {
            Child::Actor(a) => self.node(a).map(|n| (n.prev, n.next)),
            Child::Group(g) => self.groups.get(&g).map(|n| (n.prev, n.next)),
        }
    }

    /// `(prev, next)` of a child in its group's list, to change.
    fn siblings_mut(&mut self, c: Child) -> Option<(&mut Link, &mut Link)> {
        match c {
            Child::Actor(a) => self.node_mut(a).map(|n| (&mut n.prev, &mut n.next)),
            Child::Group(g) => self.groups.get_mut(&g).map(|n| (&mut n.prev, &mut n.next)),
        }
    }

    fn set_prev(&mut self, c: Child, prev: Link) {
        if let Some((p, _)) = self.siblings_mut(c) {
            *p = prev;
        }
    }

    fn set_next(&mut self, c: Child, next: Link) {
        if let Some((_, n)) = self.siblings_mut(c) {
            *n = next;
        }
    }

    /// Links `c` (whose node exists, unlinked) last in `group`'s list. O(1).
    fn push_child(&mut self, group: NodeId, c: Child) {
        let g = self.groups.get_mut(&group).expect("group exists");
        let tail = g.tail;
        g.tail = c.link();
        if tail == 0 {
            g.head = c.link();
        }
        self.set_prev(c, tail);
        self.set_next(c, 0);
        if let Some(t) = Child::from_link(tail) {
            self.set_next(t, c.link());
        }
    }

    /// Unlinks `c` from `group`'s list, joining its neighbours. O(1).
    fn unlink_child(&mut self, group: NodeId, c: Child) {
        let Some((prev, next)) = self.siblings(c) else {
            return;
        };
        match Child::from_link(prev) {
            Some(p) => self.set_next(p, next),
            None => {
                if let Some(g) = self.groups.get_mut(&group) {
                    g.head = next;
                }
            }
        }
        match Child::from_link(next) {
            Some(n) => self.set_prev(n, prev),
            None => {
                if let Some(g) = self.groups.get_mut(&group) {
                    g.tail = prev;
                }
            }
        }
    }

    /// Children of `group` in start order from `from` (included; the first when `None`).
    fn kids_from(&mut self, group: NodeId, from: Option<Child>) -> Vec<Child> {
        let out = self.walk(group, from);
        self.walked += out.len() as u64;
        out
    }

    fn walk(&self, group: NodeId, from: Option<Child>) -> Vec<Child> {
        let mut out = Vec::new();
        let mut at = match from {
            Some(c) => c.link(),
            None => self.groups.get(&group).map_or(0, |g| g.head),
        };
        while let Some(c) = Child::from_link(at) {
            out.push(c);
            at = self.siblings(c).map_or(0, |(_, next)| next);
        }
        out
    }

    /// True if `c` is a child of `group`.
    fn is_child_of(&self, group: NodeId, c: Child) -> bool {
        match c {
            Child::Actor(a) => self.node(a).is_some_and(|n| n.group == group),
            Child::Group(g) => self.groups.get(&g).is_some_and(|n| n.parent == Some(group)),
        }
    }

    fn since_epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_nanos() as u64 + 1
    }

    /// The root group's id.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Adds a group under `parent`.
    pub fn add_group(
        &mut self,
        id: NodeId,
        parent: NodeId,
        config: GroupConfig,
    ) -> Result<(), TreeError> {
        if !self.groups.contains_key(&parent) {
            return Err(TreeError::NoGroup(parent));
        }
        self.groups.insert(id, GroupNode::new(Some(parent), config));
        self.push_child(parent, Child::Group(id));
        Ok(())
    }

    /// True if `id` is a group of this tree.
    pub fn has_group(&self, id: NodeId) -> bool {
        self.groups.contains_key(&id)
    }

    /// Adds an actor as the last child of `group`.
    pub fn add_actor(
        &mut self,
        id: NodeId,
        group: NodeId,
        restart: RestartType,
    ) -> Result<(), TreeError> {
        if !self.groups.contains_key(&group) {
            return Err(TreeError::NoGroup(group));
        }
        if self.node(id).is_some() {
            return Ok(()); // already a child: keeps its place
        }
        self.remove_actor_in_slot(id);
        self.actors.insert(
            slot_of(id),
            ActorNode {
                id,
                group,
                prev: 0,
                next: 0,
                last_failure: 0,
                consecutive: 0,
                restart,
                held: false,
            },
        );
        self.push_child(group, Child::Actor(id));
        Ok(())
    }

    /// The group of an actor.
    pub fn group_of(&self, actor: NodeId) -> Option<NodeId> {
        self.node(actor).map(|a| a.group)
    }

    /// Forgets an actor that is dead for good. O(1).
    pub fn remove_actor(&mut self, id: NodeId) {
        let Some(group) = self.node(id).map(|n| n.group) else {
            return;
        };
        self.unlink_child(group, Child::Actor(id));
        self.actors.remove(slot_of(id));
    }

    /// Forgets whatever actor of an earlier generation still holds `id`'s slot (none, unless
    /// the core reused a slot this tree never heard the end of).
    fn remove_actor_in_slot(&mut self, id: NodeId) {
        if let Some(old) = self.actors.get(slot_of(id)).map(|n| n.id) {
            self.remove_actor(old);
        }
    }

    /// Actors held by the tree.
    pub fn actor_count(&self) -> usize {
        self.actors.len()
    }

    /// Bytes held by the actors' nodes (for footprints).
    pub fn actor_bytes(&self) -> usize {
        self.actors.bytes()
    }

    /// The children of `group` in start order (O(group size), for plans that act on them all).
    fn kids(&mut self, group: NodeId) -> Vec<Child> {
        self.kids_from(group, None)
    }

    /// Children visited by walks over sibling lists so far (see the field).
    pub fn walked(&self) -> u64 {
        self.walked
    }

    /// Actors of `group` and its subgroups, in start order.
    pub fn actors_in(&self, group: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        self.collect(group, &mut out);
        out
    }

    fn collect(&self, group: NodeId, out: &mut Vec<NodeId>) {
        for c in self.walk(group, None) {
            match c {
                Child::Actor(a) => out.push(a),
                Child::Group(sub) => self.collect(sub, out),
            }
        }
    }

    /// The tree as JSON: `{ type, id, strategy, children }` in start order; `describe` fills
    /// in each actor.
    pub fn snapshot(&self, describe: &dyn Fn(NodeId) -> serde_json::Value) -> serde_json::Value {
        self.snapshot_group(self.root, describe)
    }

    fn snapshot_group(
        &self,
        id: NodeId,
        describe: &dyn Fn(NodeId) -> serde_json::Value,
    ) -> serde_json::Value {
        let g = &self.groups[&id];
        let children: Vec<serde_json::Value> = self
            .walk(id, None)
            .into_iter()
            .filter(|c| !matches!(c, Child::Group(sub) if self.groups[sub].config.internal))
            .map(|c| match c {
                Child::Actor(a) => describe(a),
                Child::Group(sub) => self.snapshot_group(sub, describe),
            })
            .collect();
        let strategy = match g.config.strategy {
            Strategy::OneForOne => "one-for-one",
            Strategy::OneForAll => "one-for-all",
            Strategy::RestForOne => "rest-for-one",
        };
        serde_json::json!({
            "type": "group",
            "id": format!("group-{id}"),
            "strategy": strategy,
            "children": children,
        })
    }

    /// A new incarnation of `actor` starts: a plan that held it is done with it, and its
    /// next exit is judged on its own again.
    pub fn started(&mut self, actor: NodeId) {
        if let Some(a) = self.node_mut(actor) {
            a.held = false;
        }
    }

    fn unit(&mut self) -> f64 {
        // xorshift64*: jitter needs spread, not cryptographic quality.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        (self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Records a restart in `group`'s window; false if that exceeds its intensity.
    fn within_intensity(&mut self, group: NodeId, now: Instant) -> bool {
        let g = self.groups.get_mut(&group).expect("group exists");
        let retry = g.config.retry;
        if retry.max == u32::MAX {
            return true;
        }
        while g
            .log
            .front()
            .is_some_and(|t| now.duration_since(*t) > retry.within)
        {
            g.log.pop_front();
        }
        if g.log.len() as u32 >= retry.max {
            return false;
        }
        g.log.push_back(now);
        true
    }

    fn delay_for(&mut self, actor: NodeId, now: Instant) -> f64 {
        let at = self.since_epoch(now);
        let group = self.node(actor).expect("actor exists").group;
        let config = self.groups[&group].config;
        let Some(backoff) = config.backoff else {
            let a = self.node_mut(actor).expect("actor exists");
            a.last_failure = at;
            return 0.0;
        };
        let unit = self.unit();
        let a = self.node_mut(actor).expect("actor exists");
        let within = config.retry.within.as_nanos() as u64;
        let quiet = a.last_failure == 0 || at.saturating_sub(a.last_failure) > within;
        if quiet {
            a.consecutive = 0;
        }
        let n = a.consecutive;
        a.consecutive += 1;
        a.last_failure = at;
        backoff.delay(n, unit)
    }

    /// Actor `actor`'s incarnation ended with `reason` at `now`: what the host must do.
    pub fn exited(&mut self, actor: NodeId, reason: &str, now: Instant) -> Plan {
        self.decide(actor, reason, now, None)
    }

    /// Like [`Tree::exited`], with a crash policy's `decision` in place of the restart type
    /// and strategy when given.
    pub fn decide(
        &mut self,
        actor: NodeId,
        reason: &str,
        now: Instant,
        decision: Option<Decision>,
    ) -> Plan {
        let Some(node) = self.node_mut(actor) else {
            return Vec::new();
        };
        if node.held {
            return Vec::new(); // its end belongs to a plan in progress, which restarts it
        }
        if let Some(d) = decision {
            return self.apply(actor, reason, now, d);
        }
        let restart = match node.restart {
            RestartType::Permanent => true,
            RestartType::Transient => !is_normal_exit(reason),
            RestartType::Temporary => false,
        };
        let group = node.group;
        if !restart {
            self.remove_actor(actor);
            return vec![Op::Finish {
                actor,
                reason: reason.to_string(),
            }];
        }
        if reason == WORKER_LOST {
            // Collateral damage of another actor's hang: restarted at once, alone, without
            // counting toward intensity or backoff (the culprit's own exit does).
            return self.restart_set(group, Child::Actor(actor), 0.0, Strategy::OneForOne);
        }
        if !self.within_intensity(group, now) {
            return self.give_up(group, Child::Actor(actor), reason, now);
        }
        let delay_ms = self.delay_for(actor, now);
        let strategy = self.groups[&group].config.strategy;
        self.restart_set(group, Child::Actor(actor), delay_ms, strategy)
    }

    fn apply(&mut self, actor: NodeId, reason: &str, now: Instant, d: Decision) -> Plan {
        let group = self.node(actor).expect("actor exists").group;
        let finish = |a: NodeId, r: &str| Op::Finish {
            actor: a,
            reason: r.to_string(),
        };
        match d {
            Decision::Stop => {
                self.remove_actor(actor);
                vec![finish(actor, reason)]
            }
            Decision::StopAll => {
                let mut plan = Vec::new();
                let kids = self.kids(group);
                for k in kids.iter().rev() {
                    self.stop_child(*k, "shutdown", &mut plan, *k == Child::Actor(actor));
                }
                for a in self.actors_in(group) {
                    self.remove_actor(a);
                    plan.push(finish(a, if a == actor { reason } else { "shutdown" }));
                }
                plan
            }
            Decision::Escalate => self.give_up(group, Child::Actor(actor), reason, now),
            Decision::Restart | Decision::RestartAll => {
                if !self.within_intensity(group, now) {
                    return self.give_up(group, Child::Actor(actor), reason, now);
                }
                let delay_ms = self.delay_for(actor, now);
                let strategy = if d == Decision::Restart {
                    Strategy::OneForOne
                } else {
                    Strategy::OneForAll
                };
                self.restart_set(group, Child::Actor(actor), delay_ms, strategy)
            }
        }
    }

    /// Plan for restarting `failed` (already dead) in `group` by `strategy`.
    fn restart_set(
        &mut self,
        group: NodeId,
        failed: Child,
        delay_ms: f64,
        strategy: Strategy,
    ) -> Plan {
        // (one-for-one touches only the failed child: no walk over its siblings)
        let selected: Vec<Child> = match strategy {
            Strategy::OneForOne => vec![failed],
            Strategy::RestForOne if self.is_child_of(group, failed) => {
                self.kids_from(group, Some(failed))
            }
            Strategy::OneForAll | Strategy::RestForOne => self.kids(group),
        };
        let mut plan = Vec::new();
        // Stop the selected siblings that are still running, in reverse start order (the
        // failed child is already down: a dead actor, or a group that stopped its children).
        for c in selected.iter().rev() {
            if *c != failed {
                self.stop_child(*c, "shutdown", &mut plan, false);
            }
        }
        // Start them again in start order; temporary siblings are not restarted.
        for c in &selected {
            self.start_child(*c, delay_ms, &mut plan);
        }
        plan
    }

    /// Stops the actors of `child` in reverse start order. The failed child's own actor is
    /// already dead and gets no Stop.
    fn stop_child(&mut self, child: Child, reason: &str, plan: &mut Plan, already_dead: bool) {
        match child {
            Child::Actor(a) => {
                if !already_dead {
                    if let Some(n) = self.node_mut(a) {
                        n.held = true;
                    }
                    plan.push(Op::Stop {
                        actor: a,
                        reason: reason.to_string(),
                    });
                }
            }
            Child::Group(sub) => {
                let kids = self.kids(sub);
                for k in kids.iter().rev() {
                    self.stop_child(*k, reason, plan, false);
                }
            }
        }
    }

    fn start_child(&mut self, child: Child, delay_ms: f64, plan: &mut Plan) {
        match child {
            Child::Actor(a) => {
                if self.node(a).map(|n| n.restart) == Some(RestartType::Temporary) {
                    self.remove_actor(a);
                    plan.push(Op::Finish {
                        actor: a,
                        reason: "shutdown".into(),
                    });
                } else {
                    plan.push(Op::Start { actor: a, delay_ms });
                }
            }
            Child::Group(sub) => {
                if let Some(g) = self.groups.get_mut(&sub) {
                    g.log.clear(); // a restarted group starts with a fresh intensity window
                }
                let kids = self.kids(sub);
                for k in kids {
                    self.start_child(k, delay_ms, plan);
                }
            }
        }
    }

    /// `group` exceeded its intensity because its child `down` failed (an actor that is
    /// already dead, or a subgroup that already stopped its children): stop everything else
    /// in it in reverse start order and escalate. The parent group treats it as one failed
    /// child and applies its own strategy (or gives up in turn); at the root the supervisor
    /// gives up and every actor of the tree is finished.
    fn give_up(&mut self, group: NodeId, down: Child, reason: &str, now: Instant) -> Plan {
        let mut plan = Vec::new();
        let kids = self.kids(group);
        for k in kids.iter().rev() {
            if !(*k == down && matches!(down, Child::Group(_))) {
                self.stop_child(*k, "shutdown", &mut plan, *k == down);
            }
        }
        plan.push(Op::Escalate {
            group,
            reason: reason.to_string(),
        });
        let parent = self.groups[&group].parent;
        match parent {
            Some(p) if self.within_intensity(p, now) => {
                let strategy = self.groups[&p].config.strategy;
                plan.extend(self.restart_set(p, Child::Group(group), 0.0, strategy));
            }
            Some(p) => plan.extend(self.give_up(p, Child::Group(group), reason, now)),
            None => {
                for a in self.actors_in(group) {
                    self.remove_actor(a);
                    plan.push(Op::Finish {
                        actor: a,
                        reason: if down == Child::Actor(a) {
                            reason
                        } else {
                            "shutdown"
                        }
                        .to_string(),
                    });
                }
                plan.push(Op::GaveUp {
                    reason: reason.to_string(),
                });
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(strategy: Strategy, max: u32) -> GroupConfig {
        GroupConfig {
            strategy,
            retry: RetryConfig {
                max,
                within: Duration::from_millis(5000),
            },
            backoff: None,
            internal: false,
        }
    }

    fn tree(strategy: Strategy, n: u64) -> Tree {
        let mut t = Tree::new(100, cfg(strategy, 3));
        for a in 1..=n {
            t.add_actor(a, 100, RestartType::Transient).unwrap();
        }
        t
    }

    fn starts(plan: &Plan) -> Vec<NodeId> {
        plan.iter()
            .filter_map(|op| match op {
                Op::Start { actor, .. } => Some(*actor),
                _ => None,
            })
            .collect()
    }

    fn stops(plan: &Plan) -> Vec<NodeId> {
        plan.iter()
            .filter_map(|op| match op {
                Op::Stop { actor, .. } => Some(*actor),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_for_one_restarts_only_the_failed() {
        let mut t = tree(Strategy::OneForOne, 3);
        let plan = t.exited(2, "error: x", Instant::now());
        assert_eq!(
            plan,
            vec![Op::Start {
                actor: 2,
                delay_ms: 0.0
            }]
        );
    }

    #[test]
    fn one_for_all_stops_siblings_in_reverse_then_starts_all_in_order() {
        let mut t = tree(Strategy::OneForAll, 3);
        let now = Instant::now();
        let plan = t.exited(2, "error: x", now);
        assert_eq!(stops(&plan), vec![3, 1]);
        assert_eq!(starts(&plan), vec![1, 2, 3]);
        // The siblings' own exits belong to the plan: no further restarts, even if one of
        // them crashes on its own before the plan stops it.
        assert!(t.exited(3, "error: late", now).is_empty());
        assert!(t.exited(3, "shutdown", now).is_empty());
        assert!(t.exited(1, "shutdown", now).is_empty());
        t.started(3);
        assert_eq!(starts(&t.exited(3, "error: z", now)), vec![1, 2, 3]);
    }

    #[test]
    fn rest_for_one_selects_later_children() {
        let mut t = tree(Strategy::RestForOne, 4);
        let plan = t.exited(2, "error: x", Instant::now());
        assert_eq!(stops(&plan), vec![4, 3]);
        assert_eq!(starts(&plan), vec![2, 3, 4]);
    }

    #[test]
    fn start_order_survives_removals_in_the_middle() {
        let mut t = Tree::new(100, cfg(Strategy::RestForOne, 10));
        for a in 1..=6 {
            let restart = if a == 5 {
                RestartType::Transient
            } else {
                RestartType::Temporary
            };
            t.add_actor(a, 100, restart).unwrap();
        }
        let now = Instant::now();
        // temporary children that end are removed from wherever they are
        assert_eq!(t.exited(3, "normal", now).len(), 1);
        assert_eq!(t.exited(1, "normal", now).len(), 1);
        t.add_actor(7, 100, RestartType::Transient).unwrap();
        t.add_actor(3, 100, RestartType::Transient).unwrap(); // an id that came back: last
        assert_eq!(t.actors_in(100), vec![2, 4, 5, 6, 7, 3]);
        let plan = t.exited(5, "error: x", now);
        assert_eq!(stops(&plan), vec![3, 7, 6]);
        // in start order from the failed child; the temporary sibling is finished instead
        assert_eq!(starts(&plan), vec![5, 7, 3]);
        assert_eq!(t.actors_in(100), vec![2, 4, 5, 7, 3]);
    }

    #[test]
    fn intensity_gives_up_at_the_root() {
        let mut t = tree(Strategy::OneForOne, 3);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(starts(&t.exited(1, "error: x", now)), vec![1]);
        }
        let plan = t.exited(1, "error: x", now);
        assert_eq!(
            stops(&plan),
            vec![3, 2],
            "the rest stop in reverse start order"
        );
        assert!(plan.contains(&Op::GaveUp {
            reason: "error: x".into()
        }));
        let finished: Vec<_> = plan
            .iter()
            .filter_map(|op| match op {
                Op::Finish { actor, .. } => Some(*actor),
                _ => None,
            })
            .collect();
        assert_eq!(finished, vec![1, 2, 3]);
    }

    #[test]
    fn worker_lost_exits_restart_alone_and_count_toward_no_intensity() {
        let mut t = tree(Strategy::OneForAll, 3);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(
                t.exited(2, WORKER_LOST, now),
                vec![Op::Start {
                    actor: 2,
                    delay_ms: 0.0
                }]
            );
        }
        // the culprit's own exits still count: three restarts, then the group gives up
        for _ in 0..3 {
            assert_eq!(starts(&t.exited(1, "timeout", now)), vec![1, 2, 3]);
        }
        assert!(t.exited(1, "timeout", now).contains(&Op::GaveUp {
            reason: "timeout".into()
        }));
    }

    #[test]
    fn nested_group_escalates_and_parent_restarts_it() {
        let mut t = Tree::new(100, cfg(Strategy::OneForOne, 3));
        t.add_actor(1, 100, RestartType::Transient).unwrap();
        t.add_group(200, 100, cfg(Strategy::OneForOne, 1)).unwrap();
        t.add_actor(2, 200, RestartType::Transient).unwrap();
        t.add_actor(3, 200, RestartType::Transient).unwrap();
        let now = Instant::now();
        assert_eq!(starts(&t.exited(2, "error: x", now)), vec![2]);
        let plan = t.exited(2, "error: x", now);
        assert_eq!(stops(&plan), vec![3], "its sibling in the group stops");
        assert!(plan.contains(&Op::Escalate {
            group: 200,
            reason: "error: x".into()
        }));
        assert_eq!(
            starts(&plan),
            vec![2, 3],
            "the parent restarts the whole group"
        );
        assert!(t.exited(3, "shutdown", now).is_empty());
        t.started(2);
        t.started(3);
        // The restarted group has a fresh window, and no child is left held.
        assert_eq!(starts(&t.exited(3, "error: y", now)), vec![3]);
        let plan = t.exited(2, "error: z", now);
        assert!(plan.contains(&Op::Escalate {
            group: 200,
            reason: "error: z".into()
        }));
    }

    #[test]
    fn restart_types_and_temporary_siblings() {
        let mut t = Tree::new(100, cfg(Strategy::OneForAll, 10));
        t.add_actor(1, 100, RestartType::Temporary).unwrap();
        t.add_actor(2, 100, RestartType::Transient).unwrap();
        t.add_actor(3, 100, RestartType::Permanent).unwrap();
        let now = Instant::now();
        assert_eq!(
            t.exited(2, "normal", now),
            vec![Op::Finish {
                actor: 2,
                reason: "normal".into()
            }]
        );
        let plan = t.exited(3, "normal", now);
        assert_eq!(stops(&plan), vec![1]);
        assert_eq!(
            starts(&plan),
            vec![3],
            "temporary sibling is finished, not restarted"
        );
    }

    #[test]
    fn crash_policy_decisions_override_the_strategy() {
        let now = Instant::now();
        let mut t = tree(Strategy::OneForOne, 3);
        let plan = t.decide(2, "error: x", now, Some(Decision::RestartAll));
        assert_eq!(stops(&plan), vec![3, 1]);
        assert_eq!(starts(&plan), vec![1, 2, 3]);
        let mut t = tree(Strategy::OneForAll, 3);
        assert_eq!(
            starts(&t.decide(2, "error: x", now, Some(Decision::Restart))),
            vec![2]
        );
        let plan = t.decide(2, "error: x", now, Some(Decision::Stop));
        assert_eq!(
            plan,
            vec![Op::Finish {
                actor: 2,
                reason: "error: x".into()
            }]
        );
        let plan = t.decide(1, "error: y", now, Some(Decision::StopAll));
        assert_eq!(stops(&plan), vec![3]);
        assert_eq!(
            plan.iter()
                .filter(|op| matches!(op, Op::Finish { .. }))
                .count(),
            2
        );
        let mut t = tree(Strategy::OneForOne, 2);
        let plan = t.decide(1, "error: z", now, Some(Decision::Escalate));
        assert!(plan.contains(&Op::GaveUp {
            reason: "error: z".into()
        }));
    }

    #[test]
    fn backoff_delays_grow_and_reset() {
        let b = Backoff {
            kind: BackoffKind::Exponential,
            delay_ms: 100.0,
            max_delay_ms: 1000.0,
            jitter: 0.0,
        };
        assert_eq!(
            (0..5).map(|n| b.delay(n, 0.5)).collect::<Vec<_>>(),
            vec![100.0, 200.0, 400.0, 800.0, 1000.0]
        );
        let lin = Backoff {
            kind: BackoffKind::Linear,
            ..b
        };
        assert_eq!(lin.delay(2, 0.5), 300.0);
        let jittered = Backoff { jitter: 0.2, ..b };
        assert_eq!(jittered.delay(0, 0.0), 80.0);
        assert_eq!(jittered.delay(0, 1.0), 120.0);

        let mut t = Tree::new(
            100,
            GroupConfig {
                strategy: Strategy::OneForOne,
                retry: RetryConfig {
                    max: u32::MAX,
                    within: Duration::from_millis(1000),
                },
                backoff: Some(b),
                internal: false,
            },
        );
        t.add_actor(1, 100, RestartType::Transient).unwrap();
        let t0 = Instant::now();
        let delays: Vec<f64> = (0..3)
            .map(|_| match t.exited(1, "error: x", t0)[0] {
                Op::Start { delay_ms, .. } => delay_ms,
                _ => panic!("expected a start"),
            })
            .collect();
        assert_eq!(delays, vec![100.0, 200.0, 400.0]);
        let later = t0 + Duration::from_millis(1500);
        assert_eq!(
            t.exited(1, "error: x", later),
            vec![Op::Start {
                actor: 1,
                delay_ms: 100.0
            }],
            "n resets after a quiet window"
        );
    }

    #[test]
    fn exits_and_restarts_in_a_group_of_100k_visit_no_sibling() {
        let n = 100_000u64;
        let mut t = Tree::new(1 << 40, cfg(Strategy::OneForOne, u32::MAX));
        for a in 1..=n {
            let restart = if a % 2 == 0 {
                RestartType::Temporary
            } else {
                RestartType::Transient
            };
            t.add_actor(a, 1 << 40, restart).unwrap();
        }
        let now = Instant::now();
        let before = t.walked();
        for a in (1..=n).step_by(997) {
            let plan = t.exited(a, "error: x", now);
            if a % 2 == 0 {
                assert_eq!(plan.len(), 1, "a temporary child is finished");
            } else {
                assert_eq!(starts(&plan), vec![a]);
                t.started(a);
            }
        }
        t.remove_actor(n / 2 + 1);
        t.add_actor(n + 1, 1 << 40, RestartType::Transient).unwrap();
        assert_eq!(t.exited(n + 1, WORKER_LOST, now).len(), 1);
        assert_eq!(t.walked(), before, "no walk over the siblings");
        // the counter does count walks: a one-for-all restart visits every child
        let mut all = tree(Strategy::OneForAll, 50);
        all.exited(7, "error: x", now);
        assert_eq!(all.walked(), 50);
    }
}
