//! The process-wide runtime: registries of ports, actors and supervisors, and the operations
//! every JS thread performs through the binding (send, pop, reply, emit, exit handling).
//! One instance per process, shared by every thread that loads the addon.

use crate::actor::{is_mail, Actor, ActorConfig, SendError};
use crate::envelope::{json_string, Envelope, Kind};
use crate::links::Links;
use crate::metrics::{Metric, Tracker};
use crate::outbox::{record_id, record_text, Outbox, Record};
use crate::panics::{self, Faults, Site};
use crate::port::{Port, PortId};
use crate::slab::{Slab, MAX_SLOTS};
use crate::supervisor::{SpawnError, Supervisor, SupervisorConfig};
use crate::timer::Timer;
use crate::tree::{Decision, GroupConfig, Plan};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How often the timer thread drains outboxes that their threads stopped draining (a thread
/// stuck in a long computation or a hang after sending): every 5 ms while sweeps find mail
/// left behind, backing off to every 50 ms while they find none (each wake of the timer
/// thread takes a CPU from threads that may be busy-waiting for a reply).
const SWEEP_MIN_NS: u64 = 5_000_000;
const SWEEP_MAX_NS: u64 = 50_000_000;
/// Sweeps in a row that find every outbox empty before the sweeping stops (about 0.3 s): an
/// idle process then wakes the timer thread for nothing. A thread that publishes into its
/// outbox while the sweeping is off starts it again ([`Runtime::sweep_word`]).
const SWEEP_QUIET_PASSES: u32 = 8;

/// Which actors a supervisor's diagnostics list (internal actors never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorsView {
    /// Every live actor, in start order: O(actors).
    All,
    /// None: the counters only, O(1).
    None,
    /// How many are in each state, without per-actor entries.
    Summary,
    /// The actors at positions `offset..offset + limit` of the start order.
    Page {
        /// First position.
        offset: usize,
        /// At most this many.
        limit: usize,
    },
}

/// What the host must do after an incarnation's thread is gone.
#[derive(Debug)]
pub struct ExitOutcome {
    /// The operations to carry out, in order.
    pub plan: Plan,
    /// The incarnation that ended.
    pub incarnation: u32,
    /// The message it was handling, as `[kind,from,corr,body]` JSON text.
    pub in_flight: Option<String>,
}

/// Registries and clock.
///
/// Lock order, across the core (each lock is declared with its own rule):
/// 1. an outbox's drain lock ([`Outbox::drain`]) is taken first, with no other lock held, and
///    is held while its mail is delivered (which takes the locks below);
/// 2. a supervisor's `children`, `tree`, `names` (in that order, see [`Supervisor`]);
/// 3. an actor's state lock, and under it the leaf locks of its port and its metrics;
/// 4. the registries below (`ports`, `actors`, `sups`, `links`) and a port's own locks are
///    leaves: each is held only to look up, insert or remove (cloning the `Arc` out), never
///    while taking another lock. The Tier 2 pool's lock is a leaf too, and the timer thread
///    runs its callbacks (which take the locks above) without holding its own locks, except
///    its actor lookup, which takes only the `actors` registry (a leaf) under the timer's
///    wake lock; the timer's queue lock is a leaf taken by `Timer::arm` with no lock held.
pub struct Runtime {
    epoch: Instant,
    next_id: AtomicU64,
    ports: RwLock<HashMap<PortId, Arc<Port>>>,
    /// Live actors by generational id (see [`crate::slab`]): ids are handed out here.
    actors: RwLock<Slab<Arc<Actor>>>,
    sups: RwLock<HashMap<u64, Arc<Supervisor>>>,
    timer: OnceLock<Timer>,
    links: Mutex<Links>,
    /// What pool workers may spawn without the host, by id (see [`crate::pooled::SpawnTemplate`]).
    pub(crate) templates: Mutex<HashMap<u64, crate::pooled::SpawnTemplate>>,
    sweep_every: AtomicU64,
    /// 1 while the timer thread sweeps outboxes, 0 once it stopped (see [`Runtime::sweep_word`]).
    sweeping: AtomicU32,
    /// Sweeps in a row that found nothing to deliver.
    sweep_quiet: AtomicU32,
    faults: Faults,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process-wide runtime.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(Runtime::new)
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A fresh runtime (tests build their own; the process uses [`runtime()`]).
    pub fn new() -> Self {
        Runtime {
            epoch: Instant::now(),
            next_id: AtomicU64::new(1),
            ports: RwLock::new(HashMap::new()),
            actors: RwLock::new(Slab::default()),
            sups: RwLock::new(HashMap::new()),
            timer: OnceLock::new(),
            sweep_every: AtomicU64::new(SWEEP_MIN_NS),
            sweeping: AtomicU32::new(1),
            sweep_quiet: AtomicU32::new(0),
            links: Mutex::new(Links::default()),
            templates: Mutex::new(HashMap::new()),
            faults: Faults::default(),
        }
    }

    /// Nanoseconds on the runtime clock.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub(crate) fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn timer(&'static self) -> &'static Timer {
        self.timer.get_or_init(|| {
            Timer::start(
                self.epoch,
                Box::new(move |id| self.actor(id)),
                Box::new(move |a: &Arc<Actor>| self.deadline_passed(a)),
                Box::new(move |now| {
                    self.faults.trip(Site::Timer);
                    // (apart, so that a bug in one does not stop the other)
                    let leases = self.tick_part("box leases", now, || self.expire_boxes(now));
                    let sweep = self.tick_part("outbox sweep", now, || self.sweep_outboxes(now));
                    leases.min(sweep)
                }),
                Box::new(move |site: &str, message| self.report_panic(0, site, &message)),
            )
        })
    }

    // ---- panics ------------------------------------------------------------------------

    /// Reports a panic the core caught at `site` and survived, as [`Kind::Panic`] to the host
    /// port of supervisor `sup_id`, or of every live supervisor when it is 0 or gone (the
    /// timer serves them all).
    pub fn report_panic(&self, sup_id: u64, site: &str, message: &str) {
        let body = json_string(&panics::reason(site, message));
        let to = match self.supervisor(sup_id) {
            Some(s) => vec![s],
            None => self.supervisors(),
        };
        for s in to {
            s.port
                .push_urgent(Envelope::new(Kind::Panic, 0, 0, body.clone()));
        }
    }

    /// Runs a part of the timer's tick that returns when it is next due; a panic in it is
    /// reported and asks for another look soon.
    fn tick_part(&self, site: &str, now: u64, part: impl FnOnce() -> u64) -> u64 {
        panics::catch(part).unwrap_or_else(|message| {
            self.report_panic(0, site, &message);
            now + SWEEP_MIN_NS
        })
    }

    /// Test hook: makes the next pass through `site` panic once. For a timer tick, the timer
    /// thread is woken so that the tick comes now.
    pub fn inject_panic(&'static self, site: Site) {
        self.faults.arm(site);
        if site == Site::Timer {
            self.timer().armed(self.now_ns().max(1));
        }
    }

    // ---- ports -------------------------------------------------------------------------

    /// Registers a new port (before its thread exists).
    pub fn new_port(&self) -> Arc<Port> {
        self.register_port(Port::new)
    }

    /// Registers the port `make` builds from a fresh id.
    pub(crate) fn register_port(&self, make: impl FnOnce(PortId) -> Port) -> Arc<Port> {
        let port = Arc::new(make(self.id()));
        self.ports.write().insert(port.id, port.clone());
        port
    }

    /// Looks a port up.
    pub fn port(&self, id: PortId) -> Option<Arc<Port>> {
        self.ports.read().get(&id).cloned()
    }

    /// The port's thread is gone (or will never start): delivers what is left in its outbox,
    /// forgets it, and tells the supervisor of an actor still bound to it
    /// ([`Kind::ThreadEnded`]). Idempotent.
    pub fn close_port(&'static self, id: PortId) {
        let port = self.ports.write().remove(&id);
        if let Some(p) = port {
            self.flush_outbox(&p);
            if let Some(actor) = p.close().and_then(Actor::from_bound) {
                self.host_event(&actor, Kind::ThreadEnded, id.to_string());
            }
        }
    }

    /// Delivers, in order, the mail the port's thread wrote to its outbox since the last drain
    /// (sent by the actor bound to it); returns how many messages that was. Targets found dead
    /// for good are noted on the port.
    pub fn flush_outbox(&'static self, port: &Port) -> usize {
        let Some(outbox) = port.outbox_if_any() else {
            return 0;
        };
        if !Outbox::pending(port.control()) {
            return 0;
        }
        let sender = Actor::bound_to(port);
        let mut from = sender.as_ref().map_or(0, |a| a.id);
        let mut sup = sender.as_ref().map_or(0, |a| a.sup_id);
        let pool = port.is_pool();
        // Consecutive mail to one target is queued under one lock. A panic while a run is
        // delivered is caught and reported; what of the run it interrupted is lost (and the
        // report says how much was in it), the rest of the outbox is delivered as usual.
        let deliver_run = |target: u64, run: &mut Vec<Envelope>, sup: u64| {
            if run.is_empty() {
                return;
            }
            let count = run.len();
            let delivered = panics::catch(|| {
                self.faults.trip(Site::Drain);
                match self.actor(target) {
                    Some(a) => a
                        .deliver_all(run.drain(..))
                        .into_iter()
                        .fold(false, |dead, o| {
                            let refused = self.outcome(&a, o); // every refusal is a dead letter
                            dead || refused == Err(SendError::Dead)
                        }),
                    None => {
                        for env in run.drain(..) {
                            let _ = self.send(target, env, None, sup);
                        }
                        true
                    }
                }
            });
            match delivered {
                Ok(true) => port.note_dead(target),
                Ok(false) => {}
                Err(message) => {
                    run.clear();
                    let lost = format!("{message} ({count} message(s) to actor-{target} lost)");
                    self.report_panic(sup, "outbox drain", &lost);
                }
            }
        };
        // The drain holds the drain lock until the last run is queued (another drain cannot
        // overtake), and frees the ring space only then: a flush that finds nothing pending
        // knows that everything its thread sent before is delivered.
        let mut drain = outbox.drain(port.control());
        if pool {
            (from, sup) = self.pool_sender(port, port.outbox_sender().to_string().as_bytes());
        }
        let mut run = Vec::new();
        let mut run_target = 0u64;
        let mut n = 0;
        let mut emits = Vec::new();
        // Events go out as the actor the thread ran last, even if it was unbound meanwhile (a
        // hang killed after `self.send`): its subscribers still get what it emitted.
        let emitter = if pool {
            None
        } else {
            sender.clone().or_else(|| self.actor(port.actor_id()))
        };
        // Consecutive acknowledgements of one actor's incarnation are counted together and
        // applied as one (before the drain ends, so before a lost worker's exits are reported).
        let mut acks = crate::pooled::Acks::default();
        while let Some(record) = drain.next_record() {
            let (target, json) = match record {
                Record::Text(target, json) => (u64::from(target), json),
                Record::Ack {
                    actor,
                    incarnation,
                    n,
                } => {
                    // A pool worker's acknowledgement, read from its words (see `crate::pooled`).
                    if pool {
                        acks.count(self, port, actor, incarnation, n as usize);
                    }
                    continue;
                }
            };
            if pool && target == 0 && json.first() == Some(&b'!') {
                // A pool worker's acknowledgement of messages handled by the sender named last,
                // or by the actor it names (see `crate::pooled`): no native call per message.
                acks.record(self, port, from, &json[1..]);
                continue;
            }
            if !pool && target == 0 {
                // An isolated actor's `self.send`: an event for its supervisor's subscribers
                // (queued below, all under one lock of the supervisor's port).
                if let Some(a) = &emitter {
                    let body = record_text(json);
                    emits.push(Envelope::new(
                        Kind::Emit,
                        a.id,
                        a.incarnation() as u64,
                        body,
                    ));
                    n += 1;
                }
                continue;
            }
            if pool && target == 0 {
                // A pool worker's record naming the sender of the records that follow: one of
                // its own actors, or their mail is refused (see `crate::pooled`).
                deliver_run(run_target, &mut run, sup);
                run_target = 0;
                (from, sup) = self.pool_sender(port, &json);
                port.set_outbox_sender(record_id(&json));
                continue;
            }
            if target != run_target {
                deliver_run(run_target, &mut run, sup);
                run_target = target;
            }
            let body = record_text(json);
            if pool && from == 0 {
                self.dead_letter(
                    sup,
                    target,
                    SendError::Stale.reason(),
                    &Envelope::new(Kind::User, 0, 0, body),
                );
                continue;
            }
            run.push(Envelope::new(Kind::User, from, 0, body));
            n += 1;
        }
        deliver_run(run_target, &mut run, sup);
        acks.apply(self, port);
        if let (Some(a), false) = (&emitter, emits.is_empty()) {
            // Each event is an implicit heartbeat (as in `emit`) of the actor still bound to
            // the thread; the watchdog and leases are refreshed once for the drain.
            if sender.is_some() {
                let now = wall_clock_ms();
                let fresh = emits.iter().fold(false, |f, _| a.heartbeat(now) | f);
                if fresh {
                    self.arm_watchdog(a);
                    self.extend_leases(a);
                }
            }
            if let Some(s) = self.supervisor(a.sup_id) {
                s.port.push_urgent_all(emits);
            }
        }
        drop(drain);
        n
    }

    /// The outbox of `port`'s thread (created on first use; from then on the timer thread
    /// also sweeps it).
    pub fn open_outbox(&'static self, port: &Port) -> Arc<Outbox> {
        let outbox = port.outbox().clone();
        self.sweeping.store(1, Ordering::SeqCst);
        self.start_sweeping();
        outbox
    }

    /// The word that says whether the timer thread sweeps outboxes (1) or stopped (0). A JS
    /// thread reads it (through a view, without a native call) right after it published a
    /// record into its outbox, and calls [`Runtime::resume_sweeping`] when it reads 0. Why no
    /// record is left unswept: the sweep stores 0 and then looks at every outbox once more; the
    /// thread stores its outbox head and then reads the word, both sequentially consistent, so
    /// either the sweep's look sees the record (and sweeping goes on) or the thread reads 0.
    pub fn sweep_word(&self) -> &AtomicU32 {
        &self.sweeping
    }

    /// A thread published outbox mail while the sweeping was off: starts it again (once, however
    /// many threads ask).
    pub fn resume_sweeping(&'static self) {
        if self.sweeping.swap(1, Ordering::SeqCst) == 0 {
            self.start_sweeping();
        }
    }

    fn start_sweeping(&'static self) {
        self.sweep_every.store(SWEEP_MIN_NS, Ordering::Relaxed);
        self.sweep_quiet.store(0, Ordering::Relaxed);
        self.timer().armed(self.now_ns() + SWEEP_MIN_NS);
    }

    /// Timer tick: drains the outboxes of worker threads that stopped draining them (a hang
    /// after a send). Returns when to look again: never while no thread has an outbox, nor
    /// after [`SWEEP_QUIET_PASSES`] sweeps that found nothing (until a thread publishes again).
    pub(crate) fn sweep_outboxes(&'static self, now: u64) -> u64 {
        if self.sweeping.load(Ordering::SeqCst) == 0 {
            return u64::MAX;
        }
        let ports: Vec<Arc<Port>> = self
            .ports
            .read()
            .values()
            .filter(|p| p.outbox_if_any().is_some())
            .cloned()
            .collect();
        let moved: usize = ports.iter().map(|p| self.flush_outbox(p)).sum();
        if ports.is_empty() {
            return u64::MAX;
        }
        if moved > 0 {
            self.sweep_every.store(SWEEP_MIN_NS, Ordering::Relaxed);
            self.sweep_quiet.store(0, Ordering::Relaxed);
            return now + SWEEP_MIN_NS;
        }
        if self.sweep_quiet.fetch_add(1, Ordering::Relaxed) + 1 >= SWEEP_QUIET_PASSES {
            self.sweeping.store(0, Ordering::SeqCst);
            // The last look, after the store (see `sweep_word`): a record published before
            // its writer could read 0 is seen here.
            std::sync::atomic::fence(Ordering::SeqCst);
            if !ports.iter().any(|p| Outbox::pending(p.control())) {
                return u64::MAX;
            }
            self.sweeping.store(1, Ordering::SeqCst);
            self.sweep_quiet.store(0, Ordering::Relaxed);
            return now + SWEEP_MIN_NS;
        }
        let every = (self.sweep_every.load(Ordering::Relaxed) * 2).min(SWEEP_MAX_NS);
        self.sweep_every.store(every, Ordering::Relaxed);
        now + every
    }

    /// Number of registered ports (threads known to the core, plus supervisor ports).
    pub fn port_count(&self) -> usize {
        self.ports.read().len()
    }

    // ---- supervisors -------------------------------------------------------------------

    /// Creates a supervisor with its own host port and root group.
    pub fn create_supervisor(&self, config: SupervisorConfig) -> Arc<Supervisor> {
        let port = self.new_port();
        let sup = Arc::new(Supervisor::new(self.id(), port, config, self.id()));
        self.sups.write().insert(sup.id, sup.clone());
        sup
    }

    /// Makes supervisor `sup_id` sample `metrics` at `rate` (0..=1). Call it before the
    /// supervisor's first spawn; actors spawned earlier are not tracked. False if the
    /// supervisor is unknown or already tracks metrics.
    pub fn track(&self, sup_id: u64, metrics: &[Metric], rate: f64) -> bool {
        let Some(s) = self.supervisor(sup_id) else {
            return false;
        };
        match Tracker::new(metrics, rate) {
            Some(t) => s.metrics.set(Arc::new(t)).is_ok(),
            None => true,
        }
    }

    /// Creates a group under `parent` in supervisor `sup_id`; returns its id.
    pub fn create_group(
        &self,
        sup_id: u64,
        parent: u64,
        config: GroupConfig,
    ) -> Result<u64, SpawnError> {
        let sup = self.supervisor(sup_id).ok_or(SpawnError::Closed)?;
        let id = self.id();
        sup.add_group(id, parent, config)?;
        Ok(id)
    }

    /// Looks a supervisor up.
    pub fn supervisor(&self, id: u64) -> Option<Arc<Supervisor>> {
        self.sups.read().get(&id).cloned()
    }

    /// Every live supervisor.
    pub(crate) fn supervisors(&self) -> Vec<Arc<Supervisor>> {
        self.sups.read().values().cloned().collect()
    }

    /// Forgets a supervisor after its shutdown finished.
    pub fn drop_supervisor(&'static self, id: u64) {
        // The registry lock is a leaf: released before closing the port, which may look
        // supervisors up (a `if let` on the guard would hold it through the block).
        let sup = self.sups.write().remove(&id);
        self.templates.lock().retain(|_, t| t.sup_id != id);
        if let Some(sup) = sup {
            self.close_port(sup.port.id);
        }
    }

    // ---- actors ------------------------------------------------------------------------

    /// Creates a supervised actor in `group` (the root group when `None`); no thread yet.
    pub fn spawn(
        &'static self,
        sup_id: u64,
        config: ActorConfig,
        group: Option<u64>,
    ) -> Result<Arc<Actor>, SpawnError> {
        let ids = self.spawn_batch(sup_id, config, group, 1)?;
        Ok(self.actor(ids[0]).expect("just spawned"))
    }

    /// [`Runtime::spawn`] of `count` actors with one `config` (`spawnMany`), all sharing one
    /// copy of it. All or nothing: if one is refused, those already created end at once (as
    /// if shut down) and the error is returned.
    pub fn spawn_many(
        &'static self,
        sup_id: u64,
        config: &ActorConfig,
        group: Option<u64>,
        count: usize,
    ) -> Result<Vec<u64>, SpawnError> {
        self.spawn_batch(sup_id, config.clone(), group, count)
    }

    /// Spawns in chunks: per chunk, one take of the registry lock for the ids, one of the
    /// supervisor's locks for the children, one of the registry lock for the records. Each
    /// actor costs its record and O(1) entries; nothing is allocated per actor besides.
    pub(crate) fn spawn_batch(
        &'static self,
        sup_id: u64,
        config: ActorConfig,
        group: Option<u64>,
        count: usize,
    ) -> Result<Vec<u64>, SpawnError> {
        self.spawn_batch_keeping(sup_id, config, group, count, None)
    }

    /// [`Runtime::spawn_batch`], also handing the new actors' records to `keep` (in order), for a
    /// caller that works on them next (no lookup of each by its id).
    pub(crate) fn spawn_batch_keeping(
        &'static self,
        sup_id: u64,
        config: ActorConfig,
        group: Option<u64>,
        count: usize,
        mut keep: Option<&mut Vec<Arc<Actor>>>,
    ) -> Result<Vec<u64>, SpawnError> {
        const CHUNK: usize = 4096;
        let sup = self.supervisor(sup_id).ok_or(SpawnError::Closed)?;
        if config.timeout_ms > 0 || config.heartbeat_ms > 0 {
            self.timer(); // started now, so that `arm_watchdog` (from `bind`) finds it
        }
        let config = sup.shared_config(config);
        let group = group.unwrap_or_else(|| sup.root_group());
        let mut ids = Vec::with_capacity(count);
        let mut made: Vec<Arc<Actor>> = Vec::with_capacity(count.min(CHUNK));
        let mut reserved: Vec<u64> = Vec::with_capacity(count.min(CHUNK));
        let mut refused = None;
        while ids.len() < count && refused.is_none() {
            let n = CHUNK.min(count - ids.len());
            made.clear();
            reserved.clear();
            {
                // (the registry is locked for the ids only: the records are made outside)
                let mut actors = self.actors.write();
                for _ in 0..n {
                    let Ok(id) = actors.reserve() else {
                        refused = Some(SpawnError::MaxActors(MAX_SLOTS));
                        break;
                    };
                    reserved.push(id);
                }
            }
            let now = Actor::clock_ns(); // (one clock read per chunk)
            made.extend(
                reserved
                    .iter()
                    .map(|id| Arc::new(Actor::created_at(*id, sup_id, config.clone(), now))),
            );
            let added = match sup.add_children(&made, group) {
                Ok(()) => made.len(),
                Err((i, e)) => {
                    refused = Some(e);
                    i
                }
            };
            let mut actors = self.actors.write();
            for (i, a) in made.iter().enumerate() {
                if i < added {
                    actors.insert(a.id, a.clone());
                    ids.push(a.id);
                } else {
                    actors.remove(a.id); // refused: its id is never seen
                }
            }
            drop(actors);
            if let Some(keep) = keep.as_deref_mut() {
                keep.extend(made.drain(..added));
            }
        }
        if let Some(e) = refused {
            if let Some(keep) = keep {
                keep.clear();
            }
            for id in ids.iter().rev() {
                self.finish(*id, "shutdown");
            }
            return Err(e);
        }
        Ok(ids)
    }

    /// What the core holds for its actors, per structure, in bytes (an estimate from sizes and
    /// capacities: the allocator's own overhead per block is not included). For the memory
    /// example (`crate/examples/core_memory.rs`) and bench/RESULTS.md.
    pub fn footprint(&self) -> Vec<(&'static str, usize)> {
        let actors = self.actors.read();
        let records =
            actors.len() * (std::mem::size_of::<Actor>() + 2 * std::mem::size_of::<usize>());
        let mut out = vec![
            ("actor records (Actor + Arc counts)", records),
            ("registry: generational slab slots", actors.bytes()),
        ];
        drop(actors);
        let mut add =
            |name: &'static str, bytes: usize| match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, b)) => *b += bytes,
                None => out.push((name, bytes)),
            };
        for s in self.supervisors() {
            for (name, bytes) in s.footprint() {
                add(name, bytes);
            }
        }
        let ports: Vec<Arc<Port>> = self.ports.read().values().cloned().collect();
        add(
            "pool ports: members",
            ports.iter().map(|p| p.member_bytes()).sum(),
        );
        out
    }

    /// Looks an actor up (only actors not dead for good are registered).
    pub fn actor(&self, id: u64) -> Option<Arc<Actor>> {
        self.actors.read().get(id).cloned()
    }

    /// Looks actors up under one take of the registry lock.
    pub fn actors_of(&self, ids: &[u64]) -> Vec<Option<Arc<Actor>>> {
        let actors = self.actors.read();
        ids.iter().map(|id| actors.get(*id).cloned()).collect()
    }

    /// Number of actors not dead for good, across supervisors.
    pub fn actor_count(&self) -> usize {
        self.actors.read().len()
    }

    /// Starts an incarnation of `actor_id` on the thread of `port_id`: binds them and queues
    /// the start order `init` (JSON) on the port. Returns the incarnation.
    pub fn bind(&self, actor_id: u64, port_id: PortId, init: String) -> Option<u32> {
        let actor = self.actor(actor_id)?;
        let port = self.port(port_id)?;
        port.bind(actor.clone());
        let inc = actor.bind(port.clone());
        self.arm_watchdog(&actor);
        port.push_urgent(Envelope::new(Kind::Init, 0, inc as u64, init));
        Some(inc)
    }

    /// "Still alive": records the heartbeat, re-arms the watchdog and extends box leases.
    pub fn heartbeat(&'static self, actor: &Actor, now_ms: f64) {
        actor.heartbeat(now_ms);
        self.arm_watchdog(actor);
        self.extend_leases(actor);
    }

    /// An actor's Tier 1 emit (`self.send`) to its supervisor's port. Every emit is also an
    /// implicit heartbeat (Future's `self.send` updates `lastHeartbeatAt`), recorded before the
    /// message leaves so that a subscriber that sees it also sees the heartbeat. Counted every
    /// time; the watchdog and the box leases are refreshed by the first emit of each
    /// millisecond only, so a burst of sends does not pay for them per message.
    pub fn emit(&'static self, actor: &Actor, body: String) -> bool {
        if actor.heartbeat(wall_clock_ms()) {
            self.arm_watchdog(actor);
            self.extend_leases(actor);
        }
        self.host_event(actor, Kind::Emit, body)
    }

    /// Re-arms `actor`'s heartbeat watchdog (at start and on each heartbeat).
    pub fn arm_watchdog(&self, actor: &Actor) {
        if actor.config.heartbeat_ms == 0 {
            return; // (no clock read for the actors without a watchdog)
        }
        let d = actor.arm_watchdog(self.now_ns());
        if d != 0 {
            if let Some(t) = self.timer.get() {
                t.arm(actor.id, d);
            }
        }
    }

    /// Delivers mail to `target`. A message that cannot be delivered (or is dropped to make
    /// room) is a dead letter of `report_sup`, or of the target's supervisor when known: it is
    /// counted and reported to that supervisor's host port.
    pub fn send(
        &self,
        target: u64,
        env: Envelope,
        incarnation: Option<u32>,
        report_sup: u64,
    ) -> Result<(), SendError> {
        match self.actor(target) {
            Some(actor) => self.deliver(&actor, env, incarnation),
            None => {
                self.dead_letter(report_sup, target, SendError::NoProc.reason(), &env);
                Err(SendError::NoProc)
            }
        }
    }

    /// Delivers mail to an actor the caller already holds (see [`Runtime::send`]).
    pub fn deliver(
        &self,
        actor: &Actor,
        env: Envelope,
        incarnation: Option<u32>,
    ) -> Result<(), SendError> {
        self.outcome(actor, actor.deliver(env, incarnation))
    }

    /// Delivers `env` (no incarnation check) to `target` like [`Runtime::send`], but leaves the
    /// wake to the caller: a port that must be rung is added to `wake` (once), so a batch of
    /// sends to many actors rings each worker once, not once per message.
    pub fn deliver_quiet(
        &self,
        target: u64,
        env: Envelope,
        report_sup: u64,
        wake: &mut Vec<Arc<Port>>,
    ) -> Result<(), SendError> {
        let Some(actor) = self.actor(target) else {
            self.dead_letter(report_sup, target, SendError::NoProc.reason(), &env);
            return Err(SendError::NoProc);
        };
        let (outcome, port) = actor.deliver_quiet(env);
        if let Some(p) = port {
            if wake.len() >= 64 {
                p.ring(); // (many distinct threads: no scan)
            } else if !wake.iter().any(|w| Arc::ptr_eq(w, &p)) {
                wake.push(p);
            }
        }
        self.outcome(&actor, outcome)
    }

    /// Reports what a delivery to `actor` could not queue as dead letters.
    fn outcome(
        &self,
        actor: &Actor,
        outcome: Result<crate::actor::Delivered, crate::actor::Refused>,
    ) -> Result<(), SendError> {
        match outcome {
            Ok(crate::actor::Delivered::Queued) => Ok(()),
            Ok(crate::actor::Delivered::DroppedOldest(old)) => {
                self.dead_letter(
                    actor.sup_id,
                    actor.id,
                    "mailbox full (dropped oldest)",
                    &old,
                );
                Ok(())
            }
            Err(refused) => {
                self.dead_letter(
                    actor.sup_id,
                    actor.id,
                    refused.error.reason(),
                    &refused.envelope,
                );
                Err(refused.error)
            }
        }
    }

    /// Counts a dead letter for `sup_id` and reports it on its host port.
    pub fn dead_letter(&self, sup_id: u64, target: u64, reason: &str, env: &Envelope) {
        let Some(s) = self.supervisor(sup_id) else {
            return;
        };
        s.stats.dead_letters.fetch_add(1, Ordering::Relaxed);
        let body = if env.body.is_empty() {
            "null"
        } else {
            &env.body
        };
        let report = format!("[{},{}]", json_string(reason), body);
        s.port
            .push_urgent(Envelope::new(Kind::DeadLetter, env.from, target, report));
    }

    /// The thread of `port` asks for its next batch of at most `max` messages (acknowledging
    /// what its progress counter says it handled).
    pub fn pop(&'static self, port: &Port, actor: &Actor, max: usize) -> Option<String> {
        let (text, deadline) = actor.pop(port.control().handled(), max, self.now_ns())?;
        if deadline != 0 {
            self.timer().arm(actor.id, deadline);
        }
        Some(text)
    }

    /// Routes a reply to port `to`. False if that port is gone (a late reply is dropped).
    pub fn reply(&self, to: PortId, corr: u64, body: String) -> bool {
        match self.port(to) {
            Some(p) => p.push_urgent(Envelope::new(Kind::Reply, 0, corr, body)),
            None => false,
        }
    }

    fn fail_call(&self, env: &Envelope, reason: &str) {
        if env.kind == Kind::Call && env.reply_to != 0 {
            self.reply(
                env.reply_to,
                env.corr,
                format!("[0,{}]", json_string(reason)),
            );
        }
    }

    /// Sends a host event about `actor` (`from` = the actor, `corr` = its incarnation) to its
    /// supervisor's port.
    pub fn host_event(&self, actor: &Actor, kind: Kind, body: String) -> bool {
        let env = Envelope::new(kind, actor.id, actor.incarnation() as u64, body);
        self.to_host(actor, env)
    }

    /// Pushes `env` to the port of `actor`'s supervisor.
    fn to_host(&self, actor: &Actor, env: Envelope) -> bool {
        match self.supervisor(actor.sup_id) {
            Some(s) => s.port.push_urgent(env),
            None => false,
        }
    }

    fn deadline_passed(&self, actor: &Arc<Actor>) {
        self.host_event(actor, Kind::Timeout, String::new());
    }

    /// The thread running `actor_id` is gone with `reason`. Replies to a call in flight with
    /// the reason, and decides what happens next. The mailbox is kept.
    pub fn thread_gone(
        &'static self,
        actor_id: u64,
        reason: &str,
        decision: Option<Decision>,
    ) -> Option<ExitOutcome> {
        let actor = self.actor(actor_id)?;
        let sup = self.supervisor(actor.sup_id)?;
        Some(self.incarnation_over(&actor, &sup, reason, decision, Instant::now()))
    }

    /// [`Runtime::thread_gone`] of an actor and its supervisor the caller already holds, at
    /// `now` (one reading of the clock for many exits).
    pub(crate) fn incarnation_over(
        &'static self,
        actor: &Actor,
        sup: &Supervisor,
        reason: &str,
        decision: Option<Decision>,
        now: Instant,
    ) -> ExitOutcome {
        if let Some(p) = actor.port() {
            self.flush_outbox(&p); // what it sent before it died arrives before its exit signals
        }
        let report = actor.thread_gone(reason);
        self.release_boxes_of(sup, actor);
        self.propagate_exit(actor, report.incarnation, reason);
        let mut in_flight = None;
        if let Some(env) = report.in_flight {
            self.fail_call(&env, reason);
            let mut text = String::new();
            env.write_json(&mut text);
            in_flight = Some(text);
        }
        let plan = sup.exited(actor, reason, now, decision);
        ExitOutcome {
            plan,
            incarnation: report.incarnation,
            in_flight,
        }
    }

    // ---- links and monitors ------------------------------------------------------------

    /// Links two live actors; `NoProc` if either is not alive.
    pub fn link(&self, a: u64, b: u64) -> Result<(), SendError> {
        if !self.alive(a) || !self.alive(b) {
            return Err(SendError::NoProc);
        }
        self.links.lock().link(a, b);
        Ok(())
    }

    /// The actors linked to `actor`.
    pub(crate) fn linked_to(&self, actor: u64) -> Vec<u64> {
        self.links.lock().peers(actor)
    }

    /// Removes a link.
    pub fn unlink(&self, a: u64, b: u64) {
        self.links.lock().unlink(a, b);
    }

    /// `watcher` monitors `watched`; returns the monitor reference. Monitoring an actor that
    /// is not alive delivers `DOWN` with reason `noproc` at once.
    pub fn monitor(&self, watcher: u64, watched: u64) -> u64 {
        let reference = self.id();
        if self.alive(watched) {
            self.links.lock().monitor(watcher, watched, reference);
        } else {
            self.deliver_down(watcher, watched, reference, "noproc", None);
        }
        reference
    }

    /// Removes a monitor; false if it already fired or never existed.
    pub fn demonitor(&self, reference: u64) -> bool {
        self.links.lock().demonitor(reference)
    }

    /// Sets whether `actor` turns exit signals of linked actors into `EXIT` messages.
    pub fn trap_exits(&self, actor: u64, on: bool) {
        self.links.lock().trap_exits(actor, on);
    }

    /// True while an incarnation exists (starting or running): links and monitors bind
    /// incarnations, so an actor between incarnations counts as not alive.
    fn alive(&self, id: u64) -> bool {
        use crate::actor::ActorState;
        self.actor(id)
            .is_some_and(|a| matches!(a.state(), ActorState::Starting | ActorState::Running))
    }

    /// Carries out what an ended incarnation means for its links and monitors.
    fn propagate_exit(&self, actor: &Actor, incarnation: u32, reason: &str) {
        let fallout = self.links.lock().exited(actor.id, reason);
        if !fallout.kill.is_empty() {
            // (most actors have no links: nothing is formatted for them)
            let linked = json_string(&format!("linked: {reason}"));
            for peer in fallout.kill {
                if let Some(p) = self.actor(peer) {
                    self.host_event(&p, Kind::Exit, linked.clone());
                }
            }
        }
        for peer in fallout.exit_messages {
            let body = serde_json::json!({
                "msg": "EXIT",
                "data": { "id": format!("actor-{}", actor.id), "reason": reason },
            })
            .to_string();
            let _ = self.send(
                peer,
                Envelope::new(Kind::System, 0, 0, body),
                None,
                actor.sup_id,
            );
        }
        for (watcher, reference) in fallout.down {
            self.deliver_down(watcher, actor.id, reference, reason, Some(incarnation));
        }
    }

    /// Sends `DOWN` to `watcher`'s handler and to its host-side subscribers.
    fn deliver_down(
        &self,
        watcher: u64,
        watched: u64,
        reference: u64,
        reason: &str,
        incarnation: Option<u32>,
    ) {
        let body = serde_json::json!({
            "msg": "DOWN",
            "data": {
                "id": format!("actor-{watched}"),
                "reason": reason,
                "ref": format!("ref-{reference}"),
                "incarnation": incarnation,
            },
        })
        .to_string();
        let Some(w) = self.actor(watcher) else {
            return;
        };
        self.to_host(&w, Envelope::new(Kind::Down, watched, w.id, body.clone()));
        let _ = self.deliver(&w, Envelope::new(Kind::System, 0, 0, body), None);
    }

    /// A monitor `watcher` holds on an actor of another node fired (the cluster layer built
    /// the `DOWN` JSON): delivered to its handler and its host-side subscribers like a local
    /// `DOWN`. False if `watcher` is not alive.
    pub fn remote_down(&self, watcher: u64, body: String) -> bool {
        if !self.alive(watcher) {
            return false;
        }
        let Some(w) = self.actor(watcher) else {
            return false;
        };
        self.to_host(&w, Envelope::new(Kind::Down, 0, w.id, body.clone()));
        self.deliver(&w, Envelope::new(Kind::System, 0, 0, body), None)
            .is_ok()
    }

    /// An actor of another node (`from`, its `actor-N@node` text) linked to `actor` ended with
    /// `reason`: the same exit signal a local link gives (stop with `linked: <reason>`, or an
    /// `EXIT` message when trapping exits; nothing for `normal`). False if `actor` is not alive.
    pub fn remote_exit(&self, actor: u64, from: &str, reason: &str) -> bool {
        if !self.alive(actor) {
            return false;
        }
        let Some(a) = self.actor(actor) else {
            return false;
        };
        if reason == "normal" {
            return true;
        }
        if self.links.lock().traps_exits(actor) {
            let body = serde_json::json!({
                "msg": "EXIT",
                "data": { "id": from, "reason": reason },
            })
            .to_string();
            self.deliver(&a, Envelope::new(Kind::System, 0, 0, body), None)
                .is_ok()
        } else {
            self.host_event(&a, Kind::Exit, json_string(&format!("linked: {reason}")))
        }
    }

    /// Counts a restart and returns the new incarnation number.
    pub fn restart(&self, actor_id: u64) -> Option<u32> {
        let actor = self.actor(actor_id)?;
        let sup = self.supervisor(actor.sup_id)?;
        if !actor.config.internal {
            sup.stats.restarts.fetch_add(1, Ordering::Relaxed);
        }
        sup.started(actor_id);
        Some(actor.next_incarnation())
    }

    /// `actor_id` is dead for good: frees its name, fails the calls waiting in its mailbox
    /// with `reason`, and reports the undelivered mail as dead letters. False if unknown.
    pub fn finish(&self, actor_id: u64, reason: &str) -> bool {
        let Some(actor) = self.actors.write().remove(actor_id) else {
            return false;
        };
        // Out of its supervisor's children before it is marked dead, so that the supervisor's
        // live count (a counter, not a scan) never includes a dead actor.
        if let Some(sup) = self.supervisor(actor.sup_id) {
            sup.remove_child(actor_id);
        }
        self.dead_letters_of(&actor, reason);
        true
    }

    /// [`Runtime::finish`] of an actor of `sup`, which the caller holds.
    pub(crate) fn finish_in(&self, sup: &Supervisor, actor_id: u64, reason: &str) -> bool {
        let Some(actor) = self.actors.write().remove(actor_id) else {
            return false;
        };
        sup.remove_child(actor_id); // (before it is marked dead, as in `finish`)
        self.dead_letters_of(&actor, reason);
        true
    }

    /// Marks `actor` dead and reports its undelivered mail as dead letters (failing the calls).
    fn dead_letters_of(&self, actor: &Actor, reason: &str) {
        for e in actor.finish().iter().filter(|e| is_mail(e.kind)) {
            self.fail_call(e, reason);
            self.dead_letter(actor.sup_id, actor.id, reason, e);
        }
    }

    /// Diagnostics of one live actor as JSON.
    pub fn actor_diagnostics(&self, actor_id: u64) -> Option<String> {
        let actor = self.actor(actor_id)?;
        let name = self
            .supervisor(actor.sup_id)
            .and_then(|s| s.name_of(actor_id));
        Some(actor.diagnostics(name).to_string())
    }

    /// Registers `name` for a live actor in its supervisor.
    pub fn register(&self, actor_id: u64, name: &str) -> Result<(), SpawnError> {
        let actor = self.actor(actor_id).ok_or(SpawnError::Closed)?;
        let sup = self.supervisor(actor.sup_id).ok_or(SpawnError::Closed)?;
        sup.register(actor_id, name)
    }

    /// The live supervision tree of a supervisor: groups with their strategy, and actors (with
    /// their diagnostics) in start order. Internal actors are left out.
    pub fn inspect(&self, sup_id: u64) -> Option<String> {
        let s = self.supervisor(sup_id)?;
        let describe = |id: u64| -> serde_json::Value {
            match self.actor(id) {
                Some(a) if !a.config.internal => {
                    let mut v = a.diagnostics(s.name_of(id));
                    v["type"] = "actor".into();
                    v
                }
                _ => serde_json::Value::Null,
            }
        };
        let mut tree = s.snapshot(&describe);
        prune_nulls(&mut tree);
        Some(tree.to_string())
    }

    /// Diagnostics of one supervisor as JSON; `view` says which actors it lists: every one
    /// (`actors`), none, counts by state (`actorsByState`), or a page in start order.
    pub fn supervisor_diagnostics(&self, sup_id: u64, view: ActorsView) -> Option<String> {
        let s = self.supervisor(sup_id)?;
        let describe = |list: Vec<Arc<Actor>>| -> serde_json::Value {
            list.iter()
                .filter(|a| !a.config.internal)
                .map(|a| a.diagnostics(s.name_of(a.id)))
                .collect()
        };
        let mut out = serde_json::json!({
            "activeActors": s.active(),
            "totalActorsSpawned": s.stats.spawned.load(Ordering::Relaxed),
            "totalActorsTerminated": s.stats.terminated.load(Ordering::Relaxed),
            "restarts": s.stats.restarts.load(Ordering::Relaxed),
            "deadLetters": s.stats.dead_letters.load(Ordering::Relaxed),
            "metrics": s.metrics.get().map(|m| m.summary()),
        });
        match view {
            ActorsView::All => out["actors"] = describe(s.children()),
            ActorsView::Page { offset, limit } => {
                out["actors"] = describe(s.children_page(offset, limit));
            }
            ActorsView::Summary => {
                let c = s.state_counts();
                out["actorsByState"] = serde_json::json!({
                    "starting": c.starting,
                    "running": c.running,
                    "restarting": c.restarting,
                });
            }
            ActorsView::None => {}
        }
        Some(out.to_string())
    }
}

fn prune_nulls(v: &mut serde_json::Value) {
    if let Some(children) = v.get_mut("children").and_then(|c| c.as_array_mut()) {
        children.retain(|c| !c.is_null());
        children.iter_mut().for_each(prune_nulls);
    }
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()` gives them.
pub fn wall_clock_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{config, Count};
    use crate::tree::Op;
    use std::sync::atomic::AtomicUsize;

    fn leak() -> &'static Runtime {
        Box::leak(Box::new(Runtime::new()))
    }

    #[test]
    fn concurrent_senders_keep_per_sender_fifo() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let actor = rt.spawn(sup.id, ActorConfig::default(), None).unwrap();
        let port = rt.new_port();
        port.set_waker(Arc::new(Count(AtomicUsize::new(0))));
        rt.bind(actor.id, port.id, "{}".into()).unwrap();
        let senders = 4u64;
        let per = 5_000u64;
        let handles: Vec<_> = (0..senders)
            .map(|s| {
                let id = actor.id;
                std::thread::spawn(move || {
                    for i in 0..per {
                        let body = format!("[{s},{i}]");
                        rt.send(id, Envelope::new(Kind::User, s, 0, body), None, 0)
                            .unwrap();
                    }
                })
            })
            .collect();
        let mut next = vec![0u64; senders as usize];
        let mut got = 0u64;
        while got < senders * per {
            match rt.pop(&port, &actor, 64) {
                Some(text) => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    for env in v.as_array().unwrap() {
                        let s = env[3][0].as_u64().unwrap() as usize;
                        let i = env[3][1].as_u64().unwrap();
                        assert_eq!(i, next[s], "per-sender FIFO");
                        next[s] += 1;
                        got += 1;
                    }
                    port.control().set_handled(got as u32);
                }
                None => std::thread::yield_now(),
            }
        }
        for h in handles {
            h.join().unwrap();
        }
    }

    /// A supervisor with two actors, each bound to a port of its own.
    fn two_bound_actors(
        rt: &'static Runtime,
    ) -> (Arc<Supervisor>, [Arc<Actor>; 2], [Arc<Port>; 2]) {
        let sup = rt.create_supervisor(config());
        let actors = [(); 2].map(|_| rt.spawn(sup.id, ActorConfig::default(), None).unwrap());
        let ports = [rt.new_port(), rt.new_port()];
        for (p, a) in ports.iter().zip(&actors) {
            p.set_waker(Arc::new(Count(AtomicUsize::new(0))));
            rt.bind(a.id, p.id, "{}".into()).unwrap();
        }
        (sup, actors, ports)
    }

    #[test]
    fn an_emit_is_a_heartbeat_recorded_before_the_event_is_queued() {
        let rt = leak();
        let (sup, [actor, _], _) = two_bound_actors(rt);
        let d = actor.diagnostics(None);
        assert_eq!(d["heartbeatCount"], 0);
        assert!(d["lastHeartbeatAt"].is_null());
        let before = wall_clock_ms();
        assert!(rt.emit(&actor, r#"["tick"]"#.into()));
        let d = actor.diagnostics(None);
        assert_eq!(d["heartbeatCount"], 1);
        let at = d["lastHeartbeatAt"].as_f64().unwrap();
        assert!(
            at >= before && at <= wall_clock_ms(),
            "wall-clock ms, like Date.now()"
        );
        let events: serde_json::Value =
            serde_json::from_str(&sup.port.take_urgent().unwrap()).unwrap();
        let emits: Vec<_> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e[0] == Kind::Emit as u64)
            .collect();
        assert_eq!(emits.len(), 1);
        assert_eq!(emits[0][1], actor.id);
        assert_eq!(emits[0][3], serde_json::json!(["tick"]));
        // every heartbeat counts; only the first of each millisecond refreshes leases and watchdog
        assert!(actor.heartbeat(at + 10.0));
        assert!(!actor.heartbeat(at + 10.0));
        assert!(actor.heartbeat(at + 11.0));
        assert_eq!(actor.diagnostics(None)["heartbeatCount"], 4);
    }

    #[test]
    fn the_outbox_sweep_stops_while_outboxes_stay_empty_and_a_writer_restarts_it() {
        let rt = leak();
        let (_sup, [_sender, target], [sport, tport]) = two_bound_actors(rt);
        let outbox = sport.outbox().clone(); // (not `open_outbox`: no timer thread yet)
        for _ in 1..SWEEP_QUIET_PASSES {
            assert_ne!(rt.sweep_outboxes(0), u64::MAX, "still sweeping");
        }
        assert_eq!(rt.sweep_outboxes(0), u64::MAX, "quiet long enough: stopped");
        assert_eq!(rt.sweep_word().load(Ordering::SeqCst), 0);
        // A record published now (a thread about to hang) is not swept until its writer, which
        // reads the word after publishing, restarts the sweeping.
        outbox.put(sport.control(), target.id as u32, "1");
        assert_eq!(rt.sweep_outboxes(0), u64::MAX, "stopped until restarted");
        assert!(rt.pop(&tport, &target, 8).is_none());
        rt.resume_sweeping(); // the timer thread sweeps again, within SWEEP_MIN_NS
        assert_eq!(rt.sweep_word().load(Ordering::SeqCst), 1);
        let start = Instant::now();
        let text = loop {
            if let Some(t) = rt.pop(&tport, &target, 8) {
                break t;
            }
            assert!(
                start.elapsed().as_secs() < 10,
                "the timer's sweep delivers it"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert!(text.contains(",1]") || text.contains(",1,"), "{text}");
    }

    #[test]
    fn outbox_mail_arrives_in_order_from_its_sender_and_dead_targets_are_noted() {
        let rt = leak();
        let (sup, [sender, target], [sport, tport]) = two_bound_actors(rt);
        let outbox = sport.outbox().clone();
        for i in 0..10 {
            outbox.put(sport.control(), target.id as u32, &i.to_string());
        }
        outbox.put(sport.control(), 999_999, "\"lost\"");
        outbox.put(sport.control(), target.id as u32, "10");
        rt.flush_outbox(&sport);
        let text = rt.pop(&tport, &target, 64).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let got: Vec<(u64, u64)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[1].as_u64().unwrap(), e[3].as_u64().unwrap()))
            .collect();
        assert_eq!(got, (0..=10).map(|i| (sender.id, i)).collect::<Vec<_>>());
        assert_eq!(sup.stats.dead_letters.load(Ordering::Relaxed), 1);
        assert_eq!(sport.take_dead(), vec![999_999]);
        tport.control().set_handled(11);
        rt.flush_outbox(&sport); // nothing twice
        assert!(rt.pop(&tport, &target, 64).is_none());
    }

    #[test]
    fn remote_down_and_exit_reach_the_handler_and_the_host_like_local_ones() {
        let rt = leak();
        let (sup, [watcher, trapper], [wport, tport]) = two_bound_actors(rt);
        let down =
            r#"{"msg":"DOWN","data":{"id":"actor-7@b","reason":"noconnection","ref":"ref-1@b"}}"#;
        assert!(rt.remote_down(watcher.id, down.to_string()));
        let host = sup.port.take_urgent().unwrap();
        assert!(
            host.starts_with(&format!("[[{},0,{}", Kind::Down as u8, watcher.id)),
            "{host}"
        );
        let mail = rt.pop(&wport, &watcher, 64).unwrap();
        assert!(
            mail.contains("noconnection") && mail.starts_with(&format!("[[{}", Kind::System as u8)),
            "{mail}"
        );
        // Not trapping: the host is told to stop it with `linked: <reason>`.
        assert!(rt.remote_exit(watcher.id, "actor-7@b", "noconnection"));
        let host = sup.port.take_urgent().unwrap();
        assert!(host.contains(r#""linked: noconnection""#), "{host}");
        // Trapping: an EXIT message instead, naming the remote actor; `normal` does nothing.
        rt.trap_exits(trapper.id, true);
        assert!(rt.remote_exit(trapper.id, "actor-7@b", "killed"));
        assert!(rt.remote_exit(trapper.id, "actor-7@b", "normal"));
        assert!(sup.port.take_urgent().is_none());
        let mail = rt.pop(&tport, &trapper, 64).unwrap();
        assert!(
            mail.contains(r#""EXIT""#) && mail.contains("actor-7@b") && mail.contains("killed"),
            "{mail}"
        );
        assert!(
            !rt.remote_down(999_999, down.to_string()),
            "no such watcher"
        );
        assert!(!rt.remote_exit(999_999, "actor-7@b", "killed"));
    }

    #[test]
    fn outbox_events_reach_the_host_in_order_as_their_actor_even_after_an_unbind() {
        let rt = leak();
        let (sup, [sender, target], [sport, _tport]) = two_bound_actors(rt);
        let outbox = sport.outbox().clone();
        outbox.put(sport.control(), 0, r#"["a"]"#);
        outbox.put(sport.control(), target.id as u32, "1");
        outbox.put(sport.control(), 0, r#"["b",2]"#);
        assert_eq!(rt.flush_outbox(&sport), 3);
        let kind = Kind::Emit as u8;
        let id = sender.id;
        assert_eq!(
            sup.port.take_urgent().unwrap(),
            format!(r#"[[{kind},{id},0,["a"]],[{kind},{id},0,["b",2]]]"#)
        );
        let beats = |a: &Actor| a.diagnostics(None)["heartbeatCount"].as_u64();
        assert_eq!(
            beats(&sender),
            Some(2),
            "each event is an implicit heartbeat"
        );
        // A thread whose actor was unbound (killed after emitting) still emits as that actor.
        outbox.put(sport.control(), 0, r#"["c"]"#);
        sport.unbind(sender.id);
        assert_eq!(rt.flush_outbox(&sport), 1);
        assert_eq!(
            sup.port.take_urgent().unwrap(),
            format!(r#"[[{kind},{id},0,["c"]]]"#)
        );
        assert_eq!(
            beats(&sender),
            Some(2),
            "not a heartbeat of an unbound actor"
        );
    }

    #[test]
    fn a_drain_that_panics_is_reported_and_later_mail_still_arrives() {
        let rt = leak();
        let (sup, [_sender, target], [sport, tport]) = two_bound_actors(rt);
        let outbox = sport.outbox().clone();
        outbox.put(sport.control(), target.id as u32, "1");
        rt.faults.arm(Site::Drain);
        rt.flush_outbox(&sport);
        let id = target.id;
        assert_eq!(
            sup.port.take_urgent().unwrap(),
            format!(
                r#"[[20,0,0,"internal panic: outbox drain: test hook: Drain panics on demand (1 message(s) to actor-{id} lost)"]]"#
            )
        );
        assert!(!Outbox::pending(sport.control()), "the outbox moved on");
        outbox.put(sport.control(), target.id as u32, "2");
        rt.flush_outbox(&sport);
        let text = rt.pop(&tport, &target, 64).unwrap();
        assert!(text.ends_with(",2]]"), "{text}");
        assert!(sup.port.take_urgent().is_none());
    }

    #[test]
    fn a_panic_with_no_supervisor_named_is_reported_to_every_supervisor() {
        let rt = leak();
        let sups = [
            rt.create_supervisor(config()),
            rt.create_supervisor(config()),
        ];
        rt.report_panic(0, "timer tick", "boom");
        for s in &sups {
            assert_eq!(
                s.port.take_urgent().unwrap(),
                r#"[[20,0,0,"internal panic: timer tick: boom"]]"#
            );
        }
    }

    #[test]
    fn concurrent_drains_of_one_outbox_keep_its_order() {
        use crate::outbox::OUTBOX_BYTES;
        let rt = leak();
        let (_sup, [_sender, target], [sport, tport]) = two_bound_actors(rt);
        let total = 50_000u64;
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let drainers: Vec<_> = (0..2)
            .map(|_| {
                let (port, done) = (sport.clone(), done.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::Acquire) {
                        rt.flush_outbox(&port);
                    }
                })
            })
            .collect();
        let outbox = sport.outbox().clone();
        let control = sport.control();
        for i in 0..total {
            // like the JS writer: wait for room (here by spinning; JS flushes itself)
            while control.outbox_head().wrapping_sub(control.outbox_tail()) as usize
                > OUTBOX_BYTES - 64
            {
                std::thread::yield_now();
            }
            outbox.put(control, target.id as u32, &i.to_string());
        }
        while control.outbox_head() != control.outbox_tail() {
            std::thread::yield_now();
        }
        done.store(true, Ordering::Release);
        for d in drainers {
            d.join().unwrap();
        }
        let mut next = 0u64;
        while let Some(text) = rt.pop(&tport, &target, 256) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            for env in v.as_array().unwrap() {
                assert_eq!(env[3].as_u64().unwrap(), next, "outbox order");
                next += 1;
            }
            tport.control().set_handled(next as u32);
        }
        assert_eq!(next, total);
    }

    #[test]
    fn death_fails_pending_calls_and_counts_dead_letters() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let caller = rt.new_port();
        let actor = rt.spawn(sup.id, ActorConfig::default(), None).unwrap();
        rt.send(actor.id, Envelope::call(0, 7, "1", caller.id), None, 0)
            .unwrap();
        rt.send(actor.id, Envelope::new(Kind::User, 0, 0, "2"), None, 0)
            .unwrap();
        assert!(rt.finish(actor.id, "terminated"));
        let events = sup.port.take_urgent().unwrap();
        let id = actor.id;
        assert_eq!(
            events,
            format!(r#"[[14,0,{id},["terminated",1]],[14,0,{id},["terminated",2]]]"#)
        );
        let reply = caller.take_urgent().unwrap();
        assert!(reply.contains(r#"[0,"terminated"]"#), "{reply}");
        let d: serde_json::Value =
            serde_json::from_str(&rt.supervisor_diagnostics(sup.id, ActorsView::None).unwrap())
                .unwrap();
        assert_eq!(d["deadLetters"], 2);
        assert_eq!(d["totalActorsTerminated"], 1);
        assert_eq!(
            rt.send(actor.id, Envelope::new(Kind::User, 0, 0, "3"), None, sup.id),
            Err(SendError::NoProc)
        );
        assert!(sup.port.take_urgent().unwrap().contains(r#"["noproc",3]"#));
        let d: serde_json::Value =
            serde_json::from_str(&rt.supervisor_diagnostics(sup.id, ActorsView::None).unwrap())
                .unwrap();
        assert_eq!(d["deadLetters"], 3);
    }

    #[test]
    fn supervisor_diagnostics_list_every_actor_none_a_summary_or_a_page() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let ids: Vec<u64> = (0..5)
            .map(|_| rt.spawn(sup.id, ActorConfig::default(), None).unwrap().id)
            .collect();
        let internal = ActorConfig {
            internal: true,
            ..Default::default()
        };
        rt.spawn(sup.id, internal, None).unwrap();
        let port = rt.new_port();
        rt.bind(ids[1], port.id, "{}".into()).unwrap();
        rt.finish(ids[2], "terminated");
        let get = |view| -> serde_json::Value {
            serde_json::from_str(&rt.supervisor_diagnostics(sup.id, view).unwrap()).unwrap()
        };
        let listed = |d: &serde_json::Value| -> Vec<String> {
            d["actors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect()
        };
        let name = |i: usize| format!("actor-{}", ids[i]);
        let all = get(ActorsView::All);
        assert_eq!(all["activeActors"], 4);
        assert_eq!(listed(&all), vec![name(0), name(1), name(3), name(4)]);
        let none = get(ActorsView::None);
        assert!(none.get("actors").is_none() && none.get("actorsByState").is_none());
        assert_eq!(none["activeActors"], 4);
        let summary = get(ActorsView::Summary);
        assert!(summary.get("actors").is_none());
        assert_eq!(
            summary["actorsByState"],
            serde_json::json!({ "starting": 3, "running": 1, "restarting": 0 })
        );
        let page = get(ActorsView::Page {
            offset: 1,
            limit: 2,
        });
        assert_eq!(listed(&page), vec![name(1), name(3)]);
        let past = get(ActorsView::Page {
            offset: 4,
            limit: 10,
        });
        assert!(listed(&past).is_empty());
    }

    #[test]
    fn crash_reports_in_flight_and_replies_with_reason() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let caller = rt.new_port();
        let actor = rt.spawn(sup.id, ActorConfig::default(), None).unwrap();
        let port = rt.new_port();
        rt.bind(actor.id, port.id, "{}".into()).unwrap();
        rt.send(actor.id, Envelope::call(0, 1, "\"x\"", caller.id), None, 0)
            .unwrap();
        rt.pop(&port, &actor, 16).unwrap();
        let out = rt.thread_gone(actor.id, "error: boom", None).unwrap();
        assert_eq!(
            out.plan,
            vec![Op::Start {
                actor: actor.id,
                delay_ms: 0.0
            }]
        );
        assert!(out.in_flight.unwrap().contains("\"x\""));
        assert!(caller.take_urgent().unwrap().contains("error: boom"));
        assert_eq!(rt.restart(actor.id), Some(1));
    }

    #[test]
    fn a_million_spawns_and_exits_keep_memory_flat_and_never_reuse_an_id() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let pooled = ActorConfig {
            pooled: true,
            ..Default::default()
        };
        let total = |rt: &Runtime| -> usize { rt.footprint().iter().map(|(_, b)| b).sum() };
        let mut seen = std::collections::HashSet::new();
        let round = 20_000;
        // (freed slots are reused once `REUSE_AFTER` of them wait: the second round takes that
        // many fresh slots more, and from then on none)
        let mut after_second = 0;
        for r in 0..50 {
            let ids = rt.spawn_many(sup.id, &pooled, None, round).unwrap();
            for id in &ids {
                assert!(*id < 1 << 53);
                assert!(seen.insert(*id), "actor-{id} spawned twice");
            }
            for id in ids.iter().rev() {
                assert!(rt.finish(*id, "normal"));
            }
            assert_eq!(rt.actor_count(), 0);
            if r == 1 {
                after_second = total(rt);
            }
        }
        assert_eq!(seen.len(), 1_000_000);
        let after_last = total(rt);
        assert!(
            after_last <= after_second,
            "{after_second} bytes after the second round, {after_last} after the 50th"
        );
        let d: serde_json::Value =
            serde_json::from_str(&rt.supervisor_diagnostics(sup.id, ActorsView::None).unwrap())
                .unwrap();
        assert_eq!(d["activeActors"], 0);
        assert_eq!(d["totalActorsTerminated"], 1_000_000);
    }

    #[test]
    fn actors_spawned_with_the_same_options_share_one_copy_of_their_settings() {
        let rt = leak();
        let sup = rt.create_supervisor(config());
        let pooled = ActorConfig {
            pooled: true,
            ..Default::default()
        };
        let a = rt.spawn(sup.id, pooled.clone(), None).unwrap();
        let b = rt.spawn(sup.id, pooled.clone(), None).unwrap();
        assert!(Arc::ptr_eq(&a.config, &b.config), "one by one");
        let many = rt.spawn_many(sup.id, &pooled, None, 3).unwrap();
        for id in &many {
            assert!(Arc::ptr_eq(&rt.actor(*id).unwrap().config, &a.config));
        }
        let named = ActorConfig {
            name: Some("n".into()),
            ..pooled.clone()
        };
        let n = rt.spawn(sup.id, named, None).unwrap();
        assert!(!Arc::ptr_eq(&n.config, &a.config), "a name is its own");
        let c = rt.spawn(sup.id, pooled.clone(), None).unwrap();
        assert!(
            Arc::ptr_eq(&c.config, &a.config),
            "a named spawn in between changes nothing"
        );
        let other = ActorConfig {
            capacity: 5,
            ..pooled
        };
        let d = rt.spawn(sup.id, other, None).unwrap();
        assert!(!Arc::ptr_eq(&d.config, &a.config));
        assert_eq!(d.config.capacity, 5);
    }
}
