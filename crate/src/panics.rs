//! Panics the core survives. A panic is a bug in warden, but it must not end the process or
//! stop the core's own work: the timer thread catches one per stage of its loop and goes on,
//! an outbox drain catches one per run of mail it delivers, and the binding catches one in
//! every native entry point and turns it into a JavaScript error. What was caught is reported
//! as `internal panic: <where>: <message>` (to supervisors as [`crate::Kind::Panic`]).
//!
//! The test hooks ([`Faults`]) make a chosen site panic once, so tests can prove each of these
//! paths without a real bug.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f`, catching a panic: `Err` carries the panic's message.
///
/// The closure is asserted unwind-safe: the core's locks are `parking_lot` locks (they are
/// released, not poisoned, when a panic unwinds through them) and each caller leaves its data
/// consistent or discards what the panic interrupted.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(message)
}

/// The message of a caught panic (`panic!`'s text, or a placeholder for other payloads).
/// The payload is dropped with its own panics caught: a payload whose `Drop` panics is leaked
/// rather than allowed to unwind again.
pub fn message(payload: Box<dyn Any + Send>) -> String {
    let text = if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "(a panic without a message)".to_string()
    };
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
    text
}

/// The text a caught panic is reported with.
pub fn reason(site: &str, message: &str) -> String {
    format!("internal panic: {site}: {message}")
}

/// A place where a test can make the core panic once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The timer thread's next tick (its work besides deadlines: leases, outbox sweeps).
    Timer,
    /// The next delivery of a run of outbox mail.
    Drain,
}

/// Test hooks: sites armed to panic once. Nothing is armed unless a test asks (the binding
/// refuses unless the test hooks are switched on).
#[derive(Debug, Default)]
pub struct Faults {
    timer: AtomicBool,
    drain: AtomicBool,
}

impl Faults {
    fn flag(&self, site: Site) -> &AtomicBool {
        match site {
            Site::Timer => &self.timer,
            Site::Drain => &self.drain,
        }
    }

    /// Makes the next pass through `site` panic (once).
    pub fn arm(&self, site: Site) {
        self.flag(site).store(true, Ordering::Release);
    }

    /// Panics if `site` is armed, disarming it. A relaxed load when nothing is armed.
    pub(crate) fn trip(&self, site: Site) {
        let flag = self.flag(site);
        if flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::AcqRel) {
            panic!("test hook: {site:?} panics on demand");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_gives_its_message() {
        assert_eq!(catch(|| 7), Ok(7));
        assert_eq!(
            catch(|| -> () { panic!("boom {}", 1) }),
            Err("boom 1".into())
        );
        assert_eq!(
            catch(|| std::panic::panic_any(3u8)),
            Err("(a panic without a message)".into())
        );
    }

    #[test]
    fn an_armed_site_panics_once() {
        let f = Faults::default();
        f.trip(Site::Timer); // not armed: nothing
        f.arm(Site::Timer);
        f.trip(Site::Drain); // another site: nothing
        let err = catch(|| f.trip(Site::Timer)).unwrap_err();
        assert_eq!(err, "test hook: Timer panics on demand");
        assert_eq!(catch(|| f.trip(Site::Timer)), Ok(()));
    }
}
