//! Ports: one per JS thread that receives from the core (an actor's worker thread, or a
//! supervisor on the host thread).
//!
//! A port has an urgent queue (replies, start and stop orders, host events) and, on worker
//! threads, the actor currently bound to it, whose mailbox it drains one message at a time.
//!
//! A pool worker's port ([`Port::new_pool`]) has many actors bound at once instead, and a ready
//! queue of those with deliverable mail (see [`crate::pooled`]).
//!
//! Wake-ups are coalesced with the `scheduled` flag: a sender rings the waker only when it flips
//! the flag from false to true, the thread drains everything it finds, and on `park` clears the
//! flag and re-checks for work before going idle. One wake therefore drains a whole batch.
//!
//! Why no wake-up is lost: a sender queues under a lock, then swaps the flag to true; a parking
//! thread swaps the flag to false, then looks at the queues under the same locks. If the
//! sender's swap comes first, the parking thread's look comes after the sender's queueing and
//! finds the work; if the parking thread's swap comes first, the sender's swap reads false and
//! rings. Every write of the flag is a read-modify-write (`swap`): on x86 that is the same
//! instruction as a sequentially consistent store, and it keeps loom, whose model lets a plain
//! store slip between the read and the write of another thread's read-modify-write
//! (tokio-rs/loom#254), from reporting a lost wake-up that the memory model rules out. The
//! `loom_model` tests at the end check the protocol.
//!
//! Waiting instead of parking: while traffic is dense, a thread that ran out of work can call
//! [`Port::wait`] instead of [`Port::park`]. It keeps the flag set (so senders still do not ring
//! the waker, whose wake-up goes through the thread's event loop and costs as much as a
//! `postMessage`), raises `waiting`, re-checks for work, and then polls briefly (only while
//! fewer threads poll than there are cores, yielding the core between looks, so pollers never
//! take a core from a thread that has work) and sleeps in the kernel for a bounded time. A sender that finds the flag already set
//! and `waiting` raised lowers `waiting` and unparks the thread. Why no such wake is slept
//! through: the waiter raises `waiting` and then swaps the flag (to true, its value) before it
//! looks at the queues; a sender queues, then swaps the flag, then reads `waiting`. The two
//! swaps of one location are ordered: if the sender's comes later it reads after the waiter
//! raised `waiting`; if the waiter's comes later it looks at the queues after the sender queued.
//! Since the wait is bounded and the thread drains (and only then parks) after it, a late wake
//! would cost latency, never a message; the loom models check that it does not happen either.

pub use crate::control::{ControlBlock, CONTROL_WORDS};
use crate::envelope::{batch_json, Envelope};
use crate::outbox::Outbox;
use crate::slab::{slot_of, Pages};
use crate::sync::{current_thread, park_timeout, AtomicBool, AtomicU64, Mutex, Thread};
use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Threads of the process polling in [`Port::wait`] right now.
static POLLERS: AtomicUsize = AtomicUsize::new(0);

/// Most threads that may poll at once: one per core. A poller yields its core between looks,
/// so pollers beyond the cores would only take turns yielding to each other.
fn max_pollers() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Most urgent envelopes handed to the owning thread per [`Port::take_urgent`].
pub const URGENT_BATCH: usize = 4096;

/// What a port needs of the actor bound to it: its id, and whether it has mail for the thread
/// to take ([`Port::park`] looks). The actor module implements it for its `Actor` and gets that
/// type back from a port with `Actor::bound_to`, so the port does not depend on the actor.
pub trait Bound: Any + Send + Sync {
    /// The actor's id.
    fn id(&self) -> u64;
    /// True when the bound thread should pop.
    fn has_deliverable(&self) -> bool;
}

/// Wakes the event loop of the thread that owns a port. Implemented by the binding layer
/// (a Node-API threadsafe function); tests use plain closures.
pub trait Waker: Send + Sync {
    /// Schedules a drain on the owning thread. Returns false once that thread is gone.
    fn wake(&self) -> bool;
}

/// Identifies a port in the runtime's registry.
pub type PortId = u64;

/// The receiving end of one JS thread.
pub struct Port {
    /// Registry id.
    pub id: PortId,
    scheduled: AtomicBool,
    /// The owning thread is in [`Port::wait`]: a sender that lowers it unparks `owner`.
    waiting: AtomicBool,
    closed: AtomicBool,
    // Lock order (see `Runtime`): the four locks of a port are leaves, each held alone and
    // never while another lock is taken; `actor` may be taken under an actor's state lock.
    waker: Mutex<Option<Arc<dyn Waker>>>,
    owner: Mutex<Option<Thread>>,
    urgent: Mutex<VecDeque<Envelope>>,
    actor: Mutex<Option<Arc<dyn Bound>>>,
    actor_id: AtomicU64,
    control: Arc<ControlBlock>,
    outbox: std::sync::OnceLock<Arc<Outbox>>,
    dead: Mutex<Vec<u64>>,
    pool: std::sync::OnceLock<PoolQueue>,
}

/// What a pool worker's port keeps besides the urgent queue: the actors bound to it and the
/// ready queue of those with deliverable mail (see [`crate::pooled`]).
#[derive(Default)]
pub(crate) struct PoolQueue {
    // Lock order: both are leaves, taken alone or under an actor's state lock.
    ready: Mutex<VecDeque<u64>>,
    /// By the slot of their id (see [`crate::slab`]): no hash-map entry per actor.
    members: Mutex<Pages<Arc<dyn Bound>>>,
    /// The actor the last sender record of the outbox named (read and written by outbox
    /// drains, which the drain lock serialises).
    sender: AtomicU64,
}

impl PoolQueue {
    /// The member `actor_id`, if it is bound here.
    fn member(&self, actor_id: u64) -> Option<Arc<dyn Bound>> {
        self.members
            .lock()
            .get(slot_of(actor_id))
            .filter(|a| a.id() == actor_id)
            .cloned()
    }
}

impl Port {
    /// Pool port: bytes its table of members holds (for footprints).
    pub fn member_bytes(&self) -> usize {
        self.pool.get().map_or(0, |q| q.members.lock().bytes())
    }

    /// A new port with no waker yet. Rings before the waker is registered are remembered in
    /// the flag; the owning thread drains as soon as it registers.
    pub fn new(id: PortId) -> Self {
        Port {
            id,
            scheduled: AtomicBool::new(true),
            waiting: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            waker: Mutex::new(None),
            owner: Mutex::new(None),
            urgent: Mutex::new(VecDeque::new()),
            actor: Mutex::new(None),
            actor_id: AtomicU64::new(0),
            control: Arc::new(ControlBlock::new()),
            outbox: std::sync::OnceLock::new(),
            dead: Mutex::new(Vec::new()),
            pool: std::sync::OnceLock::new(),
        }
    }

    /// A port for a pool worker: many actors bound at once, drained through a ready queue.
    pub fn new_pool(id: PortId) -> Self {
        let port = Port::new(id);
        let _ = port.pool.set(PoolQueue::default());
        port
    }

    /// True for a pool worker's port.
    pub fn is_pool(&self) -> bool {
        self.pool.get().is_some()
    }

    /// Pool port: queues `actor_id` as ready (its caller rings the port afterwards).
    pub(crate) fn push_ready(&self, actor_id: u64) {
        if let Some(q) = self.pool.get() {
            q.ready.lock().push_back(actor_id);
        }
    }

    /// Pool port: the next ready actor still bound here.
    pub(crate) fn pop_ready(&self) -> Option<Option<Arc<dyn Bound>>> {
        let q = self.pool.get()?;
        let id = q.ready.lock().pop_front()?;
        Some(q.member(id))
    }

    /// Pool port: the bound actor `actor_id`, if it is bound here.
    pub fn member(&self, actor_id: u64) -> Option<Arc<dyn Bound>> {
        self.pool.get()?.member(actor_id)
    }

    /// Pool port: the sender the outbox's last sender record named (0: none).
    pub fn outbox_sender(&self) -> u64 {
        self.pool
            .get()
            .map_or(0, |q| q.sender.load(Ordering::Acquire))
    }

    /// Pool port: remembers the sender the outbox's last sender record named.
    pub fn set_outbox_sender(&self, id: u64) {
        if let Some(q) = self.pool.get() {
            q.sender.store(id, Ordering::Release);
        }
    }

    /// Pool port: how many actors are bound to it.
    pub fn member_count(&self) -> usize {
        self.pool.get().map_or(0, |q| q.members.lock().len())
    }

    /// The outbox of the owning thread, created on first use.
    pub fn outbox(&self) -> &Arc<Outbox> {
        self.outbox.get_or_init(Default::default)
    }

    /// The outbox, if the owning thread ever asked for one.
    pub fn outbox_if_any(&self) -> Option<&Arc<Outbox>> {
        self.outbox.get()
    }

    /// Notes that mail from this thread found `target` dead for good (the thread learns it
    /// through control word 4 and [`Port::take_dead`]).
    pub fn note_dead(&self, target: u64) {
        let mut d = self.dead.lock();
        if d.len() < 4096 {
            d.push(target);
        }
        self.control.count_dead();
    }

    /// The targets noted dead since the last call.
    pub fn take_dead(&self) -> Vec<u64> {
        std::mem::take(&mut *self.dead.lock())
    }

    /// The words shared with the owning thread.
    pub fn control(&self) -> &Arc<ControlBlock> {
        &self.control
    }

    /// Id of the actor bound to this port (0 if none): the `from` of what its thread sends.
    pub fn actor_id(&self) -> u64 {
        self.actor_id.load(Ordering::Acquire)
    }

    /// Installs the waker of the owning thread, which must drain right after.
    pub fn set_waker(&self, waker: Arc<dyn Waker>) {
        *self.waker.lock() = Some(waker);
        self.scheduled.swap(true, Ordering::SeqCst);
    }

    /// True once the owning thread is gone (or the port was closed by its owner).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the port closed, drops the waker and unbinds the actor. Returns the actor that
    /// was bound, if any. Idempotent.
    pub fn close(&self) -> Option<Arc<dyn Bound>> {
        self.closed.store(true, Ordering::Release);
        let waker = self.waker.lock().take();
        drop(waker);
        self.urgent.lock().clear();
        if let Some(q) = self.pool.get() {
            q.ready.lock().clear();
            *q.members.lock() = Pages::default();
        }
        self.actor.lock().take()
    }

    /// Wakes the owning thread unless a wake is already pending or it is draining.
    pub fn ring(&self) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            // Draining or waiting: a waiting thread is unparked by the sender that lowers
            // `waiting` (one of them; the others find it lowered).
            if self.waiting.load(Ordering::Acquire) && self.waiting.swap(false, Ordering::AcqRel) {
                let owner = self.owner.lock().clone();
                if let Some(t) = owner {
                    t.unpark();
                }
            }
            return;
        }
        let waker = self.waker.lock().clone();
        if let Some(w) = waker {
            if !w.wake() {
                self.closed.store(true, Ordering::Release);
            }
        }
    }

    /// Queues an urgent envelope and wakes the thread. Returns false if the port is closed.
    pub fn push_urgent(&self, env: Envelope) -> bool {
        if self.is_closed() {
            return false;
        }
        self.urgent.lock().push_back(env);
        self.ring();
        true
    }

    /// Queues urgent envelopes in order under one lock and wakes the thread once. Returns
    /// false if the port is closed.
    pub fn push_urgent_all(&self, envs: Vec<Envelope>) -> bool {
        if self.is_closed() {
            return false;
        }
        self.urgent.lock().extend(envs);
        self.ring();
        true
    }

    /// Called by the owning thread when it starts draining: takes the urgent envelopes as one
    /// JSON batch, at most [`URGENT_BATCH`] of them (the thread calls again until it gets
    /// nothing, and a backlog of millions must not become one string larger than a JS engine
    /// can hold). Also marks the thread as draining so senders do not ring.
    pub fn take_urgent(&self) -> Option<String> {
        self.scheduled.swap(true, Ordering::SeqCst);
        let mut q = self.urgent.lock();
        if q.is_empty() {
            return None;
        }
        let n = q.len().min(URGENT_BATCH);
        let text = batch_json(q.iter().take(n));
        q.drain(..n);
        Some(text)
    }

    /// Binds the actor whose mailbox this thread drains.
    pub fn bind(&self, actor: Arc<dyn Bound>) {
        if let Some(q) = self.pool.get() {
            q.members.lock().insert(slot_of(actor.id()), actor);
            return;
        }
        self.actor_id.store(actor.id(), Ordering::Release);
        *self.actor.lock() = Some(actor);
    }

    /// Binds actors in order ([`Port::bind`] each); a pool port takes its members lock once.
    pub fn bind_all(&self, actors: impl Iterator<Item = Arc<dyn Bound>>) {
        match self.pool.get() {
            Some(q) => {
                let mut members = q.members.lock();
                for a in actors {
                    members.insert(slot_of(a.id()), a);
                }
            }
            None => actors.for_each(|a| self.bind(a)),
        }
    }

    /// The bound actor, if any (`Actor::bound_to` gives it as an `Actor`).
    pub fn bound(&self) -> Option<Arc<dyn Bound>> {
        self.actor.lock().clone()
    }

    /// Removes the bound actor if it is `actor_id`.
    pub fn unbind(&self, actor_id: u64) {
        if let Some(q) = self.pool.get() {
            let mut members = q.members.lock();
            if members
                .get(slot_of(actor_id))
                .is_some_and(|a| a.id() == actor_id)
            {
                members.remove(slot_of(actor_id));
            }
            return;
        }
        let mut slot = self.actor.lock();
        if slot.as_ref().map(|a| a.id()) == Some(actor_id) {
            *slot = None;
        }
    }

    /// Called by the owning thread when it found nothing more to do. Clears the flag, then
    /// re-checks: returns true if work arrived meanwhile and this thread took the flag back
    /// (keep draining); false if the thread may go idle (a pending wake will call it again).
    pub fn park(&self) -> bool {
        self.scheduled.swap(false, Ordering::SeqCst);
        if self.has_work() {
            return !self.scheduled.swap(true, Ordering::AcqRel);
        }
        false
    }

    /// Urgent envelopes, ready pooled actors, or mail the bound actor can take.
    fn has_work(&self) -> bool {
        !self.urgent.lock().is_empty()
            || self.pool.get().is_some_and(|q| !q.ready.lock().is_empty())
            || self.bound().is_some_and(|a| a.has_deliverable())
    }

    /// Called by the owning thread when it found nothing to do but expects work soon. The port
    /// stays claimed (senders do not ring the waker); the thread polls for up to `poll` if
    /// fewer threads than cores are polling, then sleeps until a sender wakes it or
    /// `sleep` has passed. Returns true if work arrived (drain again), false if the time ran
    /// out (the thread gives its event loop a turn, then waits again or parks). Blocks the
    /// calling thread for at most about `poll + sleep`.
    pub fn wait(&self, poll: Duration, sleep: Duration) -> bool {
        {
            let mut owner = self.owner.lock();
            if owner.is_none() {
                *owner = Some(current_thread());
            }
        }
        self.waiting.swap(true, Ordering::SeqCst);
        self.scheduled.swap(true, Ordering::SeqCst);
        if self.has_work() {
            self.waiting.swap(false, Ordering::AcqRel);
            return true;
        }
        #[cfg(not(loom))]
        {
            let start = std::time::Instant::now();
            if !poll.is_zero() && POLLERS.fetch_add(1, Ordering::AcqRel) < max_pollers() {
                // Each look is followed by a yield: a thread with work that shares this core
                // runs first, so pollers only use cores nothing else wants.
                while self.waiting.load(Ordering::Acquire) && start.elapsed() < poll {
                    std::thread::yield_now();
                }
            }
            if !poll.is_zero() {
                POLLERS.fetch_sub(1, Ordering::AcqRel);
            }
            let deadline = start + poll + sleep;
            while self.waiting.load(Ordering::Acquire) {
                let now = std::time::Instant::now();
                if now >= deadline {
                    break;
                }
                park_timeout(deadline - now);
            }
        }
        #[cfg(loom)]
        {
            let _ = (poll, sleep, &POLLERS, max_pollers);
            while self.waiting.load(Ordering::Acquire) {
                park_timeout(sleep);
            }
        }
        // Lowered by a sender: it rang. Still raised: the time ran out.
        !self.waiting.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Kind;
    use std::sync::atomic::AtomicUsize;

    struct Counter(AtomicUsize);
    impl Waker for Counter {
        fn wake(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    #[test]
    fn wakes_are_coalesced_until_park() {
        let port = Port::new(1);
        let waker = Arc::new(Counter(AtomicUsize::new(0)));
        port.set_waker(waker.clone());
        assert!(port.take_urgent().is_none());
        assert!(!port.park());
        for i in 0..100 {
            port.push_urgent(Envelope::new(Kind::Reply, 0, i, "1"));
        }
        assert_eq!(waker.0.load(Ordering::SeqCst), 1, "one wake for a burst");
        let batch = port.take_urgent().unwrap();
        let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 100);
        assert!(!port.park());
        port.push_urgent(Envelope::new(Kind::Reply, 0, 0, "1"));
        assert_eq!(waker.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_backlog_is_taken_in_bounded_batches_in_order() {
        let port = Port::new(1);
        let total = URGENT_BATCH * 2 + 7;
        for i in 0..total {
            port.push_urgent(Envelope::new(Kind::Reply, 0, i as u64, "1"));
        }
        let mut corrs = Vec::new();
        while let Some(batch) = port.take_urgent() {
            let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
            let items = v.as_array().unwrap();
            assert!(items.len() <= URGENT_BATCH);
            corrs.extend(items.iter().map(|e| e[2].as_u64().unwrap()));
        }
        assert_eq!(corrs, (0..total as u64).collect::<Vec<_>>());
    }

    #[test]
    fn park_reclaims_when_work_raced_in() {
        let port = Port::new(1);
        port.set_waker(Arc::new(Counter(AtomicUsize::new(0))));
        // Simulate a push that lands while the thread is still draining (flag set: no ring).
        port.urgent
            .lock()
            .push_back(Envelope::new(Kind::Reply, 0, 0, "1"));
        assert!(
            port.park(),
            "work found after clearing the flag: keep draining"
        );
    }

    #[test]
    fn a_waiting_thread_is_woken_by_a_push_and_times_out_without_one() {
        let port = Arc::new(Port::new(1));
        let waker = Arc::new(Counter(AtomicUsize::new(0)));
        port.set_waker(waker.clone());
        assert!(port.take_urgent().is_none());
        assert!(
            !port.wait(Duration::from_micros(50), Duration::from_millis(2)),
            "nothing came: the time runs out"
        );
        let sender = {
            let port = port.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                port.push_urgent(Envelope::new(Kind::Reply, 0, 0, "1"))
            })
        };
        let mut rung = false;
        for _ in 0..10_000 {
            if port.wait(Duration::ZERO, Duration::from_secs(10)) {
                rung = true;
                break;
            }
        }
        assert!(sender.join().unwrap());
        assert!(rung, "the push ends the wait");
        assert!(port.take_urgent().is_some());
        assert_eq!(
            waker.0.load(Ordering::SeqCst),
            0,
            "a waiting thread is not rung"
        );
    }

    #[test]
    fn closed_port_refuses() {
        let port = Port::new(1);
        port.close();
        assert!(!port.push_urgent(Envelope::new(Kind::Reply, 0, 0, "1")));
    }
}

/// Model tests of the wake-up protocol (`RUSTFLAGS="--cfg loom" cargo test -p warden-core
/// --lib --target-dir target/loom loom_model`): loom runs every interleaving (up to two
/// preemptions) of senders against the owning thread's drain loop, with the real `Port` and
/// `Actor` code over loom's atomics and mutexes.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use crate::actor::{Actor, ActorConfig};
    use crate::envelope::Kind;
    use loom::sync::atomic::AtomicUsize;

    /// Counts wakes (each one schedules a drain of the owning thread).
    struct Wakes(AtomicUsize);
    impl Waker for Wakes {
        fn wake(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    fn model(f: impl Fn() + Send + Sync + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(f);
    }

    /// A port with a counting waker, an actor bound to it (busy from its bind until its first
    /// empty pop), and a thread delivering one message to that actor.
    fn bound_actor_with_one_sender() -> (
        Arc<Port>,
        Arc<Wakes>,
        Arc<Actor>,
        loom::thread::JoinHandle<()>,
    ) {
        let port = Arc::new(Port::new(1));
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        port.set_waker(wakes.clone());
        let actor = Arc::new(Actor::new(2, 1, ActorConfig::default()));
        actor.bind(port.clone());
        port.bind(actor.clone());
        let sender = {
            let actor = actor.clone();
            loom::thread::spawn(move || {
                assert!(actor
                    .deliver(Envelope::new(Kind::User, 3, 0, "1"), None)
                    .is_ok());
            })
        };
        (port, wakes, actor, sender)
    }

    /// Pops the actor's mailbox until it is empty, counting the handled messages in the
    /// control block as the thread would; returns how many it took.
    fn pop_all(actor: &Actor, control: &ControlBlock) -> usize {
        let mut n = 0;
        while let Some((batch, _)) = actor.pop(control.handled(), 16, 0) {
            let k = batch_len(&batch);
            control.set_handled(control.handled().wrapping_add(k as u32));
            n += k;
        }
        n
    }

    fn batch_len(batch: &str) -> usize {
        let v: serde_json::Value = serde_json::from_str(batch).unwrap();
        v.as_array().unwrap().len()
    }

    /// One drain of the owning thread: take everything, park, and go on while `park` says
    /// work raced in. `take` returns how many messages it took.
    fn drain(port: &Port, take: &mut impl FnMut() -> usize) -> usize {
        let mut got = 0;
        loop {
            got += take();
            if !port.park() {
                return got;
            }
        }
    }

    /// The owning thread's event loop: one drain per wake it has not handled yet (`handled`
    /// counts them). When it returns the real thread sleeps until the next wake, so a message
    /// that neither a drain took nor a wake announced would be lost.
    fn on_wakes(
        port: &Port,
        wakes: &Wakes,
        handled: &mut usize,
        take: &mut impl FnMut() -> usize,
    ) -> usize {
        let mut got = 0;
        loop {
            let rung = wakes.0.load(Ordering::SeqCst);
            if rung == *handled {
                return got;
            }
            *handled = rung;
            got += drain(port, take);
        }
    }

    /// Runs the owning thread (its drain after registering, then its wakes) alongside
    /// `senders`, then the wakes the senders left pending; returns what it took.
    fn owner(
        port: &Port,
        wakes: &Wakes,
        senders: Vec<loom::thread::JoinHandle<()>>,
        mut take: impl FnMut() -> usize,
    ) -> usize {
        let mut handled = 0;
        let mut got = drain(port, &mut take);
        got += on_wakes(port, wakes, &mut handled, &mut take);
        for s in senders {
            s.join().unwrap();
        }
        got + on_wakes(port, wakes, &mut handled, &mut take)
    }

    /// Two senders push urgent envelopes while the owning thread drains and parks: no
    /// envelope is left behind without a wake to fetch it.
    #[test]
    fn an_urgent_push_racing_a_park_is_drained_or_wakes_the_thread() {
        model(|| {
            let port = Arc::new(Port::new(1));
            let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
            port.set_waker(wakes.clone());
            let senders: Vec<_> = (0..2)
                .map(|i| {
                    let port = port.clone();
                    loom::thread::spawn(move || {
                        assert!(port.push_urgent(Envelope::new(Kind::Reply, 0, i, "1")));
                    })
                })
                .collect();
            let got = owner(&port, &wakes, senders, || {
                port.take_urgent().map_or(0, |b| batch_len(&b))
            });
            assert_eq!(got, 2);
        });
    }

    /// Two senders push urgent envelopes while the owning thread, instead of parking, waits
    /// for them in [`Port::wait`]. loom's wait has no timeout, so a waiter that slept through
    /// a sender's wake would deadlock the model: each push is found by the waiter's check or
    /// wakes it, and none goes through the waker (the port stays claimed).
    #[test]
    fn an_urgent_push_racing_a_wait_wakes_the_waiter() {
        model(|| {
            let port = Arc::new(Port::new(1));
            let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
            port.set_waker(wakes.clone());
            let senders: Vec<_> = (0..2)
                .map(|i| {
                    let port = port.clone();
                    loom::thread::spawn(move || {
                        assert!(port.push_urgent(Envelope::new(Kind::Reply, 0, i, "1")));
                    })
                })
                .collect();
            let take = || port.take_urgent().map_or(0, |b| batch_len(&b));
            let mut got = take();
            while got < 2 {
                port.wait(std::time::Duration::ZERO, std::time::Duration::ZERO);
                got += take();
            }
            for s in senders {
                s.join().unwrap();
            }
            assert_eq!(got, 2);
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                0,
                "no wake through the waker"
            );
            assert!(!port.park());
        });
    }

    /// Mail for the bound actor arrives while its thread waits instead of parking: the
    /// waiter's check finds it or the sender wakes the waiter, which then pops it.
    #[test]
    fn mail_racing_a_wait_wakes_the_waiter() {
        model(|| {
            let (port, wakes, actor, sender) = bound_actor_with_one_sender();
            let control = port.control().clone();
            let pop = || pop_all(&actor, &control);
            let mut got = pop();
            while got < 1 {
                port.wait(std::time::Duration::ZERO, std::time::Duration::ZERO);
                got += pop();
            }
            sender.join().unwrap();
            assert_eq!(got, 1);
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                0,
                "no wake through the waker"
            );
        });
    }

    /// A sender delivers to the bound actor's mailbox while the owning thread pops and parks
    /// (the actor counts as busy from its bind until its first empty pop, and a busy actor's
    /// senders do not ring): the message is popped, or the thread is woken to pop it.
    #[test]
    fn mail_racing_a_park_is_popped_or_wakes_the_thread() {
        model(|| {
            let (port, wakes, actor, sender) = bound_actor_with_one_sender();
            let control = port.control().clone();
            let pop = || pop_all(&actor, &control);
            let got = owner(&port, &wakes, vec![sender], pop);
            assert_eq!(got, 1);
        });
    }
}
