//! Ports: registering JS threads with the core, and draining them (batches of urgent
//! envelopes and of mail, parking with coalesced wake-ups).

use crate::entry::{guard, guard_try, id, invalid};
use crate::thread::{bound, current, flush_current, JsWaker, BOUND, CURRENT, TARGETS};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::cell::RefCell;
use std::sync::Arc;
use warden_core::outbox::{Outbox, OUTBOX_BYTES};
use warden_core::port::{ControlBlock, CONTROL_WORDS};
use warden_core::{runtime, Port, Waker};

/// Registers a new port (before its thread starts) and returns its id.
#[napi(catch_unwind)]
pub fn new_port() -> Result<f64> {
    guard("newPort", || runtime().new_port().id as f64)
}

/// Forgets a port whose thread is gone. Idempotent.
#[napi(catch_unwind)]
pub fn close_port(port_id: f64) -> Result<()> {
    guard("closePort", || {
        runtime().close_port(id(port_id));
    })
}

/// Registers the calling thread as the owner of `port_id`. `wake` is called (on this thread)
/// whenever the port has work after being idle. A worker port keeps its thread alive, is closed
/// by an environment cleanup hook when the thread ends, and comes with its control words: a
/// `Uint32Array` over core memory where the thread counts the messages it handled. A host port
/// does not keep the process alive, and its `wake` gets the port's waiting batch (JSON text, as
/// `hostTake` returns it, or null) as its argument.
#[napi(catch_unwind)]
pub fn register_port(
    env: Env,
    port_id: f64,
    wake: Function<(), Unknown<'static>>,
    worker: bool,
) -> Result<Option<Uint32Array>> {
    guard_try("registerPort", || {
        let port = runtime()
            .port(id(port_id))
            .ok_or_else(|| invalid(format!("unknown port {port_id}")))?;
        let builder = wake
            .build_threadsafe_function::<()>()
            .callee_handled::<false>();
        if worker {
            let tsfn = builder.weak::<false>().build()?;
            port.set_waker(Arc::new(JsWaker::<false>(tsfn)));
            CURRENT.with(|c| *c.borrow_mut() = Some(port.clone()));
            env.add_env_cleanup_hook(port.id, |pid| {
                // (napi runs the hook without catching: a panic must not unwind out of it)
                let closed = warden_core::panics::catch(|| {
                    CURRENT.with(|c| c.borrow_mut().take());
                    BOUND.with(|b| b.borrow_mut().take());
                    TARGETS.with(|t| t.borrow_mut().clear());
                    runtime().close_port(pid);
                });
                if let Err(message) = closed {
                    let _ = warden_core::panics::catch(|| {
                        runtime().report_panic(0, "thread cleanup", &message)
                    });
                }
            })?;
            return Ok(Some(control_words(port.control().clone())));
        }
        // A host port's wake brings its first batch along: the callback, on this thread, takes
        // the urgent envelopes and passes them (or null) to `wake`, so the reader starts with
        // them instead of asking with `hostTake` (one native call fewer per wake). It holds the
        // port weakly: the port holds the waker, which holds this callback.
        let weak = Arc::downgrade(&port);
        let tsfn = builder
            .weak::<true>()
            .build_callback(move |_| Ok(wake_batch(&weak)))?;
        port.set_waker(Arc::new(HostWaker(tsfn)));
        Ok(None)
    })
}

/// Wakes the host thread through a threadsafe function whose callback hands the reader the
/// port's waiting batch.
struct HostWaker(ThreadsafeFunction<(), Unknown<'static>, Option<String>, Status, false, true>);

impl Waker for HostWaker {
    fn wake(&self) -> bool {
        self.0.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

/// The urgent batch of a host port being woken (run on its thread, in the wake callback), as
/// `hostTake` would return it: the host's own mail goes out first, as in every host entry point.
/// None when the port is gone, or on a panic (reported; what is still queued is found by the
/// reader's `hostPark`).
fn wake_batch(port: &std::sync::Weak<Port>) -> Option<String> {
    let port = port.upgrade()?;
    match warden_core::panics::catch(|| {
        crate::host_mail::deliver();
        port.take_urgent()
    }) {
        Ok(batch) => batch,
        Err(message) => {
            let _ = warden_core::panics::catch(|| runtime().report_panic(0, "host wake", &message));
            None
        }
    }
}

/// Worker: takes the urgent envelopes (replies, start and stop orders) as a JSON batch.
#[napi(catch_unwind)]
pub fn worker_take() -> Result<Option<String>> {
    guard("workerTake", || {
        flush_current();
        current()?.take_urgent()
    })
}

/// Worker: acknowledges what the control words say was handled and returns the next batch of
/// at most `max` messages (JSON), if any.
#[napi(catch_unwind)]
pub fn worker_pop(max: u32) -> Result<Option<String>> {
    guard("workerPop", || {
        flush_current();
        let port = current()?;
        let actor = bound()?;
        runtime().pop(&port, &actor, max as usize)
    })
}

/// Worker: no work left; returns true if work raced in and draining must continue.
#[napi(catch_unwind)]
pub fn worker_park() -> Result<bool> {
    guard("workerPark", || {
        flush_current();
        current().is_some_and(|p| p.park())
    })
}

/// Longest wait a thread may ask for in one call (µs): a wait blocks its event loop, and
/// `terminate()` cannot interrupt native code.
const MAX_WAIT_US: f64 = 5_000.0;

fn wait_time(us: f64) -> std::time::Duration {
    let us = if us.is_finite() {
        us.clamp(0.0, MAX_WAIT_US)
    } else {
        0.0
    };
    std::time::Duration::from_nanos((us * 1000.0) as u64)
}

/// Worker: nothing to do but traffic is dense; delivers the outbox, then waits for work for
/// up to `poll_us` polling and `sleep_us` asleep (see the core's `Port::wait`). True if work
/// arrived.
#[napi(catch_unwind)]
pub fn worker_wait(poll_us: f64, sleep_us: f64) -> Result<bool> {
    guard("workerWait", || {
        flush_current();
        current().is_some_and(|p| p.wait(wait_time(poll_us), wait_time(sleep_us)))
    })
}

/// Host: the supervisor port is drained but replies are due; waits for events as
/// `workerWait` does. True if events arrived.
#[napi(catch_unwind)]
pub fn host_wait(port_id: f64, poll_us: f64, sleep_us: f64) -> Result<bool> {
    guard("hostWait", || {
        host_port(port_id).is_some_and(|p| p.wait(wait_time(poll_us), wait_time(sleep_us)))
    })
}

thread_local! {
    /// The host port this thread read last: a supervisor's reader calls take, wait and park
    /// on the same port many times per message, and the registry lookup (a lock and a hash)
    /// was a visible part of a `call` round trip.
    static HOST_PORT: RefCell<Option<Arc<Port>>> = const { RefCell::new(None) };
}

/// The host port `port_id`, from this thread's one-entry cache or the registry; None once it
/// is closed.
fn host_port(port_id: f64) -> Option<Arc<Port>> {
    let pid = id(port_id);
    HOST_PORT.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(p) = c.as_ref() {
            if p.id == pid && !p.is_closed() {
                return Some(p.clone());
            }
        }
        let p = runtime().port(pid);
        c.clone_from(&p);
        p
    })
}

/// Host: takes a supervisor port's events as a JSON batch.
#[napi(catch_unwind)]
pub fn host_take(port_id: f64) -> Result<Option<String>> {
    guard("hostTake", || host_port(port_id)?.take_urgent())
}

/// Host: the supervisor port is drained; true if events raced in.
#[napi(catch_unwind)]
pub fn host_park(port_id: f64) -> Result<bool> {
    guard("hostPark", || host_port(port_id).is_some_and(|p| p.park()))
}

/// Worker: this thread's outbox, a `Uint8Array` over core memory into which `ctx.send` writes
/// records without a native call (layout in the core's `outbox` module; its head and tail
/// counters are control words 2 and 3).
#[napi(catch_unwind)]
pub fn outbox_view() -> Result<Uint8Array> {
    guard_try("outboxView", || {
        let port = current().ok_or_else(|| invalid("outboxView: not a worker thread"))?;
        Ok(outbox_bytes(runtime().open_outbox(&port)))
    })
}

/// Worker: a `Uint32Array` over the one core word that says whether the timer thread sweeps
/// outboxes (1) or stopped because they stayed empty (0). A thread reads it right after it
/// published a record into its outbox, and calls `resumeSweeping` when it reads 0 (the core's
/// `Runtime::sweep_word` says why no record is left unswept).
#[napi(catch_unwind)]
pub fn outbox_sweep_word() -> Result<Uint32Array> {
    guard_try("outboxSweepWord", || {
        let ptr: *mut u32 = runtime().sweep_word().as_ptr();
        // SAFETY: the word lives in the process-wide runtime, which is never dropped, so the
        // view never outlives it (the finalizer has nothing to free). It is an `AtomicU32`,
        // which has the layout of a `u32`; JS reads it with `Atomics.load`, the core with
        // atomic operations, and nothing writes it from JS.
        let view = unsafe { Uint32Array::with_external_data(ptr, 1, |_, _| {}) };
        Ok(view)
    })
}

/// Worker: this thread published outbox mail while the timer thread's sweeping was off
/// (`outboxSweepWord` read 0): starts it again.
#[napi(catch_unwind)]
pub fn resume_sweeping() -> Result<()> {
    guard("resumeSweeping", || runtime().resume_sweeping())
}

/// Worker: delivers what this thread wrote to its outbox.
#[napi(catch_unwind)]
pub fn flush_outbox() -> Result<()> {
    guard("flushOutbox", || {
        flush_current();
    })
}

/// Worker: the targets that mail from this thread found dead for good since the last call.
#[napi(catch_unwind)]
pub fn outbox_dead() -> Result<Vec<f64>> {
    guard("outboxDead", || {
        current().map_or_else(Vec::new, |p| {
            p.take_dead().into_iter().map(|t| t as f64).collect()
        })
    })
}

/// Worker: wakes this thread's own port, as a sender would. A warm thread does it once at start
/// so the engine's wake-up path is already warm when its first actor arrives.
#[napi(catch_unwind)]
pub fn wake_self() -> Result<()> {
    guard("wakeSelf", || {
        if let Some(p) = current() {
            p.ring();
        }
    })
}

/// A `Uint32Array` over a port's control words (`CONTROL_WORDS` of them), keeping the block
/// alive until the engine collects the view.
pub(crate) fn control_words(control: Arc<ControlBlock>) -> Uint32Array {
    let ptr = control.as_ptr();
    // SAFETY: `ptr` points to CONTROL_WORDS u32 words inside `control`, an Arc'd block that the
    // finalizer keeps alive until the engine collects the view, so the memory outlives every JS
    // access. The words are `AtomicU32`s, which the core only ever loads and stores atomically;
    // JS reads and writes whole aligned u32 values.
    unsafe { Uint32Array::with_external_data(ptr, CONTROL_WORDS, move |_, _| drop(control)) }
}

/// A `Uint8Array` over an outbox's ring (`OUTBOX_BYTES`), keeping it alive until the engine
/// collects the view: an actor thread's outbox, or the host's mail ring.
pub(crate) fn outbox_bytes(outbox: Arc<Outbox>) -> Uint8Array {
    let ptr = outbox.as_ptr();
    // SAFETY: `ptr` points to OUTBOX_BYTES bytes owned by `outbox`, an Arc that the finalizer
    // keeps alive until the engine collects the view. The bytes are `UnsafeCell`s, which may
    // change behind the core's shared references. JS writes only the ring's free part and
    // publishes it through the head counter; the core reads only the published part, and checks
    // every length it reads there, so even a thread that broke the protocol could only garble
    // its own mail.
    unsafe { Uint8Array::with_external_data(ptr, OUTBOX_BYTES, move |_, _| drop(outbox)) }
}
