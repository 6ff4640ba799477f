//! Actors as the core sees them: a stable identity, a mailbox that outlives the threads that
//! run it, the port of the current incarnation, and the counters diagnostics report.
//!
//! Delivery is one message at a time: `pop` hands the next message to the worker and marks the
//! actor busy; the next `pop` acknowledges it. While busy, new mail does not wake the thread (it
//! will ask for more when the handler settles), so a slow handler costs no spurious wake-ups.

use crate::envelope::{Envelope, Kind};
use crate::port::Port;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// When an actor that exited is started again (OTP restart types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartType {
    /// Always restarted.
    Permanent,
    /// Restarted only after an abnormal exit (the default).
    Transient,
    /// Never restarted.
    Temporary,
}

impl RestartType {
    /// Parses the JS option value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "permanent" => Some(Self::Permanent),
            "transient" => Some(Self::Transient),
            "temporary" => Some(Self::Temporary),
            _ => None,
        }
    }
}

/// What a full mailbox does with one more message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Refuse the new message.
    Reject,
    /// Drop the oldest queued message to make room.
    DropOldest,
}

/// Per-actor settings fixed at spawn.
#[derive(Clone, Debug)]
pub struct ActorConfig {
    /// Registered name, if any.
    pub name: Option<String>,
    /// Per-message deadline in ms; 0 disables it.
    pub timeout_ms: u64,
    /// Restart type.
    pub restart: RestartType,
    /// Mailbox capacity.
    pub capacity: usize,
    /// Overflow behaviour.
    pub overflow: Overflow,
}

impl Default for ActorConfig {
    fn default() -> Self {
        ActorConfig {
            name: None,
            timeout_ms: 0,
            restart: RestartType::Transient,
            capacity: usize::MAX,
            overflow: Overflow::Reject,
        }
    }
}

/// Lifecycle state of the supervised child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorState {
    /// Spawned, waiting for a thread.
    Starting,
    /// An incarnation is bound to a thread.
    Running,
    /// Its thread is gone; a new incarnation will be started.
    Restarting,
    /// Dead for good.
    Dead,
}

impl ActorState {
    /// The name diagnostics report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Dead => "dead",
        }
    }
}

/// Why a message was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The actor is dead for good (or never existed).
    Dead,
    /// The mailbox is at capacity with overflow `reject`.
    Full,
    /// The sender named an incarnation that is not the current one.
    Stale,
}

/// Result of a successful delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Queued.
    Queued,
    /// Queued after dropping the oldest message (a dead letter).
    DroppedOldest(Envelope),
}

/// What the core knows when an incarnation's thread is gone.
#[derive(Debug)]
pub struct ExitReport {
    /// The incarnation that ended.
    pub incarnation: u32,
    /// The message it was handling, if any.
    pub in_flight: Option<Envelope>,
}

struct Inner {
    mailbox: VecDeque<Envelope>,
    port: Option<Arc<Port>>,
    incarnation: u32,
    state: ActorState,
    busy: bool,
    in_flight: Option<Envelope>,
    stop_requested: bool,
    message_count: u64,
    restarts: u32,
    last_error: Option<String>,
    heartbeat_count: u64,
    last_heartbeat_ms: Option<f64>,
}

/// A supervised child, stable across restarts.
pub struct Actor {
    /// Process-wide id (the JS id is `actor-<id>`).
    pub id: u64,
    /// The supervisor that owns it.
    pub sup_id: u64,
    /// Settings fixed at spawn.
    pub config: ActorConfig,
    /// Per-message deadline in ns on the runtime clock; 0 when unarmed.
    pub(crate) deadline: AtomicU64,
    created: Instant,
    inner: Mutex<Inner>,
}

impl Actor {
    /// A new actor in state `Starting`, with an empty mailbox.
    pub fn new(id: u64, sup_id: u64, config: ActorConfig) -> Self {
        Actor {
            id,
            sup_id,
            config,
            deadline: AtomicU64::new(0),
            created: Instant::now(),
            inner: Mutex::new(Inner {
                mailbox: VecDeque::new(),
                port: None,
                incarnation: 0,
                state: ActorState::Starting,
                busy: false,
                in_flight: None,
                stop_requested: false,
                message_count: 0,
                restarts: 0,
                last_error: None,
                heartbeat_count: 0,
                last_heartbeat_ms: None,
            }),
        }
    }

    /// Queues `env` unless the actor is dead, full, or `incarnation` names another
    /// incarnation. Wakes the bound thread if it is idle.
    pub fn deliver(&self, env: Envelope, incarnation: Option<u32>) -> Result<Delivered, SendError> {
        let (port, outcome) = {
            let mut g = self.inner.lock();
            if g.state == ActorState::Dead {
                return Err(SendError::Dead);
            }
            if incarnation.is_some_and(|i| i != g.incarnation) {
                return Err(SendError::Stale);
            }
            let mut outcome = Delivered::Queued;
            if g.mailbox.len() >= self.config.capacity {
                match self.config.overflow {
                    Overflow::Reject => return Err(SendError::Full),
                    Overflow::DropOldest => match g.mailbox.pop_front() {
                        Some(old) => outcome = Delivered::DroppedOldest(old),
                        None => return Err(SendError::Full),
                    },
                }
            }
            g.mailbox.push_back(env);
            let port = if g.busy { None } else { g.port.clone() };
            (port, outcome)
        };
        if let Some(p) = port {
            p.ring();
        }
        Ok(outcome)
    }

    /// Acknowledges the message in flight (if any) and hands out the next one as JSON text.
    /// Returns the text and, when the actor has a per-message deadline, the value to arm.
    pub fn pop(&self, now_ns: u64) -> Option<(String, u64)> {
        let mut g = self.inner.lock();
        if g.busy {
            g.in_flight = None;
            self.deadline.store(0, Ordering::Release);
        }
        if g.state != ActorState::Running {
            g.busy = false;
            return None;
        }
        match g.mailbox.pop_front() {
            Some(env) => {
                let mut text = String::with_capacity(env.body.len() + 24);
                env.write_json(&mut text);
                g.in_flight = Some(env);
                g.busy = true;
                g.message_count += 1;
                let deadline = if self.config.timeout_ms > 0 {
                    let d = now_ns + self.config.timeout_ms * 1_000_000;
                    self.deadline.store(d, Ordering::Release);
                    d
                } else {
                    0
                };
                Some((text, deadline))
            }
            None => {
                g.busy = false;
                None
            }
        }
    }

    /// True when the bound thread should pop: running, idle, and mail is waiting.
    pub fn has_deliverable(&self) -> bool {
        let g = self.inner.lock();
        g.state == ActorState::Running && !g.busy && !g.mailbox.is_empty()
    }

    /// Binds a new incarnation to `port`. The actor counts as busy until the thread's first
    /// `pop` (its start-up code runs first). Returns the incarnation number.
    pub fn bind(&self, port: Arc<Port>) -> u32 {
        let mut g = self.inner.lock();
        g.port = Some(port);
        g.state = ActorState::Running;
        g.busy = true;
        g.in_flight = None;
        g.incarnation
    }

    /// The port of the current incarnation.
    pub fn port(&self) -> Option<Arc<Port>> {
        self.inner.lock().port.clone()
    }

    /// Marks that the host asked this actor to stop for good (no restart).
    pub fn request_stop(&self) {
        self.inner.lock().stop_requested = true;
    }

    /// Whether a final stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.inner.lock().stop_requested
    }

    /// The thread of the current incarnation is gone: unbinds it and reports what it was doing.
    /// The mailbox is kept for the next incarnation.
    pub fn thread_gone(&self, reason: &str) -> ExitReport {
        let mut g = self.inner.lock();
        if let Some(p) = g.port.take() {
            p.unbind(self.id);
        }
        g.busy = false;
        self.deadline.store(0, Ordering::Release);
        if reason.starts_with("error") || reason == "timeout" || reason == "out_of_memory" {
            g.last_error = Some(reason.to_string());
        }
        if g.state != ActorState::Dead {
            g.state = ActorState::Restarting;
        }
        ExitReport {
            incarnation: g.incarnation,
            in_flight: g.in_flight.take(),
        }
    }

    /// Prepares the next incarnation (after `thread_gone`). Returns its number.
    pub fn next_incarnation(&self) -> u32 {
        let mut g = self.inner.lock();
        g.incarnation += 1;
        g.restarts += 1;
        g.incarnation
    }

    /// Dead for good: returns the undelivered mailbox (dead letters).
    pub fn finish(&self) -> Vec<Envelope> {
        let mut g = self.inner.lock();
        g.state = ActorState::Dead;
        if let Some(p) = g.port.take() {
            p.unbind(self.id);
        }
        self.deadline.store(0, Ordering::Release);
        g.mailbox.drain(..).collect()
    }

    /// Records a heartbeat at `now_ms` (wall clock, ms).
    pub fn heartbeat(&self, now_ms: f64) {
        let mut g = self.inner.lock();
        g.heartbeat_count += 1;
        g.last_heartbeat_ms = Some(now_ms);
    }

    /// Takes the reply address of the call in flight (once): `(reply_to, corr)`.
    pub fn take_reply_address(&self) -> Option<(u64, u64)> {
        let mut g = self.inner.lock();
        match g.in_flight.as_mut() {
            Some(env) if env.kind == Kind::Call && env.reply_to != 0 => {
                let addr = (env.reply_to, env.corr);
                env.reply_to = 0;
                Some(addr)
            }
            _ => None,
        }
    }

    /// Current incarnation.
    pub fn incarnation(&self) -> u32 {
        self.inner.lock().incarnation
    }

    /// Current state.
    pub fn state(&self) -> ActorState {
        self.inner.lock().state
    }

    /// Messages waiting in the mailbox.
    pub fn mailbox_depth(&self) -> usize {
        self.inner.lock().mailbox.len()
    }

    /// A JSON object with this actor's diagnostics (see DESIGN.md 3.6).
    pub fn diagnostics_json(&self) -> String {
        let g = self.inner.lock();
        serde_json::json!({
            "id": format!("actor-{}", self.id),
            "name": self.config.name,
            "incarnation": g.incarnation,
            "state": g.state.as_str(),
            "restarts": g.restarts,
            "mailboxDepth": g.mailbox.len(),
            "messageCount": g.message_count,
            "lastError": g.last_error,
            "lifetimeMs": self.created.elapsed().as_secs_f64() * 1000.0,
            "heartbeatCount": g.heartbeat_count,
            "lastHeartbeatAt": g.last_heartbeat_ms,
        })
        .to_string()
    }
}

/// Kinds that count as mail a handler sees (used when reporting dead letters).
pub fn is_mail(kind: Kind) -> bool {
    matches!(kind, Kind::User | Kind::Call | Kind::System)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(i: u64) -> Envelope {
        Envelope::new(Kind::User, 0, 0, i.to_string())
    }

    #[test]
    fn fifo_and_one_at_a_time() {
        let a = Actor::new(1, 1, ActorConfig::default());
        for i in 0..10 {
            a.deliver(user(i), None).unwrap();
        }
        a.bind(Arc::new(Port::new(9)));
        assert!(!a.has_deliverable(), "busy until the start-up code pops");
        for i in 0..10 {
            let (text, _) = a.pop(0).unwrap();
            assert_eq!(text, format!("[0,0,0,{i}]"));
            assert!(!a.has_deliverable(), "busy while a handler runs");
        }
        assert!(a.pop(0).is_none());
    }

    #[test]
    fn mailbox_outlives_the_thread() {
        let a = Actor::new(1, 1, ActorConfig::default());
        a.bind(Arc::new(Port::new(9)));
        a.deliver(user(1), None).unwrap();
        a.deliver(user(2), None).unwrap();
        a.pop(0).unwrap();
        let report = a.thread_gone("error: boom");
        assert_eq!(report.in_flight.unwrap().body, "1");
        assert_eq!(a.next_incarnation(), 1);
        a.bind(Arc::new(Port::new(10)));
        assert_eq!(a.pop(0).unwrap().0, "[0,0,0,2]");
    }

    #[test]
    fn capacity_and_overflow() {
        let cfg = ActorConfig {
            capacity: 2,
            ..Default::default()
        };
        let a = Actor::new(1, 1, cfg);
        a.deliver(user(1), None).unwrap();
        a.deliver(user(2), None).unwrap();
        assert_eq!(a.deliver(user(3), None), Err(SendError::Full));
        let b = Actor::new(
            2,
            1,
            ActorConfig {
                capacity: 1,
                overflow: Overflow::DropOldest,
                ..Default::default()
            },
        );
        b.deliver(user(1), None).unwrap();
        assert_eq!(
            b.deliver(user(2), None),
            Ok(Delivered::DroppedOldest(user(1)))
        );
    }

    #[test]
    fn stale_incarnation_and_dead() {
        let a = Actor::new(1, 1, ActorConfig::default());
        assert_eq!(a.deliver(user(1), Some(1)), Err(SendError::Stale));
        assert!(a.deliver(user(1), Some(0)).is_ok());
        assert_eq!(a.finish().len(), 1);
        assert_eq!(a.deliver(user(1), None), Err(SendError::Dead));
    }

    #[test]
    fn deadline_armed_per_message() {
        let a = Actor::new(
            1,
            1,
            ActorConfig {
                timeout_ms: 5,
                ..Default::default()
            },
        );
        a.bind(Arc::new(Port::new(9)));
        a.deliver(user(1), None).unwrap();
        let (_, d) = a.pop(1000).unwrap();
        assert_eq!(d, 1000 + 5_000_000);
        assert_eq!(a.deadline.load(Ordering::Acquire), d);
        assert!(a.pop(2000).is_none());
        assert_eq!(a.deadline.load(Ordering::Acquire), 0, "ack disarms");
    }
}
