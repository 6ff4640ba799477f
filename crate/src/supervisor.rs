//! Supervisors as the core sees them: the children in start order, the name registry, exact
//! per-supervisor counters, and the restart decision (restart type + intensity).

use crate::actor::{Actor, ActorState};
use crate::port::Port;
use crate::tree::{Decision, GroupConfig, Op, Plan, Tree};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// True for the exit reasons that are not failures.
pub fn is_normal_exit(reason: &str) -> bool {
    matches!(reason, "normal" | "shutdown" | "terminated")
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
    children: Mutex<Vec<Arc<Actor>>>,
    tree: Mutex<Tree>,
    names: Mutex<Names>,
    closing: AtomicBool,
    /// The Tier 2 pool, if the supervisor has one.
    pub pool: std::sync::OnceLock<Arc<crate::pool::Pool>>,
    /// Sampled metrics, if the supervisor tracks any (set before its first spawn).
    pub metrics: std::sync::OnceLock<Arc<crate::metrics::Tracker>>,
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
            children: Mutex::new(Vec::new()),
            tree: Mutex::new(Tree::new(root, config.root)),
            names: Mutex::new(Names::default()),
            closing: AtomicBool::new(false),
            pool: std::sync::OnceLock::new(),
            metrics: std::sync::OnceLock::new(),
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

    /// Adds a child to `group` if the cap and the name registry allow it.
    pub fn add_child(&self, actor: Arc<Actor>, group: u64) -> Result<(), SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::Closed);
        }
        let mut children = self.children.lock();
        // (pooled actors are not threads: `maxActors` counts isolated ones)
        if !actor.config.internal && !actor.config.pooled {
            let counted = children
                .iter()
                .filter(|a| !a.config.internal && !a.config.pooled)
                .count();
            if counted >= self.config.max_actors {
                return Err(SpawnError::MaxActors(self.config.max_actors));
            }
        }
        let mut tree = self.tree.lock();
        if !tree.has_group(group) {
            return Err(SpawnError::NoGroup(group));
        }
        if let Some(name) = &actor.config.name {
            self.register(actor.id, name)?;
        }
        tree.add_actor(actor.id, group, actor.config.restart)
            .map_err(|_| SpawnError::NoGroup(group))?;
        if !actor.config.internal {
            self.stats.spawned.fetch_add(1, Ordering::Relaxed);
        }
        children.push(actor);
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
        // (searched from the end: shutdown removes children in reverse start order)
        if let Some(pos) = children.iter().rposition(|a| a.id == actor_id) {
            let actor = children.remove(pos);
            let mut tree = self.tree.lock();
            let mut names = self.names.lock();
            if let Some(name) = names.by_actor.remove(&actor_id) {
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

    /// Live children in start order.
    pub fn children(&self) -> Vec<Arc<Actor>> {
        self.children.lock().clone()
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

    /// Live children, internal ones excluded (dead-for-good ones are removed).
    pub fn active(&self) -> usize {
        self.children
            .lock()
            .iter()
            .filter(|a| !a.config.internal && a.state() != ActorState::Dead)
            .count()
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
