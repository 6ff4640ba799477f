//! Supervisors as the core sees them: the children in start order, the name registry, exact
//! per-supervisor counters, and the restart decision (restart type + intensity).

use crate::actor::{Actor, ActorState, RestartType};
use crate::port::Port;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
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
    /// Restart intensity of the root group.
    pub retry: RetryConfig,
}

/// What happens to a child whose incarnation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a new incarnation.
    Restart,
    /// Dead for good.
    Stop,
    /// Restart intensity exceeded: the group gives up.
    Escalate,
}

impl Decision {
    /// Name used in the wire format with the JS layer.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::Stop => "stop",
            Self::Escalate => "escalate",
        }
    }
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
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaxActors(n) => write!(f, "Max actors limit reached: {n}"),
            Self::NameTaken(name) => write!(f, "Name already registered: {name}"),
            Self::Closed => write!(f, "Supervisor is shut down"),
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
    children: Mutex<Vec<Arc<Actor>>>,
    names: Mutex<HashMap<String, u64>>,
    restart_log: Mutex<VecDeque<Instant>>,
    closing: AtomicBool,
}

impl Supervisor {
    /// A supervisor whose events go to `port`.
    pub fn new(id: u64, port: Arc<Port>, config: SupervisorConfig) -> Self {
        Supervisor {
            id,
            port,
            config,
            stats: Stats::default(),
            children: Mutex::new(Vec::new()),
            names: Mutex::new(HashMap::new()),
            restart_log: Mutex::new(VecDeque::new()),
            closing: AtomicBool::new(false),
        }
    }

    /// Adds a child if the cap and the name registry allow it.
    pub fn add_child(&self, actor: Arc<Actor>) -> Result<(), SpawnError> {
        if self.is_closing() {
            return Err(SpawnError::Closed);
        }
        let mut children = self.children.lock();
        if children.len() >= self.config.max_actors {
            return Err(SpawnError::MaxActors(self.config.max_actors));
        }
        if let Some(name) = &actor.config.name {
            let mut names = self.names.lock();
            if names.contains_key(name) {
                return Err(SpawnError::NameTaken(name.clone()));
            }
            names.insert(name.clone(), actor.id);
        }
        children.push(actor);
        self.stats.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Removes a child that is dead for good and frees its name.
    pub fn remove_child(&self, actor_id: u64) {
        let mut children = self.children.lock();
        if let Some(pos) = children.iter().position(|a| a.id == actor_id) {
            let actor = children.remove(pos);
            if let Some(name) = &actor.config.name {
                let mut names = self.names.lock();
                if names.get(name) == Some(&actor_id) {
                    names.remove(name);
                }
            }
            self.stats.terminated.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Looks a registered name up.
    pub fn whereis(&self, name: &str) -> Option<u64> {
        self.names.lock().get(name).copied()
    }

    /// Live children in start order.
    pub fn children(&self) -> Vec<Arc<Actor>> {
        self.children.lock().clone()
    }

    /// Stops future restarts and spawns (shutdown in progress).
    pub fn begin_close(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// True once shutdown began.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Decides what happens after `actor`'s incarnation ended with `reason`, at `now`.
    pub fn decide(&self, actor: &Actor, reason: &str, now: Instant) -> Decision {
        if self.is_closing() || actor.stop_requested() {
            return Decision::Stop;
        }
        let restart = match actor.config.restart {
            RestartType::Permanent => true,
            RestartType::Transient => !is_normal_exit(reason),
            RestartType::Temporary => false,
        };
        if !restart {
            return Decision::Stop;
        }
        let retry = self.config.retry;
        if retry.max == u32::MAX {
            return Decision::Restart;
        }
        let mut log = self.restart_log.lock();
        while log
            .front()
            .is_some_and(|t| now.duration_since(*t) > retry.within)
        {
            log.pop_front();
        }
        if log.len() as u32 >= retry.max {
            return Decision::Escalate;
        }
        log.push_back(now);
        Decision::Restart
    }

    /// Live children (dead-for-good ones are removed).
    pub fn active(&self) -> usize {
        self.children
            .lock()
            .iter()
            .filter(|a| a.state() != ActorState::Dead)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::ActorConfig;

    fn sup(max: usize) -> Supervisor {
        Supervisor::new(
            1,
            Arc::new(Port::new(1)),
            SupervisorConfig {
                max_actors: max,
                retry: RetryConfig::default(),
            },
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
        s.add_child(named(1, "a")).unwrap();
        assert_eq!(
            s.add_child(named(2, "a")),
            Err(SpawnError::NameTaken("a".into()))
        );
        s.add_child(named(3, "b")).unwrap();
        assert_eq!(
            s.add_child(named(4, "c")).unwrap_err().to_string(),
            "Max actors limit reached: 2"
        );
        assert_eq!(s.whereis("a"), Some(1));
        s.remove_child(1);
        assert_eq!(s.whereis("a"), None);
        assert_eq!(s.stats.terminated.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn restart_types() {
        let s = sup(10);
        let now = Instant::now();
        let mk = |r| {
            Actor::new(
                1,
                1,
                ActorConfig {
                    restart: r,
                    ..Default::default()
                },
            )
        };
        assert_eq!(
            s.decide(&mk(RestartType::Transient), "normal", now),
            Decision::Stop
        );
        assert_eq!(
            s.decide(&mk(RestartType::Transient), "timeout", now),
            Decision::Restart
        );
        assert_eq!(
            s.decide(&mk(RestartType::Permanent), "normal", now),
            Decision::Restart
        );
        assert_eq!(
            s.decide(&mk(RestartType::Temporary), "error: x", now),
            Decision::Stop
        );
    }

    #[test]
    fn intensity_escalates_and_window_slides() {
        let s = sup(10);
        let a = Actor::new(1, 1, ActorConfig::default());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(s.decide(&a, "error: x", t0), Decision::Restart);
        }
        assert_eq!(s.decide(&a, "error: x", t0), Decision::Escalate);
        let later = t0 + Duration::from_millis(5001);
        assert_eq!(s.decide(&a, "error: x", later), Decision::Restart);
    }
}
