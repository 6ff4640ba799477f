//! Actors as the core sees them: a stable identity, a mailbox that outlives the threads that
//! run it, the port of the current incarnation, and the counters diagnostics report.
//!
//! Delivery hands the worker a batch of messages (the handler still runs them one at a time)
//! and keeps them "in hand" until the worker's progress counter says they were handled. If the
//! thread dies mid-batch, the first unhandled message is the one in flight and the rest go back
//! to the front of the mailbox for the next incarnation: nothing is lost or handled twice.
//! While a batch is out, new mail does not wake the thread (it asks for more when done), so a
//! slow handler costs no spurious wake-ups. Actors with a per-message deadline get batches of
//! one, so each message's deadline starts when that message does.

use crate::envelope::{Envelope, Kind};
use crate::metrics::{Metric, Tracker};
use crate::port::{Bound, Port};
use crate::sync::Mutex;
use std::any::Any;
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
#[derive(Clone, Debug, PartialEq)]
pub struct ActorConfig {
    /// Registered name, if any.
    pub name: Option<String>,
    /// Per-message deadline in ms; 0 disables it.
    pub timeout_ms: u64,
    /// Watchdog: the actor must call `heartbeat` at least this often (ms); 0 disables it.
    pub heartbeat_ms: u64,
    /// A runtime-internal actor (the threads behind `sup.task`): outside `maxActors` and the
    /// supervisor's actor counters.
    pub internal: bool,
    /// How long it may hold a Tier 2 box without a heartbeat (ms).
    pub lease_ms: u64,
    /// Restart type.
    pub restart: RestartType,
    /// Mailbox capacity.
    pub capacity: usize,
    /// Overflow behaviour.
    pub overflow: Overflow,
    /// A pooled actor (many share a pool worker thread) rather than an isolated one.
    pub pooled: bool,
}

impl Default for ActorConfig {
    fn default() -> Self {
        ActorConfig {
            name: None,
            timeout_ms: 0,
            heartbeat_ms: 0,
            internal: false,
            lease_ms: 5000,
            restart: RestartType::Transient,
            capacity: usize::MAX,
            overflow: Overflow::Reject,
            pooled: false,
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
    /// The actor is dead for good.
    Dead,
    /// The mailbox is at capacity with overflow `reject`.
    Full,
    /// The sender named an incarnation that is not the current one.
    Stale,
    /// No such actor is registered (never existed, or dead and forgotten).
    NoProc,
}

impl SendError {
    /// The reason a dead letter reports.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Dead => "dead",
            Self::Full => "mailbox full",
            Self::Stale => "stale incarnation",
            Self::NoProc => "noproc",
        }
    }
}

/// A message the mailbox refused, handed back with the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    /// Why.
    pub error: SendError,
    /// The message.
    pub envelope: Envelope,
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

/// The state an actor's lock guards. Kept small: a million idle actors hold a million of
/// these. What few actors ever have lives in [`Rare`], allocated on first use.
struct Inner {
    /// The messages handed to the thread and not yet acknowledged (the first `in_hand`), then
    /// the queue. An idle pooled actor's holds no buffer.
    mail: Mail,
    in_hand: u32,
    handled_base: u32,
    incarnation: u32,
    state: ActorState,
    busy: bool,
    /// Pooled actors: in its pool port's ready queue (or being taken from it).
    queued: bool,
    stop_requested: bool,
    port: Option<Arc<Port>>,
    message_count: u64,
    rare: Option<Box<Rare>>,
}

impl Inner {
    /// Messages queued and not handed out.
    fn queued_len(&self) -> usize {
        self.mail.len() - self.in_hand as usize
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Default::default)
    }

    /// Drops the first `n` messages in hand (acknowledged). With `shrink`, frees the buffer
    /// when nothing is left in it (pooled actors: a million idle ones hold none; an isolated
    /// actor keeps its buffer, as it keeps its thread).
    fn drop_in_hand(&mut self, n: usize, shrink: bool) {
        let k = n.min(self.in_hand as usize);
        self.mail.drop_front(k);
        self.in_hand -= k as u32;
        if shrink && self.mail.is_empty() {
            self.mail = Mail::default(); // an idle actor holds no buffer (DESIGN.md 8.2)
        }
    }
}

/// A mailbox as small as the mail it holds: nothing allocated while empty (a million idle
/// pooled actors hold a million of these), one envelope's worth for one message (the usual
/// case of an idle actor getting mail), a queue beyond that. An isolated actor's mailbox keeps
/// its queue once it has one (`keep`), as it keeps its thread: no allocation per message.
#[derive(Default)]
// (the queue is boxed on purpose: a mailbox must stay two words, not a `VecDeque`'s four)
#[allow(clippy::box_collection)]
enum Mail {
    #[default]
    Empty,
    One(Box<Envelope>),
    Many(Box<VecDeque<Envelope>>),
}

impl Mail {
    fn len(&self) -> usize {
        match self {
            Mail::Empty => 0,
            Mail::One(_) => 1,
            Mail::Many(q) => q.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push_back(&mut self, env: Envelope, keep: bool) {
        match std::mem::take(self) {
            Mail::Empty if !keep => *self = Mail::One(Box::new(env)),
            Mail::Empty => *self = Mail::Many(Box::new(VecDeque::from([env]))),
            Mail::One(first) => {
                let mut q = VecDeque::with_capacity(4);
                q.push_back(*first);
                q.push_back(env);
                *self = Mail::Many(Box::new(q));
            }
            Mail::Many(mut q) => {
                q.push_back(env);
                *self = Mail::Many(q);
            }
        }
    }

    fn pop_front(&mut self) -> Option<Envelope> {
        match self {
            Mail::Empty => None,
            Mail::One(_) => match std::mem::take(self) {
                Mail::One(env) => Some(*env),
                _ => unreachable!("matched One"),
            },
            Mail::Many(q) => q.pop_front(),
        }
    }

    fn remove(&mut self, i: usize) -> Option<Envelope> {
        match self {
            Mail::Many(q) => q.remove(i),
            _ if i == 0 => self.pop_front(),
            _ => None,
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Envelope> {
        match self {
            Mail::Empty => None,
            Mail::One(env) => (i == 0).then_some(&mut **env),
            Mail::Many(q) => q.get_mut(i),
        }
    }

    /// Drops the first `k` messages (`k` <= length).
    fn drop_front(&mut self, k: usize) {
        match self {
            Mail::Many(q) => {
                q.drain(..k);
            }
            _ if k > 0 => *self = Mail::Empty,
            _ => {}
        }
    }

    fn into_vec(self) -> Vec<Envelope> {
        match self {
            Mail::Empty => Vec::new(),
            Mail::One(env) => vec![*env],
            Mail::Many(q) => Vec::from(*q),
        }
    }
}

/// What an actor rarely has: restarts, an error, heartbeats.
#[derive(Default)]
struct Rare {
    restarts: u32,
    last_error: Option<String>,
    heartbeat_count: u64,
    last_heartbeat_ms: Option<f64>,
    /// The incarnation and tracker time of the last heartbeat (for heartbeat intervals).
    last_beat: Option<(u32, u64)>,
}

/// The clock actors' creation times are measured on.
fn clock() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// What the actors spawned together share: their settings and their supervisor's sampled
/// metrics (one copy for a `spawnMany` batch, not one per actor). Reads as the
/// [`ActorConfig`] it holds.
pub struct Spawned {
    config: ActorConfig,
    metrics: Option<Arc<Tracker>>,
}

impl Spawned {
    /// `config` for actors recording their sampled metrics in `metrics`.
    pub fn new(config: ActorConfig, metrics: Option<Arc<Tracker>>) -> Self {
        Spawned { config, metrics }
    }

    /// True if an actor spawned with `config` and `metrics` may share these.
    pub fn fits(&self, config: &ActorConfig, metrics: Option<&Arc<Tracker>>) -> bool {
        let same_tracker = match (&self.metrics, metrics) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_tracker && self.config == *config
    }
}

impl std::ops::Deref for Spawned {
    type Target = ActorConfig;

    fn deref(&self) -> &ActorConfig {
        &self.config
    }
}

/// The deadlines of a timed actor, set and cleared by the threads that run it and read by the
/// timer thread.
#[derive(Default)]
pub(crate) struct Timed {
    /// Per-message deadline in ns on the runtime clock; 0 when unarmed.
    deadline: AtomicU64,
    /// Watchdog deadline in ns on the runtime clock; 0 when unarmed.
    watchdog: AtomicU64,
}

/// What an untimed actor's deadlines read: never armed (nothing ever writes it).
static UNTIMED: Timed = Timed {
    deadline: AtomicU64::new(0),
    watchdog: AtomicU64::new(0),
};

/// A supervised child, stable across restarts.
pub struct Actor {
    /// Process-wide id (the JS id is `actor-<id>`): a generational slab id, see
    /// [`crate::slab`].
    pub id: u64,
    /// The supervisor that owns it.
    pub sup_id: u64,
    /// Settings fixed at spawn, shared by the actors spawned together.
    pub config: Arc<Spawned>,
    /// Its deadlines, for an actor with a per-message deadline or a watchdog (most have
    /// neither, and hold no room for them).
    timed: Option<Box<Timed>>,
    /// When it was spawned, in ns after [`clock`]'s epoch.
    created_ns: u64,
    // Lock order (see `Runtime`): may be taken while an outbox drain or a supervisor's locks
    // are held; while it is held, only the port's `actor` lock (`Port::unbind`) and the metrics
    // tracker's lock are taken. Senders ring the port after releasing it.
    inner: Mutex<Inner>,
}

impl Actor {
    /// A new actor in state `Starting`, with an empty mailbox.
    pub fn new(id: u64, sup_id: u64, config: ActorConfig) -> Self {
        Self::with_shared_config(id, sup_id, Arc::new(Spawned::new(config, None)))
    }

    /// A new actor sharing its settings (and its supervisor's metrics) with others spawned
    /// with it.
    pub fn with_shared_config(id: u64, sup_id: u64, config: Arc<Spawned>) -> Self {
        Self::created_at(id, sup_id, config, Self::clock_ns())
    }

    /// The time actors' creation times are measured in (ns after [`clock`]'s epoch): read
    /// once for a batch of actors created together (a clock read per actor cost a tenth of
    /// a pool worker's spawn of a child).
    pub fn clock_ns() -> u64 {
        clock().elapsed().as_nanos() as u64
    }

    /// [`Actor::with_shared_config`], created at `created_ns` (see [`Actor::clock_ns`]).
    pub fn created_at(id: u64, sup_id: u64, config: Arc<Spawned>, created_ns: u64) -> Self {
        Actor {
            id,
            sup_id,
            timed: (config.timeout_ms > 0 || config.heartbeat_ms > 0).then(Default::default),
            config,
            created_ns,
            inner: Mutex::new(Inner {
                mail: Mail::default(),
                in_hand: 0,
                handled_base: 0,
                incarnation: 0,
                state: ActorState::Starting,
                busy: false,
                queued: false,
                stop_requested: false,
                port: None,
                message_count: 0,
                rare: None,
            }),
        }
    }

    fn metrics(&self) -> Option<&Tracker> {
        self.config.metrics.as_deref()
    }

    /// Per-message deadline in ns on the runtime clock; 0 when unarmed (always, for an actor
    /// without `timeout_ms`).
    pub(crate) fn deadline(&self) -> &AtomicU64 {
        &self.timed.as_deref().unwrap_or(&UNTIMED).deadline
    }

    /// Watchdog deadline in ns on the runtime clock; 0 when unarmed (always, for an actor
    /// without `heartbeat_ms`).
    pub(crate) fn watchdog(&self) -> &AtomicU64 {
        &self.timed.as_deref().unwrap_or(&UNTIMED).watchdog
    }

    /// Disarms both deadlines (nothing to do for an untimed actor).
    fn disarm(&self, watchdog_too: bool) {
        if let Some(t) = &self.timed {
            t.deadline.store(0, Ordering::Release);
            if watchdog_too {
                t.watchdog.store(0, Ordering::Release);
            }
        }
    }

    /// Queues `env` unless the actor is dead, full, or `incarnation` names another
    /// incarnation. Wakes the bound thread if it is idle.
    pub fn deliver(&self, env: Envelope, incarnation: Option<u32>) -> Result<Delivered, Refused> {
        let (port, outcome) = {
            let mut g = self.inner.lock();
            let outcome = self.queue(&mut g, env, incarnation);
            (self.to_wake(&mut g), outcome)
        };
        if let Some(p) = port {
            p.ring();
        }
        outcome
    }

    /// [`Actor::deliver`] without the wake: returns the port the caller must ring (once for
    /// a whole batch of deliveries, see [`crate::runtime::Runtime::deliver_quiet`]).
    pub fn deliver_quiet(&self, env: Envelope) -> (Result<Delivered, Refused>, Option<Arc<Port>>) {
        let mut g = self.inner.lock();
        let outcome = self.queue(&mut g, env, None);
        (outcome, self.to_wake(&mut g))
    }

    /// Queues a run of mail from one sender, in order, under one lock, and wakes the thread
    /// once. Returns the outcome of each message that was not simply queued (refused, or queued
    /// after dropping the oldest), in order.
    pub fn deliver_all(
        &self,
        envs: impl Iterator<Item = Envelope>,
    ) -> Vec<Result<Delivered, Refused>> {
        let mut out = Vec::new();
        let port = {
            let mut g = self.inner.lock();
            for env in envs {
                match self.queue(&mut g, env, None) {
                    Ok(Delivered::Queued) => {}
                    other => out.push(other),
                }
            }
            self.to_wake(&mut g)
        };
        if let Some(p) = port {
            p.ring();
        }
        out
    }

    /// The port to ring after queueing: the bound thread's, unless it is already draining. A
    /// pooled actor is put in its port's ready queue first (once: until a worker takes it).
    fn to_wake(&self, g: &mut Inner) -> Option<Arc<Port>> {
        if g.busy {
            return None;
        }
        let port = g.port.as_ref()?;
        if port.is_pool() {
            if g.queued || g.state != ActorState::Running || g.queued_len() == 0 {
                return None;
            }
            g.queued = true;
            port.push_ready(self.id);
        }
        Some(port.clone())
    }

    /// Queues `env` with the lock held, unless the actor is dead, full, or `incarnation` names
    /// another incarnation.
    fn queue(
        &self,
        g: &mut Inner,
        mut env: Envelope,
        incarnation: Option<u32>,
    ) -> Result<Delivered, Refused> {
        let refuse = |error, envelope| Err(Refused { error, envelope });
        if g.state == ActorState::Dead {
            return refuse(SendError::Dead, env);
        }
        // A capability names one incarnation: it goes stale when that incarnation ends, even
        // before the next one starts.
        if incarnation.is_some_and(|i| i != g.incarnation || g.state == ActorState::Restarting) {
            return refuse(SendError::Stale, env);
        }
        let mut outcome = Delivered::Queued;
        if g.queued_len() >= self.config.capacity {
            let oldest = g.in_hand as usize; // the oldest queued, not one in hand
            match self.config.overflow {
                Overflow::Reject => return refuse(SendError::Full, env),
                Overflow::DropOldest => match g.mail.remove(oldest) {
                    Some(old) => outcome = Delivered::DroppedOldest(old),
                    None => return refuse(SendError::Full, env),
                },
            }
        }
        let metrics = self.metrics();
        if let Some(m) = metrics.filter(|m| m.wants(Metric::MessageLatency)) {
            env.stamp = m.now_ns();
        }
        g.mail.push_back(env, !self.config.pooled);
        if let Some(m) = metrics.filter(|m| m.wants(Metric::InboxDepth)) {
            m.record(Metric::InboxDepth, g.queued_len() as f64);
        }
        Ok(outcome)
    }

    /// Acknowledges what the worker handled (its progress counter reads `handled`) and hands
    /// out up to `max` next messages as one JSON batch. Returns the batch and, when the actor
    /// has a per-message deadline, the deadline to arm (batches are then of one message).
    pub fn pop(&self, handled: u32, max: usize, now_ns: u64) -> Option<(String, u64)> {
        let mut g = self.inner.lock();
        Self::ack(&mut g, handled);
        self.disarm(false);
        if g.state != ActorState::Running || g.in_hand > 0 || g.queued_len() == 0 {
            g.busy = g.in_hand > 0;
            return None;
        }
        let n = if self.config.timeout_ms > 0 {
            1
        } else {
            max.clamp(1, g.queued_len())
        };
        let mut text = String::with_capacity(32 * n);
        text.push('[');
        self.hand_out(&mut g, n, &mut text, false);
        text.push(']');
        g.busy = true;
        g.message_count += n as u64;
        let deadline = if self.config.timeout_ms > 0 {
            let d = now_ns + self.config.timeout_ms * 1_000_000;
            self.deadline().store(d, Ordering::Release);
            d
        } else {
            0
        };
        Some((text, deadline))
    }

    /// Writes the next `n` queued messages (`n` <= queued) as JSON, comma-separated, to
    /// `out` (each as an array, or `flat`: see [`Envelope::write_flat`]), and keeps them in
    /// hand.
    fn hand_out(&self, g: &mut Inner, n: usize, out: &mut String, flat: bool) {
        let first = g.in_hand as usize;
        for i in 0..n {
            let env = g.mail.get_mut(first + i).expect("n <= queued");
            if i > 0 {
                out.push(',');
            }
            if flat {
                env.write_flat(out);
            } else {
                env.write_json(out);
            }
            if env.stamp != 0 {
                if let Some(m) = self.metrics() {
                    m.record_since(Metric::MessageLatency, env.stamp);
                }
                env.stamp = 0; // measured once, even if a restart hands it out again
            }
        }
        g.in_hand += n as u32;
    }

    /// Drops the messages the worker reports as handled since the last acknowledgement.
    fn ack(g: &mut Inner, handled: u32) {
        let done = handled.wrapping_sub(g.handled_base) as usize;
        g.drop_in_hand(done, false);
        g.handled_base = handled;
    }

    /// True when the bound thread should pop: running, idle, and mail is waiting.
    pub fn has_deliverable(&self) -> bool {
        let g = self.inner.lock();
        g.state == ActorState::Running && !g.busy && g.queued_len() > 0
    }

    /// Binds a new incarnation to `port`. The actor counts as busy until the thread's first
    /// `pop` (its start-up code runs first). Returns the incarnation number.
    pub fn bind(&self, port: Arc<Port>) -> u32 {
        let mut g = self.inner.lock();
        g.port = Some(port);
        g.state = ActorState::Running;
        g.busy = true;
        g.handled_base = 0;
        g.incarnation
    }

    /// [`Actor::bind`] unless the actor is dead for good (ended since it was looked up or
    /// made, say by a shutdown): None then.
    pub fn bind_if_alive(&self, port: Arc<Port>) -> Option<u32> {
        let mut g = self.inner.lock();
        if g.state == ActorState::Dead {
            return None;
        }
        g.port = Some(port);
        g.state = ActorState::Running;
        g.busy = true;
        g.handled_base = 0;
        Some(g.incarnation)
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

    /// The thread of the current incarnation is gone. Reads its final progress, unbinds it and
    /// reports the message it was handling; the messages it had not started go back to the
    /// front of the mailbox for the next incarnation.
    pub fn thread_gone(&self, reason: &str) -> ExitReport {
        let mut g = self.inner.lock();
        // (a pool worker acknowledges each actor's messages explicitly, see `pool_ack`)
        let single = g.port.as_ref().filter(|p| !p.is_pool());
        if let Some(handled) = single.map(|p| p.control().handled()) {
            Self::ack(&mut g, handled);
        }
        g.queued = false;
        // The first message in hand was in flight; the others were not started and are at
        // the front of the queue already, in order.
        let in_flight = if g.in_hand > 0 {
            g.in_hand = 0;
            g.mail.pop_front()
        } else {
            None
        };
        if let Some(p) = g.port.take() {
            p.unbind(self.id);
        }
        g.busy = false;
        self.disarm(true);
        if reason.starts_with("error") || reason == "timeout" || reason == "out_of_memory" {
            g.rare().last_error = Some(reason.to_string());
        }
        if g.state != ActorState::Dead {
            g.state = ActorState::Restarting;
        }
        ExitReport {
            incarnation: g.incarnation,
            in_flight,
        }
    }

    /// Prepares the next incarnation (after `thread_gone`). Returns its number.
    pub fn next_incarnation(&self) -> u32 {
        let mut g = self.inner.lock();
        g.incarnation += 1;
        g.rare().restarts += 1;
        g.incarnation
    }

    /// Dead for good: returns the undelivered mailbox (dead letters).
    pub fn finish(&self) -> Vec<Envelope> {
        let mut g = self.inner.lock();
        g.state = ActorState::Dead;
        if let Some(p) = g.port.take() {
            p.unbind(self.id);
        }
        self.disarm(true);
        g.in_hand = 0;
        std::mem::take(&mut g.mail).into_vec()
    }

    /// Arms the watchdog to `now_ns + heartbeat_ms`; returns the deadline (0: no watchdog).
    pub fn arm_watchdog(&self, now_ns: u64) -> u64 {
        if self.config.heartbeat_ms == 0 {
            return 0;
        }
        let d = now_ns + self.config.heartbeat_ms * 1_000_000;
        self.watchdog().store(d, Ordering::Release);
        d
    }

    /// Records a heartbeat at `now_ms` (wall clock, ms). Returns false when the previous one
    /// was recorded at the same `now_ms` (see [`crate::runtime::Runtime::emit`]).
    pub fn heartbeat(&self, now_ms: f64) -> bool {
        let mut g = self.inner.lock();
        let inc = g.incarnation;
        let r = g.rare();
        r.heartbeat_count += 1;
        let new_ms = r.last_heartbeat_ms != Some(now_ms);
        r.last_heartbeat_ms = Some(now_ms);
        if let Some(m) = self.metrics() {
            let now = m.now_ns();
            if let Some((_, since)) = r.last_beat.filter(|(i, _)| *i == inc) {
                if m.wants(Metric::HeartbeatInterval) {
                    m.record_since(Metric::HeartbeatInterval, since);
                }
            }
            r.last_beat = Some((inc, now));
        }
        new_ms
    }

    /// Current incarnation.
    pub fn incarnation(&self) -> u32 {
        self.inner.lock().incarnation
    }

    /// Current state.
    pub fn state(&self) -> ActorState {
        self.inner.lock().state
    }

    /// This actor's diagnostics (see docs/ARCHITECTURE.md, Diagnostics) as a JSON object;
    /// `name` is the name registered for it, if any.
    pub fn diagnostics(&self, name: Option<String>) -> serde_json::Value {
        let g = self.inner.lock();
        let rare = g.rare.as_deref();
        let lifetime_ns = (clock().elapsed().as_nanos() as u64).saturating_sub(self.created_ns);
        serde_json::json!({
            "id": format!("actor-{}", self.id),
            "name": name,
            "kind": if self.config.pooled { "pooled" } else { "isolated" },
            "incarnation": g.incarnation,
            "state": g.state.as_str(),
            "restarts": rare.map_or(0, |r| r.restarts),
            "mailboxDepth": g.queued_len(),
            "messageCount": g.message_count,
            "lastError": rare.and_then(|r| r.last_error.as_deref()),
            "lifetimeMs": lifetime_ns as f64 / 1e6,
            "heartbeatCount": rare.map_or(0, |r| r.heartbeat_count),
            "lastHeartbeatAt": rare.and_then(|r| r.last_heartbeat_ms),
            "heapUsed": g.port.as_ref().map(|p| p.control().heap_used()),
        })
    }
}

/// Pooled actors: many share one pool worker's port (see [`crate::pooled`]).
impl Actor {
    /// Taken from the ready queue: hands out up to `max` messages (one under a per-message
    /// deadline) as `id,incarnation,n,` and their flat entries ([`Envelope::write_flat`])
    /// appended to `out`, keeps them in hand until
    /// [`Actor::pool_ack`], and returns the deadline to arm (0: none). None if there is
    /// nothing to hand out (busy, not running, empty).
    pub fn pool_take(&self, max: usize, now_ns: u64, out: &mut String) -> Option<u64> {
        let mut g = self.inner.lock();
        g.queued = false;
        if g.state != ActorState::Running || g.busy || g.queued_len() == 0 {
            return None;
        }
        let n = if self.config.timeout_ms > 0 {
            1
        } else {
            max.clamp(1, g.queued_len())
        };
        crate::envelope::push_u64(out, self.id);
        out.push(',');
        crate::envelope::push_u64(out, u64::from(g.incarnation));
        out.push(',');
        crate::envelope::push_u64(out, n as u64);
        out.push(',');
        self.hand_out(&mut g, n, out, true);
        g.busy = true;
        g.message_count += n as u64;
        if self.config.timeout_ms > 0 {
            let d = now_ns + self.config.timeout_ms * 1_000_000;
            self.deadline().store(d, Ordering::Release);
            return Some(d);
        }
        Some(0)
    }

    /// The pool worker on `port` finished `n` more of the messages it holds of incarnation
    /// `incarnation` (`n` = 0 with nothing in hand: its start-up code is done). When nothing
    /// is left in hand the actor is idle again, and queued as ready if mail is waiting: the
    /// port to ring is returned. Acknowledgements of another port or incarnation are ignored.
    pub fn pool_ack(&self, port: &Port, incarnation: u32, n: usize) -> Option<Arc<Port>> {
        let mut g = self.inner.lock();
        let here = g.port.as_ref().is_some_and(|p| std::ptr::eq(&**p, port));
        if !here || g.incarnation != incarnation || g.state != ActorState::Running {
            return None;
        }
        g.drop_in_hand(n, true);
        self.disarm(false);
        if g.in_hand > 0 {
            return None;
        }
        g.busy = false;
        self.to_wake(&mut g)
    }
}

impl Bound for Actor {
    fn id(&self) -> u64 {
        self.id
    }

    fn has_deliverable(&self) -> bool {
        Actor::has_deliverable(self)
    }
}

impl Actor {
    /// The actor bound to `port`, if any.
    pub fn bound_to(port: &Port) -> Option<Arc<Actor>> {
        port.bound().and_then(Self::from_bound)
    }

    /// A port's bound actor as the `Actor` it is (every `Bound` of the core is one).
    pub fn from_bound(bound: Arc<dyn Bound>) -> Option<Arc<Actor>> {
        let any: Arc<dyn Any + Send + Sync> = bound;
        any.downcast().ok()
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
    fn a_port_gives_back_the_actor_bound_to_it() {
        let port = Port::new(1);
        assert!(Actor::bound_to(&port).is_none());
        let a = Arc::new(Actor::new(7, 1, ActorConfig::default()));
        port.bind(a.clone());
        assert_eq!(port.actor_id(), 7);
        assert!(Arc::ptr_eq(&Actor::bound_to(&port).unwrap(), &a));
        port.unbind(8);
        assert!(Actor::bound_to(&port).is_some(), "another id: still bound");
        let closed = port.close().and_then(Actor::from_bound).unwrap();
        assert!(Arc::ptr_eq(&closed, &a));
        assert!(Actor::bound_to(&port).is_none());
    }

    #[test]
    fn batches_are_acknowledged_by_progress() {
        let a = Actor::new(1, 1, ActorConfig::default());
        for i in 0..10 {
            a.deliver(user(i), None).unwrap();
        }
        a.bind(Arc::new(Port::new(9)));
        assert!(!a.has_deliverable(), "busy until the start-up code pops");
        let (text, _) = a.pop(0, 4, 0).unwrap();
        assert_eq!(text, "[[0,0,0,0],[0,0,0,1],[0,0,0,2],[0,0,0,3]]");
        assert!(a.pop(2, 4, 0).is_none(), "no new batch while one is out");
        assert!(!a.has_deliverable(), "busy while a batch is out");
        let (text, _) = a.pop(4, 100, 0).unwrap();
        assert_eq!(text.matches("[0,0,0,").count(), 6);
        assert!(a.pop(10, 4, 0).is_none());
        assert!(!a.has_deliverable());
    }

    #[test]
    fn mailbox_outlives_the_thread() {
        let a = Actor::new(1, 1, ActorConfig::default());
        let port = Arc::new(Port::new(9));
        a.bind(port.clone());
        for i in 1..=4 {
            a.deliver(user(i), None).unwrap();
        }
        a.pop(0, 10, 0).unwrap();
        // The worker handled message 1 and died inside message 2.
        port.control().set_handled(1);
        let report = a.thread_gone("error: boom");
        assert_eq!(report.in_flight.unwrap().body, "2");
        assert_eq!(a.next_incarnation(), 1);
        a.bind(Arc::new(Port::new(10)));
        assert_eq!(a.pop(0, 10, 0).unwrap().0, "[[0,0,0,3],[0,0,0,4]]");
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
        assert_eq!(a.deliver(user(3), None).unwrap_err().error, SendError::Full);
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
        assert_eq!(
            a.deliver(user(1), Some(1)).unwrap_err().error,
            SendError::Stale
        );
        assert!(a.deliver(user(1), Some(0)).is_ok());
        assert_eq!(a.finish().len(), 1);
        let refused = a.deliver(user(1), None).unwrap_err();
        assert_eq!(
            refused,
            Refused {
                error: SendError::Dead,
                envelope: user(1)
            }
        );
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
        a.deliver(user(2), None).unwrap();
        let (text, d) = a.pop(0, 64, 1000).unwrap();
        assert_eq!(
            text, "[[0,0,0,1]]",
            "one message per batch under a deadline"
        );
        assert_eq!(d, 1000 + 5_000_000);
        assert_eq!(a.deadline().load(Ordering::Acquire), d);
        a.pop(1, 64, 2000).unwrap();
        assert!(a.pop(2, 64, 3000).is_none());
        assert_eq!(a.deadline().load(Ordering::Acquire), 0, "ack disarms");
    }
}
