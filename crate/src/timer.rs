//! The deadline timer: one Rust thread that enforces per-message deadlines and heartbeat
//! watchdogs while the actor's JavaScript spins. It scans the actors that have a deadline configured and sleeps until the
//! earliest armed one; arming an earlier deadline wakes it. Idle cost is zero (it parks).

use crate::actor::Actor;
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

struct Shared {
    epoch: Instant,
    actors: Mutex<Vec<Weak<Actor>>>,
    next_wake: AtomicU64,
    lock: Mutex<()>,
    cv: Condvar,
    fire: Box<FireFn>,
    tick: Box<TickFn>,
}

/// Handle to the timer thread.
pub struct Timer {
    shared: Arc<Shared>,
}

impl Timer {
    /// Starts the timer thread. `epoch` is the clock deadlines are measured from.
    pub fn start(epoch: Instant, fire: Box<FireFn>, tick: Box<TickFn>) -> Self {
        let shared = Arc::new(Shared {
            epoch,
            actors: Mutex::new(Vec::new()),
            next_wake: AtomicU64::new(u64::MAX),
            lock: Mutex::new(()),
            cv: Condvar::new(),
            fire,
            tick,
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

fn run(s: Arc<Shared>) {
    let mut guard = s.lock.lock();
    loop {
        // Deadlines armed from here on (even while the tick below runs unlocked) lower
        // `next_wake`, which is folded into the next sleep: none is missed.
        s.next_wake.store(u64::MAX, Ordering::Release);
        let now = now_ns(s.epoch);
        let mut earliest = u64::MAX;
        let mut due = Vec::new();
        {
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
        }
        let other = parking_lot::MutexGuard::unlocked(&mut guard, || (s.tick)(now));
        earliest = earliest.min(other).min(s.next_wake.load(Ordering::Acquire));
        s.next_wake.store(earliest, Ordering::Release);
        if !due.is_empty() {
            parking_lot::MutexGuard::unlocked(&mut guard, || {
                for a in &due {
                    (s.fire)(a);
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
}
