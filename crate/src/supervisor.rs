//! Supervisors as the core sees them: the children in start order, the name registry, exact
//! per-supervisor counters, and the restart decision (restart type + intensity).

use crate::actor::{Actor, ActorConfig, ActorState, Spawned};
use crate::port::Port;
use crate::slab::SlotList;
pub use crate::tree::{is_normal_exit, RetryConfig};
use crate::tree::{Decision, GroupConfig, Op, Plan, Tree};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Settings fixed when the supervisor is created.
#[derive(Clone, Copy, Debug)]
pub struct SupervisorConfig {
    /// Hard cap on live actors.
    pub max_actors: usize,
    /// The root group: strategy, intensity, backoff.
    pub root: GroupConfig,
}

/// Why a spawn was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// `maxActors` live actors already.
    MaxActors(usize),
    /// The name is registered to another live actor.
    NameTaken(String),
    /// The supervisor is shutting down or gone.
    Closed,
    /// The group does not exist in this supervisor.
    NoGroup(u64),
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaxActors(n) => write!(f, "Max actors limit reached: {n}"),
            Self::NameTaken(name) => write!(f, "Name already registered: {name}"),
            Self::Closed => write!(f, "Supervisor is shut down"),
            Self::NoGroup(id) => write!(f, "unknown group: group-{id}"),
        }
    }
}

/// Exact counters of one supervisor.
#[derive(Default)]
pub struct Stats {
    /// Actors spawned (restarts not included).
    pub spawned: AtomicU64,
    /// Actors dead for good.
    pub terminated: AtomicU64,
    /// Incarnations started by restarts.
    pub restarts: AtomicU64,
    /// Messages that could not be delivered.
    pub dead_letters: AtomicU64,
}

/// One supervisor.
pub struct Supervisor {
    /// Process-wide id (the JS id is `sup-<id>`).
    pub id: u64,
    /// Host-thread port that receives this supervisor's events.
    pub port: Arc<Port>,
    /// Settings.
    pub config: SupervisorConfig,
    /// Counters.
    pub stats: Stats,
    // Lock order: `children`, then `tree`, then `names`; a thread holding one of these locks
    // takes only locks later in that list (and then only the leaf locks of an actor, to read
    // its state). Spawns (`add_child`) and removals (`remove_child`) take all three and can
    // come from different threads (the host, and a worker whose actor spawns or is finished),
    // so the order is what keeps them from deadlocking, not a single calling thread.
    children: Mutex<Children>,
    tree: Mutex<Tree>,
    names: Mutex<Names>,
    closing: AtomicBool,
    /// The Tier 2 pool, if the supervisor has one.
    pub pool: std::sync::OnceLock<Arc<crate::pool::Pool>>,
    /// Sampled metrics, if the supervisor tracks any (set before its first spawn).
    pub metrics: std::sync::OnceLock<Arc<crate::metrics::Tracker>>,
    /// The settings of the last spawn, shared with the next one if it has the same (actors
    /// spawned one by one with one set of options hold one copy). A leaf lock.
    last_spawned: Mutex<Option<Arc<Spawned>>>,
}

/// The live children: the ones that count in start order, and the internal ones (task
/// threads: outside `maxActors`, the counters and diagnostics) apart, so that counting and
/// paging never skip over them. A spawn or an exit is O(1) whatever the number of children.
#[derive(Default)]
struct Children {
    counted: SlotList<Arc<Actor>>,
    internal: HashMap<u64, Arc<Actor>>,
    /// How many of `counted` are pooled actors (outside `maxActors`).
    pooled: usize,
}

/// How many live children are in each state (internal actors left out).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Spawned, waiting for its first thread.
    pub starting: usize,
    /// Running.
    pub running: usize,
    /// Waiting for a restart.
    pub restarting: usize,
}

#[derive(Default)]
struct Names {
    by_name: HashMap<String, u64>,
    by_actor: HashMap<u64, String>,
}

impl Supervisor {
    /// A supervisor whose events go to `port`; `root` is the id of its root group.
    pub fn new(id: u64, port: Arc<Port>, config: SupervisorConfig, root: u64) -> Self {
        Supervisor {
            id,
            port,
            config,
            stats: Stats::default(),
            children: Mutex::new(Children::default()),
            tree: Mutex::new(Tree::new(root, config.root)),
            names: Mutex::new(Names::default()),
            closing: AtomicBool::new(false),
            pool: std::sync::OnceLock::new(),
            metrics: std::sync::OnceLock::new(),
            last_spawned: Mutex::new(None),
        }
    }

    /// The root group's id.
    pub fn root_group(&self) -> u64 {
        self.tree.lock().root()
    }

    /// Adds a group under `parent`.
    pub fn add_group(&self, id: u64, parent: u64, config: GroupConfig) -> Result<(), SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::Closed);
        }
        self.tree
            .lock()
            .add_group(id, parent, config)
            .map_err(|_| SpawnError::NoGroup(parent))
    }

    /// The shared settings for actors spawned with `config`: those of the last spawn if they
    /// are the same (and name no actor), else new ones, remembered for the next spawn.
    pub fn shared_config(&self, config: ActorConfig) -> Arc<Spawned> {
        let metrics = self.metrics.get();
        let mut last = self.last_spawned.lock();
        if config.name.is_none() {
            if let Some(s) = last.as_ref().filter(|s| s.fits(&config, metrics)) {
                return s.clone();
            }
        }
        let shared = Arc::new(Spawned::new(config, metrics.cloned()));
        if shared.name.is_none() {
            *last = Some(shared.clone());
        }
        shared
    }

    /// Adds a child to `group` if the cap and the name registry allow it.
    pub fn add_child(&self, actor: Arc<Actor>, group: u64) -> Result<(), SpawnError> {
        self.add_children(std::slice::from_ref(&actor), group)
            .map_err(|(_, e)| e)
    }

    /// Adds children to `group`, in order, under one take of each lock: O(1) per child. Stops
    /// at the first one refused, and returns how many were added with the error.
    pub fn add_children(
        &self,
        actors: &[Arc<Actor>],
        group: u64,
    ) -> Result<(), (usize, SpawnError)> {
        if self.is_closing() {
            return Err((0, SpawnError::Closed));
        }
        let mut children = self.children.lock();
        let mut tree = self.tree.lock();
        if !tree.has_group(group) {
            return Err((0, SpawnError::NoGroup(group)));
        }
        for (i, actor) in actors.iter().enumerate() {
            // (pooled actors are not threads: `maxActors` counts isolated ones)
            let isolated = children.counted.len() - children.pooled;
            let config = &actor.config;
            if !config.internal && !config.pooled && isolated >= self.config.max_actors {
                return Err((i, SpawnError::MaxActors(self.config.max_actors)));
            }
            if let Some(name) = &config.name {
                self.register(actor.id, name).map_err(|e| (i, e))?;
            }
            tree.add_actor(actor.id, group, config.restart)
                .map_err(|_| (i, SpawnError::NoGroup(group)))?;
            if config.internal {
                children.internal.insert(actor.id, actor.clone());
            } else {
                self.stats.spawned.fetch_add(1, Ordering::Relaxed);
                children.pooled += usize::from(config.pooled);
                children.counted.push_back(actor.id, actor.clone());
            }
        }
        Ok(())
    }

    /// Registers `name` for `actor_id` (one name per actor; a duplicate is refused;
    /// registering the name it already has is a no-op, as restarted code does). Takes the
    /// `names` lock: callers may hold `children` and `tree`, nothing else of this supervisor.
    pub fn register(&self, actor_id: u64, name: &str) -> Result<(), SpawnError> {
        let mut names = self.names.lock();
        if names.by_actor.get(&actor_id).map(String::as_str) == Some(name) {
            return Ok(());
        }
        if names.by_name.contains_key(name) || names.by_actor.contains_key(&actor_id) {
            return Err(SpawnError::NameTaken(name.to_string()));
        }
        names.by_name.insert(name.to_string(), actor_id);
        names.by_actor.insert(actor_id, name.to_string());
        Ok(())
    }

    /// The name registered for an actor.
    pub fn name_of(&self, actor_id: u64) -> Option<String> {
        self.names.lock().by_actor.get(&actor_id).cloned()
    }

    /// Removes a child that is dead for good and frees its name.
    pub fn remove_child(&self, actor_id: u64) {
        let mut children = self.children.lock();
        let removed = match children.counted.remove(actor_id) {
            Some(actor) => {
                children.pooled -= usize::from(actor.config.pooled);
                Some(actor)
            }
            None => children.internal.remove(&actor_id),
        };
        if let Some(actor) = removed {
            let mut tree = self.tree.lock();
            let mut names = self.names.lock();
            // (an empty registry, the usual case for pooled actors, is not hashed into)
            if let Some(name) = (!names.by_actor.is_empty())
                .then(|| names.by_actor.remove(&actor_id))
                .flatten()
            {
                names.by_name.remove(&name);
            }
            tree.remove_actor(actor_id);
            if !actor.config.internal {
                self.stats.terminated.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Looks a registered name up.
    pub fn whereis(&self, name: &str) -> Option<u64> {
        self.names.lock().by_name.get(name).copied()
    }

    /// Live non-internal children in start order. O(children): for callers that want them
    /// all (every actor's diagnostics, a box shared with all).
    pub fn children(&self) -> Vec<Arc<Actor>> {
        self.children
            .lock()
            .counted
            .iter()
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// The live non-internal children at positions `offset..offset + limit` of the start
    /// order, walked from whichever end is nearer: O(min(offset, children - offset) + limit).
    pub fn children_page(&self, offset: usize, limit: usize) -> Vec<Arc<Actor>> {
        self.children
            .lock()
            .counted
            .page(offset, limit)
            .into_iter()
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// How many live non-internal children are in each state; O(children), but builds no
    /// per-actor data.
    pub fn state_counts(&self) -> StateCounts {
        let mut counts = StateCounts::default();
        let children = self.children.lock();
        for (_, a) in children.counted.iter() {
            match a.state() {
                ActorState::Starting => counts.starting += 1,
                ActorState::Running => counts.running += 1,
                ActorState::Restarting => counts.restarting += 1,
                ActorState::Dead => {}
            }
        }
        counts
    }

    /// Actors of `group` (and its subgroups) in start order.
    pub fn actors_in(&self, group: u64) -> Vec<u64> {
        self.tree.lock().actors_in(group)
    }

    /// The group an actor belongs to.
    pub fn group_of(&self, actor_id: u64) -> Option<u64> {
        self.tree.lock().group_of(actor_id)
    }

    /// Stops future restarts and spawns (shutdown in progress).
    pub fn begin_close(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// True once shutdown began.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// What the host must do after `actor`'s incarnation ended with `reason` at `now`; a
    /// crash policy's `decision` replaces the restart type and strategy when given.
    pub fn exited(
        &self,
        actor: &Actor,
        reason: &str,
        now: Instant,
        decision: Option<Decision>,
    ) -> Plan {
        if self.is_closing() || actor.stop_requested() {
            return vec![Op::Finish {
                actor: actor.id,
                reason: reason.to_string(),
            }];
        }
        self.tree.lock().decide(actor.id, reason, now, decision)
    }

    /// The supervision tree as JSON (see [`Tree::snapshot`]).
    pub fn snapshot(&self, describe: &dyn Fn(u64) -> serde_json::Value) -> serde_json::Value {
        self.tree.lock().snapshot(describe)
    }

    /// A new incarnation of `actor_id` starts (see [`Tree::started`]).
    pub fn started(&self, actor_id: u64) {
        self.tree.lock().started(actor_id);
    }

    /// Bytes held per structure (for footprints): its children in start order, its tree's
    /// actor nodes, its name registry.
    pub fn footprint(&self) -> [(&'static str, usize); 3] {
        let children = self.children.lock();
        let tree = self.tree.lock();
        let names = self.names.lock();
        let entry = std::mem::size_of::<(String, u64)>() + 1;
        [
            (
                "supervisor: children in start order",
                children.counted.bytes(),
            ),
            ("supervision tree: actor nodes", tree.actor_bytes()),
            (
                "supervisor: names (two maps)",
                (names.by_name.capacity() + names.by_actor.capacity()) * entry,
            ),
        ]
    }

    /// Live children, internal ones excluded: an exact counter, O(1) (an actor dead for good
    /// is removed before it is marked dead, see `Runtime::finish`).
    pub fn active(&self) -> usize {
        self.children.lock().counted.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{ActorConfig, RestartType};
    use crate::tree::Strategy;

    fn sup(max: usize) -> Supervisor {
        Supervisor::new(
            1,
            Arc::new(Port::new(1)),
            SupervisorConfig {
                max_actors: max,
                root: GroupConfig {
                    strategy: Strategy::OneForOne,
                    retry: RetryConfig::default(),
                    backoff: None,
                    internal: false,
                },
            },
            2,
        )
    }

    fn named(id: u64, name: &str) -> Arc<Actor> {
        Arc::new(Actor::new(
            id,
            1,
            ActorConfig {
                name: Some(name.into()),
                ..Default::default()
            },
        ))
    }

    #[test]
    fn cap_and_names() {
        let s = sup(2);
        s.add_child(named(10, "a"), 2).unwrap();
        assert_eq!(
            s.add_child(named(11, "a"), 2),
            Err(SpawnError::NameTaken("a".into()))
        );
        s.add_child(named(12, "b"), 2).unwrap();
        assert_eq!(
            s.add_child(named(13, "c"), 2).unwrap_err().to_string(),
            "Max actors limit reached: 2"
        );
        assert_eq!(s.whereis("a"), Some(10));
        s.remove_child(10);
        assert_eq!(s.whereis("a"), None);
        assert_eq!(s.stats.terminated.load(Ordering::Relaxed), 1);
        assert_eq!(
            s.add_child(named(14, "d"), 99),
            Err(SpawnError::NoGroup(99))
        );
    }

    fn plain(id: u64, internal: bool) -> Arc<Actor> {
        Arc::new(Actor::new(
            id,
            1,
            ActorConfig {
                internal,
                ..Default::default()
            },
        ))
    }

    fn ids(actors: &[Arc<Actor>]) -> Vec<u64> {
        actors.iter().map(|a| a.id).collect()
    }

    #[test]
    fn counters_and_start_order_survive_removals_anywhere() {
        let s = sup(4);
        for id in 10..14 {
            s.add_child(plain(id, false), 2).unwrap();
        }
        s.add_child(plain(50, true), 2).unwrap(); // internal: not counted, not capped
        assert_eq!(s.active(), 4);
        assert_eq!(
            s.add_child(plain(14, false), 2),
            Err(SpawnError::MaxActors(4))
        );
        s.remove_child(11);
        s.remove_child(11); // twice: counted once
        assert_eq!(s.active(), 3);
        assert_eq!(s.stats.terminated.load(Ordering::Relaxed), 1);
        s.add_child(plain(15, false), 2).unwrap();
        assert_eq!(
            ids(&s.children()),
            vec![10, 12, 13, 15],
            "internal ones apart"
        );
        assert_eq!(s.actors_in(2), vec![10, 12, 13, 50, 15]);
        s.remove_child(50);
        assert_eq!(s.active(), 4, "an internal child's removal is not counted");
        assert_eq!(s.stats.terminated.load(Ordering::Relaxed), 1);
        s.remove_child(10);
        s.remove_child(15);
        assert_eq!(ids(&s.children()), vec![12, 13]);
        assert_eq!(s.active(), 2);
        assert_eq!(s.stats.spawned.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn pages_of_children_skip_internal_ones_and_keep_start_order() {
        let s = sup(100);
        for id in 1..=10 {
            s.add_child(plain(id, false), 2).unwrap();
        }
        s.remove_child(3);
        assert_eq!(ids(&s.children_page(0, 3)), vec![1, 2, 4]);
        assert_eq!(ids(&s.children_page(7, 5)), vec![9, 10]);
        assert_eq!(ids(&s.children_page(6, 2)), vec![8, 9]);
        assert!(s.children_page(9, 1).is_empty());
        assert!(s.children_page(0, 0).is_empty());
        s.add_child(plain(99, true), 2).unwrap();
        s.add_child(plain(11, false), 2).unwrap();
        assert_eq!(ids(&s.children_page(8, 5)), vec![10, 11]);
        let counts = s.state_counts();
        assert_eq!(
            counts,
            StateCounts {
                starting: 10,
                running: 0,
                restarting: 0
            }
        );
        s.children()[0].bind(Arc::new(Port::new(7)));
        assert_eq!(s.state_counts().running, 1);
    }

    #[test]
    fn stop_requested_finishes() {
        let s = sup(10);
        let a = Arc::new(Actor::new(
            10,
            1,
            ActorConfig {
                restart: RestartType::Permanent,
                ..Default::default()
            },
        ));
        s.add_child(a.clone(), 2).unwrap();
        let now = Instant::now();
        assert!(matches!(
            s.exited(&a, "error: x", now, None)[0],
            Op::Start { .. }
        ));
        a.request_stop();
        assert!(matches!(
            s.exited(&a, "terminated", now, None)[0],
            Op::Finish { .. }
        ));
    }
}
