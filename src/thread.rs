//! What the binding keeps per JS thread: the port of a worker thread, the actor bound to it,
//! and the targets it sent to recently (so a send needs no registry lookup); and the sending
//! path through that cache.

use crate::entry::id;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use warden_core::actor::Actor;
use warden_core::{runtime, Envelope, Port, SendError, Waker};

/// Most targets a thread keeps resolved; past this the cache starts over.
pub(crate) const TARGET_CACHE_MAX: usize = 4096;

thread_local! {
    /// The port of the worker thread this code runs on (None on the host thread).
    pub(crate) static CURRENT: RefCell<Option<Arc<Port>>> = const { RefCell::new(None) };
    /// The actor bound to this worker thread (a thread runs one incarnation in its life).
    pub(crate) static BOUND: RefCell<Option<Arc<Actor>>> = const { RefCell::new(None) };
    /// Targets this thread sent to recently, so a send needs no registry lookup.
    pub(crate) static TARGETS: RefCell<HashMap<u64, Arc<Actor>>> = RefCell::new(HashMap::new());
}

/// Wakes a JS thread by calling its drain function through a threadsafe function.
pub(crate) struct JsWaker<const WEAK: bool>(
    pub(crate) ThreadsafeFunction<(), Unknown<'static>, (), Status, false, WEAK>,
);

impl<const WEAK: bool> Waker for JsWaker<WEAK> {
    fn wake(&self) -> bool {
        self.0.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

pub(crate) fn current() -> Option<Arc<Port>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Delivers what this thread wrote to its outbox (nothing to do on the host thread). Every
/// native call whose effect another thread could see after this thread's earlier sends calls
/// it first, so mail stays in order.
pub(crate) fn flush_current() {
    CURRENT.with(|c| {
        if let Some(p) = c.borrow().as_ref() {
            runtime().flush_outbox(p);
        }
    });
}

pub(crate) fn current_actor_id() -> u64 {
    CURRENT.with(|c| c.borrow().as_ref().map_or(0, |p| p.actor_id()))
}

/// The actor bound to this worker thread, cached until the port is bound to another actor (a
/// thread whose actor threw is reused for the next incarnation, possibly of another actor).
pub(crate) fn bound() -> Option<Arc<Actor>> {
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
pub(crate) fn report_sup(sup: f64) -> u64 {
    if sup > 0.0 {
        id(sup)
    } else {
        bound().map_or(0, |a| a.sup_id)
    }
}

/// Delivers to `target` through this thread's cache of resolved actors.
pub(crate) fn deliver(
    target: u64,
    env: Envelope,
    incarnation: Option<u32>,
    sup: u64,
) -> std::result::Result<(), SendError> {
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
                None => return runtime().send(target, env, incarnation, sup),
            },
        };
        let result = runtime().deliver(&actor, env, incarnation);
        if result == Err(SendError::Dead) {
            cache.remove(&target);
        }
        result
    })
}
