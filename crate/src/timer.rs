//! The deadline timer: one Rust thread that enforces per-message deadlines and heartbeat
//! watchdogs while the actor's JavaScript spins. It scans the actors that have a deadline configured and sleeps until the
//! earliest armed one; arming an earlier deadline wakes it. Idle cost is zero (it parks).
//!
//! The thread never dies of a panic: each stage of its loop (the scan, the tick, each fired
//! deadline) runs under [`panics::catch`]; a caught panic is reported and the loop goes on,
//! looking again soon since the stage that panicked could not say when it is next due.

use crate::actor::Actor;
use crate::panics;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
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

/// How soon the timer looks again after a stage of its loop panicked (ns).
const AFTER_PANIC_NS: u64 = 5_000_000;

struct Shared {
    epoch: Instant,
    actors: Mutex<Vec<Weak<Actor>>>,
    next_wake: AtomicU64,
    lock: Mutex<()>,
    cv: Condvar,
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
    /// Starts the timer thread. `epoch` is the clock deadlines are measured from; `panicked`
    /// hears of every panic the thread caught and survived.
    pub fn start(
        epoch: Instant,
        fire: Box<FireFn>,
        tick: Box<TickFn>,
        panicked: Box<PanicFn>,
    ) -> Self {
        let shared = Arc::new(Shared {
            epoch,
            actors: Mutex::new(Vec::new()),
            next_wake: AtomicU64::new(u64::MAX),
            lock: Mutex::new(()),
            cv: Condvar::new(),
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

    /// Watches `actor`'s deadline from now on.
    pub fn watch(&self, actor: &Arc<Actor>) {
        self.shared.actors.lock().push(Arc::downgrade(actor));
    }

    /// Called after a deadline was armed: wakes the thread if it sleeps past `deadline_ns`.
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
}

fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// Finds the actors whose deadline or watchdog passed (clearing it, so it fires once) into
/// `due`; returns the earliest deadline still ahead.
fn scan(s: &Shared, now: u64, due: &mut Vec<Arc<Actor>>) -> u64 {
    let mut earliest = u64::MAX;
    let mut actors = s.actors.lock();
    actors.retain(|w| w.strong_count() > 0);
    for w in actors.iter() {
        let Some(a) = w.upgrade() else { continue };
        for slot in [&a.deadline, &a.watchdog] {
            let d = slot.load(Ordering::Acquire);
            if d == 0 {
                continue;
            }
            if d > now {
                earliest = earliest.min(d);
            } else if slot
                .compare_exchange(d, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                due.push(a.clone());
                break;
            }
        }
    }
    earliest
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

    #[test]
    fn a_deadline_armed_while_the_tick_runs_is_not_missed() {
        let epoch = Instant::now();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let timer = Timer::start(
            epoch,
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
        let timer = Timer::start(
            epoch,
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
            timer.watch(a);
            a.bind(Arc::new(Port::new(a.id)));
            a.deliver(Envelope::new(Kind::User, 0, 0, "1"), None)
                .unwrap();
            let (_, d) = a.pop(0, 1, now_ns(epoch)).unwrap();
            timer.armed(d);
        }
        fast.pop(1, 1, now_ns(epoch)); // handled in time: disarms
        let fired = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(fired, 2);
        assert!(rx.recv_timeout(Duration::from_millis(60)).is_err());
    }

    /// An actor whose deadline is armed (as when it takes a message) and already watched.
    fn late_actor(timer: &Timer, epoch: Instant, id: u64, timeout_ms: u64) -> Arc<Actor> {
        let cfg = ActorConfig {
            timeout_ms,
            ..Default::default()
        };
        let a = Arc::new(Actor::new(id, 1, cfg));
        timer.watch(&a);
        a.bind(Arc::new(Port::new(a.id)));
        a.deliver(Envelope::new(Kind::User, 0, 0, "1"), None)
            .unwrap();
        let (_, d) = a.pop(0, 1, now_ns(epoch)).unwrap();
        timer.armed(d);
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
        let timer = Timer::start(
            epoch,
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
        let late = late_actor(&timer, epoch, 7, 20);
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
        let timer = Timer::start(
            epoch,
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
        let _a = late_actor(&timer, epoch, 1, 10);
        let _b = late_actor(&timer, epoch, 2, 10);
        assert_eq!(fired.recv_timeout(Duration::from_secs(2)).unwrap(), 2);
        let report = reports.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(report, "internal panic: timer deadline: fire boom");
        // and the thread goes on: a later deadline fires
        let c = late_actor(&timer, epoch, 3, 10);
        assert_eq!(fired.recv_timeout(Duration::from_secs(2)).unwrap(), c.id);
    }
}
