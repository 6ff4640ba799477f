//! The deadline timer: one Rust thread that enforces per-message deadlines and heartbeat
//! watchdogs while the actor's JavaScript spins, and runs the runtime's other timed work
//! (box leases, outbox sweeps) through its tick.
//!
//! Deadlines wait in a binary heap of `(deadline, actor id)` entries, so arming one costs
//! O(log n) and a wake looks only at the entries that are due, never at every timed actor.
//! An actor's deadline and watchdog themselves live in its atomics (set and cleared by the
//! threads that run it, without asking the timer); the heap only says when to look. It holds
//! at most one live entry per actor, the earliest it was asked for (`queued`): arming a later
//! deadline, as each message and each heartbeat does, adds nothing, and when that entry comes
//! due the timer reads the actor's atomics and either fires (the deadline passed and is still
//! set: cleared with a compare-exchange, so it fires once), queues the later deadline the
//! actor has meanwhile, or drops the entry (disarmed, or the actor is gone). An entry
//! superseded by an earlier one is dropped when it comes up. The thread sleeps until the
//! earliest entry or tick deadline; arming an earlier one wakes it. Idle cost is zero (it
//! parks).
//!
//! The thread never dies of a panic: each stage of its loop (the scan of due entries, the tick,
//! each fired deadline) runs under [`panics::catch`]; a caught panic is reported and the loop
//! goes on, looking again soon since the stage that panicked could not say when it is next due.

use crate::actor::Actor;
use crate::panics;
use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Called on the timer thread when an actor's deadline passes, with the incarnation that was
/// running the late message.
pub type FireFn = dyn Fn(&Arc<Actor>) + Send + Sync;

/// Called on every wake of the timer thread with the current time (ns): handles other
/// deadlines (box leases, waiting writes) and returns the earliest one still pending.
pub type TickFn = dyn Fn(u64) -> u64 + Send + Sync;

/// Called on the timer thread after it caught a panic, with where (`timer scan`, `timer tick`
/// or `timer deadline`) and the panic's message.
pub type PanicFn = dyn Fn(&str, String) + Send + Sync;

/// Finds a live actor by id (`None` once it is dead for good): the timer keeps ids, not
/// actors, so a queued deadline keeps nothing alive.
pub type LookupFn = dyn Fn(u64) -> Option<Arc<Actor>> + Send + Sync;

/// How soon the timer looks again after a stage of its loop panicked (ns).
const AFTER_PANIC_NS: u64 = 5_000_000;

/// The queued deadlines.
#[derive(Default)]
struct Queue {
    /// `(deadline ns, actor id)`, earliest first.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// actor id → the deadline of its live entry in `heap` (other entries of it are stale).
    queued: HashMap<u64, u64>,
}

impl Queue {
    /// Makes sure an entry at or before `deadline` is queued for `actor`; true if one was added.
    fn ensure(&mut self, actor: u64, deadline: u64) -> bool {
        if self.queued.get(&actor).is_some_and(|q| *q <= deadline) {
            return false;
        }
        self.heap.push(Reverse((deadline, actor)));
        self.queued.insert(actor, deadline);
        true
    }

    /// The earliest entry's deadline (`u64::MAX` when empty; a stale entry costs a wake).
    fn earliest(&self) -> u64 {
        self.heap.peek().map_or(u64::MAX, |Reverse((d, _))| *d)
    }
}

struct Shared {
    epoch: Instant,
    // Lock order: `lock` (held by the timer thread except while it runs callbacks) before
    // `queue`; `queue` is a leaf, held only to push or pop entries (never while looking an
    // actor up or calling out). `Timer::arm` takes `queue`, releases it, then `lock`.
    queue: Mutex<Queue>,
    next_wake: AtomicU64,
    lock: Mutex<()>,
    cv: Condvar,
    lookup: Box<LookupFn>,
    fire: Box<FireFn>,
    tick: Box<TickFn>,
    panicked: Box<PanicFn>,
}

impl Shared {
    /// Runs one stage of the loop; a panic in it is reported (a panic of the report itself
    /// is dropped) and gives `None`.
    fn stage<T>(&self, site: &str, f: impl FnOnce() -> T) -> Option<T> {
        match panics::catch(f) {
            Ok(v) => Some(v),
            Err(message) => {
                let _ = panics::catch(|| (self.panicked)(site, message));
                None
            }
        }
    }
}

/// Handle to the timer thread.
pub struct Timer {
    shared: Arc<Shared>,
}

impl Timer {
    /// Starts the timer thread. `epoch` is the clock deadlines are measured from; `lookup`
    /// finds the actors whose deadlines are queued; `panicked` hears of every panic the thread
    /// caught and survived.
    pub fn start(
        epoch: Instant,
        lookup: Box<LookupFn>,
        fire: Box<FireFn>,
        tick: Box<TickFn>,
        panicked: Box<PanicFn>,
    ) -> Self {
        let shared = Arc::new(Shared {
            epoch,
            queue: Mutex::new(Queue::default()),
            next_wake: AtomicU64::new(u64::MAX),
            lock: Mutex::new(()),
            cv: Condvar::new(),
            lookup,
            fire,
            tick,
            panicked,
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("warden-timer".into())
            .spawn(move || run(s))
            .expect("spawn warden-timer thread");
        Timer { shared }
    }

    /// Called after `actor`'s deadline or watchdog atomic was set to `deadline_ns`: queues a
    /// look at it then, unless one is queued already at or before that time. O(log n).
    pub fn arm(&self, actor: u64, deadline_ns: u64) {
        if deadline_ns == 0 {
            return;
        }
        if self.shared.queue.lock().ensure(actor, deadline_ns) {
            self.armed(deadline_ns);
        }
    }

    /// Wakes the thread if it sleeps past `deadline_ns` (for the tick's own deadlines: box
    /// leases, outbox sweeps).
    pub fn armed(&self, deadline_ns: u64) {
        if deadline_ns != 0 && deadline_ns < self.shared.next_wake.load(Ordering::Acquire) {
            let _g = self.shared.lock.lock();
            // (a later deadline armed concurrently must not overwrite an earlier one)
            self.shared
                .next_wake
                .fetch_min(deadline_ns, Ordering::AcqRel);
            self.shared.cv.notify_one();
        }
    }

    /// Entries in the queue, stale ones included (for tests: one per timed actor at most,
    /// plus the ones superseded by an earlier deadline and not yet come up).
    pub fn queued(&self) -> usize {
        self.shared.queue.lock().heap.len()
    }
}

fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// Takes the entries due at `now`, and for each actor whose deadline or watchdog passed
/// clears it (so it fires once) and adds the actor to `due`; queues what each actor looked at
/// still has ahead. Returns the earliest queued deadline.
fn scan(s: &Shared, now: u64, due: &mut Vec<Arc<Actor>>) -> u64 {
    let mut ids = Vec::new();
    {
        let mut q = s.queue.lock();
        while let Some(&Reverse((d, id))) = q.heap.peek() {
            if d > now {
                break;
            }
            q.heap.pop();
            if q.queued.get(&id) == Some(&d) {
                q.queued.remove(&id);
                ids.push(id);
            }
        }
    }
    let mut again = Vec::new();
    for id in ids {
        let Some(a) = (s.lookup)(id) else { continue };
        let mut next = u64::MAX;
        let mut fired = false;
        for slot in [a.deadline(), a.watchdog()] {
            let d = slot.load(Ordering::Acquire);
            if d == 0 {
                continue;
            }
            if d <= now
                && !fired
                && slot
                    .compare_exchange(d, 0, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                fired = true;
                due.push(a.clone());
                continue;
            }
            // Ahead, due but this actor already fires in this pass (the next pass fires it),
            // or re-armed since the load (its `arm` follows, but looking again costs little).
            let d = slot.load(Ordering::Acquire);
            if d != 0 {
                next = next.min(d);
            }
        }
        if next != u64::MAX {
            again.push((id, next));
        }
    }
    let mut q = s.queue.lock();
    for (id, d) in again {
        q.ensure(id, d);
    }
    q.earliest()
}

fn run(s: Arc<Shared>) {
    let mut guard = s.lock.lock();
    loop {
        // Deadlines armed from here on (even while the tick below runs unlocked) lower
        // `next_wake`, which is folded into the next sleep: none is missed.
        s.next_wake.store(u64::MAX, Ordering::Release);
        let now = now_ns(s.epoch);
        let after_panic = now.saturating_add(AFTER_PANIC_NS);
        // (what a panicking scan already cleared is still in `due` and fires below)
        let mut due = Vec::new();
        let mut earliest = s
            .stage("timer scan", || scan(&s, now, &mut due))
            .unwrap_or(after_panic);
        let other = parking_lot::MutexGuard::unlocked(&mut guard, || {
            s.stage("timer tick", || (s.tick)(now))
        })
        .unwrap_or(after_panic);
        earliest = earliest.min(other).min(s.next_wake.load(Ordering::Acquire));
        s.next_wake.store(earliest, Ordering::Release);
        if !due.is_empty() {
            parking_lot::MutexGuard::unlocked(&mut guard, || {
                for a in &due {
                    s.stage("timer deadline", || (s.fire)(a));
                }
            });
            continue;
        }
        if earliest == u64::MAX {
            s.cv.wait(&mut guard);
        } else {
            let wait = Duration::from_nanos(earliest.saturating_sub(now_ns(s.epoch)));
            s.cv.wait_for(&mut guard, wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::ActorConfig;
    use crate::envelope::{Envelope, Kind};
    use crate::port::Port;
    use std::sync::mpsc;

    /// The actors a test's timer can look up.
    type Registry = Arc<Mutex<HashMap<u64, Arc<Actor>>>>;

    fn lookup(reg: &Registry) -> Box<LookupFn> {
        let reg = reg.clone();
        Box::new(move |id| reg.lock().get(&id).cloned())
    }

    #[test]
    fn a_deadline_armed_while_the_tick_runs_is_not_missed() {
        let epoch = Instant::now();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let reg = Registry::default();
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(|_: &Arc<Actor>| {}),
            Box::new(move |now| {
                let first = tx.lock().send(now).is_ok() && now < 30_000_000;
                if first {
                    std::thread::sleep(Duration::from_millis(60)); // a slow tick
                }
                u64::MAX // the tick itself has nothing pending
            }),
            Box::new(|_: &str, _| {}),
        );
        timer.armed(now_ns(epoch) + 1_000_000); // first wake
        rx.recv_timeout(Duration::from_secs(2)).expect("first tick");
        std::thread::sleep(Duration::from_millis(20)); // the tick is still running
        timer.armed(now_ns(epoch) + 10_000_000);
        rx.recv_timeout(Duration::from_secs(2))
            .expect("the deadline armed during the tick wakes the timer");
    }

    #[test]
    fn fires_for_a_late_message_only() {
        let epoch = Instant::now();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let reg = Registry::default();
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(move |a: &Arc<Actor>| {
                let _ = tx.lock().send(a.id);
            }),
            Box::new(|_| u64::MAX),
            Box::new(|_: &str, _| {}),
        );
        let cfg = ActorConfig {
            timeout_ms: 20,
            ..Default::default()
        };
        let fast = Arc::new(Actor::new(1, 1, cfg.clone()));
        let slow = Arc::new(Actor::new(2, 1, cfg));
        for a in [&fast, &slow] {
            reg.lock().insert(a.id, a.clone());
            a.bind(Arc::new(Port::new(a.id)));
            a.deliver(Envelope::new(Kind::User, 0, 0, "1"), None)
                .unwrap();
            let (_, d) = a.pop(0, 1, now_ns(epoch)).unwrap();
            timer.arm(a.id, d);
        }
        fast.pop(1, 1, now_ns(epoch)); // handled in time: disarms
        let fired = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(fired, 2);
        assert!(rx.recv_timeout(Duration::from_millis(60)).is_err());
    }

    /// An actor whose deadline is armed (as when it takes a message), known to `reg`.
    fn late_actor(
        timer: &Timer,
        reg: &Registry,
        epoch: Instant,
        id: u64,
        timeout_ms: u64,
    ) -> Arc<Actor> {
        let cfg = ActorConfig {
            timeout_ms,
            ..Default::default()
        };
        let a = Arc::new(Actor::new(id, 1, cfg));
        reg.lock().insert(a.id, a.clone());
        a.bind(Arc::new(Port::new(a.id)));
        a.deliver(Envelope::new(Kind::User, 0, 0, "1"), None)
            .unwrap();
        let (_, d) = a.pop(0, 1, now_ns(epoch)).unwrap();
        timer.arm(a.id, d);
        a
    }

    #[test]
    fn a_panicking_tick_is_reported_and_deadlines_still_fire() {
        let epoch = Instant::now();
        let (fired_tx, fired) = mpsc::channel();
        let fired_tx = Mutex::new(fired_tx);
        let (report_tx, reports) = mpsc::channel();
        let report_tx = Mutex::new(report_tx);
        let ticks = AtomicU64::new(0);
        let reg = Registry::default();
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(move |a: &Arc<Actor>| {
                let _ = fired_tx.lock().send(a.id);
            }),
            Box::new(move |_| {
                if ticks.fetch_add(1, Ordering::Relaxed) < 2 {
                    panic!("tick boom");
                }
                u64::MAX
            }),
            Box::new(move |site: &str, message| {
                let _ = report_tx.lock().send(panics::reason(site, &message));
            }),
        );
        timer.armed(now_ns(epoch) + 1_000_000); // a wake whose tick panics
        let first = reports.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(first, "internal panic: timer tick: tick boom");
        // the next tick comes on its own (soon after a panic) and panics too: still running
        let second = reports.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(second, first);
        let late = late_actor(&timer, &reg, epoch, 7, 20);
        assert_eq!(fired.recv_timeout(Duration::from_secs(2)).unwrap(), late.id);
        assert!(reports.try_recv().is_err(), "the third tick does not panic");
    }

    #[test]
    fn a_deadline_whose_firing_panics_does_not_keep_others_from_firing() {
        let epoch = Instant::now();
        let (fired_tx, fired) = mpsc::channel();
        let fired_tx = Mutex::new(fired_tx);
        let (report_tx, reports) = mpsc::channel();
        let report_tx = Mutex::new(report_tx);
        let reg = Registry::default();
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(move |a: &Arc<Actor>| {
                if a.id == 1 {
                    panic!("fire boom");
                }
                let _ = fired_tx.lock().send(a.id);
            }),
            Box::new(|_| u64::MAX),
            Box::new(move |site: &str, message| {
                let _ = report_tx.lock().send(panics::reason(site, &message));
            }),
        );
        let _a = late_actor(&timer, &reg, epoch, 1, 10);
        let _b = late_actor(&timer, &reg, epoch, 2, 10);
        assert_eq!(fired.recv_timeout(Duration::from_secs(2)).unwrap(), 2);
        let report = reports.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(report, "internal panic: timer deadline: fire boom");
        // and the thread goes on: a later deadline fires
        let c = late_actor(&timer, &reg, epoch, 3, 10);
        assert_eq!(fired.recv_timeout(Duration::from_secs(2)).unwrap(), c.id);
    }

    #[test]
    fn among_many_timed_actors_only_the_due_ones_are_looked_at_and_fire() {
        let epoch = Instant::now();
        let reg = Registry::default();
        let looked = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let timer = {
            let (reg, looked) = (reg.clone(), looked.clone());
            Timer::start(
                epoch,
                Box::new(move |id| {
                    looked.fetch_add(1, Ordering::Relaxed);
                    reg.lock().get(&id).cloned()
                }),
                Box::new(move |a: &Arc<Actor>| {
                    let _ = tx.lock().send(a.id);
                }),
                Box::new(|_| u64::MAX),
                Box::new(|_: &str, _| {}),
            )
        };
        let idle: Vec<_> = (100..10_100)
            .map(|id| late_actor(&timer, &reg, epoch, id, 600_000))
            .collect();
        let late: Vec<_> = (1..=3)
            .map(|id| late_actor(&timer, &reg, epoch, id, 20))
            .collect();
        let mut fired: Vec<u64> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(2)).unwrap())
            .collect();
        fired.sort_unstable();
        assert_eq!(fired, vec![1, 2, 3]);
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
        assert_eq!(
            looked.load(Ordering::Relaxed),
            3,
            "only the due entries were looked at, not the 10,000 others"
        );
        assert_eq!(timer.queued(), idle.len(), "the fired ones left the queue");
        assert!(late
            .iter()
            .all(|a| a.deadline().load(Ordering::Acquire) == 0));
    }

    #[test]
    fn arming_later_deadlines_queues_nothing_more_and_the_latest_one_counts() {
        let epoch = Instant::now();
        let reg = Registry::default();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(move |a: &Arc<Actor>| {
                let _ = tx.lock().send((a.id, Instant::now()));
            }),
            Box::new(|_| u64::MAX),
            Box::new(|_: &str, _| {}),
        );
        let a = Arc::new(Actor::new(
            1,
            1,
            ActorConfig {
                heartbeat_ms: 300, // far above the 10 ms steps, so a descheduled test thread stays inside it
                ..Default::default()
            },
        ));
        reg.lock().insert(a.id, a.clone());
        let mut last = Instant::now();
        for _ in 0..6 {
            // heartbeats every 10 ms keep pushing the watchdog 300 ms ahead
            last = Instant::now();
            timer.arm(a.id, a.arm_watchdog(now_ns(epoch)));
            assert_eq!(timer.queued(), 1, "one entry, the earliest asked for");
            std::thread::sleep(Duration::from_millis(10));
        }
        let (id, at) = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(id, 1);
        assert!(
            at.duration_since(last) >= Duration::from_millis(300),
            "fired {:?} after the last heartbeat",
            at.duration_since(last)
        );
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "once");
        assert_eq!(timer.queued(), 0);
        // An earlier deadline than the one queued is queued too (1 s ahead: still queued when
        // counted on a loaded machine), and fires first.
        timer.arm(a.id, a.arm_watchdog(now_ns(epoch) + 10_000_000_000));
        a.watchdog()
            .store(now_ns(epoch) + 1_000_000_000, Ordering::Release);
        timer.arm(a.id, a.watchdog().load(Ordering::Acquire));
        assert_eq!(timer.queued(), 2);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, 1);
    }

    #[test]
    fn a_disarmed_deadline_or_a_finished_actor_does_not_fire() {
        let epoch = Instant::now();
        let reg = Registry::default();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let timer = Timer::start(
            epoch,
            lookup(&reg),
            Box::new(move |a: &Arc<Actor>| {
                let _ = tx.lock().send(a.id);
            }),
            Box::new(|_| u64::MAX),
            Box::new(|_: &str, _| {}),
        );
        let handled = late_actor(&timer, &reg, epoch, 1, 20);
        let gone = late_actor(&timer, &reg, epoch, 2, 20);
        let killed = late_actor(&timer, &reg, epoch, 3, 20);
        let due = late_actor(&timer, &reg, epoch, 4, 30);
        handled.pop(1, 1, now_ns(epoch)); // handled in time: disarmed
        reg.lock().remove(&gone.id); // dead for good: no longer found
        killed.finish();
        assert_eq!(rx.recv_timeout(Duration::from_secs(2)).unwrap(), due.id);
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
        assert_eq!(timer.queued(), 0, "their entries were dropped");
    }
}
