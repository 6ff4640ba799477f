//! Node-API binding of warden: a thin adapter from JavaScript calls to `warden-core`.
//!
//! Each JS thread registers a port with a wake function; the core rings it through a
//! threadsafe function when the port goes from idle to having work. Worker threads keep their
//! port in a thread-local so the calls on the hot path (`workerPop`, `workerTake`, `emit`,
//! `send`) need no lookup, and so `from` is always the caller's own actor: a message cannot be
//! sent in another actor's name.
//!
//! A Rust panic never crosses into JavaScript as an abort: every `#[napi]` function runs its
//! body under [`guard`] (or [`guard_try`]), which turns a panic into a thrown `Error` saying
//! `internal panic: <function>: <message>`, and is marked `catch_unwind` so that a panic in
//! napi's own argument and return-value conversions is thrown too (with napi's bare message).
//! Callbacks that native code runs outside a call (environment cleanup hooks, finalizers)
//! catch panics themselves.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use warden_core::actor::Actor;
use warden_core::{runtime, Envelope, Port, SendError, Waker};

mod boxes;
mod messages;
mod ports;
mod supervision;
mod test_hooks;
pub use boxes::*;
use messages::send_code;
pub use messages::*;
pub use ports::*;
pub use supervision::*;
pub use test_hooks::*;

/// Most targets a thread keeps resolved; past this the cache starts over.
const TARGET_CACHE_MAX: usize = 4096;

thread_local! {
    /// The port of the worker thread this code runs on (None on the host thread).
    static CURRENT: RefCell<Option<Arc<Port>>> = const { RefCell::new(None) };
    /// The actor bound to this worker thread (a thread runs one incarnation in its life).
    static BOUND: RefCell<Option<Arc<Actor>>> = const { RefCell::new(None) };
    /// Targets this thread sent to recently, so a send needs no registry lookup.
    static TARGETS: RefCell<HashMap<u64, Arc<Actor>>> = RefCell::new(HashMap::new());
}

/// Wakes a JS thread by calling its drain function through a threadsafe function.
struct JsWaker<const WEAK: bool>(ThreadsafeFunction<(), Unknown<'static>, (), Status, false, WEAK>);

impl<const WEAK: bool> Waker for JsWaker<WEAK> {
    fn wake(&self) -> bool {
        self.0.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

fn current() -> Option<Arc<Port>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Delivers what this thread wrote to its outbox (nothing to do on the host thread). Every
/// native call whose effect another thread could see after this thread's earlier sends calls
/// it first, so mail stays in order.
fn flush_current() {
    CURRENT.with(|c| {
        if let Some(p) = c.borrow().as_ref() {
            runtime().flush_outbox(p);
        }
    });
}

fn current_actor_id() -> u64 {
    CURRENT.with(|c| c.borrow().as_ref().map_or(0, |p| p.actor_id()))
}

/// The actor bound to this worker thread, cached until the port is bound to another actor (a
/// thread whose actor threw is reused for the next incarnation, possibly of another actor).
fn bound() -> Option<Arc<Actor>> {
    BOUND.with(|b| {
        let mut b = b.borrow_mut();
        let bound_id = current_actor_id();
        if b.as_ref().map(|a| a.id) != Some(bound_id) {
            *b = Actor::bound_to(&*current()?);
        }
        b.clone()
    })
}

/// The supervisor that reports dead letters of this thread's sends to unknown actors: the
/// caller's (`sup`), or on a worker thread its actor's.
fn report_sup(sup: f64) -> u64 {
    if sup > 0.0 {
        id(sup)
    } else {
        bound().map_or(0, |a| a.sup_id)
    }
}

/// Delivers to `target` through this thread's cache of resolved actors.
fn deliver(target: u64, env: Envelope, incarnation: Option<u32>, sup: u64) -> u32 {
    TARGETS.with(|t| {
        let mut cache = t.borrow_mut();
        let actor = match cache.get(&target) {
            Some(a) => a.clone(),
            None => match runtime().actor(target) {
                Some(a) => {
                    if cache.len() >= TARGET_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(target, a.clone());
                    a
                }
                None => return send_code(runtime().send(target, env, incarnation, sup)),
            },
        };
        let result = runtime().deliver(&actor, env, incarnation);
        if result == Err(SendError::Dead) {
            cache.remove(&target);
        }
        send_code(result)
    })
}

fn id(n: f64) -> u64 {
    n as u64
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// Runs the body of the native entry point `name` (its JS name); a panic in it becomes an
/// `Error` whose message is `internal panic: <name>: <panic message>`.
pub(crate) fn guard<T>(name: &str, body: impl FnOnce() -> T) -> Result<T> {
    warden_core::panics::catch(body).map_err(|message| {
        Error::new(
            Status::GenericFailure,
            warden_core::panics::reason(name, &message),
        )
    })
}

/// [`guard`] for a body that can already fail with a JS error.
pub(crate) fn guard_try<T>(name: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    guard(name, body).and_then(|r| r)
}
